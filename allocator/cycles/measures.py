"""What is measured on each simulated (regime, path), and the tables built from them.

Per path and regime (one record):

- ``mission_value_gbp_m`` = realised discounted mission value of the spending that
  actually happened (in-horizon + terminal), with the regime's certainty factors:
  Σ c_f · (x − x̄) + … exactly the LP objective evaluated at the realised plan;
- ``planning_cost_gbp_m`` = Σ_reviews δ_t (review cost + trigger cost if reopened early);
- ``net_value_gbp_m`` = mission value − planning cost;
- **forecast breaches**: at each year's fiscal event (a review or a Budget), each rule is
  tested on that event's forecast for its target year (stability and investment rules:
  the third forecast year, rolling; welfare cap: its cap year); ``breaches`` counts the
  events at which a rule is broken (per rule: ``stability_breaches`` …) and
  ``breach_gbp_m`` sums the amounts;
- **outturn misses** (reported apart, not breaches): years whose outturn misses a rule
  after in-year absorption (``outturn_misses``, ``outturn_miss_gbp_m``);
- in-year cuts and reserve drawn (£m);
- ``budget_volatility_pct``: mean over departments of the standard deviation of the
  year-on-year real growth of the department's total DEL limit (%);
- reviews, triggered reopenings (``good_news_reviews``: those a good-news rule reopened),
  Budget corrections; PIE share of programme spend (mean, final year) and
  whether PIE protection (department PIE floors, rising PIE share) held every year.

Per year: headroom (current balance − required margin − headroom buffer, after
absorption, outturn), PIE share, the target year the year's fiscal event tested and its
forecast breaches, the outturn miss, cuts, reserve drawn, the kind of review held and
whether a Budget corrected the settlements.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BREACH_TOL_GBP_M = 1e-3

SCALARS = ("mission_value_gbp_m", "value_in_horizon_gbp_m", "value_terminal_gbp_m",
           "planning_cost_gbp_m", "net_value_gbp_m", "breaches", "breach_gbp_m",
           "stability_breaches", "investment_breaches", "welfare_breaches", "outturn_misses",
           "outturn_miss_gbp_m", "in_year_cuts_gbp_m",
           "reserve_drawn_gbp_m", "budget_volatility_pct", "reviews", "triggered_reviews",
           "good_news_reviews", "budget_corrections", "failed_replans",
           "pie_share_mean", "pie_share_final", "pie_protected", "min_headroom_gbp_m")
YEARLY = ("headroom_gbp_m", "pie_share", "target_year", "stability_breach_gbp_m",
          "investment_breach_gbp_m", "welfare_breach_gbp_m", "outturn_miss_gbp_m",
          "in_year_cut_gbp_m", "reserve_drawn_gbp_m", "review", "budget", "trigger")


def path_measures(sim, regime, path, x, *, review, budget, fired, headroom, target, stability_breach,
                  investment_breach, welfare_breach, stability_outturn, investment_outturn,
                  welfare_outturn, cut, reserve_drawn) -> dict:
    from .simulate import GOOD_NEWS

    md, lp, e, T = sim.md, sim.lp, sim.e, sim.T
    v_in = float(lp.cost_in_horizon @ x + lp.constant_in_horizon)
    v_term = float(lp.cost_terminal @ x + lp.constant_terminal)
    pl = sim.us.planning
    cost_t = np.where(review > 0, pl.review_cost_gbp_m, 0.0) + np.where(review == 2,
                                                                        pl.trigger_cost_gbp_m, 0.0)
    planning = float((sim.discount * cost_t).sum())
    lim = (e.limit @ x).reshape(md.D, 2, T).sum(axis=1) / sim.pi[None, :]
    ok = (lim > 0).all(axis=1)
    vol = 0.0
    if ok.any() and T > 2:
        growth = np.diff(np.log(lim[ok]), axis=1)
        vol = float(100.0 * growth.std(axis=1).mean())
    cash = (e.cash @ x).reshape(md.P, T)
    total = cash.sum(axis=0)
    pie_share = np.where(total > 0, cash[md.prog_pie].sum(axis=0) / np.where(total > 0, total, 1), 0.0)
    dept_pie = (e.dept_pie @ x).reshape(md.D, T)
    floors = md.dept_pie_floor[:, None] * sim.pi[None, :]
    on = sim.instance.settings.constraints
    pie_ok = True
    if on.pie_department_floor:
        pie_ok &= bool((dept_pie >= floors - 1e-6 * np.maximum(1, floors)).all())
    if on.pie_share:
        pie_ok &= bool((pie_share >= sim.pie_sigma - 1e-7).all())
    breaches = [(b > BREACH_TOL_GBP_M) for b in (stability_breach, investment_breach, welfare_breach)]
    outturn = stability_outturn + investment_outturn + welfare_outturn
    misses = sum(int((b > BREACH_TOL_GBP_M).sum())
                 for b in (stability_outturn, investment_outturn, welfare_outturn))
    # a review at t was reopened by the triggers fired at the end of t − 1
    good = sum(1 for t in range(1, T) if review[t] == 2 and any(
        g in fired[t - 1].split("+") for g in GOOD_NEWS))
    rec = {
        "regime": regime.label, "path": int(path.number),
        "mission_value_gbp_m": v_in + v_term, "value_in_horizon_gbp_m": v_in,
        "value_terminal_gbp_m": v_term, "planning_cost_gbp_m": planning,
        "net_value_gbp_m": v_in + v_term - planning,
        "breaches": int(sum(b.sum() for b in breaches)),
        "breach_gbp_m": float(stability_breach.sum() + investment_breach.sum() + welfare_breach.sum()),
        "stability_breaches": int(breaches[0].sum()), "investment_breaches": int(breaches[1].sum()),
        "welfare_breaches": int(breaches[2].sum()), "outturn_misses": misses,
        "outturn_miss_gbp_m": float(outturn.sum()), "in_year_cuts_gbp_m": float(cut.sum()),
        "reserve_drawn_gbp_m": float(reserve_drawn.sum()), "budget_volatility_pct": vol,
        "reviews": int((review > 0).sum()), "triggered_reviews": int((review == 2).sum()),
        "good_news_reviews": good, "budget_corrections": int(budget.sum()),
        "failed_replans": int(sim.failed_replans),
        "pie_share_mean": float(pie_share.mean()), "pie_share_final": float(pie_share[-1]),
        "pie_protected": int(pie_ok), "min_headroom_gbp_m": float(headroom.min()),
        "years": {
            "headroom_gbp_m": headroom.tolist(), "pie_share": pie_share.tolist(),
            "target_year": list(target),
            "stability_breach_gbp_m": stability_breach.tolist(),
            "investment_breach_gbp_m": investment_breach.tolist(),
            "welfare_breach_gbp_m": welfare_breach.tolist(), "outturn_miss_gbp_m": outturn.tolist(),
            "in_year_cut_gbp_m": cut.tolist(),
            "reserve_drawn_gbp_m": reserve_drawn.tolist(), "review": review.tolist(),
            "budget": budget.tolist(),
            "trigger": list(fired),
        },
    }
    return rec


# --------------------------------------------------------------------------- tables
def paths_table(records: list[dict]) -> pd.DataFrame:
    """One row per (regime, path): the scalar measures."""
    return pd.DataFrame([{k: r[k] for k in ("regime", "path", *SCALARS)} for r in records])


def years_table(records: list[dict], years: list[str]) -> pd.DataFrame:
    """One row per (regime, path, year)."""
    frames = []
    for r in records:
        f = pd.DataFrame({k: r["years"][k] for k in YEARLY})
        f.insert(0, "year", years)
        f.insert(0, "path", r["path"])
        f.insert(0, "regime", r["regime"])
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def summary_table(paths: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Regime × measure: mean and 5th/50th/95th percentiles across paths."""
    rows = []
    for reg in order:
        sub = paths[paths["regime"] == reg]
        for m in SCALARS:
            v = sub[m].to_numpy(dtype=float)
            rows.append({"regime": reg, "measure": m, "mean": v.mean(),
                         "p5": np.percentile(v, 5), "p50": np.percentile(v, 50),
                         "p95": np.percentile(v, 95)})
    return pd.DataFrame(rows)


def differences_table(paths: pd.DataFrame, order: list[str], base: str) -> pd.DataFrame:
    """Paired differences (regime − base) per path, mean and 95% t-interval."""
    from scipy import stats
    rows = []
    b = paths[paths["regime"] == base].set_index("path").sort_index()
    for reg in order:
        if reg == base:
            continue
        r = paths[paths["regime"] == reg].set_index("path").sort_index()
        for m in SCALARS:
            d = (r[m].astype(float) - b[m].astype(float)).to_numpy()
            n = len(d)
            mean = float(d.mean())
            sd = float(d.std(ddof=1)) if n > 1 else 0.0
            half = float(stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)) if n > 1 else 0.0
            rows.append({"regime": reg, "versus": base, "measure": m, "mean_difference": mean,
                         "ci95_low": mean - half, "ci95_high": mean + half, "sd": sd, "paths": n})
    return pd.DataFrame(rows)
