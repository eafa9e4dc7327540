"""Run the sensitivity analyses and write their tables, summary and plots (one folder).

Layout of ``out/``:

    summary.json               provenance + headline figures of each analysis
    replan.csv                 loss per event × trigger year × severity
    absorption.csv             who absorbs each shock (department, programme), cash £m
    rules.csv                  PIE protection and fiscal rules: hold for base plan / re-plan?
    relaxations.csv            smallest relaxation restoring the rules, £m by rule and year
    value_paths.csv            discounted mission value by year (fan chart data)
    stochastic_scenarios.csv   two-stage: value per branch under each plan
    settlement_difference.csv  robust vs deterministic settlement by department
    sweep.csv, sweep_allocations.csv, tornado.csv, tornado_allocations.csv, ranging.csv
    tornado.png, fan_chart.png, loss_heatmap.png, settlement_difference.png (+ .svg)
    sweep_progress.jsonl       resumable record of finished sweep units
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from allocator.io import instance_sha256
from allocator.output import atomic_dir, write_csv, write_json
from allocator.provenance import command_line, package_versions
from allocator.runlog import RunLog
from allocator.schema import Instance

from .events import EventsFile, as_events

ANALYSES = ("replan", "stochastic", "sweep")


def _file_sha(path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except (OSError, TypeError):
        return None


def run_sensitivity(instance: Instance, events, out: str | Path, *,
                    analyses=ANALYSES, n_jobs: int = 1, resume: bool = False, plots: bool = True,
                    parameter_grid: dict | None = None, progress=None) -> dict:
    """Run the chosen analyses and write ``out/`` atomically; return the summary dict."""
    from .replan import analyse_triggers
    from .stochastic import stochastic_plan
    from .sweep import default_grid, sweep

    t_start = time.perf_counter()
    out = Path(out)
    events_path = events if isinstance(events, (str, Path)) else None
    ev: EventsFile | None = as_events(events, instance) if events is not None else None
    name = instance.settings.name
    ih = instance_sha256(instance)
    summary: dict = {
        "instance": name, "instance_sha256": ih, "events_file": str(events_path) if events_path else None,
        "events_sha256": _file_sha(events_path) if events_path else None,
        "analyses": list(analyses), "seed": None,
        "seed_note": "deterministic: no random sampling in these analyses",
        "weights_kind": instance.settings.weights.kind,
        "objective_unit": ("£m-equivalent (monetised weights)"
                           if instance.settings.weights.kind == "monetised"
                           else "priority points (unitless weights)"),
        "money_unit": "cash £m (nominal), base price path",
        "versions": package_versions(), "command": command_line(), "timings_s": {},
    }
    tables: dict = {}
    figures: dict = {}
    if "replan" in analyses:
        if ev is None:
            raise ValueError("the re-plan analysis needs an events file")
        ta = analyse_triggers(instance, ev, progress=(lambda i, n: progress("replan", i, n))
                              if progress else None)
        tables.update(ta.tables)
        summary["replan"] = ta.summary()
        summary["timings_s"]["replan"] = ta.timings_s
        figures["replan"] = ta
    if "stochastic" in analyses and ev is not None and ev.tree is not None:
        sr = stochastic_plan(instance, ev)
        tables.update(sr.tables)
        summary["stochastic"] = sr.summary()
        summary["timings_s"]["stochastic"] = sr.timings_s
        figures["stochastic"] = sr
    elif "stochastic" in analyses:
        summary["stochastic"] = {"skipped": "the events file has no 'tree' section"}
    if "sweep" in analyses:
        grid = parameter_grid if parameter_grid is not None else default_grid(instance)
        from .sweep import _check_grid

        _check_grid(instance, grid)  # a bad grid must fail before anything is written
        fp = {"instance_sha256": ih, "grid": grid, "analysis": "sweep"}
        log = RunLog(out, fp, resume=resume, name="sweep_progress.jsonl")
        try:
            sw = sweep(instance, grid, n_jobs=n_jobs, runlog=log,
                       progress=(lambda i, n: progress("sweep", i, n)) if progress else None)
        finally:
            log.close()
        tables.update(sw.tables)
        summary["sweep"] = {"base_objective": sw.base_objective, "units": int(len(sw.results) - 1),
                            "infeasible_units": int((sw.results["status"] != "optimal").sum()),
                            "largest_swings": [
                                {"parameter": r.parameter,
                                 "swing": None if r.infeasible_end else float(r.swing),
                                 "infeasible_at": r.infeasible_at or None}
                                for r in sw.tornado.head(5).itertuples()],
                            "ranging_status": sw.ranging.attrs.get("ranging_status")
                            if sw.ranging is not None else None}
        summary["timings_s"]["sweep"] = sw.timings_s
        figures["sweep"] = sw
    with atomic_dir(out) as tmp:
        for tname, df in tables.items():
            write_csv(df, tmp / f"{tname}.csv")
        written = []
        if plots:
            from . import plots as P

            kind = instance.settings.weights.kind
            if "sweep" in figures and len(figures["sweep"].tornado):
                sw = figures["sweep"]
                written += P.tornado(sw.tornado, sw.base_objective, tmp / "tornado", name, kind)
            if "replan" in figures:
                ta = figures["replan"]
                if len(ta.value_paths):
                    written += P.fan_chart(ta.value_paths, tmp / "fan_chart", name, kind,
                                           instance.years)
                if len(ta.replans):
                    written += P.loss_heatmap(ta.replans, tmp / "loss_heatmap", name, kind)
            if "stochastic" in figures and len(figures["stochastic"].settlement_difference):
                written += P.settlement_difference_bars(figures["stochastic"].settlement_difference,
                                                        tmp / "settlement_difference", name)
        summary["files"] = sorted([f"{t}.csv" for t in tables] + [p.name for p in written])
        summary["timings_s"]["total"] = round(time.perf_counter() - t_start, 6)
        write_json(summary, tmp / "summary.json")
        from allocator.dictionary import datapackage_for_folder

        datapackage_for_folder(tmp, "sensitivity")
    return summary
