"""Parameter sweeps equal independent one-at-a-time cold solves; tornado; ranging."""

import numpy as np
import pytest

from allocator import load_instance, solve
from allocator.errors import AllocatorError
from allocator.runlog import RunLog
from allocator.sensitivity import sweep
from allocator.session import ModelSession
from allocator.sensitivity.sweep import ranging_table


def _cold(inst, edit):
    data = inst.model_dump()
    edit(data)
    return solve(type(inst).model_validate(data)).objective


@pytest.fixture(scope="module")
def uk():
    from pathlib import Path

    return load_instance(Path(__file__).resolve().parents[1] / "instances" / "uk_missions")


GRID = {"discount_rate": [0.05], "weight:health": [1.5], "effect:DfE": [0.5],
        "lag_shift_years": [1], "headroom_gbp_m": [30000.0], "envelope_multiplier": [1.01]}


def _edits(uk):
    dfe = {p.id for p in uk.programmes if p.owners[0] == "DfE"}

    def rate(d):
        d["settings"]["discounting"].update(rate=0.05, rate_after_30=0.05, rate_after_75=0.05)

    def weight(d):
        next(m for m in d["settings"]["missions"] if m["id"] == "health")["weight"] *= 1.5

    def effect(d):
        for s in d["segments"]:
            if s["programme"] in dfe:
                s["gain_per_gbp_m"] *= 0.5

    def lag(d):
        for r in d["lag_profiles"]:
            r["lag"] += 1

    def headroom(d):
        d["settings"]["fiscal_rules"]["headroom_gbp_m"] = 30000.0

    def envelope(d):
        for r in d["fiscal"]:
            for col in ("rdel_envelope_gbp_m", "cdel_envelope_gbp_m"):
                if r[col] is not None:  # no envelope after SR2025's years: the rules govern
                    r[col] *= 1.01

    return {"discount_rate": rate, "weight:health": weight, "effect:DfE": effect,
            "lag_shift_years": lag, "headroom_gbp_m": headroom, "envelope_multiplier": envelope}


def test_sweep_equals_independent_one_at_a_time_solves(uk):
    res = sweep(uk, GRID, ranging=False)
    r = res.results.set_index("parameter")
    assert r.loc["base", "objective"] == pytest.approx(solve(uk).objective, rel=1e-9)
    for name, edit in _edits(uk).items():
        cold = _cold(uk, edit)
        warm = r.loc[name, "objective"]
        if cold is None:
            assert np.isnan(warm)
        else:
            assert warm == pytest.approx(cold, rel=1e-8), name
    assert r.loc["lag_shift_years", "rebuilt"] and not r.loc["discount_rate", "rebuilt"]
    # headroom of £30bn bites: less value than the base
    assert r.loc["headroom_gbp_m", "objective"] < r.loc["base", "objective"]


def test_parallel_sweep_equals_serial_and_resume(uk, tmp_path):
    grid = {"weight:safety": [0.5, 2.0], "envelope_multiplier": [1.01, 1.03]}
    serial = sweep(uk, grid, ranging=False)
    with RunLog(tmp_path, {"g": 1}) as log:
        par = sweep(uk, grid, n_jobs=2, runlog=log, ranging=False)
    np.testing.assert_allclose(par.results["objective"], serial.results["objective"], rtol=1e-9)
    with RunLog(tmp_path, {"g": 1}, resume=True) as log:
        assert len(log.records) == 4
        again = sweep(uk, grid, runlog=log, ranging=False)
    assert again.timings_s["resumed_units"] == 4
    np.testing.assert_allclose(again.results["objective"], serial.results["objective"], rtol=1e-9)


def test_tornado_orders_by_swing(tiny_dir):
    inst = load_instance(tiny_dir)
    res = sweep(inst, {"weight:wellbeing": [0.5, 1.5], "envelope_multiplier": [0.8, 1.2]},
                ranging=False)
    t = res.tornado.set_index("parameter")
    # weight × 0.5 / 1.5 scales the objective: 92.25 .. 276.75
    assert t.loc["weight:wellbeing", "objective_low"] == pytest.approx(92.25)
    assert t.loc["weight:wellbeing", "objective_high"] == pytest.approx(276.75)
    # envelope 20 / 30 a year: −5 loses a2's 3 (2.5) and 2 of a1 (3.0) = −13.5 a year;
    # +5 buys a2's last 2 (2.5) and 3 of b1 (2.0) = +11 a year
    assert t.loc["envelope_multiplier", "objective_low"] == pytest.approx(184.5 - 3 * 13.5)
    assert t.loc["envelope_multiplier", "objective_high"] == pytest.approx(184.5 + 3 * 11.0)
    assert list(res.tornado["parameter"]) == ["weight:wellbeing", "envelope_multiplier"]


def test_ranging_on_tiny_matches_hand_analysis(tiny_dir):
    """README: one more £m of envelope is worth 2.5 (goes to a2) until a2 is full (+2 -> 27)
    and down to a2 = 0 (−3 -> 22); b1's floor costs 0.5 per £m between 10 and 15."""
    r = ranging_table(ModelSession(load_instance(tiny_dir)))
    env = r[r["constraint"] == "del_envelope"]
    assert len(env) == 3
    np.testing.assert_allclose(env["shadow_price"], 2.5)
    np.testing.assert_allclose(env["bound_low"], 22.0)
    np.testing.assert_allclose(env["bound_high"], 27.0)
    np.testing.assert_allclose(env["objective_at_high"], 184.5 + 2 * 2.5)
    fl = r[r["constraint"] == "programme_floor"]
    np.testing.assert_allclose(fl["shadow_price"], 0.5)
    np.testing.assert_allclose(fl[["bound_low", "bound_high"]].to_numpy(), [[10, 15]] * 3)


def test_bad_grid_is_a_user_error(tiny_dir):
    inst = load_instance(tiny_dir)
    with pytest.raises(AllocatorError, match="unknown parameter 'speed'"):
        sweep(inst, {"speed": [1]})
    with pytest.raises(AllocatorError, match="unknown mission 'wealth'"):
        sweep(inst, {"weight:wealth": [1]})
    with pytest.raises(AllocatorError, match="must be a finite number"):
        sweep(inst, {"discount_rate": [-0.1]})


def test_tornado_shows_an_infeasible_end_as_infeasible(tiny_dir):
    """Envelope × 0.4 = £10m a year cannot pay b1's £12m floor: that end is infeasible, so the
    parameter is reported with its infeasible end (no swing of 0) and sorted first."""
    inst = load_instance(tiny_dir)
    res = sweep(inst, {"weight:wellbeing": [0.5, 1.5], "envelope_multiplier": [0.4, 1.2]},
                ranging=False)
    t = res.tornado.set_index("parameter")
    assert t.loc["envelope_multiplier", "infeasible_end"] == "low"
    assert "low end 0.4 infeasible" in t.loc["envelope_multiplier", "infeasible_at"]
    assert np.isnan(t.loc["envelope_multiplier", "swing"])
    assert t.loc["weight:wellbeing", "infeasible_end"] == ""
    assert list(res.tornado["parameter"]) == ["envelope_multiplier", "weight:wellbeing"]
