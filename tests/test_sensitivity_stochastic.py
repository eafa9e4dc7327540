"""Two-stage stochastic settlement: a hand-checked tiny case and EVPI/VSS invariants."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator import load_instance
from allocator.models.allocation import build_allocation_model
from allocator.models.stochastic import build_extensive_form, first_stage_columns
from allocator.sensitivity import stochastic_plan


@pytest.fixture(scope="module")
def ramped(request):
    """tiny with a1's baseline at 10 and a ramp limit of 4 a year, so a cut in 2027-28
    constrains what a1 may spend in 2026-27 (the first stage)."""
    from pathlib import Path

    inst = load_instance(Path(__file__).resolve().parents[1] / "instances" / "tiny")
    d = inst.model_dump()
    for p in d["programmes"]:
        if p["id"] == "a1":
            p["baseline_gbp_m"], p["ramp_limit_gbp_m"] = 10.0, 4.0
    return type(inst).model_validate(d)


def _tree(severity, p_shock):
    return {"events": [dict(id="shock", kind="demand_shock", department="A", year="2027-28",
                            severity=severity, duration=2)],
            "tree": {"trigger_year": "2027-28",
                     "scenarios": [{"id": "none", "probability": 1 - p_shock},
                                   {"id": "shock", "probability": p_shock, "events": ["shock"]}]}}


def test_hand_checked_two_stage(ramped):
    """Shock: A's envelope −8 (0.32 × 25) in 2027-28 and 2028-29, probability 1/4.

    In the shock branch b1 keeps its floor 12, so a1 + a2 <= 5 in 2027-28, while the ramp
    forces a1_2 >= a1_1 − 4: any first stage with a1_1 > 9 is infeasible there. Response
    values (before subtracting a1's baseline value 3 × 10 × 3 years = 90):
      RP: a1_1 = 9, a2_1 = 4, b1 = 12 (61); no shock: 61.5 + 61.5; shock: a1 = 5, b1 = 12
          (39) twice. RP = 0.75 × 184 + 0.25 × 139 = 172.75 -> 82.75
      WS: no shock alone 184.5, shock alone 139 -> 173.125 -> 83.125;  EVPI = 0.375
      EV: expected envelope 23 keeps a1_1 = 10, infeasible under the shock -> VSS = +inf.
    """
    r = stochastic_plan(ramped, _tree(0.32, 0.25))
    assert r.status == "optimal"
    assert r.recourse_value == pytest.approx(82.75)
    assert r.wait_and_see == pytest.approx(83.125)
    assert r.evpi == pytest.approx(0.375)
    assert r.expected_value_solution == -np.inf and r.vss == np.inf
    sc = r.scenarios.set_index("scenario")
    assert sc.loc["none", "value_stochastic_plan"] == pytest.approx(184.0 - 90)
    assert sc.loc["shock", "value_stochastic_plan"] == pytest.approx(139.0 - 90)


def test_mild_shock_needs_no_hedge(ramped):
    """Envelope −4 leaves a1_2 >= a1_1 − 4 = 6 affordable (b1 12 + 6 <= 21): the first
    stage is unaffected, so EVPI = VSS = 0 and the value is the probability-weighted sum:
    no shock 184.5 − 90; shock: A gets 9 in 2027-28 and 2028-29 (a1 9 = 27, b1 24) -> 61.5 + 2 × 51."""
    r = stochastic_plan(ramped, _tree(0.16, 0.5))
    assert r.evpi == pytest.approx(0.0, abs=1e-9) and r.vss == pytest.approx(0.0, abs=1e-9)
    assert r.recourse_value == pytest.approx(0.5 * 94.5 + 0.5 * (61.5 + 102 - 90))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sev=st.lists(st.floats(0.0, 0.5), min_size=1, max_size=3),
       w=st.lists(st.floats(0.05, 1.0), min_size=4, max_size=4),
       kinds=st.lists(st.sampled_from(["demand_shock", "inflation_shock", "fiscal_windfall"]),
                      min_size=3, max_size=3),
       trig=st.sampled_from(["2027-28", "2028-29"]))
def test_evpi_and_vss_nonnegative_on_every_tree(ramped, sev, w, kinds, trig):
    events, scen = [], [{"id": "none", "events": []}]
    for i, s in enumerate(sev):
        k = kinds[i]
        e = dict(id=f"e{i}", kind=k, year=trig, severity=s * (100 if k == "inflation_shock" else 1),
                 duration=2)
        if k == "demand_shock":
            e["department"] = "A"
        events.append(e)
        scen.append({"id": f"s{i}", "events": [f"e{i}"]})
    p = np.array(w[:len(scen)]) / sum(w[:len(scen)])
    for s, pi in zip(scen, p):
        s["probability"] = float(pi)
    scen[-1]["probability"] = float(1 - sum(s["probability"] for s in scen[:-1]))
    r = stochastic_plan(ramped, {"events": events, "tree": {"trigger_year": trig, "scenarios": scen}})
    if r.status != "optimal":
        return
    tol = 1e-7 * max(1.0, abs(r.recourse_value))
    assert r.evpi >= -tol
    assert r.vss >= -tol
    assert r.vss_vs_base >= -tol


def test_extensive_form_algebra(ramped):
    """Blocks on the diagonal, one equality row per first-stage column per extra branch,
    probability-weighted costs."""
    m1 = build_allocation_model(ramped)
    m2 = build_allocation_model(ramped)
    J = first_stage_columns(m1, 1)
    ef = build_extensive_form([m1, m2], [0.3, 0.7], J, ["a", "b"])
    n, m = m1.lp.n, m1.lp.m
    assert ef.A.shape == (2 * m + len(J), 2 * n)
    np.testing.assert_allclose(ef.cost[:n], 0.3 * m1.lp.cost)
    np.testing.assert_allclose(ef.cost[n:], 0.7 * m2.lp.cost)
    na = ef.A[2 * m:].toarray()
    np.testing.assert_array_equal(na[:, J], -np.eye(len(J)))
    np.testing.assert_array_equal(na[:, n + J], np.eye(len(J)))
    assert ef.A[:m, n:].nnz == 0 and ef.A[m:2 * m, :n].nnz == 0
    assert set(ef.labels["family"].iloc[2 * m:]) == {"non_anticipativity"}
    # every first-stage column is a decision dated before the trigger year
    yrs = m1.lp.var_blocks["x"].index["year"]
    xb = m1.lp.var_blocks["x"]
    jx = J[(J >= xb.start) & (J < xb.start + xb.size)] - xb.start
    assert set(yrs.iloc[jx]) == {"2026-27"}


def test_shipped_uk_tree(uk_dir):
    inst = load_instance(uk_dir)
    r = stochastic_plan(inst, uk_dir / "events.yaml")
    assert r.status == "optimal"
    assert r.evpi >= 0 and r.vss >= 0
    # expected value is between the worst and best branch values
    v = r.scenarios["value_stochastic_plan"]
    assert v.min() <= r.recourse_value <= v.max()
    d = r.settlement_difference
    assert set(d["stage"]) == {"first_stage", "recourse_expected"}
