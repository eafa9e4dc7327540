"""Sensitivity analysis on trigger events (docs/sensitivity.md).

- :func:`analyse_triggers` — re-plan after shocks of varying timing and severity, earlier
  years fixed to the base plan; loss, who absorbs it, which rules still hold, and the
  smallest relaxation where they cannot.
- :func:`stochastic_plan` — two-stage stochastic settlement on an event tree (extensive
  form on HiGHS): expected value, EVPI, VSS, robust vs deterministic settlement.
- :func:`sweep` — one-at-a-time parameter sweeps in parallel on persistent sessions,
  tornado tables and LP ranging of the base plan.
"""

from .events import EventsError, EventsFile, load_events
from .replan import TriggerAnalysis, analyse_triggers
from .stochastic import StochasticResult, stochastic_plan
from .sweep import SweepResult, sweep  # noqa: E402  (the function shadows the submodule name)

__all__ = ["analyse_triggers", "stochastic_plan", "sweep", "SweepResult", "load_events", "EventsFile", "EventsError",
           "TriggerAnalysis", "StochasticResult"]
