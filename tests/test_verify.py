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


# --------------------------------------------------------------------------- every table
def _edit_cell(folder, table, column, row, change):
    import pandas as pd

    f = folder / f"{table}.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df.loc[row, column] = change(df.loc[row, column])
    df.to_csv(f, index=False)


@pytest.mark.parametrize("table, column, row, change, expect", [
    ("missions", "value", 3, lambda v: str(float(v) + 0.5), "missions.csv: row 5, column 'value'"),
    ("missions", "discounted_value", 0, lambda v: str(float(v) * 1.01), "missions.csv: row 2, column 'discounted_value'"),
    ("fiscal", "headroom_gbp_m", 2, lambda v: str(float(v) + 1.0), "fiscal.csv: row 4, column 'headroom_gbp_m'"),
    ("fiscal", "stability_target", 0, lambda v: "False" if v == "True" else "True", "fiscal.csv: row 2, column 'stability_target'"),
    ("fiscal", "psnfl_pct_gdp", 6, lambda v: str(float(v) - 0.1), "fiscal.csv: row 8, column 'psnfl_pct_gdp'"),
    ("departments", "pie_floor_gbp_m", 1, lambda v: str(float(v) + 1.0), "departments.csv: row 3, column 'pie_floor_gbp_m'"),
    ("shadow_prices", "slack", 10, lambda v: str(float(v) + 7.0), "shadow_prices.csv: row 12, column 'slack'"),
    ("shadow_prices", "shadow_price", 0, lambda v: str(float(v) + 0.25), "shadow_prices.csv: row 2, column 'shadow_price'"),
    ("allocations", "category", 0, lambda v: "capital" if v == "resource" else "resource", "allocations.csv: row 2, column 'category'"),
])
def test_an_edit_to_any_table_fails_verify_naming_file_row_and_column(solved, tmp_path, table, column,
                                                                      row, change, expect):
    _, out = solved
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    _edit_cell(bad, table, column, row, change)
    p = run("verify", bad, "--json")
    rep = json.loads(p.stdout)
    assert p.returncode == 2 and not rep["ok"], p.stdout
    assert any(expect in q for q in rep["problems"]), rep["problems"]


@pytest.mark.parametrize("field, value, expect", [
    ("status", "infeasible", "summary.json says status 'infeasible', yet the folder holds plan tables"),
    ("status", "bogus", "field 'status' is 'bogus'"),
    ("objective", 600000.0, "is not the optimum"),
    ("objective_unit", "£bn-equivalent (monetised weights)", "field 'objective_unit'"),
    ("money_unit", "gbp_bn", "money unit differs"),
])
def test_an_edit_to_the_summary_fails_verify(solved, tmp_path, field, value, expect):
    _, out = solved
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    s = json.loads((bad / "summary.json").read_text())
    s[field] = value
    (bad / "summary.json").write_text(json.dumps(s))
    p = run("verify", bad, "--json")
    rep = json.loads(p.stdout)
    assert p.returncode == 2 and not rep["ok"]
    assert any(expect in q for q in rep["problems"]), rep["problems"]


def test_an_infeasible_claim_is_checked_by_solving_again(solved, tmp_path):
    """A folder whose tables were removed and whose status says infeasible: the instance
    solves, so verify says so."""
    _, out = solved
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    for t in ("allocations", "departments", "missions", "fiscal", "shadow_prices"):
        (bad / f"{t}.csv").unlink()
    s = json.loads((bad / "summary.json").read_text())
    s.update(status="infeasible", objective=None, objective_in_horizon=None, objective_terminal=None)
    (bad / "summary.json").write_text(json.dumps(s))
    p = run("verify", bad, "--json")
    rep = json.loads(p.stdout)
    assert p.returncode == 2
    assert any("solving the instance again gives 'optimal'" in q for q in rep["problems"]), rep["problems"]


def test_verify_finds_the_installed_default_by_its_hash(tmp_path):
    """After a reinstall the recorded site-packages path is stale: verify without --instance
    finds the shipped instance with the recorded SHA-256."""
    out = tmp_path / "res"
    assert run("solve", "--out", out, "-q").returncode == 0
    s = json.loads((out / "summary.json").read_text())
    s["instance_path"] = str(tmp_path / "old-venv" / "site-packages" / "allocator" / "instances" / "uk_missions")
    (out / "summary.json").write_text(json.dumps(s))
    p = run("verify", out, "--json")
    rep = json.loads(p.stdout)
    assert p.returncode == 0 and rep["ok"], p.stdout + p.stderr
    assert rep["instance"].endswith("uk_missions") and "old-venv" not in rep["instance"]
    # an unknown hash and a stale path: a clear message, exit 1
    s["instance_sha256"] = "0" * 64
    (out / "summary.json").write_text(json.dumps(s))
    p = run("verify", out)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "does not exist" in p.stderr and "--instance" in p.stderr


def test_an_infeasible_folder_is_checked_against_the_elastic_program(tiny_copy, tmp_path):
    """tiny with a floor of 30 against envelopes of 25: the smallest relaxation is 3 × £5m.
    A true infeasible folder verifies; an edited relaxation or an edited status does not."""
    text = (tiny_copy / "programmes.csv").read_text().replace(",0,12,,,now", ",0,30,,,now")
    (tiny_copy / "programmes.csv").write_text(text)
    out = tmp_path / "res"
    assert run("solve", tiny_copy, "--out", out, "-q").returncode == 2
    p = run("verify", out, "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["ok"], p.stdout + p.stderr
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    _edit_cell(bad, "infeasibility", "relaxation_gbp_m", 0, lambda v: str(float(v) - 1.0))
    rep = json.loads(run("verify", bad, "--json").stdout)
    assert not rep["ok"]
    assert any("relaxations total 14.000000 £m; the elastic program solved again gives 15.000000"
               in q for q in rep["problems"]), rep["problems"]
    bad2 = tmp_path / "bad2"
    shutil.copytree(out, bad2)
    s = json.loads((bad2 / "summary.json").read_text())
    s["status"] = "unbounded"
    (bad2 / "summary.json").write_text(json.dumps(s))
    rep = json.loads(run("verify", bad2, "--json").stdout)
    assert any("solving the instance again gives 'infeasible'" in q for q in rep["problems"])


def test_a_flipped_binding_flag_fails_verify(solved, tmp_path):
    import pandas as pd

    _, out = solved
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    sp = pd.read_csv(out / "shadow_prices.csv")
    i = int(sp.index[(~sp["binding"]) & (sp["slack"] > 100)][0])
    _edit_cell(bad, "shadow_prices", "binding", i, lambda v: "True")
    rep = json.loads(run("verify", bad, "--json").stdout)
    assert any(f"shadow_prices.csv: row {i + 2}, column 'binding': saved True" in q
               for q in rep["problems"]), rep["problems"]
