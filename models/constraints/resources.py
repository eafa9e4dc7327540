"""Non-money resource limits (family ``resource_limit``): staff, officers, beds, ...

    Σ_p u[p,r] q[p,t] <= L[r,t]          every resource r with a use, every t

q[p,t] real spend (price-base £m); u[p,r] resource units used per real £m of p's spend
(``resource_use.csv``, ``use_per_gbp_m``); L[r,t] the limit in year t (``resource_limits.csv``
where it lists (r, t), else ``limit · (1 + growth_per_year)^t`` from ``resources.csv``).
Rows are in resource units, so a row's shadow price is the mission value of one more unit of
the resource in that year (the row's ``category`` label carries the unit, e.g. "FTE").
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..family import Family, Rows


def limits(inst) -> dict[str, np.ndarray]:
    """L[r, t] for every resource r: explicit year rows first, else the growth path."""
    years = inst.settings.horizon.labels
    explicit = {(rl.resource, rl.year): rl.limit for rl in inst.resource_limits}
    return {r.id: np.array([explicit.get((r.id, y), r.limit * (1.0 + r.growth_per_year) ** t)
                            for t, y in enumerate(years)]) for r in inst.resources}


def use(inst) -> dict[str, dict[str, float]]:
    """u[r][p]: resource units per real £m, only resources some programme uses."""
    out: dict[str, dict[str, float]] = {}
    for u in inst.resource_use:
        out.setdefault(u.resource, {})[u.programme] = u.use_per_gbp_m
    return out


def add(model) -> None:
    inst, md, e = model.instance, model.data, model.expr
    if not inst.resources or not inst.settings.constraints.resource_limits:
        return
    L, U, T = limits(inst), use(inst), md.T
    ppos = {p: i for i, p in enumerate(md.programmes)}
    blocks, his, labels = [], [], []
    for r in inst.resources:
        if r.id not in U:
            continue
        coef = np.zeros(md.P)
        for p, u in U[r.id].items():
            coef[ppos[p]] = u
        # row t = Σ_p coef_p q[p,t]; q rows are p*T + t
        S = sp.kron(sp.csr_matrix(coef[None, :]), sp.identity(T, format="csr"), format="csr")
        blocks.append(S @ e.q)
        his.append(L[r.id])
        labels.append(pd.DataFrame({"year": md.years, "subject": r.id, "category": r.unit}))
    if blocks:
        model.lp.add_constraints("resource_limit", sp.vstack(blocks), -np.inf,
                                 np.concatenate(his), pd.concat(labels, ignore_index=True))


def check(c, plan) -> None:
    """Σ_p u[p,r] q[p,t] <= L[r,t], real spend from the allocations table."""
    inst = plan.inst
    if not plan.on.resource_limits:
        return
    L, U = limits(inst), use(inst)
    for r in inst.resources:
        if r.id not in U:
            continue
        for t, y in enumerate(plan.years):
            terms = [u * plan.q[p][t] for p, u in U[r.id].items()]
            n = sum(max(1, plan.nrows[(p, t)]) for p in U[r.id])
            c.le("resource_limit", y, r.id, sum(terms), float(L[r.id][t]),
                 sum(abs(x) for x in terms) + abs(L[r.id][t]), n)


def _binding(inst):
    """For the tamper test: one resource used at 1 unit per real £m by every programme, its limit
    each year 1% below the base optimum's total real spend, so every year's row binds."""
    from allocator.api import solve

    a = solve(inst).tables["allocations"]
    tot = a.groupby("year")["real_spend_gbp_m"].sum()
    d = inst.model_dump()
    d["resources"] = [dict(id="staff", unit="FTE", limit=1.0)]
    d["resource_limits"] = [dict(resource="staff", year=y, limit=0.99 * float(tot[y]))
                            for y in inst.settings.horizon.labels]
    d["resource_use"] = [dict(programme=p.id, resource="staff", use_per_gbp_m=1.0)
                         for p in inst.programmes]
    return type(inst).model_validate(d)


FAMILY = Family(
    module=__name__, order=95, add=add, check=check, tamper=_binding,
    rows=(Rows("resource_limit", "resource limits",
               "the limit on {subject} ({category}) in {year}", "raised by",
               test="deliverability", sense="<=", unit="resource units",
               switch="resource_limits"),))
