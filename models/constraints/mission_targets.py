"""Mission targets (family ``mission_target``; target mode only, see :mod:`models.targets`).

    Σ_i γ_im Σ_{τ<=t} ℓ_p(i)[t−τ] x[i,τ]  >=  s_m (v − b_m − β_m t) + Σ_i γ_im Σ_{τ<=t} ℓ_p(i)[t−τ] x̄_i

one row per target (m, Y, v), in metric units: mission m's core metric reaches v in year Y.
"""

from __future__ import annotations

from .. import targets
from ..family import Family, Rows


def check(c, plan) -> None:
    """s_m (b_m + β_m t + s_m gain[m,t] − v) >= 0 per target, gains recomputed by the driver
    from the concave responses of the allocations table."""
    s = plan.settings
    if s.objective.kind != "target_cost":
        return
    missions = [m.id for m in s.missions]
    for tg in s.objective.targets:
        m = missions.index(tg.mission)
        mission = s.missions[m]
        t = plan.pos[tg.year]
        sign = 1.0 if mission.higher_is_better else -1.0
        metric = (mission.baseline_value + mission.baseline_trend_per_year * t
                  + sign * plan.gains[m, t])
        c.ge("mission_target", tg.year, tg.mission, sign * metric, sign * tg.value,
             abs(tg.value), 1, lambda: f"metric {metric:.6f} misses the target {tg.value}")


def _target_mode(inst):
    """For the tamper test: tiny in target mode with the hand-derived targets of
    tests/test_target.py (wellbeing >= 150 in 2027-28 and >= 160 in 2028-29), which bind at
    the cheapest plan. None for other instances."""
    from allocator.schema import Instance

    if inst.settings.name != "tiny":
        return None
    d = inst.model_dump()
    d["settings"]["objective"] = {"kind": "target_cost", "targets": [
        {"mission": "wellbeing", "year": "2027-28", "value": 150.0},
        {"mission": "wellbeing", "year": "2028-29", "value": 160.0}]}
    return Instance.model_validate(d)


FAMILY = Family(
    module=__name__, order=110, add=targets.add, check=check, tamper=_target_mode,
    rows=(Rows("mission_target", "mission targets", "the {subject} mission target in {year}",
               "eased by", test="targets", sense=">=", unit="metric units"),))
