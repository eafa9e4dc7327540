"""Real-terms floor on each department's DEL (family ``department_real_floor``).

    L[d,resource,t] + L[d,capital,t] >= f_d · (B_d^R + B_d^C) · π_t     for d with f_d > 0

B_d are the department's year-1 baselines (cash), π_t the deflator, f_d its real_floor.
"""

import numpy as np
import scipy.sparse as sp

from ._labels import by_subject_year
from ..family import Family, Rows


def add(model) -> None:
    md, lp, e = model.data, model.lp, model.expr
    if not model.instance.settings.constraints.department_real_floor:
        return
    T, D = md.T, md.D
    ds = np.flatnonzero(md.dept_real_floor > 0)
    if len(ds) == 0:
        return
    # (D*T × 2*D*T): add the two category rows of each department-year
    total = sp.kron(sp.eye(D), sp.hstack([sp.eye(T), sp.eye(T)]), format="csr") @ e.limit
    rows = (ds[:, None] * T + np.arange(T)).ravel()
    rhs = (md.dept_real_floor[ds] * md.dept_baseline[ds].sum(axis=1))[:, None] * md.deflator[None, :]
    lp.add_constraints("department_real_floor", total[rows], rhs.ravel(), np.inf,
                       by_subject_year(np.array(md.departments)[ds], md.years))


def check(c, plan) -> None:
    """L[d,R,t] + L[d,C,t] >= f_d (B_d^R + B_d^C) π_t, limits from the departments table."""
    if not plan.on.department_real_floor:
        return
    for d, D in enumerate(plan.inst.departments):
        if D.real_floor <= 0:
            continue
        base = D.rdel_baseline_gbp_m + D.cdel_baseline_gbp_m
        for t, y in enumerate(plan.years):
            need = D.real_floor * base * plan.pi[t]
            c.ge("department_real_floor", y, D.id, plan.lim[d, 0, t] + plan.lim[d, 1, t], need,
                 need, 2)


FAMILY = Family(
    module=__name__, order=40, add=add, check=check,
    rows=(Rows("department_real_floor", "departmental real-terms floors",
               "the real-terms floor of {subject} in {year}", "lowered by",
               test="affordability", sense=">=", switch="department_real_floor"),))
