"""User-facing errors: each names the file, the row or field, and the bad value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an instance."""

    file: str
    where: str  # "row 7, field 'width_gbp_m'" or "field 'horizon.years'"
    value: object
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message} (value: {self.value!r})"


class AllocatorError(Exception):
    """Base class for errors the CLI reports without a traceback (exit code 1)."""


class InstanceError(AllocatorError):
    """An instance failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"invalid instance: {len(self.problems)} problem(s)\n{lines}{more}")


class SolverUnavailable(AllocatorError):
    """The requested solver is not installed."""
