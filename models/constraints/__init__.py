"""Constraint families, one module each; each module's docstring quotes its algebra.

Every module here declares ``FAMILY = Family(...)`` (:mod:`models.family`): its row
families (names, switches, wording, appraisal group), ``add(model)``, its independent
``check`` and, where row bounds follow parameters, ``bounds(model)``. :func:`registry`
collects them by scanning this package: nothing else keeps a list, so a new module is
picked up by the build, the checker, the explanations, the appraisal, warm re-solves and
the tests without touching any other file (see docs/extending.md).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from ..family import Family, Rows


@functools.lru_cache(maxsize=1)
def registry() -> tuple[Family, ...]:
    """Every declared family, in build order (``Family.order``, then module name)."""
    out = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        fam = getattr(mod, "FAMILY", None)
        if not isinstance(fam, Family):
            raise TypeError(f"{mod.__name__} declares no FAMILY = Family(...) (docs/extending.md)")
        out.append(fam)
    out.sort(key=lambda f: (f.order, f.module))
    names = [r.name for f in out for r in f.rows]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"row family names declared twice: {sorted(dup)}")
    return tuple(out)


@functools.lru_cache(maxsize=1)
def row_families() -> dict[str, Rows]:
    """Every declared row family by name."""
    return {r.name: r for f in registry() for r in f.rows}


def with_bounds() -> tuple[Family, ...]:
    """Families whose row bounds follow parameters (re-pushed on warm re-solves)."""
    return tuple(f for f in registry() if f.bounds is not None)


def fiscal_rule_families() -> tuple[str, ...]:
    """Row families declared ``fiscal_rule`` (rules and envelopes on total spending), in
    build order."""
    return tuple(n for n, r in row_families().items() if r.fiscal_rule)


def rule_families() -> tuple[str, ...]:
    """The policy rules a sensitivity re-plan reports on: PIE protection (appraisal group
    ``pie_protection``) and the fiscal rules, in build order."""
    return tuple(n for n, r in row_families().items() if r.fiscal_rule or r.test == "pie_protection")


def fiscal_findings() -> dict[str, tuple[str, str]]:
    """Row families the report's findings name as fiscal constraints: name → (the rule in
    words, what its slack is called), in build order."""
    return {n: r.finding for n, r in row_families().items() if r.finding}


__all__ = ["Family", "Rows", "registry", "row_families", "with_bounds", "fiscal_rule_families",
           "rule_families", "fiscal_findings"]
