"""A self-contained HTML report of a results folder: headline figures, plain-language
findings, plots (embedded as base64 PNG), tables, binding constraints and provenance.

The file has no external references (no scripts, fonts, stylesheets or images fetched),
so it can be e-mailed or attached to a briefing pack and opens offline.

Findings are computed from the tables, not written by hand. A shadow price is the change
in the objective per £1m of relaxation of a binding constraint, so "£1bn more headroom
would add X" is 1,000 × the shadow price: a marginal rate, exact only while the same
constraints stay binding.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.models.constraints import fiscal_findings
from allocator.output import atomic_write_text
from allocator.plots import PLOTS, binding_frame, figure_bytes, headroom_frame

PLOT_CAPTIONS = {
    "allocation_by_department": "Cash spend by funding department, stacked; the Mission Fund is shown separately.",
    "pie_share": "Prevention Investment Expenditure as a share of programme spend, against the rising minimum share.",
    "mission_trajectories": "Each core mission metric under the plan against its baseline path; dotted: effects after the horizon.",
    "fiscal_headroom": "Margin over each fiscal rule and envelope in the years it applies (below zero would be a breach).",
    "shadow_prices": "Mission value of moving each binding constraint £1m the way that helps (raising a limit, lowering a floor; largest first).",
}

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;
color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:2px solid #dde6f0;padding-bottom:.2em;margin-top:1.6em}
.sub{color:#555}
.headline{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.card{background:#f3f6fa;border:1px solid #dde6f0;border-radius:6px;padding:.7em 1em;min-width:180px}
.card .v{font-size:1.5em;font-weight:bold} .card .k{font-size:.85em;color:#555}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.85em}
th,td{border:1px solid #ccd;padding:.25em .55em} th{background:#dde6f0;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1em 0} figure img{max-width:100%;border:1px solid #eee} figcaption{font-size:.85em;color:#555}
.ok{color:#1b7837;font-weight:bold} .bad{color:#b2182b;font-weight:bold}
code{background:#f3f3f3;padding:0 .2em}
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _num(x, d=1) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "–"
    return f"{x:,.{d}f}"


def _table(df: pd.DataFrame, num_cols=(), digits=1, id_=None) -> str:
    ident = f' id="{_e(id_)}"' if id_ else ""
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    body = []
    for r in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, r):
            if c in num_cols:
                cells.append(f'<td class="n">{_num(v, digits)}</td>')
            else:
                cells.append(f"<td>{_e('' if v is None or (isinstance(v, float) and np.isnan(v)) else v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _year_ranges(years: list[str], all_years: list[str]) -> str:
    """'2029-30, 2031-32 to 2033-34' from a set of year labels."""
    idx = sorted({all_years.index(y) for y in years if y in all_years})
    parts, start = [], None
    for k, i in enumerate(idx):
        if start is None:
            start = i
        if k + 1 == len(idx) or idx[k + 1] != i + 1:
            parts.append(all_years[start] if start == i else f"{all_years[start]} to {all_years[i]}")
            start = None
    return ", ".join(parts)


# --------------------------------------------------------------------------- findings
def findings(run) -> list[str]:
    """Plain-language findings computed from the results tables."""
    s = run.summary
    unit = s.get("objective_unit", "")
    out = []
    if s.get("objective") is None:
        out.append(f"No plan: the solve ended '{s.get('status')}': {_status_text(s)}.")
        inf = s.get("infeasibility") or {}
        clash = inf.get("conflict") or inf.get("families")
        if clash:
            out.append("These rules cannot all hold together: " + ", ".join(map(str, clash)) + ".")
        if inf.get("sentences"):
            out.append(f"The smallest relaxation that restores feasibility totals "
                       f"£{_num(inf.get('total_relaxation_gbp_m'), 1)}m; it is listed below.")
        return out
    sp = run.tables["shadow_prices"].copy()
    targets = sp[sp["constraint"] == "mission_target"]
    if len(targets):  # target mode: the objective is minus total cash programme spend
        out.append(f"Target mode: the cheapest plan that reaches all {len(targets)} mission targets "
                   f"spends £{_num(-s['objective'] / 1000, 2)}bn (cash, horizon total).")
        for r in targets[targets["shadow_price"] > 0].itertuples():
            out.append(f"The {r.subject} target in {r.year} binds: each extra unit of the metric "
                       f"would cost about £{_num(r.shadow_price, 3)}m.")
    else:
        out.append(f"The plan is worth {_num(s['objective'])} {unit}: {_num(s['objective_in_horizon'])} "
                   f"within the horizon and {_num(s['objective_terminal'])} from effects after it "
                   f"(the 10-year test).")
    for c in ("year", "subject", "category"):
        sp[c] = sp[c].fillna("").astype(str)
    sp["is_binding"] = sp["binding"].astype(str).str.lower() == "true"
    years = list(run.tables["fiscal"]["year"])
    for fam, (words, room) in fiscal_findings().items():  # declared by each family (``finding``)
        rows = sp[sp["constraint"] == fam]
        if rows.empty:
            continue
        b = rows[rows["is_binding"] & (rows["shadow_price"] > 0)]
        if fam == "del_envelope":  # each category on its own: both envelopes can bind
            fis = run.tables["fiscal"]
            for cat, bc in rows[rows["is_binding"]].groupby("category", sort=True):
                env = next((c for c in fis.columns if c.startswith(f"{cat[0]}del_envelope_gbp")), None)
                if env is not None and (fis[env].abs() < 1e-9).all():
                    continue  # no envelope of this category (nothing to spend)
                priced = bc[bc["shadow_price"] > 0]
                text = (f"The {cat} DEL envelope binds in {_year_ranges(list(bc['year']), years)} "
                        "(it is fully spent)")
                if len(priced):
                    top = priced.sort_values("shadow_price", ascending=False).iloc[0]
                    text += (f"; £1bn more {cat} envelope in {top['year']} would add about "
                             f"{_num(1000 * top['shadow_price'])} {unit} of mission value (marginal rate)")
                out.append(text + ".")
            if rows["is_binding"].any():
                continue
        if fam != "del_envelope" and len(b):
            top = b.sort_values("shadow_price", ascending=False).iloc[0]
            out.append(
                f"{words[0].upper() + words[1:]} binds in {_year_ranges(list(b['year']), years)}; "
                f"£1bn more {room} in {top['year']} would add "
                f"about {_num(1000 * top['shadow_price'])} {unit} of mission value (marginal rate).")
        else:
            i = rows["slack"].astype(float).idxmin()
            out.append(f"{words[0].upper() + words[1:]} does not bind: its smallest margin is "
                       f"£{_num(rows.loc[i, 'slack'] / 1000, 1)}bn, in {rows.loc[i, 'year']}.")
    f = run.tables["fiscal"]
    cb_col = next((c for c in f.columns if c.startswith("current_balance_gbp")), None)
    if cb_col is not None:
        deficit = f[f[cb_col] < -1e-6]
        scale = 1e-3 if cb_col.endswith("_gbp_m") else (1.0 if cb_col.endswith("_gbp_bn") else 1e-9)
        if len(deficit):
            out.append("The current budget is in deficit in " + ", ".join(
                f"{y} (−£{_num(abs(v) * scale, 1)}bn)" for y, v in zip(deficit["year"], deficit[cb_col]))
                + "; the stability rule is assessed only in its target years.")
    b = binding_frame(run.tables["shadow_prices"], top=1)
    if len(b):
        r = b.iloc[0]
        how = str(r.get("helps", "") or "moving")
        out.append(f"The most valuable relaxation is {how} {r['description']}: up to "
                   f"{_num(r['shadow_price'], 3)} {unit} per £1m (moving it the other way costs "
                   "at least as much).")
    nv = s.get("net_value") or {}
    if nv.get("npv_gbp_m") is not None:
        bcr = "not defined (no extra cost)" if nv.get("bcr") is None else _num(nv["bcr"], 2)
        out.append(f"Net value against the baseline: NPV £{_num(nv['npv_gbp_m'] / 1000, 1)}bn, "
                   f"BCR {bcr} (extra cost £{_num(nv['extra_cost_gbp_m'] / 1000, 1)}bn, real, "
                   f"discounted, at {nv['cost_of_public_funds']:g} of value per £).")
    mb = run.tables.get("marginal_bcr")
    if mb is not None and len(mb):
        r0 = mb[mb["category"] == "resource"]
        if len(r0) and r0["marginal_bcr"].notna().all():
            out.append(f"A marginal £1 of {'RDEL' if r0['constraint'].iloc[0] == 'del_envelope' else 'room under the stability rule'} "
                       f"returns £{_num(r0['marginal_bcr'].iloc[0], 2)} of value per £ of cost in "
                       f"{r0['year'].iloc[0]} and £{_num(r0['marginal_bcr'].iloc[-1], 2)} in "
                       f"{r0['year'].iloc[-1]} (marginal BCR; below 1 the extra spending is not "
                       "worth its cost).")
    res_rows = sp[(sp["constraint"] == "resource_limit") & sp["is_binding"] & (sp["shadow_price"] > 0)]
    for rid, g in res_rows.groupby("subject", sort=False):  # priced per unit of the resource
        top = g.sort_values("shadow_price", ascending=False).iloc[0]
        price = (f"£{_num(top['shadow_price'] * 1e6, 0)}" if unit.startswith("£m")
                 else f"{_num(top['shadow_price'], 4)} {unit}")
        out.append(f"The {rid} limit binds in {_year_ranges(list(g['year']), years)}: one more "
                   f"{top['category']} of {rid} in {top['year']} is worth {price} of mission value.")
    m = run.tables["missions"]
    val = m.groupby("mission", sort=False)["discounted_value"].sum()
    if len(val):
        best = val.idxmax()
        share = val.max() / val.sum() * 100 if val.sum() else float("nan")
        out.append(f"Mission '{best}' contributes most value ({_num(val.max())} {unit}, "
                   f"{_num(share, 0)}% of the total).")
    f = run.tables["fiscal"]
    if "pie_share" in f and len(f):
        out.append(f"Prevention (PIE) takes {_num(100 * f['pie_share'].iloc[0], 2)}% of programme "
                   f"spend in {f['year'].iloc[0]} and {_num(100 * f['pie_share'].iloc[-1], 2)}% in "
                   f"{f['year'].iloc[-1]} (minimum {_num(100 * f['pie_share_floor'].iloc[-1], 2)}%).")
    a = run.tables["allocations"]
    mf = a[a["funding"] == "mission_fund"].groupby("year")["spend_gbp_m"].sum()
    if len(mf) and mf.sum() > 0:
        out.append(f"The Mission Fund spends £{_num(mf.sum() / 1000, 1)}bn over the horizon "
                   f"(£{_num(mf.max() / 1000, 1)}bn in its largest year, {mf.idxmax()}).")
    return out


# --------------------------------------------------------------------------- tables
def mission_table(run) -> pd.DataFrame:
    m = run.tables["missions"]
    inside = m[m["in_horizon"].astype(str).str.lower() == "true"]
    last = inside["year"].max()
    rows = []
    for mid, d in m.groupby("mission", sort=False):
        e = inside[(inside["mission"] == mid) & (inside["year"] == last)].iloc[0]
        rows.append({"mission": mid,
                     **({"government mission": e["government_mission"]} if "government_mission" in e else {}),
                     "metric": f"{e['metric']} ({e['unit']})",
                     f"baseline {last}": e["baseline_value"], f"plan {last}": e["value"],
                     "gain": e["gain"], "value in horizon": d.loc[d["in_horizon"].astype(str).str.lower() == "true",
                                                                  "discounted_value"].sum(),
                     "value after horizon": d.loc[d["in_horizon"].astype(str).str.lower() != "true",
                                                  "discounted_value"].sum()})
    return pd.DataFrame(rows)


def metrics_table(run) -> pd.DataFrame:
    """Comprehensive metrics: first and last horizon year, one row per metric (empty if none)."""
    m = run.tables.get("metrics")
    if m is None or not len(m):
        return pd.DataFrame()
    years = sorted(m["year"].unique())
    first, last = years[0], years[-1]
    rows = []
    for mid, d in m.groupby("metric", sort=False):
        a = d[d["year"] == first].iloc[0]
        b = d[d["year"] == last].iloc[0]
        rows.append({"mission": a["mission"], "metric": f"{a['name']} ({a['unit']})", "kind": a["kind"],
                     "baseline": a["baseline_value"], f"plan {first}": a["value"],
                     f"plan {last}": b["value"]})
    return pd.DataFrame(rows)


def department_table(run) -> pd.DataFrame:
    a = run.tables["allocations"]
    years = sorted(a["year"].unique())
    piv = a.pivot_table(index="department", columns="year", values="spend_gbp_m", aggfunc="sum",
                        fill_value=0.0)
    out = pd.DataFrame({"department": piv.index,
                        f"{years[0]} £m": piv[years[0]].to_numpy(),
                        f"{years[-1]} £m": piv[years[-1]].to_numpy(),
                        "horizon total £m": piv.sum(axis=1).to_numpy()})
    return out.sort_values("horizon total £m", ascending=False).reset_index(drop=True)


def _impact_sections(run) -> str:
    """Change against baseline by department (cash and real), the weights in words and the
    caveats: the same text as the mission impact statement (allocator/statement.py)."""
    from allocator.statement import impact_statement

    st = impact_statement(run)
    sfx = st.suffix
    k = {"_gbp_m": 1.0, "_gbp_bn": 1000.0, "_gbp": 1e-6}.get(sfx, 1.0)
    d = st.departments
    dt = pd.DataFrame({"department": d["department"], "baseline £m": d[f"reference{sfx}"] * k,
                       "plan £m": d[f"plan{sfx}"] * k, "change, cash £m": d[f"change{sfx}"] * k,
                       "change, real £m": d[f"change_real{sfx}"] * k, "change %": d["change_pct"]})
    out = ["<h2>Change against baseline by department (horizon total)</h2>",
           _table(dt, num_cols=list(dt.columns[1:]), digits=0, id_="department-changes"),
           "<p class=\"sub\">Baseline: each department's programmes at their baseline spend (no "
           "change in policy); real terms at the prices of the first horizon year. "
           f"All {len(dt)} rows shown.</p>",
           "<h2>What the weights mean</h2><ul id=\"weights\">" +
           "".join(f"<li>{_e(t)}</li>" for t in st.weights) + "</ul>",
           "<h2>Assumptions and caveats</h2><ul id=\"caveats\">" +
           "".join(f"<li>{_e(t)}</li>" for t in st.caveats) + "</ul>"]
    return "\n".join(out)


def _status_text(s: dict) -> str:
    """First line of the solve message without its leading 'status:' word."""
    msg = (s.get("message") or "").splitlines()
    text = msg[0] if msg else ""
    head = f"{s.get('status')}: "
    return text[len(head):] if text.startswith(head) else text


def _img(fig) -> str:
    data = base64.b64encode(figure_bytes(fig, "png")).decode("ascii")
    return f"data:image/png;base64,{data}"


# --------------------------------------------------------------------------- the report
def build_html(run, progress=None) -> str:
    import matplotlib.pyplot as plt

    from allocator import __version__

    s = run.summary
    unit = s.get("objective_unit", "")
    title = f"Spending allocation report: {run.name}"
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{_e(title)}</h1>",
             f"<p class=\"sub\">Status: <span id=\"status\" class=\"{'ok' if s.get('status') == 'optimal' else 'bad'}\">"
             f"{_e(s.get('status'))}</span>: {_e(_status_text(s))}</p>"]
    cards = [("headline-objective", "mission value (objective)", s.get("objective")),
             ("headline-in-horizon", "within the horizon", s.get("objective_in_horizon")),
             ("headline-terminal", "after the horizon (10-year test)", s.get("objective_terminal"))]
    parts.append('<div class="headline">' + "".join(
        f'<div class="card"><div class="v" id="{k}">{_num(v)}</div><div class="k">{_e(label)}, {_e(unit)}</div></div>'
        for k, label, v in cards) + "</div>")
    parts.append("<h2>Findings</h2><ul id=\"findings\">" +
                 "".join(f"<li>{_e(t)}</li>" for t in findings(run)) + "</ul>")
    if run.has_plan:
        parts.append("<h2>Plots</h2>")
        for name, fn in PLOTS.items():
            if name == "fiscal_headroom" and run.summary.get("mode") == "budget":
                continue  # no UK fiscal framework
            fig = fn(run)
            parts.append(f'<figure id="plot-{name}"><img alt="{_e(name)}" src="{_img(fig)}">'
                         f"<figcaption>{_e(PLOT_CAPTIONS.get(name, ''))}</figcaption></figure>")
            plt.close(fig)
            if progress:
                progress(name)
        parts.append("<h2>Missions</h2>")
        mt = mission_table(run)
        parts.append(_table(mt, num_cols=[c for c in mt.columns if c not in ("mission", "metric", "government mission")],
                            digits=3, id_="missions"))
        parts.append(f"<p class=\"sub\">Value columns in {_e(unit)}, discounted.</p>")
        ct = metrics_table(run)
        if len(ct):
            parts.append("<h2>Comprehensive metrics (inputs and outputs)</h2>")
            parts.append(_table(ct, num_cols=[c for c in ct.columns if c.startswith(("baseline", "plan"))],
                                digits=1, id_="metrics"))
        if run.summary.get("mode") != "budget":  # budget mode: no UK fiscal framework
            parts.append("<h2>Fiscal headroom (cash £m; below zero = breach)</h2>")
            h = headroom_frame(run.tables["fiscal"])
            parts.append(_table(h, num_cols=list(h.columns[1:]), digits=0, id_="headroom"))
        parts.append("<h2>Binding constraints</h2>")
        b = binding_frame(run.tables["shadow_prices"])
        if len(b):
            bt = b[["description", "shadow_price"]].rename(
                columns={"shadow_price": f"value per £1m moved the way that helps ({unit})"})
            parts.append(_table(bt, num_cols=[bt.columns[1]], digits=3, id_="binding"))
        else:
            parts.append("<p>No constraint binds with a positive shadow price.</p>")
        mb = run.tables.get("marginal_bcr")
        if mb is not None and len(mb):
            parts.append("<h2>Net value: marginal benefit-cost ratio by year</h2>")
            piv = mb.pivot_table(index="year", columns="category", values="marginal_bcr",
                                 sort=False).reset_index()
            parts.append(_table(piv, num_cols=list(piv.columns[1:]), digits=2, id_="marginal-bcr"))
            parts.append("<p class=\"sub\">Shadow price of the envelope (value of £1m cash) over "
                         "its cost (cost of public funds × discount factor ÷ deflator).</p>")
        lv = run.tables.get("levers")
        if lv is not None and len(lv):
            parts.append("<h2>What the mission machinery is worth</h2>")
            lt = lv[["lever", "kind", "value_with", "value_without", "value_of_lever"]]
            parts.append(_table(lt, num_cols=["value_with", "value_without", "value_of_lever"],
                                digits=1, id_="levers"))
            parts.append(f"<p class=\"sub\">Mission value ({_e(unit)}) of the optimum with each "
                         "lever and with it switched off, every plan valued with the instance's "
                         "own objective (`allocator levers`, docs/levers.md). A rule that binds "
                         "costs value (negative); the 10-year test and mission-led planning add it."
                         "</p>")
        parts.append("<h2>Allocation by department (cash £m)</h2>")
        dt = department_table(run)
        parts.append(_table(dt, num_cols=list(dt.columns[1:]), digits=0, id_="departments"))
        parts.append(_impact_sections(run))
    elif "infeasibility" in run.tables:
        inf = s.get("infeasibility") or {}
        if inf.get("sentences"):
            parts.append("<h2>To restore feasibility</h2><ol id=\"relaxations\">" + "".join(
                f"<li>{_e(t[0].upper() + t[1:])}.</li>" for t in inf["sentences"]) + "</ol>")
        parts.append("<h2>Smallest relaxation that restores feasibility</h2>")
        parts.append(_table(run.tables["infeasibility"], num_cols=["relaxation_gbp_m"], id_="infeasibility"))
    solver = s.get("solver") or {}
    prov = [("instance", run.name), ("instance SHA-256", run.sha),
            ("solver", f"{solver.get('name', '')} {solver.get('version', '')} ({solver.get('status', '')})"),
            ("weights", s.get("weights_kind", "")),
            ("money unit", f"results files in {s.get('money_unit_written', 'gbp_m')}; shown here in £m"),
            ("command", s.get("command", "")),
            ("timings (s)", ", ".join(f"{k} {v}" for k, v in (s.get("timings_s") or {}).items())),
            ("package versions", ", ".join(f"{k} {v}" for k, v in (s.get("versions") or {}).items())),
            ("results folder", str(run.path)),
            ("report", f"allocator {__version__}, {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC")]
    parts.append("<h2>Provenance</h2>" + _table(pd.DataFrame(prov, columns=["item", "value"]), id_="provenance"))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(results_dir: str | Path, out: str | Path | None = None, progress=None) -> Path:
    """Write ``report.html`` (default: inside ``results_dir``) for a results folder."""
    from allocator.results_dir import load_results_dir

    run = load_results_dir(results_dir)
    out = Path(out) if out is not None else Path(results_dir) / "report.html"
    atomic_write_text(out, build_html(run, progress=progress))
    return out
