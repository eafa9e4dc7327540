"""Sweep scenarios: changed envelopes, fiscal shocks and mission weights.

A scenario is a dict ``{"fiscal": {column: (T,) array}, "weights": (M,) array}``. It changes
only what a persistent model can take as bound and cost changes (the coefficient matrix
stays fixed), so the three sweep paths — rebuild per scenario, the engine's
:class:`~allocator.session.ModelSession`, highspy warm re-solve — solve the same LPs.

Scenario draw (seeded): a receipts shock of severity s ~ U(0, 3%) from a random year on
(current AME rises by s/2 of receipts' share, i.e. automatic stabilisers), both DEL
envelopes scaled by e ~ U(0.995, 1.03) (a changed settlement), and every mission weight
scaled by an independent lognormal factor (σ = 0.2).
"""

from __future__ import annotations

import numpy as np

from allocator.schema import Instance


def base_arrays(inst: Instance) -> dict[str, np.ndarray]:
    years = inst.settings.horizon.labels
    by = {f.year: f for f in inst.fiscal}
    cols = ("receipts_gbp_m", "ame_current_gbp_m", "rdel_envelope_gbp_m", "cdel_envelope_gbp_m")
    return {c: np.array([getattr(by[y], c) for y in years], dtype=float) for c in cols}


def draw(inst: Instance, n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    base = base_arrays(inst)
    T = inst.settings.horizon.years
    w0 = np.array([m.weight for m in inst.settings.missions], dtype=float)
    out = []
    for _ in range(n):
        sev = rng.uniform(0.0, 0.03)
        t0 = int(rng.integers(0, T))
        shock = np.where(np.arange(T) >= t0, sev, 0.0)
        env = rng.uniform(0.995, 1.03)
        fiscal = {
            "receipts_gbp_m": base["receipts_gbp_m"] * (1.0 - shock),
            "ame_current_gbp_m": base["ame_current_gbp_m"] + 0.5 * shock * base["receipts_gbp_m"],
            "rdel_envelope_gbp_m": base["rdel_envelope_gbp_m"] * env,
            "cdel_envelope_gbp_m": base["cdel_envelope_gbp_m"] * env,
        }
        out.append({"fiscal": fiscal, "weights": w0 * rng.lognormal(0.0, 0.2, len(w0))})
    return out


def apply(inst: Instance, scenario: dict) -> Instance:
    """A copy of ``inst`` with the scenario written into its fiscal table and weights."""
    new = inst.model_copy(deep=True)
    years = new.settings.horizon.labels
    pos = {y: t for t, y in enumerate(years)}
    for f in new.fiscal:
        if f.year in pos:
            for col, arr in scenario["fiscal"].items():
                v = float(arr[pos[f.year]])
                setattr(f, col, None if np.isnan(v) else v)  # no envelope that year stays none
    for m, w in zip(new.settings.missions, scenario["weights"]):
        m.weight = float(w)
    return new
