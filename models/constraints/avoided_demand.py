"""Demand avoided by invest to save inside DEL (families ``avoided_demand_definition`` and
``spend_non_negative``; structural).

Prevention programme s spending above its baseline avoids demand on target programme r
(invest_to_save.csv, σ_sr real £m per real £m, spread by s's lag profile ℓ_s):

    v[r,t] − Σ_{(s,r)} σ_sr Σ_{τ<=t} ℓ_s[t−τ] q[s,τ] = − Σ_{(s,r)} σ_sr Σ_{τ<=t} ℓ_s[t−τ] b_s
                                                           (avoided_demand_definition)
    q[r,t] >= 0                                            (spend_non_negative)

for every target r and year t. Real spend of a target is q[r,t] = Λ[r,t] Σ_i x[i,t] − v[r,t]
(models/allocation.py), so x >= 0 alone no longer keeps it non-negative. The allocation
builder forms the matrices (``expr.avoided_definition``, ``expr.q``); this module adds them.
Both are definitions, never relaxed or priced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..family import Family, Rows
from ._labels import rows_for


def add(model) -> None:
    md, e = model.data, model.expr
    targets = md.its_targets
    if not len(targets):
        return
    labels = pd.DataFrame({"year": np.tile(md.years, len(targets)),
                           "subject": np.repeat([md.programmes[r] for r in targets], md.T)})
    rhs = e.avoided_definition_rhs
    model.lp.add_constraints("avoided_demand_definition", e.avoided_definition, rhs, rhs, labels,
                             structural=True)
    model.lp.add_constraints("spend_non_negative", e.q[rows_for(targets, md.T)], 0.0, np.inf,
                             labels, structural=True)


FAMILY = Family(
    module=__name__, order=1, add=add, check=None,
    rows=(Rows("avoided_demand_definition", "avoided-demand definitions",
               "the demand avoided on {subject} in {year}", "relaxed by", test=None, sense="==",
               structural=True,
               untamperable="a definition: avoided demand is computed from the prevention "
               "programmes' spend in the plan, so no table can break it"),
          Rows("spend_non_negative", "non-negative spend", "non-negative spend on {subject} in {year}",
               "lowered by", test=None, sense=">=", structural=True,
               untamperable="a plan with negative spend is refused when it is read, and the "
               "checker's non_negative rule covers every allocation row")))
