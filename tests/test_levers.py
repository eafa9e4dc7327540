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
    3·(30 + 10 + 12.5 + 40) = 277.5. Siloed: each department keeps its mission-led settlement,
    A 13 (a1 10 + a2 3) and B 12, every year. A (owner of the one mission) spends it as
    mission-led does in years 1-2 (a2's effect lands a year later, inside the horizon: 2.5/1.1
    > 1.0), but short-termist, it puts year 3's £3m on a1's second segment (1.0) instead of a2
    (value lands after the horizon): 184.5 − 4.5. Long-term, it spends as mission-led."""
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
    assert r.siloed_status == r.siloed_long_term_status == "optimal"


def test_tiny_siloed_keeps_a_committed_path(tiny_copy):
    """A committed floor of 15 on B's DEL every year: B's limit is 15 and A's at most 10
    (envelope 25). Mission-led: B spends 15 on b1 (2.0 each, better than leaving it unspent),
    A 10 on a1's first segment (3.0): 60 a year, 180. Siloed settlements are the mission-led
    ones (A 10, B 15), which meet the committed path, and each department's best use of them
    is the same: siloed = siloed long-term = 180. (The old rule, B's own floor of 12, left £3m
    of the committed path unspent: 54 a year, 162.)"""
    (tiny_copy / "committed.csv").write_text(
        "department,year,min_del_gbp_m,basis\n"
        + "".join(f"B,{y},15,test commitment\n" for y in ("2026-27", "2027-28", "2028-29")))
    r = lever_values(load_instance(tiny_copy))
    assert r.mission_led == pytest.approx(180.0, abs=1e-6)
    assert r.siloed == pytest.approx(180.0, abs=1e-6)
    assert r.siloed_long_term == pytest.approx(180.0, abs=1e-6)


def test_default_siloed_is_feasible_and_below_mission_led(uk_dir):
    """On the default (settled SR2025 totals, the committed defence path, demand floors,
    Barnett, years without an envelope) both siloed regimes are feasible, and
    mission-led ≥ siloed long-term ≥ siloed short-termist (docs/levers.md)."""
    r = lever_values(load_instance(uk_dir))
    assert r.siloed_status == r.siloed_long_term_status == "optimal"
    assert r.mission_led == pytest.approx(209_861.4, rel=1e-5)
    assert r.siloed_long_term == pytest.approx(196_338.2, rel=1e-5)
    assert r.siloed == pytest.approx(145_176.8, rel=1e-5)
    assert r.mission_led > r.siloed_long_term > r.siloed
    s = r.summary()
    assert s["value_of_silos_alone"] + s["value_of_short_termism_alone"] == pytest.approx(
        s["value_of_mission_led_planning"], rel=1e-9)


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


def test_levers_out_never_writes_into_an_instance_or_a_foreign_folder(tiny_dir, tmp_path):
    """--out to a folder that is neither new nor an allocator results folder is refused before
    anything is solved or written; a new folder is written whole, with the results marker."""
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep")
    for target in (tiny_dir, foreign):
        before = sorted(p.name for p in target.iterdir())
        p = subprocess.run([sys.executable, "-m", "allocator", "levers", str(tiny_dir), "--quiet",
                            "--out", str(target)], capture_output=True, text=True)
        assert p.returncode != 0 and "Traceback" not in p.stderr
        assert str(target) in p.stderr
        assert sorted(p.name for p in target.iterdir()) == before
    new = tmp_path / "levers_run"
    p = subprocess.run([sys.executable, "-m", "allocator", "levers", str(tiny_dir), "--quiet",
                        "--out", str(new)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert {q.name for q in new.iterdir()} == {"levers.csv", "levers.json", ".allocator-results"}
    assert json.loads((new / "levers.json").read_text())["mission_led_value"] == pytest.approx(184.5)
