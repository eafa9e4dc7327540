"""`allocator sensitivity` end to end in a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

CLI = [sys.executable, "-m", "allocator"]
EVENTS = Path(__file__).resolve().parent / "data" / "tiny_events.yaml"


def run(*args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_sensitivity_writes_tables_plots_and_provenance(tiny_dir, tmp_path):
    out = tmp_path / "sens"
    p = run("sensitivity", tiny_dir, "--events", EVENTS, "--out", out, "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    for f in ("replan.csv", "absorption.csv", "rules.csv", "relaxations.csv", "value_paths.csv",
              "stochastic_scenarios.csv", "settlement_difference.csv", "sweep.csv", "tornado.csv",
              "ranging.csv", "tornado.png", "fan_chart.png", "loss_heatmap.png",
              "settlement_difference.png", "summary.json"):
        assert (out / f).is_file(), f
    disk = json.loads((out / "summary.json").read_text())
    assert disk["instance_sha256"] == s["instance_sha256"] and len(s["instance_sha256"]) == 64
    assert disk["events_sha256"] and disk["versions"]["highspy"] and "sensitivity" in disk["command"]
    assert disk["stochastic"]["evpi"] >= 0 and disk["stochastic"]["vss"] >= 0
    r = pd.read_csv(out / "replan.csv")
    assert len(r) == 3 * 2 * 4  # events × trigger years × severity multipliers
    zero = r[r["severity_multiplier"] == 0]
    assert (zero["objective"] - 184.5).abs().max() < 1e-9


def test_bad_events_file_exits_1_without_output(tiny_dir, tmp_path):
    bad = tmp_path / "ev.yaml"
    bad.write_text("events:\n  - {id: x, kind: recession, year: '2027-28', severity: 0.1, speed: 3}\n")
    out = tmp_path / "sens"
    p = run("sensitivity", tiny_dir, "--events", bad, "--out", out)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr and str(bad) in p.stderr and "speed" in p.stderr
    assert not out.exists()
    p = run("sensitivity", tiny_dir, "--out", out, "--analyses", "replan")
    assert p.returncode == 1 and "events" in p.stderr and not out.exists()
    p = run("sensitivity", tiny_dir, "--out", out, "--analyses", "bogus")
    assert p.returncode == 1 and "bogus" in p.stderr


def test_sweep_resume(tiny_dir, tmp_path):
    out = tmp_path / "sens"
    p = run("sensitivity", tiny_dir, "--out", out, "--analyses", "sweep", "--quiet", "--no-plots")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "", f"--quiet printed on stdout: {p.stdout!r}"
    first = pd.read_csv(out / "sweep.csv")
    p = run("sensitivity", tiny_dir, "--out", out, "--analyses", "sweep", "--resume", "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["timings_s"]["sweep"]["resumed_units"] == s["timings_s"]["sweep"]["units"] > 0
    again = pd.read_csv(out / "sweep.csv")
    pd.testing.assert_frame_equal(first, again)
