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
    """|q[p,0] − b_p| <= R_p and |q[p,t] − q[p,t−1]| <= R_p, from the allocations table (every
    programme-year at once: ``plan.Q`` is q (P, T) in the order of ``plan.pids``)."""
    if not plan.on.ramp_limits:
        return
    progs = [plan.progs[pid] for pid in plan.pids]
    ps = np.array([i for i, p in enumerate(progs) if p.ramp_limit_gbp_m is not None], dtype=int)
    if not len(ps):
        return
    T = plan.T
    q = plan.Q[ps]
    prev = np.concatenate([np.array([[progs[i].baseline_gbp_m] for i in ps]), q[:, :-1]], axis=1)
    move = (q - prev).ravel()
    R = np.repeat([progs[i].ramp_limit_gbp_m for i in ps], T)
    n = np.maximum(1, plan.n_q[ps].max(axis=1, initial=0))
    c.le_many("ramp_limit", np.tile(np.array(plan.years, dtype=object), len(ps)),
              np.repeat(np.array(plan.pids, dtype=object)[ps], T), np.abs(move), R,
              (np.abs(q) + np.abs(prev)).ravel(), np.repeat(2 * n, T),
              lambda i: f"real spend moves {move[i]:+.6f} from the previous year; "
                        f"ramp limit {R[i]}")


FAMILY = Family(
    module=__name__, order=20, add=add, check=check,
    rows=(Rows("ramp_limit", "ramp limits", "the ramp limit on programme {subject} into {year}",
               "widened by", test="deliverability", sense="range", unit="real £m",
               switch="ramp_limits"),))
