"""Numerical hygiene: money units and coefficient ranges.

**Money units.** An instance may state its money in £ million (``money_unit: gbp_m``, the
default), £ billion (``gbp_bn``) or pounds (``gbp``) in ``instance.yaml``. The engine
always solves in £m, so the LP it hands to HiGHS is the same whichever unit the data
were typed in; results are converted back and their money columns renamed to the
instance's unit (``spend_gbp_m`` → ``spend_gbp_bn``). With f = £m per instance unit
(1000 for £bn, 1e-6 for £):

    money_£m       = f · money                  (every field named *_gbp_m)
    gain_per_£m    = gain_per_unit / f          (segments.gain_per_gbp_m: per unit of money)
    weight_£m      = f · weight                 (monetised weights only: money per metric unit-year)
    ame_saving_per_gbp_m, saving_per_gbp_m (invest_to_save.csv), shares, deflators, pressure
    growth rates, marginal_cost_gbp_m (marginal_bcr.csv: cost of £1m)  unchanged (ratios)
    comprehensive_metrics[].terms[].per_gbp_m    = per_unit / f  (metric units per money)

and back: objective / k, shadow prices (and their signed ``value_if_raised``) · f / k,
with k = f when the objective is money
(monetised weights, or target mode, whose objective is minus cash spend) and k = 1 when it
is points (priority weights); mission values (``discounted_value``) / k_v with k_v = f for
monetised weights and 1 for priority weights, in either mode.

Edges. Loading is the only place an instance unit enters (``to_gbp_m``); the edges that
leave it are :func:`result_to_unit` (solve's :class:`Result`, the tables it writes and
summary.json's ``net_value`` block, whose money keys are renamed like the columns),
:func:`tables_to_gbp_m` / :func:`summary_to_gbp_m` (reading a results folder back, so
report, diff, plots and verify work in £m whatever the unit) and the labels
(:func:`objective_unit_label`).

**Coefficient ranges.** :func:`coefficient_report` lists, per constraint family, the
smallest and largest |a_ij| with the named rows where they occur, and the ranges of row
bounds, column bounds and costs; :func:`numerical_warnings` turns ranges that HiGHS
handles badly (a matrix spread above 1e8, coefficients above 1e9 or below 1e-9,
bounds above 1e12) into plain sentences naming the family and row.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from allocator.schema import Instance

UNIT_FACTORS = {"gbp_m": 1.0, "gbp_bn": 1000.0, "gbp": 1e-6}
UNIT_LABELS = {"gbp_m": "£m", "gbp_bn": "£bn", "gbp": "£"}
RATIO_FIELDS = {"ame_saving_per_gbp_m", "breach_penalty_per_gbp_m", "saving_per_gbp_m",
                "marginal_cost_gbp_m"}  # money (or value) per money: the same in every unit
PER_MONEY_FIELDS = {"gain_per_gbp_m", "per_gbp_m", "use_per_gbp_m"}  # units per unit of money
MONEY_SUFFIX = re.compile(r"_gbp_m$")

# thresholds for the warnings
MAX_MATRIX_RATIO = 1e8
MAX_COEFFICIENT = 1e9
MIN_COEFFICIENT = 1e-9
MAX_BOUND = 1e12
MAX_COST_RATIO = 1e10


def money_unit(inst: Instance) -> str:
    return getattr(inst.settings, "money_unit", "gbp_m")


def unit_factor(unit: str) -> float:
    """£m per one instance money unit."""
    return UNIT_FACTORS[unit]


def objective_is_money(weights_kind: str, objective_kind: str = "value") -> bool:
    """The objective is money with monetised weights, and in target mode (minus cash spend)."""
    return weights_kind == "monetised" or objective_kind == "target_cost"


def objective_factor(unit: str, weights_kind: str, objective_kind: str = "value") -> float:
    """k: objective in £m-model units per objective in instance units."""
    return unit_factor(unit) if objective_is_money(weights_kind, objective_kind) else 1.0


def value_factor(unit: str, weights_kind: str) -> float:
    """k_v: mission value (Σ w δ gain, the missions table's ``discounted_value``) in £m-model
    units per instance unit; money only with monetised weights, whatever the objective mode."""
    return unit_factor(unit) if weights_kind == "monetised" else 1.0


def objective_unit_label(unit: str, weights_kind: str, objective_kind: str = "value") -> str:
    """What the objective is measured in, with its money unit."""
    lab = UNIT_LABELS[unit]
    if objective_kind == "target_cost":
        return f"{lab} cash (minus total programme spend; target mode)"
    return (f"{lab}-equivalent (monetised weights)" if weights_kind == "monetised"
            else "priority points (unitless weights)")


def value_unit_label(unit: str, weights_kind: str) -> str:
    """What mission value (Σ w δ gain) is measured in."""
    return objective_unit_label(unit, weights_kind, "value")


def _scale_tree(obj, f: float, monetised: bool, key: str = ""):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "money_unit":
                out[k] = "gbp_m"
            elif k == "missions" and isinstance(v, list) and monetised:
                out[k] = [dict(_scale_tree(m, f, monetised), weight=m["weight"] * f) for m in v]
            else:
                out[k] = _scale_tree(v, f, monetised, k)
        return out
    if isinstance(obj, list):
        return [_scale_tree(v, f, monetised, key) for v in obj]
    if isinstance(obj, (int, float)) and not isinstance(obj, bool) and MONEY_SUFFIX.search(key):
        if key in RATIO_FIELDS:
            return obj
        if key in PER_MONEY_FIELDS:
            return obj / f
        return obj * f
    return obj


def to_gbp_m(inst: Instance) -> Instance:
    """The same instance with all money in £m (returned unchanged when it already is)."""
    unit = money_unit(inst)
    if unit == "gbp_m":
        return inst
    f = unit_factor(unit)
    data = _scale_tree(inst.model_dump(mode="python"), f, inst.settings.weights.kind == "monetised")
    return Instance.model_validate(data)


def rename_money_columns(df: pd.DataFrame, unit: str) -> pd.DataFrame:
    """``x_gbp_m`` → ``x_gbp_bn`` / ``x_gbp`` (names say the unit the values are in)."""
    if unit == "gbp_m":
        return df
    return df.rename(columns={c: MONEY_SUFFIX.sub(f"_{unit}", c) for c in df.columns
                              if MONEY_SUFFIX.search(c) and c not in RATIO_FIELDS})


def gbp_m_names(df: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Rename ``x_gbp_bn`` / ``x_gbp`` back to ``x_gbp_m`` (names only, values unchanged),
    for display code written against the £m column names."""
    if unit == "gbp_m":
        return df
    return df.rename(columns={c: c[: -len(unit) - 1] + "_gbp_m" for c in table_money_columns(df, unit)})


def table_money_columns(df: pd.DataFrame, unit: str) -> list[str]:
    suffix = f"_{unit}"
    return [c for c in df.columns if c.endswith(suffix) and c not in RATIO_FIELDS]


def table_from_unit(df: pd.DataFrame, unit: str) -> pd.DataFrame:
    """A result table written in ``unit`` back to £m with ``_gbp_m`` names (for checks)."""
    if unit == "gbp_m":
        return df
    f = unit_factor(unit)
    df = df.copy()
    cols = table_money_columns(df, unit)
    for c in cols:
        df[c] = df[c].astype(float) * f
    return df.rename(columns={c: c[: -len(unit) - 1] + "_gbp_m" for c in cols})


def _row_money_factor(df: pd.DataFrame, f: float) -> np.ndarray:
    """f for rows of money families (and user constraints), 1 for rows in resource or metric units."""
    from allocator.models.constraints import row_families

    rf = row_families()
    return np.array([1.0 if n in rf and rf[n].unit in ("resource units", "metric units") else f
                     for n in df["constraint"]], dtype=float)


def tables_to_gbp_m(tables: dict, unit: str, weights_kind: str,
                    objective_kind: str = "value") -> dict:
    """Result tables written in ``unit`` back to £m with ``_gbp_m`` names: the inverse of
    :func:`result_to_unit` on the tables (money · f, mission values · k_v, shadow prices
    · k / f, slacks · f)."""
    if unit == "gbp_m":
        return dict(tables)
    f = unit_factor(unit)
    k = objective_factor(unit, weights_kind, objective_kind)
    kv = value_factor(unit, weights_kind)
    out = {}
    for name, df in tables.items():
        df = table_from_unit(df, unit)
        if name == "missions" and "discounted_value" in df:
            df["discounted_value"] = df["discounted_value"].astype(float) * kv
        if name == "shadow_prices":  # rows in resource or metric units are not money
            fm = _row_money_factor(df, f) if "constraint" in df else f
            for c in ("shadow_price", "value_if_raised"):
                if c in df:
                    df[c] = df[c].astype(float) * k / fm
            if "slack" in df:
                df["slack"] = df["slack"].astype(float) * fm
        out[name] = df
    return out


SUMMARY_OBJECTIVES = ("objective", "objective_in_horizon", "objective_terminal")


def summary_to_gbp_m(summary: dict) -> dict:
    """A ``summary.json`` written in its instance's unit, with the objective parts, the best
    bound and the label back in £m-model units (``money_unit`` becomes ``gbp_m``; the unit
    it was written in is kept as ``money_unit_written``)."""
    unit = summary.get("money_unit", "gbp_m")
    if unit not in UNIT_FACTORS:
        return dict(summary)
    wk, ok = summary.get("weights_kind", "priority"), summary.get("objective_kind", "value")
    k = objective_factor(unit, wk, ok)
    s = dict(summary)
    for n in SUMMARY_OBJECTIVES:
        if isinstance(s.get(n), (int, float)):
            s[n] = s[n] * k
    sol = s.get("solver")
    if isinstance(sol, dict) and isinstance(sol.get("best_bound"), (int, float)):
        s["solver"] = dict(sol, best_bound=sol["best_bound"] * k)
    if isinstance(s.get("net_value"), dict):
        s["net_value"] = net_value_to_unit(s["net_value"], unit, "gbp_m")
    s["money_unit_written"] = unit
    s["money_unit"] = "gbp_m"
    s["objective_unit"] = objective_unit_label("gbp_m", wk, ok)
    return s


def net_value_to_unit(nv: dict, src: str, dst: str) -> dict:
    """summary.json's ``net_value`` block from unit ``src`` to ``dst``: every ``*_<unit>``
    figure (benefit, extra cost, NPV) · f_src / f_dst and renamed; BCRs, marginal BCRs and the
    cost of public funds are ratios, unchanged; the basis names the unit."""
    if src == dst:
        return dict(nv)
    r = unit_factor(src) / unit_factor(dst)
    out = {}
    for key, v in nv.items():
        if key.endswith(f"_{src}") and key not in RATIO_FIELDS:
            key = key[: -len(src) - 1] + f"_{dst}"
            v = v * r if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        elif key == "basis" and isinstance(v, str):
            v = v.replace(UNIT_LABELS[src], UNIT_LABELS[dst])
        out[key] = v
    return out


def result_to_unit(res, unit: str) -> None:
    """Convert a :class:`Result` solved in £m to the instance's money unit, in place."""
    res.money_unit = unit
    if unit == "gbp_m":
        return
    f = unit_factor(unit)
    k = objective_factor(unit, res.weights_kind, res.objective_kind)
    kv = value_factor(unit, res.weights_kind)
    for attr in ("objective", "objective_in_horizon", "objective_terminal"):
        v = getattr(res, attr)
        if v is not None:
            setattr(res, attr, v / k)
    for name, df in list(res.tables.items()):
        df = df.copy()
        for c in df.columns:
            if MONEY_SUFFIX.search(c) and c not in RATIO_FIELDS:
                df[c] = df[c] / f
        if name == "missions" and "discounted_value" in df:
            df["discounted_value"] = df["discounted_value"] / kv
        if name == "shadow_prices":  # rows in resource or metric units are not money
            fm = _row_money_factor(df, f)
            df["shadow_price"] = df["shadow_price"] * fm / k
            if "value_if_raised" in df:
                df["value_if_raised"] = df["value_if_raised"] * fm / k
            df["slack"] = df["slack"] / fm
        res.tables[name] = rename_money_columns(df, unit)
    if res.binding is not None:
        b = res.binding.copy()
        fm = _row_money_factor(b, f) if "constraint" in b else f
        if "shadow_price" in b:
            b["shadow_price"] = b["shadow_price"] * fm / k
        if "slack" in b:
            b["slack"] = b["slack"] / fm
        res.binding = b
    if getattr(res, "net_value", None) is not None:
        res.net_value = net_value_to_unit(res.net_value, "gbp_m", unit)
    sol = res.provenance.get("solver", {})
    if sol.get("best_bound") is not None:
        sol["best_bound"] = sol["best_bound"] / k
    res.provenance["money_unit"] = unit
    res.message += (f"\n(money in {UNIT_LABELS[unit]} as in the instance; solved internally in £m"
                    + ("; the infeasibility explanation is in £m" if res.explanation is not None
                       else "") + ")")


# --------------------------------------------------------------------------- model size
# about 2.4 KiB of peak memory per LP column in a whole solve (benchmarks/scale_results.md):
# 8 million columns stay within a 24 GiB machine
MAX_LP_COLUMNS = 8_000_000
MAX_LP_NONZEROS = 160_000_000


def check_model_size(inst: Instance) -> dict:
    """Estimate the LP's size before building it; refuse absurd sizes with a clear message.

    columns ≈ T · (Σ_p (segments_p + 1) + Σ_p owners_p + P + 2·D) + T
    nonzeros ≈ columns · (a few rows per column) + T · P · (max lag + 1) (AME savings)"""
    from allocator.errors import AllocatorError

    T = inst.settings.horizon.years
    segs: dict[str, set] = {}
    for sg in inst.segments:
        segs.setdefault(sg.programme, set()).add(sg.segment)
    pieces = sum(len(segs.get(p.id, ())) + 1 for p in inst.programmes)
    owners = sum(len(p.owners) for p in inst.programmes)
    P, D = len(inst.programmes), len(inst.departments)
    K = max((lw.lag for lw in inst.lag_profiles), default=0)
    cols = T * (pieces + owners + P + 2 * D) + T
    nnz = 12 * cols + T * P * (K + 1)
    size = {"columns": cols, "nonzeros": nnz}
    if cols > MAX_LP_COLUMNS or nnz > MAX_LP_NONZEROS:
        raise AllocatorError(
            f"instance too large to solve here: about {cols:,} LP columns and {nnz:,} nonzeros "
            f"({P:,} programmes, {pieces - P:,} response segments, {T} years); the limits are "
            f"{MAX_LP_COLUMNS:,} columns and {MAX_LP_NONZEROS:,} nonzeros")
    return size


# --------------------------------------------------------------------------- coefficient ranges
def _abs_range(v: np.ndarray) -> tuple[float, float]:
    a = np.abs(v[np.isfinite(v) & (v != 0)])
    return (float(a.min()), float(a.max())) if a.size else (np.nan, np.nan)


def coefficient_report(model) -> pd.DataFrame:
    """One row per constraint family: nonzeros, min/max |a_ij| and the rows where they
    occur, max/min ratio, and the largest finite |bound| of the family's rows."""
    lp = model.lp
    A = lp.A.tocsr()
    lo, hi = lp.row_lower, lp.row_upper
    rows = []
    for b in lp.row_blocks:
        sub = A[b.start:b.start + b.size]
        absval = np.abs(sub.data)
        nz = absval > 0
        if not nz.any():
            continue
        row_of = np.repeat(np.arange(b.size), np.diff(sub.indptr))
        i_min = int(np.argmin(np.where(nz, absval, np.inf)))
        i_max = int(np.argmax(absval))

        def _name(r: int) -> str:
            lab = b.labels.iloc[r]
            parts = [str(lab[c]) for c in ("subject", "category", "year") if str(lab[c])]
            return f"{b.family}[{', '.join(parts)}]"

        bnd = np.concatenate([lo[b.start:b.start + b.size], hi[b.start:b.start + b.size]])
        bnd = np.abs(bnd[np.isfinite(bnd)])
        rows.append(dict(family=b.family, rows=b.size, nonzeros=int(nz.sum()),
                         min_abs_coef=float(absval[i_min]), min_row=_name(int(row_of[i_min])),
                         max_abs_coef=float(absval[i_max]), max_row=_name(int(row_of[i_max])),
                         coef_ratio=float(absval[i_max] / absval[i_min]),
                         max_abs_bound=float(bnd.max()) if bnd.size else 0.0))
    return pd.DataFrame(rows, columns=["family", "rows", "nonzeros", "min_abs_coef", "min_row",
                                       "max_abs_coef", "max_row", "coef_ratio", "max_abs_bound"])


def numerical_warnings(model, report: pd.DataFrame | None = None) -> list[str]:
    """Plain sentences for coefficient ranges HiGHS is likely to struggle with."""
    lp = model.lp
    rep = coefficient_report(model) if report is None else report
    out = []
    if len(rep):
        gmin = rep.loc[rep["min_abs_coef"].idxmin()]
        gmax = rep.loc[rep["max_abs_coef"].idxmax()]
        ratio = gmax["max_abs_coef"] / gmin["min_abs_coef"]
        if ratio > MAX_MATRIX_RATIO:
            out.append(f"matrix coefficients span {ratio:.1e} (from {gmin['min_abs_coef']:.3g} in "
                       f"{gmin['min_row']} to {gmax['max_abs_coef']:.3g} in {gmax['max_row']}); "
                       f"HiGHS is reliable up to about {MAX_MATRIX_RATIO:.0e}")
    for r in rep.itertuples():
        if r.max_abs_coef > MAX_COEFFICIENT:
            out.append(f"{r.family}: coefficient {r.max_abs_coef:.3g} in {r.max_row} is very large")
        if r.min_abs_coef < MIN_COEFFICIENT:
            out.append(f"{r.family}: coefficient {r.min_abs_coef:.3g} in {r.min_row} is very small")
        if r.max_abs_bound > MAX_BOUND:
            out.append(f"{r.family}: a right-hand side of {r.max_abs_bound:.3g} (£m) is very large; "
                       f"is the money unit right?")
    ub = lp.col_upper
    big = np.isfinite(ub) & (np.abs(ub) > MAX_BOUND)
    if big.any():
        out.append(f"{int(big.sum())} variable bound(s) exceed {MAX_BOUND:.0e} £m (largest "
                   f"{np.abs(ub[big]).max():.3g}); is the money unit right?")
    cmin, cmax = _abs_range(lp.cost)
    if np.isfinite(cmin) and cmax / cmin > MAX_COST_RATIO:
        out.append(f"objective coefficients span {cmax / cmin:.1e} (from {cmin:.3g} to {cmax:.3g}); "
                   f"tiny gains may be lost in the solver's tolerances")
    return out
