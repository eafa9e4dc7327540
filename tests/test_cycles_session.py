"""The two ModelSession additions used by the cycles simulation: warm re-solve == cold solve."""

import numpy as np
import pytest

from allocator import load_instance, solve
from allocator.session import ModelSession


def _changed(inst, fiscal=None, gain=None):
    data = inst.model_dump()
    for row in data["fiscal"]:
        for k, f in (fiscal or {}).items():
            row[k] = f(row)
    for row in data["segments"]:
        if gain:
            row["gain_per_gbp_m"] *= gain.get(row["programme"], 1.0)
    return type(inst).model_validate(data)


def test_piece_gain_factors_match_cold_solve_of_scaled_instance(tiny_dir):
    inst = load_instance(tiny_dir)
    s = ModelSession(inst)
    md = s.model.data
    f = np.where(np.array(md.programmes)[md.piece_prog] == "a1", 0.5, 1.0)
    s.set_gain_factors(f)
    warm = s.solve()
    cold = solve(_changed(inst, gain={"a1": 0.5}))
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.objective < 184.5  # a1 was worth 3 then 1 per £m; halved, the plan changes
    s.set_gain_factors(np.ones(len(f)))
    assert s.solve().objective == pytest.approx(184.5)
    with pytest.raises(ValueError):
        s.set_gain_factors(np.ones(2))


def test_breach_slacks_give_the_minimum_breach_plan(tiny_dir):
    inst = load_instance(tiny_dir)
    s = ModelSession(inst)
    s.add_breach_slacks(["del_envelope"], penalty_per_gbp_m=100.0)
    # slack rules when the plan fits: identical to the plain LP
    assert s.solve().objective == pytest.approx(184.5)
    # an envelope of 10 is below b1's floor of 12: infeasible without slacks
    s.set_fiscal(rdel_envelope_gbp_m=np.array([10.0, 10.0, 10.0]))
    r = s.solve()
    assert r.status == "optimal"
    assert r.slack.sum() == pytest.approx(6.0)  # breach 2 a year, no more
    assert s.slack_family == ["del_envelope"] * 6
    assert len(r.x) == s.model.lp.n
    # the value is that of the cold plan under the smallest envelope that fits (12)
    cold = solve(_changed(inst, fiscal={"rdel_envelope_gbp_m": lambda row: 12.0}))
    assert r.objective == pytest.approx(cold.objective, rel=1e-9)
    plain = solve(_changed(inst, fiscal={"rdel_envelope_gbp_m": lambda row: 10.0}))
    assert plain.status == "infeasible"
    with pytest.raises(RuntimeError):
        s.add_breach_slacks(["del_envelope"], 1.0)
