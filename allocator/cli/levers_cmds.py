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
    import json

    from rich.table import Table

    from allocator import load_instance
    from allocator.levers import lever_values
    from allocator.output import atomic_write_text, write_csv

    res = lever_values(load_instance(resolve_instance(instance)))
    summary = res.summary()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(res.table, out / "levers.csv")
        atomic_write_text(out / "levers.json", json.dumps(summary, indent=2, sort_keys=True,
                                                          default=str) + "\n")
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
