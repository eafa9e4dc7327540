"""RunLog crash safety and the interrupt/resume harness on a real subprocess."""

import json
import os
import signal
from pathlib import Path

import pytest

from allocator.runlog import ResumeMismatch, RunLog, interruptible, resume_command, resume_message
from tests.interrupt_harness import run_interrupt_resume_test

DEMO = Path(__file__).with_name("longrun_demo.py")
FP = {"instance": "abc", "seed": 3}


def _lines(path):
    return path.read_text().splitlines()


def test_append_and_resume_skip_done_units(tmp_path):
    with RunLog(tmp_path, FP) as log:
        log.append(0, {"v": 1.5})
        log.append(1, {"v": 2.5})
    log = RunLog(tmp_path, FP, resume=True)
    assert log.resumed == 2 and log.done(0) and log.done("1") and not log.done(2)
    assert log.records["1"] == {"v": 2.5}
    log.close()
    # without --resume the log starts again
    log = RunLog(tmp_path, FP)
    assert log.records == {} and len(_lines(log.path)) == 1
    log.close()


def test_torn_last_line_is_cut_before_new_records(tmp_path):
    with RunLog(tmp_path, FP) as log:
        log.append(0, {"v": 1})
    with open(tmp_path / "progress.jsonl", "a") as fh:
        fh.write('{"data": {"v": 2}, "ke')  # a crash in mid-write
    with RunLog(tmp_path, FP, resume=True) as log:
        assert log.resumed == 1 and log.torn_bytes == len('{"data": {"v": 2}, "ke')
        log.append(1, {"v": 2})
    lines = _lines(tmp_path / "progress.jsonl")
    assert len(lines) == 3 and [json.loads(x)["key"] for x in lines[1:]] == ["0", "1"]


@pytest.mark.parametrize("content, words", [
    ("", "empty"),
    ("not json\n", "not a progress-log header"),
    ('{"header": {"instance": "abc", "seed": 3}}\n{"key": "0", "data": {}}\ngarbage\n'
     '{"key": "2", "data": {}}\n', "line 3 is damaged"),
])
def test_damaged_logs_are_refused_clearly(tmp_path, content, words):
    (tmp_path / "progress.jsonl").write_text(content)
    with pytest.raises(ResumeMismatch, match=words):
        RunLog(tmp_path, FP, resume=True)


def test_fingerprint_mismatch_names_what_differs(tmp_path):
    RunLog(tmp_path, FP).close()
    with pytest.raises(ResumeMismatch) as e:
        RunLog(tmp_path, {"instance": "abc", "seed": 4}, resume=True)
    assert "differs in: seed" in str(e.value) and "[3]" in str(e.value) and "[4]" in str(e.value)


def test_interrupt_during_append_waits_until_the_record_is_on_disk(tmp_path, capsys):
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    log = RunLog(tmp_path, FP)
    real_write = log._fh.write

    def write_then_signal(s):
        os.kill(os.getpid(), signal.SIGTERM)  # arrives in the middle of the append
        return real_write(s)

    log._fh.write = write_then_signal
    with pytest.raises(KeyboardInterrupt):
        with interruptible(resume_command="allocator cycles X --resume", log=log):
            log.append(0, {"v": 1})
            pytest.fail("the interrupt should stop the run right after the record")
    log.close()
    assert json.loads(_lines(tmp_path / "progress.jsonl")[1]) == {"key": "0", "data": {"v": 1}}
    err = capsys.readouterr().err
    assert "1 finished unit(s) are saved" in err and "resume with: allocator cycles X --resume" in err
    # the handlers in place before the block are back (not interruptible's own)
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_resume_command_adds_flag_once():
    assert resume_command(["/x/allocator", "cycles", "inst dir", "--out", "o"]) == \
        "allocator cycles 'inst dir' --out o --resume"
    assert resume_command(["allocator", "sweep", "--resume"]).count("--resume") == 1
    assert "resume with: a --resume" in resume_message(command="a --resume")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_subprocess_resumes_to_identical_tables(tmp_path, sig):
    rep = run_interrupt_resume_test([str(DEMO), "--units", "10", "--sleep", "0.12", "--seed", "5"],
                                    out_dir_flag="--out", min_records=3, sig=sig, workdir=tmp_path)
    assert rep["tables_compared"] == ["results.csv"]
    assert 3 <= rep["records_at_interrupt"] < 10 and rep["stop_seconds"] < 10
    res = (tmp_path / "run" / "results.csv").read_text().splitlines()
    assert len(res) == 11 and res[0] == "envelope_factor,objective,status,unit"


def test_harness_catches_a_command_that_does_not_resume(tmp_path):
    """The harness must fail for a run whose resumed output differs (it is a real test)."""
    broken = tmp_path / "broken.py"
    broken.write_text(DEMO.read_text().replace("[a.seed, i]", "[a.seed + int(a.resume), i]"))
    with pytest.raises(AssertionError, match="tables differ|redone"):
        run_interrupt_resume_test([str(broken), "--units", "10", "--sleep", "0.12"],
                                  min_records=3, workdir=tmp_path / "w")
