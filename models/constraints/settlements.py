"""Departmental settlements (family ``settlement``).

Each department d gets a settlement per category c. With ``settlement_profile: annual``
(default) it is a limit for every year, S[d,c,t] = L[d,c,t] (the SR tables' profile).
With ``flat_real`` it is one figure per Spending Review period k, S[d,k,c] (cash £m at
the prices of the period's first year k0), flat in real terms, so the limit in year
t ∈ k is L[d,c,t] = S[d,k,c] · π_t / π_k0. Department-funded spend stays within it:

    Σ_{p owned by d, cat c} spend_funded_by_d[p,t] − L[d,c,t] <= 0      for all d, c, t

With the ``settlements`` switch off, and in ``fiscal`` mode, the row is an equality (limits
are what departments spend): in fiscal mode the rules count limits and no envelope bounds
them, so an unspent limit would be an arbitrary paper figure.
"""

import numpy as np
import pandas as pd

from ..data import CATEGORIES


def add(model) -> None:
    md, lp, e = model.data, model.lp, model.expr
    T, D = md.T, md.D
    labels = pd.DataFrame({
        "year": np.tile(md.years, 2 * D),
        "subject": np.repeat(md.departments, 2 * T),
        "category": np.tile(np.repeat(CATEGORIES, T), D),
    })
    settings = model.instance.settings
    # equality when settlements are off, and in fiscal mode: there the fiscal rules count the
    # limits and nothing else bounds them, so a limit above spend would be an arbitrary
    # (and, outside the rules' target years, unbounded) paper figure
    lo = -np.inf if settings.constraints.settlements and settings.mode == "envelope" else 0.0
    lp.add_constraints("settlement", e.dept_spend - e.limit, lo, 0.0, labels)
