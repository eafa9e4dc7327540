"""README's claims about the command line are true: every command has --help, --quiet and
--json, and every option in README's usage lines exists on that command."""

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
CLI = [sys.executable, "-m", "allocator"]


@functools.lru_cache(maxsize=None)
def _help(cmd: str) -> str:
    p = subprocess.run([*CLI, cmd, "--help"], capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "COLUMNS": "200", "NO_COLOR": "1"})
    assert p.returncode == 0, p.stderr
    return p.stdout


def _usage_lines() -> list[str]:
    """Every `allocator ...` line inside README's code blocks."""
    text = README.read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```(?:bash)?\n(.*?)```", text, flags=re.S):
        for ln in block.splitlines():
            ln = ln.split("#")[0].strip()
            if ln.startswith("allocator "):
                lines.append(ln)
    return lines


def _commands() -> list[str]:
    return sorted({ln.split()[1] for ln in _usage_lines()})


def test_readme_lists_every_command():
    from allocator.cli import app

    registered = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert registered == set(_commands())


@pytest.mark.parametrize("cmd", _commands())
def test_every_command_has_help_quiet_and_json(cmd):
    h = _help(cmd)
    assert "--quiet" in h and "--json" in h


@pytest.mark.parametrize("line", _usage_lines())
def test_every_option_in_a_usage_line_exists(line):
    cmd = line.split()[1]
    h = _help(cmd)
    for opt in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line):
        assert opt in h, f"README: `{line}` uses {opt}, which `allocator {cmd}` does not have"


def test_appraise_usage_documents_the_required_plan_columns():
    text = README.read_text(encoding="utf-8")
    for words in ("`year`, `programme`", "`spend_gbp_m` (£m), `spend_gbp_bn` (£bn) or `spend_gbp` (£)",
                  "`department` is required"):
        assert words in text
    from allocator.appraise import REQUIRED, SPEND_COLUMNS

    assert REQUIRED == ("year", "programme") and set(SPEND_COLUMNS) == {"spend_gbp_m", "spend_gbp_bn",
                                                                        "spend_gbp"}
