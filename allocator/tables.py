"""Result tables (tidy pandas frames) computed from a solved allocation model.

Column names and units follow the issue's result specification; money is cash £m
unless a column says ``real``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.models.allocation import AllocationModel
from allocator.models.data import CATEGORIES
from allocator.models.objective import mission_gains


def _block(model: AllocationModel, x: np.ndarray, name: str) -> np.ndarray:
    b = model.lp.var_blocks[name]
    return x[b.start:b.start + b.size]


def programme_spend_real(model: AllocationModel, x: np.ndarray) -> np.ndarray:
    """q[p,t], real £m, shape (P, T)."""
    md = model.data
    return (model.expr.q @ x).reshape(md.P, md.T)


def allocations(model: AllocationModel, x: np.ndarray) -> pd.DataFrame:
    """One row per (year, programme, funder): spend_gbp_m (cash) and real_spend_gbp_m.

    Single-funded programmes: spend = π_t q[p,t] from their only owner; split programmes:
    one row per owner's funding f[p,d,t] and one for the Mission Fund's g[p,t] (real = cash/π_t).
    Built column-wise (no per-row Python loop)."""
    md, inst = model.data, model.instance
    T = md.T
    q = programme_spend_real(model, x)
    progs = inst.programmes
    ids = np.array(md.programmes, dtype=object)
    cat = np.array([p.category for p in progs], dtype=object)
    pie = np.array([p.pie for p in progs], dtype=bool)
    pos = {p: i for i, p in enumerate(md.programmes)}
    ypos = {y: t for t, y in enumerate(md.years)}
    years = np.array(md.years, dtype=object)
    f_idx = model.lp.var_blocks["funding"].index
    f_val = _block(model, x, "funding")
    g_idx = model.lp.var_blocks["mission_fund"].index
    g_val = _block(model, x, "mission_fund")
    split = set(f_idx["programme"]) | set(g_idx["programme"])
    single = np.array([p for p, prog in enumerate(progs) if prog.id not in split], dtype=int)
    owner = np.array([progs[p].owners[0] for p in single], dtype=object)
    parts = [dict(year=np.tile(years, len(single)), department=np.repeat(owner, T),
                  programme=np.repeat(ids[single], T), category=np.repeat(cat[single], T),
                  pie=np.repeat(pie[single], T), funding="department",
                  spend_gbp_m=(md.deflator[None, :] * q[single]).ravel(),
                  real_spend_gbp_m=q[single].ravel())]
    for idx, val, funder in ((f_idx, f_val, None), (g_idx, g_val, "mission_fund")):
        if not len(idx):
            continue
        p = idx["programme"].map(pos).to_numpy(dtype=int)
        t = idx["year"].map(ypos).to_numpy(dtype=int)
        dept = idx["department"].to_numpy(dtype=object) if funder is None else funder
        parts.append(dict(year=years[t], department=dept, programme=ids[p], category=cat[p],
                          pie=pie[p], funding=funder or "department", spend_gbp_m=val,
                          real_spend_gbp_m=val / md.deflator[t]))
    cols = ["year", "department", "programme", "category", "pie", "funding", "spend_gbp_m",
            "real_spend_gbp_m"]
    df = pd.concat([pd.DataFrame(part, columns=cols) for part in parts], ignore_index=True)
    order = {p: i for i, p in enumerate(md.programmes)}
    df["_p"] = df["programme"].map(order)
    df = df.sort_values(["year", "_p", "funding", "department"], kind="stable").drop(columns="_p")
    return df.reset_index(drop=True)


def departments(model: AllocationModel, x: np.ndarray) -> pd.DataFrame:
    md, e = model.data, model.expr
    T, D = md.T, md.D
    lim = (e.limit @ x).reshape(D, 2, T)
    spend = (e.dept_spend @ x).reshape(D, 2, T)
    pie = (e.dept_pie @ x).reshape(D, T)
    from allocator.models.constraints.barnett import reference_path
    from allocator.models.constraints.settlements import barnett_departments

    ref = reference_path(model)  # (D, 2, T): the settled (or baseline) path changes are measured from
    devolved = barnett_departments(model)
    rows = []
    for t in range(T):
        for d in range(D):
            rows.append(dict(
                year=md.years[t], department=md.departments[d],
                rdel_gbp_m=lim[d, 0, t], cdel_gbp_m=lim[d, 1, t],
                reference_gbp_m=ref[d, :, t].sum(),
                barnett_consequential_gbp_m=(lim[d, :, t].sum() - ref[d, :, t].sum()
                                             if md.departments[d] in devolved else 0.0),
                rdel_spend_gbp_m=spend[d, 0, t], cdel_spend_gbp_m=spend[d, 1, t],
                pie_gbp_m=pie[d, t], pie_floor_gbp_m=md.dept_pie_floor[d] * md.deflator[t],
                baseline_gbp_m=md.dept_baseline[d].sum() * md.deflator[t],
                real_floor_gbp_m=md.dept_real_floor[d] * md.dept_baseline[d].sum() * md.deflator[t]))
    return pd.DataFrame(rows)


def missions(model: AllocationModel, x: np.ndarray) -> pd.DataFrame:
    md, inst = model.data, model.instance
    xv = _block(model, x, "x").reshape(-1, md.T)
    gains = mission_gains(md, xv)
    rows = []
    for m, mission in enumerate(inst.settings.missions):
        sign = 1.0 if mission.higher_is_better else -1.0
        for t in range(md.T + md.K):
            if t >= md.T and abs(gains[m, t]) < 1e-12:
                continue
            base = mission.baseline_value + mission.baseline_trend_per_year * t
            rows.append(dict(
                year=_label(md, t), mission=mission.id, government_mission=mission.group,
                metric=mission.metric,
                unit=mission.metric_unit, baseline_value=base, value=base + sign * gains[m, t],
                gain=gains[m, t], in_horizon=t < md.T,
                discounted_value=md.weight[m] * md.delta[m, t] * gains[m, t]))
    return pd.DataFrame(rows)


def metrics(model: AllocationModel, x: np.ndarray) -> pd.DataFrame:
    """Comprehensive (input/output) metrics, one row per (metric, year):

        value[c,t] = baseline_c + Σ_terms κ · (z[p,t] − b_p)

    z = real spend q[p,t] for a ``real_spend`` term (an input, e.g. officers funded), or the
    effective activity e[p,t] = Σ_i x[i,t] = (q[p,t] + v[p,t]) / Λ[p,t] for an ``activity``
    term (an output per unit of need, which pressures erode)."""
    md, inst = model.data, model.instance
    cms = inst.settings.comprehensive_metrics
    cols = ["year", "mission", "metric", "name", "unit", "kind", "baseline_value", "value", "change"]
    if not cms:
        return pd.DataFrame(columns=cols)
    q = programme_spend_real(model, x)
    xv = _block(model, x, "x").reshape(-1, md.T)
    e = np.zeros((md.P, md.T))
    np.add.at(e, md.piece_prog, xv)
    pos = {p: i for i, p in enumerate(md.programmes)}
    rows = []
    for cm in cms:
        change = np.zeros(md.T)
        for term in cm.terms:
            p = pos[term.programme]
            z = q[p] if term.basis == "real_spend" else e[p]
            change += term.per_gbp_m * (z - md.prog_baseline[p])
        for t in range(md.T):
            rows.append(dict(year=md.years[t], mission=cm.mission, metric=cm.id, name=cm.name,
                             unit=cm.unit, kind=cm.kind, baseline_value=cm.baseline_value,
                             value=cm.baseline_value + change[t], change=change[t]))
    return pd.DataFrame(rows, columns=cols)


def _label(md, t: int) -> str:
    if t < md.T:
        return md.years[t]
    start = int(md.years[0][:4]) + t
    return f"{start}-{(start + 1) % 100:02d}"


def fiscal(model: AllocationModel, x: np.ndarray) -> pd.DataFrame:
    md, e, s = model.data, model.expr, model.instance.settings
    T, F, fr = md.T, md.fiscal, s.fiscal_rules
    dels = (e.del_total @ x).reshape(2, T)
    saving = e.ame_saving @ x + e.ame_saving_const
    nb = model.lp.var_blocks["psnfl"]
    N = x[nb.start:nb.start + T]
    N_prev = np.concatenate([[fr.psnfl_initial_gbp_m], N[:-1]])
    Y = F["gdp_gbp_m"]
    Y_prev = np.concatenate([[fr.gdp_initial_gbp_m], Y[:-1]])
    from allocator.models.constraints.fiscal_rules import debt_interest_rate, psnfl_forecast_previous
    from allocator.models.constraints.welfare_cap import cap_with_margin

    # plan's extra debt interest ΔDI_t = ι (N_{t−1} − N^f_{t−1}) (0 when the feedback is off)
    extra_interest = debt_interest_rate(model) * (N_prev - psnfl_forecast_previous(model))
    if debt_interest_rate(model) == 0.0:
        extra_interest = np.zeros(T)
    ame_current = F["ame_current_gbp_m"] - saving + extra_interest
    from allocator.models.constraints.fiscal_rules import receipts_feedback

    fb = receipts_feedback(model)  # ΔR_t from the growth mission's GDP gain (0 when off)
    extra_receipts = fb[0] @ x - fb[1] if fb is not None else np.zeros(T)
    cb = F["receipts_gbp_m"] + extra_receipts - dels[0] - ame_current - F["depreciation_gbp_m"]
    margin = cb - fr.stability_rule.required_margin_gbp_m
    welfare = F["welfare_capped_gbp_m"] - saving
    env_r, env_c = F["rdel_envelope_gbp_m"], F["cdel_envelope_gbp_m"]
    cash = (e.cash @ x).reshape(md.P, T)
    pie_share = cash[md.prog_pie].sum(axis=0) / np.maximum(cash.sum(axis=0), 1e-12)
    return pd.DataFrame(dict(
        year=md.years, gdp_gbp_m=Y, receipts_gbp_m=F["receipts_gbp_m"] + extra_receipts,
        receipts_feedback_gbp_m=extra_receipts,
        rdel_gbp_m=dels[0], cdel_gbp_m=dels[1],
        rdel_envelope_gbp_m=env_r, cdel_envelope_gbp_m=env_c,
        ame_gbp_m=ame_current + F["ame_capital_gbp_m"], ame_current_gbp_m=ame_current,
        ame_saving_gbp_m=saving, depreciation_gbp_m=F["depreciation_gbp_m"],
        current_balance_gbp_m=cb, stability_margin_gbp_m=margin,
        stability_target=[y in fr.stability_rule.target_years for y in md.years],
        psnfl_gbp_m=N, psnfl_pct_gdp=100.0 * N / Y,
        investment_margin_gbp_m=(Y / Y_prev) * N_prev - N,
        investment_target=[y in fr.investment_rule.target_years for y in md.years],
        debt_interest_gbp_m=F["debt_interest_gbp_m"] + extra_interest,
        debt_interest_feedback_gbp_m=extra_interest,
        welfare_capped_gbp_m=welfare, welfare_cap_gbp_m=F["welfare_cap_gbp_m"],
        welfare_cap_with_margin_gbp_m=cap_with_margin(model),
        headroom_gbp_m=margin - fr.headroom_gbp_m,
        pie_share=pie_share,
        pie_share_floor=s.pie.share_path(T) if s.constraints.pie_share else [0.0] * T,
    ))


def shadow_prices(model: AllocationModel, row_dual: np.ndarray | None, row_activity: np.ndarray,
                  tol: float = 1e-7) -> pd.DataFrame:
    """Mission value of relaxing each policy constraint by one unit (£1m), and its slack.

    ``shadow_price`` = |y_r| is the value of moving the binding bound the way that helps;
    ``helps`` says which way that is ("raising" a limit, "lowering" a floor; empty when the
    price is 0), and ``value_if_raised`` = y_r = dV/d(bound) is signed: a floor's is negative
    (raising it costs value, lowering it adds about as much)."""
    lp = model.lp
    labels = lp.row_labels()
    keep = ~labels["structural"].to_numpy(dtype=bool)  # policy rules only: select first
    act = np.asarray(row_activity, dtype=float)[keep]
    lo, hi = lp.row_lower[keep], lp.row_upper[keep]
    slack = np.minimum(np.where(np.isfinite(hi), hi - act, np.inf),
                       np.where(np.isfinite(lo), act - lo, np.inf))
    signed = (np.asarray(row_dual, dtype=float)[keep] if row_dual is not None
              else np.full(len(act), np.nan))
    signed = np.where(np.abs(signed) < tol, 0.0, signed)
    slack = np.where(np.abs(slack) < 1e-6, 0.0, slack)
    labels = labels[keep].reset_index(drop=True)
    return pd.DataFrame({
        "constraint": labels["family"].cat.remove_unused_categories(),
        "year": labels["year"], "subject": labels["subject"], "category": labels["category"],
        "shadow_price": np.abs(signed),
        "helps": pd.Categorical.from_codes(np.where(signed > 0, 1, np.where(signed < 0, 2, 0)),
                                           categories=["", "raising", "lowering"]),
        "value_if_raised": signed,
        "slack": slack,
        "binding": slack <= 1e-6 * np.maximum(1.0, np.abs(np.where(np.isfinite(hi), hi, lo))),
    })


def row_table(model: AllocationModel) -> pd.DataFrame:
    return model.lp.row_labels()


__all__ = ["allocations", "departments", "missions", "metrics", "fiscal", "shadow_prices", "CATEGORIES"]
