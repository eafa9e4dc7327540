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
    """floor_p <= q[p,t] <= cap_p, recomputed from the allocations table (every programme-year
    at once: ``plan.Q`` is q (P, T) in the order of ``plan.pids``)."""
    on = plan.on
    progs = [plan.progs[pid] for pid in plan.pids]
    ids, years, T = np.array(plan.pids, dtype=object), np.array(plan.years, dtype=object), plan.T
    n = np.maximum(1, plan.n_q.max(axis=1, initial=0))  # allocation rows behind each q (rounding)
    if on.programme_floors:
        ps = np.array([i for i, p in enumerate(progs) if p.floor_gbp_m > 0], dtype=int)
        fl = np.repeat([progs[i].floor_gbp_m for i in ps], T)
        c.ge_many("programme_floor", np.tile(years, len(ps)), np.repeat(ids[ps], T),
                  plan.Q[ps].ravel(), fl, fl, np.repeat(n[ps], T))
    if on.programme_caps:
        ps = np.array([i for i, p in enumerate(progs) if p.cap_gbp_m is not None], dtype=int)
        cap = np.repeat([progs[i].cap_gbp_m for i in ps], T)
        c.le_many("programme_cap", np.tile(years, len(ps)), np.repeat(ids[ps], T),
                  plan.Q[ps].ravel(), cap, cap, np.repeat(n[ps], T))


FAMILY = Family(
    module=__name__, order=10, add=add, check=check,
    rows=(Rows("programme_floor", "programme floors", "the floor on programme {subject} in {year}",
               "lowered by", test="deliverability", sense=">=", unit="real £m",
               switch="programme_floors"),
          Rows("programme_cap", "programme caps", "the cap on programme {subject} in {year}",
               "raised by", test="deliverability", sense="<=", unit="real £m",
               switch="programme_caps")))
