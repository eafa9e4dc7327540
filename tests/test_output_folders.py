"""Output folders are replaced whole, never mixed, never half-written (issue 10 §2).

Faults (disk full, permission denied, a read-only file system) are injected with monkeypatch:
the tests run as any user (root ignores file modes) and need no small file system.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from allocator import load_instance, solve
from allocator.errors import AllocatorError
from allocator.output import MARKER, PARTIAL, OutputError, results_folder
from tests.cli_inprocess import run_main

EVENTS = Path(__file__).parent / "data" / "tiny_events.yaml"


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def no_leftovers(parent: Path) -> list[str]:
    """Hidden temporary folders left beside or inside a target."""
    return [p.name for p in parent.rglob(".*") if p.name != MARKER]


# --------------------------------------------------------------------------- refused targets
def test_solve_into_the_instance_folder_is_refused_and_changes_nothing(tiny_copy):
    before = {f: (tiny_copy / f).read_bytes() for f in files(tiny_copy)}
    code, out, err = run_main(["solve", tiny_copy, "--out", tiny_copy])
    assert code == 1 and "Traceback" not in err
    assert f"--out {tiny_copy}: is an instance folder (it holds instance.yaml)" in err
    assert {f: (tiny_copy / f).read_bytes() for f in files(tiny_copy)} == before


@pytest.mark.parametrize("cmd", ["solve", "appraise", "diff", "cycles", "sensitivity"])
def test_root_home_and_foreign_folders_are_refused(cmd, tiny_dir, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    res = solve(load_instance(tiny_dir)).write(tmp_path / "run")
    args = {"solve": ["solve", tiny_dir], "appraise": ["appraise", tiny_dir, res / "allocations.csv"],
            "diff": ["diff", res, res], "cycles": ["cycles", tiny_dir, "--cycles", "1", "--paths", "1"],
            "sensitivity": ["sensitivity", tiny_dir, "--events", EVENTS]}[cmd]
    for target, said in [("/", "refusing to write into the root folder"),
                         (home, "refusing to write into the home folder"),
                         (foreign, "is a non-empty folder that is not an allocator results folder "
                                   "(no .allocator-results file; it holds cat.jpg)"),
                         (res / "allocations.csv", "is a file, not a folder"),
                         (res / "sub", "is inside the results folder")]:
        code, out, err = run_main([*args, "--out", target, "--quiet"])
        assert code == 1, (target, err)
        assert said in err and "Traceback" not in err, (target, err)
    assert files(foreign) == {"cat.jpg"}
    assert [f for f in files(home) if not f.startswith(".cache/")] == []  # (matplotlib's cache)


def test_single_file_outputs_refuse_folders_and_instance_inputs(tiny_copy, tmp_path):
    code, _, err = run_main(["export", tiny_copy, tiny_copy / "fiscal.csv"])
    assert code == 1 and "is an input file of the instance" in err
    code, _, err = run_main(["export", tiny_copy, tmp_path])
    assert code == 1 and "is a folder; give a file name" in err
    res = solve(load_instance(tiny_copy)).write(tmp_path / "run")
    code, _, err = run_main(["report", res, "--out", res / "summary.json"])
    assert code == 1 and "is a data file of the results folder" in err
    assert json.loads((res / "summary.json").read_text())["status"] == "optimal"


# --------------------------------------------------------------------------- replaced whole
def test_rerun_replaces_the_folder_whole_infeasible_leaves_no_stale_plan(tiny_copy, tmp_path):
    out = tmp_path / "out"
    code, _, err = run_main(["solve", tiny_copy, "--out", out, "--plots", "--excel", "--quiet"])
    assert code == 0, err
    code, _, err = run_main(["report", out, "--quiet"])
    assert code == 0 and (out / "report.html").exists()
    assert {"allocations.csv", "results.xlsx", "report.html", MARKER} <= files(out)
    assert any(f.startswith("plots/") for f in files(out))
    # the same folder, now an infeasible instance: the old plan must not survive
    fiscal = tiny_copy / "fiscal.csv"
    fiscal.write_text(fiscal.read_text().replace(",25,0\n", ",1,0\n"))  # envelope below floors
    code, _, err = run_main(["solve", tiny_copy, "--out", out, "--quiet"])
    summary = json.loads((out / "summary.json").read_text())
    assert code == 2 and summary["status"] == "infeasible" and summary["objective"] is None
    assert files(out) == {"summary.json", "infeasibility.csv", "datapackage.json", MARKER}, files(out)
    code, _, err = run_main(["report", out, "--quiet"])  # reports the infeasible run, not a plan
    assert code == 0 and "infeasible" in (out / "report.html").read_text()
    (out / "report.html").unlink()
    assert "results.xlsx" not in files(out) and "report.html" not in files(out)
    assert not any(f.startswith("plots/") for f in files(out))
    assert no_leftovers(tmp_path) == []


def test_stochastic_only_sensitivity_leaves_no_sweep_tables(tiny_dir, tmp_path):
    out = tmp_path / "sens"
    code, _, err = run_main(["sensitivity", tiny_dir, "--events", EVENTS, "--analyses", "sweep",
                             "--out", out, "--quiet", "--no-plots"])
    assert code == 0, err
    assert "sweep.csv" in files(out) and "sweep_progress.jsonl" in files(out)
    code, _, err = run_main(["sensitivity", tiny_dir, "--events", EVENTS, "--analyses",
                             "stochastic", "--out", out, "--quiet", "--no-plots"])
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["analyses"] == ["stochastic"]
    assert files(out) == {*summary["files"], "summary.json", "datapackage.json", MARKER}
    assert "sweep.csv" not in files(out)


def test_cycles_rerun_replaces_and_resume_of_a_finished_run_keeps_working(tiny_dir, tmp_path):
    out = tmp_path / "cyc"
    args = ["cycles", tiny_dir, "--cycles", "1,3", "--paths", "2", "--no-shocks", "--out", out,
            "--quiet"]
    assert run_main(args)[0] == 0
    (out / "stray.txt").write_text("left by hand")
    first = (out / "cycles_paths.csv").read_bytes()
    code, _, err = run_main([*args, "--resume"])
    assert code == 0, err
    assert (out / "cycles_paths.csv").read_bytes() == first
    assert "stray.txt" not in files(out) and PARTIAL not in os.listdir(out)
    log = (out / "progress.jsonl").read_text().splitlines()
    assert len(log) == 3  # header + 2 paths, none redone


def test_an_interrupted_resumable_run_keeps_the_old_results_readable(tiny_dir, tmp_path):
    out = tmp_path / "cyc"
    args = ["cycles", tiny_dir, "--cycles", "1,3", "--paths", "2", "--no-shocks", "--out", out,
            "--quiet"]
    assert run_main(args)[0] == 0
    old = (out / "cycles_summary.csv").read_bytes()
    with pytest.raises(KeyboardInterrupt):
        with results_folder(out, "cycles", resumable=True) as work:
            (work / "progress.jsonl").write_text('{"header": {}}\n')
            raise KeyboardInterrupt
    assert (out / "cycles_summary.csv").read_bytes() == old  # untouched
    assert (out / PARTIAL / "progress.jsonl").exists()  # kept for --resume
    assert run_main(args)[0] == 0  # a fresh run clears the partial log
    assert PARTIAL not in os.listdir(out)


def test_a_second_run_on_a_locked_resumable_folder_is_refused(tmp_path):
    out = tmp_path / "busy"
    with results_folder(out, "cycles", resumable=True):
        with pytest.raises(OutputError, match="another allocator run is writing here"):
            with results_folder(out, "cycles", resumable=True, resume=True):
                pass


# --------------------------------------------------------------------------- mount points, swap
def test_mount_point_target_is_replaced_in_place_without_mixing(tiny_dir, tmp_path, monkeypatch):
    out = tmp_path / "volume"
    out.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == out or real(p))
    renames = []
    real_rename = os.rename
    monkeypatch.setattr(os, "rename", lambda a, b: (renames.append((Path(a), Path(b))),
                                                    real_rename(a, b))[1])
    assert run_main(["solve", tiny_dir, "--out", out, "--plots", "--quiet"])[0] == 0
    assert out.is_dir() and (out / "plots").is_dir()
    assert all(b != out for _, b in renames) and all(a != out for a, _ in renames)  # never renamed
    assert run_main(["solve", tiny_dir, "--out", out, "--quiet"])[0] == 0
    assert not (out / "plots").exists() and (out / MARKER).exists()
    assert no_leftovers(tmp_path) == []
    # the marker left last on the way in, first on the way out
    names = [a.name for a, b in renames if b.parent == out]
    assert names[-1] == MARKER


def test_swap_without_renameat2_uses_two_renames(tiny_dir, tmp_path, monkeypatch):
    import allocator.output as O

    monkeypatch.setattr(O, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    assert run_main(["solve", tiny_dir, "--out", out, "--plots", "--quiet"])[0] == 0
    assert run_main(["solve", tiny_dir, "--out", out, "--quiet"])[0] == 0
    assert not (out / "plots").exists() and no_leftovers(tmp_path) == []


def test_interrupted_in_place_swap_is_still_recognised_as_ours(tmp_path):
    out = tmp_path / "vol"
    (out / ".allocator-old.x").mkdir(parents=True)
    (out / ".allocator-old.x" / MARKER).write_text("{}")
    (out / "allocations.csv").write_text("half of a new run")
    with results_folder(out, "solve") as work:
        (work / "summary.json").write_text("{}")
    assert files(out) == {"summary.json", MARKER}


# --------------------------------------------------------------------------- faults
@pytest.mark.parametrize("err_no,said", [(errno.ENOSPC, "no space left on the device"),
                                         (errno.EACCES, "permission denied"),
                                         (errno.EROFS, "the file system is read-only")])
def test_write_fault_gives_one_message_exit_1_and_keeps_the_old_run(tiny_dir, tmp_path,
                                                                    monkeypatch, err_no, said):
    out = tmp_path / "out"
    assert run_main(["solve", tiny_dir, "--out", out, "--quiet"])[0] == 0
    before = {f: (out / f).read_bytes() for f in files(out)}
    import pandas as pd

    calls = {"n": 0}
    real = pd.DataFrame.to_csv

    def failing(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:  # part of the run is already written
            raise OSError(err_no, os.strerror(err_no), str(a[0]) if a else None)
        return real(self, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_csv", failing)
    code, stdout, err = run_main(["solve", tiny_dir, "--out", out, "--plots"])
    assert code == 1 and "Traceback" not in err, err
    assert f"cannot write {out}: {said}" in err and "nothing was changed" in err
    assert {f: (out / f).read_bytes() for f in files(out)} == before
    assert no_leftovers(tmp_path) == []


def test_fault_while_creating_the_folder(tiny_dir, tmp_path, monkeypatch):
    import tempfile

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    code, _, err = run_main(["solve", tiny_dir, "--out", tmp_path / "new", "--quiet"])
    assert code == 1 and "permission denied" in err and "Traceback" not in err
    assert not (tmp_path / "new").exists()


def test_single_file_fault_leaves_no_temporary_file(tiny_dir, tmp_path, monkeypatch):
    import allocator.export as E

    class Full:
        def __init__(self, *a, **k):
            raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "model.lp"
    target.write_text("old")
    monkeypatch.setattr(E, "build_allocation_model", Full)
    code, _, err = run_main(["export", tiny_dir, target])
    assert code == 1 and "no space left" in err.lower() and "Traceback" not in err
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["model.lp"]


# --------------------------------------------------------------------------- permissions
@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_files_and_folders_honour_the_umask(tiny_dir, tmp_path, mask):
    old = os.umask(mask)
    try:
        out = tmp_path / "out"
        assert run_main(["solve", tiny_dir, "--out", out, "--plots", "--quiet"])[0] == 0
        assert run_main(["report", out, "--quiet"])[0] == 0
        assert run_main(["template", tmp_path / "t.xlsx", "--instance", tiny_dir, "--quiet"])[0] == 0
        assert run_main(["export", tiny_dir, tmp_path / "m.lp", "--quiet"])[0] == 0
    finally:
        os.umask(old)
    for p in [out, out / "plots"]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o777 & ~mask, p
    for p in [out / "summary.json", out / "report.html", tmp_path / "t.xlsx", tmp_path / "m.lp",
              out / "plots" / "spend_by_department.png" if (out / "plots" / "spend_by_department.png").exists()
              else next((out / "plots").iterdir())]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask, p


def test_output_errors_are_allocator_errors():
    assert issubclass(OutputError, AllocatorError)


def test_concurrent_runs_into_one_folder_leave_one_whole_run(tiny_dir, tmp_path):
    """Three solves racing for the same --out: each exits 0 and the folder holds exactly one
    complete run (the swap is atomic and serialised), with nothing left beside it."""
    import subprocess
    import sys

    out = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, "-m", "allocator", "solve", str(tiny_dir), "--out",
                               str(out), "--quiet", *(["--plots"] if i % 2 else [])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(3)]
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0 and stdout == "", stderr
    got = files(out)
    base = {"allocations.csv", "departments.csv", "fiscal.csv", "missions.csv", "metrics.csv",
            "shadow_prices.csv", "value_programmes.csv", "value_departments.csv",
            "marginal_bcr.csv", "datapackage.json", "summary.json", MARKER}
    plots = {f for f in got if f.startswith("plots/")}
    assert got - plots == base and len(plots) in (0, 10)
    assert os.listdir(tmp_path) == ["out"]


def test_a_killed_runs_temporary_sibling_is_removed_but_a_live_one_is_not(tiny_dir, tmp_path):
    import fcntl
    import time

    out = tmp_path / "out"
    dead, live = tmp_path / ".out.dead.tmp", tmp_path / ".out.live.tmp"
    for p in (dead, live):
        p.mkdir()
        (p / "allocations.csv").write_text("half")
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert run_main(["solve", tiny_dir, "--out", out, "--quiet"])[0] == 0
        assert sorted(os.listdir(tmp_path)) == [".out.live.tmp", "out"]
    finally:
        os.close(fd)
