"""Programme floors and capacity caps (families ``programme_floor``, ``programme_cap``).

    q[p,t] >= floor_p        for every p with floor_p > 0, every t      (programme_floor)
    q[p,t] <= cap_p          for every p with a cap, every t            (programme_cap)

where q[p,t] = Σ_i x[i,t] over the response pieces of p is real spend (price-base £m).
"""

import numpy as np

from ..family import Family, Rows
from ._labels import by_subject_year, rows_for


def add(model) -> None:
    md, lp, e, on = model.data, model.lp, model.expr, model.instance.settings.constraints
    names = np.array(md.programmes)
    if on.programme_floors:
        ps = np.flatnonzero(md.prog_floor > 0)
        lp.add_constraints("programme_floor", e.q[rows_for(ps, md.T)],
                           np.repeat(md.prog_floor[ps], md.T), np.inf,
                           by_subject_year(names[ps], md.years))
    if on.programme_caps:
        ps = np.flatnonzero(np.isfinite(md.prog_cap))
        lp.add_constraints("programme_cap", e.q[rows_for(ps, md.T)], -np.inf,
                           np.repeat(md.prog_cap[ps], md.T), by_subject_year(names[ps], md.years))


def check(c, plan) -> None:
    """floor_p <= q[p,t] <= cap_p, recomputed from the allocations table."""
    on = plan.on
    for pid, p in plan.progs.items():
        n = max(1, max(plan.nrows[(pid, t)] for t in range(plan.T)))
        for t, y in enumerate(plan.years):
            if on.programme_floors and p.floor_gbp_m > 0:
                c.ge("programme_floor", y, pid, plan.q[pid][t], p.floor_gbp_m, p.floor_gbp_m, n)
            if on.programme_caps and p.cap_gbp_m is not None:
                c.le("programme_cap", y, pid, plan.q[pid][t], p.cap_gbp_m, p.cap_gbp_m, n)


FAMILY = Family(
    module=__name__, order=10, add=add, check=check,
    rows=(Rows("programme_floor", "programme floors", "the floor on programme {subject} in {year}",
               "lowered by", test="deliverability", sense=">=", unit="real £m",
               switch="programme_floors"),
          Rows("programme_cap", "programme caps", "the cap on programme {subject} in {year}",
               "raised by", test="deliverability", sense="<=", unit="real £m",
               switch="programme_caps")))
