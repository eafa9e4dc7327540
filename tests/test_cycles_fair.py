"""Spending Review cycles that give the mechanisms a fair test (issue 12 item 6): annual
Budget corrections inside a band, fiscal rules tested on the forecast for the target year,
and a 10-year capital plan whose benefit follows the stated formula. (Good-news triggers:
tests/test_cycles.py.)"""

import numpy as np
import pytest

from allocator import compare_cycles, load_instance
from allocator.cycles import Regime, uncertainty_settings
from allocator.cycles.regime import programme_factors, settled_years_ahead
from allocator.cycles.simulate import CycleSimulator
from allocator.cycles.uncertainty import EconomicPath, forecast, sample_path
from allocator.tables import fiscal

OFF = {"gdp_growth_below": None, "headroom_below_gbp_m": None, "receipts_shortfall_above": None,
       "gdp_growth_above": None, "headroom_rise_above_gbp_m": None, "receipts_surplus_above": None}


@pytest.fixture(scope="module")
def uk():
    return load_instance("instances/uk_missions")


def test_target_year_is_the_third_forecast_year_rolling_from_2029_30(uk):
    sim = CycleSimulator(uk, uncertainty_settings(uk))
    years = [None if (k := sim.target_year(t, sim.stab_targets)) is None else uk.years[k]
             for t in range(10)]
    # the event before 2026-27 (Budget 2025) and the Budget of autumn 2026 both test 2029-30;
    # then the target rolls a year at a time; the last two events have no target in the horizon
    assert years == ["2029-30", "2029-30", "2030-31", "2031-32", "2032-33", "2033-34", "2034-35",
                     "2035-36", None, None]


def test_a_forecast_breach_is_counted_only_for_the_events_target_year(uk):
    uk = uk.model_copy(deep=True)
    uk.settings.constraints.debt_interest_feedback = False  # current balance straight from tables
    us = uncertainty_settings(uk, {"triggers": OFF, "absorption": {"max_in_year_cut_share": 0.0}})
    sim = CycleSimulator(uk, us)
    T = sim.T
    z = np.zeros(T)
    u = np.where(np.arange(T) >= 1, -0.05, 0.0)  # receipts 5% short from 2027-28, persistent
    path = EconomicPath(0, z, z.copy(), u, z.copy(), z.copy())
    regime = Regime(5, triggers=False, budgets=False)  # the central plan stands until 2031-32
    rec = sim.run(path, regime)
    x0 = sim._plan0[regime]
    yrs = rec["years"]
    t = 2  # the Budget of autumn 2027: forecast knows 2026-27 and 2027-28, target 2030-31
    assert yrs["target_year"][t] == "2030-31" and yrs["review"][t] == 0
    F = forecast(us, sim.base, path, t)
    sim.session.set_fiscal(**{k: F[k] for k in ("gdp_gbp_m", "receipts_gbp_m", "ame_current_gbp_m",
                                                "welfare_capped_gbp_m", "debt_interest_gbp_m")})
    f = fiscal(sim.session.model, x0)
    margin = (f["current_balance_gbp_m"].to_numpy() - sim.reserve
              - uk.settings.fiscal_rules.stability_rule.required_margin_gbp_m)
    k = uk.years.index("2030-31")
    assert margin[k] < -1000 and margin[k + 1] < -1000 and margin[k - 1] < -1000  # several years short
    # only the target year counts, once, at this event
    assert yrs["stability_breach_gbp_m"][t] == pytest.approx(-margin[k], rel=1e-9, abs=1e-3)
    # the last two events have no target year left: nothing is tested there
    assert yrs["target_year"][8:] == ["", ""] and yrs["stability_breach_gbp_m"][8:] == [0.0, 0.0]
    assert rec["stability_breaches"] == sum(v > 1e-3 for v in yrs["stability_breach_gbp_m"])
    # a fresh review (2031-32) plans to meet the rule on its forecast: no breach at that event
    assert yrs["review"][5] == 1 and yrs["stability_breach_gbp_m"][5] == pytest.approx(0.0, abs=1e-3)


def test_budget_corrections_stay_in_their_band_and_inside_the_settled_totals(uk):
    us = uncertainty_settings(uk, {"triggers": OFF, "budgets": {"limit_band": 0.015,
                                                                "total_band": 0.004}})
    sim = CycleSimulator(uk, us)
    e, D, T = sim.e, sim.md.D, sim.T
    calls = []
    orig = sim._solve_plan

    def spy(t, F, x, reserve_spent, Freal, regime, band=None):
        new = orig(t, F, x, reserve_spent, Freal, regime, band=band)
        calls.append((t, None if x is None else x.copy(), new.copy(), band is not None))
        return new

    sim._solve_plan = spy
    rec = sim.run(sample_path(us, T, 7, 0), Regime(5, triggers=False))
    assert rec["budget_corrections"] == 8 and rec["years"]["budget"] == [0, 1, 1, 1, 1, 0, 1, 1, 1, 1]
    moved = 0.0
    settled = None
    for t, before, after, is_budget in calls:
        if not is_budget:
            settled = after  # a review sets new settlements
            continue
        end = 5 if t < 5 else T
        L0 = (e.limit @ settled).reshape(D, 2, T)[:, :, t:end]
        L1 = (e.limit @ after).reshape(D, 2, T)[:, :, t:end]
        ratio = np.divide(L1, L0, out=np.ones_like(L1), where=np.abs(L0) > 1e-9)
        assert ratio.min() >= 1 - 0.015 - 1e-9 and ratio.max() <= 1 + 0.015 + 1e-9
        S0 = (e.del_total @ settled).reshape(2, T)[:, t:end]
        S1 = (e.del_total @ after).reshape(2, T)[:, t:end]
        assert (np.abs(S1 / S0 - 1) <= 0.004 + 1e-9).all()
        # the years already lived are untouched
        Lb = (e.limit @ before).reshape(D, 2, T)[:, :, :t]
        np.testing.assert_allclose((e.limit @ after).reshape(D, 2, T)[:, :, :t], Lb, atol=1e-6)
        moved = max(moved, float(np.abs(ratio - 1).max()))
    assert moved > 0.01  # the Budgets do move limits, up to the edge of their band


def test_a_ten_year_capital_plan_helps_by_the_stated_formula(uk):
    us = uncertainty_settings(uk)
    # s = L + w·max(I, K − L), w = 0.5
    assert settled_years_ahead(Regime(5, capital_plan_years=10), us, capital=True) == 7.5
    assert settled_years_ahead(Regime(5), us, capital=True) == 5.0
    assert settled_years_ahead(Regime(1, capital_plan_years=10), us, capital=True) == 5.5
    assert settled_years_ahead(Regime(5, capital_plan_years=10), us, capital=False) == 5.0
    f5, f5c = programme_factors(Regime(5), us, uk), programme_factors(Regime(5, capital_plan_years=10), us, uk)
    f1, f1c = programme_factors(Regime(1), us, uk), programme_factors(Regime(1, capital_plan_years=10), us, uk)
    # major infrastructure (lead time 10, max loss 0.25): f = 1 − 0.25·(10 − s)/9
    assert f5["transport_capital"] == pytest.approx(1 - 0.25 * 5 / 9)
    assert f5c["transport_capital"] == pytest.approx(1 - 0.25 * 2.5 / 9)
    assert f1["transport_capital"] == pytest.approx(0.75) and f1c["transport_capital"] == pytest.approx(
        1 - 0.25 * 4.5 / 9)
    # other capital (lead time 5, max loss 0.2): full at 5 settled years, so cap10 helps it on 1y only
    assert f5["schools_capital"] == f5c["schools_capital"] == 1.0
    assert f1["schools_capital"] == pytest.approx(0.8) and f1c["schools_capital"] == 1.0
    assert f5["nhs_acute"] == f5c["nhs_acute"]  # resource programmes: no capital plan effect
    # on the shock-free path the plan is worth more with it, on both lengths (measured, £m-eq.)
    # (Budgets off for speed: on the shock-free path they change nothing)
    res = compare_cycles(uk, cycles=[1, Regime(1, capital_plan_years=10, budgets=False), 5,
                                     Regime(5, capital_plan_years=10, budgets=False)], paths=1, seed=7,
                         shocks=False, budgets=False)
    v = res.paths.set_index("regime")["net_value_gbp_m"]
    assert v["5y+cap10-nobudget"] - v["5y-nobudget"] == pytest.approx(443.3, abs=1.0)
    assert v["1y+cap10-nobudget"] - v["1y-nobudget"] == pytest.approx(8420.0, abs=1.0)
