"""Total DEL envelope per year and category (family ``del_envelope``; envelope mode only).

    Σ_d L[d,c,t] + MF[c,t] <= E[c,t]        for c ∈ {resource, capital}, every t

MF[c,t] is Mission Fund spend on category-c programmes: the Fund counts within DEL.
In ``fiscal`` mode there is no envelope and the fiscal rules bind instead.
"""

import numpy as np
import pandas as pd

from ..data import CATEGORIES
from ..family import Family, Rows


def bounds(model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    md = model.data
    rhs = np.concatenate([md.fiscal["rdel_envelope_gbp_m"], md.fiscal["cdel_envelope_gbp_m"]])
    return {"del_envelope": (np.full(2 * md.T, -np.inf), rhs)}


def add(model) -> None:
    md, lp, e, s = model.data, model.lp, model.expr, model.instance.settings
    if s.mode != "envelope" or not s.constraints.del_envelope:
        return
    labels = pd.DataFrame({"year": np.tile(md.years, 2), "subject": "total DEL",
                           "category": np.repeat(CATEGORIES, md.T)})
    lp.add_constraints("del_envelope", e.del_total, *bounds(model)["del_envelope"], labels)


def check(c, plan) -> None:
    """Σ_d L[d,c,t] + MF[c,t] <= E[c,t] (envelope mode)."""
    if plan.settings.mode != "envelope" or not plan.on.del_envelope:
        return
    for t, y in enumerate(plan.years):
        for k, col in enumerate(("rdel_envelope_gbp_m", "cdel_envelope_gbp_m")):
            c.le("del_envelope", y, ("resource", "capital")[k], plan.del_tot[k, t], plan.F[col][t],
                 abs(plan.F[col][t]), len(plan.dept_ids) + 50)


FAMILY = Family(
    module=__name__, order=50, add=add, check=check, bounds=bounds,
    rows=(Rows("del_envelope", "DEL envelopes", "the {category} DEL envelope in {year}",
               "raised by", test="affordability", sense="<=", switch="del_envelope"),))
