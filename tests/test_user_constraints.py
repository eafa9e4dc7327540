"""User constraints through the public build → modify → solve path (issue 13 item 2).

On the default instance the optimum spends £19,757.4m (cash) in 2027-28 on prevention (PIE)
programmes DHSC owns. Requiring £19,900m moves the plan: mission value falls by about £17.4m,
and the constraint binds with a positive shadow price. The README's "Extending the model"
runs the same example.
"""

import numpy as np
import pytest

import allocator
from allocator.checker import check_plan
from allocator.io import instance_sha256

BASE_VALUE = 190596.78217676422  # the default with its workforce limits (resources.csv)


def _constrained(value=19900.0):
    m = allocator.build(allocator.default_instance_path())
    prev = m.spend(department="DHSC", pie=True, year="2027-28").sum()
    m.add_constraint("dhsc_prevention_min", prev >= value, description="DHSC prevention spend")
    return m, prev


@pytest.fixture(scope="module")
def base():
    m = allocator.build(allocator.default_instance_path())
    return m, m.solve(keep_model=True)


@pytest.fixture(scope="module")
def constrained():
    m, prev = _constrained()
    return m, prev, m.solve(keep_model=True)


def test_expressions_are_labelled_rows(base):
    m, res = base
    e = m.spend(department="DHSC", pie=True, year="2027-28")
    assert list(e.index.columns) == ["programme", "year"] and (e.index["year"] == "2027-28").all()
    assert "nhs_primary_prevention" in set(e.index["programme"])
    a = res.tables["allocations"]
    dhsc_pie = {p.id for p in m.instance.programmes if p.pie and "DHSC" in p.owners}
    want = a[(a.year == "2027-28") & a.programme.isin(dhsc_pie)].spend_gbp_m.sum()
    assert e.sum().value(res)[0] == pytest.approx(want) == pytest.approx(19859.4)
    by_year = m.del_total(category="resource").value(res)
    assert by_year == pytest.approx(res.tables["fiscal"]["rdel_gbp_m"].to_numpy())
    g = m.gain(mission=m.data.missions[0])
    assert len(g) == m.data.T and g.kind == "metric units"
    with pytest.raises(KeyError, match="unknown department"):
        m.spend(department="NOPE")
    with pytest.raises(ValueError, match="cannot add"):
        m.spend(year="2027-28").sum() + m.gain(year="2027-28").sum()


def test_user_constraint_changes_the_plan_in_solve(base, constrained):
    _, r0 = base
    m, prev, res = constrained
    assert r0.objective == pytest.approx(BASE_VALUE, rel=1e-9)
    assert res.status == "optimal"
    assert prev.value(res)[0] == pytest.approx(19900.0, abs=1e-6)
    assert BASE_VALUE - res.objective == pytest.approx(17.38, abs=0.05)
    # shadow price: mission value lost per extra £1m required
    sp = res.tables["shadow_prices"].set_index("constraint").loc["dhsc_prevention_min"]
    assert sp["binding"] and sp["shadow_price"] == pytest.approx(0.4281, abs=1e-3)
    assert sp["year"] == "2027-28" and sp["subject"] == "DHSC prevention spend"
    # independent check re-evaluates it from the tables
    assert res.provenance["feasibility_check"]["ok"]
    assert res.provenance["feasibility_check"]["checked"]["dhsc_prevention_min"] == 1
    # provenance: hash of instance + constraints, constraint listed for summary.json
    plain = instance_sha256(m.user_instance)
    assert r0.provenance["instance_sha256"] == plain
    assert res.provenance["instance_sha256"] != plain
    (spec,) = res.provenance["user_constraints"]
    assert spec["name"] == "dhsc_prevention_min" and spec["rows"][0]["lower_gbp_m_or_metric"] == 19900.0


def test_warm_session_gives_the_same_plan_and_outputs(constrained):
    m, prev, res = constrained
    s = m.session()
    q = s.solve()
    assert q.status == "optimal" and q.objective == pytest.approx(res.objective, rel=1e-9)
    r = s.result()
    assert r.provenance["instance_sha256"] == res.provenance["instance_sha256"]
    assert r.provenance["feasibility_check"]["checked"]["dhsc_prevention_min"] == 1
    sp = r.tables["shadow_prices"].set_index("constraint").loc["dhsc_prevention_min"]
    assert sp["shadow_price"] == pytest.approx(0.4281, abs=1e-3)
    # a warm re-solve with changed parameters keeps the user row, and is checked
    s.scale_gains(1.1)
    q2 = s.solve()
    assert q2.status == "optimal"
    rr = s.result()
    assert rr.status == "optimal" and rr.provenance["feasibility_check"]["ok"]
    assert prev.E.shape[0] == 1
    allocs = rr.tables["allocations"]
    dhsc = {p.id for p in m.instance.programmes if p.pie and "DHSC" in p.owners}
    got = allocs[(allocs.year == "2027-28") & allocs.programme.isin(dhsc)].spend_gbp_m.sum()
    assert got >= 19900.0 - 1e-6


def test_checker_and_appraisal_name_a_broken_user_constraint(base, constrained):
    """The unconstrained optimum breaks the user constraint by £40.6m: the independent check
    (from the tables) and the appraisal (test user_constraints) both name it."""
    _, r0 = base
    m, _, _ = constrained
    rep = check_plan(m.instance, r0.tables, extra_families=m.user_families)
    (v,) = [v for v in rep.violations if v.family == "dhsc_prevention_min"]
    assert v.amount == pytest.approx(19900.0 - 19859.4, abs=1e-6) and v.year == "2027-28"
    a = m.appraise(r0.tables["allocations"], optimise=False)
    t = a.test("user_constraints")
    assert not t.passed and t.figures["by_constraint"]["dhsc_prevention_min"]["min_margin_gbp_m"] == \
        pytest.approx(-40.6, abs=1e-6)
    assert "the user constraint dhsc_prevention_min: DHSC prevention spend 2027-28" in t.summary


def test_infeasible_user_constraint_is_explained():
    m, _ = _constrained(20000.0)
    res = m.solve()
    assert res.status == "infeasible"
    assert "dhsc_prevention_min" in res.explanation.conflict
    # the £37.8m can come from any DHSC prevention programme's ramp (a tie the elastic program
    # breaks by its own rule); the size and the family are what matter
    assert "the ramp limit on programme " in res.message
    assert "into 2027-28 widened by £37.8m" in res.message


def test_verify_refuses_an_extended_run_against_the_bare_instance(constrained, tmp_path):
    from allocator.verify import verify_results

    _, _, res = constrained
    out = res.write(tmp_path / "run")
    rep = verify_results(out, allocator.default_instance_path())
    assert not rep.ok and not rep.hash_ok
    assert any("user constraint" in p for p in rep.problems)


def test_money_constants_follow_the_instance_unit(tmp_path):
    """The same constraint in £bn on the instance written in £bn gives the same plan."""
    from allocator import load_instance
    from allocator.instance_writer import write_instance

    inst = load_instance(allocator.default_instance_path())
    bn = load_instance(write_instance(inst, tmp_path / "bn", unit="gbp_bn"))
    m = allocator.build(bn)
    m.add_constraint("dhsc_prevention_min",
                     m.spend(department="DHSC", pie=True, year="2027-28").sum() >= 19.9)
    res = m.solve()
    a = res.tables["allocations"]
    dhsc = {p.id for p in inst.programmes if p.pie and "DHSC" in p.owners}
    got = a[(a.year == "2027-28") & a.programme.isin(dhsc)].spend_gbp_bn.sum()
    assert res.status == "optimal" and got == pytest.approx(19.9, abs=1e-9)
    s = m.session()
    assert s.solve().objective == pytest.approx(res.objective, rel=1e-9)


def test_session_checks_a_seeded_sample_and_every_result():
    from allocator.session import ModelSession

    s = ModelSession(allocator.default_instance_path(), check_sample=0.5, check_seed=7)
    for f in np.linspace(0.8, 1.2, 8):
        s.scale_gains(float(f))
        assert s.solve().status == "optimal"
    first = s.checks
    assert 1 <= first < 8 and not s.check_failures
    s2 = ModelSession(allocator.default_instance_path(), check_sample=0.5, check_seed=7)
    for f in np.linspace(0.8, 1.2, 8):
        s2.scale_gains(float(f))
        s2.solve()
    assert s2.checks == first  # same seed, same sample
    r = s.result()
    assert r.provenance["feasibility_check"]["ok"]


def test_session_check_catches_a_planted_bug():
    """A session whose solver lost a binding family's rows (the DEL envelope, relaxed in the
    solver only: a planted bug) reports an optimal plan that breaks it: the session's check
    turns it into check_failed, on the fast path and in result() (issue 10 §6)."""
    from allocator.session import ModelSession

    s = ModelSession(allocator.default_instance_path(), check_sample=1.0)
    b = s.model.lp.family("del_envelope")
    rows = np.arange(b.start, b.start + b.size)
    s.backend.set_row_bounds(rows, np.full(len(rows), -np.inf), np.full(len(rows), np.inf))
    q = s.solve()
    assert q.status == "check_failed"
    assert any(v.family == "del_envelope" for v in s.check_failures[-1])
    assert s.result().status == "check_failed"


def test_readme_example_runs_as_written():
    """README "Extending the model": the code block runs and its comment's figures hold."""
    import re

    from tests.conftest import ROOT

    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Extending the model.*?```python\n(.*?)```", text, re.S).group(1)
    ns = {}
    exec(compile(block, "README.md", "exec"), ns)
    res, res2 = ns["res"], ns["res2"]
    assert res.objective == pytest.approx(190579.4, abs=0.05)
    assert BASE_VALUE - res.objective == pytest.approx(17.4, abs=0.05)
    assert res2.status == "optimal" and res2.objective > res.objective
    assert res.provenance["instance_sha256"] != instance_sha256(ns["m"].user_instance)
