"""The welfare cap (family ``welfare_cap``).

Welfare spending inside the cap is the forecast W_t less invest-to-save savings:

    W_t − sav_t <= cap_t          in the enforced years (default: every year)

    sav_t = Σ_p a_p π_t Σ_{τ<=t} ℓ_p[t−τ] (q[p,τ] − b_p)

a_p is real AME saved per real £m spent above baseline, ℓ_p the programme's lag profile.
"""

import numpy as np
import pandas as pd


def _years(model) -> np.ndarray:
    md, years = model.data, model.instance.settings.fiscal_rules.welfare_cap_years
    return np.arange(md.T) if years is None else np.array([md.years.index(y) for y in years], dtype=int)


def bounds(model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    md, e = model.data, model.expr
    ts = _years(model)
    W, cap = md.fiscal["welfare_capped_gbp_m"], md.fiscal["welfare_cap_gbp_m"]
    # −(sav_var + sav_const) <= cap − W
    return {"welfare_cap": (np.full(len(ts), -np.inf), (cap - W + e.ame_saving_const)[ts])}


def add(model) -> None:
    md, lp, e, s = model.data, model.lp, model.expr, model.instance.settings
    if not s.constraints.welfare_cap:
        return
    ts = _years(model)
    if len(ts) == 0:
        return
    lp.add_constraints("welfare_cap", -e.ame_saving[ts], *bounds(model)["welfare_cap"],
                       pd.DataFrame({"year": np.array(md.years)[ts], "subject": "welfare cap"}))
