"""The mission impact statement: a plan, fiscal event or business case for a mission council.

``impact_statement(plan, against=None)`` compares a results folder with its own baseline (no
change in policy) or with another results folder (the plan before, the case without the
business case); every change is plan − reference. ``write_statement`` writes one
self-contained HTML page (no scripts, no external references; figures as inline SVG),
the PDF that headless Chromium prints from the same page, the statement's tables as CSV
with a ``datapackage.json``, and ``statement.json``.

The page has: a one-page summary in plain words (headline figures, NPV and BCR where the
results carry them, what happens to each mission, who gains and who loses, the fiscal
position); each core metric's path against the reference with the direction of good and an
uncertainty band where the results carry one; comprehensive metrics when the results hold
them; each department's change in cash and real terms; headroom against each fiscal rule;
assumptions and caveats with the weights explained in words; a technical annex
(provenance, binding constraints, the column dictionary).

Example (the tiny instance against its baseline):

>>> import tempfile
>>> from allocator import load_instance, solve, tiny_instance_path
>>> folder = solve(load_instance(tiny_instance_path())).write(tempfile.mkdtemp() + "/run")
>>> st = impact_statement(folder)
>>> st.reference_name
'baseline'
>>> round(st.headline["mission value (objective)"], 1)
184.5
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.impact import department_changes, metric_paths, money_suffix, tables_in_gbp_m
from allocator.results_dir import ResultsFolder, load_results_dir

#: summary.json keys picked up as headline figures when present (other modules add them)
HEADLINE_KEYS = re.compile(r"^(npv|bcr|net_present_value|benefit_cost_ratio)(_.*)?$")
#: results tables the statement renders under "comprehensive metrics" when present
COMPREHENSIVE = re.compile(r"^comprehensive")
GBP_BN = {"_gbp_m": 1e-3, "_gbp_bn": 1.0, "_gbp": 1e-9}

CSS = """
@page{size:A4;margin:14mm 12mm}
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:0 auto;max-width:1000px;color:#1d1d1d;
line-height:1.4;padding:0 1em;font-size:14px}
h1{font-size:1.55em;margin:.6em 0 .1em} h2{font-size:1.2em;border-bottom:2px solid #c9d6e3;padding-bottom:.15em;margin-top:1.4em}
h3{font-size:1.02em;margin:1em 0 .3em}
.sub{color:#555;margin:.1em 0 .6em}
.cards{display:flex;flex-wrap:wrap;gap:.6em;margin:.7em 0}
.card{background:#f2f6fa;border:1px solid #c9d6e3;border-radius:5px;padding:.45em .8em;min-width:150px;flex:1}
.card .v{font-size:1.35em;font-weight:bold} .card .k{font-size:.8em;color:#444}
ul.summary li{margin:.25em 0}
table{border-collapse:collapse;margin:.4em 0 .9em;font-size:.82em;width:auto}
th,td{border:1px solid #ccd;padding:.2em .5em;vertical-align:top} th{background:#e4ecf4;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.y{white-space:nowrap} td.up{color:#1b7837} td.down{color:#b2182b}
figure{margin:.6em 0;break-inside:avoid} figure img{width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.8em;color:#444}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4em .8em;margin:.6em 0}
.bad{color:#b2182b;font-weight:bold} .ok{color:#1b7837;font-weight:bold}
section{break-inside:auto} #summary{break-after:page}
#annex{break-before:page}
.small{font-size:.8em;color:#444}
@media print{body{max-width:none;padding:0;font-size:11.5px} .card{min-width:120px} h2,h3{break-after:avoid}
table,figure{break-inside:avoid}}
"""


# --------------------------------------------------------------------------- formatting
def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _isnum(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)


def _n(v, d=1, plus=False) -> str:
    if not _isnum(v):
        return "–"
    if plus and abs(v) < 0.5 * 10 ** -d:
        return f"{0:.{d}f}"
    return f"{v:+,.{d}f}" if plus else f"{v:,.{d}f}"


def _bn(v_unit, suffix: str, plus=False, d=1) -> str:
    """Money in the results' unit → '£1.2bn' (with sign when ``plus``)."""
    if not _isnum(v_unit):
        return "–"
    v = v_unit * GBP_BN.get(suffix, 1e-3)
    s = "−" if v < 0 else ("+" if plus and v > 0 else "")
    if abs(v) < 0.95:  # under £1bn: in £m
        return f"{s}£{abs(v) * 1000:,.{d}f}m"
    return f"{s}£{abs(v):,.{d}f}bn"


def _table(df: pd.DataFrame, id_: str, digits: dict | None = None, signed=(), classes=None) -> str:
    digits = digits or {}
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    body = []
    for r in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, r):
            if _isnum(v) or (isinstance(v, float) and np.isnan(v)):
                cls = "n"
                if c in signed and _isnum(v) and abs(v) > 1e-12:
                    cls += " up" if v > 0 else " down"
                cells.append(f'<td class="{cls}">{_n(v, digits.get(c, 1), plus=c in signed)}</td>')
            elif isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}", v):
                cells.append(f'<td class="y">{_e(v)}</td>')  # a fiscal year: never broken
            else:
                cells.append(f"<td>{_e('' if v is None else v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table id="{_e(id_)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _img(fig, alt: str) -> str:
    """An <img> of ``fig`` as inline SVG, never drawn wider than its natural size (96 px/inch)."""
    uri, width = _svg(fig)
    return f'<img alt="{_e(alt)}" src="{uri}" style="max-width:{int(96 * width)}px">'


def _svg(fig) -> tuple[str, float]:
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    width = fig.get_size_inches()[0]
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), width


# --------------------------------------------------------------------------- the statement
@dataclass
class ImpactStatement:
    """A plan against its reference (its baseline, or another run), ready to render."""

    plan: ResultsFolder
    reference: ResultsFolder | None
    title: str
    headline: dict = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    departments: pd.DataFrame = field(default_factory=pd.DataFrame)
    headroom: pd.DataFrame = field(default_factory=pd.DataFrame)
    comprehensive: dict[str, pd.DataFrame] = field(default_factory=dict)
    caveats: list[str] = field(default_factory=list)
    weights: list[str] = field(default_factory=list)
    infeasible: list[str] = field(default_factory=list)
    mission_points: list[str] = field(default_factory=list)

    @property
    def reference_name(self) -> str:
        return "baseline" if self.reference is None else str(self.reference.path.name)

    @property
    def display(self) -> tuple[float, str]:
        """(factor from £m, label): £bn for plans of £1bn or more, else £m."""
        d = self.departments
        big = len(d) and float(np.nanmax(np.abs(d[f"plan{self.suffix}"].to_numpy(dtype=float)))) >= 1000.0
        return (1e-3, "£bn") if big else (1.0, "£m")

    @property
    def suffix(self) -> str:
        t = self.plan.tables
        return money_suffix(t["allocations"]) if "allocations" in t else "_gbp_m"

    def to_dict(self) -> dict:
        return {"title": self.title, "plan": str(self.plan.path),
                "reference": "baseline" if self.reference is None else str(self.reference.path),
                "summary": self.summary, "missions": self.mission_points, "headline": self.headline,
                "metrics": self.metrics.to_dict(orient="records"),
                "departments": self.departments.to_dict(orient="records"),
                "headroom": self.headroom.to_dict(orient="records"),
                "caveats": self.caveats + self.weights,
                "instance_sha256": self.plan.sha}


def _instance_of(run: ResultsFolder):
    """The run's instance, if its folder is still where summary.json says (for the weights)."""
    p = run.summary.get("instance_path")
    if not p or not Path(p).exists():
        return None
    try:
        from allocator import load_instance

        return load_instance(p)
    except Exception:  # noqa: BLE001 - the statement works without it (weights then unnamed)
        return None


def _extra_tables(run: ResultsFolder) -> dict[str, pd.DataFrame]:
    out = {}
    if run.path.is_dir() and (run.path / "summary.json").is_file():
        for f in sorted(run.path.glob("*.csv")):
            if COMPREHENSIVE.match(f.stem):
                out[f.stem] = pd.read_csv(f)
    for k, v in run.tables.items():
        if COMPREHENSIVE.match(k):
            out[k] = v
    return out


def _headline_extras(summary: dict) -> dict:
    out = {}
    for k, v in summary.items():
        if HEADLINE_KEYS.match(k):
            if isinstance(v, dict):
                for kk, vv in v.items():
                    if _isnum(vv):
                        out[f"{k} {kk}"] = float(vv)
            elif _isnum(v):
                out[k] = float(v)
    return out


def _rule_sentences(plan: ResultsFolder, sfx: str) -> list[str]:
    from allocator.plots import headroom_frame

    f = plan.tables["fiscal"]
    out = []
    cb = f[f"current_balance{sfx}"] if f"current_balance{sfx}" in f else None
    if cb is not None:
        deficit = f[cb < -1e-6]
        if len(deficit):
            yrs = ", ".join(f"{_bn(v, sfx)} in {y}" for y, v in zip(deficit["year"], deficit[f"current_balance{sfx}"]))
            out.append(f"The current budget is in deficit in {len(deficit)} year(s): {yrs}. The stability "
                       "rule is assessed only in its target years.")
        else:
            out.append("The current budget is in surplus in every year of the horizon.")
    h = headroom_frame(f)
    for rule in h.columns[1:]:
        v = h[rule].astype(float)
        if v.isna().all():
            continue
        i = v.idxmin()
        lo = v.loc[i]
        tol = 1e-6 * max(1.0, float(np.nanmax(np.abs(f[f"gdp{sfx}"])))) if f"gdp{sfx}" in f else 1e-3
        binds = h["year"][v.abs() <= tol].tolist()
        name = rule[0].upper() + rule[1:]
        env = {"resource DEL envelope": f"rdel_envelope{sfx}", "capital DEL envelope": f"cdel_envelope{sfx}"}
        if rule in env and env[rule] in f and (f[env[rule]].abs() <= tol).all():
            continue  # no envelope of this kind
        if lo < -tol:
            out.append(f"{name}: BREACHED; worst margin {_bn(lo, sfx)} in {h['year'].loc[i]}.")
        elif binds and "envelope" in rule:
            out.append(f"{name}: binds, fully spent in {len(binds)} of {int(v.notna().sum())} years "
                       f"({binds[0]} to {binds[-1]}).")
        elif binds:
            out.append(f"{name}: met, with no room left in {', '.join(binds)}.")
        else:
            out.append(f"{name}: met in every year it is assessed; smallest margin {_bn(lo, sfx)} "
                       f"in {h['year'].loc[i]}.")
    return out


def impact_statement(plan, against=None, title: str | None = None) -> ImpactStatement:
    """Build the mission impact statement of ``plan`` (a results folder path or
    :class:`ResultsFolder`) against ``against`` (another results folder) or, when None, against
    the plan's own baseline. Every change is plan − reference."""
    p = plan if isinstance(plan, ResultsFolder) else load_results_dir(plan)
    r = None if against is None else (against if isinstance(against, ResultsFolder) else load_results_dir(against))
    # one money unit (£m) inside, whatever each run's instance said
    p = ResultsFolder(p.path, p.summary, tables_in_gbp_m(p.tables))
    r = None if r is None else ResultsFolder(r.path, r.summary, tables_in_gbp_m(r.tables))
    ref_words = "its baseline (no change in policy)" if r is None else f"the reference run '{r.path.name}'"
    st = ImpactStatement(p, r, title or f"Mission impact statement: {p.name}")
    s = p.summary
    unit = s.get("objective_unit", "")
    inst = _instance_of(p)
    if not p.has_plan or (r is not None and not r.has_plan):
        bad = p if not p.has_plan else r
        st.infeasible.append(f"The run '{bad.path.name}' has no plan: status {bad.summary.get('status')}.")
        inf = bad.summary.get("infeasibility") or {}
        st.infeasible += [x[0].upper() + x[1:] + "." for x in inf.get("sentences") or []]
        clash = inf.get("conflict") or inf.get("families")
        st.summary = [st.infeasible[0]]
        if clash:
            st.summary.append("These rules cannot all hold together: " + ", ".join(map(str, clash)) + ".")
        st.summary.append("No impact can be stated until the rules can all be met; the smallest changes "
                          "to the rules that would allow a plan are listed below.")
        st.weights = _weights_in_words(p, inst)
        st.caveats = ["The relaxations are the smallest total change (in £m) to the rules' limits that "
                      "would make a plan possible; other combinations of changes may also work."]
        return st
    sfx = st.suffix
    obj = s.get("objective")
    money = s.get("weights_kind", "monetised") == "monetised"

    osfx = "_gbp_bn" if "£bn" in unit else "_gbp_m"  # the objective's unit, as summary.json states it

    def v(x):  # an objective figure in plain words
        return f"{_bn(x, osfx)} of present social value" if money else f"{_n(x)} priority points"

    if r is None:
        st.headline["mission value (objective)"] = obj
        st.headline["within the 10 years"] = s.get("objective_in_horizon")
        st.headline["after the horizon"] = s.get("objective_terminal")
        st.summary.append(f"Against {ref_words}, the plan adds {v(obj)} across the missions: "
                          f"{_bn(s.get('objective_in_horizon'), osfx) if money else _n(s.get('objective_in_horizon'))} "
                          f"within the 10-year horizon and "
                          f"{_bn(s.get('objective_terminal'), osfx) if money else _n(s.get('objective_terminal'))} "
                          "from effects that last beyond it (discounted as the Green Book asks).")
    else:
        d = (obj or 0.0) - (r.summary.get("objective") or 0.0)
        st.headline["change in mission value"] = d
        st.headline["plan's mission value"] = obj
        st.headline["reference's mission value"] = r.summary.get("objective")
        st.summary.append(f"Against {ref_words}, the plan {'adds' if d >= 0 else 'loses'} {v(abs(d))} "
                          f"({v(obj)} against {v(r.summary.get('objective'))}).")
    extras = _headline_extras(s)
    st.headline.update(extras)
    for k, v in extras.items():
        st.summary.append(f"{k.upper() if len(k) <= 4 else k}: {_n(v, 2)}.")
    hib = {m.id: m.higher_is_better for m in inst.settings.missions} if inst is not None else None
    st.metrics = metric_paths(p.tables, None if r is None else r.tables, hib)
    last = st.metrics.groupby("mission", sort=False).tail(1)
    for row in last.itertuples():
        if abs(row.change) <= 1e-9:
            verdict, word = "no change", "unchanged"
        else:
            verdict = "better" if row.improvement > 0 else "WORSE"
            word = f"{'up' if row.change > 0 else 'down'} {_n(abs(row.change), 3)} {row.unit}"
        rng = f" (range {_n(row.low, 3)} to {_n(row.high, 3)})" if _isnum(row.low) and _isnum(row.high) else ""
        st.mission_points.append(f"{row.metric[0].upper() + row.metric[1:]}: {word} by {row.year}{rng}, "
                                 f"{verdict} ({row.better_direction} is better).")
    if st.mission_points:
        st.summary.append(f"What happens to each mission's core metric by {last['year'].iloc[-1]}, against "
                          f"{'the baseline' if r is None else 'the reference'}:")
    st.departments = department_changes(p.tables, None if r is None else r.tables)
    dep = st.departments
    real_deps = dep[dep["department"] != "mission_fund"]
    up = dep[dep[f"change{sfx}"] > 1e-6].head(3)
    down = dep[dep[f"change{sfx}"] < -1e-6].sort_values(f"change{sfx}").head(3)
    if len(up):
        st.summary.append("Largest increases (horizon total, cash; real terms in brackets): " + "; ".join(
            f"{x.department} {_bn(getattr(x, f'change{sfx}'), sfx, True)} ({_bn(getattr(x, f'change_real{sfx}'), sfx, True)})"
            for x in up.itertuples()) + ".")
    if len(down):
        st.summary.append("Largest reductions: " + "; ".join(
            f"{x.department} {_bn(getattr(x, f'change{sfx}'), sfx, True)} ({_bn(getattr(x, f'change_real{sfx}'), sfx, True)})"
            for x in down.itertuples()) + f". {int((real_deps[f'change{sfx}'].abs() <= 1e-6).sum())} of "
            f"{len(real_deps)} departments are unchanged.")
    st.summary += _rule_sentences(p, sfx)
    st.headroom = _headroom_table(p, r)
    st.comprehensive = _extra_tables(p)
    st.weights = _weights_in_words(p, inst)
    st.caveats = _caveats(p, st)
    return st


def _headroom_table(p: ResultsFolder, r: ResultsFolder | None) -> pd.DataFrame:
    from allocator.plots import headroom_frame

    sfx = money_suffix(p.tables["allocations"])
    h = headroom_frame(p.tables["fiscal"]).melt(id_vars="year", var_name="rule", value_name=f"plan{sfx}")
    if r is not None:
        hr = headroom_frame(r.tables["fiscal"]).melt(id_vars="year", var_name="rule", value_name="ref")
        h = h.merge(hr, on=["year", "rule"], how="left").rename(columns={"ref": f"reference{sfx}"})
    return h.dropna(subset=[f"plan{sfx}"]).reset_index(drop=True)


def _weights_in_words(p: ResultsFolder, inst) -> list[str]:
    kind = p.summary.get("weights_kind", "monetised")
    if inst is None:
        return [f"The mission weights are {kind}; the instance is not at its recorded path, so they "
                "cannot be listed here (see the instance's instance.yaml)."]
    s = inst.settings
    out = []
    if kind == "monetised":
        out.append("Each mission's weight is the social value, in £ million at the price base "
                   f"({s.price_base}), of its core metric being one unit better for one year. The "
                   "mission value is the sum over years of weight × improvement × the Green Book "
                   f"discount factor ({100 * s.discounting.rate:.1f}% a year unless a mission says otherwise), "
                   "so it reads as £m of present social value.")
    else:
        out.append("The weights are unitless priority points: they rank the missions against each other "
                   "and the objective is not money.")
    for m in s.missions:
        rate = f"; discounted at {100 * m.discount_rate:.1f}%" if m.discount_rate is not None else ""
        basis = f" Basis: {' '.join(m.weight_basis.split())}" if m.weight_basis else ""
        worth = f"£{_n(m.weight, 0)}m" if kind == "monetised" else f"{_n(m.weight, 0)} points"
        out.append(f"{m.name}: each {'rise' if m.higher_is_better else 'fall'} of 1 ({m.metric_unit}) in "
                   f"{m.metric}, held for one year, is worth {worth}{rate}.{basis}")
    if s.weights.note:
        out.append(" ".join(s.weights.note.split()))
    return out


def _caveats(p: ResultsFolder, st: ImpactStatement) -> list[str]:
    out = ["The baseline is the path of each metric and each department's spending with no change "
           "in policy; 'real terms' are at the prices of the first horizon year.",
           "Effect sizes, response curves and lags are the instance's stated assumptions (see its "
           "README and SOURCES); the plan is optimal for them, not for the true effects.",
           "The model is linear: a shadow price (value of £1m more on a binding rule) holds only "
           "while the same rules bind.",
           "Value after the horizon (the 10-year test) counts effects that persist after the last "
           "year, discounted in the same way."]
    if st.metrics["low"].isna().all():
        out.append("These results carry no uncertainty range: the metric paths are central estimates. "
                   "`allocator sensitivity` (trigger events, sweeps) and `allocator cycles` (economic "
                   "paths) give ranges.")
    if p.summary.get("status") != "optimal":
        out.append(f"The plan's status is '{p.summary.get('status')}': it is not proven optimal.")
    if st.reference is not None and st.reference.sha != p.sha:
        out.append("The plan and the reference are runs of different instances (different SHA-256): "
                   "part of the change comes from changed inputs.")
    return out


# --------------------------------------------------------------------------- figures
def metrics_figure(st: ImpactStatement):
    """Each core metric: plan against reference (and baseline), direction of good marked."""
    import matplotlib.pyplot as plt

    from allocator.plots import direction_label, wrap_title  # noqa: F401

    m = st.metrics
    ids = list(dict.fromkeys(m["mission"]))
    ncols = min(3, max(1, len(ids)))
    nrows = int(np.ceil(len(ids) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.1 * ncols, 3.3 * nrows), squeeze=False)
    for k, mid in enumerate(ids):
        ax = axes[k // ncols][k % ncols]
        d = m[m["mission"] == mid]
        x = np.arange(len(d))
        ax.plot(x, d["reference_value"], color="#777777", linestyle="--",
                label="baseline" if st.reference is None else "reference")
        if st.reference is not None:
            ax.plot(x, d["baseline_value"], color="#bbbbbb", linestyle=":", label="baseline")
        if d["low"].notna().any():
            ax.fill_between(x, d["low"], d["high"], color="#2166ac", alpha=0.15, label="uncertainty range")
        ax.plot(x, d["value"], color="#2166ac", marker=".", label="plan")
        ax.set_xticks(x[::max(1, len(x) // 5)])
        ax.set_xticklabels(list(d["year"])[::max(1, len(x) // 5)], fontsize=7, rotation=30)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(wrap_title(f"{mid}: {d['metric'].iloc[0]}", 44) + "\n"
                     + direction_label(None, d["better_direction"].iloc[0] == "higher"), fontsize=8)
        ax.set_ylabel(d["unit"].iloc[0], fontsize=7)
        if k == 0:
            ax.legend(fontsize=6, loc="best")
    for k in range(len(ids), nrows * ncols):
        axes[k // ncols][k % ncols].axis("off")
    fig.tight_layout()
    return fig


def departments_figure(st: ImpactStatement):
    """Every department's change (horizon total), cash and real terms, £bn."""
    import matplotlib.pyplot as plt

    sfx = st.suffix
    d = st.departments.iloc[::-1]
    k, label = st.display
    fig, ax = plt.subplots(figsize=(10, max(2.5, 0.2 * len(d) + 1.2)))
    y = np.arange(len(d))
    ax.barh(y + 0.2, d[f"change{sfx}"] * k, height=0.4, color="#4393c3", label="cash")
    ax.barh(y - 0.2, d[f"change_real{sfx}"] * k, height=0.4, color="#f4a582", label="real terms")
    ax.set_yticks(y)
    ax.set_yticklabels(d["department"], fontsize=7)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"change in horizon-total spend, {label} (plan − {st.reference_name})")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def headroom_figure(st: ImpactStatement):
    from allocator.plots import fiscal_headroom

    return fiscal_headroom(st.plan)


# --------------------------------------------------------------------------- HTML
def build_html(st: ImpactStatement) -> str:
    from allocator import __version__
    from allocator.dictionary import lookup

    p, s, sfx = st.plan, st.plan.summary, st.suffix
    unit = s.get("objective_unit", "")
    out = [f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">'
           f"<title>{_e(st.title)}</title><style>{CSS}</style></head><body>",
           f'<section id="summary"><h1>{_e(st.title)}</h1>',
           f'<p class="sub">Plan: <b>{_e(p.path.name)}</b> (instance {_e(p.name)}) against '
           f'<b id="reference">{_e(st.reference_name)}</b>. Status: <span id="status" class="'
           f'{"ok" if s.get("status") == "optimal" else "bad"}">{_e(s.get("status"))}</span>.</p>']
    if st.headline:
        monetised = s.get("weights_kind", "monetised") == "monetised"

        def card(k, v):
            ident = re.sub(r"[^a-z0-9]+", "-", k.lower()).strip("-")
            if "bcr" in k.lower() or "ratio" in k.lower():
                shown, words = _n(v, 2), "ratio of benefits to costs"
            elif monetised and _isnum(v):
                shown, words = _bn(v, "_gbp_bn" if "£bn" in unit else "_gbp_m"), "present social value"
            else:
                shown, words = _n(v), unit
            return (f'<div class="card"><div class="v" id="headline-{_e(ident)}" data-value="{_e(v)}">'
                    f'{_e(shown)}</div><div class="k">{_e(k)}, {_e(words)}</div></div>')

        out.append('<div class="cards" id="headline">' + "".join(card(k, v) for k, v in st.headline.items())
                   + "</div>")
    items = []
    for t in st.summary:
        sub = ""
        if t.startswith("What happens to each mission") and st.mission_points:
            sub = '<ul id="mission-points">' + "".join(f"<li>{_e(x)}</li>" for x in st.mission_points) + "</ul>"
        items.append(f"<li>{_e(t)}{sub}</li>")
    out.append('<h2>Summary</h2><ul class="summary" id="summary-points">' + "".join(items) + "</ul>")
    if st.infeasible:
        out.append('<div class="note" id="infeasible"><p><b>No plan.</b> To make a plan possible, the '
                   "smallest changes to the rules are:</p><ol>" +
                   "".join(f"<li>{_e(t)}</li>" for t in st.infeasible[1:]) + "</ol></div>")
    out.append("</section>")
    if not st.infeasible:
        out.append('<section id="metrics"><h2>Core mission metrics against ' + _e(st.reference_name) + "</h2>")
        out.append(f'<figure id="fig-metrics">{_img(metrics_figure(st), "core metrics")}'
                   "<figcaption>Each core metric under the plan (blue) against the reference (dashed); the "
                   "arrow in each panel marks the direction of good. A shaded band is the uncertainty "
                   "range where the results carry one.</figcaption></figure>")
        last = st.metrics.groupby("mission", sort=False).tail(1)
        mt = pd.DataFrame({"mission": last["mission"], "metric": last["metric"], "unit": last["unit"],
                           "year": last["year"], "reference": last["reference_value"], "plan": last["value"],
                           "change": last["change"], "better": last["better_direction"] + " is better",
                           "improvement": last["improvement"], "range low": last["low"],
                           "range high": last["high"]})
        out.append(_table(mt, "metrics-table", digits={c: 3 for c in mt.columns}, signed=("improvement",)))
        out.append("</section>")
        if st.comprehensive:
            out.append('<section id="comprehensive"><h2>Comprehensive metrics</h2>')
            for name, df in st.comprehensive.items():
                out.append(f"<h3>{_e(name)}</h3>" + _table(df, f"comprehensive-{name}"))
            out.append("</section>")
        out.append(f'<section id="departments"><h2>Departments: change against {_e(st.reference_name)}</h2>')
        out.append(f'<figure id="fig-departments">{_img(departments_figure(st), "department changes")}'
                   "<figcaption>Change in each department's spend over the horizon, cash and real terms "
                   "(prices of the first horizon year).</figcaption></figure>")
        k, lab = st.display
        dt = pd.DataFrame({"department": st.departments["department"],
                           f"{st.reference_name} {lab}": st.departments[f"reference{sfx}"] * k,
                           f"plan {lab}": st.departments[f"plan{sfx}"] * k,
                           f"change, cash {lab}": st.departments[f"change{sfx}"] * k,
                           f"change, real {lab}": st.departments[f"change_real{sfx}"] * k,
                           "change %": st.departments["change_pct"]})
        out.append(_table(dt, "departments-table", digits={c: 1 for c in dt.columns},
                          signed=(f"change, cash {lab}", f"change, real {lab}", "change %")))
        n_dep = int((dt["department"] != "mission_fund").sum())
        mf = " and the Mission Fund" if n_dep < len(dt) else ""
        out.append(f'<p class="small">All {n_dep} departments{mf}; horizon totals.</p></section>')
        out.append('<section id="fiscal"><h2>Headroom against each fiscal rule</h2>')
        out.append(f'<figure id="fig-headroom">{_img(headroom_figure(st), "fiscal headroom")}'
                   "<figcaption>Margin over each rule and envelope in the years it applies; below zero "
                   "would be a breach (higher is better).</figcaption></figure>")
        h = st.headroom.copy()
        rules = list(dict.fromkeys(h["rule"]))
        piv = (h.pivot_table(index="year", columns="rule", values=f"plan{sfx}") * k)[rules]
        piv = piv.sort_index().reset_index()
        piv.columns.name = None
        out.append(_table(piv, "headroom-table", digits={c: 1 for c in piv.columns}))
        out.append(f'<p class="small">{lab} cash; – where a rule is not assessed that year.</p></section>')
    out.append('<section id="caveats"><h2>Assumptions and caveats</h2><h3>What the weights mean</h3><ul id="weights">'
               + "".join(f"<li>{_e(t)}</li>" for t in st.weights) + "</ul><h3>Caveats</h3><ul>"
               + "".join(f"<li>{_e(t)}</li>" for t in st.caveats) + "</ul></section>")
    out.append('<section id="annex"><h2>Technical annex</h2>')
    solver = s.get("solver") or {}
    prov = [("plan results folder", str(p.path)), ("instance", p.name), ("instance SHA-256", p.sha),
            ("reference", "baseline" if st.reference is None else f"{st.reference.path} (SHA-256 {st.reference.sha})"),
            ("solver", f"{solver.get('name', '')} {solver.get('version', '')} ({solver.get('status', '')})"),
            ("objective unit", unit), ("weights", s.get("weights_kind", "")),
            ("independent check", str((s.get("feasibility_check") or {}).get("ok", "–"))),
            ("command", s.get("command", "")),
            ("statement", f"allocator {__version__}, {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC")]
    out.append("<h3>Provenance</h3>" + _table(pd.DataFrame(prov, columns=["item", "value"]), "provenance"))
    if not st.infeasible:
        from allocator.plots import binding_frame

        b = binding_frame(p.tables["shadow_prices"], top=12)
        if len(b):
            bt = b[["description", "shadow_price"]].rename(columns={"shadow_price": f"value of £1m more ({unit})"})
            out.append("<h3>Binding constraints (largest shadow prices)</h3>" +
                       _table(bt, "binding", digits={bt.columns[1]: 3}))
        cols = []
        for t, df in (("metrics", st.metrics), ("departments", st.departments), ("headroom", st.headroom)):
            for c in df.columns:
                col = lookup("statement", t, str(c))
                cols.append((f"{t}.csv", c, col.meaning if col else "", col.unit if col else "",
                             col.sign if col else ""))
        out.append("<h3>Columns of the statement's tables</h3>" +
                   _table(pd.DataFrame(cols, columns=["file", "column", "meaning", "unit", "sign"]), "columns"))
    out.append("</section></body></html>")
    return "\n".join(out)


# --------------------------------------------------------------------------- writing
def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 180) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (A4, no header/footer)."""
    import tempfile

    exe = chromium_path()
    if exe is None:
        from allocator.errors import AllocatorError

        raise AllocatorError("printing the statement to PDF needs Chromium (apt-get install chromium); "
                             "use --no-pdf for the HTML only")
    with tempfile.TemporaryDirectory() as prof:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={prof}", "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}",
               Path(html_path).resolve().as_uri()]
        subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if not Path(pdf_path).is_file() or Path(pdf_path).read_bytes()[:5] != b"%PDF-":
        from allocator.errors import AllocatorError

        raise AllocatorError(f"Chromium did not print {pdf_path}")
    return Path(pdf_path)


def write_statement(plan, out, against=None, pdf: bool = True, title: str | None = None) -> Path:
    """Write ``statement.html`` (+ ``statement.pdf`` printed from it by headless Chromium when
    ``pdf``), ``statement.json``, ``metrics.csv``, ``departments.csv``, ``headroom.csv`` and
    ``datapackage.json`` atomically into folder ``out``; returns ``out``."""
    from allocator.dictionary import write_datapackage
    from allocator.output import atomic_dir, atomic_write_text, write_csv, write_json

    st = impact_statement(plan, against, title)
    out = Path(out)
    with atomic_dir(out) as tmp:
        atomic_write_text(tmp / "statement.html", build_html(st))
        tables = {}
        if not st.infeasible:
            tables = {"metrics": st.metrics, "departments": st.departments, "headroom": st.headroom}
            for name, df in tables.items():
                write_csv(df, tmp / f"{name}.csv")
        write_json(json.loads(json.dumps(st.to_dict(), default=str)), tmp / "statement.json")
        write_datapackage(tmp, "statement", tables)
        if pdf:
            print_pdf(tmp / "statement.html", tmp / "statement.pdf")
    return out


def wrap(text: str, width: int) -> str:  # pragma: no cover - kept for callers formatting sentences
    return "\n".join(textwrap.wrap(text, width))
