"""Trigger events: schema, YAML loading, and their effect on the fiscal forecast.

An events file (YAML) holds a library of named events, the timing × severity grid for
re-plans and, optionally, an event tree for the two-stage settlement::

    events:
      - {id: recession, kind: recession, year: "2028-29", severity: 0.03, duration: 2}
    replan: {years: ["2027-28", "2029-30"], severity_multipliers: [0, 0.5, 1, 2]}
    tree:
      trigger_year: "2028-29"
      scenarios:
        - {id: no_event, probability: 0.7, events: []}
        - {id: recession, probability: 0.3, events: [recession]}

Every event acts only on years t ≥ its start year t0, through the profile

    φ_t = 0                      t < t0
    φ_t = 1                      t0 <= t < t0 + duration
    φ_t = persistence            t >= t0 + duration       (share of the peak effect that stays)

and changes the fiscal columns (cash £m) as follows (s = severity, base values hatted):

- ``recession`` (s = fall in the GDP level, a fraction):  Y_t = Ŷ_t (1 − s φ_t);
  R_t = R̂_t (1 − ε_R s φ_t);  W_t = Ŵ_t (1 + ε_W s φ_t) and current AME rises by the same £m.
- ``interest_rate_shock`` (s = rise in the effective interest rate on debt, percentage
  points): debt interest and current AME rise by s/100 · N_0 · min(1, ρ (t − t0 + 1)) · φ_t,
  N_0 the opening PSNFL and ρ the share of debt repricing each year.
- ``inflation_shock`` (s = extra inflation, percentage points a year, for ``duration`` years).
  The model's deflator multiplies its coefficient matrix, so the shock is represented
  without a rebuild by re-expressing every figure in the *base* price path: items fixed in
  cash lose real value. Envelopes and the welfare cap are fixed in cash, so
  E_t = Ê_t / P_t with P_t = Π_{j=t0}^{t} (1 + s/100) the extra price level (after the
  shock ends a share ``persistence`` of the lost value stays lost; 0 = re-based at the next
  review); receipts, welfare and other AME are uprated with prices and so are unchanged in
  base-path prices; index-linked gilts add λ · N_0 · s/100 of debt interest (and current
  AME) in each shock year.
- ``fiscal_windfall`` (s = rise in receipts, a fraction): R_t = R̂_t (1 + s φ_t).
- ``demand_shock`` on department d (s = unavoidable extra spending as a fraction of d's
  year-1 DEL baseline B_d, e.g. a pandemic on health): X_t = s B_d π_t φ_t must be met
  first. It uses X_t of the ``category`` envelope (E_t − X_t, floored at 0) and counts in the
  fiscal aggregates as extra current (or capital) AME, so the rules see it; which
  programmes give way is what the re-plan decides.

Several events in one scenario add their changes (each computed from the base forecast).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from allocator.errors import AllocatorError, Problem
from allocator.schema import Instance, parse_year_label, year_label


class EventsError(AllocatorError):
    """An events file (or an event passed in code) is invalid; ``problems`` names each one."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems[:50])
        super().__init__(f"invalid events: {len(self.problems)} problem(s)\n{lines}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _check_label(v: str) -> str:
    parse_year_label(v)
    return v


class _EventBase(_Strict):
    id: str = Field(min_length=1)
    year: str = Field(description="First fiscal year the event hits, e.g. '2028-29'.")
    severity: float = Field(ge=0, description="Size of the shock (unit depends on kind).")
    duration: int = Field(1, ge=1, le=60, description="Years at full strength.")
    persistence: float = Field(0.0, ge=0, le=1, description="Share of the peak effect that "
                               "remains after the event ends.")
    note: str = ""

    _year = field_validator("year")(_check_label)

    def scaled(self, multiplier: float, year: str | None = None) -> "_EventBase":
        """The same event with severity × ``multiplier`` (and optionally another start year)."""
        return self.model_copy(update={"severity": self.severity * multiplier,
                                       "year": year or self.year})


class Recession(_EventBase):
    kind: Literal["recession"]
    receipts_elasticity: float = Field(1.0, ge=0, description="% fall in receipts per % fall in GDP.")
    welfare_elasticity: float = Field(1.5, ge=0, description="% rise in welfare per % fall in GDP.")


class InterestRateShock(_EventBase):
    kind: Literal["interest_rate_shock"]
    repricing_share_per_year: float = Field(0.3, gt=0, le=1, description="Share of the debt "
                                            "stock whose interest rate resets each year.")


class InflationShock(_EventBase):
    kind: Literal["inflation_shock"]
    index_linked_share: float = Field(0.25, ge=0, le=1, description="Share of debt that is "
                                      "index-linked (its uplift is debt interest).")


class FiscalWindfall(_EventBase):
    kind: Literal["fiscal_windfall"]


class DemandShock(_EventBase):
    kind: Literal["demand_shock"]
    department: str = Field(min_length=1)
    category: Literal["resource", "capital"] = "resource"


Event = Annotated[Union[Recession, InterestRateShock, InflationShock, FiscalWindfall, DemandShock],
                  Field(discriminator="kind")]
EVENT_KINDS = ("recession", "interest_rate_shock", "inflation_shock", "fiscal_windfall",
               "demand_shock")


class ReplanGrid(_Strict):
    years: list[str] | None = Field(None, description="Trigger years to try (default: every "
                                    "horizon year).")
    severity_multipliers: list[float] = Field(default_factory=lambda: [0.0, 0.5, 1.0, 1.5, 2.0],
                                              min_length=1)
    events: list[str] | None = Field(None, description="Event ids to analyse (default: all).")

    @field_validator("years")
    @classmethod
    def _labels(cls, v):
        for y in v or []:
            parse_year_label(y)
        return v

    @field_validator("severity_multipliers")
    @classmethod
    def _nonneg(cls, v):
        if any(m < 0 for m in v):
            raise ValueError("severity multipliers must be >= 0")
        return v


class Scenario(_Strict):
    id: str = Field(min_length=1)
    probability: float = Field(ge=0, le=1)
    events: list[str] = Field(default_factory=list, description="Event ids from the library.")


class EventTree(_Strict):
    trigger_year: str = Field(description="First year of recourse: decisions before it are "
                              "the first stage (one settlement for every branch).")
    scenarios: list[Scenario] = Field(min_length=1)

    _year = field_validator("trigger_year")(_check_label)


class EventsFile(_Strict):
    events: list[Event] = Field(min_length=1)
    replan: ReplanGrid = Field(default_factory=ReplanGrid)
    tree: EventTree | None = None

    def event(self, event_id: str):
        for e in self.events:
            if e.id == event_id:
                return e
        raise KeyError(event_id)


# --------------------------------------------------------------------------- loading
def _problems(err: ValidationError, file: str, data) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = [x for x in e["loc"] if not (isinstance(x, str) and x in EVENT_KINDS)]
        value = e.get("input")
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            from allocator.suggest import unknown_field_message

            msg = unknown_field_message(EventsFile, e["loc"])
        if e["type"] == "missing":
            msg, value = "required field is missing", None
        out.append(Problem(file, "field '" + ".".join(str(x) for x in loc) + "'", value, msg))
    return out


def check_events(ev: EventsFile, instance: Instance, file: str = "events") -> None:
    """Cross-checks against the instance: departments, years, ids, probabilities."""
    problems: list[Problem] = []
    years = instance.years
    first = parse_year_label(years[0])
    last = parse_year_label(years[-1])
    depts = {d.id for d in instance.departments}
    ids = [e.id for e in ev.events]
    for i, e in enumerate(ev.events):
        if ids.count(e.id) > 1:
            problems.append(Problem(file, f"field 'events.{i}.id'", e.id, "event id appears twice"))
        if parse_year_label(e.year) < first:
            problems.append(Problem(file, f"field 'events.{i}.year'", e.year,
                                    f"before the horizon start {years[0]}"))
        elif parse_year_label(e.year) > last:
            problems.append(Problem(file, f"field 'events.{i}.year'", e.year,
                                    f"after the horizon end {years[-1]}"))
        if isinstance(e, Recession):
            gridded = ev.replan.events is None or e.id in ev.replan.events
            worst = e.severity * max([1.0, *(ev.replan.severity_multipliers if gridded else [])])
            if worst >= 1.0:
                problems.append(Problem(file, f"field 'events.{i}.severity'", e.severity,
                                        f"a recession severity is the fall in the GDP level and must "
                                        f"be below 1; times the largest re-plan severity multiplier "
                                        f"it is {worst:g}, which makes GDP zero or negative"))
        if isinstance(e, DemandShock) and e.department not in depts:
            problems.append(Problem(file, f"field 'events.{i}.department'", e.department,
                                    f"unknown department; known: {sorted(depts)}"))
    for j, y in enumerate(ev.replan.years or []):
        if parse_year_label(y) < first:
            problems.append(Problem(file, f"field 'replan.years.{j}'", y,
                                    f"before the horizon start {years[0]}"))
        elif parse_year_label(y) > last:
            problems.append(Problem(file, f"field 'replan.years.{j}'", y,
                                    f"after the horizon end {years[-1]}"))
    for j, eid in enumerate(ev.replan.events or []):
        if eid not in ids:
            problems.append(Problem(file, f"field 'replan.events.{j}'", eid, "unknown event id"))
    if ev.tree is not None:
        t = ev.tree
        if t.trigger_year not in years:
            problems.append(Problem(file, "field 'tree.trigger_year'", t.trigger_year,
                                    f"not a horizon year ({years[0]}..{years[-1]})"))
        total = sum(s.probability for s in t.scenarios)
        if abs(total - 1.0) > 1e-6:
            problems.append(Problem(file, "field 'tree.scenarios'", round(total, 9),
                                    "scenario probabilities must sum to 1"))
        sids = [s.id for s in t.scenarios]
        for i, s in enumerate(t.scenarios):
            if sids.count(s.id) > 1:
                problems.append(Problem(file, f"field 'tree.scenarios.{i}.id'", s.id,
                                        "scenario id appears twice"))
            for k, eid in enumerate(s.events):
                if eid not in ids:
                    problems.append(Problem(file, f"field 'tree.scenarios.{i}.events.{k}'", eid,
                                            "unknown event id"))
                elif parse_year_label(ev.event(eid).year) < parse_year_label(t.trigger_year):
                    problems.append(Problem(file, f"field 'tree.scenarios.{i}.events.{k}'", eid,
                                            f"starts {ev.event(eid).year}, before the trigger year "
                                            f"{t.trigger_year}: the first stage cannot see it"))
    if problems:
        raise EventsError(problems)


def parse_events(data, file: str = "events", instance: Instance | None = None) -> EventsFile:
    """Validate a mapping (or a bare list of events) into :class:`EventsFile`."""
    if isinstance(data, list):
        data = {"events": data}
    if not isinstance(data, dict):
        raise EventsError([Problem(file, "top level", type(data).__name__,
                                   "must be a mapping with an 'events' list")])
    try:
        ev = EventsFile.model_validate(data)
    except ValidationError as err:
        raise EventsError(_problems(err, file, data)) from None
    if instance is not None:
        check_events(ev, instance, file)
    return ev


def load_events(path: str | Path, instance: Instance | None = None) -> EventsFile:
    """Read and validate an events YAML file (the bounded loader of instance.yaml); errors name
    file, field and value."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise EventsError([Problem(file, "file", str(path), f"cannot read: {e.strerror}")]) from None
    from allocator.io import load_yaml

    data = load_yaml(text, file, EventsError)  # bounded: no aliases, duplicate keys refused
    return parse_events(data, file, instance)


def as_events(events, instance: Instance | None = None) -> EventsFile:
    """Accept an :class:`EventsFile`, a path, a mapping, or a list of events/dicts."""
    if isinstance(events, EventsFile):
        if instance is not None:
            check_events(events, instance)
        return events
    if isinstance(events, (str, Path)):
        return load_events(events, instance)
    if isinstance(events, list):
        events = {"events": [e.model_dump() if isinstance(e, BaseModel) else e for e in events]}
    return parse_events(events, "events", instance)


# --------------------------------------------------------------------------- effects
def profile(event, years: list[str]) -> np.ndarray:
    """φ_t: 1 in the event's years, ``persistence`` afterwards, 0 before."""
    T = len(years)
    first = parse_year_label(years[0])
    t0 = parse_year_label(event.year) - first
    t = np.arange(T)
    phi = np.where((t >= t0) & (t < t0 + event.duration), 1.0, 0.0)
    return np.where(t >= t0 + event.duration, event.persistence, phi)


def event_deltas(event, base: dict[str, np.ndarray], years: list[str], instance: Instance) -> dict:
    """Additive changes (cash £m, base price path) to fiscal columns caused by one event."""
    T = len(years)
    phi = profile(event, years)
    s = event.severity
    fr = instance.settings.fiscal_rules
    t0 = parse_year_label(event.year) - parse_year_label(years[0])
    d: dict[str, np.ndarray] = {}

    def add(col, v):
        d[col] = d.get(col, np.zeros(T)) + v

    if isinstance(event, Recession):
        add("gdp_gbp_m", -base["gdp_gbp_m"] * s * phi)
        add("receipts_gbp_m", -base["receipts_gbp_m"] * event.receipts_elasticity * s * phi)
        dw = base["welfare_capped_gbp_m"] * event.welfare_elasticity * s * phi
        add("welfare_capped_gbp_m", dw)
        add("ame_current_gbp_m", dw)
    elif isinstance(event, InterestRateShock):
        ramp = np.clip(event.repricing_share_per_year * (np.arange(T) - t0 + 1), 0.0, 1.0)
        di = s / 100.0 * fr.psnfl_initial_gbp_m * ramp * phi
        add("debt_interest_gbp_m", di)
        add("ame_current_gbp_m", di)
    elif isinstance(event, InflationShock):
        t = np.arange(T)
        in_shock = (t >= t0) & (t < t0 + event.duration)
        level = np.cumprod(np.where(in_shock, 1.0 + s / 100.0, 1.0))  # extra price level P_t
        lost = 1.0 - 1.0 / level  # share of a cash-fixed figure's real value lost
        after = t >= t0 + event.duration
        if after.any() and in_shock.any():
            lost = np.where(after, lost[in_shock][-1] * event.persistence, lost)
        for col in ("rdel_envelope_gbp_m", "cdel_envelope_gbp_m", "welfare_cap_gbp_m"):
            if col in base and np.all(np.isfinite(base[col])):
                add(col, -base[col] * lost)
        di = event.index_linked_share * fr.psnfl_initial_gbp_m * s / 100.0 * in_shock
        add("debt_interest_gbp_m", di)
        add("ame_current_gbp_m", di)
    elif isinstance(event, FiscalWindfall):
        add("receipts_gbp_m", base["receipts_gbp_m"] * s * phi)
    elif isinstance(event, DemandShock):
        dep = next(x for x in instance.departments if x.id == event.department)
        X = s * (dep.rdel_baseline_gbp_m + dep.cdel_baseline_gbp_m) * base["deflator"] * phi
        env = "rdel_envelope_gbp_m" if event.category == "resource" else "cdel_envelope_gbp_m"
        if np.all(np.isfinite(base[env])):
            add(env, -np.minimum(X, base[env]))
        add("ame_current_gbp_m" if event.category == "resource" else "ame_capital_gbp_m", X)
    else:  # pragma: no cover - the union is closed
        raise TypeError(type(event))
    return d


def apply_events(base: dict[str, np.ndarray], events, years: list[str],
                 instance: Instance) -> dict[str, np.ndarray]:
    """The fiscal columns after ``events`` (a list), each computed from ``base`` and summed."""
    out = {k: np.asarray(v, dtype=float).copy() for k, v in base.items()}
    for e in events:
        for col, dv in event_deltas(e, base, years, instance).items():
            out[col] = out[col] + dv
    for col in ("rdel_envelope_gbp_m", "cdel_envelope_gbp_m", "receipts_gbp_m", "gdp_gbp_m",
                "welfare_cap_gbp_m"):
        if col in out:
            out[col] = np.where(np.isfinite(out[col]), np.maximum(out[col], 0.0), out[col])
    return out


def changed_columns(base: dict, new: dict) -> dict[str, np.ndarray]:
    """Only the columns that differ (what a session's ``set_fiscal`` needs)."""
    return {k: v for k, v in new.items()
            if not np.array_equal(np.nan_to_num(v, nan=-1.0), np.nan_to_num(base[k], nan=-1.0))}


def base_fiscal(instance: Instance) -> dict[str, np.ndarray]:
    from allocator.models.data import model_data

    return model_data(instance).fiscal


def instance_with_events(instance: Instance, events) -> Instance:
    """A copy of ``instance`` whose fiscal table carries ``events`` (for cold builds)."""
    years = instance.years
    base = base_fiscal(instance)
    new = apply_events(base, events, years, instance)
    data = instance.model_dump()
    pos = {y: t for t, y in enumerate(years)}
    for row in data["fiscal"]:
        t = pos.get(row["year"])
        if t is None:
            continue
        for col, arr in new.items():
            if row.get(col) is None and not np.isfinite(arr[t]):
                continue
            row[col] = float(arr[t])
    return Instance.model_validate(data)


def horizon_year(instance: Instance, t: int) -> str:
    return year_label(parse_year_label(instance.years[0]) + t)


__all__ = ["Event", "EventsFile", "EventsError", "EventTree", "Scenario", "ReplanGrid",
           "Recession", "InterestRateShock", "InflationShock", "FiscalWindfall", "DemandShock",
           "load_events", "parse_events", "as_events", "apply_events", "event_deltas", "profile",
           "instance_with_events", "changed_columns", "base_fiscal"]
