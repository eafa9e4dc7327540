"""National-to-local scale: time and memory of a whole engine solve as the instance grows.

``python -m benchmarks.scale_bench`` (``--help``) writes ``benchmarks/scale_results.md``;
:func:`run` returns the same markdown section for the benchmark runner's page.

Instances come from :mod:`benchmarks.national_to_local` (the default's local programmes
split across 42 ICBs, 43 police forces and 153 upper-tier authorities, then into
``k`` neighbourhoods each). Each size is written to a folder and solved in a fresh process
by ``allocator.api.solve`` — what ``allocator solve`` runs: load, build, HiGHS, the second
stage that makes the plan unique, result tables and the independent check. The child
reports wall seconds, CPU seconds (user + system of the process, all HiGHS threads
included: ``getrusage``), peak resident memory (``ru_maxrss``) and the engine's own stage
timings. Growth exponents are least-squares slopes of log(figure) on log(programmes).

HiGHS's LP method is chosen by measurement: both the dual simplex (HiGHS's default
``solver=simplex``) and the interior point method (``solver=ipm``, with crossover, so the
solution is a vertex with exact duals as the engine needs) are run at one mid size, and
the faster in CPU time is used for every size (``--method`` forces one). The method is
set on every back-end the solve creates (first and second stage) — a benchmark-only
wrapper of ``allocator.api.get_backend``, since the instance format has no LP-method field.

A long size can run on its own (``--subdivisions 12 --raw k12.json``) beside the small ones;
``--merge RAW...`` then writes one page from the runs, stating each run's date and load.
``ALLOCATOR_SCALE_HIGHS_LOG=FILE`` writes HiGHS's progress log, to follow a solve of hours.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "scale_results.md"
DEFAULT_SUBDIVISIONS = (1, 2, 4, 8, 12)


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---------------------------------------------------------------------------------- children
def child_generate(k: int, seed: int, folder: str, unique_plan: bool) -> dict:
    from benchmarks.national_to_local import generate, write_instance

    t = time.perf_counter()
    inst = generate(k, seed, unique_plan=unique_plan)
    write_instance(inst, Path(folder))
    return {"programmes": len(inst.programmes), "segments": len(inst.segments),
            "generate_s": time.perf_counter() - t}


def child_solve(folder: str, method: str) -> dict:
    import allocator.api as api

    make = api.get_backend
    log_file = os.environ.get("ALLOCATOR_SCALE_HIGHS_LOG")

    def get_backend(*args, **kwargs):  # benchmark-only: the LP method on every back-end
        be = make(*args, **kwargs)
        if method != "default":
            be.set_option("solver", method)
        if log_file:  # HiGHS's own progress log, to follow a long solve (not to the console)
            be.set_option("log_to_console", False)
            be.set_option("log_file", log_file)
            be.set_option("output_flag", True)
        return be

    api.get_backend = get_backend
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    w0, c0 = time.perf_counter(), _cpu_s()
    res = api.solve(folder)
    wall, cpu = time.perf_counter() - w0, _cpu_s() - c0
    size = res.provenance["model_size"]
    return {"status": res.status, "objective": res.objective, "wall_s": wall, "cpu_s": cpu,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_after_imports_mib": rss0, "timings": res.timings_s,
            "iterations": res.provenance["solver"].get("iterations"),
            "columns": size["columns"], "rows": size["rows"], "nonzeros": size["nonzeros"],
            "method": method}


def child_build(k: int, seed: int) -> dict:
    """Generate size ``k`` in memory, build the LP and pass it to HiGHS, without solving:
    the size, the build cost and the memory the engine and HiGHS hold before the solve."""
    from allocator.models.allocation import build_allocation_model
    from allocator.solvers.highs import HighsBackend
    from benchmarks.national_to_local import generate

    w0, c0 = time.perf_counter(), _cpu_s()
    inst = generate(k, seed, unique_plan=False)
    gen_w, gen_c = time.perf_counter() - w0, _cpu_s() - c0
    w0, c0 = time.perf_counter(), _cpu_s()
    model = build_allocation_model(inst)
    lp = model.lp
    be = HighsBackend()
    be.load(lp)
    return {"k": k, "programmes": len(inst.programmes), "columns": lp.n, "rows": lp.m,
            "nonzeros": int(lp.A.nnz), "generate_s": gen_w, "generate_cpu_s": gen_c,
            "build_and_pass_s": time.perf_counter() - w0, "build_and_pass_cpu_s": _cpu_s() - c0,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _run_child(*args) -> dict:
    from benchmarks.runner import run_child

    return run_child(*args, module="benchmarks.scale_bench")


# ---------------------------------------------------------------------------------- parent
def exponent(x, y) -> float:
    """Least-squares slope of log y on log x (the growth exponent)."""
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(x, y, 1)[0])


def measure(subdivisions=DEFAULT_SUBDIVISIONS, method: str | None = None, compare_k: int = 1,
            seed: int = 0, unique_plan: bool = False, log=print, on_size=None) -> dict:
    """Generate, write and solve every size (each in a fresh process); raw figures.
    ``on_size(raw)`` is called after each size (so a long run leaves partial results)."""
    from benchmarks.runner import machine

    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="allocator-scale-"))
    out = {"sizes": [], "compare": {}, "seed": seed, "loadavg_start": load_start,
           "unique_plan": unique_plan}
    try:
        folders = {}

        def folder(k):
            if k not in folders:
                folders[k] = work / f"k{k}"
                g = _run_child("generate", k, seed, folders[k], int(unique_plan))
                folders[k] = (folders[k], g)
            return folders[k]

        if method is None:
            f, g = folder(compare_k)
            for m in ("simplex", "ipm"):
                r = _run_child("solve", f, m)
                r.update(g, k=compare_k)
                out["compare"][m] = r
                log(f"compare k={compare_k} {m}: cpu {r['cpu_s']:.1f}s wall {r['wall_s']:.1f}s "
                    f"objective {r['objective']}")
            method = min(out["compare"], key=lambda m: out["compare"][m]["cpu_s"])
        out["method"] = method
        for k in subdivisions:
            f, g = folder(k)
            if k == compare_k and method in out["compare"]:
                r = dict(out["compare"][method], reused=True)
            else:
                r = _run_child("solve", f, method)
                r.update(g)
            r["k"] = k
            out["sizes"].append(r)
            log(f"k={k}: {r['programmes']:,} programmes, {r['columns']:,} columns: {r['status']}, "
                f"cpu {r['cpu_s']:.1f}s wall {r['wall_s']:.1f}s peak {r['peak_rss_mib']:.0f} MiB")
            shutil.rmtree(f, ignore_errors=True)
            if on_size is not None:
                on_size(dict(out, machine=machine()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["machine"] = machine()
    return out


def _obj(c: dict) -> str:
    return f"{c['objective']:,.3f}" if c.get("objective") is not None else c["status"]


def merge(raws: list[dict]) -> dict:
    """One raw result from several runs of the same code and method (sizes sorted by k).
    Each run's date and load averages are kept in ``runs``, and the page states them."""
    methods = {x["method"] for x in raws}
    if len(methods) != 1 or len({x["seed"] for x in raws}) != 1 \
            or len({bool(x.get("unique_plan")) for x in raws}) != 1:
        raise SystemExit("scale_bench --merge: runs differ in method, seed or second stage")
    sizes = sorted((s for x in raws for s in x["sizes"]), key=lambda s: s["k"])
    if len({s["k"] for s in sizes}) != len(sizes):
        raise SystemExit("scale_bench --merge: a size appears in more than one run")
    last = max(raws, key=lambda x: x["machine"]["date"])
    return {"sizes": sizes, "compare": {}, "seed": raws[0]["seed"], "method": methods.pop(),
            "unique_plan": raws[0].get("unique_plan", False), "machine": last["machine"],
            "loadavg_start": min(raws, key=lambda x: x["machine"]["date"])["loadavg_start"],
            "runs": [{"k": [s["k"] for s in x["sizes"]], "date": x["machine"]["date"],
                      "loadavg_start": x["loadavg_start"], "loadavg_end": x["machine"]["loadavg"]}
                     for x in sorted(raws, key=lambda x: x["machine"]["date"])]}


def render(r: dict) -> str:
    from benchmarks.runner import load_text, machine_text

    m = r["machine"]
    sizes = r["sizes"]
    runs = r.get("runs")
    if runs:  # sizes gathered from several runs of the same code (see merge())
        when = (f"Measured by {len(runs)} runs of `python -m benchmarks.scale_bench` on the same code, "
                "each size in its own process: " + "; ".join(
                    f"k = {', '.join(map(str, u['k']))} ended {u['date']}, load average (1/5/15 min) "
                    f"{load_text(u['loadavg_start'])} at its start and {load_text(u['loadavg_end'])} at its end"
                    for u in runs) + f". {machine_text(m)}. ")
    else:
        when = (f"Measured on {m['date']} by `python -m benchmarks.scale_bench`. {machine_text(m)}. "
                f"Load average (1/5/15 min) {load_text(r['loadavg_start'])} at the start, "
                f"{load_text(m['loadavg'])} at the end. ")
    L = ["## National-to-local scale", "",
         when + "Load above 2 means other work waited for the 2 cores, so wall time can be several "
         "times CPU time; CPU time is the figure to compare. Stage columns (load, build, HiGHS) are "
         "wall seconds.", "",
         "Instances: `benchmarks/national_to_local.py` (the default's locally delivered programmes "
         "split by synthetic need-based shares across 42 ICBs, 43 police forces and 153 upper-tier "
         "authorities, then into k neighbourhoods each; department totals and fiscal rules are the "
         f"default's; seed {r['seed']}). Each size is one fresh process running `allocator.api.solve` "
         "on the instance folder: load, build, HiGHS, result tables and the independent check"
         + (", and the unique-plan second stage" if r.get("unique_plan") else
            "; the unique-plan second stage is switched off in the generated instances (one LP per "
            "size: the second stage solves a second LP of the same size, roughly doubling HiGHS's "
            "time, which the machine's time did not allow at the largest sizes)")
         + ". The default's 120 s solver time limit is removed. One run per size.", ""]
    if r["compare"]:
        c0 = next(iter(r["compare"].values()))
        L += [f"**LP method.** Measured at k = {c0['k']} ({c0['programmes']:,} programmes), whole solve:", "",
              "| HiGHS method | CPU s | wall s | HiGHS wall s | peak MiB | objective |", "|---|---|---|---|---|---|"]
        for name, c in r["compare"].items():
            L.append(f"| {name} | {c['cpu_s']:.1f} | {c['wall_s']:.1f} | {c['timings'].get('solve', 0):.1f} | "
                     f"{c['peak_rss_mib']:.0f} | {_obj(c)} |")
        L += ["", f"Every size below uses **{r['method']}** (less CPU).", ""]
    else:
        L += [f"Every size uses HiGHS method **{r['method']}** (forced).", ""]
    two = bool(r.get("unique_plan"))
    L += ["| k | programmes | columns | rows | nonzeros | status | CPU s | wall s | load s | build s | "
          "HiGHS s | " + ("second stage s | " if two else "") + "peak MiB |",
          "|" + "---|" * (13 if two else 12)]
    for s in sizes:
        t = s["timings"]
        L.append(f"| {s['k']} | {s['programmes']:,} | {s['columns']:,} | {s['rows']:,} | {s['nonzeros']:,} | "
                 f"{s['status']} | {s['cpu_s']:.1f} | {s['wall_s']:.1f} | {t.get('load', 0):.1f} | "
                 f"{t.get('build', 0):.1f} | {t.get('solve', 0):.1f} | "
                 + (f"{t.get('second_stage', 0):.1f} | " if two else "") + f"{s['peak_rss_mib']:,.0f} |")
    if not sizes:
        return "\n".join(L) + "\n"
    ok = [s for s in sizes if s["status"] == "optimal"]
    if len(ok) >= 2:
        P = [s["programmes"] for s in ok]
        ex = {"CPU": exponent(P, [s["cpu_s"] for s in ok]),
              "wall": exponent(P, [s["wall_s"] for s in ok]),
              "HiGHS": exponent(P, [s["timings"]["solve"] for s in ok]),
              "build": exponent(P, [s["timings"]["build"] for s in ok]),
              "peak memory": exponent(P, [s["peak_rss_mib"] for s in ok]),
              "peak memory above imports": exponent(P, [s["peak_rss_mib"] - s["rss_after_imports_mib"]
                                                        for s in ok])}
        L += ["", f"Growth exponents (figure ∝ programmes^b, log-log least squares over the {len(ok)} "
              "optimal sizes): " + "; ".join(f"{k} b = {v:.2f}" for k, v in ex.items()) + "."]
    big = sizes[-1]
    L += ["", f"The largest instance solved here ({big['programmes']:,} programmes, {big['columns']:,} "
          f"columns) solved {big['status']} in {big['cpu_s']:.0f} s CPU ({big['wall_s']:.0f} s wall) with "
          f"a peak of {big['peak_rss_mib'] / 1024:.1f} GiB on this {m['cores']}-core, {m['memory']} machine."]
    b = r.get("build_only")
    if b:
        L += ["", f"**k = {b['k']}: {b['programmes']:,} programmes, {b['columns']:,} columns, {b['rows']:,} rows, "
              f"{b['nonzeros']:,} nonzeros.** Generated in memory in {b['generate_cpu_s']:.0f} s CPU; built and "
              f"passed to HiGHS in {b['build_and_pass_cpu_s']:.0f} s CPU ({b['build_and_pass_s']:.0f} s wall); "
              f"peak {b['peak_rss_mib'] / 1024:.1f} GiB before the solve."]
        if len(ok) >= 2 and b["programmes"] > big["programmes"]:
            f = (b["programmes"] / ok[-1]["programmes"])
            cpu = ok[-1]["cpu_s"] * f ** ex["CPU"]
            mem = ok[-1]["peak_rss_mib"] * f ** ex["peak memory"]
            L += ["", f"Its solve did not fit in this session on the shared machine (see the load "
                  f"averages). Extrapolated with the exponents above: about {cpu / 60:.0f} CPU minutes "
                  f"and a peak of about {mem / 1024:.1f} GiB, within the machine's memory. To measure it: "
                  f"`python -m benchmarks.scale_bench --method {r['method']} --subdivisions {b['k']}`."]
    return "\n".join(L) + "\n"


def run(subdivisions=DEFAULT_SUBDIVISIONS, method: str | None = None, compare_k: int = 1,
        seed: int = 0, unique_plan: bool = False, log=print) -> str:
    """Measure (:func:`measure`) and return the markdown section."""
    return render(measure(subdivisions, method, compare_k, seed, unique_plan, log))


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        kind = argv[1]
        if kind == "generate":
            r = child_generate(int(argv[2]), int(argv[3]), argv[4], bool(int(argv[5])))
        elif kind == "solve":
            r = child_solve(argv[2], argv[3])
        elif kind == "build":
            r = child_build(int(argv[2]), int(argv[3]))
        else:
            raise SystemExit(f"unknown child {kind}")
        print(json.dumps(r, default=str))
        return
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scale_bench", description=__doc__.split("\n")[0])
    ap.add_argument("--subdivisions", default=",".join(map(str, DEFAULT_SUBDIVISIONS)),
                    help="neighbourhoods per local area, one size each (1 = areas only)")
    ap.add_argument("--method", choices=["simplex", "ipm", "default"], default=None,
                    help="HiGHS LP method for every size (default: measure both at --compare-k)")
    ap.add_argument("--compare-k", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--unique-plan", action="store_true",
                    help="keep the second stage that makes the plan unique (off by default: one LP per size)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--raw", type=Path, default=None, help="also write the raw figures (JSON) here")
    ap.add_argument("--merge", type=Path, nargs="+", default=None, metavar="RAW",
                    help="measure nothing: write --out (and --raw) from the sizes of these earlier "
                    "--raw files (same code and method; each run's date and load are stated)")
    a = ap.parse_args(argv)

    def write(raw):
        if a.raw:
            a.raw.write_text(json.dumps(raw, indent=1, default=str))
        a.out.write_text("# National-to-local scale results\n\n" + render(raw).split("\n", 2)[2])

    if a.merge:
        write(merge([json.loads(f.read_text()) for f in a.merge]))
        print(f"wrote {a.out}")
        return
    write(measure([int(k) for k in a.subdivisions.split(",")], a.method, a.compare_k, a.seed,
                  a.unique_plan, on_size=write))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
