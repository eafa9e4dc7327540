"""Every money unit end to end, and exports that mean what `solve` reports.

The default instance is converted to £bn and £ (allocator.instance_writer rewrites every
money figure), then every command runs on each: the same plan, the same objective in the
instance's unit, labels that say the unit, and report/diff/plots/appraise/verify working on
the folders `solve` writes.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from allocator import load_instance, solve
from allocator.instance_writer import write_instance
from allocator.numerics import table_from_unit, unit_factor

CLI = [sys.executable, "-m", "allocator"]
UNITS = ("gbp_m", "gbp_bn", "gbp")
LABEL = {"gbp_m": "£m", "gbp_bn": "£bn", "gbp": "£"}
UK_OBJECTIVE_GBP_M = 614059.4617  # summary.json's objective on the default instance (£m-equivalent)


def run(*args, timeout=600):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def uk_units(tmp_path_factory):
    """The default instance in £m, £bn and £, each solved by the CLI into a results folder."""
    from tests.conftest import INSTANCES

    base = tmp_path_factory.mktemp("units_e2e")
    inst = load_instance(INSTANCES / "uk_missions")
    out = {}
    for u in UNITS:
        d = write_instance(inst, base / f"inst_{u}", unit=u)
        res = base / f"res_{u}"
        p = run("solve", d, "--out", res, "--plots", "--json")
        assert p.returncode == 0, p.stderr
        out[u] = (d, res, json.loads(p.stdout))
    return out


@pytest.mark.slow
def test_solve_reports_in_the_instance_unit_with_the_unit_named(uk_units):
    for u, (_, res, summary) in uk_units.items():
        f = unit_factor(u)
        assert summary["money_unit"] == u
        assert summary["objective"] * f == pytest.approx(UK_OBJECTIVE_GBP_M, rel=1e-8)
        assert summary["objective_unit"] == f"{LABEL[u]}-equivalent (monetised weights)"
        head = (res / "allocations.csv").read_text().splitlines()[0]
        assert f"spend_{u}" in head.split(",")
        assert (res / "plots" / "allocation_by_department.png").stat().st_size > 1000 or \
            any((res / "plots").glob("*.png"))


def test_validate_template_export_work_in_every_unit(uk_units, tmp_path):
    shas = set()
    for u, (inst_dir, _, _) in uk_units.items():
        p = run("validate", inst_dir, "--json")
        assert p.returncode == 0, p.stderr
        shas.add(json.loads(p.stdout)["instance_sha256"])
        book = tmp_path / f"{u}.xlsx"
        p = run("template", book, "--instance", inst_dir, "--json")
        assert p.returncode == 0, p.stderr
        back = load_instance(book)
        assert back.settings.money_unit == u
        lp = tmp_path / f"{u}.lp"
        assert run("export", inst_dir, "--format", "lp", lp).returncode == 0
        # the LP is the £m model whatever the unit: the same rows; only the objective's unit differs
        body = lp.read_text().split("st\n", 1)[1]
        if u == "gbp_m":
            ref_body = body
        else:
            assert len(body.splitlines()) == len(ref_body.splitlines())
    assert len(shas) == 3  # three different instance files, one plan (tested above)


@pytest.mark.slow
def test_report_diff_appraise_verify_work_in_every_unit(uk_units, tmp_path):
    ref_dir = uk_units["gbp_m"][1]
    for u, (inst_dir, res, _) in uk_units.items():
        # report: the headline objective in £m whatever the unit the files are in
        html = tmp_path / f"{u}.html"
        p = run("report", res, "--out", html, "--json")
        assert p.returncode == 0, p.stderr
        text = html.read_text()
        assert "614,059" in text and "£m-equivalent" in text
        assert f"results files in {u}; shown here in £m" in text
        # diff against the £m run: the same plan, so no change anywhere
        dd = tmp_path / f"diff_{u}"
        p = run("diff", ref_dir, res, "--out", dd, "--json")
        assert p.returncode == 0, p.stderr
        dj = json.loads((dd / "diff.json").read_text())
        changes = [abs(r["change_gbp_m"]) for r in dj["departments"]]
        assert max(changes) < 0.01  # £bn files hold 6 decimals: £500 per value at most
        assert len(changes) >= 10
        # appraise: solve's own allocations.csv (spend_gbp_bn / spend_gbp columns) passes every test
        p = run("appraise", inst_dir, res / "allocations.csv", "--json")
        assert p.returncode == 0, p.stdout + p.stderr
        aj = json.loads(p.stdout)
        assert aj["passed"] and aj["violations"] == []
        # (the £bn file's 6 decimals move the value by about 0.02 of 614,059)
        assert aj["plan_objective"] == pytest.approx(UK_OBJECTIVE_GBP_M, rel=1e-6)
        assert abs(aj["gap_to_optimal"]) < 1e-6 * UK_OBJECTIVE_GBP_M
        assert aj["objective_unit"] == "£m-equivalent (monetised weights)"
        # verify
        p = run("verify", res, "--json")
        assert p.returncode == 0, p.stdout + p.stderr
        assert json.loads(p.stdout)["ok"]


def test_a_plan_in_pounds_reads_like_the_same_plan_in_millions(tiny_dir):
    from allocator.appraise import appraise

    inst = load_instance(tiny_dir)
    res = solve(inst)
    plan = res.allocations[["year", "department", "programme", "funding", "spend_gbp_m"]].copy()
    in_pounds = plan.rename(columns={"spend_gbp_m": "spend_gbp"})
    in_pounds["spend_gbp"] = in_pounds["spend_gbp"] * 1e6
    a, b = appraise(inst, plan, optimise=False), appraise(inst, in_pounds, optimise=False)
    assert a.plan_objective == pytest.approx(184.5) and b.plan_objective == pytest.approx(184.5)
    assert a.passed and b.passed


def test_a_plan_with_two_spend_columns_is_refused(tiny_dir):
    from allocator.appraise import PlanError, appraise

    inst = load_instance(tiny_dir)
    plan = solve(inst).allocations[["year", "programme", "spend_gbp_m"]].copy()
    plan["spend_gbp_bn"] = plan["spend_gbp_m"] / 1000
    with pytest.raises(PlanError, match="exactly one cash spend column"):
        appraise(inst, plan, optimise=False)


def test_multi_owner_programmes_need_the_department_column(uk_dir):
    """A plan with only year, programme, spend_gbp_m: one clear problem, not one per row."""
    from allocator.appraise import PlanError, appraise

    inst = load_instance(uk_dir)
    plan = solve(inst).allocations
    plan = plan[plan["funding"] == "department"].groupby(["year", "programme"], as_index=False)[
        "spend_gbp_m"].sum()
    with pytest.raises(PlanError) as e:
        appraise(inst, plan, optimise=False)
    assert len(e.value.problems) == 1
    msg = str(e.value.problems[0])
    assert "column 'department'" in msg and "several owners" in msg


# --------------------------------------------------------------------------- target mode
def test_target_mode_objective_is_money_in_the_instance_unit(tmp_path):
    """Target mode minimises cash spend: its objective is money whatever the weights, so a
    £bn instance reports it in £bn (1/1000 of the £m figure) and says so."""
    from tests.conftest import INSTANCES

    inst = load_instance(INSTANCES / "tiny")
    data = inst.model_dump()
    m = data["settings"]["missions"][0]
    data["settings"]["objective"] = {"kind": "target_cost", "targets": [
        {"mission": m["id"], "year": inst.years[-1],
         "value": m["baseline_value"] + (0.01 if m["higher_is_better"] else -0.01)}]}
    from allocator.schema import Instance

    tgt = Instance.model_validate(data)
    assert tgt.settings.weights.kind == "priority"
    a = solve(tgt)
    b = solve(write_instance(tgt, tmp_path / "bn", unit="gbp_bn"))
    assert a.status == b.status == "optimal"
    assert a.objective < 0
    assert b.objective == pytest.approx(a.objective / 1000, rel=1e-9)
    assert b.objective_unit == "£bn cash (minus total programme spend; target mode)"
    assert a.objective_unit == "£m cash (minus total programme spend; target mode)"
    # shadow prices of a money objective per money are unit-free
    sa, sb = a.shadow_prices, b.shadow_prices
    np.testing.assert_allclose(sb["shadow_price"], sa["shadow_price"], rtol=1e-6, atol=1e-9)
    # mission values stay priority points
    np.testing.assert_allclose(b.missions["discounted_value"], a.missions["discounted_value"], rtol=1e-9)


# --------------------------------------------------------------------------- ModelSession
def test_session_with_the_instances_own_weights_keeps_a_bn_objective(uk_dir, tmp_path):
    from allocator.session import ModelSession

    inst = load_instance(uk_dir)
    bn = load_instance(write_instance(inst, tmp_path / "bn", unit="gbp_bn"))
    s = ModelSession(bn)
    q0 = s.solve()
    assert q0.objective == pytest.approx(UK_OBJECTIVE_GBP_M / 1000, rel=1e-8)  # £bn, as solve()
    s.set_weights([m.weight for m in bn.settings.missions])
    assert s.solve().objective == pytest.approx(q0.objective, rel=1e-9)
    s.set_weights({m.id: m.weight for m in bn.settings.missions})
    assert s.solve().objective == pytest.approx(q0.objective, rel=1e-9)
    # the instance's own fiscal columns (in £bn) leave it unchanged too
    s.set_fiscal(receipts_gbp_m=[r.receipts_gbp_m for r in bn.fiscal])
    assert s.solve().objective == pytest.approx(q0.objective, rel=1e-9)
    # and the full Result is in £bn like solve()'s
    r = s.result(explain=False)
    assert "spend_gbp_bn" in r.allocations.columns and r.money_unit == "gbp_bn"
    # doubling every weight doubles a monetised objective's value part (same plan)
    s.set_weights([2 * m.weight for m in bn.settings.missions])
    assert s.solve().objective == pytest.approx(2 * q0.objective, rel=1e-6)


# --------------------------------------------------------------------------- exports
def _glpk_objective(path: Path, *extra) -> float:
    out = path.with_suffix(".sol.txt")
    p = subprocess.run(["glpsol", *extra, "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    m = re.search(r"Objective:\s+\S+\s*=\s*(-?[0-9.eE+-]+)\s*\(MAXimum\)", out.read_text())
    assert m, out.read_text()[:500]
    return float(m.group(1))


def _cbc_objective(path: Path, *extra) -> float:
    p = subprocess.run(["cbc", str(path), *extra, "solve"], capture_output=True, text=True, timeout=600)
    m = re.search(r"Optimal objective\s+(-?[0-9.eE+-]+)", p.stdout)
    assert m, p.stdout[-2000:]
    return float(m.group(1))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("glpsol") is None or shutil.which("cbc") is None,
                    reason="GLPK and CBC are needed")
@pytest.mark.parametrize("unit", ["gbp_m", "gbp_bn"])
def test_glpk_and_cbc_on_the_export_reproduce_the_reported_objective(uk_dir, tmp_path, unit):
    inst_dir = write_instance(load_instance(uk_dir), tmp_path / "inst", unit=unit)
    res = solve(inst_dir)
    assert res.status == "optimal"
    lp, mps = tmp_path / "m.lp", tmp_path / "m.mps"
    for f, fmt in ((lp, "lp"), (mps, "mps")):
        p = run("export", inst_dir, "--format", fmt, f)
        assert p.returncode == 0, p.stderr
    rel = dict(rel=1e-7)
    assert _glpk_objective(lp, "--lp", str(lp)) == pytest.approx(res.objective, **rel)
    assert _cbc_objective(lp) == pytest.approx(res.objective, **rel)
    # fixed MPS has no standard objective sense: the file says OBJSENSE MAX, which HiGHS
    # reads, CBC 2.10 ignores (say `max`) and GLPK refuses (drop it, say --max): README's recipes
    assert _cbc_objective(mps, "max") == pytest.approx(res.objective, **rel)
    plain = tmp_path / "glpk.mps"
    plain.write_text(re.sub(r"OBJSENSE\n\s*MAX\n", "", mps.read_text()))
    assert _glpk_objective(plain, "--freemps", str(plain), "--max") == pytest.approx(res.objective, **rel)
    # and the objective's money unit is the instance's, as in summary.json
    assert res.objective * unit_factor(unit) == pytest.approx(UK_OBJECTIVE_GBP_M, rel=1e-8)
