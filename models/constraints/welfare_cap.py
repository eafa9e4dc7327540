"""The welfare cap (family ``welfare_cap``).

Welfare spending inside the cap is the forecast W_t less invest-to-save savings; the
legislated test is the cap plus its margin μ^W (``fiscal_rules.welfare_cap_margin``):

    W_t − sav_t <= Cap_t (1 + μ^W)      in the enforced years 𝒯^W

    sav_t = Σ_p a_p π_t Σ_{τ<=t} ℓ_p[t−τ] (q[p,τ] − b_p)

a_p is real AME saved per real £m spent above baseline, ℓ_p the programme's lag profile.
𝒯^W is ``fiscal_rules.welfare_cap_years``, by default every year with a cap figure.
"""

import numpy as np
import pandas as pd


def _years(model) -> np.ndarray:
    md, years = model.data, model.instance.settings.fiscal_rules.welfare_cap_years
    if years is None:  # the instance's years with a cap figure (fixed at build)
        fy = {f.year: f.welfare_cap_gbp_m for f in model.instance.fiscal}
        return np.flatnonzero([fy[y] is not None for y in md.years])
    return np.array([md.years.index(y) for y in years], dtype=int)


def cap_with_margin(model) -> np.ndarray:
    """Cap_t (1 + μ^W), NaN in years without a cap figure."""
    md, fr = model.data, model.instance.settings.fiscal_rules
    return md.fiscal["welfare_cap_gbp_m"] * (1.0 + fr.welfare_cap_margin)


def bounds(model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    md, e = model.data, model.expr
    ts = _years(model)
    W = md.fiscal["welfare_capped_gbp_m"]
    # −(sav_var + sav_const) <= cap (1 + margin) − W
    return {"welfare_cap": (np.full(len(ts), -np.inf),
                            (cap_with_margin(model) - W + e.ame_saving_const)[ts])}


def add(model) -> None:
    md, lp, e, s = model.data, model.lp, model.expr, model.instance.settings
    if not s.constraints.welfare_cap:
        return
    ts = _years(model)
    if len(ts) == 0:
        return
    lp.add_constraints("welfare_cap", -e.ame_saving[ts], *bounds(model)["welfare_cap"],
                       pd.DataFrame({"year": np.array(md.years)[ts], "subject": "welfare cap"}))
