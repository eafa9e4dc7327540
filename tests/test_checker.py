"""The independent feasibility checker: passes real optima, catches every tampered rule."""

import numpy as np
import pandas as pd
import pytest

from allocator import load_instance, solve
from allocator.checker import check_plan, green_book_discount
from allocator.models.data import discount_factors


@pytest.fixture(scope="module")
def uk():
    from tests.conftest import INSTANCES

    inst = load_instance(INSTANCES / "uk_missions")
    return inst, solve(inst)


def _tables(res):
    return {k: v.copy() for k, v in res.tables.items()}


def _families(report):
    return {v.family for v in report.violations}


def test_real_optimum_passes_every_family(uk):
    inst, res = uk
    rep = check_plan(inst, res.tables, objective=res.objective,
                     objective_in_horizon=res.objective_in_horizon,
                     objective_terminal=res.objective_terminal)
    assert rep.ok, rep.text()
    # every declared policy family with rows in the LP is checked (from the registry)
    from allocator.models.allocation import build_allocation_model
    from allocator.models.constraints import row_families

    lp = build_allocation_model(inst).lp
    built = {b.family for b in lp.row_blocks if not row_families()[b.family].structural}
    assert built >= {"programme_floor", "programme_cap", "ramp_limit", "settlement", "del_envelope",
                     "department_real_floor", "pie_department_floor", "pie_share",
                     "mission_fund_size", "welfare_cap", "stability_rule", "investment_rule"}
    assert built | {"objective"} <= set(rep.checked)
    assert rep.objective == pytest.approx(res.objective, rel=1e-9)


def test_discounting_is_computed_independently():
    for flat in (True, False):
        np.testing.assert_allclose(green_book_discount(0.035, 0.03, 0.025, 120, flat),
                                   discount_factors(0.035, 0.03, 0.025, 120, flat), rtol=1e-12)


def test_spend_above_a_cap_is_caught(uk):
    inst, res = uk
    t = _tables(res)
    a = t["allocations"]
    prog = next(p for p in inst.programmes if p.cap_gbp_m is not None and len(p.owners) == 1
                and not p.mission_fund_eligible)
    i = a.index[(a["programme"] == prog.id) & (a["year"] == inst.years[3])][0]
    a.loc[i, "real_spend_gbp_m"] = prog.cap_gbp_m + 50.0
    a.loc[i, "spend_gbp_m"] = (prog.cap_gbp_m + 50.0) * inst.fiscal[3].deflator
    rep = check_plan(inst, t, objective=res.objective)
    fam = _families(rep)
    assert "programme_cap" in fam and "objective" in fam
    v = next(v for v in rep.violations if v.family == "programme_cap")
    assert v.subject == prog.id and v.year == inst.years[3]
    assert v.amount == pytest.approx(50.0, abs=1e-6)


def test_envelope_breach_is_caught(uk):
    inst, res = uk
    t = _tables(res)
    d = t["departments"]
    d.loc[d.index[0], "rdel_gbp_m"] += 100_000.0  # raise one settlement by £100bn
    rep = check_plan(inst, t)
    fam = _families(rep)
    assert "del_envelope" in fam and "fiscal_table" in fam
    env = [v for v in rep.violations if v.family == "del_envelope"]
    assert env[0].year == d.loc[d.index[0], "year"] and env[0].subject == "resource"


def test_mission_fund_on_ineligible_programme_is_caught(uk):
    inst, res = uk
    t = _tables(res)
    a = t["allocations"]
    solo = next(p for p in inst.programmes if not p.mission_fund_can_fund)
    i = a.index[(a["programme"] == solo.id)][0]
    a.loc[i, ["department", "funding"]] = ["mission_fund", "mission_fund"]
    rep = check_plan(inst, t)
    assert "mission_fund_eligibility" in _families(rep)


def test_settlement_overspend_and_welfare_and_rules(uk):
    inst, res = uk
    t = _tables(res)
    d = t["departments"]
    # cut one department's resource settlement to zero: its spend now exceeds it
    j = d.index[d["rdel_spend_gbp_m"] > 1000][0]
    d.loc[j, "rdel_gbp_m"] = 0.0
    rep = check_plan(inst, t)
    assert "settlement" in _families(rep)
    # a tighter welfare cap and stability margin than the plan meets
    data = inst.model_dump()
    for row in data["fiscal"]:
        row["welfare_cap_gbp_m"] = row["welfare_capped_gbp_m"] - 10_000
    data["settings"]["fiscal_rules"]["stability_rule"]["required_margin_gbp_m"] = 1e6
    data["settings"]["fiscal_rules"]["headroom_gbp_m"] = 1e6
    data["settings"]["fiscal_rules"]["welfare_cap_margin"] = 0.0
    from allocator.schema import Instance

    rep = check_plan(Instance.model_validate(data), res.tables)
    assert {"welfare_cap", "stability_rule", "investment_rule"} <= _families(rep)


def test_objective_mismatch_is_caught(uk):
    inst, res = uk
    rep = check_plan(inst, res.tables, objective=res.objective * (1 + 1e-4))
    assert _families(rep) == {"objective"}


def test_solver_lie_becomes_check_failed_and_exit_2(tiny_dir, monkeypatch, tmp_path):
    """A back-end that claims optimal for a plan breaking the envelope is not believed."""
    from allocator.solvers.highs import HighsBackend

    real = HighsBackend.solve

    def lying(self):
        out = real(self)
        if out.x is not None:  # the second stage, started from the lie, finds no plan
            out.x = out.x * 1.5  # 50% more spend everywhere: breaks the envelope
        return out

    monkeypatch.setattr(HighsBackend, "solve", lying)
    res = solve(tiny_dir)
    assert res.status == "check_failed" and not res.ok
    assert "del_envelope" in res.message and "not reported as optimal" in res.message
    assert res.provenance["feasibility_check"]["ok"] is False

    from allocator.cli import main

    monkeypatch.setattr("sys.argv", ["allocator", "solve", str(tiny_dir), "--quiet",
                                     "--out", str(tmp_path / "r")])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 2
    import json

    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert s["status"] == "check_failed"


def test_missing_rows_and_unknown_names_are_reported(uk):
    inst, res = uk
    t = _tables(res)
    t["allocations"] = t["allocations"].iloc[5:]
    t["allocations"] = pd.concat([t["allocations"], t["allocations"].iloc[:1].assign(programme="ghost")])
    rep = check_plan(inst, t)
    msgs = [v.message for v in rep.violations if v.family == "table"]
    assert any("unknown programme" in m for m in msgs)
    assert any("no allocation row" in m for m in msgs)
