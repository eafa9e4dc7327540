"""Pick one plan from the optimal face: the second stage of every solve.

:func:`polish` takes a back-end holding the first-stage program (as solved: its current
bounds and costs, any breach slacks of a re-plan), the first stage's optimal output and the
model, and solves the second-stage LP of :mod:`allocator.models.tiebreak` in a fresh solver
of the same kind. The result keeps the first stage's duals (shadow prices) and status and
carries the second stage's plan. Settings: ``tiebreak`` in instance.yaml.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from allocator.models import tiebreak
from allocator.models.tiebreak import value_floor
from allocator.solvers.base import SolveOutput, SolverStatus


class _Arrays:
    """A LinearProgram-shaped view of plain arrays, for a back-end's ``load``."""

    def __init__(self, A, row_lo, row_hi, col_lo, col_hi, cost):
        self.A = sp.csc_matrix(A)
        self.m, self.n = self.A.shape
        self.row_lower, self.row_upper = np.asarray(row_lo, float), np.asarray(row_hi, float)
        self.col_lower, self.col_upper = np.asarray(col_lo, float), np.asarray(col_hi, float)
        self.cost = np.asarray(cost, float)


def loaded_program(backend, model):
    """(A, row_lo, row_hi, col_lo, col_hi, cost) of the program ``backend`` holds now.

    HiGHS: read back from the solver (``HighsBackend.program``: bound and cost changes of a
    session, and its breach slack columns, are included; costs in the back-end's normalised
    units; the matrix object is the same between matrix changes). Other back-ends: the
    model's own arrays."""
    program = getattr(backend, "program", None)
    if program is not None:
        return program()
    lp = model.lp
    return lp.A, lp.row_lower, lp.row_upper, lp.col_lower, lp.col_upper, lp.cost


FEASIBILITY_TOL = 1e-7  # £m: the plan a re-plan fixes later years to must be this exact


def _violation(A, lo, hi, clo, chi, x) -> float:
    """Largest bound violation of plan x (rows and columns), in the program's own units."""
    act = np.asarray(A @ x).ravel()
    return float(max(np.max(np.maximum(lo - act, act - hi), initial=0.0),
                     np.max(np.maximum(clo - x, x - chi), initial=0.0)))


def start_basis(first_backend, stage, x1):
    """The second stage's starting basis from the first stage's optimal one (HiGHS), or None:
    the loaded columns and rows keep their status, the value floor is basic, and each
    deviation row's u⁺ (or u⁻, where L < τ) is basic."""
    import highspy

    h1 = getattr(first_backend, "h", None)
    if h1 is None:
        return None
    b1 = h1.getBasis()
    if not b1.valid:
        return None
    dev = np.asarray(stage.A_dev @ x1[:stage.A_dev.shape[1]]).ravel() - stage.dev_target
    S = highspy.HighsBasisStatus
    plus = [S.kBasic if d >= 0 else S.kLower for d in dev]
    minus = [S.kLower if d >= 0 else S.kBasic for d in dev]
    basis = highspy.HighsBasis()
    basis.col_status = list(b1.col_status) + plus + minus
    basis.row_status = list(b1.row_status) + [S.kBasic] + [S.kLower] * len(dev)
    basis.valid = True
    return basis


def warm_start(first_backend, second_backend, stage, x1, basis=None) -> bool:
    """Start the second stage from the first stage's optimal basis (both HiGHS), as
    :func:`start_basis` builds it (or ``basis``, built by it before). Saves most of the
    second stage's simplex work."""
    import highspy

    h2 = getattr(second_backend, "h", None)
    if h2 is None:
        return False
    if basis is None:
        basis = start_basis(first_backend, stage, x1)
    if basis is None:
        return False
    return h2.setBasis(basis) == highspy.HighsStatus.kOk


def _stage(model, mission_fund_cost: float, cache: dict | None) -> tiebreak.SecondStage:
    """``tiebreak.second_stage``, with the parts that do not change in a session (deviation
    rows, weights and costs: they depend on the model's columns and matrix only) kept in
    ``cache`` and the path targets τ (which follow the fiscal envelopes) recomputed."""
    if cache is None:
        return tiebreak.second_stage(model, mission_fund_cost)
    key = ("second_stage", id(model), float(mission_fund_cost))
    stage = cache.get(key)
    if stage is None:
        stage = tiebreak.second_stage(model, mission_fund_cost)
        cache.clear()
        cache[key] = stage
        return stage
    return replace(stage, dev_target=tiebreak.path_targets(model).reshape(-1))


def polish(model, backend, first: SolveOutput, *, tolerance: float = 0.0,
           mission_fund_cost: float = 0.5, integer_cols=None, new_backend=None,
           cache: dict | None = None, release_first: bool = False) -> SolveOutput:
    """The second-stage plan (docs/formulation.md §4b), or ``first`` unchanged when the first
    stage is not optimal. ``new_backend()`` makes the solver for the second stage (by
    default a HiGHS back-end); ``extra['second_stage']`` records its time and outcome.
    ``cache``: a dict the caller keeps between calls on the same model (a session), holding
    the second stage's fixed parts; the plan is the same with or without it.
    ``release_first``: nothing more will be solved in ``backend`` (a one-shot solve), so its
    solver memory is freed (``release_solver``) once its program and basis are read, before
    the second stage loads; the plan is the same."""
    if first.status != SolverStatus.OPTIMAL or first.x is None:
        return first
    t0 = time.perf_counter()
    A, lo, hi, clo, chi, cost = loaded_program(backend, model)
    x1 = np.asarray(first.x, float)
    if len(x1) < A.shape[1]:  # a caller that trimmed extra columns: not this case
        return first
    # the first stage's plan is feasible to the solver's tolerances, not exactly: widen each
    # bound by the (tiny) amount x1 misses it, so x1 is feasible for the second stage
    act1 = np.asarray(A @ x1).ravel()
    lo, hi = np.minimum(lo, act1), np.maximum(hi, act1)
    clo0, chi0 = clo, chi
    clo, chi = np.minimum(clo, x1), np.maximum(chi, x1)
    stage = _stage(model, mission_fund_cost, cache)
    scale = getattr(backend, "cost_scale", 1.0)
    if new_backend is None:
        from allocator.solvers.highs import HighsBackend

        new_backend = HighsBackend
    # the value floor sits exactly on the first stage's optimum; where the solver cannot
    # certify that tight a floor (large breach penalties in a re-plan) it is eased in steps,
    # cheapest first (docs/formulation.md §4b lists the attempts). A plan is accepted only
    # if it is as exact as the first stage's (re-plans fix it for later years).
    limit = max(FEASIBILITY_TOL, 10 * _violation(A, lo, hi, clo, chi, x1))
    e9, e7 = max(tolerance, 1e-9), max(tolerance, 1e-7)
    constant = model.lp.constant * scale
    # (ε, start, rows held to 1e-9): start "warm" from the first stage's basis, "cold", or
    # "continue" in the previous attempt's solver from where it stopped (only its floor and
    # feasibility tolerance change: no new solver, no reload, few iterations)
    attempts = [(tolerance, "warm", False), (e9, "continue", True), (e9, "warm", False),
                (tolerance, "cold", True), (e9, "cold", True), (e7, "warm", False),
                (e7, "cold", True)]
    out2, tol, basis, b2 = None, tolerance, None, None
    if release_first and hasattr(backend, "release_solver"):
        basis = start_basis(backend, stage, x1)  # what the warm attempts start from
        backend.release_solver()
    for tol, start, tight in attempts:
        if start == "continue":  # only a plan that was optimal but not exact enough
            if out2 is None or out2.status != SolverStatus.OPTIMAL or not hasattr(b2, "h"):
                continue
            b2.h.changeRowBounds(A.shape[0], value_floor(cost, x1, tol, constant), np.inf)
        else:
            b2 = new_backend()
            b2.load(_Arrays(*tiebreak.extend(A, lo, hi, clo, chi, cost, x1, stage, tol,
                                             integer_cols, constant=constant)))
        if tight and hasattr(b2, "h"):
            b2.h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        if start == "warm" and basis is None:
            basis = start_basis(backend, stage, x1)  # the same for every attempt
        if start == "warm" and (basis is None or not warm_start(backend, b2, stage, x1, basis)):
            continue
        out2 = b2.solve()
        if (out2.status == SolverStatus.OPTIMAL and out2.x is not None
                and _violation(A, lo, hi, clo, chi, out2.x[:A.shape[1]]) <= limit):
            break
    else:
        out2 = replace(out2, status=SolverStatus.ERROR, x=None) if out2 is not None else None
    if out2 is None:
        return first
    elapsed = time.perf_counter() - t0
    info = {"seconds": round(elapsed, 6), "status": out2.status.value,
            "value_tolerance": tol, "mission_fund_cost": mission_fund_cost}
    if out2.status != SolverStatus.OPTIMAL or out2.x is None:
        info["used"] = False
        return replace(first, extra={**first.extra, "second_stage": info})
    n_all = A.shape[1]
    x2 = out2.x[:n_all].copy()  # pure round-off outside a bound (e.g. spend −1e-14) back in;
    low, high = (x2 < clo0) & (x2 > clo0 - 1e-9), (x2 > chi0) & (x2 < chi0 + 1e-9)
    x2[low], x2[high] = clo0[low], chi0[high]  # (larger misses match the first stage's own)
    info["used"] = True
    info["objective"] = float(-(out2.objective or 0.0))  # the minimised second-stage cost
    return replace(first, x=x2, row_activity=np.asarray(A @ x2).ravel(),
                   objective=float(cost @ x2) / scale,
                   extra={**first.extra, "second_stage": info})
