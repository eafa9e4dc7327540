"""The declaration of a constraint family: everything about it, in its own module.

A constraint module (``models/constraints/<name>.py``) fills in one :class:`Family`,
``FAMILY = Family(...)``, and nothing else in the package names it: the registry
(:func:`models.constraints.registry`) collects every module's ``FAMILY``, and the build,
the independent checker, the explanations, the appraisal, the warm re-solve bound refresh,
the docs-completeness test and the tamper test all read the registry.

A module may build several *row families* (named blocks of rows, e.g. ``programme_floor``
and ``programme_cap``); each is one :class:`Rows` with its own name, switch and wording.

The parts:

``rows``     the row families it builds (name, switch, wording, appraisal group, unit, sense)
``add``      ``add(model)`` appends its rows to ``model.lp`` (only the switched-on ones)
``check``    ``check(c, plan)``: the independent check, recomputing the rule from the result
             tables and the instance only (``plan`` is an :class:`allocator.checker.PlanFacts`;
             ``c.le/ge/eq/fail`` record checked rows and violations). No LP matrix or model code.
``bounds``   ``bounds(model) -> {row family: (lo, hi)}`` when row bounds follow parameters a
             warm re-solve can change (fiscal forecasts, headroom); ``None`` when they do not
``order``    position in the build (row order of the LP); earlier first
``tamper``   optional ``tamper(instance) -> instance``: an instance in which the family has rows
             (the derived tamper test uses tiny and uk_missions first, then this)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

#: appraisal test groups a policy row family can belong to (allocator/appraise.py); "user"
#: is for user constraints added through allocator.build (test ``user_constraints``)
TEST_GROUPS = ("affordability", "pie_protection", "deliverability", "targets", "user")
SENSES = ("<=", ">=", "==", "range")


@dataclass(frozen=True)
class Rows:
    """One named row family.

    ``switch``: attribute of ``settings.constraints`` that turns it on; None for rows that are
    always present when their data asks for them (structural definitions, business cases,
    mission targets in target mode).
    ``binding``: phrase naming one row, formatted with ``{year}``, ``{subject}``, ``{category}``
    (used for binding constraints, infeasibility and appraisal rows).
    ``relax``: the verb for loosening it ("raised by", "lowered by", ...).
    ``title``: the family in the plural ("programme caps").
    ``test``: the appraisal test group (one of :data:`TEST_GROUPS`); None only if structural.
    ``sense``: which side the policy bounds: "<=" (a limit: its shadow price is the value of
    raising it), ">=" (a floor: the value of lowering it), "==" or "range" (both sides: the
    price is of moving the binding side outward).
    ``unit``: unit of the row and of its shadow price's denominator ("£m", "real £m",
    "metric units", "resource units": the unit named in the row's category label, e.g. "FTE").
    ``structural``: a definition, not a policy rule: never relaxed or priced.
    ``untamperable``: for structural rows only, why no plan can break it in one row (the
    tamper test then skips it and says so).
    ``set_by_plan``: for a policy row family an appraised plan cannot break because the
    appraisal derives the rows' other side from the plan itself, why (the tamper test then
    checks the independent checker only, and that the appraisal shows the row holding).
    ``fiscal_rule``: a fiscal rule or envelope on total spending (DEL envelopes, welfare cap,
    stability and investment rules). These are the rows a Spending Review cycle may breach
    when the economy turns (made elastic in ``allocator cycles``) and whose status every
    sensitivity re-plan reports.
    ``finding``: for rows the report's findings name as a fiscal constraint, (the rule in
    words, what its slack is called), e.g. ("the welfare cap", "room under the welfare cap").
    """

    name: str
    title: str
    binding: str
    relax: str
    test: str | None
    sense: str
    unit: str = "£m"
    switch: str | None = None
    structural: bool = False
    untamperable: str = ""
    set_by_plan: str = ""
    fiscal_rule: bool = False
    finding: tuple[str, str] | tuple[()] = ()

    def __post_init__(self):
        if self.sense not in SENSES:
            raise ValueError(f"{self.name}: sense must be one of {SENSES}, not {self.sense!r}")
        if self.structural and not self.untamperable:
            raise ValueError(f"{self.name}: a structural row family must say why no plan can "
                             "break it (untamperable=...)")
        if not self.structural and self.test not in TEST_GROUPS:
            raise ValueError(f"{self.name}: test must be one of {TEST_GROUPS}, not {self.test!r}")
        if self.finding and len(self.finding) != 2:
            raise ValueError(f"{self.name}: finding is (the rule in words, what its slack is called)")

    def describe(self, year="", subject="", category="") -> str:
        return self.binding.format(year=year, subject=subject, category=category)


@dataclass(frozen=True)
class Family:
    """One constraint module's declaration (see the module docstring)."""

    module: str
    rows: tuple[Rows, ...]
    add: Callable
    check: Callable | None
    order: int
    bounds: Callable | None = None
    tamper: Callable | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rows)
