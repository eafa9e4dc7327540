"""The benchmark runner: engine against the pure-highspy limit, side by side.

Run ``python -m benchmarks`` from the repository root (``--help`` for options). Every
measurement that reports memory runs in a fresh subprocess, whose peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is the figure reported; timings inside a
child use ``time.perf_counter``. Cold figures are medians over ``--repeats`` children.

Measured per instance size:

- engine, cold: load (instance folder → :class:`Instance`), build (sparse LP), load into
  HiGHS, solve, result tables, write (CSV/JSON folder);
- the reference, cold: :mod:`benchmarks.reference_highspy` builds the same LP directly with
  highspy from the instance and solves it (the physical limit);
- HiGHS alone on the engine's exact LP (the same arrays passed to a fresh ``Highs``), to
  separate solver time from engine overhead;
- sweeps (default and large): N scenarios (changed envelopes, receipts shocks, weights) by
  (a) rebuild per scenario, (b) the engine's persistent path (:mod:`allocator.scenario_sweep`),
  (c) highspy warm re-solve of the reference model, and (b) with 2 worker processes.

Also ``allocator solve`` end to end (process start to files written), hyperfine-style.

Writes ``benchmarks/results.md`` and the raw ``benchmarks/results.json``;
``python -m benchmarks --render [results.json]`` re-renders the page from raw figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results.md"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------------------- children
def child_engine(folder: str) -> dict:
    import numpy as np  # noqa: F401  (import cost is not part of any stage)

    from allocator.api import result_from
    from allocator.io import load_instance
    from allocator.models.allocation import build_allocation_model
    from allocator.solvers.highs import HighsBackend

    rss0 = _rss_mib()
    out = {}
    t = time.perf_counter()
    inst = load_instance(folder)
    out["load"] = time.perf_counter() - t
    t = time.perf_counter()
    model = build_allocation_model(inst)
    out["build"] = time.perf_counter() - t
    t = time.perf_counter()
    be = HighsBackend()
    be.load(model.lp)
    out["pass"] = time.perf_counter() - t
    t = time.perf_counter()
    so = be.solve()
    out["solve"] = time.perf_counter() - t
    t = time.perf_counter()
    res = result_from(model, so, explain=False)
    out["tables"] = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        res.write(Path(tmp) / "out")
        out["write"] = time.perf_counter() - t
    out["status"] = res.status
    out["objective"] = res.objective
    out["iterations"] = so.iterations
    out["columns"], out["rows"], out["nonzeros"] = model.lp.n, model.lp.m, int(model.lp.A.nnz)
    out["rss_after_imports_mib"] = rss0
    out["peak_rss_mib"] = _rss_mib()
    return out


def child_highs_same_lp(folder: str) -> dict:
    """HiGHS alone on the engine's LP: the same arrays, a fresh Highs, only ``run`` timed."""
    from allocator.io import load_instance
    from allocator.models.allocation import build_allocation_model
    from allocator.solvers.highs import HighsBackend

    model = build_allocation_model(load_instance(folder))
    be = HighsBackend()
    be.load(model.lp)
    t = time.perf_counter()
    be.h.run()
    dt = time.perf_counter() - t
    return {"solve": dt, "objective": be.h.getInfo().objective_function_value,
            "iterations": be.h.getInfo().simplex_iteration_count}


def child_column_order(folder: str, repeats: int) -> dict:
    """HiGHS alone on the engine's LP with its columns permuted: engine order (programme-major,
    pieces then years), year-major x block, and a random permutation; median seconds."""
    import highspy
    import numpy as np

    from allocator.io import load_instance
    from allocator.models.allocation import build_allocation_model
    from allocator.solvers.highs import _clip_inf, new_highs

    model = build_allocation_model(load_instance(folder))
    lp, T = model.lp, model.data.T
    A = lp.A.tocsc()
    xb = lp.var_blocks["x"]
    n = lp.n
    xcols = np.arange(xb.start, xb.start + xb.size).reshape(-1, T).T.ravel()
    orders = {"engine (programme-major)": np.arange(n),
              "year-major x block": np.concatenate([np.arange(xb.start), xcols,
                                                    np.arange(xb.start + xb.size, n)]),
              "random": np.random.default_rng(0).permutation(n)}
    out = {}
    for name, perm in orders.items():
        Ap = A[:, perm].tocsc()
        Ap.sort_indices()
        runs = []
        for _ in range(repeats):
            h = new_highs()
            m = highspy.HighsLp()
            m.num_col_, m.num_row_, m.sense_ = n, lp.m, highspy.ObjSense.kMaximize
            m.col_cost_ = lp.cost[perm]
            m.col_lower_, m.col_upper_ = _clip_inf(lp.col_lower[perm]), _clip_inf(lp.col_upper[perm])
            m.row_lower_, m.row_upper_ = _clip_inf(lp.row_lower), _clip_inf(lp.row_upper)
            m.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            m.a_matrix_.start_, m.a_matrix_.index_, m.a_matrix_.value_ = Ap.indptr, Ap.indices, Ap.data
            m.a_matrix_.num_col_, m.a_matrix_.num_row_ = n, lp.m
            h.passModel(m)
            t = time.perf_counter()
            h.run()
            runs.append((time.perf_counter() - t, h.getInfo().simplex_iteration_count))
        out[name] = {"solve": statistics.median(r[0] for r in runs), "iterations": runs[0][1],
                     "runs": [r[0] for r in runs]}
    return out


def child_reference(folder: str) -> dict:
    from allocator.io import load_instance
    from benchmarks.reference_highspy import ReferenceLP

    rss0 = _rss_mib()
    t = time.perf_counter()
    inst = load_instance(folder)
    load = time.perf_counter() - t
    ref = ReferenceLP(inst)
    status, obj, solve_s = ref.solve()
    t = time.perf_counter()
    x = ref.x()  # the plan, as the engine returns it
    get_s = time.perf_counter() - t
    return {"load": load, "build": ref.build_s, "solve": solve_s, "get_solution": get_s,
            "status": status, "objective": obj, "n": len(x),
            "iterations": ref.h.getInfo().simplex_iteration_count,
            "rss_after_imports_mib": rss0, "peak_rss_mib": _rss_mib()}


def child_sweep(folder: str, n: int, n_rebuild: int, seed: int) -> dict:
    """Paths (b) and (c) run the same scenario sequence interleaved, scenario by scenario
    (alternating which goes first), so that load from other processes on a shared machine
    hits both alike; wall and CPU seconds are recorded per scenario."""
    from allocator.api import solve
    from allocator.io import load_instance
    from allocator.scenario_sweep import ScenarioRunner, run_sweep
    from benchmarks import scenarios
    from benchmarks.reference_highspy import ReferenceLP

    inst = load_instance(folder)
    scs = scenarios.draw(inst, n, seed)
    ref = ReferenceLP(inst)
    ref.solve()
    runner = ScenarioRunner(inst)
    runner.session.solve()

    def run_c(sc):
        ref.set_fiscal(**sc["fiscal"])
        ref.set_weights(sc["weights"])
        st, obj, _ = ref.solve()
        ref.x()  # the plan, as the engine returns it
        return obj, ref.h.getInfo().simplex_iteration_count

    b_wall, b_cpu, c_wall, c_cpu, pts, objs_c, iters_c = [], [], [], [], [], [], []
    for i, sc in enumerate(scs):
        for which in (("b", "c") if i % 2 == 0 else ("c", "b")):
            w0, c0 = time.perf_counter(), time.process_time()
            if which == "b":
                pts.append(runner.run(i, sc, keep_x=True))
                b_wall.append(time.perf_counter() - w0)
                b_cpu.append(time.process_time() - c0)
            else:
                obj, it = run_c(sc)
                c_wall.append(time.perf_counter() - w0)
                c_cpu.append(time.process_time() - c0)
                objs_c.append(obj)
                iters_c.append(it)
    out = {"n": n, "engine_warm_s": sum(b_wall) / n, "highspy_warm_s": sum(c_wall) / n,
           "engine_warm_cpu_s": sum(b_cpu) / n, "highspy_warm_cpu_s": sum(c_cpu) / n,
           "median_pair_ratio": statistics.median(b / c for b, c in zip(b_wall, c_wall)),
           "engine_iterations": sum(p.iterations for p in pts) / n,
           "highspy_iterations": sum(iters_c) / n}
    diffs = [abs(p.objective - c) / max(1.0, abs(c)) for p, c in zip(pts, objs_c)
             if p.objective is not None and c is not None]
    out["max_rel_diff_b_c"] = max(diffs) if diffs else None
    out["optimal"] = sum(p.status == "optimal" for p in pts)
    out["status_agree"] = sum((p.objective is None) == (c is None) for p, c in zip(pts, objs_c))
    # (b) with 2 worker processes (each builds once and warm-starts through its half);
    # includes starting the workers and building one model in each
    t = time.perf_counter()
    par = run_sweep(inst, scs, n_jobs=2)
    out["engine_2workers_s"] = (time.perf_counter() - t) / n
    out["max_rel_diff_2w"] = max((abs(a.objective - b.objective) / max(1.0, abs(b.objective))
                                  for a, b in zip(par, pts) if a.objective is not None
                                  and b.objective is not None), default=None)
    # (a) rebuild per scenario (full engine solve incl. result tables) on the first n_rebuild
    m = min(n_rebuild, n)
    t = time.perf_counter()
    for sc in scs[:m]:
        solve(scenarios.apply(inst, sc), explain=False)
    out["rebuild_s"] = (time.perf_counter() - t) / m
    out["n_rebuild"] = m
    out["peak_rss_mib"] = _rss_mib()
    return out


def _child_main(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "engine":
        r = child_engine(argv[1])
    elif kind == "reference":
        r = child_reference(argv[1])
    elif kind == "highs_same_lp":
        r = child_highs_same_lp(argv[1])
    elif kind == "column_order":
        r = child_column_order(argv[1], int(argv[2]))
    elif kind == "sweep":
        r = child_sweep(argv[1], int(argv[2]), int(argv[3]), int(argv[4]))
    else:
        raise SystemExit(f"unknown child {kind}")
    print(json.dumps(r))


def run_child(*args) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, "-m", "benchmarks.runner", "--child", *map(str, args)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------- parent
def _median(rows: list[dict], key: str):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def cli_end_to_end(folder: Path, repeats: int) -> dict:
    """`allocator solve FOLDER --out DIR --quiet`: process start to files written."""
    exe = Path(sys.executable).with_name("allocator")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "allocator"]
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats + 1):  # first run is a warm-up (file cache), not counted
            out = Path(tmp) / f"r{i}"
            t = time.perf_counter()
            subprocess.run(cmd + ["solve", str(folder), "--out", str(out), "--quiet"], check=True)
            dt = time.perf_counter() - t
            if not (out / "summary.json").exists():
                raise RuntimeError("allocator solve wrote no summary.json")
            if i:
                times.append(dt)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "runs": repeats}


def machine() -> dict:
    import highspy  # noqa: F401
    import numpy
    import scipy

    from allocator.solvers.highs import highs_version

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}", "highs": highs_version(),
            "numpy": numpy.__version__, "scipy": scipy.__version__,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "loadavg": os.getloadavg()}


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        return _child_main(argv[1:])
    if argv and argv[0] == "--render":  # re-render results.md from a results.json
        src = Path(argv[1]) if len(argv) > 1 else RESULTS.with_suffix(".json")
        RESULTS.write_text(render(json.loads(src.read_text())))
        return None
    from benchmarks.generator import SIZES, generate_size, template_dir, write_instance

    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="default,small,medium,large,x-large",
                    help="comma-separated: default (the shipped uk_missions) and/or " + ", ".join(SIZES))
    ap.add_argument("--repeats", type=int, default=5, help="cold repeats per size (median reported)")
    ap.add_argument("--xl-repeats", type=int, default=3, help="cold repeats for x-large")
    ap.add_argument("--sweep", type=int, default=200, help="scenarios per sweep")
    ap.add_argument("--sweep-sizes", default="default,large")
    ap.add_argument("--rebuild", type=int, default=30,
                    help="scenarios solved by rebuild-per-scenario (a) (slow path; a prefix)")
    ap.add_argument("--cli-repeats", type=int, default=5)
    ap.add_argument("--order-size", default="large", help="size for the column-order experiment "
                    "('' to skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args(argv)

    t_all = time.perf_counter()
    load_start = os.getloadavg()
    sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
    work = Path(tempfile.mkdtemp(prefix="allocator-bench-"))
    folders = {}
    for s in sizes + [s for s in a.sweep_sizes.split(",") if s and s not in sizes]:
        folders[s] = template_dir() if s == "default" else write_instance(generate_size(s, a.seed), work / s)

    cold = {}
    for s in sizes:
        reps = a.xl_repeats if s == "x-large" else a.repeats
        eng, ref, hs = [], [], []
        for _ in range(reps):
            eng.append(run_child("engine", folders[s]))
            ref.append(run_child("reference", folders[s]))
            hs.append(run_child("highs_same_lp", folders[s]))
        cold[s] = {"engine": eng, "reference": ref, "highs_same_lp": hs}
        e = eng[0]
        print(f"{s}: {e['columns']} cols, engine {_median(eng, 'solve'):.2f}s solve, "
              f"reference {_median(ref, 'solve'):.2f}s solve", flush=True)
    sweeps = {}
    for s in [x for x in a.sweep_sizes.split(",") if x]:
        sweeps[s] = run_child("sweep", folders[s], a.sweep, a.rebuild, a.seed)
        print(f"sweep {s}: {json.dumps(sweeps[s])}", flush=True)
    order = {}
    if a.order_size:
        folders.setdefault(a.order_size, write_instance(generate_size(a.order_size, a.seed),
                                                         work / a.order_size))
        order = run_child("column_order", folders[a.order_size], a.repeats)
        print(f"column order: {json.dumps(order)}", flush=True)
    cli = cli_end_to_end(template_dir(), a.cli_repeats)
    report = {"machine": machine(), "cold": cold, "sweeps": sweeps, "cli": cli, "column_order": order,
              "args": vars(a) | {"out": str(a.out)}, "total_s": time.perf_counter() - t_all,
              "loadavg_start": load_start}
    shutil.rmtree(work, ignore_errors=True)
    a.out.with_suffix(".json").write_text(json.dumps(report, indent=1, default=str))
    a.out.write_text(render(report))
    print(f"wrote {a.out} ({report['total_s']:.0f} s)")


# ---------------------------------------------------------------------------------- report
def _f(x, nd=3) -> str:
    return "—" if x is None else f"{x:.{nd}f}"


def render(r: dict) -> str:
    from benchmarks.generator import SIZES

    m = r["machine"]
    L = ["# Benchmark results", "",
         f"Produced by `python -m benchmarks` on {m['date']}. Machine: {m['cpu']}, {m['cores']} cores, "
         f"{m['memory']}; {m['os']}; Python {m['python']}, HiGHS {m['highs']}, numpy {m['numpy']}, "
         f"scipy {m['scipy']}. Raw figures: [results.json](results.json).", "",
         f"The machine was shared with other jobs: 1/5/15-minute load average "
         f"{', '.join(f'{x:.1f}' for x in r['loadavg_start'])} at the start and "
         f"{', '.join(f'{x:.1f}' for x in m['loadavg'])} at the end (2 cores). Engine and reference "
         "runs are therefore interleaved (cold: engine, reference, HiGHS-alone per repeat; sweeps: "
         "scenario by scenario) so that load hits both alike, and CPU-time ratios are given too.", "",
         "**Ratios are the headline** (engine ÷ pure highspy on the same LP); absolute seconds "
         "depend on the machine. Cold figures are medians of "
         f"{r['args']['repeats']} fresh processes per size ({r['args']['xl_repeats']} for x-large); "
         "peak memory is each process's maximum resident set size.", "",
         "The reference (`benchmarks/reference_highspy.py`) builds the same LP directly with "
         "highspy from the instance, without the engine's code; the tests check both reach the "
         "same optimum. *HiGHS alone* is `Highs.run()` on the engine's own arrays in a fresh "
         "`Highs`, i.e. the solver time with nothing around it.", ""]
    # cold table
    L += ["## Cold: load, build, solve, write", "",
          "| instance | programmes | columns | rows | nonzeros | load s | build s | pass to HiGHS s | "
          "solve s | tables s | write s | engine build+solve s | highspy build+solve s | **ratio** | "
          "HiGHS alone s | engine end-to-end s | peak MiB engine | peak MiB highspy |",
          "|" + "---|" * 18]
    ratios = {}
    for s, c in r["cold"].items():
        e, ref, hs = c["engine"], c["reference"], c["highs_same_lp"]
        eb = statistics.median([x["build"] + x["pass"] + x["solve"] for x in e])
        rb = statistics.median([x["build"] + x["solve"] for x in ref])
        e2e = statistics.median([x["load"] + x["build"] + x["pass"] + x["solve"] + x["tables"] + x["write"]
                                 for x in e])
        ratios[s] = eb / rb
        progs = "98" if s == "default" else f"{SIZES[s][0] * SIZES[s][1]:,}"
        L.append(f"| {s} | {progs} | {e[0]['columns']:,} | {e[0]['rows']:,} | {e[0]['nonzeros']:,} | "
                 f"{_f(_median(e, 'load'))} | {_f(_median(e, 'build'))} | {_f(_median(e, 'pass'))} | "
                 f"{_f(_median(e, 'solve'))} | {_f(_median(e, 'tables'))} | {_f(_median(e, 'write'))} | "
                 f"{_f(eb)} | {_f(rb)} | **{eb / rb:.2f}×** | {_f(_median(hs, 'solve'))} | {_f(e2e)} | "
                 f"{_median(e, 'peak_rss_mib'):.0f} | {_median(ref, 'peak_rss_mib'):.0f} |")
    L += ["", "Objectives (engine = reference, relative difference):", ""]
    for s, c in r["cold"].items():
        eo, ro = c["engine"][0]["objective"], c["reference"][0]["objective"]
        d = abs(eo - ro) / max(1.0, abs(ro)) if eo is not None and ro is not None else None
        L.append(f"- {s}: {eo:,.3f} vs {ro:,.3f} (rel. diff {d:.1e}); simplex iterations "
                 f"engine {c['engine'][0]['iterations']}, reference {c['reference'][0]['iterations']}")
    L += ["", "Python with numpy/scipy/pandas/highspy imported takes "
          f"~{_median(next(iter(r['cold'].values()))['engine'], 'rss_after_imports_mib'):.0f} MiB "
          "before any instance is read; it is included in every peak figure.", ""]
    # sweeps
    L += ["## Sweeps: re-solve throughput", "",
          f"{r['args']['sweep']} scenarios per instance (`benchmarks/scenarios.py`: a receipts shock from "
          "a random year, both DEL envelopes scaled, every mission weight scaled), solved in the same "
          "order by each path; seconds per scenario. (a) rebuilds and solves the changed instance with "
          f"full result tables (first {r['args']['rebuild']} scenarios); (b) is `allocator.scenario_sweep` "
          "(one `ModelSession`, bound and cost updates, warm re-solve, the plan `x` returned); "
          "(c) is highspy's warm re-solve of the reference model after the same changes (plan "
          "fetched too).", "",
          "| instance | (a) rebuild s | (b) engine persistent s | (c) highspy warm s | **(b)/(c)** | "
          "(b)/(c) CPU | median per-scenario (b)/(c) | (a)/(c) | (b) 2 workers s | speed-up 2 workers | "
          "iterations (b) / (c) | max rel. diff (b)-(c) | optimal |",
          "|" + "---|" * 13]
    for s, w in r["sweeps"].items():
        L.append(f"| {s} | {_f(w['rebuild_s'], 4)} | {_f(w['engine_warm_s'], 4)} | {_f(w['highspy_warm_s'], 4)} | "
                 f"**{w['engine_warm_s'] / w['highspy_warm_s']:.2f}×** | "
                 f"{w['engine_warm_cpu_s'] / w['highspy_warm_cpu_s']:.2f}× | {w['median_pair_ratio']:.2f}× | "
                 f"{w['rebuild_s'] / w['highspy_warm_s']:.1f}× | {_f(w['engine_2workers_s'], 4)} | "
                 f"{w['engine_warm_s'] / w['engine_2workers_s']:.2f}× | "
                 f"{w['engine_iterations']:.0f} / {w['highspy_iterations']:.0f} | {w['max_rel_diff_b_c']:.1e} | "
                 f"{w['optimal']}/{w['n']} |")
    if r.get("column_order"):
        L += ["", f"## Column order (HiGHS alone on the {r['args']['order_size']} LP, columns permuted)", "",
              "| order | solve s (median) | runs | simplex iterations |", "|---|---|---|---|"]
        for name, o in r["column_order"].items():
            L.append(f"| {name} | {o['solve']:.3f} | {', '.join(f'{x:.2f}' for x in o['runs'])} | "
                     f"{o['iterations']} |")
    cli = r["cli"]
    L += ["", "## `allocator solve` end to end", "",
          f"`allocator solve instances/uk_missions --out DIR --quiet`, process start to files written: "
          f"median **{cli['median_s']:.2f} s** (min {cli['min_s']:.2f}, max {cli['max_s']:.2f}; "
          f"{cli['runs']} runs after one warm-up).", ""]
    L += ["## Targets", ""] + targets(r, ratios) + [""]
    L += ["## Notes", ""] + notes(r) + [""]
    L += [f"Full run took {r['total_s']:.0f} s."]
    return "\n".join(L) + "\n"


def notes(r: dict) -> list[str]:
    out = ["- Where the engine's time goes beyond HiGHS: building the sparse LP (vectorised "
           "scipy.sparse, one matrix per constraint family), passing it to HiGHS as CSC arrays, "
           "and the result tables and CSV writing, which the reference does not do at all; the "
           "'engine build+solve' ratio compares like with like (LP built and solved), the "
           "end-to-end column adds loading, tables and writing. HiGHS's own time on an identical "
           "LP varies by up to ~30% from process to process on this shared machine (compare "
           "'solve' with 'HiGHS alone', the same LP in another process), so single cold ratios "
           "move by about that much between runs; the sweep ratios, averaged over 200 "
           "interleaved re-solves, are the stable measure of engine overhead."]
    if r["sweeps"]:
        sps = ", ".join(f"{s} {w['engine_warm_s'] / w['engine_2workers_s']:.2f}×"
                        for s, w in r["sweeps"].items())
        out.append(f"- Two workers (throughput relative to one process): {sps}. The figure includes "
                   "starting two loky worker processes (each imports numpy/scipy/pandas/highspy and "
                   "builds its own model), and the two workers share the 2 cores with whatever else "
                   "runs (see the load averages above). With short re-solves (default instance, "
                   "~15 ms of CPU each) the start-up outweighs the second core; with long ones "
                   "(large) the second core pays, by as much as the other load on the machine allows.")
    co = r.get("column_order") or {}
    if co:
        base = co.get("engine (programme-major)", {}).get("solve")
        parts = [f"{k} {v['solve'] / base:.2f}×" for k, v in co.items() if base]
        out.append("- Column order (HiGHS alone, relative to the engine's order): " + ", ".join(parts)
                   + ". A random order is clearly slower. Year-major order of the x block has "
                   "measured from 9% faster to 2% slower across runs, with near-equal iteration "
                   "counts: no consistent gain. The engine keeps programme-major order (pieces of a "
                   "programme, then years) because every shared expression, the result tables and "
                   "the session's year fixing index x as p·T + t.")
    return out


def targets(r: dict, ratios: dict) -> list[str]:
    out = []
    for s, w in r["sweeps"].items():
        ratio = w["engine_warm_s"] / w["highspy_warm_s"]
        out.append(f"- Sweep on {s}: engine per scenario ≤ 1.15× highspy warm re-solve — "
                   f"{ratio:.2f}×: {'met' if ratio <= 1.15 else 'MISSED by ' + format(ratio / 1.15 - 1, '.0%')}.")
    if "large" in ratios:
        out.append(f"- Cold build + solve on large ≤ 2.0× pure highspy — {ratios['large']:.2f}×: "
                   f"{'met' if ratios['large'] <= 2.0 else 'MISSED'}.")
    cli = r["cli"]["median_s"]
    out.append(f"- `allocator solve` on the default instance under 3 s — {cli:.2f} s: "
               f"{'met' if cli < 3 else 'MISSED'}.")
    if "large" in r["cold"]:
        peak = _median(r["cold"]["large"]["engine"], "peak_rss_mib")
        out.append(f"- Peak memory on large under 2 GiB — {peak:.0f} MiB: {'met' if peak < 2048 else 'MISSED'}.")
    if "x-large" in r["cold"]:
        peak = _median(r["cold"]["x-large"]["engine"], "peak_rss_mib")
        out.append(f"- x-large solved within 24 GiB — status {r['cold']['x-large']['engine'][0]['status']}, "
                   f"peak {peak:.0f} MiB.")
    return out


if __name__ == "__main__":
    main()
