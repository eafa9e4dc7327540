"""All-or-nothing business cases (family ``business_case``; a MIP only when used).

A programme flagged ``all_or_nothing`` is one business case decided once for the whole
horizon: either it is not taken up and real spend stays at the baseline b_p, or it is
funded in full at the cap C_p every year. With a binary z_p:

    q[p,t] − (C_p − b_p) · z_p = b_p        for every year t,   z_p ∈ {0, 1}

The z columns are added after every other family but the target rows (the shared expressions are padded
with zero columns), so instances without the flag build exactly the LP they did before.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..family import Family, Rows


def programmes(model) -> np.ndarray:
    return np.array([i for i, p in enumerate(model.instance.programmes)
                     if getattr(p, "all_or_nothing", False)], dtype=int)


def integrality(model) -> np.ndarray | None:
    """Boolean mask of integer columns (None when the model is a pure LP)."""
    block = model.lp.var_blocks.get("business_case")
    if block is None or block.size == 0:
        return None
    mask = np.zeros(model.lp.n, dtype=bool)
    mask[block.start:block.start + block.size] = True
    return mask


def _pad_expressions(e, n: int) -> None:
    """Widen every shared expression matrix to ``n`` columns (the new ones are zero)."""
    for name, val in vars(e).items():
        if sp.issparse(val) and val.shape[1] < n:
            setattr(e, name, sp.hstack([val, sp.csr_matrix((val.shape[0], n - val.shape[1]))],
                                       format="csr"))


def add(model) -> None:
    md, lp, e = model.data, model.lp, model.expr
    ps = programmes(model)
    if len(ps) == 0:
        return
    T = md.T
    names = np.array(md.programmes)[ps]
    z = lp.add_variables("business_case", pd.DataFrame({"programme": names}), 0.0, 1.0)
    _pad_expressions(e, lp.n)
    rows = (ps[:, None] * T + np.arange(T)[None, :]).ravel()
    q = e.q[rows]
    span = np.repeat(md.prog_cap[ps] - md.prog_baseline[ps], T)
    local = sp.csr_matrix((-span, (np.arange(len(rows)), np.repeat(np.arange(len(ps)), T))),
                          shape=(len(rows), len(ps)))
    base = np.repeat(md.prog_baseline[ps], T)
    lp.add_constraints("business_case", q + lp.column_matrix(z, local), base, base,
                       pd.DataFrame({"year": np.tile(md.years, len(ps)), "subject": np.repeat(names, T)}))


def check(c, plan) -> None:
    """An all-or-nothing programme spends b_p every year or C_p every year."""
    T = plan.T
    for pid, p in plan.progs.items():
        if not (getattr(p, "all_or_nothing", False) and p.cap_gbp_m is not None):
            continue
        q = plan.q[pid]
        n = max(1, max(plan.nrows[(pid, t)] for t in range(T)))
        full = [abs(q[t] - p.cap_gbp_m) <= c.tol(p.cap_gbp_m, n) for t in range(T)]
        none = [abs(q[t] - p.baseline_gbp_m) <= c.tol(p.baseline_gbp_m, n) for t in range(T)]
        c.report.checked["business_case"] = c.report.checked.get("business_case", 0) + 1
        if not (all(full) or all(none)):
            off = min(range(T), key=lambda t: 0 if not (full[t] or none[t]) else 1)
            c.fail("business_case", plan.years[off], pid,
                   f"all-or-nothing business case funded in part: real spend "
                   f"{[round(float(v), 6) for v in q]} is neither the baseline "
                   f"{p.baseline_gbp_m} nor the cap {p.cap_gbp_m} in every year")


def _flag_one(inst):
    """An instance with one all-or-nothing business case (the first programme with a cap, or
    the first programme given a cap of twice its baseline plus 10)."""
    from allocator.schema import Instance

    d = inst.model_dump()
    p = next((p for p in d["programmes"] if p["cap_gbp_m"] is not None), d["programmes"][0])
    if p["cap_gbp_m"] is None:
        p["cap_gbp_m"] = 2 * p["baseline_gbp_m"] + 10.0
    p["all_or_nothing"] = True
    return Instance.model_validate(d)


FAMILY = Family(
    module=__name__, order=100, add=add, check=check, tamper=_flag_one,
    rows=(Rows("business_case", "all-or-nothing business cases",
               "the all-or-nothing business case {subject} in {year}", "relaxed by",
               test="deliverability", sense="==", unit="real £m"),))
