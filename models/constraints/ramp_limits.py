"""Ramp limits on year-to-year change in real spend (family ``ramp_limit``).

    −R_p <= q[p,0] − b_p     <= R_p                   (from the baseline into year 1)
    −R_p <= q[p,t] − q[p,t-1] <= R_p   for t = 1..T-1

for every programme with a ramp limit R_p (real £m per year); b_p is baseline spend.
"""

import numpy as np
import scipy.sparse as sp

from ..family import Family, Rows
from ._labels import by_subject_year, rows_for


def add(model) -> None:
    md, lp, e = model.data, model.lp, model.expr
    if not model.instance.settings.constraints.ramp_limits:
        return
    T = md.T
    ps = np.flatnonzero(np.isfinite(md.prog_ramp))
    if len(ps) == 0:
        return
    # difference operator on each programme's T-block: row t = q_t − q_{t-1} (q_{-1} is constant)
    diff = sp.eye(T) - sp.eye(T, k=-1)
    A = sp.kron(sp.eye(len(ps)), diff, format="csr") @ e.q[rows_for(ps, T)]
    shift = np.zeros((len(ps), T))
    shift[:, 0] = md.prog_baseline[ps]
    r = np.repeat(md.prog_ramp[ps], T)
    lp.add_constraints("ramp_limit", A, -r + shift.ravel(), r + shift.ravel(),
                       by_subject_year(np.array(md.programmes)[ps], md.years))


def check(c, plan) -> None:
    """|q[p,0] − b_p| <= R_p and |q[p,t] − q[p,t−1]| <= R_p, from the allocations table."""
    if not plan.on.ramp_limits:
        return
    for pid, p in plan.progs.items():
        if p.ramp_limit_gbp_m is None:
            continue
        n = max(1, max(plan.nrows[(pid, t)] for t in range(plan.T)))
        q = plan.q[pid]
        for t, y in enumerate(plan.years):
            prev = p.baseline_gbp_m if t == 0 else q[t - 1]
            c.le("ramp_limit", y, pid, abs(q[t] - prev), p.ramp_limit_gbp_m,
                 abs(q[t]) + abs(prev), 2 * n,
                 lambda: f"real spend moves {q[t] - prev:+.6f} from the previous year; "
                 f"ramp limit {p.ramp_limit_gbp_m}")


FAMILY = Family(
    module=__name__, order=20, add=add, check=check,
    rows=(Rows("ramp_limit", "ramp limits", "the ramp limit on programme {subject} into {year}",
               "widened by", test="deliverability", sense="range", unit="real £m",
               switch="ramp_limits"),))
