"""The mission test appraisal: an optimal plan passes with zero gap; a plan that breaks a named
rule fails that test with the right margin; bad plan files get clear errors."""

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from allocator import load_instance, solve
from allocator.appraise import PlanError, appraise


@pytest.mark.parametrize("name", ["tiny", "uk_missions"])
def test_optimal_plan_passes_every_test_with_zero_gap(name):
    from tests.conftest import INSTANCES

    inst = load_instance(INSTANCES / name)
    res = solve(inst)
    a = appraise(inst, res.allocations)
    assert a.passed, [t.summary for t in a.tests]
    assert a.gap == pytest.approx(0.0, abs=1e-6 * abs(res.objective))
    assert a.mission_value == pytest.approx(res.objective, rel=1e-9)
    assert a.value_in_horizon == pytest.approx(res.objective_in_horizon, rel=1e-9)
    assert a.value_terminal == pytest.approx(res.objective_terminal, rel=1e-9)
    assert a.violations.empty


def test_optimal_plan_read_from_csv(tiny_dir, tmp_path):
    inst = load_instance(tiny_dir)
    out = solve(inst).write(tmp_path / "res")
    a = appraise(inst, out / "allocations.csv")
    assert a.passed and a.gap == pytest.approx(0.0, abs=1e-4)


@pytest.fixture
def tiny_with_rules(tiny_copy):
    """tiny plus a stability rule (margin 8 in 2027-28) and a 10% PIE share floor. The hand
    optimum is unchanged: RDEL 25 leaves a current balance of 410 - 25 - 375 = 10 >= 8, and a2
    (PIE) takes 3 of 25 = 12% >= 10%."""
    y = yaml.safe_load((tiny_copy / "instance.yaml").read_text())
    y["constraints"].update(stability_rule=True, pie_share=True)
    y["fiscal_rules"]["stability_rule"] = {"target_years": ["2027-28"], "required_margin_gbp_m": 8.0}
    y["pie"] = {"share_start": 0.10}
    (tiny_copy / "instance.yaml").write_text(yaml.safe_dump(y))
    return tiny_copy


def _plan(inst):
    res = solve(inst)
    assert res.objective == pytest.approx(184.5)
    return res.allocations.copy()


def test_breaking_the_stability_rule_fails_affordability_with_margin(tiny_with_rules):
    inst = load_instance(tiny_with_rules)
    plan = _plan(inst)
    sel = (plan.programme == "b1") & (plan.year == "2027-28")
    plan.loc[sel, "spend_gbp_m"] += 4.0  # RDEL 29: balance 410 - 29 - 375 = 6, rule needs 8
    a = appraise(inst, plan)
    aff = a.test("affordability")
    assert not aff.passed and not a.passed
    v = a.violations.set_index("constraint")
    assert v.loc["stability_rule", "margin_gbp_m"] == pytest.approx(-2.0)
    assert v.loc["stability_rule", "description"] == "the stability rule (current budget margin) in 2027-28"
    assert v.loc["del_envelope", "margin_gbp_m"] == pytest.approx(-4.0)
    assert aff.figures["by_constraint"]["stability_rule"]["min_margin_gbp_m"] == pytest.approx(-2.0)
    assert "by £4.0m" in aff.summary  # the worst breach: the resource envelope
    # the other tests still pass: b1 gains 4 x 2.0 in 2027-28 (it is over budget, not worse)
    assert a.test("pie_protection").passed and a.test("deliverability").passed
    assert a.gap == pytest.approx(-8.0)


def test_cutting_prevention_fails_pie_protection(tiny_with_rules):
    inst = load_instance(tiny_with_rules)
    plan = _plan(inst)
    a2 = (plan.programme == "a2") & (plan.year == "2026-27")
    a1 = (plan.programme == "a1") & (plan.year == "2026-27")
    plan.loc[a1, "spend_gbp_m"] += 3.0  # a2's £3m moved to a1's second segment (gain 1.0, not 2.5)
    plan.loc[a2, "spend_gbp_m"] = 0.0
    a = appraise(inst, plan)
    pie = a.test("pie_protection")
    assert not pie.passed and a.test("affordability").passed
    row = a.violations.iloc[0]
    # PIE 0 against 10% of £25m
    assert row["constraint"] == "pie_share" and row["margin_gbp_m"] == pytest.approx(-2.5)
    assert a.gap == pytest.approx(3 * (2.5 - 1.0))


def test_bad_plan_names_file_row_field(tiny_dir, tmp_path):
    inst = load_instance(tiny_dir)
    f = tmp_path / "plan.csv"
    f.write_text("year,programme,spend_gbp_m\n2026-27,a1,10\n2026-27,zz,5\n2040-41,a1,1\n2027-28,b1,-3\n")
    with pytest.raises(PlanError) as ei:
        appraise(inst, f)
    msgs = [str(p) for p in ei.value.problems]
    assert "plan.csv: row 3, field 'programme': unknown programme (value: 'zz')" in msgs
    assert any(m.startswith("plan.csv: row 4, field 'year'") for m in msgs)
    assert any(m.startswith("plan.csv: row 5, field 'spend_gbp_m'") and "-3" in m for m in msgs)


def test_cli_appraise(tiny_dir, tmp_path):
    out = tmp_path / "res"
    solve(load_instance(tiny_dir)).write(out)
    plan = pd.read_csv(out / "allocations.csv")
    plan.loc[plan.programme == "b1", "spend_gbp_m"] = 10.0  # under b1's floor of 12
    plan.to_csv(tmp_path / "plan.csv", index=False)
    p = subprocess.run([sys.executable, "-m", "allocator", "appraise", str(tiny_dir),
                        str(tmp_path / "plan.csv"), "--json", "--out", str(tmp_path / "app")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 4, p.stdout + p.stderr
    d = json.loads(p.stdout)
    assert not d["passed"]
    t = {x["name"]: x for x in d["tests"]}
    assert not t["deliverability"]["passed"] and t["affordability"]["passed"]
    assert t["deliverability"]["figures"]["by_constraint"]["programme_floor"]["min_margin_gbp_m"] == \
        pytest.approx(-2.0)
    assert (tmp_path / "app" / "appraisal.json").is_file()
    p = subprocess.run([sys.executable, "-m", "allocator", "appraise", str(tiny_dir),
                        str(out / "allocations.csv")], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "PASS" in p.stdout


from hypothesis import given, settings, strategies as st  # noqa: E402

_TINY = {}


def _tiny_inst():
    from tests.conftest import INSTANCES

    if not _TINY:
        inst = load_instance(INSTANCES / "tiny")
        _TINY["inst"], _TINY["opt"] = inst, solve(inst).objective
    return _TINY["inst"], _TINY["opt"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 15, allow_nan=False), min_size=9, max_size=9))
def test_random_plans_value_and_gap(spends):
    """Any plan on tiny: its mission value is the hand response (a1: 3.0 on the first £10m, 1.0
    on the next 10; a2: 2.5 on the first £5m, a year later, still counted after the horizon;
    b1: 2.0 on the first £20m; no discounting), and a plan that breaks no rule is never better
    than the optimum (gap >= 0)."""
    inst, opt = _tiny_inst()
    years = inst.years
    rows, value = [], 0.0
    for t, y in enumerate(years):
        a1, a2, b1 = spends[3 * t:3 * t + 3]
        rows += [dict(year=y, programme="a1", spend_gbp_m=a1), dict(year=y, programme="a2", spend_gbp_m=a2),
                 dict(year=y, programme="b1", spend_gbp_m=b1)]
        value += 3.0 * min(a1, 10) + 1.0 * min(max(a1 - 10, 0), 10) + 2.5 * min(a2, 5) + 2.0 * min(b1, 20)
    a = appraise(inst, pd.DataFrame(rows), optimise=False)
    assert a.mission_value == pytest.approx(value, abs=1e-9)
    assert a.plan_objective == pytest.approx(value, abs=1e-9)
    over = [max(0.0, sum(spends[3 * t:3 * t + 3]) - 25.0) for t in range(3)]
    env = a.constraints[a.constraints.constraint == "del_envelope"]
    env = env[env.category == "resource"].set_index("year")["margin_gbp_m"]
    assert [min(0.0, env[y]) for y in years] == pytest.approx([-o for o in over], abs=1e-9)
    if a.test("affordability").passed and a.test("deliverability").passed:
        assert value <= opt + 1e-9


def test_an_optimum_that_leaves_settlement_unspent_passes(uk_dir):
    """Every department's real-terms floor at 1.0: some departments' programmes cannot absorb
    their floor (caps and ramps), so the optimum sets limits above spend. The appraisal gives
    the plan those settlements (the least that meet every rule) and it passes, with the
    unspent amounts noted; before, it took settlements = spend and found 61 breaches."""
    from allocator.schema import Instance

    data = load_instance(uk_dir).model_dump()
    for d in data["departments"]:
        d["real_floor"] = 1.0
    inst = Instance.model_validate(data)
    res = solve(inst)
    assert res.status == "optimal"
    dep = res.departments
    unspent = (dep["rdel_gbp_m"] + dep["cdel_gbp_m"] - dep["rdel_spend_gbp_m"] - dep["cdel_spend_gbp_m"])
    assert unspent.sum() > 20_000  # £22.2bn of limits above spend over the horizon
    a = appraise(inst, res.allocations)
    assert a.passed, [t.summary for t in a.tests if not t.passed]
    assert a.violations.empty
    assert a.gap == pytest.approx(0.0, abs=1e-6 * abs(res.objective))
    fcdo = [n for n in a.notes if n.startswith("FCDO:")]
    assert fcdo and "left unspent" in fcdo[0]


def test_a_floor_no_settlement_can_meet_is_still_a_breach(uk_dir):
    """When no settlements make every rule hold (here: real-terms floors of 1.3 that the DEL
    envelopes cannot hold), the appraisal falls back to the settlements that cover the plan
    and names the broken floors."""
    from allocator.schema import Instance

    inst = load_instance(uk_dir)
    res = solve(inst)
    data = inst.model_dump()
    for d in data["departments"]:
        d["real_floor"] = 1.3
    a = appraise(Instance.model_validate(data), res.allocations, optimise=False)
    assert not a.test("affordability").passed
    assert set(a.violations["constraint"]) == {"department_real_floor"}
    assert not any("left unspent" in n for n in a.notes)
