"""The benchmark runner: engine against the pure-highspy limit, side by side.

Run ``python -m benchmarks`` from the repository root (``--help`` for options;
``--quick`` for a short check that everything runs). Every measurement runs in a fresh
subprocess; each records wall time (``time.perf_counter``) and CPU time
(``time.process_time``, or the child's rusage for whole processes), and peak resident set
size. Cold figures are medians over ``--repeats`` children, engine and reference
interleaved so that load from other processes on a shared machine hits both alike.

Measured per instance size (issue 16 asks for every table here, from one run):

- **end to end**, exactly what ``allocator.solve()`` and ``allocator solve`` do: load the
  instance folder, build, solve, the second stage that makes the plan unique, result
  tables, the independent check (with the instance hash and the size/numerics report),
  then write the results folder; against the reference doing the same solves in pure
  highspy (:mod:`benchmarks.reference_highspy`: the LP built straight from the instance,
  solved, and the second stage solved from the first stage's basis in a fresh ``Highs``,
  as the engine does);
- the **independent check** against HiGHS's own time on the same LP;
- **HiGHS alone** on the engine's exact LP, to separate solver time from engine overhead;
- **sweeps**: N scenarios by the engine's persistent path (:mod:`allocator.scenario_sweep`,
  one ``ModelSession``, second stage included) against highspy's warm re-solve of the
  reference with the same second stage; optionally rebuild-per-scenario and 2 workers;
- **re-solves in a session** at 1,000 programmes with BLAS pinned to one thread (as
  shipped) and unpinned;
- **the CLI against the stack's floor**: ``allocator solve`` on the default instance, whole
  process, against a process that imports numpy, pandas, scipy.sparse, pydantic, PyYAML and
  highspy and reads and solves the same LP from MPS (first stage only, and both stages
  with the second stage's starting basis, exported by the engine).

Optional sections from other modules (``--scale``: :mod:`benchmarks.scale_bench`,
``--parallel``: :mod:`benchmarks.parallel_bench`), each a module exposing
``run(**options) -> str`` (a Markdown section), are appended when the module exists:
national-to-local sizes ``--scale-subdivisions`` with the interior point method, and the
dask-versus-loky crossover.

Writes ``benchmarks/results.md`` and the raw ``benchmarks/results.json`` (``--out``);
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
def _clock():
    return time.perf_counter(), time.process_time()


def _since(c0) -> tuple[float, float]:
    return time.perf_counter() - c0[0], time.process_time() - c0[1]


def child_engine(folder: str) -> dict:
    """What ``allocator solve FOLDER --out DIR`` does after its imports: load, then
    ``allocator.solve()`` (build, solve, second stage, tables, independent check, instance
    hash, numerical report), then write the results folder."""
    import allocator.api  # noqa: F401  (import cost is not part of any stage)
    from allocator.api import solve
    from allocator.io import load_instance

    rss0 = _rss_mib()
    out = {}
    c = _clock()
    inst = load_instance(folder)
    out["load"], out["load_cpu"] = _since(c)
    c = _clock()
    res = solve(inst)
    out["solve_all"], out["solve_all_cpu"] = _since(c)
    tm = res.timings_s
    for k in ("build", "load_solver", "solve", "second_stage", "check"):
        out[k] = tm.get(k, 0.0)
    out["tables"] = max(out["solve_all"] - sum(out[k] for k in ("build", "load_solver", "solve",
                                                                   "second_stage", "check")), 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        c = _clock()
        res.write(Path(tmp) / "out")
        out["write"], out["write_cpu"] = _since(c)
    out["end_to_end"] = out["load"] + out["solve_all"] + out["write"]
    out["end_to_end_cpu"] = out["load_cpu"] + out["solve_all_cpu"] + out["write_cpu"]
    # the check's CPU: run it once more on the same plan (the solve path's own is wall only)
    if res.tables and res.provenance.get("money_unit", "gbp_m") == "gbp_m":
        from allocator.checker import check_result

        c = _clock()
        check_result(inst, res)
        out["check_again"], out["check_cpu"] = _since(c)
    out["status"] = res.status
    out["objective"] = res.objective
    sol = res.provenance["solver"]
    out["iterations"] = sol.get("iterations")
    out["unique_plan"] = bool(res.provenance.get("unique_plan", {}).get("used"))
    size = res.provenance["model_size"]
    out["columns"], out["rows"], out["nonzeros"] = size["columns"], size["rows"], size["nonzeros"]
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
    c = _clock()
    be.h.run()
    dt, cpu = _since(c)
    return {"solve": dt, "solve_cpu": cpu, "objective": be.h.getInfo().objective_function_value,
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
    """The same solves in pure highspy: load the instance, build the LP with highspy, solve,
    the second stage when the instance has it on (from the first stage's basis), fetch the plan."""
    from allocator.io import load_instance
    from benchmarks.reference_highspy import ReferenceLP

    rss0 = _rss_mib()
    c_all = _clock()
    c = _clock()
    inst = load_instance(folder)
    load, load_cpu = _since(c)
    c = _clock()
    ref = ReferenceLP(inst)
    build, build_cpu = _since(c)
    status, obj, solve_s = ref.solve()
    second = 0.0
    if status == "Optimal" and inst.settings.unique_plan.enabled:
        _, second = ref.second_stage()
    x = ref.x2 if hasattr(ref, "x2") else ref.x()  # the plan, as the engine returns it
    e2e, e2e_cpu = _since(c_all)
    return {"load": load, "load_cpu": load_cpu, "build": build, "build_cpu": build_cpu,
            "solve": solve_s, "second_stage": second, "end_to_end": e2e, "end_to_end_cpu": e2e_cpu,
            "status": status, "objective": obj, "n": len(x),
            "iterations": ref.h.getInfo().simplex_iteration_count,
            "rss_after_imports_mib": rss0, "peak_rss_mib": _rss_mib()}


def child_resolve(folder: str, n: int) -> dict:
    """Re-solves with nothing changed in one ModelSession (first stage only, the fast path
    of sweeps): CPU per re-solve with BLAS pinned to one thread (as shipped) and with the
    pin removed; and the reference's warm re-solve."""
    import contextlib

    import allocator.session as session_mod
    from allocator.io import load_instance
    from benchmarks.reference_highspy import ReferenceLP

    inst = load_instance(folder)
    s = session_mod.ModelSession(inst, unique_plan=False)
    s.solve()
    ref = ReferenceLP(inst)
    ref.solve()

    def per(f):
        cpu, wall = [], []
        for _ in range(n):
            c = _clock()
            f()
            w, u = _since(c)
            wall.append(w)
            cpu.append(u)
        return statistics.median(wall), statistics.median(cpu)

    out = {}
    out["pinned"] = per(s.solve)
    pinned = session_mod.one_blas_thread
    session_mod.one_blas_thread = contextlib.nullcontext
    try:
        out["unpinned"] = per(s.solve)
    finally:
        session_mod.one_blas_thread = pinned
    out["reference"] = per(lambda: (ref.solve(), ref.x()))
    out["n"] = n
    return out


def child_sweep(folder: str, n: int, n_rebuild: int, seed: int, workers: int = 2) -> dict:
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

    two_stage = runner.session.unique_plan  # the engine's second stage: the reference does it too

    def run_c(sc):
        ref.set_fiscal(**sc["fiscal"])
        ref.set_weights(sc["weights"])
        st, obj, _ = ref.solve()
        it = ref.h.getInfo().simplex_iteration_count
        if two_stage and st == "Optimal":
            ref.second_stage()
            it += ref.stage2_iterations
        ref.x()  # the plan, as the engine returns it
        return obj, it

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
    out["second_stage"] = two_stage
    out["optimal"] = sum(p.status == "optimal" for p in pts)
    out["status_agree"] = sum((p.objective is None) == (c is None) for p, c in zip(pts, objs_c))
    # (b) with worker processes (each builds once and warm-starts through its share);
    # includes starting the workers and building one model in each
    out["engine_2workers_s"] = out["max_rel_diff_2w"] = None
    if workers > 1:
        t = time.perf_counter()
        par = run_sweep(inst, scs, n_jobs=workers)
        out["engine_2workers_s"] = (time.perf_counter() - t) / n
        out["max_rel_diff_2w"] = max((abs(a.objective - b.objective) / max(1.0, abs(b.objective))
                                      for a, b in zip(par, pts) if a.objective is not None
                                      and b.objective is not None), default=None)
    # (a) rebuild per scenario (full engine solve incl. result tables) on the first n_rebuild
    m = min(n_rebuild, n)
    out["rebuild_s"] = None
    if m:
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
        r = child_sweep(argv[1], int(argv[2]), int(argv[3]), int(argv[4]), int(argv[5]))
    elif kind == "resolve":
        r = child_resolve(argv[1], int(argv[2]))
    else:
        raise SystemExit(f"unknown child {kind}")
    print(json.dumps(r))


def run_child(*args, module: str = "benchmarks.runner") -> dict:
    """Run ``python -m MODULE --child ARGS`` in a fresh process; its last stdout line (JSON)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, "-m", module, "--child", *map(str, args)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------- parent
def _median(rows: list[dict], key: str):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def _process(cmd: list[str], cwd=ROOT) -> tuple[float, float, int]:
    """Run a whole process: (wall s, CPU s = user + system of the child, return code)."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        code = os.waitstatus_to_exitcode(status)
        p.returncode = code  # reaped by wait4
        if code != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} exited {code}: {err.read()[-2000:]!r}")
    return wall, ru.ru_utime + ru.ru_stime, code


FLOOR_IMPORTS = "import numpy, pandas, scipy.sparse, pydantic, yaml, highspy"


def export_floor_models(folder: Path, tmp: Path) -> dict:
    """The engine's two programs for ``folder`` as MPS (first stage; second stage with the
    starting basis the engine gives it), for the floor processes to read."""
    import numpy as np

    from allocator.api import build
    from allocator.io import load_instance
    from allocator.models import tiebreak
    from allocator.solvers.highs import HighsBackend
    from allocator.unique_plan import _Arrays, loaded_program, warm_start

    inst = load_instance(folder)
    model = build(inst).allocation
    be = HighsBackend()
    be.load(model.lp)
    out1 = be.solve()
    s1 = tmp / "stage1.mps"
    be.h.writeModel(str(s1))
    files = {"stage1": str(s1)}
    opts = inst.settings.unique_plan
    if opts.enabled and out1.x is not None:
        A, lo, hi, clo, chi, cost = loaded_program(be, model)
        x1 = np.asarray(out1.x, float)
        stage = tiebreak.second_stage(model, opts.mission_fund_cost)
        scale = getattr(be, "cost_scale", 1.0)
        b2 = HighsBackend()
        b2.load(_Arrays(*tiebreak.extend(A, lo, hi, clo, chi, cost, x1, stage, opts.value_tolerance,
                                         None, constant=model.lp.constant * scale)))
        warm_start(be, b2, stage, x1)
        s2 = tmp / "stage2.mps"
        b2.h.writeModel(str(s2))
        b2.h.writeBasis(str(tmp / "stage2.bas"))
        files["stage2"], files["basis2"] = str(s2), str(tmp / "stage2.bas")
    return files


def _floor_code(files: dict, two_stage: bool) -> str:
    code = [FLOOR_IMPORTS,
            "h = highspy.Highs()", "h.setOptionValue('output_flag', False)",
            f"h.readModel({files['stage1']!r})", "h.run()",
            "assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal"]
    if two_stage:
        code += ["h2 = highspy.Highs()", "h2.setOptionValue('output_flag', False)",
                 f"h2.readModel({files['stage2']!r})", f"h2.readBasis({files['basis2']!r})", "h2.run()",
                 "assert h2.getModelStatus() == highspy.HighsModelStatus.kOptimal"]
    return "\n".join(x for x in code if x)


def cli_vs_floor(folder: Path, repeats: int) -> dict:
    """``allocator solve`` on ``folder``, whole process (CPU of the child, wall), against the
    stack's floor measured in the same run, interleaved; plus what the imports cost."""
    exe = Path(sys.executable).with_name("allocator")
    cli = [str(exe)] if exe.exists() else [sys.executable, "-m", "allocator"]
    py = [sys.executable, "-c"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = export_floor_models(folder, tmp)
        cases = {
            "allocator solve --quiet": cli + ["solve", str(folder), "--quiet"],
            "allocator solve --out DIR --quiet": cli + ["solve", str(folder), "--out", "{out}", "--quiet"],
            "floor: first stage from MPS": py + [_floor_code(files, False)],
            "python -c pass": py + ["pass"],
            "floor imports only": py + [FLOOR_IMPORTS],
            "import allocator.cli": py + ["import allocator.cli"],
            "import allocator.cli, allocator.api": py + ["import allocator.cli, allocator.api"],
        }
        if "stage2" in files:
            cases["floor: both stages from MPS"] = py + [_floor_code(files, True)]
        runs = {k: [] for k in cases}
        for i in range(repeats + 1):  # the first round is a warm-up (file cache), not counted
            for k, cmd in cases.items():
                out = tmp / f"out{i}"
                wall, cpu, _ = _process([c.replace("{out}", str(out)) for c in cmd])
                if i:
                    runs[k].append((wall, cpu))
                shutil.rmtree(out, ignore_errors=True)
    return {k: {"wall": statistics.median(r[0] for r in v), "cpu": statistics.median(r[1] for r in v),
                "cpu_min": min(r[1] for r in v), "runs": len(v)} for k, v in runs.items()} | {
        "two_stage": "stage2" in files}


def machine_text(m: dict, *packages: str) -> str:
    """"Machine: …; OS; Python …, HiGHS …, numpy …, scipy …" (plus ``packages`` from
    :func:`machine`'s record), the line every benchmark page states."""
    libs = ", ".join(f"{k} {m.get(k, '?')}" for k in ("numpy", "scipy", *packages))
    return (f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; {m['os']}; "
            f"Python {m['python']}, HiGHS {m['highs']}, {libs}")


def load_text(loadavg) -> str:
    """A 1/5/15-minute load average as the benchmark pages write it: "0.8, 0.9, 1.0"."""
    return ", ".join(f"{x:.1f}" for x in loadavg)


def _version(pkg: str) -> str:
    from importlib.metadata import version

    return version(pkg)


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
            "numpy": numpy.__version__, "scipy": scipy.__version__, "pandas": _version("pandas"),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "loadavg": os.getloadavg()}


def _size_counts(text: str, default: int) -> dict:
    """``"large=50,x-large=10"`` → {size: count}; sizes not named get ``default``."""
    out = {}
    for part in [x for x in text.split(",") if x.strip()]:
        k, v = part.split("=")
        out[k.strip()] = int(v)
    return out


def optional_sections(a, report: dict) -> dict:
    """Sections other modules add (``run(**options) -> markdown``), when asked for and present."""
    import importlib

    out = {}
    if getattr(a, "scale_from", None) is not None:
        from benchmarks import scale_bench

        out["scale"] = scale_bench.render(json.loads(Path(a.scale_from).read_text()))
        print(f"section scale rendered from {a.scale_from}", flush=True)
    kwargs = {"scale": {"subdivisions": tuple(int(k) for k in a.scale_subdivisions.split(",")),
                        "method": "ipm"},
              "parallel": {"max_serial_s": 20}}
    for flag, mod in (("scale", "benchmarks.scale_bench"), ("parallel", "benchmarks.parallel_bench")):
        if not getattr(a, flag) or flag in out:
            continue
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
            print(f"--{flag}: {mod} is not in this tree; section skipped", flush=True)
            continue
        out[flag] = m.run(**kwargs[flag])
        print(f"section {flag} done", flush=True)
    return out


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
    ap.add_argument("--sweep-sizes", default="default,small,large,x-large",
                    help="sizes to sweep (issue 16: 200, 1,000 and 4,000 programmes)")
    ap.add_argument("--sweep-n", default="large=60,x-large=12",
                    help="scenarios for named sizes, overriding --sweep (the second stage makes "
                    "each scenario cost seconds at 1,000+ programmes)")
    ap.add_argument("--rebuild", type=int, default=10,
                    help="scenarios solved by rebuild-per-scenario (a) (slow path; a prefix; 0 skips)")
    ap.add_argument("--workers", type=int, default=2, help="workers for the parallel sweep (1 skips)")
    ap.add_argument("--resolve-size", default="large", help="size for the session re-solve "
                    "(BLAS pinned/unpinned) measurement ('' to skip)")
    ap.add_argument("--resolve-n", type=int, default=30)
    ap.add_argument("--cli-repeats", type=int, default=7)
    ap.add_argument("--order-size", default="", help="size for the column-order experiment "
                    "('' skips it; e.g. large)")
    ap.add_argument("--scale", action="store_true", help="add benchmarks/scale_bench.py's section")
    ap.add_argument("--scale-subdivisions", default="1,2",
                    help="national-to-local sizes for --scale: neighbourhoods per local area "
                    "(1 = 4,380 programmes, 12 = 51,933; the largest takes over an hour)")
    ap.add_argument("--scale-from", type=Path, default=None,
                    help="render the national-to-local section from this raw file of an earlier "
                    "`python -m benchmarks.scale_bench --raw FILE` run instead of measuring it here "
                    "(the section states that run's own date, machine and load)")
    ap.add_argument("--parallel", action="store_true",
                    help="add benchmarks/parallel_bench.py's section")
    ap.add_argument("--quick", action="store_true",
                    help="a short run to check the runner works (small sizes, few repeats); its "
                    "figures are not results")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    if a.quick:
        a.sizes, a.repeats, a.sweep, a.sweep_sizes, a.sweep_n = "default,small", 2, 10, "default,small", ""
        a.rebuild, a.workers, a.resolve_size, a.resolve_n, a.cli_repeats = 2, 1, "small", 10, 3
        a.order_size = ""
        if a.out == RESULTS:
            a.out = Path(tempfile.gettempdir()) / "allocator-bench-quick" / "results.md"
            a.out.parent.mkdir(parents=True, exist_ok=True)

    t_all = time.perf_counter()
    load_start = os.getloadavg()
    sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
    sweep_sizes = [x for x in a.sweep_sizes.split(",") if x]
    work = Path(tempfile.mkdtemp(prefix="allocator-bench-"))
    folders = {}
    for s in sizes + sweep_sizes + [x for x in (a.resolve_size, a.order_size) if x]:
        if s not in folders:
            folders[s] = (template_dir() if s == "default"
                          else write_instance(generate_size(s, a.seed), work / s))

    cold = {}
    for s in sizes:
        reps = a.xl_repeats if s == "x-large" else a.repeats
        eng, ref, hs = [], [], []
        for _ in range(reps):
            eng.append(run_child("engine", folders[s]))
            ref.append(run_child("reference", folders[s]))
            hs.append(run_child("highs_same_lp", folders[s]))
        cold[s] = {"engine": eng, "reference": ref, "highs_same_lp": hs}
        print(f"{s}: {eng[0]['columns']} cols, end-to-end CPU engine {_median(eng, 'end_to_end_cpu'):.2f}s, "
              f"reference {_median(ref, 'end_to_end_cpu'):.2f}s", flush=True)
    sweeps = {}
    counts = _size_counts(a.sweep_n, a.sweep)
    for s in sweep_sizes:
        sweeps[s] = run_child("sweep", folders[s], counts.get(s, a.sweep), a.rebuild, a.seed, a.workers)
        print(f"sweep {s}: {json.dumps(sweeps[s])}", flush=True)
    resolve = {}
    if a.resolve_size:
        resolve = run_child("resolve", folders[a.resolve_size], a.resolve_n) | {"size": a.resolve_size}
        print(f"re-solve {a.resolve_size}: {json.dumps(resolve)}", flush=True)
    order = {}
    if a.order_size:
        order = run_child("column_order", folders[a.order_size], a.repeats)
        print(f"column order: {json.dumps(order)}", flush=True)
    cli = cli_vs_floor(template_dir(), a.cli_repeats)
    print(f"cli: {json.dumps(cli)}", flush=True)
    report = {"machine": machine(), "cold": cold, "sweeps": sweeps, "resolve": resolve, "cli": cli,
              "column_order": order, "args": vars(a) | {"out": str(a.out)},
              "loadavg_start": load_start, "folders": {k: str(v) for k, v in folders.items()}}
    report["sections"] = optional_sections(a, report)
    report["total_s"] = time.perf_counter() - t_all
    report["machine"]["loadavg"] = os.getloadavg()
    shutil.rmtree(work, ignore_errors=True)
    a.out.with_suffix(".json").write_text(json.dumps(report, indent=1, default=str))
    a.out.write_text(render(report))
    print(f"wrote {a.out} ({report['total_s']:.0f} s)")


# ---------------------------------------------------------------------------------- report
def _f(x, nd=3) -> str:
    return "—" if x is None else f"{x:.{nd}f}"


def _r(a, b) -> str:
    return "—" if a is None or not b else f"{a / b:.2f}×"


def _programmes(s: str) -> str:
    from benchmarks.generator import SIZES

    return "98" if s == "default" else f"{SIZES[s][0] * SIZES[s][1]:,}"


TARGETS = {"cli": 1.15, "sweep": 1.05, "check": 0.10}


def render(r: dict) -> str:
    m = r["machine"]
    a = r["args"]
    L = ["# Benchmark results", "",
         f"Produced by `python -m benchmarks` on {m['date']}. {machine_text(m, 'pandas')}. "
         "Raw figures: [results.json](results.json).",
         "",
         f"Load: 1/5/15-minute load average {load_text(r['loadavg_start'])} at the "
         f"start and {load_text(m['loadavg'])} at the end ({m['cores']} cores). "
         "Engine and reference runs are interleaved (cold: engine, reference, HiGHS alone per "
         "repeat; sweeps: scenario by scenario; CLI and floor process by process) so that load "
         "hits both alike. **CPU time is the headline** (wall time on a shared machine includes "
         "waiting for a core); both are recorded.", ""]
    if a.get("quick"):
        L += ["**`--quick` run: a check that the runner works, not results.**", ""]
    # ---- CLI
    cli = r.get("cli") or {}
    if cli:
        top = cli["allocator solve --quiet"]
        f1 = cli["floor: first stage from MPS"]
        f2 = cli.get("floor: both stages from MPS")
        L += ["## `allocator solve` against the stack's floor (whole process)", "",
              "The floor is a process that imports numpy, pandas, scipy.sparse, pydantic, PyYAML and "
              "highspy and reads and solves the same LP from MPS (exported by the engine); the "
              "two-stage floor also reads and solves the second-stage LP from its starting basis, "
              "as the engine does for the unique plan. Medians of "
              f"{top['runs']} runs after one warm-up, interleaved.", "",
              "| process | CPU s | wall s | CPU ÷ floor (both stages) | CPU ÷ floor (first stage) |",
              "|---|---|---|---|---|"]
        for k, v in cli.items():
            if not isinstance(v, dict):
                continue
            L.append(f"| {k} | {v['cpu']:.3f} | {v['wall']:.3f} | {_r(v['cpu'], (f2 or {}).get('cpu'))} | "
                     f"{_r(v['cpu'], f1['cpu'])} |")
        L.append("")
    # ---- end to end
    L += ["## End to end: what `allocator.solve()` and the CLI do, against the same solves in pure highspy",
          "",
          "Engine: load the instance folder, `allocator.solve()` (build, pass to HiGHS, solve, the "
          "second stage that makes the plan unique, result tables, the independent check, instance "
          "hash and numerical report), write the results folder. Reference "
          "(`benchmarks/reference_highspy.py`, written from docs/formulation.md without the engine's "
          "code): load, build the LP with highspy, solve, the same second stage (in a fresh `Highs` "
          "holding a copy of the first, from its basis, as the engine does), fetch the plan. Medians of "
          f"{a['repeats']} fresh processes per size ({a['xl_repeats']} for x-large), seconds.", "",
          "| instance | programmes | columns | rows | nonzeros | load | build | pass | HiGHS 1st | "
          "HiGHS 2nd | tables | check | write | **engine CPU** | **highspy CPU** | **CPU ratio** | "
          "engine wall | highspy wall | wall ratio | peak MiB engine | peak MiB highspy |",
          "|" + "---|" * 21]
    for s, c in r["cold"].items():
        e, ref = c["engine"], c["reference"]
        L.append(f"| {s} | {_programmes(s)} | {e[0]['columns']:,} | {e[0]['rows']:,} | {e[0]['nonzeros']:,} | "
                 + " | ".join(_f(_median(e, k)) for k in ("load", "build", "load_solver", "solve",
                                                         "second_stage", "tables", "check", "write"))
                 + f" | **{_f(_median(e, 'end_to_end_cpu'))}** | **{_f(_median(ref, 'end_to_end_cpu'))}** | "
                 f"**{_r(_median(e, 'end_to_end_cpu'), _median(ref, 'end_to_end_cpu'))}** | "
                 f"{_f(_median(e, 'end_to_end'))} | {_f(_median(ref, 'end_to_end'))} | "
                 f"{_r(_median(e, 'end_to_end'), _median(ref, 'end_to_end'))} | "
                 f"{_median(e, 'peak_rss_mib'):.0f} | {_median(ref, 'peak_rss_mib'):.0f} |")
    L += ["", "Objectives (engine = reference, relative difference):", ""]
    for s, c in r["cold"].items():
        eo, ro = c["engine"][0]["objective"], c["reference"][0]["objective"]
        d = abs(eo - ro) / max(1.0, abs(ro)) if eo is not None and ro is not None else float("nan")
        L.append(f"- {s}: {eo:,.3f} vs {ro:,.3f} (rel. diff {d:.1e}); unique plan (second stage) "
                 f"{'used' if c['engine'][0].get('unique_plan') else 'off'}")
    # ---- check
    L += ["", "## The independent check against HiGHS", "",
          "The check recomputes every rule and the objective from the result tables and the "
          "instance (allocator/checker.py, no LP matrix). HiGHS is the first-stage solve of the same "
          "LP: its wall time inside `solve()`, and its CPU alone in a fresh process (*HiGHS alone*).", "",
          "| instance | check wall s | check CPU s | HiGHS wall s (in solve) | HiGHS alone CPU s | "
          "**check ÷ HiGHS (CPU)** | check ÷ HiGHS (wall) |", "|---|---|---|---|---|---|---|"]
    for s, c in r["cold"].items():
        e, hs = c["engine"], c["highs_same_lp"]
        L.append(f"| {s} | {_f(_median(e, 'check'))} | {_f(_median(e, 'check_cpu'))} | "
                 f"{_f(_median(e, 'solve'))} | {_f(_median(hs, 'solve_cpu'))} | "
                 f"**{_r(_median(e, 'check_cpu'), _median(hs, 'solve_cpu'))}** | "
                 f"{_r(_median(e, 'check'), _median(e, 'solve'))} |")
    # ---- sweeps
    if r["sweeps"]:
        L += ["", "## Sweeps: re-solve per scenario", "",
              "Scenarios from `benchmarks/scenarios.py` (a receipts shock from a random year, both DEL "
              "envelopes scaled, every mission weight scaled), solved in the same order by each path, "
              "interleaved scenario by scenario. (b) is `allocator.scenario_sweep` (one `ModelSession`: "
              "bound and cost updates, warm re-solve, the second stage, the plan returned); (c) is "
              "highspy's warm re-solve of the reference model after the same changes, with the same "
              "second stage where the engine runs it. (a) rebuilds and solves the changed instance "
              f"(first {a['rebuild']} scenarios).", "",
              "| instance | programmes | scenarios | second stage | (b) engine CPU s | (c) highspy CPU s | "
              "**(b)/(c) CPU** | (b) wall s | (c) wall s | (b)/(c) wall | median per-scenario (b)/(c) wall | "
              "(a) rebuild s | (b) workers s | iterations (b) / (c) | max rel. diff (b)-(c) | optimal |",
              "|" + "---|" * 16]
        for s, w in r["sweeps"].items():
            L.append(f"| {s} | {_programmes(s)} | {w['n']} | {'yes' if w.get('second_stage') else 'no'} | "
                     f"{_f(w['engine_warm_cpu_s'], 4)} | {_f(w['highspy_warm_cpu_s'], 4)} | "
                     f"**{_r(w['engine_warm_cpu_s'], w['highspy_warm_cpu_s'])}** | "
                     f"{_f(w['engine_warm_s'], 4)} | {_f(w['highspy_warm_s'], 4)} | "
                     f"{_r(w['engine_warm_s'], w['highspy_warm_s'])} | {w['median_pair_ratio']:.2f}× | "
                     f"{_f(w.get('rebuild_s'), 4)} | {_f(w.get('engine_2workers_s'), 4)} | "
                     f"{w['engine_iterations']:.0f} / {w['highspy_iterations']:.0f} | "
                     f"{(w['max_rel_diff_b_c'] if w['max_rel_diff_b_c'] is not None else float('nan')):.1e} | "
                     f"{w['optimal']}/{w['n']} |")
    rs = r.get("resolve") or {}
    if rs:
        L += ["", f"## Re-solves in a session ({_programmes(rs['size'])} programmes)", "",
              f"`ModelSession.solve()` with nothing changed, first stage only (median of {rs['n']}), "
              "BLAS pinned to one thread inside the session (threadpoolctl, as shipped) and with the "
              "pin removed; the reference's warm re-solve for scale.", "",
              "| path | CPU ms | wall ms |", "|---|---|---|"]
        for k, label in (("pinned", "engine, BLAS pinned (shipped)"), ("unpinned", "engine, BLAS unpinned"),
                         ("reference", "pure highspy warm re-solve")):
            L.append(f"| {label} | {1e3 * rs[k][1]:.1f} | {1e3 * rs[k][0]:.1f} |")
    if r.get("column_order"):
        L += ["", f"## Column order (HiGHS alone on the {a['order_size']} LP, columns permuted)", "",
              "| order | solve s (median) | runs | simplex iterations |", "|---|---|---|---|"]
        for name, o in r["column_order"].items():
            L.append(f"| {name} | {o['solve']:.3f} | {', '.join(f'{x:.2f}' for x in o['runs'])} | "
                     f"{o['iterations']} |")
    L += ["", "## Targets (issue 16)", ""] + targets(r) + [""]
    for name, md in (r.get("sections") or {}).items():
        L += [md.rstrip(), ""]
    L += [f"Full run took {r['total_s']:.0f} s."]
    return "\n".join(L) + "\n"


def _verdict(x, limit) -> str:
    if x is None:
        return "not measured"
    return "met" if x <= limit else f"MISSED by {x / limit - 1:.0%}"


def targets(r: dict) -> list[str]:
    out = []
    cli = r.get("cli") or {}
    if cli:
        floor = (cli.get("floor: both stages from MPS") or cli["floor: first stage from MPS"])["cpu"]
        x = cli["allocator solve --quiet"]["cpu"] / floor
        out.append(f"- `allocator solve` on the default, whole process, CPU ≤ {TARGETS['cli']}× the "
                   f"stack's floor ({'both stages' if cli.get('two_stage') else 'first stage'}): "
                   f"{x:.2f}× — {_verdict(x, TARGETS['cli'])} (against the first-stage-only floor "
                   f"{cli['allocator solve --quiet']['cpu'] / cli['floor: first stage from MPS']['cpu']:.2f}×).")
    for s, w in r["sweeps"].items():
        x = w["engine_warm_cpu_s"] / w["highspy_warm_cpu_s"]
        if s in ("small", "large", "x-large"):
            out.append(f"- Sweep at {_programmes(s)} programmes ≤ {TARGETS['sweep']}× highspy's warm "
                       f"re-solve per scenario (CPU): {x:.2f}× — {_verdict(x, TARGETS['sweep'])}.")
    for s, c in r["cold"].items():
        if s != "x-large":
            continue
        ck, hs = _median(c["engine"], "check_cpu"), _median(c["highs_same_lp"], "solve_cpu")
        x = ck / hs if ck is not None and hs else None
        out.append(f"- Independent check ≤ {TARGETS['check']:.0%} of HiGHS's time at 4,000 programmes "
                   f"(CPU): {'—' if x is None else f'{x:.1%}'} — {_verdict(x, TARGETS['check'])}.")
    return out


if __name__ == "__main__":
    main()
