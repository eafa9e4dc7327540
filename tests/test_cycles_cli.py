"""`allocator cycles` end to end, resume after a kill, and a dask LocalCluster run."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from allocator import compare_cycles, load_instance

CLI = [sys.executable, "-m", "allocator"]
TABLES = ("cycles_summary.csv", "cycles_differences.csv", "cycles_paths.csv", "cycles_years.csv")


def run(*args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_cycles_command_writes_tables_plots_and_provenance(uk_dir, tmp_path):
    out = tmp_path / "cyc"
    p = run("cycles", uk_dir, "--cycles", "1,4", "--paths", "3", "--seed", "7", "--out", out)
    assert p.returncode == 0, p.stderr
    assert "1y" in p.stdout and "4y" in p.stdout and "95% confidence" in p.stdout
    for name in (*TABLES, "mission_value_by_regime.png", "mission_value_by_regime.svg",
                 "headroom_fan.png", "summary.json"):
        assert (out / name).is_file(), name
    s = json.loads((out / "summary.json").read_text())
    assert s["seed"] == 7 and s["paths"] == 3 and len(s["instance_sha256"]) == 64
    assert s["versions"]["highspy"] and [r["length"] for r in s["regimes"]] == [1, 4]
    summary = pd.read_csv(out / "cycles_summary.csv")
    assert set(summary.columns) == {"regime", "measure", "mean", "p5", "p50", "p95"}
    assert (summary["p5"] <= summary["p50"] + 1e-9).all() and (summary["p50"] <= summary["p95"] + 1e-9).all()
    paths = pd.read_csv(out / "cycles_paths.csv")
    assert len(paths) == 6 and set(paths["regime"]) == {"1y", "4y"}
    years = pd.read_csv(out / "cycles_years.csv")
    assert len(years) == 6 * 10
    diffs = pd.read_csv(out / "cycles_differences.csv")
    assert set(diffs["versus"]) == {"1y"} and set(diffs["regime"]) == {"4y"}
    j = run("cycles", uk_dir, "--cycles", "1,4", "--paths", "2", "--json", "--no-shocks")
    assert j.returncode == 0, j.stderr
    assert json.loads(j.stdout)["base_regime"] == "1y"


def test_cycles_bad_input_exits_1_without_traceback(uk_dir, tmp_path):
    for args in (["--cycles", "0,4"], ["--paths", "0"], ["--resume"]):
        p = run("cycles", uk_dir, *args, "--quiet")
        assert p.returncode == 1, (args, p.stderr)
        assert "Traceback" not in p.stderr and "error" in p.stderr


def test_killed_run_resumes_with_identical_results(uk_dir, tmp_path):
    inst = load_instance(uk_dir)
    full = tmp_path / "full"
    compare_cycles(inst, cycles=[1, 3], paths=3, seed=5, out=full)
    part = tmp_path / "part"
    compare_cycles(inst, cycles=[1, 3], paths=3, seed=5, out=part)
    for name in TABLES:
        (part / name).unlink()
    lines = (part / "progress.jsonl").read_text().splitlines()
    # as if killed after one path, in the middle of writing the second
    (part / "progress.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])
    p = run("cycles", uk_dir, "--cycles", "1,3", "--paths", "3", "--seed", "5", "--out", part,
            "--resume", "--quiet")
    assert p.returncode == 0, p.stderr
    for name in TABLES:
        assert (part / name).read_bytes() == (full / name).read_bytes(), name
    # the log now holds every path, readable for a later resume (the torn line is left alone)
    keys = set()
    for line in (part / "progress.jsonl").read_text().splitlines()[1:]:
        try:
            keys.add(json.loads(line)["key"])
        except json.JSONDecodeError:
            pass
    assert keys == {"0", "1", "2"}
    # a log from other settings is refused, not mixed in
    p = run("cycles", uk_dir, "--cycles", "1,3", "--paths", "3", "--seed", "6", "--out", part,
            "--resume", "--quiet")
    assert p.returncode == 1 and "different settings" in p.stderr


def test_dask_local_cluster_gives_the_serial_results(uk_dir):
    distributed = pytest.importorskip("distributed")
    inst = load_instance(uk_dir)
    serial = compare_cycles(inst, cycles=[1, 4], paths=3, seed=3)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        res = compare_cycles(inst, cycles=[1, 4], paths=3, seed=3, scheduler=client, chunk_size=1)
    pd.testing.assert_frame_equal(serial.paths, res.paths)
    pd.testing.assert_frame_equal(serial.years, res.years)
    assert res.meta["parallel"]["scheduler"] is not None
