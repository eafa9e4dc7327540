"""Typed instance schema: the library's input types.

An instance is a folder holding ``instance.yaml`` (scalars and rules) and CSV tables
(bulk data). :func:`allocator.io.load_instance` parses both into :class:`Instance`;
other tools may build an :class:`Instance` in memory directly. Every model forbids
unknown keys, so a typo is an error rather than a silently ignored setting.

Money is £ million. Programme-level money (baselines, floors, caps, ramp limits,
response-curve widths) is in **real terms at the instance price base** (the first
horizon year); it is turned into cash each year with the fiscal table's ``deflator``.
Department baselines and every fiscal-table figure are **cash** (nominal).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

YEAR_LABEL = re.compile(r"^(\d{4})-(\d{2})$")


def year_label(start: int) -> str:
    """Fiscal year label for the year starting in April of ``start`` (2026 -> "2026-27")."""
    return f"{start}-{(start + 1) % 100:02d}"


def parse_year_label(label: str) -> int:
    """Start calendar year of a fiscal-year label ("2026-27" -> 2026); ValueError if malformed."""
    m = YEAR_LABEL.match(str(label))
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"not a fiscal year label like '2026-27': {label!r}")
    return int(m.group(1))


#: no number in an instance may exceed this magnitude (£1e15m is 300 million UK GDPs; such
#: values only come from typos or unit mistakes and wreck the solver's numerics)
MAX_ABS_NUMBER = 1e15


def _check_year_label(v: str) -> str:
    parse_year_label(v)
    return v


#: A fiscal-year label such as "2026-27", validated wherever a field holds one.
FiscalYearLabel = Annotated[str, AfterValidator(_check_year_label)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _plausible_magnitude(cls, v):
        if isinstance(v, float) and abs(v) > MAX_ABS_NUMBER:
            raise ValueError(f"magnitude above {MAX_ABS_NUMBER:.0e} is not plausible "
                             "(check the money unit)")
        return v


# --------------------------------------------------------------------------- yaml parts
class Horizon(Strict):
    start_year: FiscalYearLabel = Field(description="First fiscal year of the horizon, e.g. '2026-27'.")
    years: int = Field(10, ge=1, le=60, description="Number of fiscal years T.")


    @property
    def labels(self) -> list[str]:
        s = parse_year_label(self.start_year)
        return [year_label(s + i) for i in range(self.years)]


class Discounting(Strict):
    rate: float = Field(0.035, ge=0.0, le=0.5, description="Green Book STPR, years 0-30.")
    rate_after_30: float = Field(0.030, ge=0.0, le=0.5, description="STPR for years 31-75.")
    rate_after_75: float = Field(0.025, ge=0.0, le=0.5, description="STPR for years 76-125.")


class Mission(Strict):
    id: str = Field(min_length=1)
    name: str
    metric: str = Field(description="Core outcome metric, e.g. 'healthy life expectancy'.")
    metric_unit: str = Field(description="Unit of the metric, e.g. 'years', '% of 16-24s'.")
    baseline_value: float = Field(description="Metric value in the first horizon year.")
    baseline_trend_per_year: float = Field(0.0, description="Change per year on the baseline path.")
    higher_is_better: bool = True
    weight: float = Field(ge=0.0, description="Value of one metric unit for one year "
                          "(£m per unit-year if weights.kind = monetised).")
    discount_rate: float | None = Field(None, ge=0.0, le=0.5,
                                        description="Overrides the STPR (e.g. 0.015 for health).")
    weight_basis: str = Field("", description="How the weight was derived.")
    government_mission: str = Field("", description="The government mission this core metric "
                                    "belongs to (e.g. 'opportunity'); empty = the metric's own id.")

    @property
    def group(self) -> str:
        return self.government_mission or self.id


class Weights(Strict):
    kind: Literal["monetised", "priority"] = "monetised"
    note: str = ""


class Period(Strict):
    id: str
    start: FiscalYearLabel
    end: FiscalYearLabel



class Constraints(Strict):
    """Switches for each named constraint family (all on by default)."""

    programme_floors: bool = True
    programme_caps: bool = True
    ramp_limits: bool = True
    settlements: bool = True
    department_real_floor: bool = True
    del_envelope: bool = True
    pie_department_floor: bool = True
    pie_share: bool = True
    mission_fund: bool = True
    welfare_cap: bool = True
    stability_rule: bool = True
    investment_rule: bool = True
    demand_floors: bool = True
    metric_floors: bool = True
    resource_limits: bool = Field(True, description="Enforce the non-money resource limits of "
                                  "resources.csv / resource_use.csv (family resource_limit).")
    debt_interest_feedback: bool = Field(True, description="Debt interest responds to the plan's "
                                         "PSNFL (needs fiscal_rules.debt_interest_rate > 0).")
    barnett: bool = Field(True, description="Devolved block grants follow comparable English DEL "
                          "(rows of barnett.csv).")
    settled_totals: bool = Field(True, description="Settled departmental totals (settled.csv) are "
                                 "fixed; false reopens them.")
    committed_paths: bool = Field(True, description="Committed departmental DEL paths (committed.csv) "
                                  "are floors.")


class PieRules(Strict):
    share_start: float = Field(0.0, ge=0.0, le=1.0,
                               description="Minimum PIE share of total DEL in year 1.")
    share_increase_per_year: float = Field(0.0, ge=0.0, le=1.0,
                                           description="Added to the minimum share each year.")
    share_max: float = Field(1.0, ge=0.0, le=1.0, description="Cap on the rising minimum share.")

    def share_path(self, years: int) -> list[float]:
        return [min(self.share_max, self.share_start + i * self.share_increase_per_year)
                for i in range(years)]


class MissionFundRules(Strict):
    max_share_of_del: float = Field(0.0, ge=0.0, le=1.0,
                                    description="Mission Fund size <= this share of total DEL.")
    min_gbp_m: float = Field(0.0, ge=0.0, description="Mission Fund at least this (cash £m/yr).")


class Persistence(Strict):
    """How effects that land after the horizon are counted (the 10-year test's terminal value)."""

    terminal_fade_per_year: float = Field(
        0.0, ge=0.0, le=1.0, description="An effect landing s >= 1 years after the horizon counts "
        "(1 - fade)^s of its size (0 = no fade, 1 = truncated at the horizon).")
    terminal_years: int | None = Field(
        None, ge=0, le=200, description="Effects landing more than this many years after the horizon "
        "count zero (empty = no truncation).")
    basis: str = Field("", description="Why this persistence assumption.")


class MetricTerm(Strict):
    programme: str
    per_gbp_m: float = Field(description="Metric units per real £m of the programme's spend "
                             "(basis real_spend) or effective activity (basis activity) above baseline.")
    basis: Literal["real_spend", "activity"] = Field(
        "real_spend", description="real_spend: q − b (an input); activity: effective activity "
        "(q + avoided demand)/pressure index − b (an output per unit of need).")


class ComprehensiveMetric(Strict):
    id: str = Field(min_length=1, description="Identifier of the comprehensive (input/output) metric.")
    mission: str = Field(description="Government mission it reports on (a missions[].government_mission "
                         "or mission id).")
    name: str = Field(description="The metric's name in words, as reports show it.")
    unit: str = Field(description="The metric's unit in words (e.g. index, FTE, thousand starts).")
    kind: Literal["input", "output"] = Field(description="input (resources a mission uses) or output "
                                             "(what it delivers).")
    baseline_value: float = Field(description="Value at baseline spend and first-year demand.")
    terms: list[MetricTerm] = Field(min_length=1, description="Linear terms: the metric is "
                                    "baseline_value + Σ per_gbp_m × (the term's basis quantity) over "
                                    "these programmes (docs/formulation.md).")
    basis: str = Field("", description="Source or ASSUMPTION behind the value and coefficients.")
    floor: float | None = Field(None, description="Optional floor: the metric must be at least this "
                                "in every year from floor_from (family metric_floor).")
    floor_from: FiscalYearLabel | None = Field(None, description="First year the floor applies "
                                               "(default: the first horizon year).")

    @field_validator("terms", mode="before")
    @classmethod
    def _terms_from_json(cls, v):
        """A spreadsheet cell holds the list as JSON text."""
        if isinstance(v, str):
            import json

            try:
                return json.loads(v)
            except json.JSONDecodeError as e:
                raise ValueError(f"terms: not valid JSON ({e.msg})") from None
        return v


class StabilityRule(Strict):
    target_years: list[str] = Field(default_factory=list)
    required_margin_gbp_m: float = Field(0.0, description="Current balance must be >= this "
                                         "(cash £m); negative allows a deficit.")


class InvestmentRule(Strict):
    target_years: list[str] = Field(default_factory=list)


class FiscalRules(Strict):
    psnfl_initial_gbp_m: float = Field(description="PSNFL at the end of the year before the horizon.")
    gdp_initial_gbp_m: float = Field(gt=0, description="Nominal GDP in the year before the horizon.")
    headroom_gbp_m: float = Field(0.0, ge=0.0, description="Extra margin demanded of each enforced "
                                  "fiscal rule (cash £m).")
    stability_rule: StabilityRule = Field(default_factory=StabilityRule)
    investment_rule: InvestmentRule = Field(default_factory=InvestmentRule)
    welfare_cap_years: list[str] | None = Field(
        None, description="Years in which the welfare cap is enforced (default: every year with "
        "a welfare_cap_gbp_m figure).")
    welfare_cap_margin: float = Field(0.0, ge=0.0, le=1.0, description="The cap's margin: welfare "
                                      "spending inside the cap must be <= cap x (1 + margin).")
    debt_interest_rate: float = Field(0.0, ge=0.0, le=0.5, description="Effective interest rate on "
                                      "PSNFL above the forecast path (debt-interest feedback).")
    receipts_feedback_mission: str | None = Field(
        None, description="Mission whose metric is real GDP as an index of the baseline (1 point "
        "= 1% of GDP); its gain raises receipts by receipts_feedback_rate x GDP x gain / 100.")
    receipts_feedback_rate: float = Field(0.0, ge=0.0, le=1.0, description="Share of each extra £ "
                                          "of GDP that returns as receipts (0 = no feedback).")


class SolverOptions(Strict):
    name: str = "highs"
    time_limit_s: float | None = Field(None, gt=0)
    mip_gap: float | None = Field(None, ge=0)
    threads: int | None = Field(None, ge=1)


class MissionTarget(Strict):
    mission: str = Field(description="Mission id.")
    year: FiscalYearLabel = Field(description="Fiscal year by which the target is reached, e.g. '2030-31'.")
    value: float = Field(description="Core metric value to reach in that year (metric units; "
                         "at least this if higher is better, at most this otherwise).")



class Objective(Strict):
    """What the allocation optimises (models/targets.py for ``target_cost``)."""

    kind: Literal["value", "target_cost", "net_value"] = Field(
        "value", description="value: maximise discounted mission value; target_cost: the cheapest "
        "plan (total cash programme spend) that reaches every target; net_value: mission value "
        "minus the cost of the extra public funds (appraisal.cost_of_public_funds).")
    targets: list[MissionTarget] = Field(default_factory=list,
                                         description="Mission targets (target_cost mode).")

    @model_validator(mode="after")
    def _needs_targets(self) -> "Objective":
        if self.kind == "target_cost" and not self.targets:
            raise ValueError("objective.kind 'target_cost' needs at least one target")
        return self


class Budget(Strict):
    """The one envelope of a budget-mode instance (family ``budget``)."""

    amount_gbp_m: float = Field(ge=0, description="Σ real spend of every programme <= this in the "
                                "first year (real, price base).")
    growth_per_year: float = Field(0.0, gt=-1.0, le=10.0, description="B_t = amount x "
                                   "(1 + growth_per_year)^t.")

    def path(self, years: int) -> list[float]:
        return [self.amount_gbp_m * (1.0 + self.growth_per_year) ** t for t in range(years)]
class UniquePlan(Strict):
    """The second stage that picks one plan from the optimal face (docs/formulation.md §4b)."""

    enabled: bool = Field(True, description="Run the second stage after every optimal solve.")
    value_tolerance: float = Field(0.0, ge=0.0, le=0.01, description="Relative mission value the "
                                   "second stage may give up: c·x >= V* − tolerance·max(|V*|, 1).")
    mission_fund_cost: float = Field(0.5, ge=0.0, description="Second-stage cost of £1m of Mission "
                                     "Fund money, per £1m of settlement off its path: below 1 the "
                                     "Fund pays where that brings an owner's settlement towards "
                                     "its path.")


class Appraisal(Strict):
    """Net value: what a £ of public spending costs (Green Book basis, README)."""

    cost_of_public_funds: float = Field(1.0, ge=0.0, description="Social cost of £1 of extra "
                                        "public spending, in £ of value: 1.0 is the resources "
                                        "alone (Green Book central case, no excess-burden uplift); "
                                        "1.2 adds a 20% marginal excess tax burden.")


class InstanceSettings(Strict):
    """Everything in ``instance.yaml``."""

    name: str
    title: str = ""
    description: str = ""
    price_base: str | None = Field(None, description="Price base of real figures (default: first year).")
    money_unit: Literal["gbp_m", "gbp_bn", "gbp"] = Field(
        "gbp_m", description="Unit of every *_gbp_m figure in this instance: £ million (default), "
        "£ billion or pounds. The engine solves in £m and reports results in this unit.")
    horizon: Horizon
    mode: Literal["envelope", "fiscal", "budget"] = Field(
        "envelope", description="envelope: total DEL <= fixed envelopes; fiscal: no envelope, "
        "the fiscal rules bind; budget: one budget (section `budget`), no UK fiscal framework "
        "(fiscal.csv and fiscal_rules optional).")
    currency: str | None = Field(None, max_length=8, description="Currency label for reports "
                                 "(default '£'); the money unit's scale is set by money_unit.")
    budget: Budget | None = Field(None, description="The one envelope of a budget-mode instance.")
    discounting: Discounting = Field(default_factory=Discounting)
    weights: Weights = Field(default_factory=Weights)
    missions: list[Mission] = Field(min_length=1)
    spending_reviews: list[Period] = Field(min_length=1)
    settlement_profile: Literal["annual", "flat_real"] = Field(
        "annual", description="annual: a settlement sets each year's limit in its period; "
        "flat_real: one limit per period, flat in real terms.")
    constraints: Constraints = Field(default_factory=Constraints)
    pie: PieRules = Field(default_factory=PieRules)
    mission_fund: MissionFundRules = Field(default_factory=MissionFundRules)
    fiscal_rules: FiscalRules
    solver: SolverOptions = Field(default_factory=SolverOptions)
    persistence: Persistence = Field(default_factory=Persistence)
    comprehensive_metrics: list[ComprehensiveMetric] = Field(
        default_factory=list, description="Input and output indicators computed from the plan.")
    objective: Objective = Field(default_factory=Objective,
                                 description="value (default) or target_cost with mission targets.")
    unique_plan: UniquePlan = Field(default_factory=UniquePlan)
    appraisal: Appraisal = Field(default_factory=Appraisal)
    # Sections read by other capabilities (cycles, sensitivity) are kept as plain data here
    # and validated by those capabilities' own schemas.
    uncertainty: dict | None = None
    sensitivity: dict | None = None

    @model_validator(mode="before")
    @classmethod
    def _neutral_fiscal_rules(cls, data):
        """Budget mode needs no fiscal rules: a neutral set (no target years, no welfare cap)."""
        if isinstance(data, dict) and data.get("mode") == "budget" and data.get("fiscal_rules") is None:
            data = dict(data, fiscal_rules={"psnfl_initial_gbp_m": 0.0, "gdp_initial_gbp_m": 1.0,
                                            "welfare_cap_years": []})
        return data

    @model_validator(mode="after")
    def _budget_section(self) -> "InstanceSettings":
        if self.mode == "budget" and self.budget is None:
            raise ValueError("mode 'budget' needs a budget section (budget.amount_gbp_m)")
        return self

    @model_validator(mode="after")
    def _target_references(self) -> "InstanceSettings":
        ids = {m.id for m in self.missions}
        years = set(self.horizon.labels)
        for i, tg in enumerate(self.objective.targets):
            if tg.mission not in ids:
                raise ValueError(f"objective.targets[{i}].mission: unknown mission {tg.mission!r}")
            if tg.year not in years:
                raise ValueError(f"objective.targets[{i}].year: {tg.year!r} is off the horizon")
        return self


# --------------------------------------------------------------------------- csv rows
class Department(Strict):
    id: str = Field(min_length=1)
    name: str
    rdel_baseline_gbp_m: float = Field(ge=0, description="Resource DEL in year 1 (cash).")
    cdel_baseline_gbp_m: float = Field(ge=0, description="Capital DEL in year 1 (cash).")
    real_floor: float = Field(0.0, ge=0.0, le=2.0, description="Total DEL each year >= real_floor x "
                              "year-1 baseline in real terms (0 = none).")
    pie_floor_gbp_m: float = Field(0.0, ge=0.0, description="Protected PIE, real £m per year.")


class Programme(Strict):
    id: str = Field(min_length=1)
    name: str
    owners: list[str] = Field(min_length=1, description="Owning department ids ('a;b' in CSV).")
    category: Literal["resource", "capital"]
    pie: bool = False
    mission_fund_eligible: bool = False
    baseline_gbp_m: float = Field(ge=0, description="Current spend, real £m per year.")
    floor_gbp_m: float = Field(0.0, ge=0)
    cap_gbp_m: float | None = Field(None, ge=0)
    ramp_limit_gbp_m: float | None = Field(None, ge=0, description="Max change per year, real £m.")
    lag_profile: str
    ame_saving_per_gbp_m: float = Field(0.0, ge=0, description="Welfare AME saved per £m spent "
                                        "above baseline, spread by the lag profile.")
    description: str = ""
    activity_unit: str | None = Field(None, max_length=40, description="Budget mode only: the "
                                      "programme costs no money and its amounts (*_gbp_m fields, "
                                      "segments, resource use) are in this unit of activity; it is "
                                      "outside the budget.")
    all_or_nothing: bool = Field(False, description="A business case decided once for the horizon: "
                                 "real spend is either the baseline or the cap every year (makes "
                                 "the model a MIP).")
    demand_floor_gbp_m: float | None = Field(
        None, ge=0, description="Statutory demand-led minimum, real £m at first-year demand: real "
        "spend plus avoided demand must cover it times the pressure index each year (empty = none).")

    @model_validator(mode="after")
    def _floor_cap(self) -> "Programme":
        if self.cap_gbp_m is not None and self.floor_gbp_m > self.cap_gbp_m:
            raise ValueError(f"floor_gbp_m {self.floor_gbp_m} exceeds cap_gbp_m {self.cap_gbp_m}")
        if self.all_or_nothing and (self.cap_gbp_m is None or self.cap_gbp_m < self.baseline_gbp_m):
            raise ValueError("all_or_nothing needs cap_gbp_m (the fully funded business case) at or "
                             f"above baseline_gbp_m {self.baseline_gbp_m}")
        return self

    @property
    def mission_fund_can_fund(self) -> bool:
        return self.mission_fund_eligible or len(self.owners) >= 2


class Segment(Strict):
    programme: str
    mission: str
    segment: int = Field(ge=1)
    width_gbp_m: float = Field(gt=0, description="Real £m per year.")
    gain_per_gbp_m: float = Field(description="Metric units per real £m per year, before lag; "
                                  "negative where the programme harms the mission.")


class LagWeight(Strict):
    profile: str
    lag: int = Field(ge=0, le=100)
    weight: float = Field(ge=0, le=1)


class Pressure(Strict):
    programme: str = Field(description="Programme whose demand or unit cost grows (programmes.csv id).")
    first_year: FiscalYearLabel = Field(description="First year whose growth this row sets.")
    last_year: FiscalYearLabel = Field(description="Last year whose growth this row sets.")
    growth_per_year: float = Field(ge=-0.5, le=1.0, description="Real growth, from the year before, "
                                   "of the spend needed to keep the programme's service per head of need.")
    basis: str = Field("", description="Source or ASSUMPTION.")


class InvestToSave(Strict):
    programme: str = Field(description="Prevention programme whose spend above baseline saves.")
    target: str = Field(description="Programme whose future demand falls.")
    saving_per_gbp_m: float = Field(ge=0, description="Real £m of the target's demand avoided per "
                                    "real £m above baseline, spread by the programme's lag profile.")
    basis: str = Field("", description="Source or ASSUMPTION.")


class FiscalYear(Strict):
    year: FiscalYearLabel
    gdp_gbp_m: float = Field(gt=0)
    receipts_gbp_m: float = Field(ge=0)
    ame_current_gbp_m: float = Field(ge=0, description="All current AME, incl. welfare and debt interest.")
    welfare_capped_gbp_m: float = Field(ge=0, description="Part of AME inside the welfare cap (memo).")
    welfare_cap_gbp_m: float | None = Field(None, ge=0, description="Welfare cap (empty: no cap "
                                            "this year).")
    debt_interest_gbp_m: float = Field(0.0, ge=0, description="Part of AME that is debt interest "
                                       "on the forecast PSNFL path.")
    psnfl_forecast_gbp_m: float | None = Field(None, description="PSNFL at the end of the year on "
                                               "the forecast path the debt interest assumes.")
    ame_capital_gbp_m: float = Field(0.0, ge=0)
    depreciation_gbp_m: float = Field(0.0, ge=0)
    other_psnfl_flows_gbp_m: float = Field(0.0, description="Other changes in PSNFL (cash).")
    deflator: float = Field(gt=0, description="GDP deflator index, 1.0 in the price-base year.")
    rdel_envelope_gbp_m: float | None = Field(None, ge=0)
    cdel_envelope_gbp_m: float | None = Field(None, ge=0)


class Resource(Strict):
    """A non-money resource programmes use (staff, officers, beds): resources.csv."""

    id: str = Field(min_length=1, description="Resource id (unique), used in resource_use.csv.")
    name: str = Field("", description="Resource name.")
    unit: str = Field(min_length=1, description="Unit of the resource, e.g. 'FTE', 'officers'.")
    limit: float = Field(ge=0, description="Limit in the first horizon year (resource units).")
    growth_per_year: float = Field(0.0, gt=-1.0, le=10.0, description="Limit_t = limit x "
                                   "(1 + growth_per_year)^t unless resource_limits.csv gives year t.")
    description: str = Field("", description="Source or reasoning of the figures.")


class ResourceLimit(Strict):
    """An explicit limit for one resource and year (resource_limits.csv); overrides the growth path."""

    resource: str = Field(description="Resource id (resources.csv).")
    year: FiscalYearLabel = Field(description="Horizon year, e.g. '2028-29'.")
    limit: float = Field(ge=0, description="The resource's limit in that year (resource units).")


class ResourceUse(Strict):
    """Use of a resource by a programme per real £m of spend (resource_use.csv)."""

    programme: str = Field(description="Programme id (programmes.csv).")
    resource: str = Field(description="Resource id (resources.csv).")
    use_per_gbp_m: float = Field(ge=0, description="Resource units used per real £m per year.")
    description: str = Field("", description="Source or reasoning of the rate.")


class ProgrammeGroup(Strict):
    """Membership of a programme in a group (group_members.csv)."""

    group: str = Field(min_length=1, description="Group id (groups.csv).")
    programme: str = Field(description="Programme id (programmes.csv).")
    weight: float = Field(1.0, gt=0, description="w in Σ_p w q[p,t]: the member's real spend counts "
                          "w times (e.g. c_ref / c_p to add up coverage at different unit costs).")


class GroupLimit(Strict):
    """Joint floor and/or cap on a group's total real spend (groups.csv)."""

    id: str = Field(min_length=1, description="Group id (unique).")
    name: str = Field("", description="Group name.")
    floor_gbp_m: float = Field(0.0, ge=0, description="Σ real spend of members >= this every year.")
    cap_gbp_m: float | None = Field(None, ge=0, description="Σ real spend of members <= this every year.")

    @model_validator(mode="after")
    def _floor_cap(self) -> "GroupLimit":
        if self.cap_gbp_m is not None and self.floor_gbp_m > self.cap_gbp_m:
            raise ValueError(f"floor_gbp_m {self.floor_gbp_m} exceeds cap_gbp_m {self.cap_gbp_m}")
        return self


class ProgrammeRatio(Strict):
    """A ratio row between two programmes (ratios.csv): q[programme,t] <= ratio x q[of,t]."""

    id: str = Field(min_length=1, description="Ratio id (unique).")
    programme: str = Field(description="B: the programme that is limited.")
    of: str = Field(description="A: the programme B's spend is measured against.")
    ratio: float = Field(ge=0, description="k in q[B,t] <= k q[A,t] (real £m per real £m).")



class BarnettFactor(Strict):
    devolved: str = Field(min_length=1, description="Devolved department id (e.g. SCOT).")
    department: str = Field(min_length=1, description="UK department whose comparable DEL drives it.")
    comparability_factor: float = Field(ge=0.0, le=1.0, description="Share of the department's "
                                        "spending that is devolved (SoFP Annex B).")
    population_proportion: float = Field(ge=0.0, le=1.0, description="Devolved nation's population "
                                         "relative to England (or England and Wales, or GB).")


class SettledLimit(Strict):
    department: str = Field(min_length=1, description="Department whose limit was settled.")
    year: FiscalYearLabel = Field(description="Fiscal year of the settled limit.")
    category: Literal["resource", "capital"] = Field(description="resource or capital DEL.")
    limit_gbp_m: float = Field(ge=0, description="Settled DEL limit (cash).")
    fixed: bool = Field(True, description="true: the limit is imposed (switch settled_totals); "
                        "false: it is only the reference path Barnett changes are measured from.")


class CommittedPath(Strict):
    department: str = Field(min_length=1, description="Department with a committed DEL path.")
    year: FiscalYearLabel = Field(description="Fiscal year of the commitment.")
    min_del_gbp_m: float = Field(ge=0, description="Total DEL (resource + capital) at least this (cash).")
    basis: str = Field("", description="The commitment this figure follows.")


class Instance(Strict):
    """A whole instance: settings plus tables. Validated for cross-references on construction.

    Load one with :func:`allocator.load_instance` (a folder, its ``instance.yaml`` or an
    ``.xlsx`` workbook) or build one in memory; every field is documented in
    docs/instance_format.md.

    >>> from allocator import load_instance, tiny_instance_path
    >>> inst = load_instance(tiny_instance_path())
    >>> inst.settings.name, [p.id for p in inst.programmes], [d.id for d in inst.departments]
    ('tiny', ['a1', 'a2', 'b1'], ['A', 'B'])
    """

    settings: InstanceSettings
    departments: list[Department] = Field(min_length=1)
    programmes: list[Programme] = Field(min_length=1)
    segments: list[Segment] = Field(default_factory=list)
    lag_profiles: list[LagWeight] = Field(min_length=1)
    fiscal: list[FiscalYear] = Field(min_length=1)
    resources: list[Resource] = Field(default_factory=list)
    resource_limits: list[ResourceLimit] = Field(default_factory=list)
    resource_use: list[ResourceUse] = Field(default_factory=list)
    groups: list[GroupLimit] = Field(default_factory=list)
    group_members: list[ProgrammeGroup] = Field(default_factory=list)
    ratios: list[ProgrammeRatio] = Field(default_factory=list)
    pressures: list[Pressure] = Field(default_factory=list)
    invest_to_save: list[InvestToSave] = Field(default_factory=list)
    barnett: list[BarnettFactor] = Field(default_factory=list)
    settled: list[SettledLimit] = Field(default_factory=list)
    committed: list[CommittedPath] = Field(default_factory=list)

    @property
    def years(self) -> list[str]:
        return self.settings.horizon.labels

    @model_validator(mode="before")
    @classmethod
    def _neutral_fiscal_table(cls, data):
        """Budget mode without fiscal.csv: deflator 1 and no fiscal aggregates in every year."""
        if not isinstance(data, dict) or data.get("fiscal"):
            return data
        st = data.get("settings")
        mode = st.get("mode") if isinstance(st, dict) else getattr(st, "mode", None)
        if mode != "budget":
            return data
        hz = st.get("horizon") if isinstance(st, dict) else st.horizon
        hz = Horizon.model_validate(hz) if not isinstance(hz, Horizon) else hz
        return dict(data, fiscal=[dict(year=y, gdp_gbp_m=1.0, receipts_gbp_m=0.0,
                                       ame_current_gbp_m=0.0, welfare_capped_gbp_m=0.0,
                                       welfare_cap_gbp_m=0.0, deflator=1.0) for y in hz.labels])

    @model_validator(mode="after")
    def _cross_references(self) -> "Instance":
        from allocator.validation import check_cross_references

        check_cross_references(self)
        return self


def finite(x: float) -> bool:
    return x is not None and math.isfinite(x)
