"""Plots of a regime comparison (matplotlib, Agg backend): PNG and SVG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from allocator.plots import save_png_svg  # noqa: E402


def _source(fig, res) -> None:
    m = res.meta
    fig.text(0.01, 0.01, f"Source: allocator cycles on instance '{m['instance']}' "
             f"(sha256 {m['instance_sha256'][:12]}), {m['paths']} paths, seed {m['seed']}",
             fontsize=7, color="0.35")


def _save(fig, stem: Path) -> None:
    save_png_svg(fig, stem)


def value_distribution(res, stem: Path) -> None:
    """Box plot of realised net mission value by regime (one box per regime)."""
    unit = res.meta["value_unit"]
    data = [res.paths.loc[res.paths["regime"] == r, "net_value_gbp_m"].to_numpy() / 1000.0
            for r in res.regimes]
    fig, ax = plt.subplots(figsize=(8, 4.8))
    ax.boxplot(data, whis=(5, 95), showmeans=True)
    ax.set_xticks(range(1, len(res.regimes) + 1), res.regimes)
    ax.set_xlabel("Spending Review regime (settlement length)")
    ax.set_ylabel("net mission value, £bn-equivalent" if unit.startswith("£")
                  else "net mission value, thousand points")
    ax.set_title("Realised discounted mission value by regime\n(whiskers 5th-95th percentile, "
                 "triangle = mean; same paths for every regime)")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    _source(fig, res)
    _save(fig, stem)


def headroom_fan(res, stem: Path) -> None:
    """Fan chart of stability-rule headroom by year, one panel per regime."""
    regs = res.regimes
    n = len(regs)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False,
                             sharey=True)
    years = list(dict.fromkeys(res.years["year"]))
    for k, r in enumerate(regs):
        ax = axes[k // cols][k % cols]
        y = res.years[res.years["regime"] == r].pivot(index="path", columns="year",
                                                       values="headroom_gbp_m")[years] / 1000.0
        q = np.percentile(y.to_numpy(), [5, 25, 50, 75, 95], axis=0)
        xs = np.arange(len(years))
        ax.fill_between(xs, q[0], q[4], color="tab:blue", alpha=0.2, label="5-95%")
        ax.fill_between(xs, q[1], q[3], color="tab:blue", alpha=0.4, label="25-75%")
        ax.plot(xs, q[2], color="tab:blue", label="median")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(r)
        ax.set_xticks(xs[::2], [years[i] for i in xs[::2]], rotation=45, fontsize=7)
        if k % cols == 0:
            ax.set_ylabel("headroom, £bn cash")
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].axis("off")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle("Current-budget headroom after in-year absorption (below 0 = stability rule "
                 "broken in a target year)", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    _source(fig, res)
    _save(fig, stem)
