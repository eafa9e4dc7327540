"""Programme groups and ratios (families ``group_floor``, ``group_cap``, ``programme_ratio``).

    Σ_{p∈G} w[p,G] q[p,t] >= F_G   every group G with F_G > 0, every t        (group_floor)
    Σ_{p∈G} w[p,G] q[p,t] <= C_G   every group G with a cap, every t          (group_cap)
    q[B,t] − k q[A,t] <= 0         every ratio (B, A, k), every t              (programme_ratio)

q[p,t] real spend (price-base £m). G's members and their weights w[p,G] (default 1) are listed
in ``group_members.csv``, F_G and
C_G in ``groups.csv`` (a joint cap on substitutes, a joint floor on a package); a ratio row
(``ratios.csv``) keeps B at most k times A (B a complement that is useless without A).
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..family import Family, Rows


def members(inst) -> dict[str, list[tuple[str, float]]]:
    """Group id -> [(programme, weight)]."""
    out: dict[str, list[tuple[str, float]]] = {g.id: [] for g in inst.groups}
    for m in inst.group_members:
        out[m.group].append((m.programme, m.weight))
    return out


def _sum_rows(md, e, progs) -> sp.csr_matrix:
    """(T × n) matrix of Σ_{(p, w)∈progs} w q[p,t]."""
    ppos = {p: i for i, p in enumerate(md.programmes)}
    coef = np.zeros(md.P)
    for p, w in progs:
        coef[ppos[p]] += w
    return sp.kron(sp.csr_matrix(coef[None, :]), sp.identity(md.T, format="csr"), format="csr") @ e.q


def add(model) -> None:
    inst, md, e = model.instance, model.data, model.expr
    mem = members(inst)
    for name, groups, pick in (("group_floor", [g for g in inst.groups if g.floor_gbp_m > 0],
                                lambda g: (np.full(md.T, g.floor_gbp_m), np.inf)),
                               ("group_cap", [g for g in inst.groups if g.cap_gbp_m is not None],
                                lambda g: (-np.inf, np.full(md.T, g.cap_gbp_m)))):
        if not groups:
            continue
        A = sp.vstack([_sum_rows(md, e, mem[g.id]) for g in groups])
        lo = np.concatenate([np.broadcast_to(pick(g)[0], md.T) for g in groups])
        hi = np.concatenate([np.broadcast_to(pick(g)[1], md.T) for g in groups])
        lab = pd.DataFrame({"year": np.tile(md.years, len(groups)),
                            "subject": np.repeat([g.id for g in groups], md.T)})
        model.lp.add_constraints(name, A, lo, hi, lab)
    if inst.ratios:
        ppos = {p: i for i, p in enumerate(md.programmes)}
        rows = []
        for r in inst.ratios:
            coef = np.zeros(md.P)
            coef[ppos[r.programme]] += 1.0
            coef[ppos[r.of]] -= r.ratio
            rows.append(sp.kron(sp.csr_matrix(coef[None, :]), sp.identity(md.T, format="csr"),
                                format="csr") @ e.q)
        lab = pd.DataFrame({"year": np.tile(md.years, len(inst.ratios)),
                            "subject": np.repeat([r.id for r in inst.ratios], md.T)})
        model.lp.add_constraints("programme_ratio", sp.vstack(rows), -np.inf, 0.0, lab)


def check(c, plan) -> None:
    """Group sums and ratios recomputed from the allocations table's real spend."""
    inst = plan.inst
    mem = members(inst)
    for g in inst.groups:
        for t, y in enumerate(plan.years):
            tot = sum(w * plan.q[p][t] for p, w in mem[g.id])
            n = sum(max(1, plan.nrows[(p, t)]) for p, _ in mem[g.id])
            if g.floor_gbp_m > 0:
                c.ge("group_floor", y, g.id, tot, g.floor_gbp_m, abs(tot) + g.floor_gbp_m, n)
            if g.cap_gbp_m is not None:
                c.le("group_cap", y, g.id, tot, g.cap_gbp_m, abs(tot) + g.cap_gbp_m, n)
    for r in inst.ratios:
        for t, y in enumerate(plan.years):
            b, a = plan.q[r.programme][t], r.ratio * plan.q[r.of][t]
            n = max(1, plan.nrows[(r.programme, t)]) + max(1, plan.nrows[(r.of, t)])
            c.le("programme_ratio", y, r.id, b, a, abs(b) + abs(a), n)


def _binding(inst):
    """For the tamper test, from the base optimum: a group of its two largest programmes with a
    joint floor at their smallest yearly total and a joint cap at their largest (each binds in
    its year), and a ratio q[B] <= k q[A] with k the largest yearly ratio (binds in that year)."""
    from allocator.api import solve

    a = solve(inst).tables["allocations"]
    q = a.groupby(["programme", "year"])["real_spend_gbp_m"].sum().unstack()
    years = inst.settings.horizon.labels
    big = q[years].mean(axis=1).sort_values(ascending=False).index[:2].tolist()
    tot = q.loc[big, years].sum()
    A, B = big
    k = float((q.loc[B, years] / q.loc[A, years]).max())
    d = inst.model_dump()
    d["groups"] = [dict(id="pair_floor", floor_gbp_m=float(tot.min())),
                   dict(id="pair_cap", cap_gbp_m=float(tot.max()))]
    d["group_members"] = [dict(group=g, programme=p) for g in ("pair_floor", "pair_cap") for p in big]
    d["ratios"] = [dict(id="pair_ratio", programme=B, of=A, ratio=k)]
    return type(inst).model_validate(d)


FAMILY = Family(
    module=__name__, order=15, add=add, check=check, tamper=_binding,
    rows=(Rows("group_floor", "group floors", "the joint floor on group {subject} in {year}",
               "lowered by", test="deliverability", sense=">=", unit="real £m"),
          Rows("group_cap", "group caps", "the joint cap on group {subject} in {year}",
               "raised by", test="deliverability", sense="<=", unit="real £m"),
          Rows("programme_ratio", "programme ratios",
               "the ratio {subject} in {year}", "relaxed by",
               test="deliverability", sense="<=", unit="real £m")))
