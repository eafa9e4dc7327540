"""Objective: discounted, mission-weighted metric gains against the baseline plan.

A real £1m on response piece i (programme p) in year τ improves mission m's metric in
year τ+k by γ_im ℓ_p[k]. Gains are measured against baseline spend b_p (x̄_i is the
baseline's fill of piece i), so the baseline plan scores zero:

    gain[m,t] = Σ_i γ_im Σ_τ ℓ_p(i)[t−τ] (x[i,τ] − x̄_i)          t = 0 .. T−1+K

    maximise  Σ_m w_m Σ_{t<T} δ[m,t] gain[m,t]      (in-horizon value)
            + Σ_m w_m Σ_{t>=T} δ[m,t] gain[m,t]     (terminal value: effects after the horizon
                                                      of spend inside it — the 10-year test)

δ[m,t] = Π_{j<t} 1/(1+r_j) with the Green Book STPR schedule, or the mission's own rate.
So the coefficient of x[i,τ] is Σ_m w_m γ_im Σ_k ℓ_p[k] δ[m,τ+k], split by τ+k < T.
"""

from __future__ import annotations

import numpy as np


def _lagged_discount(md, part: str) -> np.ndarray:
    """A[p,m,τ] = Σ_k ℓ_p[k] δ[m,τ+k] restricted to τ+k < T (in) or >= T (terminal)."""
    T, K = md.T, md.K
    mask = np.arange(T + K) < T
    D = md.delta * (mask if part == "in" else ~mask)[None, :]
    A = np.zeros((md.P, md.M, T))
    for k in range(K + 1):
        A += md.lag[:, k][:, None, None] * D[None, :, k:k + T]
    return A


def piece_lagged_discount(md) -> tuple[np.ndarray, np.ndarray]:
    """A[p(i),m,τ] per piece i, (N, M, T), for the in-horizon and terminal parts. Depends on
    lags and discount factors only, so a re-solve that changes weights or gains can reuse it."""
    return (_lagged_discount(md, "in")[md.piece_prog],
            _lagged_discount(md, "terminal")[md.piece_prog])


def piece_coefficients(md, lagged=None) -> tuple[np.ndarray, np.ndarray]:
    """Objective coefficients (N, T) of x for the in-horizon and terminal parts:
    c[i,τ] = Σ_m w_m γ_im A[p(i),m,τ] (``lagged``: a precomputed piece_lagged_discount(md))."""
    wg = md.piece_gain * md.weight[None, :]  # (N, M)
    out = []
    for A in (lagged if lagged is not None else piece_lagged_discount(md)):  # (N, M, T)
        out.append(np.einsum("nm,nmt->nt", wg, A))
    return out[0], out[1]


def set_objective(model, lagged=None) -> None:
    md, lp = model.data, model.lp
    c_in, c_term = piece_coefficients(md, lagged)
    x = lp.var_blocks["x"]
    lp.cost_in_horizon = np.zeros(lp.n)
    lp.cost_terminal = np.zeros(lp.n)
    lp.cost_in_horizon[x.start:x.start + x.size] = c_in.ravel()
    lp.cost_terminal[x.start:x.start + x.size] = c_term.ravel()
    fill = md.piece_baseline_fill[:, None]
    lp.constant_in_horizon = -float((c_in * fill).sum())
    lp.constant_terminal = -float((c_term * fill).sum())
    if model.instance.settings.objective.kind == "target_cost":  # cheapest plan meeting targets
        from .targets import set_cost

        set_cost(model)
    elif model.instance.settings.objective.kind == "net_value":  # V − λ·C (§4c)
        from .net_value import add_cost

        add_cost(model)


def mission_gains(md, x: np.ndarray) -> np.ndarray:
    """gain[m,t] for t = 0..T−1+K from piece spend x (N, T), in metric units."""
    T, K = md.T, md.K
    dx = x - md.piece_baseline_fill[:, None]
    E = np.zeros((md.P, md.M, T))
    np.add.at(E, md.piece_prog, md.piece_gain[:, :, None] * dx[:, None, :])
    gains = np.zeros((md.M, T + K))
    for k in range(K + 1):
        gains[:, k:k + T] += np.einsum("p,pmt->mt", md.lag[:, k], E)
    return gains
