"""The impact of a plan against a reference: computed tables for the mission impact statement.

A *reference* is either the plan's own baseline (no change in policy: each metric's baseline
path, each department's baseline spend) or another results folder (the previous plan, the
fiscal event before, the case without a business case). Every change is plan − reference.

- :func:`department_by_year`: one row per department and year: total spend, settlements, PIE,
  baseline and the change against baseline in cash and real terms;
- :func:`department_changes`: each department's horizon-total change in cash and real terms;
- :func:`metric_paths`: each core metric by year under the plan and the reference, with the
  change in the direction of good and an uncertainty range where the results carry one.

Real terms divide each year's cash by that year's deflator πₜ, recovered from
``allocations`` as ``spend / real_spend`` (prices of the first horizon year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: column-name suffixes of the money units (the results carry the instance's unit)
MONEY_SUFFIXES = ("_gbp_m", "_gbp_bn", "_gbp")


def money_suffix(df: pd.DataFrame, stem: str = "spend") -> str:
    """The money suffix used in ``df`` (``_gbp_m`` unless the instance said otherwise)."""
    for s in MONEY_SUFFIXES:
        if f"{stem}{s}" in df.columns:
            return s
    return "_gbp_m"


def tables_in_gbp_m(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Copies of result tables with every money column in £m (``x_gbp_bn`` → ``x_gbp_m`` × 1,000,
    ``x_gbp`` → ``x_gbp_m`` ÷ 1,000,000), so that readers work in one unit whatever the
    instance's ``money_unit`` (units are converted only at this edge)."""
    out = {}
    for name, df in tables.items():
        ren, d = {}, df
        for c in df.columns:
            for sfx, k in (("_gbp_bn", 1e3), ("_gbp", 1e-6)):
                if str(c).endswith(sfx) and not str(c).endswith("_gbp_m"):
                    if d is df:
                        d = df.copy()
                    new = str(c)[: -len(sfx)] + "_gbp_m"
                    d[c] = pd.to_numeric(d[c], errors="coerce") * k
                    ren[c] = new
                    break
        out[name] = d.rename(columns=ren) if ren else d
    return out


def deflators(allocations: pd.DataFrame) -> pd.Series:
    """πₜ by year: cash / real spend (1.0 where a year has no spend)."""
    s = money_suffix(allocations)
    g = allocations.groupby("year", sort=True)[[f"spend{s}", f"real_spend{s}"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = g[f"spend{s}"] / g[f"real_spend{s}"]
    return pi.where(np.isfinite(pi) & (pi > 0), 1.0)


def department_by_year(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Department × year: total programme spend it funds, settlements, PIE, baseline and the
    change against baseline (cash, and real = cash / πₜ). The Mission Fund is one row per year
    (its baseline is 0)."""
    a, d = tables["allocations"], tables["departments"]
    s = money_suffix(a)
    pi = deflators(a)
    dep = d[["year", "department"]].copy()
    dep[f"total{s}"] = d[f"rdel_spend{s}"] + d[f"cdel_spend{s}"]
    for c in ("rdel", "cdel", "pie", "baseline"):
        dep[f"{c}{s}"] = d[f"{c}{s}"]
    mf = a[a["funding"] == "mission_fund"].groupby("year", sort=True)[f"spend{s}"].sum()
    if len(mf):
        rows = pd.DataFrame({"year": mf.index, "department": "mission_fund", f"total{s}": mf.to_numpy()})
        rows[f"rdel{s}"] = a[(a["funding"] == "mission_fund") & (a["category"] == "resource")] \
            .groupby("year")[f"spend{s}"].sum().reindex(mf.index, fill_value=0.0).to_numpy()
        rows[f"cdel{s}"] = rows[f"total{s}"] - rows[f"rdel{s}"]
        rows[f"pie{s}"] = a[(a["funding"] == "mission_fund") & a["pie"].astype(str).str.lower().eq("true")] \
            .groupby("year")[f"spend{s}"].sum().reindex(mf.index, fill_value=0.0).to_numpy()
        rows[f"baseline{s}"] = 0.0
        dep = pd.concat([dep, rows], ignore_index=True)
    dep[f"change_vs_baseline{s}"] = dep[f"total{s}"] - dep[f"baseline{s}"]
    dep[f"real_change_vs_baseline{s}"] = dep[f"change_vs_baseline{s}"] / dep["year"].map(pi).fillna(1.0)
    return dep.sort_values(["department", "year"], kind="stable").reset_index(drop=True)


def _totals(tables) -> pd.DataFrame:
    """department -> (cash, real) horizon totals of spend and of baseline."""
    dy = department_by_year(tables)
    s = money_suffix(tables["allocations"])
    pi = dy["year"].map(deflators(tables["allocations"])).fillna(1.0)
    dy["real_total"] = dy[f"total{s}"] / pi
    dy["real_baseline"] = dy[f"baseline{s}"] / pi
    return dy.groupby("department", sort=False).agg(
        cash=(f"total{s}", "sum"), real=("real_total", "sum"),
        base_cash=(f"baseline{s}", "sum"), base_real=("real_baseline", "sum"))


def department_changes(plan_tables, reference_tables=None) -> pd.DataFrame:
    """Each department's horizon-total spend: plan against the reference (its baseline when
    ``reference_tables`` is None), change in cash and in real terms. Every department is
    listed, largest absolute cash change first."""
    p = _totals(plan_tables)
    s = money_suffix(plan_tables["allocations"])
    if reference_tables is None:
        ref_cash, ref_real = p["base_cash"], p["base_real"]
    else:
        r = _totals(reference_tables)
        idx = p.index.union(r.index, sort=False)
        p = p.reindex(idx, fill_value=0.0)
        ref_cash, ref_real = r["cash"].reindex(idx, fill_value=0.0), r["real"].reindex(idx, fill_value=0.0)
    out = pd.DataFrame({"department": p.index, f"reference{s}": ref_cash.to_numpy(),
                        f"plan{s}": p["cash"].to_numpy()})
    out[f"change{s}"] = out[f"plan{s}"] - out[f"reference{s}"]
    out[f"change_real{s}"] = p["real"].to_numpy() - ref_real.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_pct"] = np.where(out[f"reference{s}"].abs() > 1e-9,
                                     100.0 * out[f"change{s}"] / out[f"reference{s}"].abs(), np.nan)
    order = out[f"change{s}"].abs().sort_values(ascending=False, kind="stable").index
    return out.loc[order].reset_index(drop=True)


UNCERTAINTY_COLUMNS = (("value_low", "value_high"), ("value_p5", "value_p95"), ("low", "high"))


def metric_paths(plan_tables, reference_tables=None, higher_is_better: dict | None = None) -> pd.DataFrame:
    """Each core metric by year within the horizon: baseline, plan, reference (the baseline
    path when there is no reference run), change = plan − reference, improvement = change
    signed so that positive is better, and low/high where the results carry a range.

    The direction of good comes from ``higher_is_better`` (mission id → bool) when given,
    else from the table: gain > 0 with value < baseline means lower is better."""
    m = plan_tables["missions"]
    inside = m[m["in_horizon"].astype(str).str.lower() == "true"].copy()
    out = inside[["mission", "metric", "unit", "year", "baseline_value", "value"]].copy()
    if reference_tables is None:
        out["reference_value"] = out["baseline_value"]
    else:
        r = reference_tables["missions"]
        r = r[r["in_horizon"].astype(str).str.lower() == "true"].set_index(["mission", "year"])["value"]
        out["reference_value"] = [r.get((a, b), np.nan) for a, b in zip(out["mission"], out["year"])]
    out["change"] = out["value"] - out["reference_value"]
    hib = dict(higher_is_better or {})
    for mid, d in inside.groupby("mission", sort=False):
        if mid not in hib:
            moved = d[(d["gain"].abs() > 1e-12)]
            hib[mid] = True if moved.empty else bool(
                np.sign(moved["value"].iloc[-1] - moved["baseline_value"].iloc[-1])
                == np.sign(moved["gain"].iloc[-1]))
    sign = out["mission"].map(lambda x: 1.0 if hib.get(x, True) else -1.0)
    out["improvement"] = sign * out["change"]
    out["better_direction"] = out["mission"].map(lambda x: "higher" if hib.get(x, True) else "lower")
    out["low"], out["high"] = np.nan, np.nan
    for lo, hi in UNCERTAINTY_COLUMNS:
        if lo in inside.columns and hi in inside.columns:
            out["low"], out["high"] = inside[lo].to_numpy(), inside[hi].to_numpy()
            break
    return out.reset_index(drop=True)
