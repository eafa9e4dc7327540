"""Spending Review cycles: compare settlement lengths over uncertain economic paths.

    from allocator import compare_cycles, load_instance
    res = compare_cycles(load_instance("instances/uk_missions"), cycles=[1, 4, 5], paths=200, seed=7)
    res.summary, res.differences, res.paths, res.years   # pandas DataFrames

See docs/cycles.md for the model.
"""

from .compare import CyclesResult, compare_cycles
from .regime import Regime
from .settings import UncertaintySettings, uncertainty_settings

__all__ = ["CyclesResult", "Regime", "UncertaintySettings", "compare_cycles", "uncertainty_settings"]
