"""Every plot is produced for the default instance; the HTML report is self-contained and says
what binds, in words, with the right numbers."""

import re

import pytest

from allocator import load_instance, solve
from allocator.plots import PLOTS, write_plots
from allocator.report import build_html, findings, write_report
from allocator.results_dir import from_result, load_results_dir


@pytest.fixture(scope="module")
def uk_results(tmp_path_factory):
    from tests.conftest import INSTANCES

    out = tmp_path_factory.mktemp("uk") / "res"
    solve(load_instance(INSTANCES / "uk_missions")).write(out)
    return out


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    from tests.conftest import INSTANCES

    out = tmp_path_factory.mktemp("tiny") / "res"
    solve(load_instance(INSTANCES / "tiny")).write(out)
    return out


def test_every_plot_written_for_default_instance(uk_results, tmp_path):
    paths = write_plots(load_results_dir(uk_results), tmp_path / "plots")
    assert len(paths) == 2 * len(PLOTS) == 10
    for p in paths:
        data = p.read_bytes()
        assert len(data) > 5000, p
        if p.suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            text = data.decode()
            assert "<svg" in text
            assert "uk_missions" in text  # the source line names the instance


def test_pie_share_columns_match_allocations(uk_results):
    run = load_results_dir(uk_results)
    f, a = run.tables["fiscal"], run.tables["allocations"]
    tot = a.groupby("year")["spend_gbp_m"].sum()
    pie = a[a["pie"]].groupby("year")["spend_gbp_m"].sum()
    assert f.set_index("year")["pie_share"].to_numpy() == pytest.approx((pie / tot).to_numpy(), abs=1e-6)  # csv keeps 6 decimals
    # the floor is the instance's rising minimum share, and the plan respects it
    assert f["pie_share_floor"].iloc[0] == pytest.approx(0.052)
    assert f["pie_share_floor"].iloc[-1] == pytest.approx(min(0.085, 0.052 + 9 * 0.0035))
    assert (f["pie_share"] >= f["pie_share_floor"] - 1e-9).all()


def test_tiny_findings_have_hand_derived_figures(tiny_results):
    text = "\n".join(findings(load_results_dir(tiny_results)))
    # objective 184.5 = 177.0 in horizon + 7.5 after it (instances/tiny/README.md)
    assert "184.5" in text and "177.0" in text and "7.5" in text
    # the resource envelope binds every year at 2.5 per £m: £1bn more adds 2,500
    assert "resource DEL envelope binds in 2026-27 to 2028-29" in text
    assert "would add about 2,500.0" in text


def test_report_is_self_contained(tiny_results):
    out = write_report(tiny_results)
    html = out.read_text()
    assert out.name == "report.html"
    assert html.count("data:image/png;base64,") == len(PLOTS)
    assert not re.search(r"""(src|href)=["'](?!data:)""", html)  # nothing fetched from outside
    assert "<script" not in html
    assert 'id="headline-objective">184.5<' in html
    assert "the floor on programme b1 in 2026-27" in html  # binding constraint, in words


def test_report_of_infeasible_run(tiny_copy, tmp_path):
    text = (tiny_copy / "programmes.csv").read_text().replace(",0,12,,,now", ",0,30,,,now")
    (tiny_copy / "programmes.csv").write_text(text)
    res = solve(load_instance(tiny_copy))
    html = build_html(from_result(res, tmp_path))
    assert "infeasible" in html and "£5.0m" in html


def test_binding_stability_rule_finding(tiny_copy, tmp_path):
    """Stability rule in 2027-28 with a required margin of 12: the current balance is
    410 - RDEL - 375 >= 12, so RDEL <= 23 and the rule binds (the envelope of 25 no longer
    does). The marginal £m would go to a2 at 2.5, so £1bn more headroom adds 2,500."""
    import yaml

    y = yaml.safe_load((tiny_copy / "instance.yaml").read_text())
    y["constraints"]["stability_rule"] = True
    y["fiscal_rules"]["stability_rule"] = {"target_years": ["2027-28"], "required_margin_gbp_m": 12.0}
    (tiny_copy / "instance.yaml").write_text(yaml.safe_dump(y))
    res = solve(load_instance(tiny_copy))
    assert res.objective == pytest.approx(184.5 - 2 * 2.5)
    text = findings(from_result(res, tmp_path))
    assert ("The stability rule (current budget) binds in 2027-28; £1bn more headroom on the current "
            "budget in 2027-28 would add about 2,500.0 priority points (unitless weights) of mission "
            "value (marginal rate).") in text
