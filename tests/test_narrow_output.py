"""Terminal tables in 80 columns (pipes, CI logs): no number is cut, no row silently dropped."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pandas as pd

from tests.conftest import INSTANCES

CLI = [sys.executable, "-m", "allocator"]


def run80(*args):
    env = dict(os.environ, COLUMNS="80", TERM="dumb")
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=600, env=env)


def test_cycles_table_keeps_every_figure_whole_in_80_columns(tmp_path):
    out = tmp_path / "c"
    p = run80("cycles", INSTANCES / "uk_missions", "--cycles", "1,2,3,4,5", "--paths", "1", "--seed", "1",
              "--out", out)
    assert p.returncode == 0, p.stderr
    assert "…" not in p.stdout
    assert max(len(line) for line in p.stdout.splitlines()) <= 80
    summary = pd.read_csv(out / "cycles_summary.csv")
    for reg in ("1y", "5y"):
        mv = summary[(summary["regime"] == reg) & (summary["measure"] == "mission_value_gbp_m")]["mean"].iloc[0]
        assert f"{mv:,.0f}" in p.stdout  # the whole number, e.g. 504,123, not 504,1…


def test_diff_lists_every_department_that_changed_and_names_the_rest(tmp_path):
    a = tmp_path / "a"
    b_inst = tmp_path / "uk2"
    shutil.copytree(INSTANCES / "uk_missions", b_inst)
    y = (b_inst / "instance.yaml").read_text()
    y2 = re.sub(r"(?m)^  headroom_gbp_m: .*$", "  headroom_gbp_m: 30000", y)
    assert y2 != y
    (b_inst / "instance.yaml").write_text(y2)
    assert run80("solve", INSTANCES / "uk_missions", "--out", a, "-q").returncode == 0
    assert run80("solve", b_inst, "--out", tmp_path / "b", "-q").returncode == 0
    p = run80("diff", a, tmp_path / "b", "--out", tmp_path / "d")
    assert p.returncode == 0, p.stderr
    dep = pd.read_csv(tmp_path / "d" / "departments.csv")
    moved = dep[dep["change_gbp_m"].abs() > 0.05]["department"]
    still = dep[dep["change_gbp_m"].abs() <= 0.05]["department"]
    n = len(pd.read_csv(INSTANCES / "uk_missions" / "departments.csv")) + 1  # and the Mission Fund
    assert len(dep) == n and len(moved) + len(still) == n and len(still) > 0
    text = " ".join(p.stdout.split())
    assert f"{len(moved)} of {n} changed" in text
    for d in moved:
        assert re.search(rf"│ {re.escape(d)}\s", p.stdout), d
    assert "unchanged (within £0.05m): " + ", ".join(still) in text
