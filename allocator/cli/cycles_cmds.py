"""`allocator cycles`: compare Spending Review settlement lengths over sampled economic paths."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from allocator.cli import EXIT_OK, app
from allocator.cli.common import console, err_console, print_json, resolve_instance
from allocator.errors import AllocatorError


def _lengths(text: str) -> list[int]:
    try:
        out = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise AllocatorError(f"--cycles must be comma-separated whole years like 1,4,5, "
                             f"not {text!r}") from None
    if not out or any(not 1 <= v <= 10 for v in out):
        raise AllocatorError(f"--cycles values must be 1..10 years, got {text!r}")
    return out


@app.command()
def cycles(
    instance: Optional[Path] = typer.Argument(None, help="Instance folder (default: the shipped "
                                              "uk_missions)."),
    cycle_lengths: str = typer.Option("1,2,3,4,5", "--cycles", help="Settlement lengths to compare "
                                      "(years, comma-separated)."),
    paths: int = typer.Option(100, "--paths", help="Number of sampled economic paths."),
    seed: int = typer.Option(0, "--seed", help="Random seed (every regime sees the same paths)."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel worker processes (joblib/loky)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write tables, plots and "
                                       "summary.json here (also holds the progress log)."),
    indicative: int = typer.Option(0, "--indicative", help="Indicative years after each settlement."),
    capital_plan: int = typer.Option(0, "--capital-plan", help="Length of an indicative capital "
                                     "plan (years, e.g. 10); 0 = none."),
    no_triggers: bool = typer.Option(False, "--no-triggers", help="Switch trigger events off."),
    no_budgets: bool = typer.Option(False, "--no-budgets", help="No annual Budget corrections "
                                    "between reviews."),
    no_unique_plan: bool = typer.Option(False, "--no-unique-plan", help="Skip the second stage "
                                        "(one plan from the optimal face) after each re-plan: "
                                        "about 10× faster, settlements arbitrary among optima."),
    no_shocks: bool = typer.Option(False, "--no-shocks", help="No economic uncertainty."),
    no_certainty: bool = typer.Option(False, "--no-certainty", help="No certainty effects."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="dask.distributed scheduler "
                                            "address (tcp://host:8786) instead of local processes."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in --out."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Compare 1-year against multi-year Spending Review settlements over uncertain economic
    paths, with trigger events that reopen a review (see docs/cycles.md)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    from allocator import load_instance
    from allocator.cycles import compare_cycles

    lengths = _lengths(cycle_lengths)
    if resume and out is None:
        raise AllocatorError("--resume needs --out (the folder holding the progress log)")
    inst = load_instance(resolve_instance(instance))
    show = not (quiet or as_json)
    bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, disable=not show)
    try:
        with bar:
            task = bar.add_task("simulating paths", total=paths)
            res = compare_cycles(inst, lengths, paths=paths, seed=seed, jobs=jobs,
                                 indicative_years=indicative, capital_plan_years=capital_plan,
                                 triggers=not no_triggers, budgets=not no_budgets,
                                 unique_plan=False if no_unique_plan else None, shocks=not no_shocks,
                                 certainty=not no_certainty, scheduler=scheduler, out=out,
                                 resume=resume, progress=lambda d, n: bar.update(task, completed=d))
    except KeyboardInterrupt:
        if out is not None:
            from allocator.runlog import resume_command

            err_console.print(f"interrupted: finished paths are saved in "
                              f"{out}/.allocator-partial/progress.jsonl\n"
                              f"resume with: {resume_command()}", style="yellow", soft_wrap=True)
        raise
    table = res.comparison()
    if as_json:
        diffs = res.differences[res.differences["measure"] == "net_value_gbp_m"]
        print_json({"comparison": table.reset_index().to_dict(orient="records"),
                    "net_value_difference": diffs.to_dict(orient="records"),
                    "base_regime": res.meta["base_regime"], "timings": res.meta["timings"],
                    "out": None if out is None else str(out)})
    elif not quiet:
        _print(res, table, out)
    raise typer.Exit(EXIT_OK)


def _print(res, table, out) -> None:
    """Measures as rows, regimes as columns (five regimes fit in 80 columns); number cells never
    wrap or get cut (min_width = the widest figure), only the measure names may wrap."""
    from rich import box
    from rich.table import Table

    unit = res.meta["value_unit"]
    t = Table(title=f"Spending Review regimes on {res.meta['paths']} paths (means; value in {unit})",
              box=box.SIMPLE_HEAD, padding=(0, 1))
    heads = {"mission_value_gbp_m": "mission value", "net_value_gbp_m": "net of review costs",
             "breaches": "forecast rule breaches", "breach_gbp_m": "breach £m",
             "outturn_misses": "outturn misses", "budget_volatility_pct":
             "budget volatility %", "reviews": "reviews", "triggered_reviews": "triggered reviews",
             "pie_share_final": "PIE share (final)"}

    def cell(c, v):
        return (f"{v:.1%}" if c == "pie_share_final" else
                f"{v:,.2f}" if c in ("breaches", "outturn_misses", "budget_volatility_pct", "reviews",
                                     "triggered_reviews")
                else f"{v:,.0f}")

    cells = {reg: [cell(c, v) for c, v in row.items()] for reg, row in table.iterrows()}
    t.add_column("measure", overflow="fold", min_width=12)
    for reg, col in cells.items():
        t.add_column(str(reg), justify="right", no_wrap=True,
                     min_width=max(len(str(reg)), *(len(x) for x in col)))
    for i, c in enumerate(table.columns):
        t.add_row(heads.get(c, c), *(cells[reg][i] for reg in cells))
    console.print(t)
    base = res.meta["base_regime"]
    d = res.differences[res.differences["measure"] == "net_value_gbp_m"]
    if len(d):
        t = Table(title=f"Net mission value against {base}: paired difference, 95% confidence interval")
        for c in ("regime", "mean difference", "95% CI"):
            t.add_column(c, justify="right" if c != "regime" else "left", no_wrap=c != "regime")
        for r in d.itertuples():
            t.add_row(r.regime, f"{r.mean_difference:+,.0f}", f"[{r.ci95_low:+,.0f}, {r.ci95_high:+,.0f}]")
        console.print(t)
    tm = res.meta["timings"]
    console.print(f"{tm['paths_run']} paths in {tm['seconds']:.1f} s"
                  + (f" ({tm['paths_per_second']:.2f} paths/s, {tm['replans']} re-plans, "
                     f"{1000 * tm['seconds_per_replan']:.1f} ms each)" if tm["replans"] else ""))
    if out is not None:
        console.print(f"results written to {out}/")
