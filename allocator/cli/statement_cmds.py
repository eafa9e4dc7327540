"""`allocator statement`: the mission impact statement (HTML + PDF) for a mission council."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from allocator.cli import app
from allocator.cli.common import console, print_json


@app.command()
def statement(
    plan: Path = typer.Argument(..., help="Results folder of the plan (written by `allocator solve --out`)."),
    against: Optional[Path] = typer.Option(None, "--against", "-a", help="Results folder to compare "
                                           "with (the plan before, the case without the business case). "
                                           "Default: the plan's own baseline."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for statement.html, statement.pdf, "
                             "statement.json, the tables and datapackage.json."),
    title: Optional[str] = typer.Option(None, "--title", help="Title of the statement."),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="HTML only (the PDF needs Chromium)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    as_json: bool = typer.Option(False, "--json", help="Print the statement's summary as JSON."),
) -> None:
    """Write a mission impact statement: a one-page summary in plain words, each core metric
    against the reference, each department's change in cash and real terms, NPV/BCR where
    computed, headroom against each fiscal rule, assumptions and caveats (the weights in
    words) and a technical annex; as one self-contained HTML page and the PDF printed from it."""
    from allocator.statement import impact_statement, write_statement

    write_statement(plan, out, against=against, pdf=not no_pdf, title=title)
    if as_json:
        print_json(impact_statement(plan, against, title).to_dict())
    elif not quiet:
        files = ", ".join(sorted(p.name for p in Path(out).iterdir()))
        console.print(f"wrote {out}/: {files}")
