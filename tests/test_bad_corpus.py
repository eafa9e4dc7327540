"""The corpus of nasty instances: each refused with the expected message, exit 1, no output."""

import io
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr
from pathlib import Path

import pytest

from allocator import load_instance
from allocator.errors import InstanceError

CORPUS = Path(__file__).parent / "data" / "bad_instances"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def _expected(case: str) -> list[str]:
    return [ln for ln in (CORPUS / case / "expected.txt").read_text(encoding="utf-8").splitlines() if ln]


def _cli(args) -> tuple[int, str]:
    from tests.cli_inprocess import run_main

    code, _out, err = run_main(args)
    return code, err


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_bad_instance_is_refused_with_the_expected_message(case, tmp_path):
    with pytest.raises(InstanceError) as e:
        load_instance(CORPUS / case)
    msg = str(e.value)
    for want in _expected(case):
        assert want in msg, f"{case}: expected {want!r} in:\n{msg}"
    out = tmp_path / "results"
    code, err = _cli(["solve", CORPUS / case, "--out", out, "--quiet"])
    assert code == 1 and not out.exists() and not list(tmp_path.iterdir())
    assert _expected(case)[0] in err and "Traceback" not in err


@pytest.mark.parametrize("target", ["lags.csv", "instance.yaml"])
def test_symlink_escaping_the_folder_is_refused(tiny_copy, tmp_path, target):
    secret = tmp_path / "secret.txt"
    secret.write_text("profile,lag,weight\nnow,0,1\nnext_year,1,1\n")
    (tiny_copy / target).unlink()
    os.symlink(secret, tiny_copy / target)
    with pytest.raises(InstanceError, match="path escapes the instance folder"):
        load_instance(tiny_copy)


def test_symlink_inside_the_folder_is_allowed(tiny_copy):
    shutil.move(tiny_copy / "lags.csv", tiny_copy / "lags_real.csv")
    os.symlink("lags_real.csv", tiny_copy / "lags.csv")
    assert len(load_instance(tiny_copy).lag_profiles) == 2


def test_row_and_size_limits_give_clear_messages(tiny_copy, monkeypatch):
    import allocator.io as aio
    from allocator.errors import AllocatorError
    from allocator.numerics import check_model_size

    monkeypatch.setattr(aio, "MAX_TABLE_ROWS", 2)
    with pytest.raises(InstanceError, match="programmes.csv: file: table too large: at most 2 rows"):
        load_instance(tiny_copy)
    monkeypatch.undo()
    inst = load_instance(tiny_copy)
    monkeypatch.setattr("allocator.numerics.MAX_LP_COLUMNS", 10)
    with pytest.raises(AllocatorError, match="instance too large to solve here: about 54 LP columns and 666 nonzeros \\(3 programmes, 4 response segments, 3 years\\)"):
        check_model_size(inst)


@pytest.mark.parametrize("case", ["yaml_bomb", "yaml_python_tag"])
def test_real_process_exits_1_without_traceback(case, tmp_path):
    marker = Path("/tmp/pwned")
    existed = marker.exists()
    p = subprocess.run([sys.executable, "-m", "allocator", "solve", str(CORPUS / case), "--out",
                        str(tmp_path / "r")], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "Traceback" not in p.stderr and "instance.yaml" in p.stderr
    assert not (tmp_path / "r").exists()
    assert marker.exists() == existed  # no code from the instance ran


RUN_CORPUS = Path(__file__).parent / "data" / "bad_run_sections"
RUN_CASES = sorted(p.name for p in RUN_CORPUS.iterdir() if p.is_dir())


def _run_command(case: str, out: Path) -> list:
    if case.startswith(("uncertainty", "certainty", "workforce", "planning")):
        return ["cycles", RUN_CORPUS / case, "--cycles", "1,2", "--paths", "2", "--out", out, "--quiet"]
    if case.startswith("sensitivity"):
        return ["sensitivity", RUN_CORPUS / case, "--analyses", "sweep", "--out", out, "--quiet"]
    return ["sensitivity", RUN_CORPUS / case, "--out", out, "--quiet"]


def test_run_section_corpus_covers_every_section():
    assert len(RUN_CASES) >= 11
    assert {c.split("_")[0] for c in RUN_CASES} >= {"uncertainty", "certainty", "workforce",
                                                    "planning", "sensitivity", "events", "replan",
                                                    "recession"}


@pytest.mark.parametrize("case", RUN_CASES)
def test_bad_run_section_is_refused_by_validate_and_by_the_run(case, tmp_path):
    """Issue 10 §3: `validate` must not call a file valid when a run would misread it."""
    want = [ln for ln in (RUN_CORPUS / case / "expected.txt").read_text().splitlines() if ln]
    code, err = _cli(["validate", RUN_CORPUS / case])
    assert code == 1 and "Traceback" not in err, err
    flat = " ".join(err.split())
    for w in want:
        assert w in flat, f"{case}: validate: expected {w!r} in:\n{err}"
    out = tmp_path / "results"
    code, err = _cli(_run_command(case, out))
    flat = " ".join(err.split())
    assert code == 1 and "Traceback" not in err, err
    for w in want:
        assert w in flat, f"{case}: run: expected {w!r} in:\n{err}"
    assert not out.exists() or not [p for p in out.rglob("*") if p.suffix in (".csv", ".json")]


def test_good_instance_with_events_validates(tiny_copy, tmp_path):
    shutil.copy(Path(__file__).parent / "data" / "tiny_events.yaml", tiny_copy / "events.yaml")
    code, err = _cli(["validate", tiny_copy, "--quiet"])
    assert code == 0, err
