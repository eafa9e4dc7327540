"""The cost of the extra public funds a plan uses (docs/formulation.md §4c).

A plan's extra spending against the counterfactual (current policy with pressures: each
programme at its baseline grown with its pressure index, b_p Λ_p,t, the spend that keeps
today's service per head of need and scores zero benefit), net of the welfare AME it saves,
valued at ``appraisal.cost_of_public_funds`` λ per £ and discounted with the Green Book STPR
schedule δ^S_t (``discounting``), in real £m at the price base:

    C(x) = Σ_{t<T} δ^S_t [ Σ_p (q_p,t − b_p Λ_p,t)  −  sav_t / π_t ]

with sav_t the cash AME saving of §3 (zero for the baseline plan). Benefit and cost are so
measured against the same counterfactual (Λ = 1 without pressures). λ·C is what the plan
costs society; the net present value is NPV = V − λ·C and the benefit-cost ratio
BCR = V / (λ·C). ``objective.kind: net_value`` maximises V − λ·C, so a plan stops spending
where a £ returns less than λ of value.
"""

from __future__ import annotations

import numpy as np

from .data import discount_factors


def cost_discount(model) -> np.ndarray:
    """δ^S_t, t < T: the Green Book STPR schedule of ``discounting`` (not a mission's own rate)."""
    d = model.instance.settings.discounting
    return discount_factors(d.rate, d.rate_after_30, d.rate_after_75, model.data.T, flat=False)


def cost_row(model) -> tuple[np.ndarray, float]:
    """(c, c0) with C(x) = c·x + c0 over the model's columns (real £m, present value)."""
    md, e = model.data, model.expr
    T, P = md.T, md.P
    dS = cost_discount(model)
    w_q = np.tile(dS, P)  # q rows are p*T + t
    c = np.asarray(e.q.T @ w_q).ravel() - np.asarray(e.ame_saving.T @ (dS / md.deflator)).ravel()
    counterfactual = md.prog_baseline[:, None] * md.pressure  # b_p Λ_p,t (real £m)
    c0 = -float(counterfactual.sum(axis=0) @ dS) - float((dS / md.deflator) @ e.ame_saving_const)
    return c, c0


def add_cost(model) -> None:
    """objective.kind net_value: subtract λ·C(x) from the in-horizon objective."""
    lam = model.instance.settings.appraisal.cost_of_public_funds
    c, c0 = cost_row(model)
    model.lp.cost_in_horizon = model.lp.cost_in_horizon - lam * c
    model.lp.constant_in_horizon -= lam * c0
