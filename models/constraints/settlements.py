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
from ..family import Family, Rows


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


def check(c, plan) -> None:
    """Department-funded spend <= L[d,c,t] (= when the switch is off or in fiscal mode; the
    optimiser never leaves a fiscal-mode limit unspent), L >= 0, and with ``flat_real`` the
    limit divided by π_t is flat within each Spending Review period. L is read from the
    departments table."""
    s, on, pi = plan.settings, plan.on, plan.pi
    limit_only = on.settlements and s.mode == "envelope"
    for d, dep in enumerate(plan.dept_ids):
        for t, y in enumerate(plan.years):
            for k, cat in enumerate(("resource", "capital")):
                L, S = plan.lim[d, k, t], plan.dept_spend[(dep, k, t)]
                if np.isnan(L):
                    continue  # the driver reports the missing departments row
                c.ge("settlement", y, f"{dep} {cat}", L, 0.0, 0.0, 1,
                     lambda: f"negative settlement {L:.6f}")
                if limit_only:
                    c.le("settlement", y, f"{dep} {cat}", S, L, abs(S) + abs(L), 50,
                         lambda: f"department-funded spend {S:.6f} exceeds the settlement {L:.6f}")
                else:
                    c.eq("settlement", y, f"{dep} {cat}", S, L, abs(S) + abs(L), 50)
    if s.settlement_profile == "flat_real":
        for per in s.spending_reviews:
            ts = list(range(plan.pos[per.start], plan.pos[per.end] + 1))
            for d, dep in enumerate(plan.dept_ids):
                for k in range(2):
                    real = plan.lim[d, k, ts] / pi[ts]
                    c.le("settlement", per.start, f"{dep} {per.id}",
                         float(np.nanmax(real) - np.nanmin(real)), 0.0,
                         float(np.nanmax(np.abs(real))), 2,
                         "settlement is not flat in real terms within the period")


FAMILY = Family(
    module=__name__, order=30, add=add, check=check,
    rows=(Rows("settlement", "departmental settlements",
               "the {category} settlement of {subject} in {year}", "raised by",
               test="affordability", sense="<=", switch="settlements",
               set_by_plan="an appraisal sets each settlement to the smallest that covers the "
               "plan's department spend, so a plan cannot exceed it; an over-spent settlement "
               "in a results folder is caught by the independent check"),))
