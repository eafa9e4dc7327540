"""Departmental settlements (families ``settlement``, ``settled_total``, ``committed_path``).

Each department d gets a settlement per category c. With ``settlement_profile: annual``
(default) it is a limit for every year, S[d,c,t] = L[d,c,t] (the SR tables' profile).
With ``flat_real`` it is one figure per Spending Review period k, S[d,k,c] (cash £m at
the prices of the period's first year k0), flat in real terms, so the limit in year
t ∈ k is L[d,c,t] = S[d,k,c] · π_t / π_k0. Department-funded spend stays within it:

    Σ_{p owned by d, cat c} spend_funded_by_d[p,t] − L[d,c,t] <= 0      for all d, c, t

The row is an equality (limits are what departments spend) when the ``settlements`` switch
is off, in ``fiscal`` mode, and in envelope mode in a year without an envelope for
category c: there the fiscal rules count the limits and nothing else bounds them, so an
unspent limit would be an arbitrary paper figure. A devolved department whose limits follow
Barnett (switch ``barnett`` on, rows in barnett.csv) always keeps the inequality: its limit
is set by the Barnett rows.

Settled totals (switch ``settled_totals``; table settled.csv): where a Spending Review has
already settled department d's category-c limit for year t at V[d,c,t] (cash) and the row's
``fixed`` flag is true, the limit is fixed; a devolved department's settled figures (and any
row with ``fixed`` false) are only the Barnett reference path:

    L[d,c,t] = V[d,c,t]

Committed paths (switch ``committed_paths``; table committed.csv): a committed floor on a
department's total DEL, e.g. the defence path (cash):

    L[d,R,t] + L[d,C,t] >= K[d,t]
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..data import CATEGORIES
from ..family import Family, Rows


def barnett_departments(model) -> set[str]:
    """Devolved departments whose limits follow Barnett rows (empty when the switch is off)."""
    inst = model.instance
    return {b.devolved for b in inst.barnett} if inst.settings.constraints.barnett else set()


def settled_values(model) -> list[tuple[int, int, int, float]]:
    """(d, c, t, V) for every settled figure of a department that is not Barnett-determined."""
    md, inst = model.data, model.instance
    devolved = barnett_departments(model)
    out = []
    for r in inst.settled:
        if r.department in devolved or not r.fixed:
            continue
        out.append((md.departments.index(r.department), CATEGORIES.index(r.category),
                    md.years.index(r.year), float(r.limit_gbp_m)))
    return out


def add(model) -> None:
    md, lp, e = model.data, model.lp, model.expr
    T, D = md.T, md.D
    labels = pd.DataFrame({
        "year": np.tile(md.years, 2 * D),
        "subject": np.repeat(md.departments, 2 * T),
        "category": np.tile(np.repeat(CATEGORIES, T), D),
    })
    settings = model.instance.settings
    on = settings.constraints
    # row (2d + c) T + t is an equality (lo = 0) unless settlements are on in envelope mode and
    # (c, t) has an envelope; Barnett-determined limits always keep the inequality
    if on.settlements and settings.mode == "envelope":
        env = np.vstack([md.fiscal["rdel_envelope_gbp_m"], md.fiscal["cdel_envelope_gbp_m"]])
        no_env = np.isnan(env) if on.del_envelope else np.zeros(env.shape, dtype=bool)
        lo = np.where(np.tile(no_env.ravel(), D), 0.0, -np.inf)
    else:
        lo = np.zeros(2 * D * T)
    for d in barnett_departments(model):
        i = md.departments.index(d)
        lo[2 * i * T:(2 * i + 2) * T] = -np.inf
    lp.add_constraints("settlement", e.dept_spend - e.limit, lo, 0.0, labels)

    if on.settled_totals:
        vals = settled_values(model)
        if vals:
            d, c, t, v = (np.array(a) for a in zip(*vals))
            rows = ((2 * d + c) * T + t).astype(int)
            lp.add_constraints("settled_total", e.limit[rows], v, v,
                               pd.DataFrame({"year": np.array(md.years)[t.astype(int)],
                                             "subject": np.array(md.departments)[d.astype(int)],
                                             "category": np.array(CATEGORIES)[c.astype(int)]}))

    if on.committed_paths and model.instance.committed:
        cm = model.instance.committed
        d = np.array([md.departments.index(r.department) for r in cm], dtype=int)
        t = np.array([md.years.index(r.year) for r in cm], dtype=int)
        total = (e.limit[(2 * d) * T + t] + e.limit[(2 * d + 1) * T + t])
        lp.add_constraints("committed_path", sp.csr_matrix(total),
                           np.array([r.min_del_gbp_m for r in cm]), np.inf,
                           pd.DataFrame({"year": np.array(md.years)[t],
                                         "subject": np.array(md.departments)[d]}))


def check(c, plan) -> None:
    """Department-funded spend <= L[d,c,t]; = when the switch is off, in fiscal mode or in a
    year without that envelope (the optimiser never leaves such a limit unspent), except a
    Barnett-determined devolved limit; L >= 0; with ``flat_real`` L/π_t flat within each
    period. Settled totals: L[d,c,t] = V for fixed settled.csv rows (not Barnett-determined).
    Committed paths: L[d,R,t] + L[d,C,t] >= K. L is read from the departments table."""
    s, on, pi, inst = plan.settings, plan.on, plan.pi, plan.inst
    devolved = {b.devolved for b in inst.barnett} if on.barnett else set()
    for d, dep in enumerate(plan.dept_ids):
        for t, y in enumerate(plan.years):
            for k, cat in enumerate(("resource", "capital")):
                L, S = plan.lim[d, k, t], plan.dept_spend[(dep, k, t)]
                if np.isnan(L):
                    continue  # the driver reports the missing departments row
                c.ge("settlement", y, f"{dep} {cat}", L, 0.0, 0.0, 1,
                     lambda: f"negative settlement {L:.6f}")
                no_env = on.del_envelope and np.isnan(
                    plan.F[("rdel_envelope_gbp_m", "cdel_envelope_gbp_m")[k]][t])
                if (on.settlements and s.mode == "envelope" and not no_env) or dep in devolved:
                    c.le("settlement", y, f"{dep} {cat}", S, L, abs(S) + abs(L), 50,
                         lambda: f"department-funded spend {S:.6f} exceeds the settlement {L:.6f}")
                else:
                    c.eq("settlement", y, f"{dep} {cat}", S, L, abs(S) + abs(L), 50)
    if s.settlement_profile == "flat_real":
        for per in s.spending_reviews:
            ts = list(range(plan.pos[per.start], plan.pos[per.end] + 1))
            for d, dep in enumerate(plan.dept_ids):
                for k in range(2):
                    real = plan.lim[d, k, ts] / pi[ts]
                    c.le("settlement", per.start, f"{dep} {per.id}",
                         float(np.nanmax(real) - np.nanmin(real)), 0.0,
                         float(np.nanmax(np.abs(real))), 2,
                         "settlement is not flat in real terms within the period")
    if on.settled_totals:
        for r in inst.settled:
            if not r.fixed or r.department in devolved:
                continue
            k = 0 if r.category == "resource" else 1
            L, v = plan.lim[plan.dept_ids.index(r.department), k, plan.pos[r.year]], r.limit_gbp_m
            c.eq("settled_total", r.year, r.department, L, v, abs(v), 1,
                 lambda: f"{r.category} limit {L:.6f} differs from the settled figure {v:.6f}")
    if on.committed_paths:
        for r in inst.committed:
            d, t = plan.dept_ids.index(r.department), plan.pos[r.year]
            c.ge("committed_path", r.year, r.department, plan.lim[d, 0, t] + plan.lim[d, 1, t],
                 r.min_del_gbp_m, r.min_del_gbp_m, 2)


def _settled_binding(inst):
    """For the tamper test: tiny with B's 2026-27 resource settlement fixed at 18 and A's
    total DEL committed to at least 17 in 2028-29 (both bind: tests/test_fiscal_side.py);
    uk_missions as it is."""
    from allocator.schema import Instance

    if inst.settings.name != "tiny":
        return inst  # the UK default's settled totals and defence path bind already
    d = inst.model_dump()
    d["settled"] = [dict(department="B", year="2026-27", category="resource", limit_gbp_m=18.0)]
    d["committed"] = [dict(department="A", year="2028-29", min_del_gbp_m=17.0)]
    return Instance.model_validate(d)


FAMILY = Family(
    module=__name__, order=30, add=add, check=check, tamper=_settled_binding,
    rows=(Rows("settlement", "departmental settlements",
               "the {category} settlement of {subject} in {year}", "raised by",
               test="affordability", sense="<=", switch="settlements",
               set_by_plan="an appraisal sets each settlement to the smallest that covers the "
               "plan's department spend, so a plan cannot exceed it; an over-spent settlement "
               "in a results folder is caught by the independent check"),
          Rows("settled_total", "settled SR totals",
               "the settled {category} total of {subject} in {year}", "reopened by",
               test="affordability", sense="==", switch="settled_totals",
               finding=("a settled SR2025 departmental total", "settled total (reopening it)"),
               set_by_plan="an appraisal sets a settled department's limit to its settled figure "
               "(a plan that overspends it breaks the settlement row instead); a results folder "
               "with another limit is caught by the independent check"),
          Rows("committed_path", "committed paths (defence)",
               "the committed DEL path of {subject} in {year}", "lowered by",
               test="affordability", sense=">=", switch="committed_paths",
               finding=("a committed departmental path (defence)", "room below the committed path"))))
