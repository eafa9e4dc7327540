"""What the mission machinery is worth: siloed against mission-led planning, lever by lever.

Every figure is the *true* mission value V of a plan (the instance's own objective: its
weights, Green Book discounting and the value after the horizon), so plans chosen by a
different rule are compared on the same scale (docs/levers.md).

- **mission-led**: the instance as given (PIE protection, the Mission Fund, the 10-year
  test: value after the horizon counted), solved with the second stage (formulation §4b).
- **siloed**: each department plans alone within a fixed settlement, its year-1 baseline
  share of each year's DEL envelope (τ of formulation §4b) or its own programmes' floors if
  higher: department-funded spend F_d,c,t ≤ max(τ_d,c,t, Σ_{p of d, c} f_p π_t); no Mission Fund, no PIE protection; it values only the missions it
  owns (a mission's owner is the department whose baseline programmes carry most of its
  value, Σ_p b_p W_m γ_p,m over the first segment; a department that owns no mission values
  every mission its programmes serve), within the horizon only, discounted at
  ``SILO_DISCOUNT_RATE``. Shared programmes are funded by their first owner. Its plan is then
  valued with the true V.
- **levers**: from mission-led, each lever switched off in turn, and the optimum (true V)
  with and without it: the 10-year test (objective without the value after the horizon,
  plan valued with it) and every constraint-family switch of ``constraints`` in
  instance.yaml that is on (read from the schema, so a switch added later is included).
  value_of_lever = V(with) − V(without): positive when the lever adds value, negative when
  the rule costs value (a constraint can only lower the optimum of the same objective).

A planner with a narrower objective (short-termist, siloed) is indifferent between many plans;
its ties are broken in favour of the true objective (``TIE_TO_TRUE``), so the values of the
10-year test and of mission-led planning are lower bounds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from allocator.schema import Instance

SILO_DISCOUNT_RATE = 0.10  # ASSUMPTION: a short-termist department's discount rate
SILO_EPSILON = 1e-6  # value per real £m that makes a siloed department use its settlement
#: a planner with a narrower objective is indifferent between many plans (e.g. every level of
#: a programme whose effects land after the horizon); among those it is given the one best for
#: the missions: TIE_TO_TRUE × the true objective is added to its own. The lever values are
#: therefore lower bounds (the narrow planner is credited with the best of its ties).
TIE_TO_TRUE = 1e-4


@dataclass
class LeverResult:
    table: pd.DataFrame  # lever, kind, status_with/without, value_with/without, value_of_lever
    mission_led: float
    siloed: float | None
    siloed_status: str
    owners: dict = field(default_factory=dict)  # mission -> owning department (siloed)
    timings_s: dict = field(default_factory=dict)
    siloed_long_term: float | None = None  # siloed, but Green Book discounting + 10-year test
    siloed_long_term_status: str = ""

    def summary(self) -> dict:
        return {"mission_led_value": self.mission_led, "siloed_value": self.siloed,
                "siloed_status": self.siloed_status,
                "value_of_mission_led_planning": (self.mission_led - self.siloed
                                                  if self.siloed is not None else None),
                "siloed_long_term_value": self.siloed_long_term,
                "value_of_silos_alone": (self.mission_led - self.siloed_long_term
                                         if self.siloed_long_term is not None else None),
                "value_of_short_termism_alone": (self.siloed_long_term - self.siloed
                                                 if None not in (self.siloed, self.siloed_long_term)
                                                 else None),
                "mission_owners_when_siloed": self.owners,
                "silo_discount_rate": SILO_DISCOUNT_RATE,
                "levers": self.table.to_dict(orient="records"), "timings_s": self.timings_s}


def true_value(model, x: np.ndarray) -> float:
    """V of the plan's programme spend under ``model``'s instance objective (value kind)."""
    from allocator.models.objective import piece_coefficients

    md, lp = model.data, model.lp
    xb = lp.var_blocks["x"]
    xv = x[xb.start:xb.start + xb.size].reshape(-1, md.T)
    c_in, c_term = piece_coefficients(md)
    return float(((c_in + c_term) * (xv - md.piece_baseline_fill[:, None])).sum())


def _solve(instance: Instance, *, cost=None, extra_rows=None):
    """Build, optionally replace the objective cost / add rows, solve with the second stage.
    Returns (model, SolveOutput)."""
    from allocator.api import unique
    from allocator.models.allocation import build_allocation_model
    from allocator.models.constraints.business_cases import integrality
    from allocator.solvers.highs import HighsBackend

    model = build_allocation_model(instance)
    if extra_rows is not None:
        extra_rows(model)
    if cost is not None:
        c_in = cost(model)
        model.lp.cost_in_horizon = c_in
        model.lp.cost_terminal = np.zeros(model.lp.n)
        model.lp.constant_in_horizon = model.lp.constant_terminal = 0.0
    b = HighsBackend()
    ints = integrality(model)
    b.load(model.lp, integrality=ints)
    out = unique(model, b, b.solve(), ints)
    return model, out


def mission_owners(instance: Instance, md) -> dict:
    """mission -> department carrying most of its baseline value (first segment gains)."""
    first = {}
    for i, p in enumerate(md.piece_prog):
        first.setdefault(p, i)
    score = np.zeros((md.D, md.M))
    for p, i in first.items():
        d = md.prog_owners[p][0]
        score[d] += md.prog_baseline[p] * md.weight * md.piece_gain[i]
    return {m: md.departments[int(np.argmax(score[:, k]))] for k, m in enumerate(md.missions)}


def siloed(instance: Instance, short_termist: bool = True):
    """(value, status, owners) of siloed departmental planning (module docstring). With
    ``short_termist=False`` departments discount as the instance does and count value after
    the horizon, which separates the silos' cost from short-termism's."""
    from allocator.models import tiebreak
    from allocator.models.data import discount_factors
    from allocator.models.objective import piece_coefficients

    inst = instance.model_copy(deep=True)
    c = inst.settings.constraints
    c.mission_fund = c.pie_share = c.pie_department_floor = False

    def rows(model):
        e, md = model.expr, model.data
        tau = tiebreak.path_targets(model)  # (D, 2, T), the row order of dept_spend
        floors = np.zeros_like(tau)  # never below the department's own programme floors
        for p in range(md.P):
            floors[md.prog_owners[p][0], md.prog_category[p]] += md.prog_floor[p] * md.deflator
        tau = np.maximum(tau, floors).reshape(-1)
        labels = pd.DataFrame({"year": np.tile(md.years, 2 * md.D),
                               "subject": np.repeat(md.departments, 2 * md.T),
                               "category": np.tile(np.repeat(["resource", "capital"], md.T), md.D)})
        model.lp.add_constraints("siloed_settlement", e.dept_spend, -np.inf, tau, labels)

    owners = {}

    def cost(model):
        md, lp = model.data, model.lp
        owners.update(mission_owners(inst, md))
        owned = {d: {m for m, o in owners.items() if o == d} for d in md.departments}
        true_in, true_term = piece_coefficients(md)
        d0 = md.delta.copy()
        if short_termist:
            md.delta = np.tile(discount_factors(SILO_DISCOUNT_RATE, SILO_DISCOUNT_RATE,
                                                SILO_DISCOUNT_RATE, d0.shape[1], True), (md.M, 1))
        g0 = md.piece_gain.copy()
        for i, p in enumerate(md.piece_prog):
            mine = owned[md.departments[md.prog_owners[p][0]]]
            if mine:
                md.piece_gain[i] = [g if m in mine else 0.0 for m, g in zip(md.missions, g0[i])]
        c_in, c_term = piece_coefficients(md)
        md.delta, md.piece_gain = d0, g0
        out = np.zeros(lp.n)
        xb = lp.var_blocks["x"]
        c = c_in if short_termist else c_in + c_term
        c = c + TIE_TO_TRUE * (true_in + true_term)
        out[xb.start:xb.start + xb.size] = (c + SILO_EPSILON).ravel()
        return out

    model, out = _solve(inst, cost=cost, extra_rows=rows)
    if out.x is None:
        return None, out.status.value, owners
    from allocator.models.allocation import build_allocation_model

    truth = build_allocation_model(instance)
    return true_value_from(truth, model, out.x), out.status.value, owners


def true_value_from(truth, model, x) -> float:
    """V under ``truth``'s objective of the programme spend in ``model``'s plan ``x`` (the x
    block has the same layout whatever the switches)."""
    xb, tb = model.lp.var_blocks["x"], truth.lp.var_blocks["x"]
    y = np.zeros(truth.lp.n)
    y[tb.start:tb.start + tb.size] = x[xb.start:xb.start + xb.size]
    return true_value(truth, y)


def lever_values(instance: Instance, progress=None) -> LeverResult:
    """Mission-led and siloed values and the value of each lever (module docstring)."""
    from allocator.models.allocation import build_allocation_model
    from allocator.numerics import to_gbp_m

    t0 = time.perf_counter()
    instance = to_gbp_m(instance)
    truth = build_allocation_model(instance)
    model, out = _solve(instance)
    led = true_value(model, out.x) if out.x is not None else None
    led_status = out.status.value
    rows = []

    def record(lever, kind, inst_without, cost=None):
        m2, o2 = _solve(inst_without, cost=cost)
        v = true_value_from(truth, m2, o2.x) if o2.x is not None else None
        rows.append(dict(lever=lever, kind=kind, status_with=led_status,
                         status_without=o2.status.value, value_with=led, value_without=v,
                         value_of_lever=(led - v) if (led is not None and v is not None) else None))
        if progress:
            progress(lever)

    def horizon_only(model):
        lp = model.lp
        return lp.cost_in_horizon + TIE_TO_TRUE * (lp.cost_in_horizon + lp.cost_terminal)

    record("ten_year_test", "objective: value after the horizon counted", instance, cost=horizon_only)
    for name, on in instance.settings.constraints.model_dump().items():
        if not on:
            continue
        inst = instance.model_copy(deep=True)
        setattr(inst.settings.constraints, name, False)
        record(name, "constraint switch", inst)
    sv, sstatus, owners = siloed(instance)
    lv, lstatus, _ = siloed(instance, short_termist=False)
    for lever, kind, v, st in (
            ("mission_led_vs_siloed", "planning regime: siloed departments, short-termist", sv, sstatus),
            ("mission_led_vs_siloed_long_term", "planning regime: siloed departments, Green Book "
             "discounting and the 10-year test", lv, lstatus)):
        rows.append(dict(lever=lever, kind=kind, status_with=led_status, status_without=st,
                         value_with=led, value_without=v,
                         value_of_lever=(led - v) if None not in (led, v) else None))
    table = pd.DataFrame(rows, columns=["lever", "kind", "status_with", "status_without", "value_with",
                                        "value_without", "value_of_lever"])
    if led is not None:  # solver round-off is not a value
        small = table["value_of_lever"].abs() < 1e-7 * max(1.0, abs(led))
        table.loc[small, "value_of_lever"] = 0.0
    res = LeverResult(table, led, sv, sstatus, owners, {"total": round(time.perf_counter() - t0, 3)})
    res.siloed_long_term, res.siloed_long_term_status = lv, lstatus
    return res
