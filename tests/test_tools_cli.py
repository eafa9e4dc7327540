"""The modeller's tools from the command line: --help everywhere, the Excel round trip through
`template` and `solve`, `solve --excel --plots`, `report`."""

import json
import subprocess
import sys

import pytest
from openpyxl import load_workbook

CLI = [sys.executable, "-m", "allocator"]


def run(*args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


def _commands():
    from allocator.cli import app

    return sorted(c.name or c.callback.__name__ for c in app.registered_commands)


@pytest.mark.parametrize("cmd", _commands())
def test_help_quiet_and_json_on_every_command(cmd):
    """README: every command has --help, --quiet and --json."""
    from typer.testing import CliRunner

    from allocator.cli import app

    p = CliRunner().invoke(app, [cmd, "--help"], terminal_width=200)
    assert p.exit_code == 0 and "Usage" in p.output
    assert "--quiet" in p.output and "--json" in p.output


def test_template_then_solve_the_workbook(tiny_dir, tmp_path):
    book = tmp_path / "tiny.xlsx"
    p = run("template", book, "--instance", tiny_dir, "--json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    v = json.loads(run("validate", tiny_dir, "--json").stdout)
    assert info["instance_sha256"] == v["instance_sha256"]
    p = run("solve", book, "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["objective"] == pytest.approx(184.5) and s["instance_sha256"] == v["instance_sha256"]


def test_template_blank_and_bad_name(tmp_path):
    assert run("template", tmp_path / "blank.xlsx", "--blank", "-q").returncode == 0
    assert load_workbook(tmp_path / "blank.xlsx")["programmes"].max_row == 1
    p = run("template", tmp_path / "blank.csv")
    assert p.returncode == 1 and "must end in .xlsx" in p.stderr


def test_solve_excel_plots_and_report(tiny_dir, tmp_path):
    out = tmp_path / "res"
    p = run("solve", tiny_dir, "--out", out, "--excel", "--plots", "--quiet")
    assert p.returncode == 0 and p.stdout == "", p.stdout + p.stderr
    wb = load_workbook(out / "results.xlsx")
    assert {"summary", "allocations", "fiscal", "shadow_prices"} <= set(wb.sheetnames)
    for name in ("allocation_by_department", "pie_share", "mission_trajectories", "fiscal_headroom",
                 "shadow_prices"):
        for ext in ("png", "svg"):
            assert (out / "plots" / f"{name}.{ext}").stat().st_size > 5000
    p = run("report", out, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["report"].endswith("report.html")
    assert 'id="headline-objective">184.5<' in (out / "report.html").read_text()


def test_excel_without_out_is_a_usage_error(tiny_dir):
    p = run("solve", tiny_dir, "--excel")
    assert p.returncode == 1 and "--out" in p.stderr and "Traceback" not in p.stderr
