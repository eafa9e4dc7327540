"""Solver back-ends (installed as ``allocator.solvers``).

- :class:`HighsBackend` — HiGHS through highspy (default): loads the LP arrays directly,
  keeps the model for warm re-solves after changing bounds or costs.
- :class:`PyomoBackend` — any LP/MIP solver Pyomo can find (GLPK, CBC, ...).
"""

from .base import SolveOutput, SolverStatus
from .highs import HighsBackend
from .pyomo_backend import PyomoBackend, available_pyomo_solvers


def get_backend(name: str = "highs", **options):
    """Back-end by solver name: 'highs' uses highspy; anything else goes through Pyomo."""
    if name.lower() in ("highs", "highspy"):
        return HighsBackend(**options)
    return PyomoBackend(name, **options)


__all__ = ["HighsBackend", "PyomoBackend", "SolveOutput", "SolverStatus", "available_pyomo_solvers",
           "get_backend"]
