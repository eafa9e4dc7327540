"""The welfare cap (family ``welfare_cap``).

Welfare spending inside the cap is the forecast W_t less invest-to-save savings:

    W_t − sav_t <= cap_t          in the enforced years (default: every year)

    sav_t = Σ_p a_p π_t Σ_{τ<=t} ℓ_p[t−τ] (q[p,τ] − b_p)

a_p is real AME saved per real £m spent above baseline, ℓ_p the programme's lag profile.
"""

import numpy as np
import pandas as pd
from ..family import Family, Rows


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


def check(c, plan) -> None:
    """W_t − sav_t <= cap_t in the enforced years."""
    if not plan.on.welfare_cap:
        return
    wy = plan.settings.fiscal_rules.welfare_cap_years
    F = plan.F
    for y in (plan.years if wy is None else wy):
        t = plan.pos[y]
        c.le("welfare_cap", y, "welfare cap", F["welfare_capped_gbp_m"][t] - plan.sav[t],
             F["welfare_cap_gbp_m"][t], F["welfare_capped_gbp_m"][t] + plan.sav_scale[t], 50)


def _binding(inst):
    """For the tamper test: tiny with prevention (a2, effect one year later) saving £0.5m of
    capped welfare per £1m, and the 2027-28 cap at 102 − 1.5: the optimum's £3m on a2 in
    2026-27 meets it exactly. None for other instances (their cap has room to spare)."""
    from allocator.schema import Instance

    if inst.settings.name != "tiny":
        return None
    d = inst.model_dump()
    s = d["settings"]
    s["constraints"]["welfare_cap"] = True
    s["fiscal_rules"]["welfare_cap_years"] = ["2027-28"]
    next(p for p in d["programmes"] if p["id"] == "a2")["ame_saving_per_gbp_m"] = 0.5
    next(f for f in d["fiscal"] if f["year"] == "2027-28")["welfare_cap_gbp_m"] = 100.5
    return Instance.model_validate(d)


FAMILY = Family(
    module=__name__, order=80, add=add, check=check, bounds=bounds, tamper=_binding,
    rows=(Rows("welfare_cap", "welfare cap", "the welfare cap in {year}", "raised by",
               test="affordability", sense="<=", switch="welfare_cap"),))
