"""The library entry points: build, solve, explain."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from allocator import tables
from allocator.explain import binding_summary, explain_infeasibility
from allocator.io import instance_sha256, load_instance
from allocator.models.allocation import AllocationModel, build_allocation_model
from allocator.provenance import command_line, package_versions
from allocator.results import Result
from allocator.schema import Instance
from allocator.solvers import get_backend
from allocator.solvers.base import SolveOutput, SolverStatus

STATUS_MESSAGES = {
    SolverStatus.OPTIMAL: "optimal: the plan below is the best possible under every active rule",
    SolverStatus.INFEASIBLE: "infeasible: no plan satisfies every active rule (see the explanation)",
    SolverStatus.UNBOUNDED: "unbounded: mission value can grow without limit; a cap or envelope "
                            "is missing",
    SolverStatus.TIME_LIMIT: "stopped at the time limit: the plan is the best found, NOT proven optimal",
    "check_failed": "the solver said optimal but the plan fails the independent check; not optimal",
    SolverStatus.ITERATION_LIMIT: "stopped at the iteration or node limit: the plan is NOT proven "
                                  "optimal",
    SolverStatus.ERROR: "the solver failed numerically; no plan is reported",
}


@dataclass
class Solved:
    """A built model with its solver back-end (for re-solves) and the last solve output."""

    model: AllocationModel
    backend: object
    output: SolveOutput


def build(instance):
    """Build the allocation LP of ``instance`` (an :class:`Instance` or a path), no solve: a
    :class:`allocator.modelling.Model` with named expressions and user constraints."""
    from allocator.modelling import build as _build

    return _build(instance)


def result_from(model: AllocationModel, out: SolveOutput, *, explain: bool = True,
                timings: dict | None = None, instance_hash: str | None = None) -> Result:
    """Turn a solver output into a :class:`Result` with tables, binding constraints, provenance."""
    inst = model.instance
    s = inst.settings
    lp = model.lp
    res = Result(status=out.status.value, instance_name=s.name, weights_kind=s.weights.kind,
                 objective_kind=s.objective.kind, message=STATUS_MESSAGES.get(out.status, out.raw_status))
    res.timings_s = dict(timings or {})
    res.timings_s["solve"] = round(out.solve_s, 6)
    if "second_stage" in out.extra:
        res.timings_s["second_stage"] = out.extra["second_stage"]["seconds"]
    res.provenance = {
        "instance_sha256": instance_hash or instance_sha256(inst),
        "solver": {"name": out.solver, "version": out.solver_version, "status": out.raw_status,
                   "iterations": out.iterations, "best_bound": out.best_bound, "gap": out.gap},
        "versions": package_versions(),
        "command": command_line(),
        "model_size": {"columns": lp.n, "rows": lp.m, "nonzeros": int(lp.A.nnz)},
    }
    if "second_stage" in out.extra:
        res.provenance["unique_plan"] = out.extra["second_stage"]
    if out.x is not None:
        x = out.x
        res.objective_in_horizon = float(lp.cost_in_horizon @ x + lp.constant_in_horizon)
        res.objective_terminal = float(lp.cost_terminal @ x + lp.constant_terminal)
        res.objective = res.objective_in_horizon + res.objective_terminal
        act = lp.A @ x
        res.tables = {
            "allocations": tables.allocations(model, x),
            "departments": tables.departments(model, x),
            "missions": tables.missions(model, x),
            "metrics": tables.metrics(model, x),
            "fiscal": tables.fiscal(model, x),
            "shadow_prices": tables.shadow_prices(model, out.row_dual, act),
        }
        if out.row_dual is not None:
            res.binding = binding_summary(res.tables["shadow_prices"])
        from allocator.value import net_value

        nv = net_value(model, x, out.row_dual)
        res.tables["value_programmes"] = nv.programmes
        res.tables["value_departments"] = nv.departments
        res.tables["marginal_bcr"] = nv.marginal
        res.net_value = nv.summary()
    elif out.status == SolverStatus.INFEASIBLE and explain:
        t0 = time.perf_counter()
        res.explanation = explain_infeasibility(lp)
        res.timings_s["explain"] = round(time.perf_counter() - t0, 6)
        if res.explanation is not None:
            res.message = res.message + "\n" + res.explanation.text()
    return res


def solve(instance: Instance | str, *, solver: str | None = None, time_limit_s: float | None = None,
          explain: bool = True, keep_model: bool = False, mip_gap: float | None = None,
          node_limit: int | None = None, unique_plan: bool | None = None) -> Result:
    """Build and solve the allocation LP; return a :class:`Result`.

    ``instance`` may be an :class:`Instance` or a path. ``solver`` overrides the instance's
    ``solver.name`` ('highs' by default; any Pyomo solver name otherwise). ``node_limit``
    caps HiGHS's branch-and-bound nodes on a MIP (all-or-nothing business cases): unlike a
    time limit it stops at the same point on any machine; reaching it is reported as an
    iteration limit (status ``iteration_limit``, exit code 3). ``unique_plan`` (default: the
    instance's ``unique_plan.enabled``) runs the second stage that picks one plan from the
    optimal face (:func:`unique`).

    The LP (docs/formulation.md) maximises Σ_m Σ_t w_m δ_{m,t} gain_{m,t}, the discounted,
    weighted mission gains within the horizon and after it (the 10-year test), subject to
    every constraint family switched on in ``instance.yaml``. An infeasible instance is a
    normal result: ``status == "infeasible"`` with ``explanation`` (the smallest relaxation).

    Example (the hand-solved tiny instance, instances/tiny/README.md):

    >>> from allocator import load_instance, solve, tiny_instance_path
    >>> result = solve(load_instance(tiny_instance_path()))
    >>> result.status, result.objective, result.objective_in_horizon, result.objective_terminal
    ('optimal', 184.5, 177.0, 7.5)
    >>> result.allocations.groupby("department")["spend_gbp_m"].sum().to_dict()
    {'A': 39.0, 'B': 36.0}
    >>> top = result.binding.iloc[0]      # the most valuable binding constraint
    >>> top["constraint"], top["year"], float(top["shadow_price"])
    ('settlement', '2026-27', 2.5)
    """
    timings = {}
    t0 = time.perf_counter()
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
        timings["load"] = round(time.perf_counter() - t0, 6)
    t0 = time.perf_counter()
    model = build(instance)  # the engine always solves in £m (the model converts at its edges)
    timings["build"] = round(time.perf_counter() - t0, 6)
    return solve_model(model, solver=solver, time_limit_s=time_limit_s, explain=explain,
                       keep_model=keep_model, mip_gap=mip_gap, node_limit=node_limit,
                       timings=timings, unique_plan=unique_plan)


def solve_model(model, *, solver: str | None = None, time_limit_s: float | None = None,
                explain: bool = True, keep_model: bool = False, mip_gap: float | None = None,
                node_limit: int | None = None, timings: dict | None = None,
                unique_plan: bool | None = None) -> Result:
    """Solve a built :class:`allocator.modelling.Model` (user constraints included): the one
    path behind :func:`solve` and ``Model.solve``. Checks the plan independently, converts
    the result to the instance's money unit, and records the provenance hash of the instance
    and its user constraints."""
    from allocator.numerics import result_to_unit

    timings = dict(timings or {})
    opts = model.instance.settings.solver
    name = solver or opts.name
    backend = get_backend(name, time_limit_s=time_limit_s or opts.time_limit_s,
                          mip_gap=mip_gap if mip_gap is not None else opts.mip_gap,
                          threads=opts.threads,
                          **({"node_limit": node_limit} if node_limit is not None else {}))
    t0 = time.perf_counter()
    ints = model.integrality()  # None unless all-or-nothing business cases make it a MIP
    backend.load(model.lp, integrality=ints) if ints is not None else backend.load(model.lp)
    timings["load_solver"] = round(time.perf_counter() - t0, 6)
    # a one-shot solve keeps one copy of the matrix, HiGHS's (read back once, when first
    # used), and frees the first stage's solver before the second stage loads
    one_shot = not keep_model and getattr(backend, "exact_copy", False)
    if one_shot:
        model.lp.release_matrix(backend.matrix)
    out = backend.solve()
    out = unique(model.allocation, backend, out, ints, unique_plan,
                 new_backend=lambda: get_backend(name, threads=opts.threads),
                 release_first=one_shot)
    res = result_from(model.allocation, out, explain=explain, timings=timings,
                      instance_hash=model.instance_hash)
    if model.user_specs:
        res.provenance["user_constraints"] = model.user_specs
    st = model.allocation.instance.settings
    res.provenance["mode"] = st.mode  # budget mode: no UK fiscal framework to report
    res.provenance["currency"] = st.currency or "£"
    act = [p.id for p in model.allocation.instance.programmes if p.activity_unit is not None]
    if act:
        res.provenance["activity_programmes"] = act
    check_solution(model.allocation, res, extra_families=model.user_families)
    result_to_unit(res, model.unit)
    if one_shot:  # the model holds its matrix again (the back-end's read-back) and no back-end
        model.lp.hold_matrix()
    if keep_model:
        res.solved = Solved(model, backend, out)  # type: ignore[attr-defined]
    return res


def unique(model: AllocationModel, backend, out: SolveOutput, integer_cols=None,
           enabled: bool | None = None, new_backend=None, cache: dict | None = None,
           release_first: bool = False) -> SolveOutput:
    """The second stage (docs/formulation.md §4b) after an optimal first stage, unless
    switched off (``enabled`` False, or ``unique_plan.enabled: false`` in the instance).
    ``cache``: see :func:`allocator.unique_plan.polish` (a session keeps one)."""
    from allocator.unique_plan import polish

    opts = model.instance.settings.unique_plan
    if not (opts.enabled if enabled is None else enabled):
        return out
    ints = None if integer_cols is None else np.flatnonzero(integer_cols)
    return polish(model, backend, out, tolerance=opts.value_tolerance,
                  mission_fund_cost=opts.mission_fund_cost, integer_cols=ints,
                  new_backend=new_backend, cache=cache, release_first=release_first)


def check_solution(model: AllocationModel, res: Result, *, instance: Instance | None = None,
                   extra_families=(), accept=()) -> None:
    """Independent feasibility check of any returned plan, solver-limit reporting, and a
    numerical-range report.

    Recomputes every rule from the result tables (:mod:`allocator.checker`); an "optimal"
    plan that fails becomes status ``check_failed`` (never "optimal"). A plan stopped at a
    time or iteration limit is checked too; the message gives its mission value, the best
    bound and the gap, says it is NOT proven optimal, and whether the plan is usable; a
    limit reached before any plan drops the (meaningless) solver point. The MIP bound is
    reported in objective units: bound = HiGHS dual bound + the model constant, and
    gap = |bound − value| / max(|bound|, |value|, 1). Coefficient ranges HiGHS handles
    badly are named by constraint family (:mod:`allocator.numerics`)."""
    import math

    from allocator.checker import check_result
    from allocator.numerics import numerical_warnings

    t0 = time.perf_counter()
    warnings = numerical_warnings(model)
    res.provenance["numerical_warnings"] = warnings
    sol = res.provenance.get("solver", {})
    bound = sol.get("best_bound")
    if bound is not None and math.isfinite(bound):
        bound = float(bound) + model.lp.constant
        sol["best_bound"] = bound
        sol["gap"] = (abs(bound - res.objective) / max(abs(bound), abs(res.objective), 1.0)
                      if res.objective is not None else None)
    else:
        sol["best_bound"], sol["gap"] = None, None
    limited = res.status in ("time_limit", "iteration_limit")
    report = (check_result(instance or model.instance, res, extra_families=extra_families)
              if res.tables else None)
    if report is not None and accept:  # rows a session made elastic may be broken by design
        report.violations = [v for v in report.violations if v.family not in set(accept)]
    if report is not None:
        res.provenance["feasibility_check"] = report.to_dict()
    if limited:
        what = "time limit" if res.status == "time_limit" else "iteration or node limit"
        btxt = (f"best bound {sol['best_bound']:,.3f}" if sol["best_bound"] is not None
                else "no bound on the best possible value is known")
        if report is None or not report.ok:
            if report is not None:  # an infeasible solver point is not a plan
                res.provenance["rejected_point_check"] = res.provenance.pop("feasibility_check")
            res.tables, res.binding = {}, None
            res.objective = res.objective_in_horizon = res.objective_terminal = None
            sol["gap"] = None
            res.message = (f"stopped at the {what} before a feasible plan was found: no plan is "
                           f"reported; {btxt}. Allow more time (--time-limit) or simplify the "
                           "instance.")
        else:
            gap = f"; gap {100 * sol['gap']:.3g}%" if sol["gap"] is not None else ""
            res.message = (f"stopped at the {what}: the plan below is the best found, NOT proven "
                           f"optimal. Its mission value is {res.objective:,.3f}; {btxt}{gap}. It "
                           "satisfies every rule (independent check).")
    elif res.status == "optimal" and report is not None and not report.ok:
        res.status = "check_failed"
        res.message = ("the solver reported an optimal plan, but the independent check of "
                       "the plan against the instance's own rules FAILED, so it is not "
                       "reported as optimal\n" + report.text())
    elif res.status == "optimal" and sol["best_bound"] is not None:
        res.message += (f" (integer business cases: proven within a relative gap of "
                        f"{100 * (sol['gap'] or 0):.3g}% of the best bound {sol['best_bound']:,.3f})")
    if warnings and res.status in ("check_failed", "error", "time_limit", "iteration_limit"):
        res.message += "\nnumerical warnings:\n" + "\n".join(f"  - {w}" for w in warnings)
    res.timings_s["check"] = round(time.perf_counter() - t0, 6)


def default_instance_path():
    """Path of the shipped default instance (installed as package data)."""
    from importlib import resources

    return resources.files("allocator.instances") / "uk_missions"


def tiny_instance_path():
    from importlib import resources

    return resources.files("allocator.instances") / "tiny"


__all__ = ["build", "solve", "result_from", "default_instance_path", "tiny_instance_path", "np"]
