"""`allocator levers`: what the mission machinery is worth (allocator/levers.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from allocator.cli import EXIT_NO_PLAN, EXIT_OK, app
from allocator.cli.common import console, print_json, resolve_instance


@app.command()
def levers(
    instance: Optional[Path] = typer.Argument(None, help="Instance folder or .xlsx (default: the "
                                              "shipped uk_missions)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write levers.csv and levers.json "
                                       "here (a results folder: `allocator report` then shows them)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Siloed departmental planning against mission-led planning, and the value of each lever
    (the 10-year test and every constraint-family switch), all valued with the instance's own
    mission value. Exit 0, or 2 if the mission-led plan is infeasible."""

    from rich.table import Table

    from allocator import load_instance
    from allocator.levers import lever_values
    from allocator.output import (atomic_file, atomic_write_text, check_target, is_results_folder,
                                  json_text, results_folder, write_csv)

    target = check_target(out) if out is not None else None  # refused before any solving
    res = lever_values(load_instance(resolve_instance(instance)))
    summary = res.summary()
    if target is not None and target.is_dir() and is_results_folder(target):
        # an existing results folder gains a levers section (each file written atomically)
        with atomic_file(target / "levers.csv") as tmp:
            write_csv(res.table, tmp)
        atomic_write_text(target / "levers.json", json_text(summary) + "\n")
    elif target is not None:  # a new folder of its own, written whole
        with results_folder(target, "levers") as work:
            write_csv(res.table, work / "levers.csv")
            atomic_write_text(work / "levers.json", json_text(summary) + "\n")
    if as_json:
        print_json(summary)
    elif not quiet:
        f = lambda v: "—" if v is None else f"{v:,.1f}"  # noqa: E731
        console.print(f"mission-led {f(res.mission_led)}; siloed {f(res.siloed)} "
                      f"({res.siloed_status}); siloed but long-term {f(res.siloed_long_term)}")
        t = Table(title="Value of each lever (mission value with − without)")
        for c in ("lever", "without it", "value of the lever"):
            t.add_column(c, justify="left" if c == "lever" else "right")
        for r in res.table.itertuples():
            t.add_row(r.lever, f(r.value_without), f(r.value_of_lever))
        console.print(t)
    raise typer.Exit(EXIT_OK if res.mission_led is not None else EXIT_NO_PLAN)
