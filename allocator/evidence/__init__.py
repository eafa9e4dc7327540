"""Evidence uncertainty: uncertain effect sizes, lags and weights (``evidence.yaml``),
probabilistic sensitivity analysis, EVPI/EVPPI and a robust plan (docs/uncertainty.md)."""

from .run import UncertaintyResult, run_uncertainty
from .schema import Evidence, as_evidence, load_evidence

__all__ = ["Evidence", "UncertaintyResult", "as_evidence", "load_evidence", "run_uncertainty"]
