"""A cycle simulation killed mid-run resumes to byte-identical tables (issue 7, item 4)."""

import signal

from tests.conftest import INSTANCES
from tests.interrupt_harness import run_interrupt_resume_test


def test_cycles_interrupt_and_resume():
    report = run_interrupt_resume_test(
        ["allocator", "cycles", INSTANCES / "uk_missions", "--cycles", "1,4", "--paths", "16",
         "--seed", "5", "--jobs", "1", "--quiet"], out_dir_flag="--out", min_records=3,
        sig=signal.SIGINT)
    assert report["records_at_interrupt"] >= 3
