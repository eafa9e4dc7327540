"""Benchmark of `allocator uncertainty`: draws per second on the default instance.

    .venv/bin/python benchmarks/uncertainty_bench.py [--draws 1000] [--jobs 2] [--small 100]

Runs ``run_uncertainty`` on instances/uk_missions (seed 0) with ``--small`` draws on one
process and ``--draws`` draws on ``--jobs`` processes, each with EVPPI (one LP per draw
and per parameter group) and without; records the wall time, LP solves, draws per second
(draws / wall time of the whole run) and LP solves per second, and the headline figures of
the large run. Writes benchmarks/uncertainty_results.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from allocator.evidence import run_uncertainty
from allocator.solvers.highs import highs_version

ROOT = Path(__file__).resolve().parents[1]
UK = ROOT / "instances" / "uk_missions"


def one(draws: int, jobs: int, evppi: bool) -> tuple[dict, object]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = run_uncertainty(UK, draws=draws, seed=0, jobs=jobs, evppi=evppi, out=Path(tmp) / "u",
                              plots=False)
        wall = time.perf_counter() - t0
    t = res.meta["timings"]
    return {"draws": draws, "jobs": jobs, "evppi": evppi, "wall": wall, "solves": t["lp_solves"],
            "draws_s": draws / wall, "solves_s": t["lp_solves"] / wall}, res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--small", type=int, default=100)
    a = ap.parse_args()
    load0 = os.getloadavg()
    rows = []
    for draws, jobs, evppi in ((a.small, 1, False), (a.small, 1, True), (a.draws, a.jobs, False),
                               (a.draws, a.jobs, True)):
        r, res = one(draws, jobs, evppi)
        rows.append(r)
        print(r, flush=True)
    big = res
    load1 = os.getloadavg()
    m = big.meta
    lines = [
        "# Benchmark: evidence uncertainty (`allocator uncertainty`)", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"HiGHS {highs_version()}. Instance: uk_missions with instances/uk_missions/evidence.yaml "
        f"({len(big.parameters)} parameters, {len(m['groups'])} groups). Load average (1/5/15 min) "
        f"before: {'/'.join(f'{v:.1f}' for v in load0)}, after: {'/'.join(f'{v:.1f}' for v in load1)} "
        "(above 2, other work shared the 2 cores and the timings are slower than on a quiet "
        f"machine). Command: `.venv/bin/python benchmarks/uncertainty_bench.py --draws {a.draws} "
        f"--jobs {a.jobs} --small {a.small}`.", "",
        "| draws | jobs | EVPPI | wall (s) | LP solves | draws/s | LP solves/s |",
        "|---:|---:|:---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['draws']} | {r['jobs']} | {'yes' if r['evppi'] else 'no'} | {r['wall']:.1f} | "
                     f"{r['solves']} | {r['draws_s']:.1f} | {r['solves_s']:.1f} |")
    lines += ["", "Draws/s counts the whole run (draws, EVPPI solves when on, plans, tables); with "
              "EVPPI each draw costs 1 + (number of groups) LP solves.", "",
              f"## Figures of the {a.draws}-draw run (seed 0, £bn-equivalent)", "",
              f"- EVPI: {m['evpi'] / 1000:,.1f}",
              "- EVPPI by group: " + ", ".join(f"{g} {v / 1000:,.1f}" for g, v in
                                               sorted(m["evppi"].items(), key=lambda kv: -kv[1])),
              f"- point-estimate plan: expected value {m['plans']['point']['expected_value'] / 1000:,.1f}, "
              f"worst 5% mean {m['plans']['point']['worst_5pct_mean'] / 1000:,.1f}; robust plan: "
              f"{m['plans']['robust']['expected_value'] / 1000:,.1f} and "
              f"{m['plans']['robust']['worst_5pct_mean'] / 1000:,.1f}",
              f"- mean of each draw's optimum: {m['expected_optimum_value'] / 1000:,.1f}; the point plan "
              f"keeps {m['point_share_of_optimum_mean']:.1%} of it on average", ""]
    (ROOT / "benchmarks" / "uncertainty_results.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
