"""Every constraint family is declared completely, documented, and caught when broken.

The cases are derived from the registry (models/constraints/*.py ``FAMILY``), so a new
family is covered without editing this file.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from allocator.appraise import TESTS, appraise
from allocator.checker import check_plan
from allocator.explain import FAMILY_NAMES, PHRASES, describe
from allocator.models.constraints import registry, row_families
from allocator.models.family import TEST_GROUPS
from allocator.schema import Constraints
from tests.conftest import ROOT
from tests.family_tamper import broken_plan, result_tables, sides

ROWS = sorted(row_families())
POLICY = [n for n in ROWS if not row_families()[n].structural]
FORMULATION = (ROOT / "docs" / "formulation.md").read_text()


# ----------------------------------------------------------------------------- completeness
@pytest.mark.parametrize("family", registry(), ids=lambda f: f.module.rsplit(".", 1)[-1])
def test_every_family_declares_every_part(family):
    mod = inspect.getmodule(family.add)
    assert family.rows, "declares no row family"
    assert callable(family.add)
    assert (inspect.getmodule(__import__(family.module, fromlist=["_"])).__doc__ or "").strip(), \
        "module docstring (its algebra) is missing"
    assert mod is not None
    policy = [r for r in family.rows if not r.structural]
    if policy:
        assert callable(family.check), "a family with policy rows needs its independent check"
        # the check reads the result tables only: no LP matrix, no model code
        src = inspect.getsource(family.check)
        for forbidden in ("model.", ".lp", "expr.", "lp."):
            assert forbidden not in src, f"check uses {forbidden!r}: it must not read the model"
    if family.bounds is not None:
        assert callable(family.bounds)
    for r in family.rows:
        assert r.title and r.binding and r.relax, f"{r.name}: wording missing"
        r.describe(year="2026-27", subject="X", category="resource")  # formats
        assert r.switch is None or r.switch in Constraints.model_fields, \
            f"{r.name}: switch {r.switch!r} is not in settings.constraints"
        if r.structural:
            assert r.untamperable, f"{r.name}: structural rows must say why no plan breaks them"
        else:
            assert r.test in TEST_GROUPS and r.test != "user", "'user' is for user constraints"


@pytest.mark.parametrize("name", ROWS)
def test_every_row_family_is_in_the_formulation_doc(name):
    """docs/formulation.md has a table row for it: | `name` | algebra | ..."""
    assert re.search(rf"^\| `{name}` \|", FORMULATION, re.M), \
        f"docs/formulation.md lacks a table row for `{name}` (section 5)"


def test_wording_and_groups_come_from_the_declarations():
    assert set(PHRASES) == set(ROWS) == set(FAMILY_NAMES)
    grouped = [n for g in TESTS.values() for n in g]
    assert sorted(grouped) == sorted(POLICY) and len(grouped) == len(set(grouped))
    assert describe("programme_cap", "2026-27", "nhs", "") == "the cap on programme nhs in 2026-27"


def test_row_order_follows_declared_order(uk_dir):
    from allocator import load_instance
    from allocator.models.allocation import build_allocation_model

    lp = build_allocation_model(load_instance(uk_dir)).lp
    order = {n: i for i, n in enumerate(n for f in registry() for n in f.names)}
    seen = [order[b.family] for b in lp.row_blocks]
    assert seen == sorted(seen)


# ----------------------------------------------------------------------------- tamper (issue 10 §6)
@pytest.mark.parametrize("name,side", [(n, sd) for n in ROWS if not row_families()[n].untamperable
                                       for sd in sides(n)])
def test_breaking_one_row_is_named_by_the_checker_and_the_appraisal(name, side):
    """Every side the declared sense bounds (a ramp limit both up and down)."""
    label, inst, model, x, r, delta = broken_plan(name, side)
    rows = row_families()[name]
    lp = model.lp
    act = lp.A[[r]] @ x
    assert (act[0] > lp.row_upper[r] or act[0] < lp.row_lower[r]), "the plan does not break the row"
    t = result_tables(model, x)
    rep = check_plan(inst, t)
    assert name in {v.family for v in rep.violations}, \
        f"{label}: checker misses a {delta:.3g} breach of {name}:\n{rep.text()}"
    app = appraise(inst, t["allocations"], optimise=False)
    named = set(app.violations["constraint"])
    if rows.set_by_plan:
        # the appraisal derives this row's other side from the plan: it holds there
        assert name not in named
        return
    assert name in named, f"{label}: appraisal misses a {delta:.3g} breach of {name}: {sorted(named)}"
    assert not app.test(rows.test).passed


@pytest.mark.parametrize("name", [n for n in ROWS if row_families()[n].untamperable])
def test_untamperable_rows_are_structural(name):
    assert row_families()[name].structural


# ----------------------------------------------------------------------------- every appraisal test fails
def _baseline_plan(inst):
    """Standing still: baseline real spend grown with each programme's pressure index
    (pressures.csv), i.e. today's service per head of need, which scores exactly zero."""
    import pandas as pd

    from allocator.models.data import pressure_index

    lam = pressure_index(inst, inst.years)
    return pd.DataFrame([dict(year=y, programme=p.id, department=p.owners[0], funding="department",
                              spend_gbp_m=p.baseline_gbp_m * lam[i, t] * f.deflator)
                         for i, p in enumerate(inst.programmes)
                         for t, (y, f) in enumerate(zip(inst.years, inst.fiscal))])


def test_mission_critical_and_ten_year_fail_on_a_plan_below_baseline(uk_dir):
    """Cutting every programme by 10% in every year loses mission value against the baseline:
    both value tests fail (and the standing-still plan itself scores exactly zero)."""
    from allocator import load_instance

    inst = load_instance(uk_dir)
    plan = _baseline_plan(inst)
    a0 = appraise(inst, plan, optimise=False)
    assert a0.mission_value == pytest.approx(0.0, abs=1e-6)
    plan["spend_gbp_m"] *= 0.9
    a = appraise(inst, plan, optimise=False)
    assert a.mission_value < 0 and not a.test("mission_critical").passed
    assert not a.test("ten_year").passed


def test_ten_year_fails_when_only_the_terminal_value_is_negative(uk_dir):
    """Spend above baseline early (value inside the horizon) and cut a lagged programme in the
    last year (its effects fall after the horizon): mission critical passes, the 10-year test
    fails on the negative terminal value."""
    from allocator import load_instance

    inst = load_instance(uk_dir)
    plan = _baseline_plan(inst)
    lagged = {lw.profile for lw in inst.lag_profiles if lw.lag > 0 and lw.weight > 0}
    cut = [p.id for p in inst.programmes if p.lag_profile in lagged and p.baseline_gbp_m > 0]
    last = plan["year"] == inst.years[-1]
    plan.loc[last & plan["programme"].isin(cut), "spend_gbp_m"] *= 0.5
    first = plan["year"] == inst.years[0]
    app0 = appraise(inst, plan, optimise=False)
    assert app0.value_terminal < 0
    plan.loc[first, "spend_gbp_m"] *= 1.02
    a = appraise(inst, plan, optimise=False)
    assert a.value_terminal < 0
    assert not a.test("ten_year").passed
    if a.mission_value >= 0:
        assert a.test("mission_critical").passed


@pytest.mark.parametrize("group", [g for g in TEST_GROUPS if g != "user"])
def test_every_rule_based_test_fails_on_a_plan_made_to_fail_it(group):
    """For each rule-based group, a plan breaking one of its families (the first declared one
    a plan can break) fails that test (user constraints: tests/test_user_constraints.py)."""
    name = next(n for n in TESTS[group] if not row_families()[n].set_by_plan)
    label, inst, model, x, r, delta = broken_plan(name)
    a = appraise(inst, result_tables(model, x)["allocations"], optimise=False)
    assert not a.test(group).passed, a.test(group).summary
    assert a.test(group).figures["breaches"] >= 1
    assert not a.passed


def test_optimal_plans_break_nothing(tiny_dir, uk_dir):
    """Control for the tamper tests: the untampered optimum has no violations."""
    from allocator import load_instance, solve

    for d in (tiny_dir, uk_dir):
        inst = load_instance(d)
        res = solve(inst)
        rep = check_plan(inst, res.tables)
        assert rep.ok, rep.text()
        assert np.isfinite(res.objective)
