"""Plots of a solved plan (matplotlib, Agg backend), saved as PNG and SVG.

Each plot reads the tables of a results folder (:class:`allocator.results_dir.ResultsFolder`,
or a :class:`Result` through :func:`allocator.results_dir.from_result`) and carries a title,
units on its axes and a source line naming the instance and its SHA-256.

- ``allocation_by_department``: cash spend by funding department per year, stacked (£bn);
- ``pie_share``: PIE spend as a share of programme spend, against the rising minimum share;
- ``mission_trajectories``: each core metric, plan against baseline (metric units);
- ``fiscal_headroom``: margin over each fiscal rule and envelope per year (£bn; < 0 = breach);
- ``shadow_prices``: mission value of £1m more on each binding constraint.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from allocator.explain import describe  # noqa: E402

TOP_DEPARTMENTS = 9
TOP_CONSTRAINTS = 15
COLOURS = plt.get_cmap("tab20").colors


def source_line(run) -> str:
    from allocator import __version__

    sha = run.sha[:12] if run.sha else "unknown"
    return (f"Source: allocator {__version__}, instance '{run.name}' (sha256 {sha}…), "
            f"status {run.summary.get('status', '?')}")


def wrap_title(text: str, width: int = 48) -> str:
    """``text`` broken into lines of at most ``width`` characters at spaces (never cut mid-word)."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


def direction_label(ax, higher_is_better: bool | None, words: str | None = None) -> str:
    """The direction of good in words ("▲ higher is better"); with an ``ax``, also written
    in its bottom right corner. Empty when the direction is unknown."""
    if higher_is_better is None:
        return ""
    text = words or ("▲ higher is better" if higher_is_better else "▼ lower is better")
    if ax is not None:
        ax.text(0.99, 0.02, text, transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                color="#1b7837", bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#1b7837", lw=0.6))
    return text


def mission_directions(run) -> dict[str, bool]:
    """mission id -> higher is better, from the run's instance when it can be read, else
    inferred from the missions table (a positive gain moving the value down = lower is better)."""
    out: dict[str, bool] = {}
    path = run.summary.get("instance_path") if hasattr(run, "summary") else None
    if path and Path(path).exists():
        try:
            from allocator import load_instance

            out = {m.id: m.higher_is_better for m in load_instance(path).settings.missions}
        except Exception:  # noqa: BLE001 - fall back to inference
            out = {}
    m = run.tables.get("missions") if hasattr(run, "tables") else None
    if m is not None:
        for mid, d in m.groupby("mission", sort=False):
            if mid in out:
                continue
            moved = d[d["gain"].abs() > 1e-12]
            if len(moved):
                out[mid] = bool(np.sign(moved["value"].iloc[-1] - moved["baseline_value"].iloc[-1])
                                == np.sign(moved["gain"].iloc[-1]))
    return out


def _finish(fig, ax_or_none, run, title: str):
    fig.suptitle(title, fontsize=12, fontweight="bold")
    fig.text(0.01, 0.01, source_line(run), fontsize=7, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    _keep_inside(fig)
    return fig


def _keep_inside(fig, pad_px: float = 16.0) -> None:
    """Move the axes right/left so that no tick label or axis label is clipped at the edges
    (tight_layout can leave long right-aligned tick labels hanging over the left edge)."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    width = fig.bbox.width
    lo = min((ax.get_tightbbox(r).x0 for ax in fig.axes if ax.get_visible()), default=0.0)
    hi = max((ax.get_tightbbox(r).x1 for ax in fig.axes if ax.get_visible()), default=width)
    left, right = fig.subplotpars.left, fig.subplotpars.right
    if lo < pad_px:
        left += (pad_px - lo) / width
    if hi > width - pad_px:
        right -= (hi - width + pad_px) / width
    if (left, right) != (fig.subplotpars.left, fig.subplotpars.right) and left < right:
        fig.subplots_adjust(left=left, right=right)


def _no_plan(run, title: str):
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.axis("off")
    ax.text(0.5, 0.5, f"No plan to plot: status {run.summary.get('status', '?')}", ha="center",
            va="center")
    return _finish(fig, ax, run, title)


# --------------------------------------------------------------------------- the plots
def allocation_by_department(run):
    title = "Allocation by department (cash £bn per year)"
    if not run.has_plan:
        return _no_plan(run, title)
    a = run.tables["allocations"]
    piv = a.pivot_table(index="year", columns="department", values="spend_gbp_m", aggfunc="sum",
                        fill_value=0.0) / 1000.0
    order = piv.sum().sort_values(ascending=False).index.tolist()
    keep = [d for d in order if d != "mission_fund"][:TOP_DEPARTMENTS]
    other = [d for d in order if d not in keep and d != "mission_fund"]
    cols = {d: piv[d] for d in keep}
    if other:
        cols[f"other ({len(other)} departments)"] = piv[other].sum(axis=1)
    if "mission_fund" in piv:
        cols["Mission Fund"] = piv["mission_fund"]
    data = pd.DataFrame(cols)
    fig, ax = plt.subplots(figsize=(10, 5.5))
    bottom = np.zeros(len(data))
    for i, c in enumerate(data.columns):
        ax.bar(data.index, data[c].to_numpy(), bottom=bottom, label=c, color=COLOURS[i % len(COLOURS)])
        bottom += data[c].to_numpy()
    ax.set_ylabel("spend, cash £bn")
    ax.set_xlabel("fiscal year")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.tick_params(axis="x", rotation=45)
    return _finish(fig, ax, run, title)


def pie_share(run):
    title = "Prevention (PIE) share of programme spend against its floor"
    if not run.has_plan:
        return _no_plan(run, title)
    f = run.tables["fiscal"]
    if "pie_share" in f:
        share = f["pie_share"].to_numpy() * 100
    else:  # older results folders: recompute the share from the allocations
        a = run.tables["allocations"]
        tot = a.groupby("year")["spend_gbp_m"].sum()
        pie = a[a["pie"].astype(str).str.lower() == "true"].groupby("year")["spend_gbp_m"].sum()
        share = (pie.reindex(tot.index, fill_value=0) / tot).to_numpy() * 100
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(f["year"], share, marker="o", label="PIE share (plan)", color="#1b7837")
    if "pie_share_floor" in f:
        ax.step(f["year"], f["pie_share_floor"].to_numpy() * 100, where="mid", linestyle="--",
                color="#b2182b", label="minimum PIE share (floor)")
    ax.set_ylabel("% of programme spend (cash)")
    ax.set_xlabel("fiscal year")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="lower left", title="▲ the share must stay on or above the floor",
              title_fontsize=8)
    ax.tick_params(axis="x", rotation=45)
    return _finish(fig, ax, run, title)


def mission_trajectories(run):
    title = "Core mission metrics: plan against baseline"
    if not run.has_plan:
        return _no_plan(run, title)
    m = run.tables["missions"]
    good = mission_directions(run)
    ids = list(dict.fromkeys(m["mission"]))
    n = len(ids)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    for k, mid in enumerate(ids):
        ax = axes[k // ncols][k % ncols]
        d = m[m["mission"] == mid]
        inside = d[d["in_horizon"].astype(str).str.lower() == "true"]
        after = d[d["in_horizon"].astype(str).str.lower() != "true"]
        ax.plot(inside["year"], inside["baseline_value"], color="#777777", linestyle="--",
                label="baseline")
        ax.plot(inside["year"], inside["value"], color="#2166ac", marker=".", label="plan")
        if len(after):
            ax.plot(after["year"], after["value"], color="#2166ac", linestyle=":", alpha=0.7,
                    label="after the horizon (10-year test)")
        years = list(d["year"])
        step = max(1, len(years) // 12)
        ax.set_xticks(range(0, len(years), step))
        ax.set_xticklabels(years[::step])
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        unit = str(d["unit"].iloc[0])
        ax.set_title("\n".join(filter(None, [wrap_title(f"{mid}: {d['metric'].iloc[0]}", 48),
                                               direction_label(None, good.get(mid))])), fontsize=8)
        ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(axis="x", rotation=60, labelsize=6)
        ax.tick_params(axis="y", labelsize=7)
        if k == 0:
            ax.legend(fontsize=6)
    for k in range(n, nrows * ncols):
        axes[k // ncols][k % ncols].axis("off")
    return _finish(fig, None, run, title)


def headroom_frame(f: pd.DataFrame, summary: dict | None = None) -> pd.DataFrame:
    """Margin over each rule per year (cash £m, > 0 = room to spare, < 0 = breach); NaN where
    a rule does not apply (not a target year / no envelope)."""
    out = pd.DataFrame({"year": f["year"]})
    st = f["stability_target"].astype(str).str.lower() == "true"
    it = f["investment_target"].astype(str).str.lower() == "true"
    out["stability rule (current budget)"] = np.where(st, f["headroom_gbp_m"], np.nan)
    h = f["stability_margin_gbp_m"] - f["headroom_gbp_m"]  # the required headroom H
    out["investment rule (PSNFL/GDP falling)"] = np.where(it, f["investment_margin_gbp_m"] - h, np.nan)
    # the cap is breached only beyond its legislated margin (the row the model enforces);
    # results folders written before the margin column fall back to the cap itself
    cap = (f["welfare_cap_with_margin_gbp_m"] if "welfare_cap_with_margin_gbp_m" in f
           else f["welfare_cap_gbp_m"])
    out["welfare cap"] = cap - f["welfare_capped_gbp_m"]
    out["resource DEL envelope"] = f["rdel_envelope_gbp_m"] - f["rdel_gbp_m"]
    out["capital DEL envelope"] = f["cdel_envelope_gbp_m"] - f["cdel_gbp_m"]
    return out


def fiscal_headroom(run):
    title = "Fiscal headroom by year against each rule (cash £bn)"
    if not run.has_plan:
        return _no_plan(run, title)
    h = headroom_frame(run.tables["fiscal"])
    fig, ax = plt.subplots(figsize=(10, 5))
    # distinct markers, line styles and widths so that lines that coincide (two envelopes
    # both fully spent sit on 0) stay visible: the wider, lighter one is drawn first
    styles = [dict(marker="o", linestyle="-", linewidth=1.5, markersize=6),
              dict(marker="s", linestyle="-", linewidth=1.5, markersize=6),
              dict(marker="^", linestyle="-", linewidth=1.5, markersize=6),
              dict(marker="o", linestyle="-", linewidth=5.0, markersize=11, alpha=0.45, zorder=2),
              dict(marker="x", linestyle="--", linewidth=1.8, markersize=8, zorder=3)]
    for i, c in enumerate(h.columns[1:]):
        v = h[c].to_numpy(dtype=float) / 1000.0
        if np.all(np.isnan(v)):
            continue
        ax.plot(h["year"], v, label=c, color=COLOURS[2 * i % len(COLOURS)], **styles[i % len(styles)])
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("margin over the rule, cash £bn (below 0 = breach)")
    ax.set_xlabel("fiscal year (rules plotted only in their target years)")
    ax.legend(fontsize=8, loc="upper left", title="▲ higher is better (more room)", title_fontsize=8)
    ax.tick_params(axis="x", rotation=45)
    return _finish(fig, ax, run, title)


def binding_frame(shadow: pd.DataFrame, top: int = TOP_CONSTRAINTS) -> pd.DataFrame:
    """The binding constraints with the largest shadow prices, with their descriptions."""
    s = shadow.copy()
    for c in ("year", "subject", "category"):
        s[c] = s[c].fillna("").astype(str)
    b = s[(s["binding"].astype(str).str.lower() == "true") & (s["shadow_price"] > 0)]
    b = b.sort_values("shadow_price", ascending=False, kind="stable").head(top).copy()
    b["description"] = [describe(r.constraint, r.year, r.subject, r.category) for r in b.itertuples()]
    return b.reset_index(drop=True)


def shadow_prices(run):
    unit = run.summary.get("objective_unit", "objective units")
    title = "Shadow prices: mission value of £1m moved the way that helps (raise a limit, lower a floor)"
    if not run.has_plan:
        return _no_plan(run, title)
    b = binding_frame(run.tables["shadow_prices"])
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.5 * len(b) + 1.5)))
    if len(b):
        labels = [wrap_title(t, 48) for t in b["description"][::-1]]
        ax.barh(range(len(b)), b["shadow_price"][::-1], color="#8073ac")
        ax.set_yticks(range(len(b)))
        ax.set_yticklabels(labels)
        ax.tick_params(axis="y", labelsize=7)
    else:
        ax.text(0.5, 0.5, "no binding constraint has a positive shadow price", ha="center",
                va="center", transform=ax.transAxes)
    ax.set_xlabel(wrap_title(f"value per £1m moved the way that helps ({unit}); a longer bar: relaxing that rule is "
                             "worth more", 90))
    return _finish(fig, ax, run, title)


PLOTS: dict[str, Callable] = {
    "allocation_by_department": allocation_by_department,
    "pie_share": pie_share,
    "mission_trajectories": mission_trajectories,
    "fiscal_headroom": fiscal_headroom,
    "shadow_prices": shadow_prices,
}


def save_png_svg(fig, stem: Path) -> None:
    """Save ``fig`` as ``stem.png`` (120 dpi) and ``stem.svg``, then close it."""
    fig.savefig(Path(stem).with_suffix(".png"), dpi=120)
    fig.savefig(Path(stem).with_suffix(".svg"))
    plt.close(fig)


def figure_bytes(fig, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    return buf.getvalue()


def render(run, names=None, progress=None) -> dict[str, object]:
    """name -> matplotlib Figure for every plot (``progress(name)`` called after each)."""
    figs = {}
    if names is None and run.summary.get("mode") == "budget":  # no UK fiscal framework
        names = [n for n in PLOTS if n != "fiscal_headroom"]
    for name in names or PLOTS:
        figs[name] = PLOTS[name](run)
        if progress:
            progress(name)
    return figs


def write_plots(run, out_dir: str | Path, formats=("png", "svg"), progress=None) -> list[Path]:
    """Save every plot as ``out_dir/<name>.<fmt>`` (``out_dir`` is created; it lives inside a
    results folder that is being written, which is swapped in whole afterwards)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in render(run, progress=progress).items():
        for fmt in formats:
            (out_dir / f"{name}.{fmt}").write_bytes(figure_bytes(fig, fmt))
            paths.append(out_dir / f"{name}.{fmt}")
        plt.close(fig)
    return paths
