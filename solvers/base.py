"""What every back-end returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

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
