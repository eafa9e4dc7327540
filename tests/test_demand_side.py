"""Demand pressures, invest to save inside DEL and persistence of terminal effects.

Hand-solved cases on the tiny instance (instances/tiny/README.md: envelope 25 a year, b1's
floor 12 takes 12 of it; a1 gains 3 per £m on its first 10 and 1 on the next 10 in the year
of spend; a2 gains 2.5 per £m on its first 5 one year later; b1 gains 2 per £m up to 20;
no discounting; base optimum 184.5 = 177 in the horizon + 7.5 terminal), and the flat-real
appraisal of the UK default.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from allocator import load_instance, solve
from allocator.checker import check_result


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def _settings(folder: Path, **extra) -> None:
    p = folder / "instance.yaml"
    data = yaml.safe_load(p.read_text(encoding="utf-8"))
    data.update(extra)
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _solve_checked(folder: Path):
    inst = load_instance(folder)
    res = solve(inst)
    assert res.status == "optimal"
    rep = check_result(inst, res)
    assert rep.ok, rep.text()
    return res


def test_pressure_deflates_the_response_hand_solved(tiny_copy):
    """a1 needs 25% more real spend from 2027-28 for the same service (Λ = 1, 1.25, 1.25).

    Year 1 is unchanged (a1 10, a2 3: 30 + 7.5 + 24). In years 2 and 3 a1's first segment is
    worth 3/1.25 = 2.4 per real £m, below a2's 2.5: a2 takes 5 and a1 the other 8 real
    (6.4 effective, 19.2). Objective 61.5 + 2 × 55.7 = 172.9, of which 12.5 terminal (a2's
    year-3 effect); the envelope is worth 2.5 (a2), 2.4, 2.4."""
    _write(tiny_copy, "pressures.csv",
           "programme,first_year,last_year,growth_per_year,basis\na1,2027-28,2027-28,0.25,test\n")
    res = _solve_checked(tiny_copy)
    assert res.objective == pytest.approx(172.9, abs=1e-9)
    assert res.objective_terminal == pytest.approx(12.5, abs=1e-9)
    a = res.allocations.pivot_table(index="year", columns="programme", values="real_spend_gbp_m")
    assert np.allclose(a["a1"], [10, 8, 8]) and np.allclose(a["a2"], [3, 5, 5])
    sp = res.shadow_prices
    env = sp[(sp.constraint == "del_envelope") & (sp.category == "resource")]
    assert np.allclose(env.shadow_price, [2.5, 2.4, 2.4])


def test_flat_real_spend_loses_service_under_pressure(tiny_copy):
    """a1 held at 10 real (baseline = floor = cap = 10) under 25% pressure a year from
    2027-28 (Λ = 1, 1.25, 1.5625) delivers 10, 8, 6.4 of effective activity: its gain against
    today's service is 3 × (e − 10) = 0, −6, −10.8. b1 (24) and a2 (3 × 2.5 a year later)
    are as before, so the metric gains are 24, 25.5, 20.7."""
    p = pd.read_csv(tiny_copy / "programmes.csv")
    p.loc[p.id == "a1", ["baseline_gbp_m", "floor_gbp_m", "cap_gbp_m"]] = [10, 10, 10]
    p.to_csv(tiny_copy / "programmes.csv", index=False)
    _write(tiny_copy, "pressures.csv",
           "programme,first_year,last_year,growth_per_year,basis\na1,2027-28,2028-29,0.25,test\n")
    res = _solve_checked(tiny_copy)
    q = res.allocations.pivot_table(index="year", columns="programme", values="real_spend_gbp_m")
    assert np.allclose(q["a1"], 10.0) and np.allclose(q["a2"], 3.0)
    m = res.missions.set_index("year")
    assert np.allclose(m.loc[["2026-27", "2027-28", "2028-29"], "gain"], [24.0, 25.5, 20.7])


def test_invest_to_save_in_del_creates_room_hand_solved(tiny_copy):
    """a2's spend avoids the same amount of a1's demand a year later (σ = 1, a2's lag).

    Optimum: a2 = 5 every year; a1 = 8, 5, 5 real (10 effective in years 2-3 thanks to the
    5 avoided); the freed £3m goes to b1 (2 per £m) in years 2-3. Objective
    48 + 72.5 + 72.5 in the horizon + 12.5 terminal = 205.5 (184.5 without): invest to save
    inside DEL is worth 21. Envelope shadow prices 3, 2, 2."""
    _write(tiny_copy, "invest_to_save.csv",
           "programme,target,saving_per_gbp_m,basis\na2,a1,1.0,test\n")
    res = _solve_checked(tiny_copy)
    assert res.objective == pytest.approx(205.5, abs=1e-9)
    assert res.objective_terminal == pytest.approx(12.5, abs=1e-9)
    sp = res.shadow_prices
    env = sp[(sp.constraint == "del_envelope") & (sp.category == "resource")]
    assert np.allclose(env.shadow_price, [3.0, 2.0, 2.0])
    a = res.allocations.pivot_table(index="year", columns="programme", values="real_spend_gbp_m")
    assert np.allclose(a["a1"], [8, 5, 5])
    # without the saving row the same instance gives the hand optimum 184.5
    (tiny_copy / "invest_to_save.csv").unlink()
    assert solve(load_instance(tiny_copy)).objective == pytest.approx(184.5, abs=1e-9)


@pytest.mark.parametrize("fade, years, objective, terminal", [
    (0.1, None, 183.75, 6.75),   # a2's year-3 effect worth 2.5 × 0.9 = 2.25 > b1's 2: kept
    (0.5, None, 183.0, 0.0),     # worth 1.25 < 2: the last 3 go to b1 (in the horizon)
    (0.0, 0, 183.0, 0.0),        # truncated at the horizon: same as a full fade
    (0.0, None, 184.5, 7.5),     # no fade: the hand optimum of the tiny README
])
def test_persistence_of_terminal_effects_hand_solved(tiny_copy, fade, years, objective, terminal):
    _settings(tiny_copy, persistence={"terminal_fade_per_year": fade, "terminal_years": years})
    res = _solve_checked(tiny_copy)
    assert res.objective == pytest.approx(objective, abs=1e-9)
    assert res.objective_terminal == pytest.approx(terminal, abs=1e-9)


def test_pressures_and_savings_input_errors(tiny_copy):
    from allocator.errors import InstanceError

    _write(tiny_copy, "pressures.csv",
           "programme,first_year,last_year,growth_per_year,basis\na1,2026-27,2027-28,0.1,x\n")
    with pytest.raises(InstanceError, match="first_year"):
        load_instance(tiny_copy)
    _write(tiny_copy, "pressures.csv",
           "programme,first_year,last_year,growth_per_year,basis\nzz,2027-28,2027-28,0.1,x\n")
    with pytest.raises(InstanceError, match="unknown programme"):
        load_instance(tiny_copy)
    (tiny_copy / "pressures.csv").unlink()
    _write(tiny_copy, "invest_to_save.csv",
           "programme,target,saving_per_gbp_m,basis\na2,a1,1.0,x\nb1,a2,0.5,x\n")
    with pytest.raises(InstanceError, match="no chains"):
        load_instance(tiny_copy)


def test_flat_real_plan_on_the_default_shows_the_pressures(uk_dir):
    """Baseline real spend every year (a flat-real plan) appraised against the default: core
    metrics fall where demand rises (health: NHS demand; safety: prisons; opportunity: SEND;
    child poverty: temporary accommodation) and do not move where there is no pressure
    (clean energy)."""
    from allocator.appraise import appraise

    inst = load_instance(uk_dir)
    fy = {f.year: f.deflator for f in inst.fiscal}
    rows = [dict(year=y, programme=p.id, department=p.owners[0], funding="department",
                 spend_gbp_m=p.baseline_gbp_m * fy[y]) for y in inst.years for p in inst.programmes]
    app = appraise(inst, pd.DataFrame(rows), optimise=False)
    m = app.missions.set_index("mission")
    for mission in ("health", "safety", "opportunity", "child_poverty"):
        assert m.loc[mission, "gain_final_year"] < 0, mission
        assert m.loc[mission, "value"] < 0, mission
    # no pressure on any clean-energy programme; growth only through council services
    assert m.loc["clean_energy", "gain_final_year"] == pytest.approx(0.0, abs=1e-9)
    assert -0.05 < m.loc["growth", "gain_final_year"] < 0
    # health: NHS services lose 1 − 1/1.033^9 ≈ 25% of effective activity by 2035-36
    assert m.loc["health", "gain_final_year"] < -0.1


def test_demand_side_levers_bite_on_the_default(uk_dir):
    """On the default, invest to save inside DEL and PIE protection change the optimum (they
    did not before issue 11), and the persistence fade cuts the terminal value."""
    base = load_instance(uk_dir)
    v0 = solve(base, explain=False)
    no_del = base.model_copy(deep=True)
    no_del.invest_to_save = []
    assert v0.objective - solve(no_del, explain=False).objective > 1000  # ≈ 22,391
    no_pie = base.model_copy(deep=True)
    no_pie.settings.constraints.pie_share = False
    no_pie.settings.constraints.pie_department_floor = False
    assert solve(no_pie, explain=False).objective - v0.objective > 1000  # ≈ 6,058
    no_fade = base.model_copy(deep=True)
    no_fade.settings.persistence.terminal_fade_per_year = 0.0
    assert solve(no_fade, explain=False).objective_terminal > 2 * v0.objective_terminal


def test_comprehensive_metrics_follow_the_plan(uk_dir):
    """metrics.csv: at least two metrics per government mission; an output metric on a
    statutory service held at its demand floor stays at 100 (the floor is binding), and
    police officers move with police spend at 13.48 FTE per £m."""
    inst = load_instance(uk_dir)
    res = solve(inst, explain=False)
    m = res.tables["metrics"]
    per = m.groupby("mission")["metric"].nunique()
    assert set(per.index) == {m_.group for m_ in inst.settings.missions}
    assert (per >= 2).all()
    last = m[m.year == inst.years[-1]].set_index("metric")
    assert last.loc["send_provision_per_need", "value"] == pytest.approx(100.0, abs=1e-6)
    q = res.allocations.groupby(["year", "programme"])["real_spend_gbp_m"].sum()
    y = inst.years[-1]
    extra = (q[(y, "police_core")] - 11500) + (q[(y, "neighbourhood_policing")] - 1000)
    assert last.loc["police_officers", "value"] == pytest.approx(146442 + 13.477 * extra, rel=1e-9)


def test_metric_floor_hand_solved(tiny_copy):
    """A floor of 14 on b1's real spend from 2027-28 (a comprehensive input metric): b1 takes
    2 more of the envelope (2 per £m) from a2 (2.5 per £m) in two years: 184.5 − 2 × 1 = 182.5;
    the floor's shadow price is 0.5 per unit."""
    _settings(tiny_copy, comprehensive_metrics=[{
        "id": "b1_spend", "mission": "wellbeing", "name": "courts real spend", "unit": "real £m",
        "kind": "input", "baseline_value": 0.0, "floor": 14.0, "floor_from": "2027-28",
        "terms": [{"programme": "b1", "per_gbp_m": 1.0}]}])
    res = _solve_checked(tiny_copy)
    assert res.objective == pytest.approx(182.5, abs=1e-9)
    sp = res.shadow_prices
    mf = sp[sp.constraint == "metric_floor"]
    assert list(mf.year) == ["2027-28", "2028-29"] and np.allclose(mf.shadow_price, 0.5)
    m = res.tables["metrics"].set_index("year")
    assert np.allclose(m["value"], [12.0, 14.0, 14.0])
