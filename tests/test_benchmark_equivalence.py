"""The engine's LP and the independent pure-highspy reference LP have the same optimum;
warm re-solves equal cold solves of the changed instance; generated instances are
feasible, reproducible and round-trip through the instance format."""

from __future__ import annotations

import numpy as np
import pytest

from allocator import load_instance, solve
from allocator.io import instance_sha256
from allocator.session import ModelSession
from benchmarks import scenarios
from benchmarks.generator import generate_size, write_instance
from benchmarks.reference_highspy import ReferenceLP

REL = 1e-6


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(1.0, abs(a), abs(b))


@pytest.fixture(scope="module")
def small():
    return generate_size("small", seed=0)


@pytest.fixture(scope="module")
def uk():
    from allocator.api import default_instance_path

    return load_instance(default_instance_path())


def _same_optimum(inst):
    res = solve(inst, explain=False)
    ref = ReferenceLP(inst)
    status, obj, _ = ref.solve()
    assert res.status == "optimal" and status == "Optimal"
    assert _close(res.objective, obj), (res.objective, obj)
    assert res.provenance["model_size"]["columns"] == ref.h.getNumCol()
    assert res.provenance["model_size"]["rows"] == ref.h.getNumRow()
    return res.objective


def test_tiny_same_optimum_as_hand_solution(tiny_dir):
    # the tiny instance's README derives 184.5 by hand
    assert _same_optimum(load_instance(tiny_dir)) == pytest.approx(184.5, rel=1e-9)


def test_uk_default_same_optimum(uk):
    assert _same_optimum(uk) > 0


@pytest.mark.parametrize("size,seed", [("small", 0), ("small", 7), ("medium", 3), ("large", 0)])
def test_generated_same_optimum(size, seed):
    assert _same_optimum(generate_size(size, seed)) > 0


@pytest.mark.parametrize("change", ["flat_real", "fiscal_mode", "settlements_off", "rules_subset"])
def test_variants_same_optimum(uk, change):
    inst = uk.model_copy(deep=True)
    s = inst.settings
    if change == "flat_real":
        s.settlement_profile = "flat_real"
        s.constraints.settled_totals = False  # SR2025's settled years are not flat in real terms
    elif change == "fiscal_mode":
        s.mode = "fiscal"
        s.fiscal_rules.headroom_gbp_m = 5000.0
    elif change == "settlements_off":
        s.constraints.settlements = False
        s.mission_fund.min_gbp_m = 500.0
    else:
        s.constraints.ramp_limits = False
        s.constraints.pie_share = False
        s.fiscal_rules.welfare_cap_years = ["2029-30"]
        s.fiscal_rules.stability_rule.target_years = ["2029-30", "2031-32"]
    _same_optimum(inst)


def test_generated_is_reproducible_and_round_trips(small, tmp_path):
    again = generate_size("small", seed=0)
    assert instance_sha256(again) == instance_sha256(small)
    assert instance_sha256(generate_size("small", seed=1)) != instance_sha256(small)
    folder = write_instance(small, tmp_path / "small")
    loaded = load_instance(folder)
    assert instance_sha256(loaded) == instance_sha256(small)
    assert len(loaded.programmes) == 200 and len(loaded.departments) == 20


def test_generated_baseline_plan_meets_department_totals(small):
    # department baselines are exactly the sums of their programmes' baseline spend
    tot = {d.id: 0.0 for d in small.departments}
    for p in small.programmes:
        for o in p.owners:
            tot[o] += p.baseline_gbp_m / len(p.owners)
    for d in small.departments:
        assert d.rdel_baseline_gbp_m + d.cdel_baseline_gbp_m == pytest.approx(tot[d.id], abs=0.01)


def test_warm_resolves_equal_cold_solves(small):
    # the first-stage LP, warm against cold: the second stage (formulation §4b) picks among
    # the optima to its own tolerance, so the in-horizon/terminal split is compared without it
    scs = scenarios.draw(small, 4, seed=11)
    sess = ModelSession(small, unique_plan=False)
    ref = ReferenceLP(small)
    for sc in scs:
        sess.set_fiscal(**sc["fiscal"])
        sess.set_weights(sc["weights"])
        warm = sess.solve()
        ref.set_fiscal(**sc["fiscal"])
        ref.set_weights(sc["weights"])
        st, ref_obj, _ = ref.solve()
        cold = solve(scenarios.apply(small, sc), explain=False, unique_plan=False)
        assert warm.status == cold.status
        if cold.status == "optimal":
            assert _close(warm.objective, cold.objective)
            assert _close(ref_obj, cold.objective)
            assert st == "Optimal"
            assert warm.objective_in_horizon == pytest.approx(cold.objective_in_horizon, rel=1e-6,
                                                              abs=1e-6)


def test_scenarios_change_the_optimum(small):
    # a sweep whose scenarios did not move the optimum would measure nothing
    sess = ModelSession(small)
    objs = []
    for sc in scenarios.draw(small, 3, seed=2):
        sess.set_fiscal(**sc["fiscal"])
        sess.set_weights(sc["weights"])
        objs.append(sess.solve().objective)
    assert len({round(o, 3) for o in objs}) == 3
    assert np.all(np.isfinite(objs))


def test_sweep_helper_matches_cold_solves_in_any_order_and_with_workers(uk):
    from allocator.scenario_sweep import run_sweep

    scs = scenarios.draw(uk, 4, seed=5)
    # a scenario that changes nothing must give the instance's own optimum even after others
    scs.insert(2, {})
    serial = run_sweep(uk, scs)
    parallel = run_sweep(uk, scs, n_jobs=2)
    backwards = run_sweep(uk, scs[::-1])[::-1]
    for i, sc in enumerate(scs):
        cold = solve(scenarios.apply(uk, sc) if sc else uk, explain=False)
        assert serial[i].index == parallel[i].index == i
        for pts in (serial, parallel, backwards):
            assert pts[i].status == cold.status
            if cold.status == "optimal":
                assert _close(pts[i].objective, cold.objective)


def test_partial_weight_mappings_do_not_leak_between_scenarios(uk):
    from allocator.scenario_sweep import run_sweep

    first = {"weights": {"health": 2 * uk.settings.missions[0].weight}}
    second = {"weights": {"growth": 0.5 * uk.settings.missions[-1].weight}}
    pts = run_sweep(uk, [first, second])
    only_second = uk.model_copy(deep=True)
    only_second.settings.missions[-1].weight *= 0.5
    assert uk.settings.missions[-1].id == "growth" and uk.settings.missions[0].id == "health"
    assert _close(pts[1].objective, solve(only_second, explain=False).objective)


def test_cached_discounting_follows_rate_changes(uk):
    # weights, then a new discount rate, then weights again: the session's reused lagged
    # discount factors must follow the rate change (cold solve of the same instance)
    sess = ModelSession(uk)
    w = np.array([m.weight for m in uk.settings.missions]) * np.resize([1.5, 1.0, 0.8, 1.2, 0.9], len(uk.settings.missions))
    sess.set_weights(w)
    sess.solve()
    sess.set_discount_rate(0.05)
    sess.set_weights(w * 1.1)
    warm = sess.solve()
    changed = uk.model_copy(deep=True)
    for m, wm in zip(changed.settings.missions, w * 1.1):
        m.weight = float(wm)
        m.discount_rate = 0.05
    cold = solve(changed, explain=False)
    assert cold.status == "optimal" and _close(warm.objective, cold.objective)
    assert not _close(warm.objective, solve(uk, explain=False).objective)


def _second_stage_cost(ref: ReferenceLP) -> float:
    """The reference's second-stage objective (formulation §4b) at its plan ref.x2."""
    cost2, (lr, lc, lv), tau, wd = ref._stage2_data()
    limit = np.bincount(lr, weights=lv * ref.x2[lc], minlength=len(tau))
    return float(cost2 @ ref.x2 + wd @ np.abs(limit - tau))


@pytest.mark.parametrize("which,in_place", [("tiny", False), ("uk", False), ("small", False),
                                            ("uk", True)])
def test_reference_second_stage_matches_the_engines(which, in_place, tiny_dir, uk, small):
    """The reference solves the unique-plan second stage as the engine does (so benchmark
    ratios compare the same solves): same second-stage optimum, first-stage value kept, and
    the model it re-solves afterwards is the first stage again (same optimum, warm)."""
    inst = {"tiny": load_instance(tiny_dir), "uk": uk, "small": small}[which]
    res = solve(inst, explain=False)
    ref = ReferenceLP(inst)
    status, v_star, _ = ref.solve()
    n_rows = ref.h.getNumRow()
    st2, _ = ref.second_stage(in_place=in_place)
    assert st2 == "Optimal" and res.provenance["unique_plan"]["used"]
    # HiGHS's optimality tolerances (1e-7 on reduced costs of £m-sized columns) allow a few
    # parts in a million between two solvers' "optimal" second stages
    assert _second_stage_cost(ref) == pytest.approx(res.provenance["unique_plan"]["objective"],
                                                    rel=2e-5)
    assert ref.cost_full() @ ref.x2 + ref.offset >= v_star - 1e-9 * max(1.0, abs(v_star))
    assert ref.h.getNumRow() == n_rows and ref.h.getNumCol() == ref.n
    status, again, _ = ref.solve()
    assert status == "Optimal" and _close(again, v_star)
    assert ref.h.getInfo().simplex_iteration_count == 0  # warm: the first stage's basis is back
