"""`allocator template`, `report`, `appraise`, `diff`: the modeller's tools.

Exit codes (in addition to those in allocator/cli/__init__.py): ``appraise`` exits 4 when
the plan fails any test of the mission test (0 when it passes them all).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from allocator.cli import EXIT_OK, app
from allocator.cli.common import console, err_console, print_json, resolve_instance

EXIT_TEST_FAILED = 4

QUIET = typer.Option(False, "--quiet", "-q", help="Print nothing but errors.")
JSON = typer.Option(False, "--json", help="Print the summary as JSON (for scripts).")


def progress_bar(disable: bool) -> Progress:
    """A progress bar on stderr (stdout stays clean for --json), hidden with --quiet/--json."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                    console=err_console, transient=True, disable=disable)


@app.command()
def template(
    out: Path = typer.Argument(..., help="Workbook to write (.xlsx)."),
    instance: Optional[Path] = typer.Option(None, "--instance", "-i", help="Instance to fill the "
                                            "workbook with (folder or .xlsx). Default: the shipped uk_missions."),
    blank: bool = typer.Option(False, "--blank", help="Headers, documentation and validation only; no data."),
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Write a documented Excel input workbook (README sheet, one sheet per table, data validation).

    Edit it in Excel, then `allocator solve OUT.xlsx`. Converting an instance to a workbook
    and back gives an identical instance (same SHA-256).
    """
    from allocator import instance_sha256, load_instance
    from allocator.errors import AllocatorError
    from allocator.excel import write_template

    if out.suffix.lower() != ".xlsx":
        raise AllocatorError(f"{out}: the workbook name must end in .xlsx")
    inst = None if blank else load_instance(resolve_instance(instance))
    write_template(out, inst)
    info = {"workbook": str(out), "instance": inst.settings.name if inst else None,
            "instance_sha256": instance_sha256(inst) if inst else None}
    if as_json:
        print_json(info)
    elif not quiet:
        what = f"instance '{info['instance']}'" if inst else "a blank template"
        console.print(f"wrote {out} ({what}); solve it with: allocator solve {out}")


@app.command()
def report(
    results: Path = typer.Argument(..., help="Results folder written by `allocator solve --out`."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file (default: RESULTS/report.html)."),
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Write one self-contained HTML report: headline figures, findings in words, plots, tables,
    binding constraints and provenance."""
    from allocator.plots import PLOTS
    from allocator.report import write_report

    with progress_bar(quiet or as_json) as bar:
        task = bar.add_task("drawing plots", total=len(PLOTS))
        path = write_report(results, out, progress=lambda name: bar.advance(task))
    if as_json:
        print_json({"report": str(path), "bytes": path.stat().st_size})
    elif not quiet:
        console.print(f"wrote {path} ({path.stat().st_size / 1024:,.0f} KiB, self-contained)")


@app.command()
def appraise(
    instance: Path = typer.Argument(..., help="Instance folder or .xlsx workbook."),
    plan: Optional[Path] = typer.Argument(None, help="Plan CSV shaped like allocations.csv: year, programme "
                                "and one of spend_gbp_m / spend_gbp_bn / spend_gbp (cash, in the "
                                "unit its name says); department for programmes with several "
                                "owners; funding=mission_fund for Mission Fund rows. Omit with --proposal."),
    proposal: Optional[Path] = typer.Option(None, "--proposal", "-p", help="Appraise one business "
                                            "case instead of a plan: a CSV of programme, "
                                            "change_gbp_m (real £m a year against baseline), "
                                            "optional year; figures are its increment over "
                                            "the baseline."),
    allow_dip: list[str] = typer.Option([], "--allow-dip", help="Declare a J-curve: MISSION=DEPTH "
                                        "(metric units; '*' for every mission). A dip before the "
                                        "last year deeper than this fails mission critical."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write appraisal.json, "
                                       "constraints.csv and missions.csv to this folder."),
    no_optimal: bool = typer.Option(False, "--no-optimal", help="Skip solving for the optimal plan "
                                    "(no gap reported)."),
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Appraise a spending plan against the mission test without optimising: affordability,
    mission critical, 10-year test, PIE protection, deliverability; pass/fail with figures and
    the gap to the optimal plan. Exit 0 if every test passes, 4 if any fails."""
    from allocator import load_instance
    from allocator.appraise import appraise as run_appraise
    from allocator.appraise import appraise_proposal
    from allocator.errors import AllocatorError

    if (plan is None) == (proposal is None):
        raise AllocatorError("appraise: give a PLAN.csv or --proposal CASE.csv (one of them)")
    dips = {}
    for item in allow_dip:
        mission, _, depth = item.partition("=")
        try:
            dips[mission.strip()] = float(depth)
        except ValueError:
            raise AllocatorError(f"--allow-dip: expected MISSION=DEPTH, got {item!r}") from None
    if out is not None:
        from allocator.output import check_target

        check_target(out)
    with progress_bar(quiet or as_json) as bar:
        task = bar.add_task("appraising", total=2)
        inst = load_instance(instance)
        bar.advance(task)
        if proposal is not None:
            a = appraise_proposal(inst, proposal, optimise=not no_optimal, dip_tolerance=dips or None)
        else:
            a = run_appraise(inst, plan, optimise=not no_optimal, dip_tolerance=dips or None)
        bar.advance(task)
    if out is not None:
        a.write(out)
    if as_json:
        print_json(a.to_dict())
    elif not quiet:
        _print_appraisal(a, out)
    raise typer.Exit(EXIT_OK if a.passed else EXIT_TEST_FAILED)


def _print_appraisal(a, out) -> None:
    from rich.table import Table

    verdict = "[green]PASS[/]" if a.passed else "[red]FAIL[/]"
    console.print(f"[bold]{a.instance_name}[/]: mission test {verdict}")
    t = Table(title="Mission test")
    t.add_column("test")
    t.add_column("result")
    t.add_column("figures")
    for r in a.tests:
        t.add_row(r.name, "[green]pass[/]" if r.passed else "[red]FAIL[/]", r.summary)
    console.print(t)
    t = Table(title=f"Missions (value in {a.objective_unit})")
    for c in ("mission", "final-year gain", "unit", "value", "after horizon", "value per £m"):
        t.add_column(c, justify="left" if c in ("mission", "unit") else "right")
    for r in a.missions.itertuples():
        t.add_row(r.mission, f"{r.gain_final_year:+,.4f}", r.unit, f"{r.value:,.1f}",
                  f"{r.value_terminal:,.1f}", f"{r.value_per_gbp_m:,.4f}")
    console.print(t)
    console.print(f"Plan mission value {a.mission_value:,.1f} {a.objective_unit} (in horizon "
                  f"{a.value_in_horizon:,.1f}, after {a.value_terminal:,.1f})")
    nv = a.net_value or {}
    if nv:
        bcr = "n/a (no extra cost)" if nv.get("bcr") is None else f"{nv['bcr']:,.2f}"
        console.print(f"Net value against the baseline: NPV {nv['npv_gbp_m']:,.1f}, BCR {bcr} "
                      f"(extra cost {nv['extra_cost_gbp_m']:,.1f} real £m discounted, at "
                      f"{nv['cost_of_public_funds']:g} per £)")
    if a.gap is not None:
        console.print(f"Optimal objective {a.optimal_objective:,.1f}; gap to the optimal plan "
                      f"[bold]{a.gap:,.1f}[/] ({a.optimal_status})"
                      + (" — negative: the plan is worth more only because it breaks rules the "
                         "optimum keeps" if a.gap < -1e-6 else ""))
    v = a.violations
    if len(v):
        t = Table(title=f"Breached constraints ({len(v)}; worst first, £m)")
        t.add_column("constraint")
        t.add_column("margin", justify="right")
        for r in v.sort_values("margin_gbp_m").head(20).itertuples():
            t.add_row(r.description, f"{r.margin_gbp_m:,.1f}")
        console.print(t)
    for n in a.notes:
        console.print(f"note: {n}", style="yellow")
    if out is not None:
        console.print(f"appraisal written to {out}/")


@app.command()
def diff(
    run_a: Path = typer.Argument(..., help="First results folder (A)."),
    run_b: Path = typer.Argument(..., help="Second results folder (B)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the change tables, diff.json "
                                       "and diff.png/.svg to this folder."),
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Show what changed between two results folders (B − A): allocations by department,
    mission value and gains, fiscal headroom; as tables and a plot."""
    from rich.table import Table
    from allocator.diff import diff_runs

    if out is not None:
        from allocator.output import check_target

        check_target(out)
    d = diff_runs(run_a, run_b)
    if out is not None:
        d.write(out)
    if as_json:
        print_json(d.to_dict())
        return
    if quiet:
        return
    t = Table(title=f"Headline: {run_a} (A) → {run_b} (B)")
    for c in ("item", "A", "B", "change"):
        t.add_column(c, justify="left" if c == "item" else "right")
    for r in d.headline.itertuples():
        fmt = (lambda v: "–" if v is None or v != v else (f"{v:,.1f}" if isinstance(v, float) else str(v)))
        t.add_row(r.item, fmt(r.a), fmt(r.b), fmt(r.change))
    console.print(t)
    if len(d.departments):
        dep = d.departments
        moved = dep[dep["change_gbp_m"].abs() > 0.05]
        still = dep[dep["change_gbp_m"].abs() <= 0.05]
        t = Table(title=f"Allocation by department, horizon total (cash £m): {len(moved)} of "
                        f"{len(dep)} changed")
        for c in ("department", "A", "B", "change", "%"):
            t.add_column(c, justify="left" if c == "department" else "right", no_wrap=c != "department")
        for r in moved.itertuples():
            t.add_row(r.department, f"{r.a_gbp_m:,.0f}", f"{r.b_gbp_m:,.0f}", f"{r.change_gbp_m:+,.1f}",
                      "–" if r.change_pct != r.change_pct else f"{r.change_pct:+.1f}")
        console.print(t)
        if len(still):
            console.print(f"unchanged (within £0.05m): {', '.join(map(str, still['department']))}")
        t = Table(title="Missions")
        for c in ("mission", "value A", "value B", "change", "final-year gain change"):
            t.add_column(c, justify="left" if c == "mission" else "right")
        for r in d.missions.itertuples():
            t.add_row(r.mission, f"{r.a_value:,.1f}", f"{r.b_value:,.1f}", f"{r.value_change:+,.1f}",
                      f"{r.gain_change:+,.4f}")
        console.print(t)
        h = d.headroom[d.headroom["change_gbp_m"].abs() > 0.05]
        if len(h):
            t = Table(title="Fiscal headroom that changed (cash £m)")
            for c in ("year", "rule", "A", "B", "change"):
                t.add_column(c, justify="left" if c in ("year", "rule") else "right")
            for r in h.head(30).itertuples():
                t.add_row(r.year, r.rule, f"{r.a_gbp_m:,.0f}", f"{r.b_gbp_m:,.0f}", f"{r.change_gbp_m:+,.1f}")
            console.print(t)
            if len(h) > 30:
                console.print(f"... and {len(h) - 30} more rule-years that changed (all in "
                              f"{'headroom.csv with --out' if out is None else f'{out}/headroom.csv'})")
    for n in d.notes:
        console.print(f"note: {n}", style="yellow")
    if out is not None:
        console.print(f"diff written to {out}/")


def write_extras(res, out: Path, *, excel: bool, plots: bool, quiet: bool) -> None:
    """`solve --excel/--plots`: the results workbook and the plots, into the results folder
    being written (before it is swapped in)."""
    if excel:
        from allocator.excel import write_results_workbook

        write_results_workbook(res, Path(out) / "results.xlsx")
    if plots and res.tables:
        from allocator.plots import PLOTS, write_plots
        from allocator.results_dir import from_result

        with progress_bar(quiet) as bar:
            task = bar.add_task("drawing plots", total=len(PLOTS))
            write_plots(from_result(res, out), Path(out) / "plots",
                        progress=lambda name: bar.advance(task))
