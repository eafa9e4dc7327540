"""Total DEL envelope per year and category (family ``del_envelope``; envelope mode only).

    Σ_d L[d,c,t] + MF[c,t] <= E[c,t]        for c ∈ {resource, capital}, every t with an E[c,t]

MF[c,t] is Mission Fund spend on category-c programmes: the Fund counts within DEL.
A year whose envelope cell is empty has no envelope row: there the fiscal rules govern
the total (and settlement limits equal department spend, see ``settlements``).
In ``fiscal`` mode there is no envelope and the fiscal rules bind instead.
"""

import numpy as np
import pandas as pd

from ..data import CATEGORIES
from ..family import Family, Rows


def envelope_rows(model) -> np.ndarray:
    """Row c*T + t of every (category, year) with an envelope figure in the instance (fixed at
    build: a later parameter update may set a figure to infinity, never add or drop a row)."""
    md, inst = model.data, model.instance
    fy = {f.year: f for f in inst.fiscal}
    have = [fy[y].rdel_envelope_gbp_m is not None for y in md.years]
    have += [fy[y].cdel_envelope_gbp_m is not None for y in md.years]
    return np.flatnonzero(have)


def bounds(model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    md = model.data
    rows = envelope_rows(model)
    rhs = np.concatenate([md.fiscal["rdel_envelope_gbp_m"], md.fiscal["cdel_envelope_gbp_m"]])[rows]
    return {"del_envelope": (np.full(len(rows), -np.inf), rhs)}


def add(model) -> None:
    md, lp, e, s = model.data, model.lp, model.expr, model.instance.settings
    if s.mode != "envelope" or not s.constraints.del_envelope:
        return
    rows = envelope_rows(model)
    labels = pd.DataFrame({"year": np.tile(md.years, 2), "subject": "total DEL",
                           "category": np.repeat(CATEGORIES, md.T)}).iloc[rows]
    lp.add_constraints("del_envelope", e.del_total[rows], *bounds(model)["del_envelope"], labels)


def check(c, plan) -> None:
    """Σ_d L[d,c,t] + MF[c,t] <= E[c,t] (envelope mode; years with an envelope figure)."""
    if plan.settings.mode != "envelope" or not plan.on.del_envelope:
        return
    for t, y in enumerate(plan.years):
        for k, col in enumerate(("rdel_envelope_gbp_m", "cdel_envelope_gbp_m")):
            if np.isnan(plan.F[col][t]):
                continue  # no envelope this year: the fiscal rules govern
            c.le("del_envelope", y, ("resource", "capital")[k], plan.del_tot[k, t], plan.F[col][t],
                 abs(plan.F[col][t]), len(plan.dept_ids) + 50)


FAMILY = Family(
    module=__name__, order=50, add=add, check=check, bounds=bounds,
    rows=(Rows("del_envelope", "DEL envelopes", "the {category} DEL envelope in {year}",
               "raised by", test="affordability", sense="<=", switch="del_envelope",
               fiscal_rule=True, finding=("the DEL envelope", "envelope")),))
