"""Read a results folder written by ``Result.write`` back into tables (for report and diff).

This is a reading edge for money units: whatever unit the folder was written in, a
:class:`ResultsFolder` holds its tables and objective in £m with ``_gbp_m`` column names
(:func:`allocator.numerics.tables_to_gbp_m`), so report, diff and plots never need to know
the unit; ``summary["money_unit_written"]`` keeps the unit the files are in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from allocator.errors import AllocatorError
from allocator.results import OPTIONAL_TABLE_FILES, TABLE_FILES


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
    for name in (*TABLE_FILES, *OPTIONAL_TABLE_FILES, "infeasibility"):
        f = path / f"{name}.csv"
        if f.is_file():
            try:
                tables[name] = pd.read_csv(f, keep_default_na=True)
            except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
                raise ResultsFolderError(f"{f}: cannot read table ({e})") from None
    if not isinstance(summary, dict):
        raise ResultsFolderError(f"{sj}: expected a JSON object")
    if summary.get("objective") is not None:
        missing = [n for n in TABLE_FILES if n not in tables]
        if missing:
            raise ResultsFolderError(f"{path}: result tables missing: {', '.join(missing)}")
    return _in_gbp_m(path, summary, tables)


def _in_gbp_m(path: Path, summary: dict, tables: dict) -> ResultsFolder:
    from allocator.numerics import UNIT_FACTORS, summary_to_gbp_m, tables_to_gbp_m

    unit = summary.get("money_unit", "gbp_m")
    if unit not in UNIT_FACTORS:
        raise ResultsFolderError(f"{path / 'summary.json'}: field 'money_unit': {unit!r} is not "
                                 f"one of {sorted(UNIT_FACTORS)}")
    tables = tables_to_gbp_m(tables, unit, summary.get("weights_kind", "priority"),
                             summary.get("objective_kind", "value"))
    return ResultsFolder(path, summary_to_gbp_m(summary), tables)


def from_result(result, path: str | Path | None = None) -> ResultsFolder:
    """A :class:`ResultsFolder` view of an in-memory :class:`allocator.results.Result`."""
    summary = json.loads(json.dumps(result.summary_dict(), default=str))
    tables = dict(result.tables)
    if result.explanation is not None:
        tables["infeasibility"] = result.explanation.relaxations
    return _in_gbp_m(Path(path) if path else Path("."), summary, tables)
