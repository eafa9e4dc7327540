"""Usage mistakes: one message, exit 1, never a traceback, whichever click is installed
(typer >= 0.20 vendors its own click; a separate `click` may be installed too)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "allocator"]


def run(*args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args, said", [
    (["solv"], "No such command 'solv'"),
    (["appraise"], "Missing argument"),
    (["solve", "--no-such-flag"], "No such option"),
    (["cycles", "--paths", "many"], "Invalid value for '--paths'"),
    (["export"], "Missing argument"),
])
def test_usage_mistake_is_one_message(args, said):
    p = run(*args)
    assert p.returncode == 1 and said in p.stderr, p.stderr
    assert "Traceback" not in p.stderr + p.stdout


def test_unknown_solver_lists_the_installed_ones(tiny_dir):
    p = run("solve", tiny_dir, "--solver", "nope")
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert "solver 'nope' is not installed; available: highs" in p.stderr
    assert p.stderr.count("\n") <= 2  # no logged stack from pyomo either


def test_export_without_an_instance_exports_the_default(tmp_path):
    f = tmp_path / "default.lp"
    p = run("export", "--format", "lp", f)
    assert p.returncode == 0, p.stderr
    text = f.read_text()
    assert text.startswith("\\") or "obj" in text.lower()
    assert "DHSC" in text  # the shipped uk_missions instance, with named columns
    assert run("export", "a", "b", "c").returncode == 1
