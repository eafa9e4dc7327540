"""Benchmark: parameter sweeps on one persistent session vs a rebuild per scenario.

    python benchmarks/sweep_bench.py [--instance instances/uk_missions] [--jobs 2] [--out benchmarks/sweep_results.md]

Scenarios: the instance's default one-at-a-time grid (allocator.sensitivity.sweep.default_grid)
with the lag units removed (they need a rebuild either way), repeated on a finer grid of
values so there are enough units to time. Three ways to run the same units:

1. persistent: ONE ModelSession, parameters pushed as cost/bound changes, warm HiGHS re-solve
   (what ``allocator sensitivity`` does; also run through joblib with --jobs workers);
2. rebuild: for every unit, build the changed Instance, build the LP, load HiGHS, cold solve,
   and the unique-plan second stage where the instance has it on (the session runs it too);
3. pure HiGHS: the solver's own time inside (1) and (2) (``run()`` only), the floor any
   Python-side method can approach.

All three must give the same objectives (checked). Results are appended as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from allocator import load_instance
from allocator.api import unique
from allocator.models.allocation import build_allocation_model
from allocator.sensitivity.sweep import _apply, changed_instance, default_grid, sweep
from allocator.session import ModelSession
from allocator.solvers.highs import HighsBackend, highs_version

ROOT = Path(__file__).resolve().parents[1]


def units_for(inst) -> list[tuple[str, float]]:
    grid = default_grid(inst)
    grid.pop("lag_shift_years", None)
    fine = {}
    for name, values in grid.items():
        lo, hi = min(values), max(values)
        fine[name] = list(np.linspace(lo, hi, 5))
    return [(n, float(v)) for n, vs in fine.items() for v in vs], fine


def persistent(inst, units):
    t0 = time.perf_counter()
    s = ModelSession(inst)
    s.solve()
    objs, solve_s = [], 0.0
    for name, value in units:
        s.reset()
        _apply(s, name, value)
        q = s.solve()
        objs.append(q.objective)
        solve_s += q.solve_s
    return time.perf_counter() - t0, solve_s, objs


def rebuild(inst, units):
    t0 = time.perf_counter()
    objs, solve_s = [], 0.0
    for name, value in units:
        m = build_allocation_model(changed_instance(inst, name, value))
        b = HighsBackend()
        b.load(m.lp)
        out = b.solve()
        solve_s += out.solve_s
        # the second stage the persistent session runs too (same solves on both paths)
        out = unique(m, b, out, None, None)
        objs.append(None if out.x is None else out.objective + m.lp.constant)
    return time.perf_counter() - t0, solve_s, objs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instance", default=str(ROOT / "instances" / "uk_missions"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "sweep_results.md"))
    args = ap.parse_args()
    inst = load_instance(args.instance)
    units, grid = units_for(inst)
    n = len(units)
    rebuild(inst, units[:3])  # warm imports / caches
    tp, sp_, op = persistent(inst, units)
    tr, sr, orr = rebuild(inst, units)
    same = all((a is None and b is None) or (a is not None and b is not None and
                                              abs(a - b) <= 1e-7 * max(1.0, abs(b)))
               for a, b in zip(op, orr))
    t0 = time.perf_counter()
    res = sweep(inst, grid, n_jobs=args.jobs, ranging=False)
    tj = time.perf_counter() - t0
    t0 = time.perf_counter()
    res1 = sweep(inst, grid, n_jobs=1, ranging=False)
    t1 = time.perf_counter() - t0
    same_j = np.allclose(res.results["objective"].to_numpy(dtype=float),
                         res1.results["objective"].to_numpy(dtype=float), rtol=1e-9, equal_nan=True)
    m = build_allocation_model(inst)
    lines = [
        f"\n## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — {inst.settings.name}, "
        f"{n} one-at-a-time units\n",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}; HiGHS {highs_version()}. LP: {m.lp.n} columns, "
        f"{m.lp.m} rows, {m.lp.A.nnz} non-zeros. Objectives identical across methods: "
        f"{'yes' if same and same_j else 'NO'}.\n",
        "| method | wall s | s / unit | HiGHS run() s | speed-up vs rebuild |",
        "|---|---:|---:|---:|---:|",
        f"| rebuild per unit (instance → LP → HiGHS, cold) | {tr:.3f} | {tr / n * 1e3:.1f} ms | "
        f"{sr:.3f} | 1.0× |",
        f"| persistent session, warm re-solve (serial) | {tp:.3f} | {tp / n * 1e3:.1f} ms | "
        f"{sp_:.3f} | {tr / tp:.1f}× |",
        f"| `sweep(n_jobs=1)` (persistent + tables + records) | {t1:.3f} | {t1 / n * 1e3:.1f} ms | "
        f"– | {tr / t1:.1f}× |",
        f"| `sweep(n_jobs={args.jobs})` (joblib loky, one session per worker) | {tj:.3f} | "
        f"{tj / n * 1e3:.1f} ms | – | {tr / tj:.1f}× |",
        "",
        f"Pure HiGHS share of the persistent run: {100 * sp_ / tp:.0f}% "
        f"(the rest is Python: pushing bounds/costs, objective parts). Warm HiGHS time per unit "
        f"{sp_ / n * 1e3:.1f} ms vs cold {sr / n * 1e3:.1f} ms.\n",
    ]
    text = "\n".join(lines)
    print(text)
    out = Path(args.out)
    if not out.exists():
        out.write_text("# Sweep benchmark: persistent session vs rebuild per scenario\n\n"
                       "Produced by `python benchmarks/sweep_bench.py`; newest run last.\n")
    with out.open("a", encoding="utf-8") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
