"""The report section of an evidence-uncertainty run: findings in words, computed from the
tables, as Markdown (``uncertainty_report.md``) and as one self-contained HTML page
(``uncertainty_report.html``: plots embedded as base64 PNG, no scripts, no external
references)."""

from __future__ import annotations

import base64
import html as _html
from pathlib import Path


def _fmt(v: float, unit: str) -> str:
    if unit.startswith("£"):
        return f"£{v / 1000:,.1f}bn"
    return f"{v:,.1f} points"


def findings(res) -> list[str]:
    """The headline findings, one sentence each (Markdown emphasis with ** and `)."""
    m, unit = res.meta, res.meta["value_unit"]
    pt, rb, pr = m["plans"]["point"], m["plans"]["robust"], m["plans"]["pro_rata"]
    out = [f"**Value of perfect information (EVPI)**: {_fmt(m['evpi'], unit)} — the most that "
           "resolving every uncertain parameter before allocating could add, on average."]
    e = res.evppi[~res.evppi["group"].str.startswith("(")]
    if len(e):
        top = e.iloc[0]
        rest = ", ".join(f"`{r.group}` {_fmt(r.evppi, unit)}" for r in e.iloc[1:4].itertuples())
        out.append(f"**Where evidence is worth most**: better evidence on `{top['group']}` is worth "
                   f"{_fmt(top['evppi'], unit)} to this Spending Review (EVPPI)"
                   + (f"; then {rest}." if rest else "."))
    out += [
        f"**Point-estimate plan**: expected value {_fmt(pt['expected_value'], unit)}, worst 5% "
        f"mean {_fmt(pt['worst_5pct_mean'], unit)}; it beats the baseline in "
        f"{pt['probability_beats_baseline']:.0%} of draws and the pro-rata plan in "
        f"{pt['probability_beats_pro_rata']:.0%}; it keeps on average "
        f"{m['point_share_of_optimum_mean']:.1%} of each draw's optimum (mean regret "
        f"{_fmt(m['point_regret_mean'], unit)}).",
        f"**Robust plan**, {m['robust_plan']}: expected value {_fmt(rb['expected_value'], unit)}, "
        f"worst 5% mean {_fmt(rb['worst_5pct_mean'], unit)}.",
        f"**Pro-rata plan**: expected value {_fmt(pr['expected_value'], unit)}."]
    f = res.funding
    unsettled = f[(f["probability_above_baseline"] > 0.1) & (f["probability_above_baseline"] < 0.9)]
    out.append(f"{len(unsettled)} programme(s) are funded above baseline in between 10% and 90% "
               "of draws: their funding depends on the evidence.")
    return out


def markdown(res) -> str:
    m, unit = res.meta, res.meta["value_unit"]
    lines = [f"## Evidence uncertainty ({m['draws']} draws, seed {m['seed']})", "",
             f"Instance `{m['instance']}` (sha256 {m['instance_sha256'][:12]}); values are "
             f"discounted mission value against the baseline plan, {unit}.", ""]
    lines += [f"- {s}" for s in findings(res)]
    lines += ["", "| group | EVPPI | share of EVPI |", "|---|---:|---:|"]
    for r in res.evppi.itertuples():
        lines.append(f"| {r.group} | {_fmt(r.evppi, unit)} | {r.share_of_evpi:.0%} |")
    lines += ["", "Robust plan against the point-estimate plan, horizon cash by department (£m):", "",
              "| department | point | robust | change |", "|---|---:|---:|---:|"]
    for r in res.departments.head(8).itertuples():
        lines.append(f"| {r.department} | {r.point_plan_gbp_m:,.0f} | {r.robust_plan_gbp_m:,.0f} | "
                     f"{r.change_gbp_m:+,.0f} |")
    return "\n".join(lines) + "\n"


def _inline(s: str) -> str:
    """Markdown ** and ` of a finding → HTML (after escaping)."""
    out, parts = [], _html.escape(s).split("**")
    for i, p in enumerate(parts):
        out.append(f"<strong>{p}</strong>" if i % 2 else p)
    t = "".join(out).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(t))


PLOTS = (("value_distribution", "Mission value under each draw: each draw's optimum, the "
          "point-estimate plan and the robust plan (the same draws for each)."),
         ("evppi", "Expected value of partial perfect information by parameter group, with the EVPI."),
         ("funding_probability", "Probability each programme is funded above baseline in the "
          "draw's optimum (programmes whose funding depends most on the evidence)."))


def html(res, plot_dir: Path | None = None) -> str:
    from allocator.report import CSS

    m, unit = res.meta, res.meta["value_unit"]
    e = _html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>Evidence uncertainty: {e(m['instance'])}</title><style>{CSS}</style></head><body>",
             f"<h1>Evidence uncertainty: {e(m['instance'])}</h1>",
             f"<p class='sub'>{m['draws']} draws, seed {m['seed']}; instance sha256 "
             f"{e(m['instance_sha256'][:12])}; values are discounted mission value against the "
             f"baseline plan, {e(unit)}.</p>",
             "<div class='headline'>"]
    cards = [("EVPI", _fmt(m["evpi"], unit)),
             ("point plan, expected value", _fmt(m["plans"]["point"]["expected_value"], unit)),
             ("robust plan, expected value", _fmt(m["plans"]["robust"]["expected_value"], unit)),
             ("point plan keeps of each optimum", f"{m['point_share_of_optimum_mean']:.1%}")]
    parts += [f"<div class='card'><div class='v'>{e(v)}</div><div class='k'>{e(k)}</div></div>"
              for k, v in cards]
    parts += ["</div>", "<h2>Findings</h2><ul>"] + [f"<li>{_inline(s)}</li>" for s in findings(res)]
    parts += ["</ul>", "<h2>Value of information by parameter group</h2>",
              "<table><tr><th>group</th><th>parameters</th><th>EVPPI</th><th>share of EVPI</th></tr>"]
    for r in res.evppi.itertuples():
        parts.append(f"<tr><td>{e(r.group)}</td><td>{e(r.parameters.replace(';', ', '))}</td>"
                     f"<td class='n'>{e(_fmt(r.evppi, unit))}</td><td class='n'>{r.share_of_evpi:.0%}</td></tr>")
    parts += ["</table>", "<h2>Robust plan against the point-estimate plan</h2>",
              "<table><tr><th>department</th><th>point (£m)</th><th>robust (£m)</th><th>change (£m)</th></tr>"]
    for r in res.departments.head(12).itertuples():
        parts.append(f"<tr><td>{e(r.department)}</td><td class='n'>{r.point_plan_gbp_m:,.0f}</td>"
                     f"<td class='n'>{r.robust_plan_gbp_m:,.0f}</td><td class='n'>{r.change_gbp_m:+,.0f}</td></tr>")
    parts.append("</table>")
    if plot_dir is not None:
        for stem, caption in PLOTS:
            f = Path(plot_dir) / f"{stem}.png"
            if f.is_file():
                data = base64.b64encode(f.read_bytes()).decode("ascii")
                parts.append(f"<figure><img alt='{e(stem)}' src='data:image/png;base64,{data}'>"
                             f"<figcaption>{e(caption)}</figcaption></figure>")
    parts.append(f"<p class='sub'>Estimator: {e(m['estimator'])}. Method and limits: "
                 "docs/uncertainty.md.</p></body></html>")
    return "\n".join(parts) + "\n"
