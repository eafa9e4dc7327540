"""Spending Review cycles: invariants of the rolling-horizon simulation on the UK instance."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import compare_cycles, load_instance
from allocator.cycles import Regime, uncertainty_settings
from allocator.cycles.regime import certainty_factor
from allocator.cycles.settings import CertaintyClass
from allocator.cycles.simulate import HEADROOM_TOL_GBP_M, CycleSimulator
from allocator.cycles.uncertainty import EconomicPath, forecast, realised, sample_path
from allocator.errors import InstanceError
from allocator.tables import departments, fiscal


@pytest.fixture(scope="module")
def uk():
    return load_instance("instances/uk_missions")


def _path(T, number=0, g=None, receipts=None):
    g = np.zeros(T) if g is None else np.asarray(g, float)
    z = np.zeros(T)
    return EconomicPath(number, g, np.cumsum(g), z if receipts is None else np.asarray(receipts, float),
                        z.copy(), z.copy())


def test_no_shocks_no_certainty_every_regime_same_value(uk):
    res = compare_cycles(uk, cycles=[1, 2, 3, 4, 5], paths=2, seed=1, shocks=False, certainty=False,
                         uncertainty={"planning": {"review_cost_gbp_m": 0, "trigger_cost_gbp_m": 0}})
    v = res.paths["net_value_gbp_m"].to_numpy()
    assert v.min() > 1e4  # a real plan, £m-equivalent (against today's service per head of need)
    assert v.max() - v.min() <= 1e-6 * v.max()
    assert (res.paths["breaches"] == 0).all() and (res.paths["triggered_reviews"] == 0).all()
    assert res.paths.groupby("regime")["reviews"].first().to_dict() == {
        "1y": 10, "2y": 5, "3y": 4, "4y": 3, "5y": 2}


def test_with_certainty_and_no_shocks_longer_cycles_never_lose(uk):
    regimes = [Regime(1), Regime(2), Regime(3), Regime(4), Regime(5), Regime(3, indicative_years=2),
               Regime(3, capital_plan_years=10)]
    res = compare_cycles(uk, cycles=regimes, paths=1, seed=1, shocks=False)
    v = res.paths.set_index("regime")["net_value_gbp_m"]
    for a, b in zip(["1y", "2y", "3y", "4y"], ["2y", "3y", "4y", "5y"]):
        assert v[b] >= v[a] - 1e-6 * abs(v[a])
    assert v["5y"] > v["1y"] + 1000  # the effect is material, not rounding
    assert v["3y+2i"] >= v["3y"] and v["3y+cap10"] >= v["3y"]
    # the paired difference against the 1-year regime is positive with a degenerate interval
    d = res.differences.query("measure == 'net_value_gbp_m' and regime == '5y'").iloc[0]
    assert d.mean_difference == pytest.approx(v["5y"] - v["1y"]) and d.ci95_low == d.ci95_high


def test_same_seed_same_results_serial_and_parallel(uk):
    a = compare_cycles(uk, cycles=[1, 4], paths=3, seed=7, jobs=1)
    b = compare_cycles(uk, cycles=[1, 4], paths=3, seed=7, jobs=2, chunk_size=1)
    pd.testing.assert_frame_equal(a.paths, b.paths)
    pd.testing.assert_frame_equal(a.years, b.years)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    c = compare_cycles(uk, cycles=[1, 4], paths=3, seed=8, jobs=1)
    assert not np.allclose(a.paths["mission_value_gbp_m"], c.paths["mission_value_gbp_m"])


def test_paths_are_seeded_and_independent_of_run_size(uk):
    us = uncertainty_settings(uk)
    p1, p2 = sample_path(us, 10, 7, 3), sample_path(us, 10, 7, 3)
    assert np.array_equal(p1.g, p2.g) and np.array_equal(p1.u_interest, p2.u_interest)
    assert not np.array_equal(p1.g, sample_path(us, 10, 7, 4).g)
    assert np.array_equal(sample_path(us.without_shocks(), 10, 7, 3).level, np.zeros(10))


def _sim_only(uk, budgets=True, **triggers):
    off = {"gdp_growth_below": None, "headroom_below_gbp_m": None, "receipts_shortfall_above": None,
           "gdp_growth_above": None, "headroom_rise_above_gbp_m": None, "receipts_surplus_above": None}
    off.update(triggers)
    return CycleSimulator(uk, uncertainty_settings(uk, {"triggers": off, "budgets": {"enabled": budgets}}))


def test_gdp_trigger_fires_exactly_when_growth_is_below_threshold(uk):
    T = 10
    g = np.zeros(T)
    g[3] = -0.04
    fy = {f.year: f for f in uk.fiscal}
    y = [fy[v] for v in uk.years]
    growth = (y[3].gdp_gbp_m / y[2].gdp_gbp_m) * np.exp(-0.04) / (y[3].deflator / y[2].deflator) - 1
    assert growth < -0.005  # a recession year
    for threshold, fires in ((growth + 1e-9, True), (growth - 1e-9, False)):
        sim = _sim_only(uk, gdp_growth_below=threshold)
        rec = sim.run(_path(T, g=g), Regime(5))
        reviews, why = rec["years"]["review"], rec["years"]["trigger"]
        if fires:
            assert reviews == [1, 0, 0, 0, 2, 0, 0, 0, 0, 1]  # brought forward to year 4; next at 4+5
            assert why[3] == "gdp_growth" and rec["triggered_reviews"] == 1
        else:
            assert reviews == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0] and rec["triggered_reviews"] == 0


def test_good_news_triggers_reopen_a_review_when_growth_or_receipts_beat_the_forecast(uk):
    T = 10
    fy = {f.year: f for f in uk.fiscal}
    y = [fy[v] for v in uk.years]
    g = np.zeros(T)
    g[3] = 0.04  # a boom year in 2029-30
    growth = (y[3].gdp_gbp_m / y[2].gdp_gbp_m) * np.exp(0.04) / (y[3].deflator / y[2].deflator) - 1
    assert growth > 0.035  # above the default good-news threshold (central growth ~1.4%)
    for threshold, fires in ((growth - 1e-9, True), (growth + 1e-9, False)):
        sim = _sim_only(uk, gdp_growth_above=threshold)
        rec = sim.run(_path(T, g=g), Regime(5))
        if fires:
            assert rec["years"]["review"] == [1, 0, 0, 0, 2, 0, 0, 0, 0, 1]
            assert rec["years"]["trigger"][3] == "gdp_growth_high"
            assert rec["good_news_reviews"] == 1 == rec["triggered_reviews"]
        else:
            assert rec["years"]["review"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
            assert rec["good_news_reviews"] == 0
    # receipts 3.9% above the forecast in 2027-28: the 3% good-news rule fires, a 2% surplus does not
    sim = _sim_only(uk, receipts_surplus_above=0.03)
    u = np.where(np.arange(T) == 1, 0.04, 0.0)
    rec = sim.run(_path(T, receipts=u), Regime(3))
    assert rec["years"]["review"] == [1, 0, 2, 0, 0, 1, 0, 0, 1, 0]
    assert rec["years"]["trigger"][1] == "receipts_surplus" and rec["good_news_reviews"] == 1
    rec = sim.run(_path(T, receipts=np.where(np.arange(T) == 1, 0.02, 0.0)), Regime(3))
    assert rec["years"]["review"] == [1, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    # the bad-news rule ignores good news and vice versa
    bad = _sim_only(uk, receipts_shortfall_above=0.03)
    assert bad.run(_path(T, receipts=u), Regime(3))["triggered_reviews"] == 0


def test_receipts_trigger_and_a_review_is_never_pushed_back(uk):
    T = 10
    u = np.zeros(T)
    u[1] = -0.04  # receipts 3.9% below forecast in year 2: the 3% rule fires
    sim = _sim_only(uk, receipts_shortfall_above=0.03)
    rec = sim.run(_path(T, receipts=u), Regime(3))
    assert rec["years"]["review"] == [1, 0, 2, 0, 0, 1, 0, 0, 1, 0]
    assert rec["years"]["trigger"][1] == "receipts_shortfall"
    u[1] = -0.02  # 2% short: below the threshold
    rec = sim.run(_path(T, receipts=u), Regime(3))
    assert rec["years"]["review"] == [1, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    # a 1-year regime reviews every year anyway: a trigger cannot bring anything forward
    rec = sim.run(_path(T, receipts=np.where(np.arange(T) == 1, -0.04, 0.0)), Regime(1))
    assert rec["triggered_reviews"] == 0 and rec["reviews"] == 10


def test_outturn_misses_are_recorded_apart_and_pie_holds_every_year(uk):
    # The outturn of every year is checked against each rule and a miss is recorded as an
    # outturn deviation (``outturn_miss_gbp_m``), apart from the forecast breaches; the sums
    # here recompute it from the result tables with the realised data.
    us = uncertainty_settings(uk)
    sim = CycleSimulator(uk, us)
    s, fr = uk.settings, uk.settings.fiscal_rules
    seen_breach = False
    for n in range(4):
        path = sample_path(us, sim.T, 11, n)
        for regime in (Regime(1), Regime(5)):
            rec = sim.run(path, regime)
            x = sim.last_x
            yrs = rec["years"]
            # independent outturn accounts from the result tables, with the realised data
            R = realised(us, sim.base, path)
            sim.session.set_fiscal(**{k: R[k] for k in ("gdp_gbp_m", "receipts_gbp_m",
                                                        "ame_current_gbp_m", "welfare_capped_gbp_m",
                                                        "debt_interest_gbp_m")})
            f = fiscal(sim.session.model, x)
            spent = sim.reserve - np.array(yrs["reserve_drawn_gbp_m"])
            # the table's debt interest follows the plan's PSNFL; the outturn pays interest on
            # the realised PSNFL: ΔDI_t = ι (N_{t−1} − N^f_{t−1}), recomputed year by year below
            iota = fr.debt_interest_rate if s.constraints.debt_interest_feedback else 0.0
            Nf = {r.year: r.psnfl_forecast_gbp_m for r in uk.fiscal}
            plan_di = f["debt_interest_feedback_gbp_m"].to_numpy()
            N_prev, Y_prev = fr.psnfl_initial_gbp_m, fr.gdp_initial_gbp_m
            Nf_prev = fr.psnfl_initial_gbp_m
            margin = np.zeros(len(uk.years))
            for t, year in enumerate(uk.years):
                di = iota * (N_prev - Nf_prev)
                r = f.iloc[t]
                margin[t] = (r.current_balance_gbp_m + plan_di[t] - di - spent[t]
                             - fr.stability_rule.required_margin_gbp_m)
                N_prev = (N_prev + r.rdel_gbp_m + r.cdel_gbp_m + spent[t] + r.ame_gbp_m - plan_di[t] + di
                          - r.receipts_gbp_m + sim.base["other_psnfl_flows_gbp_m"][t])
                Nf_prev = Nf[year]
            np.testing.assert_allclose(yrs["headroom_gbp_m"], margin - fr.headroom_gbp_m, atol=1e-3)
            N_prev, Y_prev = fr.psnfl_initial_gbp_m, fr.gdp_initial_gbp_m
            Nf_prev = fr.psnfl_initial_gbp_m
            misses = 0
            for t, year in enumerate(uk.years):
                stab = max(0.0, -margin[t]) if year in fr.stability_rule.target_years else 0.0
                r = f.iloc[t]
                di = iota * (N_prev - Nf_prev)
                N = (N_prev + r.rdel_gbp_m + r.cdel_gbp_m + spent[t] + r.ame_gbp_m - plan_di[t] + di
                     - r.receipts_gbp_m + sim.base["other_psnfl_flows_gbp_m"][t])
                Nf_prev = Nf[year]
                inv = max(0.0, N - (r.gdp_gbp_m / Y_prev) * N_prev)
                inv = inv if year in fr.investment_rule.target_years else 0.0
                cap = r.welfare_cap_with_margin_gbp_m  # the legislated test: cap and margin
                welf = 0.0 if np.isnan(cap) else max(0.0, r.welfare_capped_gbp_m - cap)
                assert yrs["outturn_miss_gbp_m"][t] == pytest.approx(stab + inv + welf, abs=2e-3,
                                                                     rel=1e-9)
                misses += sum(v > 1e-3 for v in (stab, inv, welf))
                N_prev, Y_prev = N, r.gdp_gbp_m
            assert rec["outturn_misses"] == misses
            seen_breach |= misses > 0
            assert rec["breaches"] == sum(int(v > 1e-3) for k in ("stability_breach_gbp_m",
                                          "investment_breach_gbp_m", "welfare_breach_gbp_m")
                                          for v in yrs[k])
            # PIE protected every year: department floors and the rising share
            d = departments(sim.session.model, x)
            assert (d["pie_gbp_m"] >= d["pie_floor_gbp_m"] - 1e-6).all()
            sigma = np.array(s.pie.share_path(sim.T))
            assert (np.array(yrs["pie_share"]) >= sigma - 1e-9).all() and rec["pie_protected"] == 1
    assert seen_breach  # the shocks are large enough that some outturn misses a rule somewhere


def test_in_year_cuts_spare_pie_and_respect_floors(uk):
    # Barnett off: an in-year cut never moves a limit that a Barnett row ties to a devolved
    # grant (the cut-spared departments would include every department with a mission programme)
    uk = uk.model_copy(deep=True)
    uk.settings.constraints.barnett = False
    g = np.where(np.arange(10) == 4, -0.06, 0.0)  # a deep recession in 2030-31, mid-settlement
    # on the current default the optimum's Mission Fund sits at its maximum share of DEL in
    # 2030-31, so any in-year DEL cut would take it over that share: no cut is made and the
    # shortfall stays a stability breach (measured: cuts 0)
    held = CycleSimulator(uk, uncertainty_settings(uk))
    assert held.run(_path(held.T, g=g), Regime(5, triggers=False, budgets=False))["in_year_cuts_gbp_m"] == 0.0
    # without the Mission Fund rule the cut goes ahead (measured £3,645.1m over the path; it
    # was £3,629.5m before the session carried the Budget-total rows, free here: the second
    # stage's plan moved by that much among equal-value plans)
    uk.settings.constraints.mission_fund = False
    us = uncertainty_settings(uk)
    sim = CycleSimulator(uk, us)
    T = sim.T
    rec = sim.run(_path(T, g=g), Regime(5, triggers=False, budgets=False))
    assert rec["in_year_cuts_gbp_m"] == pytest.approx(3645.1, abs=1.0)
    x = sim.last_x
    plan0 = sim._plan0[Regime(5, triggers=False, budgets=False)]
    q0 = (sim.e.q @ plan0).reshape(sim.md.P, T)
    q = (sim.e.q @ x).reshape(sim.md.P, T)
    pie = sim.md.prog_pie
    np.testing.assert_allclose(q[pie, :5], q0[pie, :5], atol=1e-6)  # PIE untouched up to the cut
    assert (q >= sim.md.prog_floor[:, None] - 1e-6).all()
    cut = q0[:, 4] - q[:, 4]
    assert cut.max() > 0 and set(np.flatnonzero(cut > 1e-6)) <= set(sim.cut_progs)


def test_bad_uncertainty_section_names_file_field_and_value(uk):
    data = uk.model_dump()
    data["settings"]["uncertainty"] = {"gdp_growth_sd": -0.1}
    bad = type(uk).model_validate(data)
    with pytest.raises(InstanceError) as e:
        compare_cycles(bad, cycles=[1], paths=1)
    msg = str(e.value)
    assert "instance.yaml" in msg and "uncertainty.gdp_growth_sd" in msg and "-0.1" in msg
    data["settings"]["uncertainty"] = {"correlations": {"gdp_receipts": 0.99, "gdp_welfare": -0.99,
                                                        "receipts_welfare": 0.99}}
    with pytest.raises(InstanceError, match="positive-definite"):
        uncertainty_settings(type(uk).model_validate(data))
    data["settings"]["uncertainty"] = {"trigers": {}}
    with pytest.raises(InstanceError, match="uncertainty.trigers.*unknown field"):
        uncertainty_settings(type(uk).model_validate(data))


def test_headroom_trigger_fires_exactly_when_forecast_headroom_falls_below_threshold(uk):
    T = 10
    u = np.zeros(T)
    u[1] = -0.05  # receipts 5% short in 2027-28; persistent, so the forecast of later years falls
    u[2:] = -0.05 * 0.5 ** np.arange(1, T - 1)
    # (no Budgets: the plan executed in years 0-1 is the central one, as in the sums below)
    sim = _sim_only(uk, budgets=False, headroom_below_gbp_m=0.0)
    sim.run(_path(T), Regime(5))
    x0 = sim.last_x  # the central plan, executed unchanged in years 0-1 (no cuts before 2029-30)
    rdel, _, sav = sim._fiscal_parts(x0)
    targets = sim.stab_target & (np.arange(T) > 1)
    di = sim._plan_interest(x0)  # the plan's extra debt interest (debt-interest feedback)
    central = (sim._stability_margin(forecast(sim.us, sim.base, _path(T), 0), rdel, sav, sim.reserve, di)
               - sim.H)[targets].min()
    path = _path(T, receipts=u)
    now = (sim._stability_margin(forecast(sim.us, sim.base, path, 2), rdel, sav, sim.reserve, di)
           - sim.H)[targets].min()
    assert now < central  # the shock eats headroom: from about £22bn to `now`
    tol = HEADROOM_TOL_GBP_M  # "below" means below by more than the round-off tolerance
    for threshold, fires in ((now + tol + 1e-6, True), (now + tol - 1e-6, False)):
        s = _sim_only(uk, budgets=False, headroom_below_gbp_m=float(threshold))
        rec = s.run(path, Regime(5))
        assert (rec["years"]["trigger"][1] == "headroom") is fires
        assert rec["years"]["review"][2] == (2 if fires else 0)


@settings(max_examples=200, deadline=None)
@given(n=st.floats(1, 30), loss=st.floats(0, 1), s1=st.floats(0, 40), s2=st.floats(0, 40))
def test_certainty_factor_is_bounded_and_never_falls_with_more_settled_years(n, loss, s1, s2):
    cls = CertaintyClass(lead_time_years=n, max_loss=loss)
    lo, hi = sorted((s1, s2))
    f_lo, f_hi = certainty_factor(cls, lo), certainty_factor(cls, hi)
    assert 1 - loss - 1e-12 <= f_lo <= f_hi <= 1.0
    if hi >= n:
        assert f_hi == 1.0
    if lo <= 1 and n > 1:
        assert f_lo == pytest.approx(1 - loss)
