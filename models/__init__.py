"""Mathematical programs (installed as ``allocator.models``): model code only, no file I/O.

- :mod:`.lp` — a small sparse LP assembler with named variable and constraint blocks.
- :mod:`.data` — arrays derived from an :class:`~allocator.schema.Instance`.
- :mod:`.allocation` — the core allocation LP (``docs/formulation.md``), built from
  the constraint families in :mod:`.constraints` and the objective in :mod:`.objective`.
"""

from .allocation import AllocationModel, build_allocation_model
from .lp import LinearProgram

__all__ = ["AllocationModel", "LinearProgram", "build_allocation_model"]
