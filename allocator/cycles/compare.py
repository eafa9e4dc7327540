"""``compare_cycles``: simulate several Spending Review regimes on the same sampled paths.

Paths run in parallel with joblib (loky by default; a dask.distributed cluster when a
scheduler address or Client is given). Each worker process keeps one
:class:`~allocator.cycles.simulate.CycleSimulator` (one LP build) for the whole run and
re-solves it through every path of every chunk it receives. Every finished path is
appended to a :class:`~allocator.runlog.RunLog` when an output folder is given, so a
killed run resumes (``resume=True``) with identical results: a path's outcome depends
only on the seed, its number and the settings, never on the worker or the order.
"""

from __future__ import annotations

import contextlib

import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from allocator.errors import AllocatorError
from allocator.io import instance_sha256, load_instance
from allocator.schema import Instance

from . import measures
from .regime import Regime, as_regime
from .settings import UncertaintySettings, uncertainty_settings
from .uncertainty import sample_path
from allocator.numerics import to_gbp_m

_WORKER_CACHE: dict = {}


@dataclass
class CyclesResult:
    """Tables of a regime comparison (pandas DataFrames) and the run's provenance."""

    summary: pd.DataFrame  # regime × measure: mean, p5, p50, p95
    differences: pd.DataFrame  # paired differences against the base regime, 95% CI
    paths: pd.DataFrame  # one row per (regime, path)
    years: pd.DataFrame  # one row per (regime, path, year)
    meta: dict = field(default_factory=dict)

    @property
    def regimes(self) -> list[str]:
        return [r["label"] for r in self.meta["regimes"]]

    def comparison(self) -> pd.DataFrame:
        """Means of the headline measures, one row per regime."""
        cols = ["mission_value_gbp_m", "net_value_gbp_m", "breaches", "breach_gbp_m",
                "outturn_misses", "budget_volatility_pct", "reviews", "triggered_reviews",
                "pie_share_final"]
        s = self.summary[self.summary["measure"].isin(cols)]
        t = s.pivot(index="regime", columns="measure", values="mean")[cols]
        return t.loc[self.regimes]

    def write(self, out: str | Path) -> None:
        """Write the tables, plots and summary.json into ``out``, replacing it whole."""
        from allocator.output import results_folder

        with results_folder(out, "cycles") as tmp:
            self.write_files(tmp)

    def write_files(self, tmp: Path) -> None:
        """The tables, plots and summary.json, into the folder being written."""
        from allocator.output import write_csv, write_json

        from . import plots

        write_csv(self.summary, tmp / "cycles_summary.csv")
        write_csv(self.differences, tmp / "cycles_differences.csv")
        write_csv(self.paths, tmp / "cycles_paths.csv")
        write_csv(self.years, tmp / "cycles_years.csv")
        plots.value_distribution(self, tmp / "mission_value_by_regime")
        plots.headroom_fan(self, tmp / "headroom_fan")
        write_json(self.meta, tmp / "summary.json")
        from allocator.dictionary import datapackage_for_folder

        datapackage_for_folder(tmp, "cycles")


# --------------------------------------------------------------------------- workers
def _simulator(key: str, instance: Instance, us_json: str, unique_plan: bool | None = None):
    """The worker's simulator for this run (one per process and thread: HiGHS objects are
    not shared between threads)."""
    from .simulate import CycleSimulator

    k = (key, threading.get_ident())
    sim = _WORKER_CACHE.get(k)
    if sim is None:
        for old in [c for c in _WORKER_CACHE if c[0] != key]:  # another run's simulators
            del _WORKER_CACHE[old]
        sim = CycleSimulator(instance, UncertaintySettings.model_validate_json(us_json), unique_plan)
        _WORKER_CACHE[k] = sim
    return sim


def run_chunk(key: str, instance: Instance, us_json: str, regimes: list[Regime], seed: int,
              numbers: list[int], unique_plan: bool | None = None) -> list[dict]:
    """Simulate every regime on paths ``numbers``; one record per path."""
    sim = _simulator(key, instance, us_json, unique_plan)
    out = []
    for n in numbers:
        path = sample_path(sim.us, sim.T, seed, n)
        t0 = time.perf_counter()
        recs = [sim.run(path, r) for r in regimes]
        out.append({"path": n, "regimes": recs, "seconds": time.perf_counter() - t0,
                    "replans": sim.replans, "replan_s": sim.replan_s})
        sim.replans, sim.replan_s = 0, 0.0
    return out


# --------------------------------------------------------------------------- driver
def compare_cycles(instance: Instance | str | Path, cycles: Iterable = (1, 2, 3, 4, 5), *,
                   paths: int = 100, seed: int = 0, jobs: int = 1, indicative_years: int = 0,
                   capital_plan_years: int = 0, triggers: bool = True, budgets: bool = True,
                   shocks: bool = True, certainty: bool = True, uncertainty: dict | None = None,
                   unique_plan: bool | None = None,
                   scheduler=None, out: str | Path | None = None, resume: bool = False,
                   progress: Callable[[int, int], None] | None = None,
                   chunk_size: int | None = None) -> CyclesResult:
    """Compare Spending Review regimes over ``paths`` sampled economic paths.

    ``cycles``: settlement lengths (ints, each a :class:`Regime` with the given
    ``indicative_years``, ``capital_plan_years``, ``triggers`` and ``budgets``) or
    :class:`Regime` objects. ``shocks=False`` switches economic uncertainty off;
    ``certainty=False`` the certainty effects; ``uncertainty`` overrides keys of the
    instance's section. ``unique_plan``: run the second stage (one plan from the optimal
    face) after every re-plan and Budget; default the instance's ``unique_plan.enabled``.
    ``jobs`` worker processes (loky); ``scheduler``: a dask.distributed address or Client.
    ``out``: folder for the progress log and, when the run completes, the result files
    (:meth:`CyclesResult.write`); ``resume`` skips paths already in its log.
    ``progress(done, total)`` is called as paths finish.

    >>> from allocator import compare_cycles, load_instance, tiny_instance_path
    >>> res = compare_cycles(load_instance(tiny_instance_path()), cycles=[1, 3], paths=4, seed=1)
    >>> sorted(res.summary["regime"].unique()), len(res.paths)
    (['1y', '3y'], 8)
    """
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    instance = to_gbp_m(instance)  # simulations run, and report, in £m whatever the money_unit
    if paths < 1:
        raise AllocatorError(f"--paths must be at least 1, got {paths}")
    if jobs < 1:
        raise AllocatorError(f"--jobs must be at least 1, got {jobs}")
    us = uncertainty_settings(instance, uncertainty)
    if not shocks:
        us = us.without_shocks()
    if not certainty:
        us = us.without_certainty_effects()
    regimes = [as_regime(c, indicative_years=indicative_years, capital_plan_years=capital_plan_years,
                         triggers=triggers, budgets=budgets) for c in cycles]
    if not regimes:
        raise AllocatorError("give at least one cycle length")
    labels = [r.label for r in regimes]
    if len(set(labels)) != len(labels):
        raise AllocatorError(f"regimes repeat: {labels}")
    T = instance.settings.horizon.years
    too_long = [r.length for r in regimes if r.length > T]
    if too_long:
        raise AllocatorError(f"cycle length {too_long[0]} is longer than the {T}-year horizon")
    sha = instance_sha256(instance)
    us_json = us.model_dump_json()
    if unique_plan is None:
        unique_plan = instance.settings.unique_plan.enabled
    unique_plan = bool(unique_plan)
    fingerprint = {"instance_sha256": sha, "seed": seed, "paths": paths,
                   "regimes": [r.to_dict() for r in regimes], "uncertainty": json.loads(us_json),
                   "unique_plan": unique_plan}
    key = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]

    with contextlib.ExitStack() as stack:
        work = None
        if out is not None:  # the progress log lives in the run's working folder (resumable)
            from allocator.output import results_folder

            work = stack.enter_context(results_folder(out, "cycles", resumable=True, resume=resume))
        return _run(work, fingerprint, resume, paths, progress, chunk_size, jobs, key, instance,
                    us, us_json, regimes, seed, scheduler, sha, unique_plan)


def _run(work, fingerprint, resume, paths, progress, chunk_size, jobs, key, instance, us, us_json,
         regimes, seed, scheduler, sha, unique_plan=True) -> CyclesResult:
    from allocator.runlog import RunLog, interruptible

    log = RunLog(work, fingerprint, resume=resume) if work is not None else None
    records: dict[int, dict] = {}
    if log is not None:
        records = {int(k): v for k, v in log.records.items()}
    todo = [n for n in range(paths) if n not in records]
    if progress:
        progress(len(records), paths)
    size = chunk_size or max(1, min(10, math.ceil(len(todo) / (4 * jobs)))) if todo else 1
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    t0 = time.perf_counter()
    try:
        with interruptible():
            for batch in _execute(chunks, key, instance, us_json, regimes, seed, jobs, scheduler,
                                  unique_plan):
                for rec in batch:
                    records[rec["path"]] = rec
                    if log is not None:
                        log.append(rec["path"], rec)
                if progress:
                    progress(len(records), paths)
    finally:
        if log is not None:
            log.close()
    elapsed = time.perf_counter() - t0
    res = _assemble(instance, us, regimes, records, paths, seed, sha, elapsed, jobs, scheduler,
                    len(todo))
    res.meta["unique_plan"] = unique_plan
    if work is not None:
        res.write_files(work)
    return res


def _execute(chunks, key, instance, us_json, regimes, seed, jobs, scheduler, unique_plan=True):
    from allocator.parallel import run_chunks

    yield from run_chunks(_chunk_with(unique_plan), (key, instance, us_json, regimes, seed), chunks,
                          jobs, scheduler)


def _chunk_with(unique_plan: bool):
    """run_chunk with the second-stage switch bound (run_chunks passes the chunk last)."""
    import functools

    return functools.partial(_run_chunk_up, unique_plan)


def _run_chunk_up(unique_plan, key, instance, us_json, regimes, seed, numbers):
    return run_chunk(key, instance, us_json, regimes, seed, numbers, unique_plan)


def _assemble(instance, us, regimes, records, paths, seed, sha, elapsed, jobs, scheduler,
              ran) -> CyclesResult:
    from allocator.provenance import command_line, package_versions

    order = [r.label for r in regimes]
    flat = [rec for n in sorted(records) for rec in records[n]["regimes"]]
    ptab = measures.paths_table(flat)
    ptab["_r"] = ptab["regime"].map({lab: i for i, lab in enumerate(order)})
    ptab = ptab.sort_values(["_r", "path"]).drop(columns="_r").reset_index(drop=True)
    ytab = measures.years_table(flat, instance.years)
    ytab["_r"] = ytab["regime"].map({lab: i for i, lab in enumerate(order)})
    ytab = ytab.sort_values(["_r", "path"], kind="stable").drop(columns="_r").reset_index(drop=True)
    base = next((r.label for r in regimes if r.length == 1 and r.indicative_years == 0
                 and r.capital_plan_years == 0), order[0])
    replans = sum(records[n]["replans"] for n in records)
    replan_s = sum(records[n]["replan_s"] for n in records)
    meta = {
        "instance": instance.settings.name, "instance_sha256": sha, "seed": seed, "paths": paths,
        "regimes": [r.to_dict() for r in regimes], "base_regime": base,
        "uncertainty": json.loads(us.model_dump_json()),
        "versions": package_versions(), "command": command_line(),
        "weights_kind": instance.settings.weights.kind,
        "value_unit": "£m-equivalent" if instance.settings.weights.kind == "monetised" else "points",
        "parallel": {"jobs": jobs, "scheduler": None if scheduler is None else str(scheduler)},
        "timings": {"seconds": round(elapsed, 3), "paths_run": ran,
                    "paths_per_second": round(ran / elapsed, 3) if elapsed > 0 and ran else None,
                    "replans": replans,
                    "seconds_per_replan": round(replan_s / replans, 6) if replans else None},
    }
    return CyclesResult(summary=measures.summary_table(ptab, order),
                        differences=measures.differences_table(ptab, order, base),
                        paths=ptab, years=ytab, meta=meta)
