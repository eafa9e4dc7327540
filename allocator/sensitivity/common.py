"""Helpers shared by the sensitivity analyses: current LP bounds, plan summaries."""

from __future__ import annotations

import numpy as np
import highspy

from allocator.models.constraints import del_envelope, fiscal_rules, welfare_cap
from allocator.models.objective import mission_gains

_BOUND_MODULES = (del_envelope, fiscal_rules, welfare_cap)
#: policy families whose status a re-plan reports (PIE protection and the fiscal rules)
RULE_FAMILIES = ("pie_department_floor", "pie_share", "del_envelope", "welfare_cap",
                 "stability_rule", "investment_rule")


class LPView:
    """A LinearProgram-shaped view with the session's *current* bounds (for
    :func:`allocator.explain.explain_infeasibility`, which reads these attributes)."""

    def __init__(self, session):
        lp = session.model.lp
        self._lp = lp
        self.n, self.m, self.A = lp.n, lp.m, lp.A
        self.row_lower, self.row_upper = current_row_bounds(session)
        self.col_lower, self.col_upper = session._lb.copy(), session._ub.copy()
        self.cost = lp.cost

    def row_labels(self):
        return self._lp.row_labels()


def current_row_bounds(session) -> tuple[np.ndarray, np.ndarray]:
    """Row bounds of the session's model with its current data (same functions as the build)."""
    model, lp = session.model, session.model.lp
    lo, hi = lp.row_lower.copy(), lp.row_upper.copy()
    for mod in _BOUND_MODULES:
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

    LPs have many optimal plans (ties between programmes of equal marginal value), so
    the plan a warm re-solve happens to return can reshuffle budgets that the shock did not
    touch. To report *who absorbs* a shock, a second LP keeps the optimal value and
    minimises the £m moved relative to the base plan x⁰:

        min Σ u    s.t.   A x ∈ [lo, hi],  l <= x <= u_x,  c·x >= V* − ε|V*|,
                          −u <= B (x − x⁰) <= u

    where B stacks programme cash spend π_t q[p,t] and settlement limits L[d,c,t]. It is
    built once and updated by bounds only, like the session.
    """

    def __init__(self, session, x0: np.ndarray, rel_tol: float = 1e-9):
        import scipy.sparse as sp

        from allocator.solvers.highs import HighsBackend

        lp, e = session.model.lp, session.model.expr
        B = sp.vstack([e.cash, e.limit], format="csr")
        k = B.shape[0]
        self.b0 = B @ x0
        self.n, self.m0, self.k = lp.n, lp.m, k
        self.tol = rel_tol
        I = sp.eye(k, format="csr")
        A = sp.vstack([
            sp.hstack([lp.A, sp.csr_matrix((lp.m, k))]),
            sp.hstack([B, -I]),  # B x − u <= B x0
            sp.hstack([B, I]),  # B x + u >= B x0
            sp.hstack([sp.csr_matrix(lp.cost.reshape(1, -1)), sp.csr_matrix((1, k))]),
        ], format="csc")
        inf = np.inf
        self.arr = _ArrayLP(
            A, np.concatenate([np.zeros(lp.n), -np.ones(k)]),
            np.concatenate([lp.col_lower, np.zeros(k)]), np.concatenate([lp.col_upper, np.full(k, inf)]),
            np.concatenate([lp.row_lower, np.full(k, -inf), self.b0, [-inf]]),
            np.concatenate([lp.row_upper, self.b0, np.full(k, inf), [inf]]))
        self.backend = HighsBackend()
        self.backend.load(self.arr)
        self.session = session

    def solve(self, objective_value: float) -> np.ndarray | None:
        """Closest optimal plan, given the re-plan's optimal c·x value (without constant)."""
        s = self.session
        lo, hi = current_row_bounds(s)
        self.backend.set_row_bounds(np.arange(self.m0), lo, hi)
        floor = objective_value - self.tol * max(1.0, abs(objective_value))
        self.backend.set_row_bounds(np.array([self.m0 + 2 * self.k]), np.array([floor]),
                                    np.array([np.inf]))
        self.backend.set_col_bounds(np.arange(self.n), s._lb, s._ub)
        out = self.backend.solve()
        return None if out.x is None else out.x[:self.n]


def closest_plan(lp, value: float, B, b0: np.ndarray, rel_tol: float = 1e-9) -> np.ndarray | None:
    """One-off version of :class:`ProximalPlan` for any LP-shaped object: among the plans
    with c·x >= value − ε|value|, the one minimising Σ |B x − b0|."""
    import scipy.sparse as sp

    from allocator.solvers.highs import HighsBackend

    k = B.shape[0]
    I = sp.eye(k, format="csr")
    A = sp.vstack([sp.hstack([lp.A, sp.csr_matrix((lp.m, k))]), sp.hstack([B, -I]),
                   sp.hstack([B, I]),
                   sp.hstack([sp.csr_matrix(np.asarray(lp.cost).reshape(1, -1)), sp.csr_matrix((1, k))])],
                  format="csc")
    floor = value - rel_tol * max(1.0, abs(value))
    arr = _ArrayLP(A, np.concatenate([np.zeros(lp.n), -np.ones(k)]),
                   np.concatenate([lp.col_lower, np.zeros(k)]),
                   np.concatenate([lp.col_upper, np.full(k, np.inf)]),
                   np.concatenate([lp.row_lower, np.full(k, -np.inf), b0, [floor]]),
                   np.concatenate([lp.row_upper, b0, np.full(k, np.inf), [np.inf]]))
    b = HighsBackend()
    b.load(arr)
    out = b.solve()
    return None if out.x is None else out.x[:lp.n]
