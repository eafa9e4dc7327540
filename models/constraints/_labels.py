"""Row labels shared by the constraint families."""

import numpy as np
import pandas as pd


def by_subject_year(subjects, years, category="") -> pd.DataFrame:
    """Labels for rows ordered subject-major, year-minor (row = s*T + t)."""
    subjects, years = list(subjects), list(years)
    return pd.DataFrame({"year": np.tile(years, len(subjects)),
                         "subject": np.repeat(subjects, len(years)),
                         "category": category})


def rows_for(indices, T: int) -> np.ndarray:
    """Row numbers s*T + t for every s in ``indices`` and every t."""
    indices = np.asarray(indices, dtype=int)
    return (indices[:, None] * T + np.arange(T)[None, :]).ravel()
