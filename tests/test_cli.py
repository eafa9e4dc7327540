"""The command line end to end, in a subprocess like a user would run it."""

import json
import subprocess
import sys

import pandas as pd
import pytest

CLI = [sys.executable, "-m", "allocator"]


def run(*args, **kw):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300, **kw)


def test_solve_writes_tables(tiny_dir, tmp_path):
    out = tmp_path / "res"
    p = run("solve", tiny_dir, "--out", out)
    assert p.returncode == 0, p.stderr
    assert "optimal" in p.stdout and "184.5" in p.stdout
    for name in ("allocations", "departments", "missions", "fiscal", "shadow_prices"):
        assert (out / f"{name}.csv").is_file()
    s = json.loads((out / "summary.json").read_text())
    assert s["status"] == "optimal" and s["objective"] == pytest.approx(184.5)
    assert len(s["instance_sha256"]) == 64 and s["versions"]["highspy"]
    assert set(s["timings_s"]) >= {"load", "build", "solve", "write"}
    alloc = pd.read_csv(out / "allocations.csv")
    assert list(alloc.columns[:7]) == ["year", "department", "programme", "category", "pie",
                                       "funding", "spend_gbp_m"]


def test_invalid_instance_exits_1_without_traceback(tiny_copy, tmp_path):
    (tiny_copy / "lags.csv").write_text("profile,lag,weight\nnow,0,2\n")
    out = tmp_path / "res"
    p = run("solve", tiny_copy, "--out", out)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr and "lags.csv" in p.stderr
    assert not out.exists()


def test_infeasible_exits_2_with_explanation(tiny_copy, tmp_path):
    text = (tiny_copy / "programmes.csv").read_text().replace(",0,12,,,now", ",0,30,,,now")
    (tiny_copy / "programmes.csv").write_text(text)
    out = tmp_path / "res"
    p = run("solve", tiny_copy, "--out", out)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "infeasible" in p.stdout and "Traceback" not in p.stderr
    assert "£5.0m" in p.stdout  # floor 30 vs envelope 25 each year: 3 × £5m
    s = json.loads((out / "summary.json").read_text())
    assert s["infeasibility"]["total_relaxation_gbp_m"] == pytest.approx(15.0)


def test_validate_and_export(tiny_dir, tmp_path):
    p = run("validate", tiny_dir)
    assert p.returncode == 0 and "valid" in p.stdout
    for fmt in ("lp", "mps"):
        f = tmp_path / f"m.{fmt}"
        p = run("export", tiny_dir, "--format", fmt, f)
        assert p.returncode == 0, p.stderr
        assert "del_envelope" in f.read_text()


def test_json_output(tiny_dir):
    p = run("solve", tiny_dir, "--json")
    assert p.returncode == 0
    assert json.loads(p.stdout)["objective"] == pytest.approx(184.5)
