"""The shipped default instance: content promised by the issue, and a sensible optimum."""

import numpy as np
import pytest

from allocator import load_instance, solve


@pytest.fixture(scope="module")
def uk():
    from tests.conftest import INSTANCES

    inst = load_instance(INSTANCES / "uk_missions")
    return inst, solve(inst)


def test_content(uk):
    inst, _ = uk
    assert len(inst.programmes) >= 60
    assert 4 <= len(inst.settings.missions) <= 6
    assert len({m.group for m in inst.settings.missions}) == 5  # the five government missions
    assert inst.settings.weights.kind == "monetised"
    assert len(inst.years) == 10
    pie_owners = {o for p in inst.programmes if p.pie for o in p.owners}
    # the four prevention shifts: health, justice/policing, education, work and pensions
    for dept in ("DHSC", "MoJ", "DfE", "DWP"):
        assert dept in pie_owners, dept
    assert sum(p.mission_fund_can_fund for p in inst.programmes) >= 5
    assert sum(len(p.owners) >= 2 for p in inst.programmes) >= 5
    # SR2025 totals for 2026-27 (cash £m): RDEL 535,500, CDEL 142,700
    f0 = inst.fiscal[0]
    assert f0.rdel_envelope_gbp_m == pytest.approx(535_500) and f0.cdel_envelope_gbp_m == pytest.approx(142_700)
    assert sum(d.rdel_baseline_gbp_m for d in inst.departments) == pytest.approx(535_500, rel=1e-6)


def test_optimum_is_sensible(uk):
    inst, res = uk
    assert res.status == "optimal"
    assert res.objective > 0
    assert res.objective == pytest.approx(res.objective_in_horizon + res.objective_terminal)
    a = res.allocations
    by_year = a.groupby("year")["spend_gbp_m"].sum()
    f = res.fiscal.set_index("year")
    # all spend within DEL totals (limits) and envelopes
    assert (by_year <= f.rdel_gbp_m + f.cdel_gbp_m + 1e-3).all()
    env = f.rdel_envelope_gbp_m.notna()  # no envelope after SR2025's years: the rules govern
    assert env.sum() == 3
    assert (f.rdel_gbp_m[env] <= f.rdel_envelope_gbp_m[env] + 1e-3).all()
    # the PIE share meets its rising path
    pie = a[a.pie].groupby("year")["spend_gbp_m"].sum() / by_year
    s = inst.settings.pie
    path = np.array(s.share_path(len(inst.years)))
    assert (pie.to_numpy() >= path - 1e-9).all()
    # Mission Fund money only to eligible programmes
    eligible = {p.id for p in inst.programmes if p.mission_fund_can_fund}
    assert set(a.loc[(a.funding == "mission_fund") & (a.spend_gbp_m > 1e-6), "programme"]) <= eligible
    # fiscal rules hold in their target years
    fr = inst.settings.fiscal_rules
    for y in fr.stability_rule.target_years:
        assert f.loc[y, "stability_margin_gbp_m"] >= fr.headroom_gbp_m - 1e-3
    for y in fr.investment_rule.target_years:
        assert f.loc[y, "investment_margin_gbp_m"] >= fr.headroom_gbp_m - 1e-3
    # every programme appears in the allocation table
    assert a.programme.nunique() == len(inst.programmes)


def test_shadow_prices_in_user_terms(uk):
    _, res = uk
    sp = res.shadow_prices
    assert {"settlement", "del_envelope", "stability_rule"} <= set(sp.constraint)
    env = sp[sp.constraint == "del_envelope"]
    assert (env.shadow_price >= 0).all() and env.shadow_price.max() > 0
    assert res.binding is not None and len(res.binding) > 0


def test_independent_checker_on_every_family(uk, tmp_path):
    """Every constraint family, recomputed from the written tables (not the LP), holds."""
    import pandas as pd

    from allocator.checker import check_plan

    inst, res = uk
    res.write(tmp_path / "out")
    tables = {n: pd.read_csv(tmp_path / "out" / f"{n}.csv", keep_default_na=False, na_values=[""])
              for n in ("allocations", "departments", "fiscal")}
    rep = check_plan(inst, tables, objective=res.objective, rounding_gbp_m=5e-7)
    assert rep.ok, rep.text()
    for family in ("programme_floor", "programme_cap", "ramp_limit", "settlement",
                   "department_real_floor", "del_envelope", "pie_department_floor", "pie_share",
                   "mission_fund_size", "welfare_cap", "stability_rule", "investment_rule", "objective"):
        assert rep.checked.get(family, 0) > 0, family
    assert rep.objective == pytest.approx(res.objective, rel=1e-9)


def test_fiscal_mode_limits_equal_spend_and_rules_bind(uk_dir, tmp_path):
    """In fiscal mode there is no envelope: the stability rule binds in its target years and
    settlement limits equal departmental spend (no paper limits in untargeted years)."""
    import shutil

    import yaml

    d = tmp_path / "fiscal"
    shutil.copytree(uk_dir, d)
    y = yaml.safe_load((d / "instance.yaml").read_text())
    y["mode"] = "fiscal"
    (d / "instance.yaml").write_text(yaml.safe_dump(y, sort_keys=False))
    inst = load_instance(d)
    res = solve(inst)
    assert res.status == "optimal"
    dep = res.departments
    dep = dep[~dep.department.isin({b.devolved for b in inst.barnett})]  # Barnett sets those
    assert np.allclose(dep.rdel_gbp_m, dep.rdel_spend_gbp_m, atol=1e-6)
    assert np.allclose(dep.cdel_gbp_m, dep.cdel_spend_gbp_m, atol=1e-6)
    f = res.fiscal.set_index("year")
    targets = inst.settings.fiscal_rules.stability_rule.target_years
    assert (f.loc[targets, "stability_margin_gbp_m"] >= -1e-6).all()
    assert (f.loc[targets, "investment_margin_gbp_m"] >= -1e-6).all()
    # a rule binds in its target years (the investment rule, once the early years borrow)
    assert min(abs(f.loc[targets, "stability_margin_gbp_m"]).min(),
               abs(f.loc[targets, "investment_margin_gbp_m"]).min()) < 1e-3
    # without an envelope the plan spends more than the envelope-mode plan
    base = solve(load_instance(uk_dir))
    assert res.objective > base.objective
