"""Benchmark and headline run of `allocator cycles` (writes benchmarks/cycles_results.md).

    .venv/bin/python benchmarks/cycles_bench.py [--paths 500] [--jobs 2] [--unique-paths 100]

1. Re-plan cost: for ``--sample-paths`` paths × regimes 1..5 years, the wall time of a
   re-plan or Budget correction as the simulation does it (set_fiscal, fix past years,
   bounds, warm HiGHS re-solve, then the second stage), against a fresh cold HiGHS solve of
   the same first-stage LP.
2. Headline: ``compare_cycles`` on the default instance, seed 7, ``--paths`` paths, regimes
   1y, 2y, 3y, 4y, 5y, 5y+cap10, 1y+cap10 and the driver switches 5y-notrig, 5y-nobudget;
   then 1y and 5y with the certainty effects off; then the shock-free path. These use the
   first-stage plan (``unique_plan=False``): the second stage costs ~10× the re-plan.
3. Unique settlements: 1y, 5y and 5y+cap10 on the first ``--unique-paths`` of the same paths
   with the second stage after every re-plan and Budget (volatility is measured there).

Every table is also written as CSV under benchmarks/cycles_runs/ so the Markdown can be
rebuilt (``--render``) without re-running.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import highspy
import numpy as np
import pandas as pd

from allocator import compare_cycles, load_instance
from allocator.cycles import Regime, uncertainty_settings
from allocator.cycles.measures import differences_table
from allocator.cycles.simulate import CycleSimulator
from allocator.cycles.uncertainty import sample_path
from allocator.solvers.highs import highs_version, new_highs

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "benchmarks" / "cycles_runs"
MAIN = [Regime(1), Regime(2), Regime(3), Regime(4), Regime(5), Regime(5, capital_plan_years=10)]
DRIVERS = [Regime(1, capital_plan_years=10), Regime(5, triggers=False), Regime(5, budgets=False)]


def replan_timings(inst, sample_paths: int) -> dict:
    us = uncertainty_settings(inst)
    sim = CycleSimulator(inst, us)
    rows = []
    orig = sim._solve_plan

    def timed(t, F, x, reserve_spent, Freal, regime, band=None):
        r0, h0 = sim.replan_s, sim.highs_s
        new = orig(t, F, x, reserve_spent, Freal, regime, band=band)
        lp = sim.session.backend.h.getLp()
        fresh = new_highs()
        fresh.setOptionValue("primal_feasibility_tolerance", 1e-6)
        fresh.passModel(lp)
        c0 = time.perf_counter()
        fresh.run()
        rows.append((sim.replan_s - r0, sim.highs_s - h0, time.perf_counter() - c0))
        return new

    sim._solve_plan = timed
    for n in range(sample_paths):
        path = sample_path(us, sim.T, 7, n)
        for L in range(1, 6):
            sim.run(path, Regime(L))
    replan, warm, cold = ([r[i] for r in rows] for i in range(3))
    return {"n": len(rows), "columns": sim.lp.n, "rows": sim.lp.m,
            "slacks": len(sim.session.slack_rows),
            "replan_ms": 1000 * statistics.mean(replan), "replan_median_ms": 1000 * statistics.median(replan),
            "warm_highs_ms": 1000 * statistics.mean(warm), "cold_highs_ms": 1000 * statistics.mean(cold)}


def run_all(inst, paths: int, jobs: int, driver_paths: int, unique_paths: int,
            skip_main: bool = False) -> dict:
    """The runs in order of need; paths 0..n−1 are the same paths in every run (a path's
    outcome depends only on the seed, its number and the settings), so the smaller runs
    pair with the headline run path by path."""
    mp = RUNS / "meta_partial.json"
    out = json.loads(mp.read_text()) if (skip_main and mp.exists()) else {}

    def timed(name, **kw):
        t0 = time.perf_counter()
        res = compare_cycles(inst, seed=7, jobs=jobs, **kw)
        out[f"{name}_s"] = time.perf_counter() - t0
        out[f"{name}_timings"] = res.meta["timings"]
        res.paths.to_csv(RUNS / f"{name}_paths.csv", index=False)
        (RUNS / "meta_partial.json").write_text(json.dumps(out, indent=1, default=str))
        print(name, round(out[f"{name}_s"]), flush=True)
        return res

    if not skip_main:
        timed("main", cycles=MAIN, paths=paths, unique_plan=False)
    timed("drivers", cycles=DRIVERS, paths=driver_paths, unique_plan=False)
    timed("nocert", cycles=[1, 5], paths=driver_paths, certainty=False, unique_plan=False)
    timed("noshock", cycles=[*MAIN, DRIVERS[0]], paths=1, shocks=False, unique_plan=True)
    timed("unique", cycles=[1, 5], paths=unique_paths, unique_plan=True)
    return out


# --------------------------------------------------------------------------- rendering
def _fmt(v) -> str:
    return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"


def _pair(paths: pd.DataFrame, reg: str, base: str, measure: str, minus=None):
    """Mean paired difference reg − base over the paths both have, and its 95% t-interval;
    ``minus`` = (reg2, base2): the difference of two paired differences."""
    from scipy import stats

    def d(r, b):
        x = paths[paths.regime == r].set_index("path")[measure]
        y = paths[paths.regime == b].set_index("path")[measure]
        return x - y

    v = d(reg, base)
    if minus is not None:
        v = v - d(*minus)
    v = v.dropna().to_numpy()
    n = len(v)
    half = stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n) if n > 1 else 0.0
    return v.mean(), v.mean() - half, v.mean() + half, n


def _ci(paths, reg, base, measure):
    return _pair(paths, reg, base, measure)


def _cell(t) -> str:
    return f"{_fmt(t[0])} [{_fmt(t[1])}, {_fmt(t[2])}]"


COLS = ["mission_value_gbp_m", "net_value_gbp_m", "breaches", "breach_gbp_m", "outturn_misses",
        "outturn_miss_gbp_m", "budget_volatility_pct", "reviews", "triggered_reviews",
        "good_news_reviews", "budget_corrections"]


def _table(paths: pd.DataFrame) -> list[str]:
    order = list(dict.fromkeys(paths["regime"]))
    m = paths.groupby("regime")[COLS].mean().loc[order]
    lines = ["| regime | " + " | ".join(COLS) + " |", "|---|" + "---:|" * len(COLS)]
    lines += [f"| {r} | " + " | ".join(_fmt(v) for v in row) + " |" for r, row in m.iterrows()]
    return lines


def render(meta: dict, out: Path) -> None:
    main = pd.read_csv(RUNS / "main_paths.csv")
    n = meta["paths"]
    read = {k: pd.read_csv(RUNS / f"{k}_paths.csv") for k in ("drivers", "nocert", "noshock", "unique")
            if (RUNS / f"{k}_paths.csv").exists() and f"{k}_s" in meta}
    allp = pd.concat([main, read.get("drivers", main.iloc[:0]),
                      read.get("nocert", main.iloc[:0]).assign(
                          regime=lambda f: f.regime + "-nocert")], ignore_index=True)
    t = meta["main_timings"]
    lines = [
        "# Benchmark and headline run: Spending Review cycles",
        "",
        f"Machine: {meta['machine']}; Python {meta['python']}, HiGHS {meta['highs']}. Instance: "
        "uk_missions. Load average (1/5/15 min) before: "
        f"{meta['load_before']}, after: {meta.get('load_after', '?')} (the 2 cores were shared "
        "with other helpers' work; timings are far slower than on a quiet machine). Command: "
        f"`{meta['command']}`. Seed 7; every regime sees the same paths, and path i is the same "
        "path in every run below, so all differences are paired by path.",
        "",
        "## Speed",
        "",
        "| run | paths × regimes | wall (s) | re-plans | ms per re-plan |",
        "|---|---|---:|---:|---:|",
    ]
    for k, label in (("main", f"{n} × {len(MAIN)}, first stage"),
                     ("drivers", f"{meta['driver_paths']} × {len(DRIVERS)}, first stage"),
                     ("nocert", f"{meta['driver_paths']} × 2, certainty off, first stage"),
                     ("noshock", f"1 × {len(MAIN) + 1}, no shocks, second stage"),
                     ("unique", f"{meta['unique_paths']} × 2, second stage")):
        if f"{k}_s" in meta:
            tk = meta[f"{k}_timings"]
            lines.append(f"| {k} | {label} | {meta[f'{k}_s']:.0f} | {tk['replans']} | "
                         f"{1000 * (tk['seconds_per_replan'] or 0):.0f} |")
    lines += [
        "",
        "A re-plan or Budget is a warm first-stage re-solve in the persistent session; the "
        "second stage (allocator/unique_plan.py, a fresh HiGHS solve of the larger tie-break "
        "LP) costs about ten times as much, so the headline runs use first-stage plans and the "
        "second stage is run on a subset for the settlement measures (volatility).",
        "",
        f"## Headline: {n} paths, first-stage plans (means)",
        "",
        *_table(main),
        "",
        "Paired differences against 1y (95% t-interval):",
        "",
        "| regime | net value | forecast breaches | breach £m | outturn misses |",
        "|---|---:|---:|---:|---:|",
    ]
    for reg in [r.label for r in MAIN[1:]]:
        lines.append(f"| {reg} | " + " | ".join(_cell(_ci(main, reg, "1y", m)) for m in (
            "net_value_gbp_m", "breaches", "breach_gbp_m", "outturn_misses")) + " |")
    lines += ["", "Value of the 10-year capital plan (net value, paired): on 5y "
              f"{_cell(_ci(main, '5y+cap10', '5y', 'net_value_gbp_m'))} ({n} paths)"]
    if "drivers" in read:
        lines[-1] += (f"; on 1y {_cell(_ci(allp, '1y+cap10', '1y', 'net_value_gbp_m'))} "
                      f"({meta['driver_paths']} paths)")
    lines[-1] += "."
    base = _pair(allp, "5y", "1y", "net_value_gbp_m")
    lines += ["", f"## Drivers of 5y − 1y (net value, paired by path; {meta['driver_paths']} paths "
              "unless stated)", "",
              "| switched off | 5y − 1y | change against all mechanisms on (same paths) |",
              "|---|---:|---:|",
              f"| nothing (all on; {n} paths) | {_cell(base)} | — |"]
    rows = [("planning cost", "5y", "1y", "mission_value_gbp_m")]
    if "nocert" in read:
        rows.insert(0, ("certainty effects", "5y-nocert", "1y-nocert", "net_value_gbp_m"))
    if "drivers" in read:
        rows += [("triggers (both directions)", "5y-notrig", "1y", "net_value_gbp_m"),
                 ("annual Budgets", "5y-nobudget", "1y", "net_value_gbp_m")]
    sub = allp[allp.path < meta["driver_paths"]]
    for name, r, b, meas in rows:
        v = _pair(sub, r, b, meas)
        if meas == "net_value_gbp_m":
            dd = _pair(sub, r, b, meas, minus=("5y", "1y"))
        else:  # planning cost off: the same plans valued without it; the change is the
            v = _pair(main, r, b, meas)  # difference in planning cost, per path
            dd = _pair(main, r, b, "planning_cost_gbp_m")
        lines.append(f"| {name} | {_cell(v)} | {_cell(dd)} |")
    if "noshock" in read:
        ns = read["noshock"].set_index("regime")["net_value_gbp_m"]
        lines.append(f"| shocks (the one shock-free path) | {_fmt(ns['5y'] - ns['1y'])} | "
                     f"{_fmt(ns['5y'] - ns['1y'] - base[0])} (against the {n}-path mean) |")
        lines += ["", "Shock-free path (second stage on):", "", *_table(read["noshock"])]
    if "unique" in read:
        u = read["unique"]
        lines += ["", f"## Unique settlements: first {meta['unique_paths']} paths, second stage after "
                  "every re-plan and Budget (means)", "", *_table(u), "",
                  f"5y − 1y: net value {_cell(_ci(u, '5y', '1y', 'net_value_gbp_m'))}; budget "
                  f"volatility {_cell(_ci(u, '5y', '1y', 'budget_volatility_pct'))} percentage points. "
                  f"The same paths with first-stage plans: net value "
                  f"{_cell(_pair(main[main.path < meta['unique_paths']], '5y', '1y', 'net_value_gbp_m'))}."]
    lines.append("")
    out.write_text("\n".join(lines))


def main() -> None:
    global RUNS
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--driver-paths", type=int, default=100)
    ap.add_argument("--unique-paths", type=int, default=20)
    ap.add_argument("--skip-main", action="store_true", help="Keep the headline run already in "
                    "benchmarks/cycles_runs/ and run the smaller ones.")
    ap.add_argument("--render", action="store_true", help="Only rebuild the Markdown from "
                    "benchmarks/cycles_runs/.")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "cycles_results.md"))
    ap.add_argument("--runs", default=str(RUNS), help="Folder of the run tables.")
    a = ap.parse_args()
    RUNS = Path(a.runs)
    RUNS.mkdir(exist_ok=True)
    if not a.render:
        inst = load_instance(ROOT / "instances" / "uk_missions")
        meta = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                "python": platform.python_version(), "highs": highs_version(),
                "load_before": "/".join(f"{v:.1f}" for v in os.getloadavg()),
                "command": f".venv/bin/python benchmarks/cycles_bench.py --paths {a.paths} --jobs "
                           f"{a.jobs} --driver-paths {a.driver_paths} --unique-paths {a.unique_paths}",
                "paths": a.paths, "jobs": a.jobs, "driver_paths": a.driver_paths,
                "unique_paths": a.unique_paths}
        if a.skip_main and (RUNS / "meta_start.json").exists():
            start = json.loads((RUNS / "meta_start.json").read_text())
            meta.update(paths=start["paths"], load_before=start["load_before"],
                        command=start["command"] + f"; then --skip-main --driver-paths "
                                                   f"{a.driver_paths} --unique-paths {a.unique_paths}")
        (RUNS / "meta_start.json").write_text(json.dumps(meta, indent=1))
        meta.update(run_all(inst, a.paths, a.jobs, a.driver_paths, a.unique_paths, a.skip_main))
        meta["load_after"] = "/".join(f"{v:.1f}" for v in os.getloadavg())
        (RUNS / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    mp = RUNS / "meta.json"
    meta = json.loads(mp.read_text()) if mp.exists() else json.loads((RUNS / "meta_start.json").read_text())
    if not mp.exists():  # a partial run: what has finished
        meta.update(json.loads((RUNS / "meta_partial.json").read_text()))
    render(meta, Path(a.out))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
