"""Benchmark: the cost of the independent check on warm re-solves (issue 10 §6).

    python benchmarks/session_check_bench.py [--instance instances/uk_missions] [--n 40]

A ModelSession re-solves the instance under n effect-size changes (scale_gains from 0.8 to
1.2). For each re-solve it times the warm HiGHS solve alone and the independent check of its
plan (result tables built from the solution, then allocator.checker.check_plan against the
instance as changed by the session). It then times the fast path (session.solve()) over the
same changes with check_sample = 0, the default, and 1. Results are appended to
benchmarks/session_check_results.md.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from allocator import load_instance
from allocator.session import CHECK_SAMPLE, ModelSession


def run(instance, n: int) -> dict:
    inst = load_instance(instance)
    factors = np.linspace(0.8, 1.2, n)
    s = ModelSession(inst, check_sample=0.0)
    lp = s.model.lp
    solve_s, check_s = [], []
    for f in factors:
        s.scale_gains(float(f))
        t = time.perf_counter()
        out = s.backend.solve()
        solve_s.append(time.perf_counter() - t)
        oi = float(lp.cost_in_horizon @ out.x + lp.constant_in_horizon)
        ot = float(lp.cost_terminal @ out.x + lp.constant_terminal)
        t = time.perf_counter()
        assert s._check(out, oi, ot)
        check_s.append(time.perf_counter() - t)
    paths = {}
    for rate in (0.0, CHECK_SAMPLE, 1.0):
        s = ModelSession(inst, check_sample=rate)
        s.solve()  # the first re-solve is always checked: leave it out of the timing
        t = time.perf_counter()
        for f in factors:
            s.scale_gains(float(f))
            assert s.solve().status == "optimal"
        paths[rate] = (time.perf_counter() - t) / n
    return {"n": n, "solve_s": float(np.median(solve_s)), "check_s": float(np.median(check_s)),
            "per_resolve_s": paths}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instance", default="instances/uk_missions")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--out", default="benchmarks/session_check_results.md")
    a = ap.parse_args()
    r = run(a.instance, a.n)
    p = r["per_resolve_s"]
    lines = [f"\n## {Path(a.instance).name}, {r['n']} re-solves ({platform.machine()}, "
             f"{time.strftime('%Y-%m-%d')})\n",
             "| measure | seconds |", "|---|---|",
             f"| warm HiGHS re-solve (median) | {r['solve_s']:.4f} |",
             f"| independent check of one plan: tables + check_plan (median) | {r['check_s']:.4f} |",
             f"| session.solve() per re-solve, check_sample = 0 | {p[0.0]:.4f} |",
             f"| session.solve() per re-solve, check_sample = {CHECK_SAMPLE} (default) | "
             f"{p[CHECK_SAMPLE]:.4f} |",
             f"| session.solve() per re-solve, check_sample = 1 | {p[1.0]:.4f} |"]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(a.out)
    if not out.exists():
        out.write_text("# Cost of the independent check on warm re-solves\n\n"
                       "Written by `python benchmarks/session_check_bench.py`.\n")
    with out.open("a") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
