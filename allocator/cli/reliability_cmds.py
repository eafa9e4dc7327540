"""`allocator verify RESULTS_DIR`: re-check a results folder against its instance."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from allocator.cli import EXIT_NO_PLAN, EXIT_OK, app
from allocator.cli.common import console, print_json


@app.command()
def verify(
    results_dir: Path = typer.Argument(..., help="A results folder written by 'allocator solve --out'."),
    instance: Optional[Path] = typer.Option(None, "--instance", "-i",
                                            help="Instance folder (default: the one recorded in "
                                            "summary.json)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing; the exit code says it."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Re-check saved results: instance hash, money unit, every rule recomputed from the
    tables, and the objective. Exit 0 if all hold, 2 if any fails, 1 on unreadable input."""
    from allocator.verify import verify_results

    rep = verify_results(results_dir, instance)
    if as_json:
        print_json(rep.to_dict())
    elif not quiet:
        style = "green" if rep.ok else "red"
        console.print(f"[{style}]{'verified' if rep.ok else 'FAILED'}[/]: {results_dir} "
                      f"(status {rep.status}) against {rep.instance_path}")
        console.print(f"  instance hash {'matches' if rep.hash_ok else 'DIFFERS'}; money unit "
                      f"{'matches' if rep.unit_ok else 'DIFFERS'}")
        for p in rep.problems:
            console.print(f"  - {p}")
        if rep.check is not None:
            console.print("  " + rep.check.text().replace("\n", "\n  "))
        elif not rep.problems:
            console.print("  no plan in this folder (status says none was found): nothing to check")
    raise typer.Exit(EXIT_OK if rep.ok else EXIT_NO_PLAN)
