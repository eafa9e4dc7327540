"""Run the console entry point in this process (so a test can inject faults with monkeypatch)."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout


def run_main(args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``allocator ARGS`` run through ``allocator.cli.main``."""
    from allocator.cli import main
    from allocator.cli.common import console, err_console

    argv, out, err = sys.argv, io.StringIO(), io.StringIO()
    sys.argv = ["allocator", *map(str, args)]
    files = console._file, err_console._file  # None: follow sys.stdout / sys.stderr
    code = 0
    try:
        console.file, err_console.file = out, err
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main()
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = argv
        console._file, err_console._file = files
    return code, out.getvalue(), err.getvalue()
