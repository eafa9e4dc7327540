"""Fiscal rules (families ``psnfl_definition`` [structural], ``stability_rule``, ``investment_rule``)
with the debt-interest feedback.

Totals: RDEL_t = Σ_d L[d,resource,t] + MF[resource,t], CDEL_t likewise; current AME net
of invest-to-save savings and with the plan's extra debt interest is A_t − sav_t + ΔDI_t.

Debt-interest feedback (switch ``debt_interest_feedback``, rate ι = ``debt_interest_rate``):
the forecast's debt interest (inside A_t) assumes the forecast PSNFL path N^f; a plan that
ends year t−1 with more (less) PSNFL pays ι on the difference in year t:

    ΔDI_t = ι (N_{t−1} − N^f_{t−1}),      with N_{−1} = N^f_{−1} = the initial PSNFL, so ΔDI_0 = 0

(ι = 0 when the switch is off). Optional receipts feedback (``receipts_feedback_rate`` ρ > 0):
receipts rise with the growth mission's GDP gain (its metric: GDP index, 1 point = 1% of GDP),

    ΔR_t = ρ Y_t / 100 · gain[g,t]          (0 when ρ = 0, the default)

Stability rule (current budget), in its target years, with headroom H:

    CB_t = R_t + ΔR_t − RDEL_t − (A_t − sav_t + ΔDI_t) − Dep_t >= m + H

PSNFL carried year to year (structural definition, all years):

    N_t = N_{t−1} + RDEL_t + CDEL_t + (A_t − sav_t + ΔDI_t) + A^K_t − (R_t + ΔR_t) + O_t

(depreciation cancels between the current deficit and net investment). Investment rule,
PSNFL falling as a share of GDP in its target years, with headroom H (£m of PSNFL):

    N_t − (Y_t / Y_{t−1}) N_{t−1} <= −H
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..family import Family, Rows


def _target_rows(md, years) -> np.ndarray:
    return np.array([md.years.index(y) for y in years], dtype=int)


def debt_interest_rate(model) -> float:
    """ι: the effective rate on PSNFL above the forecast path (0 when the feedback is off)."""
    s = model.instance.settings
    return s.fiscal_rules.debt_interest_rate if s.constraints.debt_interest_feedback else 0.0


def psnfl_forecast_previous(model) -> np.ndarray:
    """N^f_{t−1} for t = 0..T−1 (N^f_{−1} = the initial PSNFL); zeros when the feedback is off."""
    md, inst = model.data, model.instance
    if debt_interest_rate(model) == 0.0:
        return np.zeros(md.T)
    fy = {f.year: f.psnfl_forecast_gbp_m for f in inst.fiscal}
    path = np.array([fy[y] for y in md.years], dtype=float)
    return np.concatenate([[inst.settings.fiscal_rules.psnfl_initial_gbp_m], path[:-1]])


def receipts_feedback(model):
    """ΔR_t = ρ Y_t / 100 · gain[g,t] = (A x)_t − const_t (t < T): receipts from the growth
    mission's GDP gain (ρ = ``receipts_feedback_rate``, g = ``receipts_feedback_mission``);
    None when off. gain[g,t] = Σ_i γ_ig Σ_{τ<=t} ℓ_p(i)[t−τ] (x[i,τ] − x̄_i) (the objective's)."""
    md, lp, fr = model.data, model.lp, model.instance.settings.fiscal_rules
    if fr.receipts_feedback_rate <= 0 or fr.receipts_feedback_mission is None:
        return None
    g = md.missions.index(fr.receipts_feedback_mission)
    T, K = md.T, md.K
    scale = fr.receipts_feedback_rate * md.fiscal["gdp_gbp_m"] / 100.0  # (T,)
    rows, cols, vals = [], [], []
    const = np.zeros(T)
    for i in np.flatnonzero(md.piece_gain[:, g]):
        p = md.piece_prog[i]
        for tau in range(T):
            for k in range(0, min(K, T - 1 - tau) + 1):
                w = md.lag[p, k]
                if w:
                    t = tau + k
                    v = scale[t] * md.piece_gain[i, g] * w
                    rows.append(t); cols.append(i * T + tau); vals.append(v)
                    const[t] += v * md.piece_baseline_fill[i]
    xb = lp.var_blocks["x"]
    A = lp.column_matrix(xb, sp.csr_matrix((vals, (rows, cols)), shape=(T, xb.size)))
    return A, const


def bounds(model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Row bounds of this module's families from the current data (used on build and on
    parameter updates, so a re-solve never needs a rebuild)."""
    md, e, s = model.data, model.expr, model.instance.settings
    fr, T, F = s.fiscal_rules, md.T, md.fiscal
    H = fr.headroom_gbp_m
    iota = debt_interest_rate(model)
    Nf_prev = psnfl_forecast_previous(model)
    fb = receipts_feedback(model)
    dr_const = fb[1] if fb is not None else np.zeros(T)  # ΔR_t = A x − dr_const
    out = {}
    rhs = (F["ame_current_gbp_m"] + F["ame_capital_gbp_m"] - F["receipts_gbp_m"]
           + F["other_psnfl_flows_gbp_m"] - e.ame_saving_const - iota * Nf_prev + dr_const)
    rhs[0] += (1.0 + iota) * fr.psnfl_initial_gbp_m
    out["psnfl_definition"] = (rhs, rhs.copy())
    ts = _target_rows(md, fr.stability_rule.target_years)
    lo = (fr.stability_rule.required_margin_gbp_m + H - F["receipts_gbp_m"]
          + F["ame_current_gbp_m"] + F["depreciation_gbp_m"] - e.ame_saving_const - iota * Nf_prev
          + dr_const)
    lo[0] += iota * fr.psnfl_initial_gbp_m
    out["stability_rule"] = (lo[ts], np.full(len(ts), np.inf))
    ts = _target_rows(md, fr.investment_rule.target_years)
    Y = F["gdp_gbp_m"]
    Y_prev = np.concatenate([[fr.gdp_initial_gbp_m], Y[:-1]])
    hi = np.full(T, -H)
    hi[0] += (Y[0] / Y_prev[0]) * fr.psnfl_initial_gbp_m
    out["investment_rule"] = (np.full(len(ts), -np.inf), hi[ts])
    return out


def add(model) -> None:
    md, lp, e, s = model.data, model.lp, model.expr, model.instance.settings
    fr, on, T, F = s.fiscal_rules, s.constraints, md.T, md.fiscal
    rdel, cdel = e.del_total[:T], e.del_total[T:]
    nb = lp.var_blocks["psnfl"]
    iota = debt_interest_rate(model)
    N = lp.column_matrix(nb, sp.eye(T))
    N_prev = lp.column_matrix(nb, sp.eye(T, k=-1))
    b = bounds(model)

    # N_t − (1+ι) N_{t−1} − RDEL_t − CDEL_t + sav_t
    #   = A_t + A^K_t − R_t + O_t − sav_const_t − ι N^f_{t−1}       (+(1+ι) N_{−1} at t=0)
    fb = receipts_feedback(model)
    dR = fb[0] if fb is not None else sp.csr_matrix((T, lp.n))  # + ΔR_t (variable part)
    lp.add_constraints("psnfl_definition",
                       N - (1.0 + iota) * N_prev - rdel - cdel + e.ame_saving + dR,
                       *b["psnfl_definition"],
                       pd.DataFrame({"year": md.years, "subject": "PSNFL"}), structural=True)

    if on.stability_rule and fr.stability_rule.target_years:
        ts = _target_rows(md, fr.stability_rule.target_years)
        # −RDEL_t + sav_t − ι N_{t−1} >= m + H − R_t + A_t + Dep_t − sav_const_t − ι N^f_{t−1}
        #                                                          (+ι N_{−1} at t=0)
        lp.add_constraints("stability_rule", (-rdel + e.ame_saving - iota * N_prev + dR)[ts],
                           *b["stability_rule"],
                           pd.DataFrame({"year": np.array(md.years)[ts], "subject": "current budget"}))

    if on.investment_rule and fr.investment_rule.target_years:
        ts = _target_rows(md, fr.investment_rule.target_years)
        Y = F["gdp_gbp_m"]
        Y_prev = np.concatenate([[fr.gdp_initial_gbp_m], Y[:-1]])
        A = N - sp.diags(Y / Y_prev) @ N_prev
        lp.add_constraints("investment_rule", A[ts], *b["investment_rule"],
                           pd.DataFrame({"year": np.array(md.years)[ts], "subject": "PSNFL/GDP"}))


def check(c, plan) -> None:
    """Stability rule: R_t − RDEL_t − (A_t − sav_t + ΔDI_t) − Dep_t >= margin + H in its target
    years; investment rule: N_t − (Y_t / Y_{t−1}) N_{t−1} <= −H, N from its definition (the
    driver recomputes N with the debt-interest feedback ΔDI_t = ι (N_{t−1} − N^f_{t−1}) and
    compares N and the plan's debt interest with the fiscal table)."""
    s, on, F = plan.settings, plan.on, plan.F
    fr = s.fiscal_rules
    H = fr.headroom_gbp_m
    if on.stability_rule:
        cb = F["receipts_gbp_m"] + plan.extra_receipts - plan.del_tot[0] \
            - (F["ame_current_gbp_m"] - plan.sav + plan.extra_di) \
            - F["depreciation_gbp_m"]
        scale = F["receipts_gbp_m"] + np.abs(plan.del_tot[0]) + F["ame_current_gbp_m"] + plan.sav_scale \
            + np.abs(plan.extra_di) + fr.debt_interest_rate * np.concatenate([[0.0], plan.N_scale[:-1]])
        for y in fr.stability_rule.target_years:
            t = plan.pos[y]
            c.ge("stability_rule", y, "current budget", cb[t],
                 fr.stability_rule.required_margin_gbp_m + H, scale[t], 100)
    if on.investment_rule:
        N, Y = plan.N, F["gdp_gbp_m"]
        Y_prev = np.concatenate([[fr.gdp_initial_gbp_m], Y[:-1]])
        N_prev = np.concatenate([[fr.psnfl_initial_gbp_m], N[:-1]])
        S_prev = np.concatenate([[abs(fr.psnfl_initial_gbp_m)], plan.N_scale[:-1]])
        for y in fr.investment_rule.target_years:
            t = plan.pos[y]
            c.le("investment_rule", y, "PSNFL/GDP", N[t] - (Y[t] / Y_prev[t]) * N_prev[t], -H,
                 plan.N_scale[t] + (Y[t] / Y_prev[t]) * S_prev[t], 100 * (t + 1))


def _binding(inst):
    """For the tamper test: tiny with resource envelopes raised to 30, headroom H = 2 and two
    rules that bind at the optimum instead: the stability rule (margin 8 in 2027-28: RDEL <=
    410 − 375 − 8 − 2 = 25) and the investment rule in 2026-27 (N_0 − N_{−1} = RDEL − 30 <= −2).
    None for other instances (their fiscal rules have thousands of £m of room)."""
    from allocator.schema import Instance

    if inst.settings.name != "tiny":
        return None
    d = inst.model_dump()
    s = d["settings"]
    s["constraints"].update(stability_rule=True, investment_rule=True)
    s["fiscal_rules"]["stability_rule"] = {"target_years": ["2027-28"], "required_margin_gbp_m": 8.0}
    s["fiscal_rules"]["investment_rule"] = {"target_years": ["2026-27"]}
    s["fiscal_rules"]["headroom_gbp_m"] = 2.0
    for f in d["fiscal"]:
        f["rdel_envelope_gbp_m"] = 30.0
    return Instance.model_validate(d)


FAMILY = Family(
    module=__name__, order=90, add=add, check=check, bounds=bounds, tamper=_binding,
    rows=(Rows("psnfl_definition", "PSNFL definition", "the PSNFL definition in {year}",
               "relaxed by", test=None, sense="==", structural=True,
               untamperable="a definition: appraise computes N_t from it and the checker "
               "recomputes N_t and compares it with the fiscal table (family 'fiscal_table')"),
          Rows("stability_rule", "stability rule",
               "the stability rule (current budget margin) in {year}", "relaxed by",
               test="affordability", sense=">=", switch="stability_rule", fiscal_rule=True,
               finding=("the stability rule (current budget)", "headroom on the current budget")),
          Rows("investment_rule", "investment rule",
               "the investment rule (PSNFL falling as a share of GDP) in {year}", "relaxed by",
               test="affordability", sense="<=", switch="investment_rule", fiscal_rule=True,
               finding=("the investment rule (PSNFL falling as a share of GDP)",
                        "room under the PSNFL path"))))
