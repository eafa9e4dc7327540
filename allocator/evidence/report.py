"""The report section of an evidence-uncertainty run: findings in words, from the tables."""

from __future__ import annotations


def _fmt(v: float, unit: str) -> str:
    if unit.startswith("£"):
        return f"£{v / 1000:,.1f}bn"
    return f"{v:,.1f} points"


def markdown(res) -> str:
    m, unit = res.meta, res.meta["value_unit"]
    pt, rb, pr = m["plans"]["point"], m["plans"]["robust"], m["plans"]["pro_rata"]
    lines = [f"## Evidence uncertainty ({m['draws']} draws, seed {m['seed']})", "",
             f"Instance `{m['instance']}` (sha256 {m['instance_sha256'][:12]}); values are "
             f"discounted mission value against the baseline plan, {unit}.", "",
             f"- **Value of perfect information (EVPI)**: {_fmt(m['evpi'], unit)} — the most that "
             "resolving every uncertain parameter before allocating could add, on average.",
             ]
    e = res.evppi[~res.evppi["group"].str.startswith("(")]
    if len(e):
        top = e.iloc[0]
        lines.append(f"- **Where evidence is worth most**: better evidence on `{top['group']}` is "
                     f"worth {_fmt(top['evppi'], unit)} to this Spending Review (EVPPI); then " +
                     ", ".join(f"`{r.group}` {_fmt(r.evppi, unit)}" for r in e.iloc[1:4].itertuples()) + ".")
    lines += [
        f"- **Point-estimate plan**: expected value {_fmt(pt['expected_value'], unit)}, worst 5% "
        f"mean {_fmt(pt['worst_5pct_mean'], unit)}; it beats the baseline in "
        f"{pt['probability_beats_baseline']:.0%} of draws and the pro-rata plan in "
        f"{pt['probability_beats_pro_rata']:.0%}; it keeps on average "
        f"{m['point_share_of_optimum_mean']:.1%} of each draw's optimum (mean regret "
        f"{_fmt(m['point_regret_mean'], unit)}).",
        f"- **Robust plan**, {m['robust_plan']}: expected value {_fmt(rb['expected_value'], unit)}, "
        f"worst 5% mean {_fmt(rb['worst_5pct_mean'], unit)}.",
        f"- **Pro-rata plan**: expected value {_fmt(pr['expected_value'], unit)}.",
        "", "| group | EVPPI | share of EVPI |", "|---|---:|---:|"]
    for r in res.evppi.itertuples():
        lines.append(f"| {r.group} | {_fmt(r.evppi, unit)} | {r.share_of_evpi:.0%} |")
    d = res.departments.head(8)
    lines += ["", "Robust plan against the point-estimate plan, horizon cash by department (£m):", "",
              "| department | point | robust | change |", "|---|---:|---:|---:|"]
    for r in d.itertuples():
        lines.append(f"| {r.department} | {r.point_plan_gbp_m:,.0f} | {r.robust_plan_gbp_m:,.0f} | "
                     f"{r.change_gbp_m:+,.0f} |")
    f = res.funding
    unsettled = f[(f["probability_above_baseline"] > 0.1) & (f["probability_above_baseline"] < 0.9)]
    lines += ["", f"{len(unsettled)} programme(s) are funded above baseline in between 10% and 90% "
              "of draws: their funding depends on the evidence.", ""]
    return "\n".join(lines)
