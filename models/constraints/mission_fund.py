"""The Mission Fund (families ``mission_fund_size``, ``mission_fund_minimum``).

Held centrally, it funds only eligible cross-cutting programmes (two or more owning
departments, or flagged ``mission_fund_eligible``): g[p,t] exists only for those. Its
size is limited to a share φ of total DEL spend, and may have a minimum:

    Σ_p g[p,t] − φ Σ_p π_t q[p,t] <= 0                (mission_fund_size)
    Σ_p g[p,t] >= G_min                                (mission_fund_minimum, if G_min > 0)

It counts within DEL through the envelope (see del_envelope).
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from ..family import Family, Rows


def add(model) -> None:
    md, lp, e, s = model.data, model.lp, model.expr, model.instance.settings
    if not s.constraints.mission_fund or "mission_fund" not in lp.var_blocks:
        return
    T, P = md.T, md.P
    if lp.var_blocks["mission_fund"].size == 0:
        return
    both = sp.hstack([sp.eye(T), sp.eye(T)], format="csr") @ e.mission_fund
    total_spend = sp.kron(np.ones((1, P)), sp.eye(T), format="csr") @ e.cash
    labels = pd.DataFrame({"year": md.years, "subject": "Mission Fund"})
    lp.add_constraints("mission_fund_size", both - s.mission_fund.max_share_of_del * total_spend,
                       -np.inf, 0.0, labels)
    if s.mission_fund.min_gbp_m > 0:
        lp.add_constraints("mission_fund_minimum", both, s.mission_fund.min_gbp_m, np.inf, labels)


def check(c, plan) -> None:
    """Σ MF_t <= share · Σ π_t q;  Σ MF_t >= G_min."""
    s = plan.settings
    if not (plan.on.mission_fund and s.mission_fund.max_share_of_del > 0):
        return
    n = plan.n_alloc // max(1, plan.T) + 1
    for t, y in enumerate(plan.years):
        c.le("mission_fund_size", y, "Mission Fund", plan.mf[:, t].sum(),
             s.mission_fund.max_share_of_del * plan.cash_total[t], plan.cash_total[t], n)
        if s.mission_fund.min_gbp_m > 0:
            c.ge("mission_fund_minimum", y, "Mission Fund", plan.mf[:, t].sum(),
                 s.mission_fund.min_gbp_m, s.mission_fund.min_gbp_m, n)


def _with_minimum(inst):
    """uk_missions with a Mission Fund minimum (the shipped instance has none)."""
    inst = inst.model_copy(deep=True)
    inst.settings.mission_fund.min_gbp_m = 100.0
    return inst


FAMILY = Family(
    module=__name__, order=70, add=add, check=check, tamper=_with_minimum,
    rows=(Rows("mission_fund_size", "Mission Fund size", "the Mission Fund size limit in {year}",
               "raised by", test="affordability", sense="<=", switch="mission_fund"),
          Rows("mission_fund_minimum", "Mission Fund minimum", "the Mission Fund minimum in {year}",
               "lowered by", test="affordability", sense=">=", switch="mission_fund")))
