"""Prevention Investment Expenditure (families ``pie_department_floor``, ``pie_share``).

Only PIE-flagged programmes count as PIE (the boundary is policed by the flag), and a
department's protected PIE allocation can only be met by them:

    Σ_{p PIE, d ∈ owners(p)} spend_funded_by_d[p,t] >= φ_d · π_t     (pie_department_floor)

and the total PIE share of DEL spend follows a rising minimum path σ_t:

    Σ_{p PIE} π_t q[p,t] − σ_t Σ_p π_t q[p,t] >= 0                    (pie_share)

with σ_t = min(share_max, share_start + t · share_increase_per_year).
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._labels import by_subject_year
from ..family import Family, Rows


def add(model) -> None:
    md, lp, e, s = model.data, model.lp, model.expr, model.instance.settings
    T, P = md.T, md.P
    if s.constraints.pie_department_floor:
        ds = np.flatnonzero(md.dept_pie_floor > 0)
        rows = (ds[:, None] * T + np.arange(T)).ravel()
        rhs = md.dept_pie_floor[ds][:, None] * md.deflator[None, :]
        lp.add_constraints("pie_department_floor", e.dept_pie[rows], rhs.ravel(), np.inf,
                           by_subject_year(np.array(md.departments)[ds], md.years))
    if s.constraints.pie_share:
        sigma = np.array(s.pie.share_path(T))
        if sigma.max() > 0:
            # row t: Σ_p (1[p PIE] − σ_t) cash[p,t]
            coef = md.prog_pie[:, None].astype(float) - sigma[None, :]
            pick = sp.csr_matrix((coef.ravel(), (np.tile(np.arange(T), P), np.arange(P * T))),
                                 shape=(T, P * T))
            lp.add_constraints("pie_share", pick @ e.cash, 0.0, np.inf,
                               pd.DataFrame({"year": md.years, "subject": "total PIE"}))


def check(c, plan) -> None:
    """PIE spend funded by d >= φ_d π_t; Σ_{PIE} π_t q − σ_t Σ π_t q >= 0."""
    on, s = plan.on, plan.settings
    if on.pie_department_floor:
        for D in plan.inst.departments:
            if D.pie_floor_gbp_m <= 0:
                continue
            for t, y in enumerate(plan.years):
                need = D.pie_floor_gbp_m * plan.pi[t]
                c.ge("pie_department_floor", y, D.id, plan.dept_pie[(D.id, t)], need, need, 50)
    if on.pie_share:
        path = s.pie.share_path(plan.T)
        if max(path) > 0:
            for t, y in enumerate(plan.years):
                c.ge("pie_share", y, "total PIE", plan.pie_total[t], path[t] * plan.cash_total[t],
                     plan.cash_total[t], plan.n_alloc // max(1, plan.T) + 1)


FAMILY = Family(
    module=__name__, order=60, add=add, check=check,
    rows=(Rows("pie_department_floor", "protected PIE floors",
               "the protected PIE floor of {subject} in {year}", "lowered by",
               test="pie_protection", sense=">=", switch="pie_department_floor"),
          Rows("pie_share", "PIE share path",
               "the minimum PIE share of DEL in {year} (measured in £m of PIE spend)", "lowered by",
               test="pie_protection", sense=">=", switch="pie_share")))
