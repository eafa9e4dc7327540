"""What every back-end returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np


class SolverStatus(str, Enum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    ERROR = "error"


@dataclass
class SolveOutput:
    status: SolverStatus
    raw_status: str
    objective: float | None  # c·x (without the model constant)
    x: np.ndarray | None
    row_activity: np.ndarray | None
    row_dual: np.ndarray | None  # d(objective)/d(row bound), sign-normalised for maximisation
    col_dual: np.ndarray | None
    solve_s: float
    iterations: int = 0
    solver: str = ""
    solver_version: str = ""
    best_bound: float | None = None
    gap: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.x is not None


class Solver(Protocol):
    """What the engine asks of a loaded solver (``HighsBackend`` implements all of it; the
    Pyomo back-end only ``load``/``solve``). Sessions, cycles and sensitivity use these
    methods and never the solver's own object, so a back-end can be swapped.

    Rows and columns are indices of the loaded :class:`models.lp.LinearProgram`; costs are in
    the model's objective units (a back-end that rescales costs does so itself)."""

    def load(self, lp, integrality: np.ndarray | None = None) -> None: ...
    def solve(self) -> SolveOutput: ...
    def set_row_bounds(self, rows, lower, upper) -> None: ...
    def set_col_bounds(self, cols, lower, upper) -> None: ...
    def set_costs(self, cols, cost) -> None: ...
    def change_coefficients(self, rows, cols, values) -> None: ...
    def add_columns(self, cost, lower, upper, rows, values) -> None: ...
    def get_basis(self): ...
    def set_basis(self, basis) -> None: ...
    def clear_solution(self) -> None: ...
    def set_option(self, name: str, value) -> None: ...
    def ranging(self) -> dict: ...
