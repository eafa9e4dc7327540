"""Solver limits: time limits, MIP gap and bounds, all-or-nothing business cases, failures."""

import dataclasses
import json

import numpy as np
import pytest

from allocator import load_instance, solve
from allocator.checker import check_plan
from allocator.schema import Instance
from allocator.solvers.base import SolverStatus
from allocator.solvers.highs import HighsBackend


def _with(inst, **prog_changes):
    d = inst.model_dump()
    for p in d["programmes"]:
        p.update(prog_changes.get(p["id"], {}))
    return Instance.model_validate(d)


def test_all_or_nothing_business_case_equals_best_of_both_choices(tiny_dir):
    """MIP optimum = max(LP with a1 not taken up, LP with a1 funded in full at its cap)."""
    inst = load_instance(tiny_dir)
    mip = solve(_with(inst, a1={"cap_gbp_m": 15.0, "all_or_nothing": True}))
    off = solve(_with(inst, a1={"cap_gbp_m": 0.0}))
    full = solve(_with(inst, a1={"cap_gbp_m": 15.0, "floor_gbp_m": 15.0}))
    assert mip.status == "optimal", mip.message
    best = max(r.objective for r in (off, full) if r.status == "optimal")
    assert mip.objective == pytest.approx(best, abs=1e-6)
    a1 = mip.allocations[mip.allocations["programme"] == "a1"]["real_spend_gbp_m"].round(6)
    assert set(a1) <= {0.0, 15.0} and a1.nunique() == 1
    assert mip.provenance["feasibility_check"]["checked"]["business_case"] == 1
    assert mip.provenance["solver"]["best_bound"] == pytest.approx(mip.objective, rel=1e-4)
    assert "integer business cases" in mip.message


def test_checker_catches_a_partly_funded_business_case(tiny_dir):
    inst = _with(load_instance(tiny_dir), a1={"cap_gbp_m": 15.0, "all_or_nothing": True})
    res = solve(inst)
    t = {k: v.copy() for k, v in res.tables.items()}
    a = t["allocations"]
    i = a.index[a["programme"] == "a1"][0]
    a.loc[i, ["spend_gbp_m", "real_spend_gbp_m"]] = 7.0  # half a business case in year 1
    rep = check_plan(inst, t)
    assert any(v.family == "business_case" and v.subject == "a1" for v in rep.violations)


def test_all_or_nothing_needs_a_cap(tiny_copy):
    from allocator.errors import InstanceError

    text = (tiny_copy / "programmes.csv").read_text().splitlines()
    text[0] += ",all_or_nothing"
    text[1:] = [ln + (",true" if ln.startswith("a1,") else ",") for ln in text[1:]]
    (tiny_copy / "programmes.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(InstanceError, match="programmes.csv: row 2.*all_or_nothing needs cap_gbp_m"):
        load_instance(tiny_copy)


def _fake(monkeypatch, **changes):
    real = HighsBackend.solve

    def fake(self):
        out = real(self)
        return dataclasses.replace(out, **{k: (v(out) if callable(v) else v) for k, v in changes.items()})

    monkeypatch.setattr(HighsBackend, "solve", fake)


def test_time_limit_with_a_plan_reports_value_bound_gap_not_optimal(tiny_dir, monkeypatch, tmp_path):
    ref = solve(tiny_dir)
    # a limit reached with the optimal point as incumbent and a bound 10 above it (c·x terms)
    _fake(monkeypatch, status=SolverStatus.TIME_LIMIT, raw_status="Time limit reached",
          row_dual=None, col_dual=None, best_bound=lambda o: o.objective + 10.0)
    res = solve(tiny_dir)
    assert res.status == "time_limit" and not res.ok
    sol = res.provenance["solver"]
    assert sol["best_bound"] == pytest.approx(ref.objective + 10.0)
    assert sol["gap"] == pytest.approx(10.0 / (ref.objective + 10.0))
    assert "NOT proven optimal" in res.message and "184.500" in res.message
    assert "best bound 194.500" in res.message and "gap 5.14%" in res.message
    assert res.provenance["feasibility_check"]["ok"] and len(res.allocations) == 9
    # the CLI: a plan that is not proven optimal is written, and the exit code is 3 (not 0)
    from tests.cli_inprocess import run_main

    code, out, err = run_main(["solve", tiny_dir, "--out", tmp_path / "r", "--json"])
    assert code == 3, err
    s = json.loads(out)
    assert s["status"] == "time_limit" and s["objective"] == pytest.approx(184.5)
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["status"] == "time_limit"


def test_time_limit_with_an_infeasible_point_reports_no_plan(tiny_dir, monkeypatch, tmp_path):
    _fake(monkeypatch, status=SolverStatus.TIME_LIMIT, raw_status="Time limit reached",
          row_dual=None, col_dual=None, x=lambda o: o.x * 3.0)
    res = solve(tiny_dir)
    assert res.status == "time_limit" and res.objective is None and res.tables == {}
    assert "before a feasible plan was found" in res.message
    assert "no bound" in res.message
    assert res.provenance["rejected_point_check"]["ok"] is False
    from allocator.cli import main

    monkeypatch.setattr("sys.argv", ["allocator", "solve", str(tiny_dir), "-q", "--out", str(tmp_path / "r")])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 2


@pytest.mark.parametrize("status, words", [
    (SolverStatus.ERROR, "failed numerically; no plan is reported"),
    (SolverStatus.UNBOUNDED, "mission value can grow without limit"),
])
def test_failed_or_unbounded_solve_says_so(tiny_dir, monkeypatch, status, words):
    _fake(monkeypatch, status=status, raw_status=status.value, x=None, row_activity=None,
          row_dual=None, col_dual=None, objective=None)
    res = solve(tiny_dir)
    assert res.status == status.value and res.objective is None and words in res.message


def test_real_time_limit_on_a_large_generated_lp(uk_dir):
    """An 8x copy of the UK instance (784 programmes, ~40k columns) cannot be solved in
    0.05 s: the run stops at the limit and says so without inventing a plan."""
    d = load_instance(uk_dir).model_dump()
    k = 8
    progs, segs, press, its = [], [], [], []
    for i in range(k):
        for p in d["programmes"]:
            q = dict(p, id=f"{p['id']}_{i}")
            for f in ("baseline_gbp_m", "floor_gbp_m", "cap_gbp_m", "ramp_limit_gbp_m",
                      "demand_floor_gbp_m"):
                q[f] = None if p[f] is None else p[f] / k
            progs.append(q)
        segs += [dict(s, programme=f"{s['programme']}_{i}", width_gbp_m=s["width_gbp_m"] / k)
                 for s in d["segments"]]
        press += [dict(r, programme=f"{r['programme']}_{i}") for r in d["pressures"]]
        its += [dict(r, programme=f"{r['programme']}_{i}", target=f"{r['target']}_{i}")
                for r in d["invest_to_save"]]
    d["programmes"], d["segments"], d["pressures"], d["invest_to_save"] = progs, segs, press, its
    d["settings"]["comprehensive_metrics"] = []  # they name the original programmes
    d["resource_use"] = [dict(u, programme=f"{u['programme']}_{i}")  # each copy uses 1/k as much
                         for i in range(k) for u in d["resource_use"]]
    res = solve(Instance.model_validate(d), time_limit_s=0.05)
    assert res.status == "time_limit"
    assert res.objective is None and "before a feasible plan was found" in res.message


@pytest.mark.parametrize("nodes, has_plan", [(0, False), (1, True)])
def test_node_limit_on_a_mip(uk_dir, nodes, has_plan):
    """Ten all-or-nothing business cases in the UK instance, stopped by a branch-and-bound
    node limit (deterministic, unlike a wall-clock limit). A limit of 0 nodes stops before
    any plan: none is reported; one node gives an incumbent, checked, with bound >= value
    and a positive gap; both say NOT proven optimal plainly. On the current default the
    incumbent is negative (−9,244.4: ten programmes at 0 or their cap lose value against the
    pressure-grown counterfactual) and the root bound positive (1,684.1), so the gap
    |bound − value| / max(|bound|, |value|, 1) is 1.182 (above 1 because the signs differ);
    two nodes already prove the optimum, so no node limit gives a gap inside (0, 1)."""
    d = load_instance(uk_dir).model_dump()
    d["settings"]["constraints"]["ramp_limits"] = False
    flagged = [p for p in d["programmes"] if p["cap_gbp_m"] and p["cap_gbp_m"] > p["baseline_gbp_m"]][:10]
    for p in flagged:
        p["all_or_nothing"] = True
    res = solve(Instance.model_validate(d), node_limit=nodes)
    sol = res.provenance["solver"]
    assert res.status == "iteration_limit", res.message
    if has_plan:
        assert res.objective is not None
        assert sol["best_bound"] is not None and np.isfinite(sol["best_bound"])
        assert sol["best_bound"] >= res.objective - 1e-6 and sol["gap"] > 0
        bound, value = sol["best_bound"], res.objective
        assert sol["gap"] == pytest.approx(abs(bound - value) / max(abs(bound), abs(value), 1.0))
        assert (value, bound, sol["gap"]) == pytest.approx((-9244.409, 1684.090, 1.1822), abs=1e-3)
        assert "NOT proven optimal" in res.message and res.provenance["feasibility_check"]["ok"]
    else:
        assert res.objective is None and not res.tables
        assert "before a feasible plan was found" in res.message


def test_model_session_keeps_business_cases_integer(tiny_dir):
    from allocator.session import ModelSession

    inst = _with(load_instance(tiny_dir), a1={"cap_gbp_m": 15.0, "all_or_nothing": True})
    s = ModelSession(inst)
    assert s.solve().objective == pytest.approx(solve(inst).objective, abs=1e-6)
    x = s.last.x
    q = (s.model.expr.q @ x).reshape(3, 3)[0]  # a1's real spend, the first programme
    assert set(np.round(q, 6)) <= {0.0, 15.0}


def test_highs_judges_the_mip_gap_on_the_reported_objective():
    """The model constant is HiGHS's objective offset, so the relative gap HiGHS stops at is
    |bound − value| / |value| in reported units (c·x + c0), while ``solve`` still returns c·x
    and the bound without c0 (as every caller expects)."""
    import scipy.sparse as sp

    class LP:  # max 3a + 2b + 4c − 100  s.t.  2a + b + 3c ≤ 4, a, b, c ∈ {0, 1}
        A = sp.csc_matrix(np.array([[2.0, 1.0, 3.0]]))
        n, m = 3, 1
        cost = np.array([3.0, 2.0, 4.0])
        col_lower, col_upper = np.zeros(3), np.ones(3)
        row_lower, row_upper = np.array([-np.inf]), np.array([4.0])
        constant = -100.0

    be = HighsBackend()
    be.load(LP, integrality=np.ones(3, dtype=bool))
    out = be.solve()
    assert out.objective == pytest.approx(6.0)          # b + c: c·x without the constant
    assert out.best_bound == pytest.approx(6.0, abs=1e-6)
    info = be.h.getInfo()
    assert info.objective_function_value / be.cost_scale == pytest.approx(-94.0)
    assert be.h.getLp().offset_ / be.cost_scale == pytest.approx(-100.0)
    rng_lp = HighsBackend()
    rng_lp.load(LP)
    rng_lp.solve()
    r = rng_lp.ranging()  # ranging objectives exclude the constant as well
    assert np.all(np.isnan(r["objective_at_high"]) | (np.abs(r["objective_at_high"]) < 20))


def test_a_time_limit_applies_to_each_solve_of_a_session(tiny_dir):
    """HiGHS's time_limit is measured on its run clock, which keeps counting over every run()
    of one Highs (HiGHS 1.16); a session with a limit would hit it after enough re-solves.
    The back-end sets the limit before each run as the clock so far plus the budget."""
    from allocator.session import ModelSession

    s = ModelSession(load_instance(tiny_dir), time_limit_s=2.5, unique_plan=False)
    h = s.backend.h
    for _ in range(4):
        before = h.getRunTime()
        s.backend.clear_solution()  # cold: every run adds to the clock
        assert s.solve().status == "optimal"
        assert h.getOptionValue("time_limit")[1] == pytest.approx(before + 2.5)
    assert h.getRunTime() > 0
