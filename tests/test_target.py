"""Target mode: the cheapest plan that reaches mission targets, on the tiny instance.

Hand derivation (instances/tiny/README.md has the data; deflator 1, so cash = real £m).
Targets: wellbeing >= 150 in 2027-28 and >= 160 in 2028-29 (baseline 100, no trend).

- b1's floor forces £12m a year (gain 2.0 each): 36 of spend, +24 on the metric every year.
- 2027-28 needs 150 - 100 - 24 = 26 more. The cheapest metric per £ in that year is a1's
  first segment (3.0 per £m): 26 / 3 = £8.667m. (a2's effect would need 2026-27 spend at 2.5.)
- 2028-29 needs 160 - 124 = 36 more: a1's first segment in full (10 x 3 = 30) and then the
  next cheapest, a2 in 2027-28 (2.5 per £m, effect one year later): 6 / 2.5 = £2.4m.
  (a1's second segment gives 1.0 and b1 above its floor 2.0: dearer.)
- 2027-28 envelope: 12 + 8.667 + 2.4 = 23.07 <= 25; every other year within 25 too.

Minimum spend = 36 + 26/3 + 10 + 2.4 = 57.0667 (objective = -57.0667).
"""

import numpy as np
import pytest
import yaml

from allocator import InstanceError, load_instance, solve
from allocator.appraise import appraise

SPEND = 36 + 26 / 3 + 10 + 2.4


def _targets(folder, targets):
    y = yaml.safe_load((folder / "instance.yaml").read_text())
    y["objective"] = {"kind": "target_cost", "targets": targets}
    (folder / "instance.yaml").write_text(yaml.safe_dump(y))
    return load_instance(folder)


TARGETS = [{"mission": "wellbeing", "year": "2027-28", "value": 150.0},
           {"mission": "wellbeing", "year": "2028-29", "value": 160.0}]


def test_cheapest_plan_reaching_targets(tiny_copy):
    res = solve(_targets(tiny_copy, TARGETS))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(-SPEND, abs=1e-9)
    a = res.allocations.pivot_table(index="year", columns="programme", values="spend_gbp_m")
    assert np.allclose(a["b1"], 12.0)
    assert a.loc["2026-27", "a1"] == pytest.approx(0.0) and a.loc["2026-27", "a2"] == pytest.approx(0.0)
    assert a.loc["2027-28", "a1"] == pytest.approx(26 / 3) and a.loc["2027-28", "a2"] == pytest.approx(2.4)
    assert a.loc["2028-29", "a1"] == pytest.approx(10.0) and a.loc["2028-29", "a2"] == pytest.approx(0.0)
    m = res.missions.set_index("year")["value"]
    assert m["2027-28"] == pytest.approx(150.0) and m["2028-29"] == pytest.approx(160.0)
    # each target's shadow price is its marginal cost: 1/3 £m per point in 2027-28 (a1 at 3.0),
    # 1/2.5 in 2028-29 (a2 a year earlier)
    sp = res.shadow_prices.set_index(["constraint", "year"])["shadow_price"]
    assert sp[("mission_target", "2027-28")] == pytest.approx(1 / 3)
    assert sp[("mission_target", "2028-29")] == pytest.approx(1 / 2.5)


def test_lower_is_better_target(tiny_copy):
    """Flip the metric: 'at most' a value when lower is better."""
    y = yaml.safe_load((tiny_copy / "instance.yaml").read_text())
    y["missions"][0]["higher_is_better"] = False
    y["missions"][0]["baseline_value"] = 300.0
    (tiny_copy / "instance.yaml").write_text(yaml.safe_dump(y))
    res = solve(_targets(tiny_copy, [{"mission": "wellbeing", "year": "2027-28", "value": 250.0},
                                     {"mission": "wellbeing", "year": "2028-29", "value": 240.0}]))
    assert res.objective == pytest.approx(-SPEND, abs=1e-9)


def test_unreachable_target_is_explained(tiny_copy):
    # at most 25 a year: b1 12 + a1 10 at 3.0 + 3 more at 2.0 = 24 + 30 + 6 -> 160 in 2026-27
    res = solve(_targets(tiny_copy, [{"mission": "wellbeing", "year": "2026-27", "value": 300.0}]))
    assert res.status == "infeasible"
    assert "mission_target" in res.explanation.conflict
    assert "the wellbeing mission target in 2026-27" in res.message


def test_appraise_checks_targets(tiny_copy):
    inst = _targets(tiny_copy, TARGETS)
    res = solve(inst)
    a = appraise(inst, res.allocations)
    assert a.passed and a.test("targets").passed and a.gap == pytest.approx(0.0, abs=1e-9)
    plan = res.allocations.copy()
    plan.loc[(plan.programme == "a2") & (plan.year == "2027-28"), "spend_gbp_m"] = 0.0
    a = appraise(inst, plan)
    t = a.test("targets")
    assert not t.passed  # 2028-29 misses by 2.4 x 2.5 = 6 points
    assert t.figures["by_constraint"]["mission_target"]["min_margin_gbp_m"] == pytest.approx(-6.0)


def test_bad_target_reference(tiny_copy):
    with pytest.raises(InstanceError, match="unknown mission 'joy'"):
        _targets(tiny_copy, [{"mission": "joy", "year": "2027-28", "value": 1.0}])
    with pytest.raises(InstanceError, match="needs at least one target"):
        _targets(tiny_copy, [])


def test_target_mode_excel_round_trip(tiny_copy, tmp_path):
    from allocator import instance_sha256
    from allocator.excel import write_template

    inst = _targets(tiny_copy, TARGETS)
    back = load_instance(write_template(tmp_path / "t.xlsx", inst))
    assert instance_sha256(back) == instance_sha256(inst)


def test_report_findings_in_target_mode(tiny_copy, tmp_path):
    from allocator.report import findings
    from allocator.results_dir import from_result

    text = "\n".join(findings(from_result(solve(_targets(tiny_copy, TARGETS)), tmp_path)))
    assert "reaches all 2 mission targets spends £0.06bn" in text
    assert "The wellbeing target in 2027-28 binds: each extra unit of the metric would cost about £0.333m" in text


def test_session_keeps_target_objective(tiny_copy):
    """A ModelSession re-solve in target mode equals a cold solve of the changed instance."""
    import pandas as pd

    from allocator.session import ModelSession

    inst = _targets(tiny_copy, TARGETS)
    s = ModelSession(inst)
    assert s.solve().objective == pytest.approx(-SPEND)
    s.set_fiscal(rdel_envelope_gbp_m=np.array([25.0, 21.0, 25.0]))
    warm = s.solve()
    f = pd.read_csv(tiny_copy / "fiscal.csv")
    f.loc[1, "rdel_envelope_gbp_m"] = 21.0
    f.to_csv(tiny_copy / "fiscal.csv", index=False)
    cold = solve(load_instance(tiny_copy))
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    # 2027-28 (room 21 - 12 = 9) can no longer hold a1 8.667 + a2 2.4 = 11.067: the cheapest
    # fix frees 2.067 of a1 in 2027-28 (1/3 £m per point) and buys those 6.2 points with a2 in
    # 2026-27 (1/2.5 per point, effect a year later): +0.2 £m per £m freed (moving a2's 2028-29
    # points to b1 would cost +0.25). Spend rises by 0.2 x 2.067.
    assert cold.objective == pytest.approx(-(SPEND + 0.2 * (26 / 3 + 2.4 - 9)), abs=1e-9)


def test_independent_checker_covers_target_mode(tiny_copy):
    """The checker recomputes −spend as the objective and catches a plan that misses a target."""
    from allocator.checker import check_plan

    inst = _targets(tiny_copy, TARGETS)
    res = solve(inst)
    ok = check_plan(inst, res.tables, objective=res.objective)
    assert ok.ok and ok.objective == pytest.approx(-SPEND)
    tables = {k: v.copy() for k, v in res.tables.items()}
    a = tables["allocations"]
    hit = (a.programme == "a2") & (a.year == "2027-28")
    a.loc[hit, ["spend_gbp_m", "real_spend_gbp_m"]] = 0.0  # the 2028-29 target now misses by 6.0
    bad = check_plan(inst, tables)
    miss = [v for v in bad.violations if v.family == "mission_target"]
    assert len(miss) == 1 and miss[0].year == "2028-29" and miss[0].amount == pytest.approx(6.0)


def test_session_scale_gains_updates_target_rows(tiny_copy):
    """Effect sizes sit in the target rows' coefficients: a warm re-solve after scale_gains
    equals a cold solve of the instance with those gains (and reset restores the original)."""
    from allocator.session import ModelSession

    inst = _targets(tiny_copy, TARGETS)
    s = ModelSession(inst)
    assert s.solve().objective == pytest.approx(-SPEND, abs=1e-9)
    s.scale_gains(0.8, programmes=["a1"])
    warm = s.solve()
    data = inst.model_dump()
    for row in data["segments"]:
        if row["programme"] == "a1":
            row["gain_per_gbp_m"] *= 0.8
    cold = solve(type(inst).model_validate(data))
    assert warm.status == cold.status == "optimal"
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.objective < -SPEND  # weaker acute care: reaching the targets costs more
    s.reset()
    assert s.solve().objective == pytest.approx(-SPEND, abs=1e-9)
    res = s.result()
    assert res.status == "optimal"
