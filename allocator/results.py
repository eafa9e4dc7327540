"""Typed results of a solve: status, objective parts, tables, explanation, provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from allocator.explain import InfeasibilityReport
from allocator.output import atomic_dir, write_csv, write_json

TABLE_FILES = ("allocations", "departments", "missions", "fiscal", "shadow_prices")
#: written when present: comprehensive input/output metrics (empty without any); net value
#: (allocator/value.py); lever values. Older results folders lack them.
OPTIONAL_TABLE_FILES = ("metrics", "value_programmes", "value_departments", "marginal_bcr", "levers")
OPTIONAL_TABLES = OPTIONAL_TABLE_FILES


@dataclass
class Result:
    """The outcome of :func:`allocator.solve`: status, objective, tables and provenance.

    ``status`` is one of optimal, infeasible, unbounded, time_limit, iteration_limit,
    check_failed, error (``ok`` is True only for optimal). ``objective`` is the mission
    value (``objective_unit``: £m-equivalent with monetised weights), split into
    ``objective_in_horizon`` and ``objective_terminal``. ``tables`` holds ``allocations``,
    ``departments``, ``missions``, ``fiscal`` and ``shadow_prices`` (pandas DataFrames,
    also as properties; every column is described in docs/outputs.md); ``binding`` the
    binding constraints in words; ``explanation`` the smallest relaxation when infeasible.
    :meth:`write` saves the tables, ``summary.json`` and ``datapackage.json``.

    >>> import tempfile
    >>> from allocator import load_instance, solve, tiny_instance_path
    >>> result = solve(load_instance(tiny_instance_path()))
    >>> result.ok, result.objective_unit
    (True, 'priority points (unitless weights)')
    >>> sorted(result.tables)
    ['allocations', 'departments', 'fiscal', 'missions', 'shadow_prices']
    >>> folder = result.write(tempfile.mkdtemp() + "/run")
    >>> sorted(p.name for p in folder.iterdir())[:3]
    ['allocations.csv', 'datapackage.json', 'departments.csv']
    """

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
    objective_kind: str = "value"  # value | target_cost
    money_unit: str = "gbp_m"  # the unit of the tables' money columns and of a money objective
    net_value: dict | None = None  # NPV, BCR, marginal BCR by year (allocator/value.py)

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
        from allocator.numerics import objective_unit_label

        return objective_unit_label(self.money_unit, self.weights_kind, self.objective_kind)

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
            "objective_kind": self.objective_kind,
            "money_unit": self.money_unit,
            "timings_s": self.timings_s,
        }
        if self.net_value is not None:
            d["net_value"] = self.net_value
        d.update(self.provenance)
        if self.explanation is not None:
            d["infeasibility"] = self.explanation.to_dict()
        if self.binding is not None:
            d["binding_constraints"] = self.binding.drop(columns=["slack", "binding"],
                                                         errors="ignore").to_dict(orient="records")
        return d

    def write(self, out: str | Path, parquet: bool = False) -> Path:
        """Write summary.json, the result tables (CSV; also Parquet with ``parquet=True``, which
        needs pyarrow: ``pip install 'allocator[parquet]'``) and ``datapackage.json`` (their
        column dictionary, docs/outputs.md) atomically into folder ``out``."""
        from allocator.dictionary import write_datapackage
        import time

        t0 = time.perf_counter()
        out = Path(out)
        with atomic_dir(out) as tmp:
            for name in (*TABLE_FILES, *OPTIONAL_TABLE_FILES):
                if name in self.tables:
                    write_csv(self.tables[name], tmp / f"{name}.csv")
            if self.explanation is not None:
                write_csv(self.explanation.relaxations, tmp / "infeasibility.csv")
            written = {n: self.tables[n] for n in (*TABLE_FILES, *OPTIONAL_TABLE_FILES)
                       if n in self.tables}
            if self.explanation is not None:
                written["infeasibility"] = self.explanation.relaxations
            if parquet:
                from allocator.output import write_parquet

                for name, df in written.items():
                    write_parquet(df, tmp / f"{name}.parquet")
            write_datapackage(tmp, "solve", written)
            self.timings_s["write"] = round(time.perf_counter() - t0, 6)
            write_json(self.summary_dict(), tmp / "summary.json")
        return out
