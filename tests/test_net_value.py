"""Net value: NPV, BCR, marginal BCR and the net_value objective (formulation §4c)."""

import json

import pytest
import yaml

from allocator import load_instance, solve


def test_tiny_npv_bcr_by_hand(tiny_dir, tmp_path):
    """tiny: no discounting, deflator 1, baselines 0. The plan spends the whole £25m envelope
    each year (b1 12, a1 10, a2 3) for value 184.5, so extra cost C = 75:
    NPV = 184.5 − 75 = 109.5, BCR = 2.46. The marginal £m each year goes to a2 (2.5 a £m)."""
    res = solve(tiny_dir)
    nv = res.net_value
    assert nv["extra_cost_gbp_m"] == pytest.approx(75.0, abs=1e-7)
    assert nv["npv_gbp_m"] == pytest.approx(109.5, abs=1e-7)
    assert nv["bcr"] == pytest.approx(184.5 / 75, abs=1e-9)
    m = res.tables["marginal_bcr"]
    rdel = m[m.category == "resource"]
    assert list(rdel["marginal_bcr"]) == pytest.approx([2.5, 2.5, 2.5], abs=1e-7)
    p = res.tables["value_programmes"].set_index("programme")
    assert p.loc["b1", "benefit_gbp_m"] == pytest.approx(72.0, abs=1e-7)  # 12 × 2 × 3 years
    assert p.loc["b1", "bcr"] == pytest.approx(2.0, abs=1e-9)
    d = res.tables["value_departments"].set_index("department")
    assert d.loc["A", "npv_gbp_m"] + d.loc["B", "npv_gbp_m"] == pytest.approx(109.5, abs=1e-7)
    out = res.write(tmp_path / "r")
    s = json.loads((out / "summary.json").read_text())
    assert s["net_value"]["bcr"] == pytest.approx(2.46)
    assert (out / "marginal_bcr.csv").is_file() and (out / "value_programmes.csv").is_file()


def _with(tiny_copy, **appraisal_and_objective):
    y = yaml.safe_load((tiny_copy / "instance.yaml").read_text())
    y.update(appraisal_and_objective)
    (tiny_copy / "instance.yaml").write_text(yaml.safe_dump(y))
    return tiny_copy


def test_net_value_objective_stops_spending_below_cost(tiny_copy):
    """λ = 2.6: only a1's first segment (3.0 a £m) beats the cost; b1 stays at its floor of
    12 (2.0 a £m), a2 (2.5) and a1's second segment (1.0) are not bought. Value 3 × (30 + 24)
    = 162, cost 3 × 22 = 66; net value 162 − 2.6 × 66 = −9.6 (the floor is a loss)."""
    res = solve(_with(tiny_copy, objective={"kind": "net_value"},
                      appraisal={"cost_of_public_funds": 2.6}))
    assert res.status == "optimal"  # the independent check recomputes V − λC
    assert res.objective == pytest.approx(-9.6, abs=1e-7)
    a = res.tables["allocations"].groupby("programme")["spend_gbp_m"].sum()
    assert a["a1"] == pytest.approx(30.0, abs=1e-6) and a["a2"] == pytest.approx(0.0, abs=1e-6)
    assert res.net_value["benefit_gbp_m"] == pytest.approx(162.0, abs=1e-7)
    assert res.net_value["npv_gbp_m"] == pytest.approx(-9.6, abs=1e-7)


def test_default_marginal_bcr_falls_below_one_by_2035(uk_dir):
    """README: £1m more RDEL is worth £1.80m in 2026-27 but under £1m of cost by 2035-36."""
    res = solve(load_instance(uk_dir))
    m = res.tables["marginal_bcr"].query("category == 'resource'").set_index("year")["marginal_bcr"]
    assert m["2026-27"] == pytest.approx(1.80, abs=0.01)
    assert m["2035-36"] < 1.0
    assert res.net_value["bcr"] > 1.0


def test_floor_shadow_price_is_the_value_of_lowering_it(uk_dir):
    """moj_other's floor binds every year. Its rows say 'lowering' with a negative value if
    raised; by concavity, lowering the floor by £10m a year gains at most 10·Σ|y| and raising
    it loses at least that much (measured: +115.4 and −133.4 on the default)."""
    inst = load_instance(uk_dir)
    res = solve(inst)
    sp = res.tables["shadow_prices"].query("constraint == 'programme_floor' and subject == 'moj_other'")
    assert (sp["helps"] == "lowering").all() and (sp["value_if_raised"] < 0).all()
    total = float(sp["shadow_price"].sum())
    moved = {}
    for d in (-10.0, 10.0):
        other = load_instance(uk_dir)
        next(p for p in other.programmes if p.id == "moj_other").floor_gbp_m += d
        moved[d] = solve(other).objective - res.objective
    assert 0 < moved[-10.0] <= 10 * total + 1e-6
    assert moved[10.0] <= -10 * total + 1e-6 < 0


def test_rdel_cut_is_explained_aggregates_first_without_off_the_books_spending(uk_dir):
    """A 10% cut to every RDEL envelope: the explanation leads with the resource DEL envelope's
    shortfall by year (largest in the early years, smaller by 2035-36) and never relaxes a
    settlement row (spending above a limit no rule counts)."""
    inst = load_instance(uk_dir)
    for f in inst.fiscal:
        f.rdel_envelope_gbp_m *= 0.9
    res = solve(inst)
    assert res.status == "infeasible"
    ex = res.explanation
    assert "settlement" not in set(ex.relaxations["family"])
    assert ex.summary[0].startswith("Resource DEL envelopes must be raised by")
    env = ex.by_rule.query("family == 'del_envelope' and category == 'resource'").set_index("year")
    first, last = env["relaxation_gbp_m"].iloc[0], env["relaxation_gbp_m"].iloc[-1]
    assert env.index[0] == inst.years[0] and first > 10_000 and last < first
    assert "By rule and year:" in ex.text() and ex.text().index("By rule") < ex.text().index("In detail")
