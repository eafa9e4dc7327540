"""Plots of the sensitivity analyses (matplotlib, Agg backend; PNG and SVG).

Every figure has a title, units on its axes and a source line naming the instance.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _unit(weights_kind: str) -> str:
    return "£m-equivalent" if weights_kind == "monetised" else "priority points"


def _save(fig, path: Path, source: str) -> list[Path]:
    fig.text(0.01, 0.005, f"Source: allocator sensitivity, instance '{source}'", fontsize=7,
             color="0.4", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    out = [path.with_suffix(".png"), path.with_suffix(".svg")]
    for p in out:
        fig.savefig(p, dpi=120)
    plt.close(fig)
    return out


def tornado(tornado_df, base_objective: float, path: Path, source: str, weights_kind: str,
            top: int = 15) -> list[Path]:
    """Horizontal bars from the lowest to the highest objective of each parameter."""
    d = tornado_df.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(d) + 1.6))
    y = np.arange(len(d))
    lo, hi = d["objective_low"].to_numpy(), d["objective_high"].to_numpy()
    ax.barh(y, np.minimum(lo, base_objective) - base_objective, left=base_objective, color="#c0504d",
            label="lower value")
    ax.barh(y, np.maximum(hi, base_objective) - base_objective, left=base_objective, color="#4f81bd",
            label="higher value")
    bad = d["infeasible_at"].fillna("").to_numpy() if "infeasible_at" in d else [""] * len(d)
    labels = [f"{p}  [{a:g} → {b:g}]" + (f"  INFEASIBLE: {w}" if w else "")
              for p, a, b, w in zip(d["parameter"], d["value_at_low"], d["value_at_high"], bad)]
    for yi, w in zip(y, bad):  # an infeasible end is marked, never drawn as a swing of 0
        if w:
            ax.text(base_objective, yi, "  no feasible plan at an end", va="center", fontsize=7,
                    color="#7f0000")
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(base_objective, color="k", lw=0.8)
    ax.set_xlabel(f"mission value (objective), {_unit(weights_kind)}")
    ax.set_title("Tornado: mission value under one-at-a-time parameter changes")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path, source)


def fan_chart(value_paths, path: Path, source: str, weights_kind: str, horizon: list[str]) -> list[Path]:
    """Cumulative discounted mission value by year: base path, and for each event the
    median and the range over trigger years × severities."""
    vp = value_paths[value_paths["year"].isin(horizon)]
    events = list(dict.fromkeys(vp["event"]))
    n = max(1, len(events))
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False, sharey=True)
    x = np.arange(len(horizon))
    for k, ev in enumerate(events):
        ax = axes[k // cols][k % cols]
        g = vp[vp["event"] == ev]
        piv = g.pivot_table(index=["trigger_year", "severity_multiplier"], columns="year",
                            values="cumulative_value").reindex(columns=horizon)
        base = g.groupby("year")["base_cumulative_value"].first().reindex(horizon).to_numpy()
        arr = piv.to_numpy()
        ax.fill_between(x, np.nanmin(arr, 0), np.nanmax(arr, 0), color="#4f81bd", alpha=0.2,
                        label="range")
        ax.fill_between(x, np.nanpercentile(arr, 25, 0), np.nanpercentile(arr, 75, 0),
                        color="#4f81bd", alpha=0.35, label="25-75%")
        ax.plot(x, np.nanmedian(arr, 0), color="#1f4e79", label="median")
        ax.plot(x, base, color="k", ls="--", lw=1, label="base plan")
        ax.set_title(ev, fontsize=9)
        ax.set_xticks(x[::2], horizon[::2], rotation=45, fontsize=7)
        if k % cols == 0:
            ax.set_ylabel(f"cumulative value, {_unit(weights_kind)}", fontsize=8)
    for k in range(len(events), rows * cols):
        axes[k // cols][k % cols].axis("off")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Mission value under trigger events (re-planned; feasible scenarios)")
    return _save(fig, path, source)


def loss_heatmap(replans, path: Path, source: str, weights_kind: str) -> list[Path]:
    """Loss by trigger year × severity, one panel per event; infeasible cells marked ×."""
    events = list(dict.fromkeys(replans["event"]))
    n = max(1, len(events))
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.4 * rows), squeeze=False)
    for k, ev in enumerate(events):
        ax = axes[k // cols][k % cols]
        g = replans[replans["event"] == ev]
        piv = g.pivot_table(index="severity", columns="trigger_year", values="loss", aggfunc="first",
                            dropna=False)
        stat = g.pivot_table(index="severity", columns="trigger_year", values="status",
                             aggfunc="first")
        arr = piv.to_numpy(dtype=float)
        top = np.nanmax(arr) if np.isfinite(arr).any() else 1.0
        im = ax.imshow(arr, aspect="auto", origin="lower", cmap="Reds", vmin=min(0.0, np.nanmin(arr))
                       if np.isfinite(arr).any() else 0.0, vmax=max(top, 1e-9))
        for i in range(arr.shape[0]):
            for j in range(arr.shape[1]):
                if stat.iloc[i, j] != "optimal":
                    ax.text(j, i, "×", ha="center", va="center", fontsize=9)
        ax.set_xticks(range(arr.shape[1]), piv.columns, rotation=45, fontsize=7)
        ax.set_yticks(range(arr.shape[0]), [f"{v:g}" for v in piv.index], fontsize=7)
        ax.set_xlabel("trigger year", fontsize=8)
        ax.set_ylabel("severity", fontsize=8)
        ax.set_title(ev, fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.8).set_label(f"loss, {_unit(weights_kind)}", fontsize=7)
    for k in range(len(events), rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.suptitle("Mission value lost after re-planning (× = rules cannot be met)")
    return _save(fig, path, source)


def settlement_difference_bars(diff, path: Path, source: str) -> list[Path]:
    """Robust (stochastic) minus deterministic settlement, cash £m by department: against
    the expected-value plan and against the base (no-event) plan, each stage."""
    d = diff[diff["level"] == "department"]
    fig, axes = plt.subplots(2, 1, figsize=(max(7, 0.45 * d["name"].nunique() + 2), 7), sharex=True)
    names = list(dict.fromkeys(d["name"]))
    x = np.arange(len(names))
    w = 0.4
    for ax, col, what in ((axes[0], "difference_vs_ev_gbp_m", "expected-value plan"),
                          (axes[1], "difference_vs_base_gbp_m", "base (no-event) plan")):
        g = d.groupby(["name", "stage"], sort=False)[col].sum().unstack().reindex(names)
        for i, c in enumerate([c for c in ("first_stage", "recourse_expected") if c in g.columns]):
            ax.bar(x + (i - 0.5) * w, g[c].to_numpy(), width=w,
                   label={"first_stage": "first stage (before trigger)",
                          "recourse_expected": "recourse (expected, after trigger)"}[c])
        ax.axhline(0, color="k", lw=0.8)
        ax.set_ylabel("cash £m")
        ax.set_title(f"Robust settlement minus the {what}", fontsize=10)
        ax.legend(fontsize=8)
    axes[1].set_xticks(x, names, rotation=60, fontsize=7)
    fig.suptitle("How the two-stage stochastic settlement differs, by department "
                 "(limits summed over each stage's years)", fontsize=11)
    return _save(fig, path, source)
