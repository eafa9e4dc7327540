"""What the mission machinery is worth (allocator/levers.py), hand-checked on tiny."""

import json
import subprocess
import sys

import pytest

from allocator import load_instance
from allocator.levers import lever_values


def test_tiny_levers_by_hand(tiny_dir):
    """tiny's optimum is 184.5 (README). Without the 10-year test, a2's year-3 spend (it lands
    after the horizon) goes to b1 at 2.0 instead of a2 at 2.5: 1.5 lost. Without b1's floor of
    12, b1 takes 10 and a2 its full 5: 62.5 a year instead of 61.5, so the floors cost 3. Without the envelope every segment is bought:
    3·(30 + 10 + 12.5 + 40) = 277.5. Siloed: A (owner of the one mission, its baseline share
    is 100%) keeps 25 − 12 = 13 after B's floor; short-termist, it puts year 3's last £3m on
    a1's second segment (1.0) instead of a2 (value lands after the horizon): 184.5 − 4.5."""
    r = lever_values(load_instance(tiny_dir))
    t = r.table.set_index("lever")
    assert r.mission_led == pytest.approx(184.5, abs=1e-6)
    assert t.loc["ten_year_test", "value_of_lever"] == pytest.approx(1.5, abs=1e-6)
    assert t.loc["programme_floors", "value_of_lever"] == pytest.approx(-3.0, abs=1e-6)
    assert t.loc["del_envelope", "value_without"] == pytest.approx(277.5, abs=1e-6)
    assert t.loc["mission_fund", "value_of_lever"] == 0.0  # tiny's Fund has size 0
    on = {k for k, v in load_instance(tiny_dir).settings.constraints.model_dump().items() if v}
    assert on <= set(t.index)  # every switch that is on is a lever, read from the schema
    assert r.siloed == pytest.approx(180.0, abs=1e-6)
    assert r.siloed_long_term == pytest.approx(184.5, abs=1e-6)
    assert t.loc["mission_led_vs_siloed", "value_of_lever"] == pytest.approx(4.5, abs=1e-6)


def test_levers_command_writes_a_report_section(tiny_dir, tmp_path):
    out = tmp_path / "r"
    p = subprocess.run([sys.executable, "-m", "allocator", "solve", str(tiny_dir), "--quiet",
                        "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([sys.executable, "-m", "allocator", "levers", str(tiny_dir), "--json",
                        "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["value_of_mission_led_planning"] == pytest.approx(4.5, abs=1e-6)
    assert (out / "levers.csv").is_file()
    from allocator.report import write_report

    html = write_report(out).read_text()
    assert "What the mission machinery is worth" in html and "ten_year_test" in html
