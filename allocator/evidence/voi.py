"""Value of information: EVPI and the regression estimator of EVPPI.

Notation: draws s = 1..S of θ, costs c_s = c_θs (the objective's x coefficients), a plan's
value V_s(x) = c_s·(x − x̄), X the feasible plans (the allocation LP; θ never moves it).

    EVPI = (1/S) Σ_s max_{x∈X} V_s(x) − max_{x∈X} (1/S) Σ_s V_s(x)

The second term is the sample-average plan: V is linear in c, so max_x mean_s V_s(x) is
the LP with the mean costs c̄ = (1/S) Σ_s c_s.

EVPPI of a parameter group φ (the other parameters ψ, independent of φ):

    EVPPI_φ = E_φ[ max_x E_ψ[V(x) | φ] ] − max_x E[V(x)]
            = E_φ[ max_x g(φ)·(x − x̄) ] − max_x c̄·(x − x̄),     g(φ) = E[c | φ]

because V is linear in c. The regression method of Strong, Oakley & Brennan (2014, Med
Decis Making 34:311-326) estimates the inner conditional expectation by regressing the
simulated net benefits on φ with a generalised additive model; here the "net benefit" is
the cost vector c itself (one regression per coefficient, all sharing the same smoother),
and the inner maximisation is an LP solved with the fitted costs ĝ(φ_s):

    EVPPI_φ ≈ (1/S) Σ_s max_x ĝ(φ_s)·(x − x̄) − max_x c̄·(x − x̄)

The smoother (:func:`design`) is an additive cubic regression spline in each parameter of
the group (B-splines with interior knots at quantiles) plus pairwise products of the
standardised parameters (interactions inside a group), fitted by least squares. With an
intercept in the basis the fitted costs average exactly to c̄, so both terms use the same
mean. The estimator's bias: noise the regression fits adds upward bias of order (basis
size)/S; a basis that misses the true shape biases it downward (docs/uncertainty.md).
"""

from __future__ import annotations

import numpy as np


def interior_knots(S: int) -> int:
    """Interior knots per parameter for S draws: 0 (a cubic polynomial) below 150 draws,
    one more per 150 draws, at most 6."""
    return int(min(6, max(0, S // 150)))


def design(phi: np.ndarray) -> np.ndarray:
    """Regression basis B (S × q) for the group's parameter draws φ (S × k)."""
    from scipy.interpolate import BSpline

    phi = np.asarray(phi, dtype=float)
    if phi.ndim == 1:
        phi = phi[:, None]
    S, k = phi.shape
    cols = [np.ones((S, 1))]
    nk = interior_knots(S)
    z = np.zeros_like(phi)
    for j in range(k):
        v = phi[:, j]
        lo, hi = float(v.min()), float(v.max())
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            continue  # a constant column carries no information
        z[:, j] = (v - v.mean()) / v.std()
        inner = np.quantile(v, np.linspace(0, 1, nk + 2)[1:-1]) if nk else np.zeros(0)
        t = np.concatenate([[lo] * 4, inner, [hi] * 4])
        Bj = BSpline.design_matrix(np.clip(v, lo, hi), t, 3).toarray()
        cols.append(Bj[:, 1:])  # B-splines sum to one: drop one, the intercept stands in
    for a in range(k):
        for b in range(a + 1, k):
            cols.append((z[:, a] * z[:, b])[:, None])
    return np.hstack(cols)


def fit(B: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients β = B⁺ Y (q × n) of Y (S × n) on B, through the
    pseudo-inverse of the small S × q basis (one SVD, then one product for all n columns);
    the fitted values B β are the least-squares fit even when B is rank-deficient."""
    return np.linalg.pinv(B, rcond=1e-10) @ Y
