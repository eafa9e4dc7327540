"""Barnett consequentials (family ``barnett``; table barnett.csv; switch ``barnett``).

A devolved department n's limit in category c follows changes in comparable spending of
the UK departments d with a comparability factor cf[n,d] and the nation's population
proportion pp[n,d] (Statement of Funding Policy), β[n,d] = cf[n,d] · pp[n,d]:

    L[n,c,t] − Σ_d β[n,d] CE[d,c,t] = Ref[n,c,t] − Σ_d β[n,d] Ref[d,c,t]      every c, t

(">=" with ``settlement_profile: flat_real``: a settlement flat in real terms over a period
covers the consequentials of every year in it.)

Comparable spending CE[d,c,t] = L[d,c,t] + MF[d,c,t] is d's limit plus Mission Fund spend
on category-c programmes whose first owner is d (new English spending counts however it
is funded). Ref is the reference path against which changes are measured:

    Ref[d,c,t] = V[d,c,t]                    if settled.csv has the figure (any department)
               = V[d,c,t'] · π_t / π_t'      else, t' the latest earlier settled year (flat real)
               = B[d,c] · π_t                 if nothing is settled up to t (the year-1 baseline)
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..data import CATEGORIES
from ..family import Family, Rows


def reference_path(model) -> np.ndarray:
    """Ref[d,c,t], cash £m, shape (D, 2, T) (see the module docstring)."""
    md, inst = model.data, model.instance
    T, D, pi = md.T, md.D, md.deflator
    settled = np.full((D, 2, T), np.nan)
    for r in inst.settled:
        settled[md.departments.index(r.department), CATEGORIES.index(r.category),
                md.years.index(r.year)] = r.limit_gbp_m
    ref = np.zeros((D, 2, T))
    for d in range(D):
        for c in range(2):
            last_v, last_t = md.dept_baseline[d, c], 0
            for t in range(T):
                if np.isfinite(settled[d, c, t]):
                    last_v, last_t = settled[d, c, t], t
                    ref[d, c, t] = last_v
                else:
                    ref[d, c, t] = last_v * pi[t] / pi[last_t]
    return ref


def _beta(model):
    md, inst = model.data, model.instance
    nations = list(dict.fromkeys(b.devolved for b in inst.barnett))
    beta = np.zeros((len(nations), md.D))
    for b in inst.barnett:
        beta[nations.index(b.devolved), md.departments.index(b.department)] = \
            b.comparability_factor * b.population_proportion
    return nations, beta


def bounds(model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    md = model.data
    nations, beta = _beta(model)
    ref = reference_path(model)
    n_idx = np.array([md.departments.index(n) for n in nations], dtype=int)
    # rhs[n,c,t] = Ref[n,c,t] − Σ_d β[n,d] Ref[d,c,t]
    rhs = ref[n_idx] - np.einsum("nd,dct->nct", beta, ref)
    hi = rhs.ravel().copy() if model.instance.settings.settlement_profile != "flat_real" \
        else np.full(rhs.size, np.inf)
    return {"barnett": (rhs.ravel(), hi)}


def add(model) -> None:
    md, lp, e, inst = model.data, model.lp, model.expr, model.instance
    if not inst.settings.constraints.barnett or not inst.barnett:
        return
    T, D = md.T, md.D
    nations, beta = _beta(model)
    n_idx = np.array([md.departments.index(n) for n in nations], dtype=int)
    # Mission Fund spend by (first owner d, category c, year t): row (2d + c) T + t
    gb = lp.var_blocks["mission_fund"]
    mf = sp.csr_matrix((2 * D * T, lp.n))
    if gb.size:
        pos = {p: i for i, p in enumerate(md.programmes)}
        p = gb.index["programme"].map(pos).to_numpy(dtype=int)
        t = gb.index["year"].map({y: i for i, y in enumerate(md.years)}).to_numpy(dtype=int)
        d = np.array([md.prog_owners[i][0] for i in p], dtype=int)
        rows = (2 * d + md.prog_category[p]) * T + t
        mf = lp.column_matrix(gb, sp.csr_matrix((np.ones(gb.size), (rows, np.arange(gb.size))),
                                                shape=(2 * D * T, gb.size)))
    comparable = (e.limit + mf).tocsr()  # CE, row (2d + c) T + t
    # (N*2*T × 2*D*T): β[n,d] on (n,c,t) ← (d,c,t)
    spread = sp.kron(sp.csr_matrix(beta), sp.eye(2 * T), format="csr")
    own = sp.kron(sp.csr_matrix((np.ones(len(nations)), (np.arange(len(nations)), n_idx)),
                                shape=(len(nations), D)), sp.eye(2 * T), format="csr")
    A = own @ e.limit - spread @ comparable
    labels = pd.DataFrame({"year": np.tile(md.years, 2 * len(nations)),
                           "subject": np.repeat(nations, 2 * T),
                           "category": np.tile(np.repeat(CATEGORIES, T), len(nations))})
    lp.add_constraints("barnett", A, *bounds(model)["barnett"], labels)


def check(c, plan) -> None:
    """L[n,c,t] − Ref[n,c,t] = Σ_d β[n,d] (L[d,c,t] + MF[d,c,t] − Ref[d,c,t]) (>= with
    flat_real), limits from the departments table, Mission Fund spend by first owner from the
    allocations table, Ref recomputed here from settled.csv and the departments' baselines."""
    inst, on, pi = plan.inst, plan.on, plan.pi
    if not (on.barnett and inst.barnett):
        return
    settled = {(r.department, 0 if r.category == "resource" else 1, plan.pos[r.year]): r.limit_gbp_m
               for r in inst.settled}
    base = {d.id: (d.rdel_baseline_gbp_m, d.cdel_baseline_gbp_m) for d in inst.departments}

    def ref(dep: str, k: int, t: int) -> float:
        for u in range(t, -1, -1):  # the latest settled figure at or before t, held flat real
            if (dep, k, u) in settled:
                return settled[(dep, k, u)] * pi[t] / pi[u]
        return base[dep][k] * pi[t] / pi[0]

    ge = inst.settings.settlement_profile == "flat_real"
    for n in dict.fromkeys(b.devolved for b in inst.barnett):
        rows = [b for b in inst.barnett if b.devolved == n]
        i = plan.dept_ids.index(n)
        for t, y in enumerate(plan.years):
            for k, cat in enumerate(("resource", "capital")):
                got = plan.lim[i, k, t]
                change, scale = 0.0, abs(got)
                for b in rows:
                    d = plan.dept_ids.index(b.department)
                    ce = plan.lim[d, k, t] + plan.mf_owner[(b.department, k, t)]
                    beta = b.comparability_factor * b.population_proportion
                    change += beta * (ce - ref(b.department, k, t))
                    scale += beta * (abs(ce) + abs(ref(b.department, k, t)))
                want = ref(n, k, t) + change
                (c.ge if ge else c.eq)("barnett", y, n, got, want, scale, len(rows) + 2,
                                       lambda: f"{cat} block grant {got:.6f}; Barnett gives {want:.6f}")


FAMILY = Family(
    module=__name__, order=95, add=add, check=check, bounds=bounds,
    rows=(Rows("barnett", "Barnett consequentials",
               "the Barnett consequential for the {subject} {category} block grant in {year}",
               "relaxed by", test="affordability", sense="==", switch="barnett",
               finding=("the Barnett formula (devolved block grants follow English spending)",
                        "exemption from Barnett consequentials"),
               set_by_plan="an appraisal sets each devolved limit from its Barnett row (the "
               "reference plus the consequentials of the plan's comparable spending); a results "
               "folder with another devolved limit is caught by the independent check"),))
