"""Invariants of the allocation LP, checked on random small instances (hypothesis)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator import load_instance, solve
from tests.lp_strategies import scale_money, small_instances, with_fiscal

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(inst=small_instances(), extra=st.floats(0.0, 20.0))
def test_more_envelope_never_lowers_the_optimum(inst, extra):
    base = solve(inst, explain=False)
    more = solve(with_fiscal(inst, rdel_envelope_gbp_m=lambda v: v + extra), explain=False)
    if base.status == "optimal":
        assert more.status == "optimal"
        assert more.objective >= base.objective - 1e-7 * max(1.0, abs(base.objective))
    else:
        assert base.status == "infeasible"


@FAST
@given(inst=small_instances(n_missions=2, zero_weight_mission=True))
def test_zero_weight_mission_draws_no_spend_for_its_own_sake(inst):
    """Programmes that only serve the zero-weight mission get no more than the constraints force."""
    res = solve(inst, explain=False)
    if res.status != "optimal":
        return
    serves = {}
    for s in inst.segments:
        serves.setdefault(s.programme, set()).add(s.mission)
    only_zero = [p for p in inst.programmes if serves.get(p.id) == {"m1"}]
    a = res.allocations
    for p in only_zero:
        spend = a.loc[a.programme == p.id, "real_spend_gbp_m"].to_numpy()
        assert np.all(spend <= p.floor_gbp_m + 1e-6), (p.id, spend, p.floor_gbp_m)


@FAST
@given(inst=small_instances())
def test_scaling_money_by_1000_scales_spend_and_keeps_value(inst):
    base = solve(inst, explain=False)
    big = solve(scale_money(inst, 1000.0), explain=False)
    assert big.status == base.status
    if base.status == "optimal":
        assert big.objective == pytest.approx(base.objective, rel=1e-6, abs=1e-6)


def test_scaling_money_keeps_the_plan_on_tiny(tiny_dir):
    inst = load_instance(tiny_dir)
    base, big = solve(inst), solve(scale_money(inst, 1000.0))
    assert big.objective == pytest.approx(base.objective, rel=1e-9)
    assert np.allclose(big.allocations.spend_gbp_m, 1000.0 * base.allocations.spend_gbp_m)


@FAST
@given(inst=small_instances())
def test_every_solution_respects_bounds_and_envelope(inst):
    res = solve(inst, explain=False)
    if res.status != "optimal":
        return
    a = res.allocations
    q = a.groupby(["programme", "year"])["real_spend_gbp_m"].sum()
    for p in inst.programmes:
        assert (q.loc[p.id] >= p.floor_gbp_m - 1e-6).all()
    f = res.fiscal
    assert (f.rdel_gbp_m <= f.rdel_envelope_gbp_m + 1e-6).all()
    spend = a.groupby("year")["spend_gbp_m"].sum()
    assert (spend.to_numpy() <= f.rdel_gbp_m.to_numpy() + 1e-6).all()
