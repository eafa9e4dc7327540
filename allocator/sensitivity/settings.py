"""The optional ``sensitivity:`` section of instance.yaml (parameter ranges for sweeps).

``InstanceSettings.sensitivity`` is kept as a free mapping by the core schema; this model
validates it, and errors name instance.yaml and the field::

    sensitivity:
      discount_rate: [0.015, 0.05]        # STPR values (missions with their own rate keep it)
      weight_multiplier: [0.5, 1.5]       # each mission's weight × these, one mission at a time
      effect_multiplier: [0.5, 1.5]       # effect sizes of each department's programmes × these
      lag_shift_years: [1, 2]             # every effect arrives this many years later (rebuild)
      headroom_gbp_m: [10000, 30000]      # fiscal-rule headroom, cash £m (default: base + 0.5%, 1% of GDP)
      envelope_multiplier: [0.98, 1.02]   # RDEL and CDEL envelopes × these
      key_departments: [DHSC, DfE]        # allocations shown in the tornado (default: 4 largest)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from allocator.errors import InstanceError, Problem


class SensitivitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    discount_rate: list[float] = Field(default_factory=lambda: [0.015, 0.05])
    weight_multiplier: list[float] = Field(default_factory=lambda: [0.5, 1.5])
    effect_multiplier: list[float] = Field(default_factory=lambda: [0.5, 1.5])
    lag_shift_years: list[int] = Field(default_factory=lambda: [1, 2])
    headroom_gbp_m: list[float] = Field(default_factory=list)
    envelope_multiplier: list[float] = Field(default_factory=lambda: [0.98, 1.02])
    key_departments: list[str] | None = None

    @field_validator("discount_rate")
    @classmethod
    def _rates(cls, v):
        if any(r < 0 or r > 0.5 for r in v):
            raise ValueError("discount rates must be between 0 and 0.5")
        return v

    @field_validator("weight_multiplier", "effect_multiplier", "envelope_multiplier", "headroom_gbp_m")
    @classmethod
    def _nonneg(cls, v):
        if any(x < 0 for x in v):
            raise ValueError("values must be >= 0")
        return v

    @field_validator("lag_shift_years")
    @classmethod
    def _lags(cls, v):
        if any(k < 0 or k > 20 for k in v):
            raise ValueError("lag shifts must be whole years between 0 and 20")
        return v


def sensitivity_settings(instance) -> SensitivitySettings:
    """Validate ``instance.settings.sensitivity`` (defaults when absent)."""
    raw = instance.settings.sensitivity or {}
    if not isinstance(raw, dict):
        raise InstanceError([Problem("instance.yaml", "field 'sensitivity'", raw,
                                     "must be a mapping of parameter ranges")])
    try:
        s = SensitivitySettings.model_validate(raw)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            loc = ".".join(str(x) for x in e["loc"])
            msg = e["msg"]
            if e["type"] == "extra_forbidden":
                from allocator.suggest import unknown_field_message

                msg = unknown_field_message(SensitivitySettings, e["loc"])
            problems.append(Problem("instance.yaml", f"field 'sensitivity.{loc}'", e.get("input"), msg))
        raise InstanceError(problems) from None
    if s.key_departments:
        known = {d.id for d in instance.departments}
        bad = [(i, d) for i, d in enumerate(s.key_departments) if d not in known]
        if bad:
            from allocator.suggest import did_you_mean

            raise InstanceError([Problem("instance.yaml", f"field 'sensitivity.key_departments.{i}'",
                                         d, "unknown department" + did_you_mean(d, known))
                                 for i, d in bad])
    return s
