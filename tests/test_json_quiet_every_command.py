"""Every command, run as a user runs it (a subprocess, real stdout): ``--json`` prints one JSON
document and nothing else (no solver banner, no progress bar), and ``--quiet`` prints nothing
on stdout (issue 10 §1). The list of commands is read from the app, so a new command cannot
be left out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from allocator import load_instance, solve

CLI = [sys.executable, "-m", "allocator"]
EVENTS = Path(__file__).parent / "data" / "tiny_events.yaml"
TOY = Path(__file__).parent.parent / "instances" / "evidence_toy"


def _commands() -> list[str]:
    from allocator.cli import app

    return sorted(c.name or c.callback.__name__ for c in app.registered_commands)


def _args(cmd: str, tiny: Path, res: Path, tmp: Path, tag: str) -> list:
    return {
        "solve": ["solve", tiny, "--out", tmp / f"solve_{tag}", "--plots"],
        "validate": ["validate", tiny],
        "export": ["export", tiny, tmp / f"m_{tag}.lp"],
        "template": ["template", tmp / f"t_{tag}.xlsx", "--instance", tiny],
        "report": ["report", res, "--out", tmp / f"r_{tag}.html"],
        "appraise": ["appraise", tiny, res / "allocations.csv", "--out", tmp / f"a_{tag}"],
        "diff": ["diff", res, res, "--out", tmp / f"d_{tag}"],
        "verify": ["verify", res, "--instance", tiny],
        "cycles": ["cycles", tiny, "--cycles", "1,3", "--paths", "2", "--out", tmp / f"c_{tag}"],
        "sensitivity": ["sensitivity", tiny, "--events", EVENTS, "--out", tmp / f"s_{tag}"],
        "levers": ["levers", tiny, "--out", tmp / f"l_{tag}"],
        "statement": ["statement", res, "--out", tmp / f"st_{tag}", "--no-pdf"],
        "uncertainty": ["uncertainty", TOY, "--draws", "20", "--seed", "0", "--out", tmp / f"u_{tag}"],
    }[cmd]


#: one fact each --json document must state (so the test reads the content, not just the syntax)
CHECK = {
    "solve": lambda d: d["status"] == "optimal" and d["objective"] == pytest.approx(184.5),
    "validate": lambda d: d["valid"] is True and d["instance"] == "tiny" and d["programmes"] == 3,
    "export": lambda d: d["format"] == "lp" and d["bytes"] > 500,
    "template": lambda d: d["instance"] == "tiny" and d["workbook"].endswith(".xlsx"),
    "report": lambda d: d["report"].endswith(".html") and d["bytes"] > 10_000,
    "appraise": lambda d: d["passed"] is True and d["gap_to_optimal"] == pytest.approx(0, abs=1e-6),
    "diff": lambda d: all(r["change"] in (0, 0.0, None) or r["change"] != r["change"]
                          or abs(r["change"]) < 1e-9 for r in d["headline"]
                          if isinstance(r["change"], (int, float))),
    "verify": lambda d: d["ok"] is True,
    "cycles": lambda d: d["base_regime"] == "1y" and len(d["comparison"]) == 2,
    "sensitivity": lambda d: d["instance"] == "tiny" and set(d["analyses"]) == {"replan", "stochastic", "sweep"},
    # tiny by hand (tests/test_levers.py): mission-led 184.5, siloed 180
    "levers": lambda d: d["mission_led_value"] == pytest.approx(184.5)
    and d["siloed_value"] == pytest.approx(180.0),
    "statement": lambda d: d["title"] == "Mission impact statement: tiny" and d["reference"] == "baseline",
    "uncertainty": lambda d: d["draws"] == 20 and d["evpi"] >= 0 and set(d["evppi"]),
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("every")
    tiny = Path(__file__).parent.parent / "instances" / "tiny"
    res = solve(load_instance(tiny)).write(tmp / "res")
    return tiny, res, tmp


def test_the_table_covers_every_command():
    assert set(CHECK) == set(_commands())


@pytest.mark.parametrize("cmd", _commands())
def test_json_is_one_document_and_quiet_is_silent(cmd, setup):
    tiny, res, tmp = setup
    p = subprocess.run([*CLI, *map(str, _args(cmd, tiny, res, tmp, "json")), "--json"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"{cmd} --json exit {p.returncode}:\n{p.stderr}"
    # the whole of stdout: a banner or a bar would break this; and strict JSON (RFC 8259 has
    # no NaN or Infinity, which Python's json would otherwise print bare)
    doc = json.loads(p.stdout, parse_constant=lambda c: pytest.fail(f"{cmd} --json printed {c}"))
    assert CHECK[cmd](doc), (cmd, doc)
    p = subprocess.run([*CLI, *map(str, _args(cmd, tiny, res, tmp, "quiet")), "--quiet"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"{cmd} --quiet exit {p.returncode}:\n{p.stderr}"
    assert p.stdout == "", f"{cmd} --quiet printed on stdout:\n{p.stdout}"
    assert "Traceback" not in p.stderr
