"""The mission test as the seeds define it: core metrics year by year against baseline, the
rule that turns a flag into a failure, and a business case appraised on its own."""

import subprocess
import sys

import pandas as pd
import pytest

from allocator import load_instance, solve
from allocator.appraise import PlanError, appraise, appraise_proposal


def _pressure(inst, pid, t):
    """Λ[p,t] by hand: the product of (1 + growth) over pressures.csv rows covering years 1..t."""
    lam = 1.0
    for j, y in enumerate(inst.years[1:t + 1], start=1):
        lam *= 1.0 + sum(r.growth_per_year for r in inst.pressures if r.programme == pid
                         and inst.years.index(r.first_year) <= j <= inst.years.index(r.last_year))
    return lam


def _baseline_plan(inst):
    """The counterfactual (zero-impact) plan: each programme at baseline × its pressure index,
    i.e. today's service per head of need in every year."""
    return pd.DataFrame([dict(year=y, programme=p.id, department=p.owners[0], funding="department",
                              spend_gbp_m=p.baseline_gbp_m * _pressure(inst, p.id, t) * f.deflator)
                         for p in inst.programmes
                         for t, (y, f) in enumerate(zip(inst.years, inst.fiscal))])


def test_zero_impact_plan_fails_mission_critical(uk_dir):
    inst = load_instance(uk_dir)
    a = appraise(inst, _baseline_plan(inst), optimise=False)
    mc = a.test("mission_critical")
    assert a.mission_value == pytest.approx(0.0, abs=1e-6)
    assert not mc.passed and "improves no core metric" in mc.summary
    assert len(a.metrics) == len(inst.settings.missions) * 10 and not a.metrics["worse"].any()
    assert a.net_value["benefit_gbp_m"] == pytest.approx(0.0, abs=1e-6)


def test_tiny_core_metric_by_year_by_hand(tiny_dir):
    """The per-year table by hand on tiny's optimum (baseline spend 0): a1 10 at 3 and b1 12
    at 2 give 54 in every year; a2's 3 at 2.5 lands a year later (+7.5 from year 2)."""
    inst = load_instance(tiny_dir)
    a = appraise(inst, solve(inst).allocations, optimise=False)
    m = a.metrics.set_index("year")["improvement"]
    # year 1: a1 10 at 3 + b1 12 at 2 = 54 (a2's effect lands a year later); years 2, 3: + 2.5·3
    assert list(m) == pytest.approx([54.0, 61.5, 61.5], abs=1e-9)
    assert a.test("mission_critical").passed


def test_a_mission_made_worse_at_the_end_fails_however_much_others_gain(uk_dir):
    """Baseline plus 10% on every health programme and 5% off every safety programme: total
    value is positive (health gains dominate) but crime ends above baseline, which fails."""
    inst = load_instance(uk_dir)
    plan = _baseline_plan(inst)
    segs = pd.DataFrame([s.model_dump() for s in inst.segments])
    gains = segs[segs.gain_per_gbp_m > 0].groupby("programme")["mission"].agg(set)
    safety = {p for p, m in gains.items() if m == {"safety"}}
    health = {p for p, m in gains.items() if m == {"health"}}
    plan.loc[plan.programme.isin(safety), "spend_gbp_m"] *= 0.95
    plan.loc[plan.programme.isin(health), "spend_gbp_m"] *= 1.10
    a = appraise(inst, plan, optimise=False)
    mc = a.test("mission_critical")
    assert a.mission_value > 0 and "health" in mc.figures["improved_at_end_of_horizon"]
    assert mc.figures["worse_at_end_of_horizon"] == ["safety"] and not mc.passed
    assert "worse than baseline at the end of the horizon: safety" in mc.summary
    # safety never recovers, so it is not also reported as a J-curve finding
    assert not any(f.startswith("safety") for f in mc.figures["findings"])


def test_j_curve_is_a_finding_unless_a_declared_tolerance_is_exceeded(uk_dir):
    """The default optimum's safety path is a J-curve (worse than the counterfactual 2026-27 to
    2029-30, deepest 1.10 offences per 1,000 in 2028-29, better from 2030-31): a finding, not a
    failure; declaring a smaller tolerance makes it one.

    Measured finding on the current default: the optimum FAILS mission critical honestly, on
    health alone, which ends the horizon 0.0117 years of healthy life expectancy below the
    pressure-grown counterfactual in 2035-36 (the optimum buys health earlier and lets it
    fall back); that is the rule working, not a bug."""
    inst = load_instance(uk_dir)
    plan = solve(inst).allocations
    a = appraise(inst, plan, optimise=False)
    mc = a.test("mission_critical")
    assert mc.figures["worse_at_end_of_horizon"] == ["health"] and not mc.passed
    health_end = a.metrics.query("mission == 'health'")["improvement"].iloc[-1]
    assert health_end == pytest.approx(-0.01174, abs=5e-5)
    assert "safety" in mc.figures["improved_at_end_of_horizon"]
    assert any(f.startswith("safety") for f in mc.figures["findings"])
    assert not mc.figures["beyond_declared_tolerance"]
    worst = -a.metrics.query("mission == 'safety'")["improvement"].min()
    assert worst == pytest.approx(1.102, abs=1e-3)
    loose = appraise(inst, plan, optimise=False, dip_tolerance={"safety": worst + 1e-6})
    assert not loose.test("mission_critical").figures["beyond_declared_tolerance"]
    assert any("safety" in f and "within its declared J-curve" in f
               for f in loose.test("mission_critical").figures["findings"])
    tight = appraise(inst, plan, optimise=False, dip_tolerance={"safety": worst / 2})
    beyond = tight.test("mission_critical").figures["beyond_declared_tolerance"]
    assert len(beyond) == 1 and beyond[0].startswith("safety")
    assert not tight.test("mission_critical").passed


def test_business_case_on_its_own(uk_dir, tmp_path):
    """+£500m a year (real) on early-years entitlements: its NPV and BCR are its increment
    over the baseline (extra cost = £500m a year discounted at the STPR, net of AME saved)."""
    inst = load_instance(uk_dir)
    case = tmp_path / "case.csv"
    case.write_text("programme,change_gbp_m,year\nearly_years_entitlements,500,\n")
    a = appraise_proposal(inst, case)
    nv = a.net_value
    prog = next(p for p in inst.programmes if p.id == "early_years_entitlements")
    lag = {lw.lag: lw.weight for lw in inst.lag_profiles if lw.profile == prog.lag_profile}
    # year t costs 500 less the welfare AME its earlier extra spend saves: a·500·Σ_{k<=t} ℓ[k]
    cost = sum((500 - prog.ame_saving_per_gbp_m * 500 * sum(lag.get(k, 0) for k in range(t + 1)))
               / 1.035 ** t for t in range(10))
    # the counterfactual's own net cost: AME savings follow spend above the FLAT baseline
    # (formulation §3), so the pressure growth of the counterfactual itself saves AME
    # (−£722.9m discounted on the current default; a known follow-up, see the fix-econ report)
    base_cost = appraise(inst, _baseline_plan(inst), optimise=False).net_value["extra_cost_gbp_m"]
    assert base_cost == pytest.approx(-722.94, abs=0.01)
    assert nv["extra_cost_gbp_m"] == pytest.approx(cost + base_cost, rel=1e-9)
    assert nv["npv_gbp_m"] == pytest.approx(a.mission_value - nv["extra_cost_gbp_m"], rel=1e-9)
    assert a.mission_value > 0 and a.test("mission_critical").passed
    assert a.test("ten_year").figures["persistence"].startswith("an effect lasts")
    assert any("already breached by the baseline" in n for n in a.notes)
    p = subprocess.run([sys.executable, "-m", "allocator", "appraise", str(uk_dir), "--proposal",
                        str(case), "--no-optimal", "--json"], capture_output=True, text=True)
    assert p.returncode in (0, 4) and '"npv_gbp_m"' in p.stdout


def test_bad_business_case_names_file_row_field(uk_dir, tmp_path):
    inst = load_instance(uk_dir)
    case = tmp_path / "case.csv"
    case.write_text("programme,change_gbp_m,year\nno_such,5,\nnhs_acute,abc,\nnhs_acute,1,1999-00\n")
    with pytest.raises(PlanError) as e:
        appraise_proposal(inst, case)
    msg = str(e.value)
    assert "case.csv: row 2, field 'programme'" in msg and "no_such" in msg
    assert "row 3, field 'change_gbp_m'" in msg and "row 4, field 'year'" in msg
