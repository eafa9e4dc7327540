"""A sensitivity sweep killed mid-run resumes to byte-identical tables (issue 7, item 4)."""

import signal

import pytest

from tests.conftest import INSTANCES
from tests.interrupt_harness import run_interrupt_resume_test


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sweep_interrupt_and_resume(sig):
    report = run_interrupt_resume_test(
        ["allocator", "sensitivity", INSTANCES / "uk_missions", "--analyses", "sweep", "--no-plots",
         "--quiet"], out_dir_flag="--out", min_records=3, sig=sig,
        progress_name="sweep_progress.jsonl")
    assert report["records_at_interrupt"] >= 3
