"""Run comparison: B − A, checked against a change whose effect is known by hand."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from allocator import load_instance, solve
from allocator.diff import diff_runs


@pytest.fixture
def two_runs(tiny_dir, tiny_copy, tmp_path):
    """A: tiny. B: tiny with £1m more resource envelope in 2027-28, which goes to a2 (department
    A, 2.5 per £m, effect in 2028-29): objective +2.5 (instances/tiny/README.md)."""
    a = solve(load_instance(tiny_dir)).write(tmp_path / "A")
    f = pd.read_csv(tiny_copy / "fiscal.csv")
    f.loc[1, "rdel_envelope_gbp_m"] += 1.0
    f.to_csv(tiny_copy / "fiscal.csv", index=False)
    b = solve(load_instance(tiny_copy)).write(tmp_path / "B")
    return a, b


def test_diff_tables(two_runs, tmp_path):
    d = diff_runs(*two_runs)
    h = d.headline.set_index("item")
    assert h.loc["objective", "change"] == pytest.approx(2.5)
    assert h.loc["objective_in_horizon", "change"] == pytest.approx(2.5)
    assert h.loc["objective_terminal", "change"] == pytest.approx(0.0, abs=1e-9)
    dep = d.departments.set_index("department")
    assert dep.loc["A", "change_gbp_m"] == pytest.approx(1.0)
    assert dep.loc["B", "change_gbp_m"] == pytest.approx(0.0, abs=1e-9)
    dy = d.departments_by_year.set_index(["year", "department"])
    assert dy.loc[("2027-28", "A"), "change_gbp_m"] == pytest.approx(1.0)
    assert dy["change_gbp_m"].abs().sum() == pytest.approx(1.0)
    m = d.missions.set_index("mission")
    assert m.loc["wellbeing", "value_change"] == pytest.approx(2.5)
    assert m.loc["wellbeing", "gain_change"] == pytest.approx(2.5)  # lands in 2028-29
    env = d.headroom[(d.headroom.rule == "resource DEL envelope") & (d.headroom.year == "2027-28")]
    assert env["a_gbp_m"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    assert env["b_gbp_m"].iloc[0] == pytest.approx(0.0, abs=1e-9)  # the extra £1m is spent
    assert any("different instances" in n for n in d.notes)
    out = d.write(tmp_path / "diff")
    for f in ("headline.csv", "departments.csv", "missions.csv", "headroom.csv", "diff.json"):
        assert (out / f).is_file()
    assert (out / "diff.png").stat().st_size > 5000 and (out / "diff.svg").stat().st_size > 5000


def test_cli_diff_json(two_runs):
    a, b = two_runs
    p = subprocess.run([sys.executable, "-m", "allocator", "diff", str(a), str(b), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert {r["item"]: r["change"] for r in d["headline"]}["objective"] == pytest.approx(2.5)


def test_cli_diff_missing_folder(tmp_path):
    p = subprocess.run([sys.executable, "-m", "allocator", "diff", str(tmp_path / "nope"),
                        str(tmp_path / "nope2")], capture_output=True, text=True, timeout=120)
    err = " ".join(p.stderr.split())  # rich wraps long lines
    assert p.returncode == 1 and "no such results folder" in err and "Traceback" not in err
