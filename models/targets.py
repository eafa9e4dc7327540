"""Target mode: the cheapest plan that reaches mission targets by given years
(family ``mission_target``; ``objective: {kind: target_cost, targets: [...]}`` in instance.yaml).

Each target (m, Y, v) asks that mission m's core metric reach v in year Y (index t). The
metric under a plan is

    value[m,t] = b_m + β_m t + s_m gain[m,t],        s_m = +1 if higher is better, else −1
    gain[m,t]  = Σ_i γ_im Σ_{τ<=t} ℓ_p(i)[t−τ] (x[i,τ] − x̄_i)

(b_m baseline value, β_m baseline trend, x̄_i the baseline's fill of piece i: the same
gain the objective and the missions table use). "At least v" when higher is better and "at
most v" otherwise are both s_m (value − v) >= 0, i.e. one row per target:

    Σ_i γ_im Σ_{τ<=t} ℓ_p(i)[t−τ] x[i,τ]  >=  s_m (v − b_m − β_m t) + Σ_i γ_im Σ_{τ<=t} ℓ_p(i)[t−τ] x̄_i

The objective replaces mission value by total cash programme spend over the horizon,

    minimise  Σ_t Σ_p π_t q[p,t]        (the LP maximises −Σ π_t q[p,t]; objective = −spend)

with every other constraint family unchanged, so an unreachable target makes the LP
infeasible and the elastic explanation names the clash (target rows are relaxed in metric
units, every other row in £m).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def target_rows(model) -> tuple[sp.csr_matrix, np.ndarray, pd.DataFrame]:
    """(A over all columns, lower bounds, labels) of the ``mission_target`` rows."""
    md, lp, s = model.data, model.lp, model.instance.settings
    T, K = md.T, md.K
    xb = lp.var_blocks["x"]
    N = len(md.piece_prog)
    missions = {m.id: (k, m) for k, m in enumerate(s.missions)}
    rows, cols, vals, lo, labels = [], [], [], [], []
    for r, tg in enumerate(s.objective.targets):
        k, mission = missions[tg.mission]
        t = md.years.index(tg.year)
        sign = 1.0 if mission.higher_is_better else -1.0
        const = 0.0
        for i in range(N):
            g = md.piece_gain[i, k]
            if g == 0.0:
                continue
            p = md.piece_prog[i]
            for tau in range(max(0, t - K), t + 1):
                w = md.lag[p, t - tau]
                if w:
                    rows.append(r); cols.append(i * T + tau); vals.append(g * w)
                    const += g * w * md.piece_baseline_fill[i]
        base = mission.baseline_value + mission.baseline_trend_per_year * t
        lo.append(sign * (tg.value - base) + const)
        labels.append({"year": tg.year, "subject": tg.mission, "category": ""})
    local = sp.csr_matrix((vals, (rows, cols)), shape=(len(s.objective.targets), N * T))
    return lp.column_matrix(xb, local), np.array(lo, dtype=float), pd.DataFrame(labels)


def add(model) -> None:
    """Add one ``mission_target`` row per target (target_cost mode only)."""
    if model.instance.settings.objective.kind != "target_cost":
        return
    A, lo, labels = target_rows(model)
    model.lp.add_constraints("mission_target", A, lo, np.inf, labels)


def set_cost(model) -> None:
    """Objective of target mode: maximise −(total cash programme spend, £m)."""
    lp, e = model.lp, model.expr
    lp.cost_in_horizon = -np.asarray(e.cash.sum(axis=0)).ravel()
    lp.cost_terminal = np.zeros(lp.n)
    lp.constant_in_horizon = 0.0
    lp.constant_terminal = 0.0
