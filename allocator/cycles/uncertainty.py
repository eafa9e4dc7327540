"""Sampled economic paths and the forecasts made along them.

Four shock processes, each a deviation (in logs) from the instance's central forecast
``fiscal.csv``; yearly innovations ε_t ~ N(0, S C S) with standard deviations S and
correlations C (``uncertainty`` section):

    g_t  = ρ_g g_{t−1} + ε^g_t                GDP growth surprise
    ℓ_t  = ℓ_{t−1} + g_t                      log GDP level gap (level shocks persist)
    u^X_t = ρ_X u^X_{t−1} + ε^X_t             X ∈ {receipts, welfare, debt interest}

and the fiscal columns follow (hats are the central forecast):

    GDP_t      = GDP^_t · e^{ℓ_t}
    receipts_t = R^_t · e^{η_R ℓ_t + u^R_t}
    welfare_t  = W^_t · e^{η_W ℓ_t + u^W_t}                   (welfare_capped_gbp_m)
    interest_t = D^_t · e^{u^D_t}                              (debt_interest_gbp_m)
    AME_t      = A^_t + (welfare_t − W^_t) + (interest_t − D^_t)
    envelope_t = E^_t · e^{η_E ℓ_t}                            (planning envelopes, RDEL and CDEL)

The forecast made at the start of year t knows years < t and projects the state forward
by its expectation: E[g_s] = ρ_g^{s−t+1} g_{t−1}, E[u_s] = ρ^{s−t+1} u_{t−1},
E[ℓ_s] = ℓ_{t−1} + Σ_{j=1}^{s−t+1} ρ_g^j g_{t−1} (medians of the log-normal levels).

Path i is drawn from ``SeedSequence(seed, spawn_key=(i,))``: it depends on the seed and
its own number only, so serial, parallel and resumed runs see identical paths, and every
regime sees the same paths (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.schema import Instance

from .settings import UncertaintySettings

FISCAL_COLUMNS = ("gdp_gbp_m", "receipts_gbp_m", "ame_current_gbp_m", "welfare_capped_gbp_m",
                  "debt_interest_gbp_m", "rdel_envelope_gbp_m", "cdel_envelope_gbp_m")


@dataclass
class EconomicPath:
    """One sampled path: the state of the four processes in each year (T,)."""

    number: int
    g: np.ndarray
    level: np.ndarray
    u_receipts: np.ndarray
    u_welfare: np.ndarray
    u_interest: np.ndarray


def central_forecast(instance: Instance) -> dict[str, np.ndarray]:
    years = instance.years
    fy = {f.year: f for f in instance.fiscal}
    out = {}
    for c in ("gdp_gbp_m", "receipts_gbp_m", "ame_current_gbp_m", "welfare_capped_gbp_m",
              "debt_interest_gbp_m", "rdel_envelope_gbp_m", "cdel_envelope_gbp_m", "deflator",
              "depreciation_gbp_m", "ame_capital_gbp_m", "other_psnfl_flows_gbp_m", "welfare_cap_gbp_m"):
        out[c] = np.array([np.nan if getattr(fy[y], c) is None else getattr(fy[y], c) for y in years],
                          dtype=float)
    return out


def sample_path(us: UncertaintySettings, T: int, seed: int, number: int) -> EconomicPath:
    """Path ``number`` for ``seed``: the ``number``-th child of ``SeedSequence(seed)`` (what
    ``spawn`` would give), so it does not depend on how many paths are run or how they are
    split into chunks."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(number,)))
    z = rng.standard_normal((T, 4)) @ np.linalg.cholesky(us.correlations.matrix()).T
    sd = np.array([us.gdp_growth_sd, us.receipts_sd, us.welfare_sd, us.debt_interest_sd])
    eps = z * sd[None, :]
    rho = np.array([us.gdp_growth_persistence, us.receipts_persistence, us.welfare_persistence,
                    us.debt_interest_persistence])
    state = np.zeros((T, 4))
    prev = np.zeros(4)
    for t in range(T):
        prev = rho * prev + eps[t]
        state[t] = prev
    return EconomicPath(number, state[:, 0], np.cumsum(state[:, 0]), state[:, 1], state[:, 2],
                        state[:, 3])


def _columns(us: UncertaintySettings, base: dict, level, u_r, u_w, u_d) -> dict[str, np.ndarray]:
    welfare = base["welfare_capped_gbp_m"] * np.exp(us.welfare_gdp_elasticity * level + u_w)
    interest = base["debt_interest_gbp_m"] * np.exp(u_d)
    ame = (base["ame_current_gbp_m"] + (welfare - base["welfare_capped_gbp_m"])
           + (interest - base["debt_interest_gbp_m"]))
    env = np.exp(us.envelope_gdp_elasticity * level)
    return {
        "gdp_gbp_m": base["gdp_gbp_m"] * np.exp(level),
        "receipts_gbp_m": base["receipts_gbp_m"] * np.exp(us.receipts_gdp_elasticity * level + u_r),
        "ame_current_gbp_m": ame,
        "welfare_capped_gbp_m": welfare,
        "debt_interest_gbp_m": interest,
        "rdel_envelope_gbp_m": base["rdel_envelope_gbp_m"] * env,
        "cdel_envelope_gbp_m": base["cdel_envelope_gbp_m"] * env,
    }


def realised(us: UncertaintySettings, base: dict, path: EconomicPath) -> dict[str, np.ndarray]:
    """What actually happens on the path, every year."""
    return _columns(us, base, path.level, path.u_receipts, path.u_welfare, path.u_interest)


def forecast(us: UncertaintySettings, base: dict, path: EconomicPath, t: int) -> dict[str, np.ndarray]:
    """The forecast at the start of year t: realised for years < t, expected for years >= t."""
    T = len(path.g)
    level = path.level.copy()
    u = [path.u_receipts.copy(), path.u_welfare.copy(), path.u_interest.copy()]
    if t < T:
        k = np.arange(1, T - t + 1)
        rg = us.gdp_growth_persistence
        g0 = path.g[t - 1] if t > 0 else 0.0
        l0 = path.level[t - 1] if t > 0 else 0.0
        level[t:] = l0 + g0 * np.cumsum(rg ** k)
        for arr, rho in zip(u, (us.receipts_persistence, us.welfare_persistence,
                                us.debt_interest_persistence)):
            u0 = arr[t - 1] if t > 0 else 0.0
            arr[t:] = u0 * rho ** k
    return _columns(us, base, level, *u)
