"""Read a results folder written by ``Result.write`` back into tables (for report and diff)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from allocator.errors import AllocatorError
from allocator.results import OPTIONAL_TABLES, TABLE_FILES


class ResultsFolderError(AllocatorError):
    """A results folder is missing or incomplete."""


@dataclass
class ResultsFolder:
    path: Path
    summary: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.summary.get("instance", "?"))

    @property
    def sha(self) -> str:
        return str(self.summary.get("instance_sha256", ""))

    @property
    def has_plan(self) -> bool:
        return "allocations" in self.tables


def load_results_dir(path: str | Path) -> ResultsFolder:
    """summary.json plus whichever result tables exist (an infeasible run has none)."""
    path = Path(path)
    if not path.is_dir():
        raise ResultsFolderError(f"{path}: no such results folder (write one with "
                                 "`allocator solve --out DIR`)")
    sj = path / "summary.json"
    if not sj.is_file():
        raise ResultsFolderError(f"{path}: summary.json not found; not a results folder")
    try:
        summary = json.loads(sj.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ResultsFolderError(f"{sj}: not valid JSON ({e})") from None
    tables = {}
    for name in (*TABLE_FILES, *OPTIONAL_TABLES, "infeasibility"):
        f = path / f"{name}.csv"
        if f.is_file():
            try:
                tables[name] = pd.read_csv(f, keep_default_na=True)
            except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
                raise ResultsFolderError(f"{f}: cannot read table ({e})") from None
    if summary.get("objective") is not None:
        missing = [n for n in TABLE_FILES if n not in tables]
        if missing:
            raise ResultsFolderError(f"{path}: result tables missing: {', '.join(missing)}")
    return ResultsFolder(path, summary, tables)


def from_result(result, path: str | Path | None = None) -> ResultsFolder:
    """A :class:`ResultsFolder` view of an in-memory :class:`allocator.results.Result`."""
    summary = json.loads(json.dumps(result.summary_dict(), default=str))
    tables = dict(result.tables)
    if result.explanation is not None:
        tables["infeasibility"] = result.explanation.relaxations
    return ResultsFolder(Path(path) if path else Path("."), summary, tables)
