"""Constraint families, one module each; each module's docstring quotes its algebra.

Every family has ``add(model)``, which adds its rows to ``model.lp`` only when its switch
in ``instance.yaml``'s ``constraints`` section is on (structural definitions always).
"""

from . import (barnett, business_cases, del_envelope, department_floor, fiscal_rules, mission_fund, pie,
               programme_bounds, ramp_limits, settlements, welfare_cap)

FAMILIES = [programme_bounds, ramp_limits, settlements, department_floor, del_envelope, pie,
            mission_fund, welfare_cap, fiscal_rules, barnett,
            business_cases]  # last: it adds integer columns after every other family
