"""`allocator uncertainty`: evidence uncertainty — PSA, EVPI/EVPPI and a robust plan."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from allocator.cli import EXIT_OK, app
from allocator.cli.common import console, err_console, print_json, resolve_instance


@app.command()
def uncertainty(
    instance: Optional[Path] = typer.Argument(None, help="Instance folder (default: the shipped "
                                              "uk_missions)."),
    evidence: Optional[Path] = typer.Option(None, "--evidence", "-e", help="Evidence YAML (uncertain "
                                            "parameters). Default: the instance's evidence.yaml."),
    draws: int = typer.Option(1000, "--draws", "-n", help="Number of parameter draws."),
    seed: int = typer.Option(0, "--seed", help="Random seed (every plan is valued on the same draws)."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel worker processes (joblib/loky)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write tables, plots, the report "
                                       "section and summary.json here (also holds the progress log)."),
    no_evppi: bool = typer.Option(False, "--no-evppi", help="Skip EVPPI (one LP per draw and group)."),
    cvar_weight: float = typer.Option(0.0, "--cvar-weight", help="Weight λ of the CVaR guard in the "
                                      "robust plan (0 = maximise expected value only)."),
    cvar_alpha: float = typer.Option(0.05, "--cvar-alpha", help="CVaR level: the worst share of draws."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="dask.distributed scheduler "
                                            "address (tcp://host:8786) instead of local processes."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Write tables only."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in --out."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Probabilistic sensitivity analysis of the plan under uncertain effect sizes, lags and
    mission weights; the value of perfect information (EVPI) and of evidence on each parameter
    group (EVPPI); a robust plan over the draws (see docs/uncertainty.md)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from allocator.errors import AllocatorError
    from allocator.evidence import run_uncertainty
    from allocator.runlog import resume_command

    if resume and out is None:
        raise AllocatorError("--resume needs --out (the folder holding the progress log)")
    path = Path(resolve_instance(instance))
    if evidence is None:
        evidence = (path if path.is_dir() else path.parent) / "evidence.yaml"
        if not evidence.is_file():
            raise AllocatorError(f"{path}: no evidence.yaml in the instance folder; give --evidence FILE")
    show = not (quiet or as_json)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=err_console, disable=not show, transient=True)
    tasks: dict = {}

    def progress(stage, done, total):
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    try:
        with bar:
            res = run_uncertainty(path, evidence, draws=draws, seed=seed, jobs=jobs, out=out,
                                  resume=resume, evppi=not no_evppi, cvar_weight=cvar_weight,
                                  cvar_alpha=cvar_alpha, scheduler=scheduler, plots=not no_plots,
                                  progress=progress)
    except KeyboardInterrupt:
        if out is not None:
            err_console.print(f"interrupted: finished units are saved in {out}/progress.jsonl\n"
                              f"resume with: {resume_command()}", style="yellow", soft_wrap=True)
        raise
    m = res.meta
    if as_json:
        print_json({"evpi": m["evpi"], "evppi": m["evppi"], "plans": m["plans"],
                    "expected_optimum_value": m["expected_optimum_value"],
                    "point_share_of_optimum_mean": m["point_share_of_optimum_mean"],
                    "value_unit": m["value_unit"], "draws": m["draws"], "seed": m["seed"],
                    "timings": m["timings"], "out": None if out is None else str(out)})
    elif not quiet:
        from allocator.evidence.report import markdown

        console.print(markdown(res), markup=False, highlight=False)
        t = m["timings"]
        console.print(f"{t['lp_solves']} LP solves in {t['seconds']:.1f} s")
        if out is not None:
            console.print(f"results written to {out}/")
    raise typer.Exit(EXIT_OK)
