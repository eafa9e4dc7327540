"""Interrupt-and-resume test for any long-running command that uses RunLog.

    from tests.interrupt_harness import run_interrupt_resume_test
    report = run_interrupt_resume_test(["allocator", "cycles", INSTANCE, "--paths", "40",
                                        "--seed", "3"], out_dir_flag="--out", min_records=3)

What it does, with real subprocesses:
1. runs the command uninterrupted into ``ref/`` (must exit 0);
2. starts it again into ``run/``, waits until ``progress.jsonl`` (anywhere under the output
   folder) holds at least ``min_records`` finished records, then sends SIGINT (or SIGTERM);
3. checks it stops within ``stop_within_s`` seconds with a non-zero exit code (130 unless
   told otherwise), prints a "resume with: … --resume" line, and leaves every progress line
   complete;
4. reruns with ``--resume`` (must exit 0) and checks the records saved before the
   interrupt were not redone (the log only grew);
5. compares every CSV table of ``ref/`` and ``run/`` byte for byte (same set of files).

Returns a dict of figures (records at interrupt, seconds to stop, files compared) and
raises AssertionError with the command's output on any failure. ``allocator`` as the
first argument means ``python -m allocator`` with this interpreter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _argv(cmd_args) -> list[str]:
    args = [str(a) for a in cmd_args]
    if args and args[0] == "allocator":
        return [sys.executable, "-m", "allocator", *args[1:]]
    if args and args[0].endswith(".py"):
        return [sys.executable, *args]
    return args


def _progress_files(out: Path, name: str) -> list[Path]:
    return sorted(out.rglob(name)) if out.exists() else []


def _count_records(files: list[Path]) -> int:
    n = 0
    for f in files:
        try:
            lines = f.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        n += sum(1 for ln in lines[1:] if ln.endswith("}"))
    return n


def _check_log_complete(files: list[Path]) -> list[str]:
    keys = []
    for f in files:
        raw = f.read_text(encoding="utf-8")
        assert raw.endswith("\n"), f"{f}: last progress line is torn after a clean interrupt"
        lines = raw.splitlines()
        assert "header" in json.loads(lines[0]), f"{f}: first line is not a header"
        for ln in lines[1:]:
            rec = json.loads(ln)  # raises on a damaged line
            keys.append(f"{f.name}:{rec['key']}")
    return keys


def _tables(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.csv"))}


def run_interrupt_resume_test(cmd_args, out_dir_flag: str = "--out", min_records: int = 3, *,
                              sig: int = signal.SIGINT, stop_within_s: float = 10.0,
                              expect_exit: int | None = 130, workdir: str | Path | None = None,
                              progress_name: str = "progress.jsonl", timeout_s: float = 300.0,
                              env: dict | None = None) -> dict:
    argv = _argv(cmd_args)
    base = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="interrupt-"))
    ref, run = base / "ref", base / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}

    # 1. uninterrupted reference
    p = subprocess.run([*argv, out_dir_flag, str(ref)], capture_output=True, text=True,
                       timeout=timeout_s, env=env)
    assert p.returncode == 0, f"reference run failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    total = _count_records(_progress_files(ref, progress_name))
    assert total > min_records, (f"the reference run finished only {total} records; make the run "
                                 f"longer than min_records={min_records} so it can be interrupted")

    # 2. interrupted run
    proc = subprocess.Popen([*argv, out_dir_flag, str(run)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    t_start = time.monotonic()
    seen = 0
    while True:
        seen = _count_records(_progress_files(run, progress_name))
        if seen >= min_records:
            break
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the command finished before {min_records} records were saved "
                                 f"(exit {proc.returncode}):\n{out}\n{err}")
        if time.monotonic() - t_start > timeout_s:
            proc.kill()
            raise AssertionError("timed out waiting for progress records")
        time.sleep(0.02)
    t_sig = time.monotonic()
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=stop_within_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"did not stop within {stop_within_s} s of {signal.Signals(sig).name}:"
                             f"\n{out}\n{err}") from None
    stop_s = time.monotonic() - t_sig
    if expect_exit is not None:
        assert proc.returncode == expect_exit, (f"exit code {proc.returncode} after "
                                                f"{signal.Signals(sig).name}, expected {expect_exit}:"
                                                f"\n{out}\n{err}")
    else:
        assert proc.returncode != 0, "an interrupted run must not exit 0"
    said = out + err
    assert "--resume" in said and "resume with" in said.lower(), \
        f"no 'resume with: … --resume' message after the interrupt:\n{said}"
    assert "Traceback" not in said, f"traceback after the interrupt:\n{said}"
    keys_before = _check_log_complete(_progress_files(run, progress_name))
    assert len(keys_before) >= min_records
    assert len(keys_before) < total, "the run had already finished when it was interrupted"

    # 3. resume
    p = subprocess.run([*argv, out_dir_flag, str(run), "--resume"], capture_output=True, text=True,
                       timeout=timeout_s, env=env)
    assert p.returncode == 0, f"resumed run failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    keys_after = _check_log_complete(_progress_files(run, progress_name))
    assert keys_after[:len(keys_before)] == keys_before, "records saved before the interrupt changed"
    assert len(set(keys_after)) == len(keys_after), "a finished unit was redone after --resume"

    # 4. identical tables
    a, b = _tables(ref), _tables(run)
    assert a, f"the command wrote no CSV tables under {ref}"
    assert sorted(a) == sorted(b), f"different table files: {sorted(a)} vs {sorted(b)}"
    differ = [k for k in a if a[k] != b[k]]
    assert not differ, f"tables differ after resume: {differ}"
    return {"records_total": total, "records_at_interrupt": len(keys_before),
            "stop_seconds": round(stop_s, 3), "tables_compared": sorted(a),
            "signal": signal.Signals(sig).name, "folder": str(base)}
