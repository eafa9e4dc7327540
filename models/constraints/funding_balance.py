"""Funding balance of split programmes (family ``funding_balance``; structural).

A programme with two or more owners, or one the Mission Fund may fund, is paid for by
funding columns f[p,d,t] (one per owner) and the Mission Fund's g[p,t]; together they pay
its cash spend exactly:

    Σ_{d ∈ owners(p)} f[p,d,t] + g[p,t] − π_t q[p,t] = 0        p split, every t

The allocation builder forms the matrix with the funding columns (``expr.funding_balance``);
this module adds it as rows. It is a definition, never relaxed or priced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..family import Family, Rows


def add(model) -> None:
    md, e = model.data, model.expr
    split = e.split_programmes
    if not len(split):
        return
    labels = pd.DataFrame({"year": np.tile(md.years, len(split)),
                           "subject": np.repeat([md.programmes[p] for p in split], md.T)})
    model.lp.add_constraints("funding_balance", e.funding_balance, 0.0, 0.0, labels,
                             structural=True)


FAMILY = Family(
    module=__name__, order=0, add=add, check=None,
    rows=(Rows("funding_balance", "funding balance", "the funding balance of {subject} in {year}",
               "relaxed by", test=None, sense="==", structural=True,
               untamperable="a definition: the allocations table has one row per funder, and "
               "a programme's spend is the sum of its rows, so no table can break it"),))
