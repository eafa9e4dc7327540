"""Fiscal side of the UK model (issue 11 items 3, 4, 6): debt-interest feedback, Barnett rows,
settled totals, committed paths, years without an envelope, the welfare cap margin.

Hand-solved optima on the tiny instance (its README derives the base case, 61.5 a year):

* **Debt interest.** Envelope £25m in 2026-27 only; the stability rule governs 2027-28 and
  2028-29 (R − A − Dep = 35 and 40). PSNFL ends 2026-27 at 100 + 25 + 370 − 400 = 95, while
  the forecast path assumed 85 in both years, so with ι = 0.1 the plan pays
  ΔDI = 0.1 × (95 − 85) = 1 extra interest in 2027-28 and (N_2 = 95 + (35 − 1) + 375 + 1 − 410
  = 95) again 1 in 2028-29. RDEL is 34 and 39 instead of 35 and 40. Filling by marginal gain
  (b1 floor 12 at 2.0, a1 10 at 3.0, a2 5 at 2.5, b1 up to 20 at 2.0, a1 next 10 at 1.0):
  2027-28: 24 + 30 + 12.5 + 7 × 2 = 80.5 (was 82.5 with 35); 2028-29: 24 + 30 + 12.5 + 16 + 4 = 86.5
  (was 87.5 with 40). With 2026-27's 61.5: **228.5 with feedback, 231.5 without** (less £1
  of year-2 RDEL would save 0.1 of interest worth 0.1: not worth 2.0).
* **Barnett.** A devolved department C (baseline £5m, reference flat) gets β = 1 × 0.2 of
  every change in A's limit from its reference £25m; envelope £30m. Then 1.2 L_A + L_B <= 30:
  b1 12, a1 10 (3.0 per £, 12 of envelope), a2 5 (2.5 per £ = 2.08 per envelope £, 6 of
  envelope), nothing left → 24 + 30 + 12.5 = 66.5 a year, L_A = 15, L_C = 5 + 0.2 (15 − 25) = 3:
  **199.5**. Without Barnett C spends 0 and gets 0:
  b1 12, a1 10, a2 5, b1 +3 → 72.5 a year, **217.5**.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocator import load_instance, solve
from allocator.checker import check_plan
from allocator.schema import (BarnettFactor, CommittedPath, Department, Instance, Programme,
                              SettledLimit)
from benchmarks.reference_highspy import ReferenceLP


def _families(rep) -> set[str]:
    return {v.family for v in rep.violations}


def _debt_case(tiny_dir, rate: float) -> Instance:
    inst = load_instance(tiny_dir).model_copy(deep=True)
    s = inst.settings
    s.constraints.stability_rule = True
    s.fiscal_rules.stability_rule.target_years = ["2027-28", "2028-29"]
    s.fiscal_rules.debt_interest_rate = rate
    for f in inst.fiscal:
        f.psnfl_forecast_gbp_m = 85.0
        if f.year != "2026-27":
            f.rdel_envelope_gbp_m = None
            f.cdel_envelope_gbp_m = None
    return Instance.model_validate(inst.model_dump())


def _barnett_case(tiny_dir, barnett: bool = True) -> Instance:
    inst = load_instance(tiny_dir).model_copy(deep=True)
    inst.departments.append(Department(id="C", name="Devolved C", rdel_baseline_gbp_m=5.0,
                                       cdel_baseline_gbp_m=0.0))
    inst.programmes.append(Programme(id="c1", name="Block grant", owners=["C"], category="resource",
                                     baseline_gbp_m=0.0, lag_profile="now"))
    inst.barnett = [BarnettFactor(devolved="C", department="A", comparability_factor=1.0,
                                  population_proportion=0.2)]
    inst.settings.constraints.barnett = barnett
    for f in inst.fiscal:
        f.rdel_envelope_gbp_m = 30.0
    return Instance.model_validate(inst.model_dump())


def test_debt_interest_feedback_hand_optimum(tiny_dir):
    with_fb = solve(_debt_case(tiny_dir, 0.1))
    without = solve(_debt_case(tiny_dir, 0.0))
    assert with_fb.objective == pytest.approx(228.5, abs=1e-7)
    assert without.objective == pytest.approx(231.5, abs=1e-7)
    f = with_fb.fiscal.set_index("year")
    assert f.rdel_gbp_m.tolist() == pytest.approx([25.0, 34.0, 39.0], abs=1e-7)
    assert f.debt_interest_feedback_gbp_m.tolist() == pytest.approx([0.0, 1.0, 1.0], abs=1e-7)
    assert f.debt_interest_gbp_m.tolist() == pytest.approx([10.0, 11.0, 11.0], abs=1e-7)
    assert f.psnfl_gbp_m.tolist() == pytest.approx([95.0, 95.0, 95.0], abs=1e-7)
    # the stability rule binds in both years; £1 more headroom in 2027-28 is worth b1's 2.0
    # less the interest it costs in 2028-29 (0.1 × a1's 1.0)
    sp = with_fb.shadow_prices.set_index(["constraint", "year"])
    assert sp.loc[("stability_rule", "2027-28"), "shadow_price"] == pytest.approx(1.9, abs=1e-7)
    assert sp.loc[("stability_rule", "2028-29"), "shadow_price"] == pytest.approx(1.0, abs=1e-7)
    # the independent reference LP agrees
    st, obj, _ = ReferenceLP(_debt_case(tiny_dir, 0.1)).solve()
    assert st == "Optimal" and obj == pytest.approx(228.5, abs=1e-7)


def test_checker_catches_a_plan_that_ignores_debt_interest(tiny_dir):
    """The no-feedback optimum spends 35 in 2027-28; with feedback the rule allows 34."""
    without = solve(_debt_case(tiny_dir, 0.0))
    rep = check_plan(_debt_case(tiny_dir, 0.1), without.tables)
    assert "stability_rule" in _families(rep)
    # a fiscal table that misreports the plan's debt interest is caught too
    with_fb = solve(_debt_case(tiny_dir, 0.1))
    t = {k: v.copy() for k, v in with_fb.tables.items()}
    t["fiscal"].loc[1, "debt_interest_gbp_m"] = 10.0
    assert _families(check_plan(_debt_case(tiny_dir, 0.1), t)) == {"fiscal_table"}


def test_barnett_hand_optimum(tiny_dir):
    res = solve(_barnett_case(tiny_dir))
    assert res.objective == pytest.approx(199.5, abs=1e-7)
    d = res.departments.set_index(["department", "year"])
    assert d.loc[("A", "2026-27"), "rdel_gbp_m"] == pytest.approx(15.0, abs=1e-7)
    assert d.loc[("C", "2026-27"), "rdel_gbp_m"] == pytest.approx(3.0, abs=1e-7)
    assert d.loc[("C", "2026-27"), "barnett_consequential_gbp_m"] == pytest.approx(-2.0, abs=1e-7)
    assert solve(_barnett_case(tiny_dir, barnett=False)).objective == pytest.approx(217.5, abs=1e-7)
    st, obj, _ = ReferenceLP(_barnett_case(tiny_dir)).solve()
    assert st == "Optimal" and obj == pytest.approx(199.5, abs=1e-7)


def test_checker_catches_broken_barnett_settled_and_committed(tiny_dir):
    inst = _barnett_case(tiny_dir)
    res = solve(inst)
    assert check_plan(inst, res.tables).ok
    t = {k: v.copy() for k, v in res.tables.items()}
    dep = t["departments"]
    dep.loc[(dep.department == "C") & (dep.year == "2027-28"), "rdel_gbp_m"] = 4.0
    assert "barnett" in _families(check_plan(inst, t))
    # a settled (fixed) total and a committed path that the plan does not meet
    data = inst.model_dump()
    data["settled"] = [SettledLimit(department="B", year="2026-27", category="resource",
                                    limit_gbp_m=13.0).model_dump()]
    data["committed"] = [CommittedPath(department="A", year="2028-29", min_del_gbp_m=20.0).model_dump()]
    assert {"settled_total", "committed_path"} <= _families(check_plan(Instance.model_validate(data),
                                                                       res.tables))


def test_settled_total_and_committed_path_bind(tiny_dir):
    inst = _barnett_case(tiny_dir, barnett=False)
    inst.settled = [SettledLimit(department="B", year="2026-27", category="resource", limit_gbp_m=18.0)]
    inst.committed = [CommittedPath(department="A", year="2028-29", min_del_gbp_m=17.0)]
    res = solve(inst)
    d = res.departments.set_index(["department", "year"])
    # B is held at 18 (b1 18 at 2.0; A gets 12: a1 10, a2 2): 36 + 30 + 5 = 71 instead of 72.5;
    # A at least 17 in 2028-29 (a1 10, a2 5, a1 +2 at 1.0; b1 13): 30 + 12.5 + 2 + 26 = 70.5
    assert d.loc[("B", "2026-27"), "rdel_gbp_m"] == pytest.approx(18.0, abs=1e-7)
    assert d.loc[("A", "2028-29"), "rdel_gbp_m"] == pytest.approx(17.0, abs=1e-7)
    assert res.objective == pytest.approx(71.0 + 72.5 + 70.5, abs=1e-7)
    # reopening the settlement (switch off) recovers the unconstrained year
    inst.settings.constraints.settled_totals = False
    inst.settings.constraints.committed_paths = False
    assert solve(inst).objective == pytest.approx(217.5, abs=1e-7)


def test_welfare_cap_margin_and_empty_years(tiny_dir):
    inst = load_instance(tiny_dir).model_copy(deep=True)
    inst.settings.constraints.welfare_cap = True
    for f in inst.fiscal:  # capped welfare 100-104 against a cap of 100 with a 5% margin
        f.welfare_cap_gbp_m = 100.0 if f.year == "2028-29" else None
    inst.settings.fiscal_rules.welfare_cap_margin = 0.05
    res = solve(Instance.model_validate(inst.model_dump()))
    sp = res.shadow_prices
    assert list(sp[sp.constraint == "welfare_cap"].year) == ["2028-29"]
    assert sp[sp.constraint == "welfare_cap"].slack.iloc[0] == pytest.approx(1.0)  # 105 − 104
    from allocator.plots import headroom_frame  # the report and statement read the same room

    room = headroom_frame(res.tables["fiscal"]).set_index("year")["welfare cap"]
    assert room["2028-29"] == pytest.approx(1.0) and room.drop("2028-29").isna().all()
    inst.settings.fiscal_rules.welfare_cap_margin = 0.0  # 104 > 100: nothing saves AME here
    assert solve(Instance.model_validate(inst.model_dump())).status == "infeasible"


def test_bad_barnett_and_settled_rows_are_named(tiny_copy):
    (tiny_copy / "barnett.csv").write_text(
        "devolved,department,comparability_factor,population_proportion\nA,Z,0.5,0.1\n")
    (tiny_copy / "settled.csv").write_text(
        "department,year,category,limit_gbp_m,fixed\nB,2040-41,resource,3,true\n")
    from allocator.errors import InstanceError

    with pytest.raises(InstanceError) as e:
        load_instance(tiny_copy)
    text = str(e.value)
    assert "barnett.csv" in text and "'Z'" in text and "unknown department" in text
    assert "settled.csv" in text and "2040-41" in text


@pytest.fixture(scope="module")
def uk_default():
    from allocator.api import default_instance_path

    inst = load_instance(default_instance_path())
    return inst, solve(inst)


def test_uk_default_rules_shape_the_plan(uk_default):
    """On the default a fiscal rule binds, SR2025 resource totals hold exactly, the defence path
    holds, devolved grants follow Barnett, and debt interest responds to the plan."""
    inst, res = uk_default
    assert res.status == "optimal"
    sp = res.shadow_prices
    rules = sp[sp.constraint.isin(["stability_rule", "investment_rule"]) & sp.binding
               & (sp.shadow_price > 0)]
    assert len(rules) > 0
    d = res.departments.set_index(["department", "year"])
    for r in inst.settled:
        if r.fixed:
            col = "rdel_gbp_m" if r.category == "resource" else "cdel_gbp_m"
            assert d.loc[(r.department, r.year), col] == pytest.approx(r.limit_gbp_m, abs=1e-6)
    for r in inst.committed:
        assert (d.loc[(r.department, r.year), "rdel_gbp_m"]
                + d.loc[(r.department, r.year), "cdel_gbp_m"]) >= r.min_del_gbp_m - 1e-6
    assert (d.loc["SCOT", "barnett_consequential_gbp_m"].abs() > 1.0).any()
    f = res.fiscal.set_index("year")
    assert f.debt_interest_feedback_gbp_m.abs().max() > 100.0
    assert np.isnan(f.loc["2030-31", "rdel_envelope_gbp_m"])
    text = " ".join(res.binding["description"]) if res.binding is not None else ""
    assert "rule" in text or len(rules) > 0


def test_uk_default_written_tables_pass_the_checker(uk_default, tmp_path):
    inst, res = uk_default
    res.write(tmp_path / "out")
    tables = {n: pd.read_csv(tmp_path / "out" / f"{n}.csv", keep_default_na=False, na_values=[""])
              for n in ("allocations", "departments", "fiscal")}
    rep = check_plan(inst, tables, objective=res.objective, rounding_gbp_m=5e-7)
    assert rep.ok, rep.text()
    for fam in ("barnett", "settled_total", "committed_path", "welfare_cap", "stability_rule",
                "investment_rule"):
        assert rep.checked.get(fam, 0) > 0, fam


def test_receipts_feedback_from_the_growth_mission(uk_default):
    """Off by default; switched on (ρ = 0.44, the OBR ready reckoner's PSNB response per £ of
    GDP) the growth mission's GDP gain raises receipts ΔR_t = ρ Y_t gain_t / 100, which relaxes
    both rules, and the independent checker recomputes it from the missions' gains."""
    inst, base = uk_default
    assert inst.settings.fiscal_rules.receipts_feedback_rate == 0.0
    assert (base.fiscal.receipts_feedback_gbp_m == 0).all()
    on = inst.model_copy(deep=True)
    on.settings.fiscal_rules.receipts_feedback_mission = "growth"
    on.settings.fiscal_rules.receipts_feedback_rate = 0.44
    res = solve(on)
    assert res.status == "optimal" and res.objective > base.objective
    f = res.fiscal.set_index("year")
    m = res.missions
    gain = m[(m.mission == "growth") & m.in_horizon].set_index("year")["gain"]
    expected = 0.44 * f.gdp_gbp_m * gain.reindex(f.index) / 100.0
    np.testing.assert_allclose(f.receipts_feedback_gbp_m, expected, rtol=1e-9, atol=1e-6)
    rep = check_plan(on, res.tables, objective=res.objective)
    assert rep.ok, rep.text()
    # the same plan checked without the feedback breaks a rule it needed the receipts for
    assert not check_plan(inst, res.tables).ok
