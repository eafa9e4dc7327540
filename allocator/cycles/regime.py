"""A Spending Review regime, and what its length does to programme effectiveness.

A regime settles departmental budgets for ``length`` years at each review (reviews at
t = 0, L, 2L, …), optionally followed by ``indicative_years`` of indicative budgets, and
optionally a ``capital_plan_years``-long indicative capital plan. Trigger rules (in the
``uncertainty.triggers`` section, switchable per regime) can bring the next review forward;
annual Budgets (``uncertainty.budgets``, switchable per regime) correct the settled limits
within a band between reviews.

**Certainty effect.** New spending on programme p (spend above its baseline) is fully
effective only when at least n_p years are settled ahead (its lead time); with fewer it
loses effect linearly, up to a share λ_p when only one year is settled:

    years settled ahead   s = L + w · I               (w = indicative_weight, I indicative years)
    capital programmes    s = L + w · max(I, K − L)   (K = capital plan years: its years beyond
                                                       the settlement count as indicative years)
    factor                f_p(s) = 1 − λ_p · clip((n_p − s) / (n_p − 1), 0, 1)     (f_p = 1 if n_p = 1)

f_p is non-decreasing in s, so a longer settlement never makes a programme less
effective. The factor multiplies the effect sizes of the response pieces of p that lie
above the baseline spend (pieces the baseline does not fill completely); spending the
baseline already buys is unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from allocator.models.data import ModelData
from allocator.schema import Instance

from .settings import CertaintyClass, UncertaintySettings


@dataclass(frozen=True)
class Regime:
    length: int
    indicative_years: int = 0
    capital_plan_years: int = 0
    triggers: bool = True
    budgets: bool = True
    label: str = field(default="", compare=False)

    def __post_init__(self):
        if not 1 <= self.length <= 10:
            raise ValueError(f"cycle length must be 1..10 years, got {self.length}")
        if self.indicative_years < 0 or self.capital_plan_years < 0:
            raise ValueError("indicative and capital-plan years must be >= 0")
        if not self.label:
            lab = f"{self.length}y"
            if self.indicative_years:
                lab += f"+{self.indicative_years}i"
            if self.capital_plan_years:
                lab += f"+cap{self.capital_plan_years}"
            if not self.triggers:
                lab += "-notrig"
            if not self.budgets:
                lab += "-nobudget"
            object.__setattr__(self, "label", lab)

    def to_dict(self) -> dict:
        return {"length": self.length, "indicative_years": self.indicative_years,
                "capital_plan_years": self.capital_plan_years, "triggers": self.triggers,
                "budgets": self.budgets, "label": self.label}


def as_regime(r, **defaults) -> Regime:
    if isinstance(r, Regime):
        return r
    return Regime(length=int(r), **defaults)


def programme_class(us: UncertaintySettings, instance: Instance) -> dict[str, tuple[str, CertaintyClass]]:
    """Each programme's certainty class: an override, else infrastructure (a listed capital
    programme), capital, prevention (PIE), workforce (by lag profile), else none (no
    certainty effect)."""
    c = us.certainty
    none = CertaintyClass(lead_time_years=1, max_loss=0.0)
    out = {}
    for p in instance.programmes:
        if p.id in c.programmes:
            out[p.id] = ("override", c.programmes[p.id])
        elif p.category == "capital" and p.id in c.infrastructure_programmes:
            out[p.id] = ("infrastructure", c.infrastructure)
        elif p.category == "capital":
            out[p.id] = ("capital", c.capital)
        elif p.pie:
            out[p.id] = ("prevention", c.prevention)
        elif p.lag_profile in c.workforce_lag_profiles:
            out[p.id] = ("workforce", c.workforce)
        else:
            out[p.id] = ("none", none)
    return out


def certainty_factor(cls: CertaintyClass, settled_years: float) -> float:
    n = cls.lead_time_years
    if n <= 1:
        return 1.0
    short = min(max((n - settled_years) / (n - 1), 0.0), 1.0)
    return 1.0 - cls.max_loss * short


def settled_years_ahead(regime: Regime, us: UncertaintySettings, capital: bool) -> float:
    """s = L + w·I; for capital s = L + w·max(I, K − L): the years of a K-year capital plan
    beyond the L settled years count as indicative years (a plan no longer than the
    settlement adds nothing)."""
    w, L = us.certainty.indicative_weight, regime.length
    extra = regime.indicative_years
    if capital:
        extra = max(extra, regime.capital_plan_years - L)
    return L + w * extra


def programme_factors(regime: Regime, us: UncertaintySettings, instance: Instance) -> dict[str, float]:
    classes = programme_class(us, instance)
    out = {}
    for p in instance.programmes:
        cls = classes[p.id][1]
        sp = settled_years_ahead(regime, us, p.category == "capital")
        out[p.id] = certainty_factor(cls, sp)
    return out


def piece_factors(regime: Regime, us: UncertaintySettings, instance: Instance,
                  md: ModelData) -> np.ndarray:
    """Factor per response piece (N,): the programme's factor on pieces above baseline."""
    pf = programme_factors(regime, us, instance)
    f = np.array([pf[md.programmes[p]] for p in md.piece_prog])
    above = md.piece_baseline_fill < md.piece_width
    return np.where(above, f, 1.0)
