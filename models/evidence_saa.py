"""Robust plan under evidence uncertainty: the sample-average extensive form with an
optional CVaR guard on mission value (docs/formulation.md §9, docs/uncertainty.md §4).

Given the allocation LP (columns x, rows lo <= A x <= hi, bounds l <= x <= u), S draws of
the objective's x-block costs c_s (from uncertain effect sizes, weights and lags, which
never move the feasible set) and the baseline fill x̄, a plan's value under draw s is
V_s(x) = c_s·(x − x̄). The extensive form, with weight λ ∈ [0, 1] on the CVaR at level α:

    maximise   (1−λ) (1/S) Σ_s c_s·x  +  λ [ η − 1/(α S) Σ_s u_s ]   (+ constant −(1−λ) c̄·x̄)
    subject to lo <= A x <= hi,  l <= x <= u
               u_s − η + c_s·x >= c_s·x̄        s = 1..S      (u_s >= η − V_s(x))
               u_s >= 0,  η free

At the optimum η is the α-quantile of V(x) and η − 1/(αS) Σ u_s the mean of the worst α
share of draws, CVaR_α (Rockafellar & Uryasev 2000). With λ = 0 the draws' rows are
omitted and the form is the LP with the mean costs c̄ (there is no recourse: evidence is
not revealed within the Spending Review, so one plan serves every draw).

Model code only: no file I/O, no solving.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class RobustForm:
    A: sp.csc_matrix
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    constant: float
    n_plan: int  # the allocation LP's columns come first
    draws: int

    @property
    def n(self) -> int:
        return self.A.shape[1]

    @property
    def m(self) -> int:
        return self.A.shape[0]


def build_robust_form(lp, x_start: int, costs: np.ndarray, fill: np.ndarray, *,
                      cvar_weight: float = 0.0, alpha: float = 0.05) -> RobustForm:
    """``costs`` (S × |x-block|) per draw, ``fill`` the x-block's baseline x̄ (same length),
    ``x_start`` the first column of the x block in ``lp``."""
    C = np.asarray(costs, dtype=float)
    S, nx = C.shape
    if not 0.0 <= cvar_weight <= 1.0:
        raise ValueError(f"cvar_weight must be in [0, 1], got {cvar_weight}")
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    n = lp.n
    cbar = C.mean(axis=0)
    cost = np.zeros(n)
    cost[x_start:x_start + nx] = (1.0 - cvar_weight) * cbar
    const = -(1.0 - cvar_weight) * float(cbar @ fill)
    A = lp.A.tocsc()
    if cvar_weight == 0.0:
        return RobustForm(A, cost, lp.col_lower.copy(), lp.col_upper.copy(), lp.row_lower.copy(),
                          lp.row_upper.copy(), const, n, S)
    # draws' rows over [x (n) | η | u_1..u_S]
    Cx = sp.csr_matrix(C)
    Cfull = sp.hstack([sp.csr_matrix((S, x_start)), Cx, sp.csr_matrix((S, n - x_start - nx))])
    rows = sp.hstack([Cfull, sp.csr_matrix(-np.ones((S, 1))), sp.identity(S, format="csr")])
    top = sp.hstack([A, sp.csr_matrix((A.shape[0], 1 + S))])
    A2 = sp.vstack([top, rows], format="csc")
    cost2 = np.concatenate([cost, [cvar_weight], np.full(S, -cvar_weight / (alpha * S))])
    return RobustForm(
        A2, cost2,
        np.concatenate([lp.col_lower, [-np.inf], np.zeros(S)]),
        np.concatenate([lp.col_upper, [np.inf], np.full(S, np.inf)]),
        np.concatenate([lp.row_lower, C @ fill]),
        np.concatenate([lp.row_upper, np.full(S, np.inf)]),
        const, n, S)


def cvar(values: np.ndarray, alpha: float) -> float:
    """Mean of the worst α share of ``values`` (lower tail), the sample CVaR_α of the LP:
    max_η η − 1/(αS) Σ (η − v_s)⁺ (fractional draws at the quantile counted in part)."""
    v = np.sort(np.asarray(values, dtype=float))
    S = len(v)
    k = alpha * S
    whole = int(np.floor(k))
    tail = v[:whole].sum() + (k - whole) * (v[whole] if whole < S else 0.0)
    return float(tail / k)
