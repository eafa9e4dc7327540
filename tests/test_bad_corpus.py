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
    from allocator.cli import main

    argv, err = sys.argv, io.StringIO()
    sys.argv = ["allocator", *map(str, args)]
    try:
        with redirect_stderr(err), pytest.raises(SystemExit) as e:
            main()
    finally:
        sys.argv = argv
    return e.value.code, err.getvalue()


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
