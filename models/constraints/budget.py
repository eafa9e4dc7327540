"""The one budget of a budget-mode instance (family ``budget``).

    Σ_{p∉𝒫_act} q[p,t] <= B_t = B_0 (1 + g)^t      every t, when ``budget`` is set

q[p,t] real spend (price-base money, £m internally); B_0 ``budget.amount_gbp_m`` and g
``budget.growth_per_year`` (instance.yaml); 𝒫_act the programmes measured in activity
(``activity_unit`` set: they cost no money). It is the single envelope of instances that do not
use the UK fiscal framework (``mode: budget``: no DEL envelopes, no fiscal rules).
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..family import Family, Rows


def add(model) -> None:
    b, md = model.instance.settings.budget, model.data
    if b is None:
        return
    money = np.array([p.activity_unit is None for p in model.instance.programmes], dtype=float)
    S = sp.kron(sp.csr_matrix(money[None, :]), sp.identity(md.T, format="csr"), format="csr")
    model.lp.add_constraints("budget", S @ model.expr.q, -np.inf, np.array(b.path(md.T)),
                             pd.DataFrame({"year": md.years, "subject": "budget"}))


def check(c, plan) -> None:
    """Σ_p q[p,t] <= B_t, real spend from the allocations table."""
    b = plan.settings.budget
    if b is None:
        return
    for t, (y, lim) in enumerate(zip(plan.years, b.path(plan.T))):
        tot = sum(plan.q[p][t] for p, pr in plan.progs.items() if pr.activity_unit is None)
        n = sum(max(1, plan.nrows[(p, t)]) for p in plan.progs)
        c.le("budget", y, "budget", tot, lim, abs(tot) + lim, n)


def _binding(inst):
    """For the tamper test: the base switched to budget mode (no envelope rows), the budget 0.1%
    below the base optimum's smallest yearly total real spend (so that year's row binds)."""
    from allocator.api import solve

    a = solve(inst).tables["allocations"]
    d = inst.model_dump()
    d["settings"]["mode"] = "budget"  # no DEL envelope rows binding beside it
    d["settings"]["budget"] = {"amount_gbp_m": 0.999 * float(a.groupby("year")["real_spend_gbp_m"].sum().min())}
    return type(inst).model_validate(d)


FAMILY = Family(
    module=__name__, order=58, add=add, check=check, tamper=_binding,
    rows=(Rows("budget", "budgets", "the budget in {year}", "raised by",
               test="affordability", sense="<=", unit="real £m"),))
