"""`allocator solve`, `validate`, `export`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from allocator.cli import EXIT_INPUT, EXIT_NO_PLAN, EXIT_NOT_OPTIMAL, EXIT_OK, app
from allocator.cli.common import console, err_console, print_json, resolve_instance

INSTANCE_HELP = "Instance folder (instance.yaml + CSV tables). Default: the shipped uk_missions."


@app.command()
def solve(
    instance: Optional[Path] = typer.Argument(None, help=INSTANCE_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write result tables to this folder."),
    solver: Optional[str] = typer.Option(None, help="Solver: highs (default) or any Pyomo solver "
                                         "installed (glpk, cbc, ...)."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", help="Solver time limit, seconds."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    excel: bool = typer.Option(False, "--excel", help="Also write OUT/results.xlsx (needs --out)."),
    plots: bool = typer.Option(False, "--plots", help="Also write the plots to OUT/plots/ as PNG "
                               "and SVG (needs --out)."),
    parquet: bool = typer.Option(False, "--parquet", help="Also write each table as Parquet beside "
                                 "its CSV (needs --out and pyarrow: pip install 'allocator[parquet]')."),
) -> None:
    """Allocate the envelope: solve the mission-weighted LP and report the plan."""
    from allocator import load_instance
    from allocator import solve as run_solve

    if (excel or plots or parquet) and out is None:
        from allocator.errors import AllocatorError

        raise AllocatorError("--excel, --plots and --parquet write into the results folder: give --out DIR")
    if parquet:
        from allocator.output import write_parquet

        write_parquet(None, None)  # raises a clear error now (before solving) when pyarrow is missing
    if out is not None:
        from allocator.output import check_target

        check_target(out)  # refuse a bad --out before solving
    t_start = time.perf_counter()
    path = resolve_instance(instance)
    t0 = time.perf_counter()
    inst = load_instance(path)
    load_s = time.perf_counter() - t0
    res = run_solve(inst, solver=solver, time_limit_s=time_limit)
    res.timings_s["load"] = round(load_s, 6)
    res.provenance["instance_path"] = str(Path(path).resolve())  # for `allocator verify`
    if out is not None:
        from allocator.cli.tools_cmds import write_extras

        res.write(out, extras=lambda folder: write_extras(res, folder, excel=excel, plots=plots,
                                                          quiet=quiet or as_json),
                  parquet=parquet)
    res.timings_s["total"] = round(time.perf_counter() - t_start, 6)
    if as_json:
        print_json(res.summary_dict())
    elif not quiet:
        print_summary(res, out)
    code = {"optimal": EXIT_OK, "time_limit": EXIT_NOT_OPTIMAL, "iteration_limit": EXIT_NOT_OPTIMAL}
    raise typer.Exit(code.get(res.status, EXIT_NO_PLAN) if res.objective is not None else EXIT_NO_PLAN)


def _gbp(x: float) -> str:
    return f"{x:,.0f}"


def print_summary(res, out: Path | None) -> None:
    from rich.table import Table

    style = "green" if res.ok else ("yellow" if res.objective is not None else "red")
    console.print(f"[bold]{res.instance_name}[/]: [{style}]{res.status}[/]")
    console.print(res.message)
    if res.objective is None:
        return
    unit = res.objective_unit
    console.print(f"Mission value (objective): [bold]{res.objective:,.1f}[/] {unit}\n"
                  f"  in-horizon {res.objective_in_horizon:,.1f}; terminal (after the horizon, "
                  f"the 10-year test) {res.objective_terminal:,.1f}")
    m = res.missions
    mh = m[m["in_horizon"]]
    t = Table(title="Mission metrics (final horizon year)")
    for c in ("mission", "metric", "baseline", "plan", "gain", "discounted value"):
        t.add_column(c, justify="right" if c not in ("mission", "metric") else "left")
    last = mh["year"].max()
    for r in mh[mh["year"] == last].itertuples():
        val = m.loc[m["mission"] == r.mission, "discounted_value"].sum()
        t.add_row(r.mission, f"{r.metric} ({r.unit})", f"{r.baseline_value:,.3f}", f"{r.value:,.3f}",
                  f"{r.gain:+,.3f}", f"{val:,.1f}")
    console.print(t)
    unit = res.provenance.get("money_unit", "gbp_m")  # tables are in the instance's money unit
    if res.provenance.get("mode") == "budget":  # no UK fiscal framework: no fiscal table
        _print_budget(res, unit)
    else:
        _print_fiscal(res, unit)
    _print_binding(res, unit)
    tm = res.timings_s
    console.print("timings (s): " + ", ".join(f"{k} {v:.3f}" for k, v in tm.items()))
    if out is not None:
        console.print(f"results written to {out}/")


def _print_budget(res, unit: str) -> None:
    from rich.table import Table
    from allocator.numerics import UNIT_LABELS

    cur = res.provenance.get("currency", "£")
    label = UNIT_LABELS[unit].replace("£", cur)
    a = res.tables["allocations"]
    a = a[~a["programme"].isin(res.provenance.get("activity_programmes", []))]
    col = next(c for c in a.columns if c.startswith("real_spend"))
    tot = a.groupby("year")[col].sum()
    t = Table(title=f"Budget use by year (real {label})")
    t.add_column("year")
    t.add_column("spend", justify="right")
    for y, v in tot.items():
        t.add_row(str(y), _gbp(v))
    console.print(t)


def _print_fiscal(res, unit: str) -> None:
    from rich.table import Table
    from allocator.numerics import UNIT_LABELS, gbp_m_names

    f = gbp_m_names(res.fiscal, unit)
    t = Table(title=f"Fiscal position by year (cash {UNIT_LABELS[unit]})")
    for c in ("year", "RDEL", "CDEL", "current balance", "stability headroom", "PSNFL % GDP",
              "welfare vs cap"):
        t.add_column(c, justify="right")
    for r in f.itertuples():
        mark = " *" if r.stability_target else ""
        t.add_row(r.year, _gbp(r.rdel_gbp_m), _gbp(r.cdel_gbp_m), _gbp(r.current_balance_gbp_m),
                  _gbp(r.headroom_gbp_m) + mark, f"{r.psnfl_pct_gdp:.1f}",
                  "" if r.welfare_cap_with_margin_gbp_m != r.welfare_cap_with_margin_gbp_m  # no cap
                  else _gbp(r.welfare_cap_with_margin_gbp_m - r.welfare_capped_gbp_m))
    console.print(t)
    console.print("  * a stability-rule target year; headroom = margin over the rule after the "
                  "required buffer")


def _print_binding(res, unit: str) -> None:
    from rich.table import Table

    if "shadow_prices" in res.tables and res.binding is not None:
        from allocator.explain import binding_by_family

        fam = binding_by_family(res.shadow_prices)
        per = {"gbp_m": "£1m", "gbp_bn": "£1bn", "gbp": "£1"}[unit]
        t = Table(title=f"Binding constraints by family (objective per extra {per}, or one unit "
                        "of a resource, moved the way that helps)")
        for c in ("family", "binding rows", "largest shadow price", "where"):
            t.add_column(c, justify="right" if c in ("binding rows", "largest shadow price") else "left")
        for r in fam[fam["binding"] > 0].itertuples():
            t.add_row(r.name, f"{r.binding} of {r.rows}", f"{r.max_shadow_price:,.3f}", r.where)
        console.print(t)
        slack = ", ".join(fam.loc[fam["binding"] == 0, "name"])
        if slack:
            console.print(f"Not binding: {slack}.")


@app.command()
def validate(instance: Optional[Path] = typer.Argument(None, help=INSTANCE_HELP),
             events: Optional[Path] = typer.Option(None, "--events", "-e", help="Also check this "
                                                   "events YAML (default: the instance's "
                                                   "events.yaml if it has one)."),
             quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors; "
                                        "the exit code says it."),
             as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Check an instance: schema, references, concavity, lags, years, and every section the
    run commands read (uncertainty, sensitivity, certainty, events). Exit 1 if invalid."""
    from allocator import instance_sha256, load_instance
    from allocator.validation import check_run_sections

    path = resolve_instance(instance)
    inst = load_instance(path)
    checked = check_run_sections(inst, path, events)
    info = {"valid": True, "instance": inst.settings.name, "departments": len(inst.departments),
            "programmes": len(inst.programmes), "segments": len(inst.segments),
            "years": inst.years, "instance_sha256": instance_sha256(inst),
            "sections_checked": checked}
    if as_json:
        print_json(info)
    elif not quiet:
        console.print(f"[green]valid[/]: {info['instance']} — {info['departments']} departments, "
                      f"{info['programmes']} programmes, {info['segments']} response segments, "
                      f"{inst.years[0]}..{inst.years[-1]}; sha256 {info['instance_sha256'][:16]}…; "
                      f"checked: {', '.join(checked)}")


@app.command()
def export(paths: list[Path] = typer.Argument(..., metavar="[INSTANCE] FILE",
                                             help="Instance folder (default: the shipped "
                                             "uk_missions) and the output file (.lp or .mps)."),
           fmt: str = typer.Option("lp", "--format", "-f", help="lp or mps"),
           quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
           as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON.")
           ) -> None:
    """Write the allocation LP for other solvers (LP or MPS format, named rows and columns)."""
    from allocator import instance_sha256, load_instance
    from allocator.errors import AllocatorError
    from allocator.export import write_model
    from allocator.output import check_file_target

    if fmt not in ("lp", "mps"):
        err_console.print(f"[red]error:[/] --format must be lp or mps, not {fmt!r}")
        raise typer.Exit(EXIT_INPUT)
    if len(paths) > 2:
        raise AllocatorError(f"export takes [INSTANCE] FILE, got {len(paths)} paths: "
                             f"{' '.join(map(str, paths))}")
    instance, file = (None, paths[0]) if len(paths) == 1 else paths
    check_file_target(file)
    inst = load_instance(resolve_instance(instance))
    write_model(inst, file, fmt)
    if as_json:
        print_json({"file": str(file), "format": fmt, "instance": inst.settings.name,
                    "instance_sha256": instance_sha256(inst), "bytes": Path(file).stat().st_size})
    elif not quiet:
        console.print(f"wrote {file}")
