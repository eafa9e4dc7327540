"""Plots of an evidence-uncertainty run (matplotlib, Agg backend): PNG and SVG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from allocator.plots import save_png_svg  # noqa: E402


def _unit(res) -> tuple[float, str]:
    return (1000.0, "£bn-equivalent") if res.meta["value_unit"].startswith("£") else (1.0, "points")


def _source(fig, res) -> None:
    m = res.meta
    fig.text(0.01, 0.01, f"Source: allocator uncertainty on instance '{m['instance']}' "
             f"(sha256 {m['instance_sha256'][:12]}), {m['draws']} draws, seed {m['seed']}",
             fontsize=7, color="0.35")


def _save(fig, stem: Path) -> None:
    save_png_svg(fig, stem)


def value_distribution(res, stem: Path) -> None:
    """Histogram of mission value under each draw: the draw's optimum, the point-estimate
    plan and the robust plan (the same draws for each)."""
    k, unit = _unit(res)
    fig, ax = plt.subplots(figsize=(8, 4.8))
    d = res.draws
    allv = np.concatenate([d[c].to_numpy() for c in ("optimum_value", "point_value", "robust_value")]) / k
    bins = np.linspace(allv.min(), allv.max(), 40) if allv.max() > allv.min() else 10
    for col, label in (("optimum_value", "each draw's optimum"), ("point_value", "point-estimate plan"),
                       ("robust_value", "robust plan")):
        ax.hist(d[col] / k, bins=bins, histtype="step", linewidth=1.8, label=label)
    ax.set_xlabel(f"discounted mission value against baseline, {unit}")
    ax.set_ylabel("draws")
    ax.set_title(f"Mission value under evidence uncertainty\nEVPI {res.meta['evpi'] / k:,.1f} {unit}")
    ax.legend()
    _source(fig, res)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    _save(fig, stem)


def funding_probability(res, stem: Path, top: int = 30) -> None:
    """Probability each programme is funded above baseline in the draw's optimum (the
    programmes where it is least settled, i.e. closest to 50%, first)."""
    f = res.funding.copy()
    f = f[(f["probability_above_baseline"] > 0) & (f["probability_above_baseline"] < 1)] \
        if ((f["probability_above_baseline"] > 0) & (f["probability_above_baseline"] < 1)).any() else f
    f = f.assign(_d=(f["probability_above_baseline"] - 0.5).abs()).sort_values(
        ["_d", "programme"], kind="stable").head(top).sort_values("probability_above_baseline")
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.25 * len(f) + 1.2)))
    ax.barh(f["programme"], f["probability_above_baseline"], color="#4477aa")
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability funded above baseline (share of draws)")
    ax.set_title("Programmes whose funding depends on the evidence")
    _source(fig, res)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    _save(fig, stem)


def evppi_bars(res, stem: Path) -> None:
    """EVPPI by parameter group, with the whole-plan EVPI."""
    k, unit = _unit(res)
    e = res.evppi.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.35 * len(e) + 1.2)))
    colors = ["#aa3377" if g.startswith("(") else "#228833" for g in e["group"]]
    ax.barh(e["group"], e["evppi"] / k, color=colors)
    ax.set_xlabel(f"expected value of (partial) perfect information, {unit}")
    ax.set_title("Where better evidence is worth most (EVPPI by parameter group)")
    _source(fig, res)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    _save(fig, stem)
