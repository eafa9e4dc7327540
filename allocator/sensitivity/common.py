"""Helpers shared by the sensitivity analyses: current LP bounds, plan summaries."""

from __future__ import annotations

import numpy as np
import highspy

from allocator.models.constraints import rule_families, with_bounds
from allocator.models.objective import mission_gains

#: policy families whose status a re-plan reports (PIE protection and the fiscal rules), as
#: the families declare them
RULE_FAMILIES = rule_families()


class LPView:
    """A LinearProgram-shaped view with the session's *current* bounds (for
    :func:`allocator.explain.explain_infeasibility`, which reads these attributes)."""

    def __init__(self, session):
        lp = session.model.lp
        self._lp = lp
        self.n, self.m, self.A = lp.n, lp.m, lp.A
        self.row_lower, self.row_upper = current_row_bounds(session)
        self.col_lower, self.col_upper = session.col_bounds()
        self.cost = lp.cost

    def row_labels(self):
        return self._lp.row_labels()


def current_row_bounds(session) -> tuple[np.ndarray, np.ndarray]:
    """Row bounds of the session's model with its current data (same functions as the build)."""
    model, lp = session.model, session.model.lp
    lo, hi = lp.row_lower.copy(), lp.row_upper.copy()
    for mod in with_bounds():
        for family, (a, b) in mod.bounds(model).items():
            block = lp.family(family)
            if block is None:
                continue
            lo[block.start:block.start + block.size] = a
            hi[block.start:block.start + block.size] = b
    return lo, hi


def family_holds(session, x: np.ndarray, tol: float = 1e-5) -> dict[str, bool | None]:
    """For each rule family: do all its rows hold at plan ``x`` under the current data?
    None when the family is not enforced in this instance."""
    lp = session.model.lp
    lo, hi = current_row_bounds(session)
    act = lp.A @ x
    out = {}
    for fam in RULE_FAMILIES:
        b = lp.family(fam)
        if b is None:
            out[fam] = None
            continue
        sl = slice(b.start, b.start + b.size)
        scale = tol * np.maximum(1.0, np.abs(act[sl]))
        out[fam] = bool(np.all(act[sl] >= lo[sl] - scale) and np.all(act[sl] <= hi[sl] + scale))
    return out


def settlement_limits(model, x: np.ndarray) -> np.ndarray:
    """L[d,c,t] (cash £m), shape (D, 2, T)."""
    md = model.data
    return (model.expr.limit @ x).reshape(md.D, 2, md.T)


def programme_cash(model, x: np.ndarray) -> np.ndarray:
    """Cash spend π_t q[p,t], shape (P, T)."""
    md = model.data
    return (model.expr.cash @ x).reshape(md.P, md.T)


def mission_fund_cash(model, x: np.ndarray) -> np.ndarray:
    md = model.data
    return (model.expr.mission_fund @ x).reshape(2, md.T).sum(axis=0)


def value_by_year(model, x: np.ndarray) -> np.ndarray:
    """Discounted mission-weighted value landing in each year t = 0..T−1+K (objective units,
    measured against the baseline), summing to the objective."""
    md, lp = model.data, model.lp
    b = lp.var_blocks["x"]
    xv = x[b.start:b.start + b.size].reshape(-1, md.T)
    g = mission_gains(md, xv)
    return (md.weight[:, None] * md.delta * g).sum(axis=0)


def highs_inf() -> float:
    return highspy.kHighsInf


class _ArrayLP:
    """Plain arrays in the shape :meth:`HighsBackend.load` reads."""

    def __init__(self, A, cost, col_lower, col_upper, row_lower, row_upper):
        self.A, self.cost = A.tocsc(), np.asarray(cost, dtype=float)
        self.col_lower, self.col_upper = np.asarray(col_lower, float), np.asarray(col_upper, float)
        self.row_lower, self.row_upper = np.asarray(row_lower, float), np.asarray(row_upper, float)
        self.m, self.n = self.A.shape


class ProximalPlan:
    """Among the optimal re-plans, the one closest to the base plan (docs/sensitivity.md §2.2).

    LPs have many optimal plans (ties between programmes of equal marginal value), so the
    plan a warm re-solve happens to return can reshuffle budgets the shock did not touch.
    To report *who absorbs* a shock, a second LP stays on the optimal face (see
    :func:`closest_plan`) and minimises the £m moved relative to the base plan x⁰,
    Σ |B (x − x⁰)|, where B stacks programme cash spend π_t q[p,t] and settlement limits
    L[d,c,t]. It is built once and updated by bounds only (warm re-solves), like the session.
    """

    def __init__(self, session, x0: np.ndarray, dual_tol: float = 1e-9):
        import scipy.sparse as sp

        from allocator.solvers.highs import HighsBackend

        lp, e = session.model.lp, session.model.expr
        B = sp.vstack([e.cash, e.limit], format="csr")
        k = B.shape[0]
        self.b0 = B @ x0
        self.n, self.m0, self.k, self.tol = lp.n, lp.m, k, dual_tol
        I = sp.eye(k, format="csr")
        A = sp.vstack([sp.hstack([lp.A, sp.csr_matrix((lp.m, k))]), sp.hstack([B, -I]),
                       sp.hstack([B, I])], format="csc")
        self.arr = _ArrayLP(
            A, np.concatenate([np.zeros(lp.n), -np.ones(k)]),
            np.concatenate([lp.col_lower, np.zeros(k)]),
            np.concatenate([lp.col_upper, np.full(k, np.inf)]),
            np.concatenate([lp.row_lower, np.full(k, -np.inf), self.b0]),
            np.concatenate([lp.row_upper, self.b0, np.full(k, np.inf)]))
        self.backend = HighsBackend()
        self.backend.load(self.arr)
        self.session = session

    def solve(self, out) -> np.ndarray | None:
        """Closest optimal plan, given the session's optimal solve output ``out`` (with duals)."""
        if out is None or out.x is None or out.col_dual is None or out.row_dual is None:
            return None
        s = self.session
        lo, hi = current_row_bounds(s)
        tight = np.abs(out.row_dual) > self.tol
        lo, hi = lo.copy(), hi.copy()
        lo[tight] = hi[tight] = out.row_activity[tight]
        cl, cu = s.col_bounds()
        fix = np.abs(out.col_dual) > self.tol * np.maximum(1.0, np.abs(s.model.lp.cost))
        cl[fix] = cu[fix] = out.x[fix]
        self.backend.set_row_bounds(np.arange(self.m0), lo, hi)
        self.backend.set_col_bounds(np.arange(self.n), cl, cu)
        res = self.backend.solve()
        return None if res.x is None else res.x[:self.n]


def closest_plan(lp, B, b0: np.ndarray, out, dual_tol: float = 1e-9) -> np.ndarray | None:
    """Among the optimal plans of ``lp`` (given its optimal solve ``out`` with duals), the
    one minimising Σ |B x − b0|.

    The optimal face is described without an objective row, by complementary slackness
    with the dual solution found: every column with a non-zero reduced cost stays at its
    value (a bound) and every row with a non-zero dual stays at its activity (a bound);
    any plan feasible for the rest is optimal. Then

        min Σ u   s.t.  that face,   −u <= B x − b0 <= u
    """
    import scipy.sparse as sp

    from allocator.solvers.highs import HighsBackend

    if out.x is None or out.col_dual is None or out.row_dual is None:
        return None
    x, act = out.x, out.row_activity
    k = B.shape[0]
    cl, cu = lp.col_lower.copy(), lp.col_upper.copy()
    fix = np.abs(out.col_dual) > dual_tol * np.maximum(1.0, np.abs(lp.cost))
    cl[fix] = cu[fix] = x[fix]
    rl, ru = lp.row_lower.copy(), lp.row_upper.copy()
    tight = np.abs(out.row_dual) > dual_tol
    rl[tight] = ru[tight] = act[tight]
    I = sp.eye(k, format="csr")
    A = sp.vstack([sp.hstack([lp.A, sp.csr_matrix((lp.m, k))]), sp.hstack([B, -I]),
                   sp.hstack([B, I])], format="csc")
    arr = _ArrayLP(A, np.concatenate([np.zeros(lp.n), -np.ones(k)]),
                   np.concatenate([cl, np.zeros(k)]), np.concatenate([cu, np.full(k, np.inf)]),
                   np.concatenate([rl, np.full(k, -np.inf), b0]),
                   np.concatenate([ru, b0, np.full(k, np.inf)]))
    b = HighsBackend()
    b.load(arr)
    res = b.solve()
    return None if res.x is None else res.x[:lp.n]
