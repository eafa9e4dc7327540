"""`allocator sensitivity`: trigger-event re-plans, two-stage settlement, parameter sweeps."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from allocator.cli import EXIT_INPUT, EXIT_OK, app
from allocator.cli.common import console, err_console, print_json, resolve_instance

INSTANCE_HELP = "Instance folder (instance.yaml + CSV tables). Default: the shipped uk_missions."


@app.command()
def sensitivity(
    instance: Optional[Path] = typer.Argument(None, help=INSTANCE_HELP),
    events: Optional[Path] = typer.Option(None, "--events", "-e", help="Events YAML (library, "
                                          "re-plan grid, event tree). Default: the instance's "
                                          "events.yaml if it has one."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for tables, plots and summary.json."),
    analyses: str = typer.Option("replan,stochastic,sweep", "--analyses", "-a",
                                 help="Comma-separated subset of: replan, stochastic, sweep."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Parallel workers for the sweep (joblib)."),
    resume: bool = typer.Option(False, "--resume", help="Skip sweep units already recorded in "
                                "OUT/.allocator-partial/sweep_progress.jsonl by an interrupted run."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Write tables only."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Sensitivity on trigger events: re-plan after shocks (earlier years fixed), a two-stage
    stochastic settlement on an event tree (EVPI, VSS), and one-at-a-time parameter sweeps
    with tornado and LP ranging. Writes tidy CSVs, plots and summary.json to --out."""
    from allocator import load_instance
    from allocator.errors import AllocatorError
    from allocator.runlog import interruptible, resume_command
    from allocator.sensitivity.report import ANALYSES, run_sensitivity

    chosen = [a.strip() for a in analyses.split(",") if a.strip()]
    bad = [a for a in chosen if a not in ANALYSES]
    if bad or not chosen:
        err_console.print(f"[red]error:[/] --analyses: unknown {bad or chosen!r}; choose from "
                          f"{', '.join(ANALYSES)}")
        raise typer.Exit(EXIT_INPUT)
    path = resolve_instance(instance)
    inst = load_instance(path)
    if events is None and (Path(path) / "events.yaml").exists():
        events = Path(path) / "events.yaml"
    if events is None and any(a in chosen for a in ("replan", "stochastic")):
        raise AllocatorError(f"{path}: no events.yaml in the instance folder; give --events FILE "
                             "(or --analyses sweep)")
    if not quiet and not as_json:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err_console, transient=True)
        tasks: dict = {}

        def progress(name, i, n):
            if name not in tasks:
                tasks[name] = prog.add_task(name, total=n)
            prog.update(tasks[name], completed=i, total=n)
    else:
        prog, progress = None, None
    try:
        with interruptible(resume_command=resume_command()):
            if prog is not None:
                with prog:
                    summary = run_sensitivity(inst, events, out, analyses=chosen, n_jobs=jobs,
                                              resume=resume, plots=not no_plots, progress=progress)
            else:
                summary = run_sensitivity(inst, events, out, analyses=chosen, n_jobs=jobs,
                                          resume=resume, plots=not no_plots)
    except KeyboardInterrupt:
        err_console.print(f"finished sweep units are in "
                          f"{out}/.allocator-partial/sweep_progress.jsonl")
        raise
    if as_json:
        print_json(summary)
    elif not quiet:
        _print(summary, out)
    raise typer.Exit(EXIT_OK)


def _fmt(v) -> str:
    return f"{v:,.1f}" if isinstance(v, (int, float)) else str(v)


def _print(s: dict, out: Path) -> None:
    console.print(f"[bold]{s['instance']}[/]: sensitivity ({', '.join(s['analyses'])}); "
                  f"values in {s['objective_unit']}")
    if "replan" in s:
        r = s["replan"]
        console.print(f"re-plans: {r['scenarios']} scenarios, {r['infeasible_scenarios']} where the "
                      f"rules cannot be met (see relaxations.csv); base value {_fmt(r['base_objective'])}")
        for ev, loss in r["mean_loss_by_event"].items():
            console.print(f"  mean loss, {ev}: {_fmt(loss)}")
    st = s.get("stochastic", {})
    if "recourse_value" in st:
        console.print(f"two-stage settlement (trigger {st['trigger_year']}): expected value "
                      f"{_fmt(st['recourse_value'])}, EVPI {_fmt(st['evpi'])}, VSS {_fmt(st['vss'])} "
                      f"(vs the base plan {_fmt(st['vss_vs_base'])})")
    elif "status" in st:
        console.print(f"two-stage settlement: {st['status']}")
    if "sweep" in s:
        w = s["sweep"]
        console.print(f"sweep: {w['units']} one-at-a-time units ({w['infeasible_units']} infeasible); "
                      "largest swings: " + ", ".join(f"{d['parameter']} {_fmt(d['swing'])}"
                                                     for d in w["largest_swings"]))
    console.print(f"results written to {out}/")
