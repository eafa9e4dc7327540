"""`allocator verify` and determinism: saved results re-checked against their instance."""

import json
import shutil
import subprocess
import sys

import pytest

from allocator import load_instance, solve
from allocator.instance_writer import write_instance

CLI = [sys.executable, "-m", "allocator"]


def run(*args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    from tests.conftest import INSTANCES

    base = tmp_path_factory.mktemp("verify")
    inst_dir = base / "uk"
    shutil.copytree(INSTANCES / "uk_missions", inst_dir)
    out = base / "res"
    p = run("solve", inst_dir, "--out", out, "--quiet")
    assert p.returncode == 0, p.stderr
    return inst_dir, out


def test_fresh_results_verify(solved):
    inst_dir, out = solved
    p = run("verify", out, "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    rep = json.loads(p.stdout)
    assert rep["ok"] and rep["instance_hash_matches"] and rep["check"]["ok"]
    assert rep["check"]["checked"]["stability_rule"] == 7


def test_tampered_allocation_fails_verify_naming_the_rule(solved, tmp_path):
    inst_dir, out = solved
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    lines = (bad / "allocations.csv").read_text().splitlines()
    head = lines[0].split(",")
    row = lines[1].split(",")
    i = head.index("spend_gbp_m")
    row[i] = str(float(row[i]) + 5000.0)  # £5bn more cash than the real spend implies
    lines[1] = ",".join(row)
    (bad / "allocations.csv").write_text("\n".join(lines) + "\n")
    p = run("verify", bad)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "FAILED" in p.stdout and "cash_real" in p.stdout and "settlement" in p.stdout


def test_changed_instance_fails_the_hash(solved, tmp_path):
    inst_dir, out = solved
    other = tmp_path / "uk2"
    shutil.copytree(inst_dir, other)
    (other / "fiscal.csv").write_text((other / "fiscal.csv").read_text().replace("1304000", "1304001"))
    p = run("verify", out, "--instance", other, "--json")
    rep = json.loads(p.stdout)
    assert p.returncode == 2 and rep["instance_hash_matches"] is False
    assert "instance hash differs" in rep["problems"][0]


def test_not_a_results_folder_is_exit_1(tmp_path):
    p = run("verify", tmp_path)
    assert p.returncode == 1 and "summary.json not found" in p.stderr and "Traceback" not in p.stderr


def test_same_instance_gives_byte_identical_tables(tiny_dir, uk_dir, tmp_path):
    for d in (tiny_dir, uk_dir):
        inst = load_instance(d)
        a, b = tmp_path / f"{d.name}_a", tmp_path / f"{d.name}_b"
        solve(inst).write(a)
        solve(load_instance(d)).write(b)
        for name in ("allocations", "departments", "missions", "fiscal", "shadow_prices"):
            assert (a / f"{name}.csv").read_bytes() == (b / f"{name}.csv").read_bytes(), name
        sa = json.loads((a / "summary.json").read_text())
        assert sa["instance_sha256"] and sa["versions"]["highspy"] and "command" in sa


def test_verify_results_in_bn_unit(tiny_dir, tmp_path):
    d = write_instance(load_instance(tiny_dir), tmp_path / "tiny_bn", unit="gbp_bn")
    out = tmp_path / "r"
    assert run("solve", d, "--out", out, "-q").returncode == 0
    p = run("verify", out, "--json")
    rep = json.loads(p.stdout)
    assert p.returncode == 0 and rep["ok"], p.stdout
    assert json.loads((out / "summary.json").read_text())["money_unit"] == "gbp_bn"
