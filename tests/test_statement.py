"""The mission impact statement: figures from hand-checkable runs, the rendered page in headless
Chromium (silent console, figures present, layout), and the PDF printed from the same page.

Business case on tiny: the courts programme b1 must get 15 a year instead of its floor of 12
(instances/tiny/README.md: the envelope of 25 binds, so department A gives up 3 a year and
b1's floor costs 0.5 of value per £m). Over the 3 years: B +9, A −9 (cash = real, no
inflation in tiny), mission value 184.5 → 180.0 (−4.5 = 9 × 0.5).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from allocator import load_instance, solve
from allocator.statement import impact_statement, write_statement
from tests.conftest import INSTANCES
from tests.test_browser import CHROMIUM, _need_chromium, open_in_chromium


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    t = tmp_path_factory.mktemp("statement_runs")
    tiny = solve(load_instance(INSTANCES / "tiny"))
    tiny.provenance["instance_path"] = str(INSTANCES / "tiny")
    bc_dir = t / "tiny_bc"
    shutil.copytree(INSTANCES / "tiny", bc_dir)
    text = (bc_dir / "programmes.csv").read_text().replace(",0,12,,,now", ",0,15,,,now")
    (bc_dir / "programmes.csv").write_text(text)
    bc = solve(load_instance(bc_dir))
    bc.provenance["instance_path"] = str(bc_dir)
    uk = solve(load_instance(INSTANCES / "uk_missions"))
    uk.provenance["instance_path"] = str(INSTANCES / "uk_missions")
    return {"tiny": tiny.write(t / "tiny"), "bc": bc.write(t / "bc"), "uk": uk.write(t / "uk"), "tmp": t}


def test_business_case_against_the_run_without_it(runs):
    st = impact_statement(runs["bc"], against=runs["tiny"])
    assert st.reference_name == "tiny"
    assert st.headline["change in mission value"] == pytest.approx(-4.5)
    d = st.departments.set_index("department")
    assert d.loc["B", "change_gbp_m"] == pytest.approx(9.0) and d.loc["A", "change_gbp_m"] == pytest.approx(-9.0)
    assert d.loc["B", "change_real_gbp_m"] == pytest.approx(9.0)
    assert d["change_gbp_m"].sum() == pytest.approx(0.0, abs=1e-6)  # the envelope binds in both
    assert any("loses" in s for s in st.summary)
    assert any("WORSE" in m for m in st.mission_points)  # the wellbeing metric falls: higher is better


def test_default_plan_against_its_baseline(runs):
    st = impact_statement(runs["uk"])
    s = json.loads((runs["uk"] / "summary.json").read_text())
    assert st.headline["mission value (objective)"] == pytest.approx(s["objective"])
    deps = pd.read_csv(runs["uk"] / "departments.csv")
    # every department is listed (and the Mission Fund), not a top-N
    assert set(deps["department"]) <= set(st.departments["department"])
    assert "mission_fund" in set(st.departments["department"])
    # cash change against baseline = spend funded − baseline, summed over the horizon
    dhsc = deps[deps["department"] == "DHSC"]
    want = (dhsc["rdel_spend_gbp_m"] + dhsc["cdel_spend_gbp_m"] - dhsc["baseline_gbp_m"]).sum()
    got = st.departments.set_index("department").loc["DHSC", "change_gbp_m"]
    assert got == pytest.approx(want)
    text = " ".join(st.summary)
    f = pd.read_csv(runs["uk"] / "fiscal.csv")
    worst = f["current_balance_gbp_m"].min()
    assert worst < 0 and f"−£{abs(worst) / 1000:,.1f}bn" in text  # the deficit the CLI shows
    assert "Capital DEL envelope: binds" in text and "Resource DEL envelope: binds" in text
    # the direction of good: crime falls and that is better
    safety = [m for m in st.mission_points if "crime" in m][0]
    assert "down" in safety and "better (lower is better)" in safety
    assert any("QALY" in w for w in st.weights)  # the weights explained, from the instance


def test_npv_bcr_comprehensive_and_ranges_are_picked_up_when_present(runs, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(runs["tiny"], folder)
    s = json.loads((folder / "summary.json").read_text())
    s.update({"npv_gbp_m": 123.4, "bcr": 2.5})
    (folder / "summary.json").write_text(json.dumps(s))
    m = pd.read_csv(folder / "missions.csv")
    m["value_low"], m["value_high"] = m["value"] - 1.0, m["value"] + 1.0
    m.to_csv(folder / "missions.csv", index=False)
    pd.DataFrame({"metric": ["wellbeing (WELLBY)"], "change": [0.2]}).to_csv(
        folder / "comprehensive_metrics.csv", index=False)
    st = impact_statement(folder)
    assert st.headline["npv_gbp_m"] == pytest.approx(123.4) and st.headline["bcr"] == pytest.approx(2.5)
    assert (st.metrics["high"] - st.metrics["low"]).round(9).eq(2.0).all()
    assert "comprehensive_metrics" in st.comprehensive
    from allocator.statement import build_html

    page = build_html(st)
    assert 'id="headline-bcr"' in page and ">2.50<" in page and 'id="comprehensive"' in page
    assert not any("no uncertainty range" in c for c in st.caveats)
    # and without them nothing fails
    assert "bcr" not in impact_statement(runs["tiny"]).headline


def test_infeasible_run_lists_the_relaxations_once(runs, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(INSTANCES / "tiny", bad)
    text = (bad / "programmes.csv").read_text().replace(",0,12,,,now", ",0,30,,,now")
    (bad / "programmes.csv").write_text(text)
    folder = solve(load_instance(bad)).write(tmp_path / "res")
    st = impact_statement(folder)
    from allocator.statement import build_html

    page = build_html(st)
    assert 'id="infeasible"' in page and "<ol>" in page
    for sentence in st.infeasible[1:]:
        assert page.count(html_escape(sentence)) == 1


def html_escape(s):
    import html

    return html.escape(s, quote=True)


def _screenshot(page, png, tmp_path, height=2400):
    _need_chromium()
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={tmp_path / 'shot-profile'}", "--hide-scrollbars",
           f"--window-size=1100,{height}", f"--screenshot={png}", page.resolve().as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    from PIL import Image

    im = Image.open(png).convert("L")
    return im


@pytest.mark.parametrize("case", ["uk_vs_baseline", "business_case"])
def test_statement_renders_in_chromium_and_prints_to_pdf(runs, tmp_path, case):
    _need_chromium()
    plan, against = (runs["uk"], None) if case == "uk_vs_baseline" else (runs["bc"], runs["tiny"])
    out = write_statement(plan, tmp_path / "st", against=against, pdf=True)
    page = out / "statement.html"
    dom, console = open_in_chromium(page, tmp_path)
    assert console == [], console
    # the sections a council reads, in order
    order = [dom.find(f'id="{s}"') for s in ("summary", "metrics", "departments", "fiscal", "caveats", "annex")]
    assert all(i > 0 for i in order) and order == sorted(order), order
    # three figures, inline (no external reference): metrics, departments, headroom
    imgs = re.findall(r'<img[^>]*src="([^"]{0,40})', dom)
    assert len(imgs) == 3 and all(s.startswith("data:image/svg+xml;base64,") for s in imgs)
    assert "http://" not in dom.replace("http://www.w3.org", "") and "<script" not in dom
    # layout: the page is drawn (not blank) and no wider than the window
    im = _screenshot(page, tmp_path / "shot.png", tmp_path)
    hist = im.histogram()
    assert sum(hist[:200]) > 0.01 * im.width * im.height  # plenty of ink (text, figures)
    assert im.getbbox() is not None
    pdf = (out / "statement.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-" and b"%%EOF" in pdf[-1024:]
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))  # Chromium writes page objects uncompressed
    assert pages >= 2  # the one-page summary, then the detail
    assert (out / "statement.json").is_file() and (out / "datapackage.json").is_file()


def test_cli_statement(runs, tmp_path):
    from typer.testing import CliRunner

    from allocator.cli import app

    r = CliRunner().invoke(app, ["statement", str(runs["bc"]), "--against", str(runs["tiny"]),
                                 "--out", str(tmp_path / "o"), "--no-pdf", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["headline"]["change in mission value"] == pytest.approx(-4.5)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        ".allocator-results", "datapackage.json", "departments.csv", "headroom.csv", "metrics.csv", "statement.html",
        "statement.json"]


def test_same_statement_tables_whatever_the_money_unit(runs, tmp_path):
    """An instance in £bn gives the same department and headroom figures (the statement works
    in £m inside: units converted at the edge)."""
    from allocator.instance_writer import write_instance

    inst = write_instance(load_instance(INSTANCES / "uk_missions"), tmp_path / "bn", unit="gbp_bn")
    res = solve(load_instance(inst))
    assert "spend_gbp_bn" in res.allocations.columns
    bn = impact_statement(res.write(tmp_path / "run_bn"))
    m = impact_statement(runs["uk"])
    cols = ["reference_gbp_m", "plan_gbp_m", "change_gbp_m", "change_real_gbp_m"]
    a = bn.departments.set_index("department")[cols].sort_index()
    b = m.departments.set_index("department")[cols].sort_index()
    pd.testing.assert_frame_equal(a, b, rtol=1e-6, atol=0.01)  # CSV keeps 6 decimals: £1k in £bn
    assert [s for s in bn.summary if "deficit" in s] == [s for s in m.summary if "deficit" in s]
