"""Resources, programme groups and ratios, negative gains, budget mode (issue 13 items 3-6).

The generic example's optimum is derived by hand in instances/generic_example/README.md; these
tests hold the engine to it (plan, value and the dual certificate)."""

from pathlib import Path

import pytest

from allocator.api import solve
from allocator.errors import InstanceError
from allocator.instance_writer import write_instance
from allocator.io import load_instance

GENERIC = Path(__file__).resolve().parents[1] / "instances" / "generic_example"


def _with(inst, **changes):
    d = inst.model_dump()
    for k, v in changes.items():
        d[k] = v(d) if callable(v) else v
    return type(inst).model_validate(d)


def _spend(res):
    a = res.tables["allocations"]
    return a.groupby("programme")[[c for c in a.columns if c.startswith("real_spend")][0]].sum()


def _price(res, constraint, subject=None):
    sp = res.tables["shadow_prices"]
    sp = sp[sp["constraint"] == constraint]
    if subject is not None:
        sp = sp[sp["subject"] == subject]
    return float(sp["shadow_price"].iloc[0])


def test_generic_example_matches_the_hand_derived_optimum():
    res = solve(load_instance(GENERIC))
    assert res.status == "optimal" and res.provenance["feasibility_check"]["ok"]
    assert res.objective == pytest.approx(7220.0, abs=1e-6)
    q = _spend(res)
    for p, v in {"bednets": 26, "act": 20, "alt_treatment": 0, "hiv_testing": 18, "art": 36}.items():
        assert q[p] == pytest.approx(v, abs=1e-6), p
    # the dual certificate of the README: budget 41, nurses 9 per nurse-year, group 21, ratio 23
    assert _price(res, "budget") == pytest.approx(41.0)
    assert _price(res, "resource_limit", "nurses") == pytest.approx(9.0)
    assert _price(res, "resource_limit", "pharmacists") == pytest.approx(0.0)
    assert _price(res, "group_cap", "malaria_treatment") == pytest.approx(21.0)
    assert _price(res, "programme_ratio", "art_needs_testing") == pytest.approx(23.0)
    sp = res.tables["shadow_prices"]
    assert set(sp.loc[sp["constraint"] == "resource_limit", "category"]) == {"nurse-years",
                                                                               "pharmacist-years"}
    assert res.provenance["mode"] == "budget" and res.provenance["currency"] == "$"


def test_each_linking_row_changes_the_generic_optimum():
    """Without the group cap ACT takes 22.2 (pharmacists then bind); without the ratio ART
    takes its cap; with more nurses the value rises by their price (9 per nurse-year)."""
    inst = load_instance(GENERIC)
    no_group = solve(_with(inst, groups=[], group_members=[]))
    assert no_group.objective == pytest.approx(65400 / 9)
    assert _spend(no_group)["act"] == pytest.approx(200 / 9)
    no_ratio = solve(_with(inst, ratios=[]))
    assert no_ratio.objective > 7220 + 1 and _spend(no_ratio)["art"] > 2 * _spend(no_ratio)["hiv_testing"]
    more = solve(_with(inst, resources=lambda d: [dict(r, limit=r["limit"] + 1) if r["id"] == "nurses"
                                                    else r for r in d["resources"]]))
    assert more.objective == pytest.approx(7220 + 9)


def test_generic_example_is_unit_free(tmp_path):
    """In millions or billions of the currency: the same plan; resource prices stay per unit."""
    inst = load_instance(GENERIC)
    bn = solve(load_instance(write_instance(inst, tmp_path / "bn", unit="gbp_bn")))
    assert bn.objective == pytest.approx(7220.0)
    assert _price(bn, "resource_limit", "nurses") == pytest.approx(9.0)
    assert _price(bn, "budget") == pytest.approx(41.0 * 1000)  # per billion


def test_budget_mode_needs_no_fiscal_table_and_prints_none(tmp_path):
    from typer.testing import CliRunner

    from allocator.cli import app

    assert not (GENERIC / "fiscal.csv").exists()
    out = CliRunner().invoke(app, ["solve", str(GENERIC), "--out", str(tmp_path / "r")])
    assert out.exit_code == 0, out.output
    assert "Fiscal position" not in out.output and "Budget use by year" in out.output
    assert "$m" in out.output


def test_negative_gain_harm_goes_on_beyond_the_last_segment():
    """bednets harm a second mission by 1 per $m on its one 40m segment; forced to 50 by a
    floor, the harm is 50 (the tail carries it), the benefit 40 × 50 = 2000 (it stops)."""
    inst = load_instance(GENERIC)
    d = inst.model_dump()
    d["settings"]["missions"].append(dict(id="harm", name="Harm", metric="harm", metric_unit="units",
                                          baseline_value=0, weight=1))
    d["segments"].append(dict(programme="bednets", mission="harm", segment=1, width_gbp_m=40,
                              gain_per_gbp_m=-1))
    for p in d["programmes"]:
        if p["id"] == "bednets":
            p["floor_gbp_m"], p["cap_gbp_m"] = 50.0, 60.0
    res = solve(type(inst).model_validate(d))
    assert res.status == "optimal" and res.provenance["feasibility_check"]["ok"]
    assert _spend(res)["bednets"] == pytest.approx(50.0)
    m = res.tables["missions"]
    assert float(m.loc[m["mission"] == "harm", "gain"].iloc[0]) == pytest.approx(-50.0)


def test_a_saturating_harm_is_refused_with_file_field_value():
    """Per mission the gains must not increase: −3 then −1 (a harm that saturates) is a convex
    response the LP would fill out of order."""
    inst = load_instance(GENERIC)
    d = inst.model_dump()
    d["segments"] = [s for s in d["segments"] if s["programme"] != "bednets"] + [
        dict(programme="bednets", mission="health", segment=1, width_gbp_m=20, gain_per_gbp_m=-3),
        dict(programme="bednets", mission="health", segment=2, width_gbp_m=20, gain_per_gbp_m=-1)]
    with pytest.raises(InstanceError) as e:
        type(inst).model_validate(d)
    msg = str(e.value)
    assert "segments.csv" in msg and "gain_per_gbp_m" in msg and "-1" in msg and "non-concave" in msg


@pytest.mark.parametrize("table,row,needle", [
    ("resource_use", dict(programme="art", resource="doctors", use_per_gbp_m=1), "unknown resource"),
    ("resource_use", dict(programme="nope", resource="nurses", use_per_gbp_m=1), "unknown programme"),
    ("group_members", dict(group="nope", programme="art"), "unknown group"),
    ("ratios", dict(id="r2", programme="art", of="art", ratio=1), "two different programmes"),
    ("resource_limits", dict(resource="nurses", year="2040-41", limit=1), "off the horizon"),
])
def test_bad_links_are_named(table, row, needle):
    inst = load_instance(GENERIC)
    d = inst.model_dump()
    d[table] = d[table] + [row]
    with pytest.raises(InstanceError) as e:
        type(inst).model_validate(d)
    assert needle in str(e.value) and f"{table}.csv" in str(e.value)


def test_budget_mode_without_a_budget_is_refused(tmp_path):
    import shutil

    shutil.copytree(GENERIC, tmp_path / "g")
    y = tmp_path / "g" / "instance.yaml"
    y.write_text(y.read_text().replace("budget:\n  amount_gbp_m: 100\n", ""))
    with pytest.raises(InstanceError) as e:
        load_instance(tmp_path / "g")
    assert "budget" in str(e.value)


def test_uk_workforce_limits_bind_and_are_priced_per_fte():
    """The shipped default's workforce limits, switched on (README, "what each lever is
    worth"; the default ships them off because their bite rests on an assumed supply path):
    the police officer limit binds in 2026-27 at about £33,900 of mission value per officer;
    the nurse limit binds from 2030-31 (about £154,300 per FTE then); without them the
    optimum is £19,265m higher. Switched off (the default), no resource row is built."""
    inst = load_instance(Path(__file__).resolve().parents[1] / "instances" / "uk_missions")
    assert not inst.settings.constraints.resource_limits and inst.resources
    off = solve(inst)
    assert (off.tables["shadow_prices"]["constraint"] != "resource_limit").all()
    inst = _with(inst, settings={**inst.model_dump()["settings"],
                                 "constraints": {**inst.model_dump()["settings"]["constraints"],
                                                 "resource_limits": True}})
    res = solve(inst)
    sp = res.tables["shadow_prices"]
    r = sp[(sp["constraint"] == "resource_limit")].set_index(["subject", "year"])
    pol = r.loc[("police_officers", "2026-27")]
    assert pol["binding"] and pol["category"] == "FTE"
    assert pol["shadow_price"] * 1e6 == pytest.approx(33_935, abs=5)  # £ per officer
    assert r.loc[("nhs_nurses", "2030-31"), "shadow_price"] * 1e6 == pytest.approx(154_344, abs=5)
    assert not r.loc[("nhs_nurses", "2029-30"), "binding"]
    assert res.objective == pytest.approx(190_596.78, abs=0.5)
    bare = solve(_with(inst, resources=[], resource_use=[]))
    assert bare.objective - res.objective == pytest.approx(19_264.6, abs=0.5)


def test_report_prices_a_binding_resource_in_its_unit(tmp_path):
    from allocator.report import findings
    from allocator.results_dir import from_result

    res = solve(load_instance(GENERIC))
    text = " ".join(findings(from_result(res, tmp_path)))
    assert "one more nurse-years of nurses in 2026-27 is worth 9.0000" in text
    assert "pharmacists limit" not in text  # not binding


def test_generic_example_matches_the_independent_reference_lp():
    from benchmarks.reference_highspy import ReferenceLP

    inst = load_instance(GENERIC)
    status, obj, _ = ReferenceLP(inst).solve()
    assert status == "Optimal" and obj == pytest.approx(7220.0)


def test_a_programme_that_costs_no_money_uses_only_its_resources():
    """Volunteer outreach: measured in sessions (activity_unit), outside the budget, 2 DALYs per
    session, 1 volunteer-day per session, 50 volunteer-days: it runs 50 sessions (+100 DALYs)
    and the money plan is unchanged (7,220 + 100); a volunteer-day is worth 2 DALYs."""
    inst = load_instance(GENERIC)
    d = inst.model_dump()
    d["programmes"].append(dict(id="outreach", name="Volunteer outreach", owners=["moh"],
                                category="resource", baseline_gbp_m=0, cap_gbp_m=100,
                                lag_profile="now", activity_unit="sessions"))
    d["segments"].append(dict(programme="outreach", mission="health", segment=1, width_gbp_m=100,
                              gain_per_gbp_m=2))
    d["resources"].append(dict(id="volunteers", unit="volunteer-days", limit=50))
    d["resource_use"].append(dict(programme="outreach", resource="volunteers", use_per_gbp_m=1))
    res = solve(type(inst).model_validate(d))
    assert res.objective == pytest.approx(7320.0) and res.provenance["feasibility_check"]["ok"]
    q = _spend(res)
    assert q["outreach"] == pytest.approx(50.0) and q["bednets"] == pytest.approx(26.0)
    assert _price(res, "resource_limit", "volunteers") == pytest.approx(2.0)
    assert _price(res, "budget") == pytest.approx(41.0)
    # only in budget mode (UK rules would count the sessions as money)
    d["settings"]["mode"] = "envelope"
    with pytest.raises(InstanceError) as e:
        type(inst).model_validate(d)
    assert "activity_unit" in str(e.value) and "programmes.csv" in str(e.value)


def test_budget_mode_report_has_no_fiscal_headroom(tmp_path):
    from allocator.report import build_html
    from allocator.results_dir import from_result

    res = solve(load_instance(GENERIC))
    html = build_html(from_result(res, tmp_path))
    assert "Fiscal headroom" not in html and "plot-fiscal_headroom" not in html
    assert "plot-" in html  # the other plots are there


def test_resource_use_expression_takes_user_constraints():
    """allocator.build exposes resource use; capping pharmacist time at 30 (the plan uses 38)
    changes the plan, and the independent check re-evaluates the user row from the tables."""
    import allocator

    m = allocator.build(GENERIC)
    e = m.resource_use("pharmacists")
    assert list(e.index["resource"]) == ["pharmacists"] and e.kind == "resource units"
    base = m.solve(keep_model=True)
    assert float(e.value(base)[0]) == pytest.approx(38.0)
    m.add_constraint("pharmacist_cap", e <= 30, description="pharmacist time")
    res = m.solve(keep_model=True)
    assert res.objective < 7220 - 1 and res.provenance["feasibility_check"]["ok"]
    assert float(e.value(res)[0]) == pytest.approx(30.0)
    sp = res.tables["shadow_prices"]
    assert float(sp.loc[sp["constraint"] == "pharmacist_cap", "shadow_price"].iloc[0]) > 0
