"""Statutory demand-led minimums (family ``demand_floor``).

    q[r,t] + v[r,t] >= F_r Λ[r,t]        every r with demand_floor_gbp_m F_r, every t

A demand-led statutory service (prison places, SEND provision, temporary accommodation)
must meet projected need: its first-year minimum F_r (real £m) grows with the pressure index
Λ[r,t] (pressures.csv). Demand avoided by prevention, v[r,t] (invest_to_save.csv; 0 when r is
no target), counts towards it: prevention that keeps people out of prison or temporary
accommodation lowers the real spend the statutory duty needs, which frees room under the
department's settlement and the envelope. q + v = Λ Σ_i x[i,t] is ``expr.q_need``.
"""

import numpy as np

from ..family import Family, Rows
from ._labels import by_subject_year, rows_for


def add(model) -> None:
    md, e = model.data, model.expr
    if not model.instance.settings.constraints.demand_floors:
        return
    ps = np.flatnonzero(np.isfinite(md.prog_demand_floor))
    if not len(ps):
        return
    need = (md.prog_demand_floor[ps, None] * md.pressure[ps]).ravel()
    model.lp.add_constraints("demand_floor", e.q_need[rows_for(ps, md.T)], need, np.inf,
                             by_subject_year(np.array(md.programmes)[ps], md.years))


def check(c, plan) -> None:
    """q[r,t] + v[r,t] >= F_r Λ[r,t], with q from the allocations table, Λ from pressures.csv
    and v recomputed from the prevention programmes' spend (PlanFacts)."""
    if not plan.on.demand_floors:
        return
    for pid, p in plan.progs.items():
        if p.demand_floor_gbp_m is None:
            continue
        n = max(1, max(plan.nrows[(pid, t)] for t in range(plan.T)))
        q, v, lam = plan.q[pid], plan.avoided[pid], plan.pressure[pid]
        for t, y in enumerate(plan.years):
            need = p.demand_floor_gbp_m * lam[t]
            c.ge("demand_floor", y, pid, q[t] + v[t], need, need + abs(v[t]), n + 20,
                 lambda: f"real spend {q[t]:.6f} plus avoided demand {v[t]:.6f} is below the "
                 f"demand-led minimum {need:.6f}")


FAMILY = Family(
    module=__name__, order=15, add=add, check=check,
    rows=(Rows("demand_floor", "statutory demand-led minimums",
               "the statutory demand-led minimum of {subject} in {year}", "lowered by",
               test="deliverability", sense=">=", unit="real £m", switch="demand_floors"),))
