"""The mission test as the seeds define it: core metrics year by year against baseline, the
rule that turns a flag into a failure, and a business case appraised on its own."""

import subprocess
import sys

import pandas as pd
import pytest

from allocator import load_instance, solve
from allocator.appraise import PlanError, appraise, appraise_proposal


def _baseline_plan(inst):
    return pd.DataFrame([dict(year=y, programme=p.id, department=p.owners[0], funding="department",
                              spend_gbp_m=p.baseline_gbp_m * f.deflator)
                         for p in inst.programmes for y, f in zip(inst.years, inst.fiscal)])


def test_zero_impact_plan_fails_mission_critical(uk_dir):
    inst = load_instance(uk_dir)
    a = appraise(inst, _baseline_plan(inst), optimise=False)
    mc = a.test("mission_critical")
    assert a.mission_value == pytest.approx(0.0, abs=1e-6)
    assert not mc.passed and "improves no core metric" in mc.summary
    assert len(a.metrics) == 5 * 10 and not a.metrics["worse"].any()


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


def test_j_curve_is_a_finding_unless_a_declared_tolerance_is_exceeded(uk_dir):
    """The default optimum is a J-curve (safety worse than baseline in 2026-27 and 2027-28,
    better from 2029-30): a finding, not a failure; declaring a smaller tolerance fails it."""
    inst = load_instance(uk_dir)
    plan = solve(inst).allocations
    a = appraise(inst, plan, optimise=False)
    mc = a.test("mission_critical")
    assert mc.passed and any(f.startswith("safety") for f in mc.figures["findings"])
    worst = -a.metrics.query("mission == 'safety'")["improvement"].min()
    assert worst > 0.1
    assert appraise(inst, plan, optimise=False,
                    dip_tolerance={"safety": worst + 1e-6}).test("mission_critical").passed
    tight = appraise(inst, plan, optimise=False, dip_tolerance={"safety": worst / 2})
    assert not tight.test("mission_critical").passed
    assert tight.test("mission_critical").figures["beyond_declared_tolerance"]


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
    assert nv["extra_cost_gbp_m"] == pytest.approx(cost, rel=1e-9)
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
