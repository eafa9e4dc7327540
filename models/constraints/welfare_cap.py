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
from ..family import Family, Rows


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


def check(c, plan) -> None:
    """W_t − sav_t <= cap_t (1 + margin) in the enforced years (default: those with a cap)."""
    if not plan.on.welfare_cap:
        return
    fr = plan.settings.fiscal_rules
    wy = fr.welfare_cap_years
    caps = {f.year: f.welfare_cap_gbp_m for f in plan.inst.fiscal}
    F = plan.F
    for y in ([y for y in plan.years if caps[y] is not None] if wy is None else wy):
        t = plan.pos[y]
        c.le("welfare_cap", y, "welfare cap", F["welfare_capped_gbp_m"][t] - plan.sav[t],
             F["welfare_cap_gbp_m"][t] * (1.0 + fr.welfare_cap_margin),
             F["welfare_capped_gbp_m"][t] + plan.sav_scale[t], 50)


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
               test="affordability", sense="<=", switch="welfare_cap", fiscal_rule=True,
               finding=("the welfare cap", "room under the welfare cap")),))
