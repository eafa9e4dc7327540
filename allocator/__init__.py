"""allocator: a mission-led UK Spending Review allocation engine.

    from allocator import load_instance, solve
    result = solve(load_instance("instances/uk_missions"))
    result.allocations  # pandas DataFrame

    m = build("instances/uk_missions")   # build -> add_constraint -> solve (README "Extending")

The public names are imported on first use (PEP 562 module ``__getattr__``), so that
``import allocator`` — and every ``allocator.<submodule>`` import, which runs this file
first — costs nothing: ``allocator solve`` never loads the sensitivity, cycles or evidence
packages it does not use. ``from allocator import compare_cycles`` works as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# public name -> the module that defines it
_LAZY = {
    "build": "allocator.api", "default_instance_path": "allocator.api", "solve": "allocator.api",
    "tiny_instance_path": "allocator.api",
    "AllocatorError": "allocator.errors", "InstanceError": "allocator.errors",
    "Model": "allocator.modelling",
    "instance_sha256": "allocator.io", "load_instance": "allocator.io",
    "Result": "allocator.results",
    "Instance": "allocator.schema",
    "analyse_triggers": "allocator.sensitivity", "stochastic_plan": "allocator.sensitivity",
    "sweep": "allocator.sensitivity",
    "compare_cycles": "allocator.cycles",
    "run_uncertainty": "allocator.evidence",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    """Import a public name from its module on first access (then cache it here); a
    submodule (``allocator.api`` after a bare ``import allocator``, as the eager imports
    used to provide) is imported on first access too."""
    mod = _LAZY.get(name)
    if mod is None:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
        raise AttributeError(f"module 'allocator' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from allocator.api import build, default_instance_path, solve, tiny_instance_path  # noqa: F401
    from allocator.cycles import compare_cycles  # noqa: F401
    from allocator.errors import AllocatorError, InstanceError  # noqa: F401
    from allocator.evidence import run_uncertainty  # noqa: F401
    from allocator.io import instance_sha256, load_instance  # noqa: F401
    from allocator.modelling import Model  # noqa: F401
    from allocator.results import Result  # noqa: F401
    from allocator.schema import Instance  # noqa: F401
    from allocator.sensitivity import analyse_triggers, stochastic_plan, sweep  # noqa: F401

