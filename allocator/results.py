"""Typed results of a solve: status, objective parts, tables, explanation, provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from allocator.explain import InfeasibilityReport
from allocator.output import results_folder, write_csv, write_json

TABLE_FILES = ("allocations", "departments", "missions", "fiscal", "shadow_prices")


@dataclass
class Result:
    status: str  # optimal | infeasible | unbounded | time_limit | error
    instance_name: str
    weights_kind: str
    objective: float | None = None
    objective_in_horizon: float | None = None
    objective_terminal: float | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    binding: pd.DataFrame | None = None
    explanation: InfeasibilityReport | None = None
    message: str = ""
    provenance: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)

    # convenient table access
    @property
    def allocations(self) -> pd.DataFrame:
        return self.tables["allocations"]

    @property
    def departments(self) -> pd.DataFrame:
        return self.tables["departments"]

    @property
    def missions(self) -> pd.DataFrame:
        return self.tables["missions"]

    @property
    def fiscal(self) -> pd.DataFrame:
        return self.tables["fiscal"]

    @property
    def shadow_prices(self) -> pd.DataFrame:
        return self.tables["shadow_prices"]

    @property
    def ok(self) -> bool:
        return self.status == "optimal"

    @property
    def objective_unit(self) -> str:
        return "£m-equivalent (monetised weights)" if self.weights_kind == "monetised" else \
            "priority points (unitless weights)"

    def summary_dict(self) -> dict:
        d = {
            "instance": self.instance_name,
            "status": self.status,
            "message": self.message,
            "objective": self.objective,
            "objective_in_horizon": self.objective_in_horizon,
            "objective_terminal": self.objective_terminal,
            "objective_unit": self.objective_unit,
            "weights_kind": self.weights_kind,
            "timings_s": self.timings_s,
        }
        d.update(self.provenance)
        if self.explanation is not None:
            d["infeasibility"] = self.explanation.to_dict()
        if self.binding is not None:
            d["binding_constraints"] = self.binding.drop(columns=["slack", "binding"],
                                                         errors="ignore").to_dict(orient="records")
        return d

    def write(self, out: str | Path, extras=None) -> Path:
        """Write summary.json and the result tables into folder ``out``, replacing it whole
        (see :mod:`allocator.output`); ``extras(folder)`` adds more files to the same run
        before it is swapped in (the workbook, the plots)."""
        import time

        t0 = time.perf_counter()
        out = Path(out)
        with results_folder(out, "solve") as tmp:
            if extras is not None:
                extras(tmp)
            for name in TABLE_FILES:
                if name in self.tables:
                    write_csv(self.tables[name], tmp / f"{name}.csv")
            if self.explanation is not None:
                write_csv(self.explanation.relaxations, tmp / "infeasibility.csv")
            self.timings_s["write"] = round(time.perf_counter() - t0, 6)
            write_json(self.summary_dict(), tmp / "summary.json")
        return out
