"""allocator: a mission-led UK Spending Review allocation engine.

    from allocator import load_instance, solve
    result = solve(load_instance("instances/uk_missions"))
    result.allocations  # pandas DataFrame

    m = build("instances/uk_missions")   # build -> add_constraint -> solve (README "Extending")
"""

__version__ = "0.1.0"

from allocator.api import build, default_instance_path, solve, tiny_instance_path  # noqa: E402
from allocator.errors import AllocatorError, InstanceError  # noqa: E402
from allocator.modelling import Model  # noqa: E402
from allocator.io import instance_sha256, load_instance  # noqa: E402
from allocator.results import Result  # noqa: E402
from allocator.schema import Instance  # noqa: E402
from allocator.sensitivity import analyse_triggers, stochastic_plan, sweep  # noqa: E402
from allocator.cycles import compare_cycles  # noqa: E402
from allocator.evidence import run_uncertainty  # noqa: E402

__all__ = ["AllocatorError", "Instance", "InstanceError", "Model", "Result", "analyse_triggers", "build",
           "compare_cycles", "default_instance_path", "instance_sha256", "load_instance", "run_uncertainty",
           "solve", "stochastic_plan", "sweep", "tiny_instance_path", "__version__"]
