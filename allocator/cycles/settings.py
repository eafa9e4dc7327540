"""The ``uncertainty:`` section of ``instance.yaml``: its schema, defaults and validation.

The core schema keeps the section as a free mapping; this module owns its meaning. Every
default is stated in ``docs/cycles.md`` with its basis; those without a published source
are labelled ASSUMPTION there and in ``instances/uk_missions/instance.yaml``.

A bad value raises :class:`allocator.errors.InstanceError` naming ``instance.yaml``, the
field (``uncertainty.<path>``) and the value.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, ValidationError, model_validator

from allocator.errors import InstanceError, Problem
from allocator.schema import Instance, Strict

SHOCKS = ("gdp", "receipts", "welfare", "debt_interest")


class Correlations(Strict):
    """Correlations of the yearly innovations of the four shock processes."""

    gdp_receipts: float = Field(0.3, ge=-1, le=1)
    gdp_welfare: float = Field(-0.4, ge=-1, le=1)
    gdp_debt_interest: float = Field(0.2, ge=-1, le=1)
    receipts_welfare: float = Field(0.0, ge=-1, le=1)
    receipts_debt_interest: float = Field(0.0, ge=-1, le=1)
    welfare_debt_interest: float = Field(0.0, ge=-1, le=1)

    def matrix(self) -> np.ndarray:
        C = np.eye(4)
        for i, a in enumerate(SHOCKS):
            for j, b in enumerate(SHOCKS):
                if i < j:
                    C[i, j] = C[j, i] = getattr(self, f"{a}_{b}")
        return C

    @model_validator(mode="after")
    def _positive_definite(self) -> "Correlations":
        if np.linalg.eigvalsh(self.matrix()).min() <= 1e-9:
            raise ValueError("the correlations do not form a positive-definite matrix")
        return self


class CertaintyClass(Strict):
    lead_time_years: float = Field(ge=1, le=30, description="Years settled ahead needed for full "
                                   "effectiveness of new spending.")
    max_loss: float = Field(ge=0, le=1, description="Share of the effect of new spending lost when "
                            "only one year is settled ahead.")


class Certainty(Strict):
    indicative_weight: float = Field(0.5, ge=0, le=1, description="Certainty value of one indicative "
                                     "year relative to one fixed (settled) year.")
    capital: CertaintyClass = CertaintyClass(lead_time_years=5, max_loss=0.20)
    prevention: CertaintyClass = CertaintyClass(lead_time_years=4, max_loss=0.15)
    workforce: CertaintyClass = CertaintyClass(lead_time_years=3, max_loss=0.10)
    workforce_lag_profiles: list[str] = Field(default_factory=lambda: ["skills", "early_years"])
    infrastructure: CertaintyClass = CertaintyClass(lead_time_years=10, max_loss=0.25)
    infrastructure_programmes: list[str] = Field(
        default_factory=lambda: ["transport_capital", "energy_capital", "nhs_capital_hospitals",
                                 "prison_places_capital", "defra_capital",
                                 "housing_supply_infrastructure"],
        description="Capital programmes of major infrastructure (class `infrastructure`); ids not "
                    "in programmes.csv are an error only when the list is given in instance.yaml.")
    programmes: dict[str, CertaintyClass] = Field(default_factory=dict,
                                                  description="Per-programme overrides.")


class Planning(Strict):
    review_cost_gbp_m: float = Field(50.0, ge=0, description="£m-equivalent cost of each review.")
    trigger_cost_gbp_m: float = Field(150.0, ge=0, description="Extra cost of a review reopened "
                                      "early by a trigger event.")


class Absorption(Strict):
    reserve_share_of_rdel: float = Field(0.004, ge=0, le=0.1, description="Central reserve held "
                                         "back from the RDEL envelope, share of RDEL.")
    max_in_year_cut_share: float = Field(0.02, ge=0, le=0.5, description="Largest in-year cut to "
                                         "unprotected resource spending, share of that spending.")
    breach_penalty_per_gbp_m: float = Field(1000.0, gt=0, description="Planning penalty per £m of "
                                            "fiscal-rule or envelope breach (minimum-breach plans).")


class Budgets(Strict):
    """Annual Budget course corrections between reviews (docs/cycles.md §6): at the start of
    each year that is not a review year, a re-plan of the remaining settled years in which
    each department-category limit stays within ±``limit_band`` of its settled value and each
    year's DEL total (limits + Mission Fund, per category) within ±``total_band`` of its
    settled total."""

    enabled: bool = Field(True, description="Make annual Budget corrections between reviews.")
    limit_band: float = Field(0.015, ge=0, le=0.5, description="Largest move of a settled "
                              "department-category limit at a Budget, share of its settled value.")
    total_band: float = Field(0.004, ge=0, le=0.5, description="Largest move of a year's DEL total "
                              "(per category) at a Budget, share of its settled value.")


class Triggers(Strict):
    """Trigger rules, for bad and for good news; a rule set to null is off. Any rule met at
    the end of a year reopens the review at the start of the next year (never later than
    scheduled)."""

    gdp_growth_below: float | None = Field(-0.005, ge=-1, le=1, description="Real GDP growth in a "
                                           "year below this.")
    headroom_below_gbp_m: float | None = Field(0.0, description="Forecast stability-rule headroom "
                                               "in a remaining target year below this (cash £m).")
    receipts_shortfall_above: float | None = Field(0.03, ge=0, le=1, description="Receipts below "
                                                   "the last review's forecast by more than this share.")
    gdp_growth_above: float | None = Field(0.035, ge=-1, le=1, description="Real GDP growth in a "
                                           "year above this (good news).")
    headroom_rise_above_gbp_m: float | None = Field(10000.0, ge=0, description="Forecast "
                                                    "stability-rule headroom in the remaining target "
                                                    "years up by more than this on the last review "
                                                    "(cash £m; good news).")
    receipts_surplus_above: float | None = Field(0.03, ge=0, le=1, description="Receipts above the "
                                                 "last review's forecast by more than this share "
                                                 "(good news).")


class UncertaintySettings(Strict):
    gdp_growth_sd: float = Field(0.015, ge=0, le=0.5)
    gdp_growth_persistence: float = Field(0.3, ge=0, lt=1)
    receipts_gdp_elasticity: float = Field(1.0, ge=0, le=5)
    receipts_sd: float = Field(0.01, ge=0, le=0.5)
    receipts_persistence: float = Field(0.5, ge=0, lt=1)
    welfare_gdp_elasticity: float = Field(-0.5, ge=-5, le=5)
    welfare_sd: float = Field(0.01, ge=0, le=0.5)
    welfare_persistence: float = Field(0.6, ge=0, lt=1)
    debt_interest_sd: float = Field(0.08, ge=0, le=1)
    debt_interest_persistence: float = Field(0.7, ge=0, lt=1)
    envelope_gdp_elasticity: float = Field(1.0, ge=0, le=5)
    correlations: Correlations = Field(default_factory=Correlations)
    certainty: Certainty = Field(default_factory=Certainty)
    planning: Planning = Field(default_factory=Planning)
    absorption: Absorption = Field(default_factory=Absorption)
    triggers: Triggers = Field(default_factory=Triggers)
    budgets: Budgets = Field(default_factory=Budgets)

    def without_shocks(self) -> "UncertaintySettings":
        return self.model_copy(update={k: 0.0 for k in (
            "gdp_growth_sd", "receipts_sd", "welfare_sd", "debt_interest_sd")})

    def without_certainty_effects(self) -> "UncertaintySettings":
        zero = CertaintyClass(lead_time_years=1, max_loss=0.0)
        c = self.certainty.model_copy(update={"capital": zero, "prevention": zero, "workforce": zero,
                                              "infrastructure": zero, "programmes": {}})
        return self.model_copy(update={"certainty": c})


def _merge(base: dict, override: dict) -> dict:
    """``base`` with ``override`` laid over it, section by section (nested mappings merge)."""
    out = dict(base)
    for k, v in override.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def uncertainty_settings(instance: Instance, override: dict | None = None) -> UncertaintySettings:
    """Validate the instance's ``uncertainty`` section, with ``override`` merged into it
    (e.g. ``{"planning": {"review_cost_gbp_m": 0}}`` changes that one value)."""
    data = _merge(instance.settings.uncertainty or {}, override or {})
    try:
        us = UncertaintySettings.model_validate(data)
    except ValidationError as err:
        probs = []
        for e in err.errors():
            field = ".".join(str(x) for x in ("uncertainty", *e["loc"]))
            msg = e["msg"]
            if e["type"] == "extra_forbidden":
                from allocator.suggest import unknown_field_message

                msg = unknown_field_message(UncertaintySettings, e["loc"])
            probs.append(Problem("instance.yaml", f"field '{field}'", e.get("input"), msg))
        raise InstanceError(probs) from None
    from allocator.suggest import did_you_mean

    probs = []
    progs = {p.id for p in instance.programmes}
    for pid in sorted(set(us.certainty.programmes) - progs):
        probs.append(Problem("instance.yaml", f"field 'uncertainty.certainty.programmes.{pid}'", pid,
                             "not a programme id in programmes.csv" + did_you_mean(pid, progs)))
    profiles = {lw.profile for lw in instance.lag_profiles}
    given = isinstance(data.get("certainty"), dict) and "workforce_lag_profiles" in data["certainty"]
    for j, name in enumerate(us.certainty.workforce_lag_profiles if given else []):
        if name not in profiles:  # a typo would silently drop the workforce certainty effect
            probs.append(Problem("instance.yaml",
                                 f"field 'uncertainty.certainty.workforce_lag_profiles[{j}]'", name,
                                 "not a lag profile in lags.csv" + did_you_mean(name, profiles)))
    given = isinstance(data.get("certainty"), dict) and "infrastructure_programmes" in data["certainty"]
    for j, pid in enumerate(us.certainty.infrastructure_programmes if given else []):
        if pid not in progs:
            probs.append(Problem("instance.yaml",
                                 f"field 'uncertainty.certainty.infrastructure_programmes[{j}]'", pid,
                                 "not a programme id in programmes.csv" + did_you_mean(pid, progs)))
    if probs:
        raise InstanceError(probs)
    return us
