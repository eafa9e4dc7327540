"""Append-only progress records for long runs (cycle simulations, sweeps), and resume.

Each finished unit of work (a path, a scenario) is appended as one JSON line to
``progress.jsonl`` in the run's folder, flushed and fsync'ed, so a run killed at any
moment loses at most the unit in flight. The first line is a header holding the run's
fingerprint (instance hash, seed, options); ``--resume`` accepts the log only when the
fingerprint matches, then skips the units already done. A torn last line (a crash in
mid-write) is ignored.

:func:`interruptible` turns SIGTERM into KeyboardInterrupt so both stop a run the same
way, leaving the log consistent and printing how to resume.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path
from typing import Iterator

from allocator.errors import AllocatorError


class ResumeMismatch(AllocatorError):
    """The progress log belongs to a different run (other instance, seed or options)."""


class RunLog:
    def __init__(self, folder: str | Path, fingerprint: dict, *, resume: bool = False,
                 name: str = "progress.jsonl"):
        self.path = Path(folder) / name
        self.fingerprint = json.loads(json.dumps(fingerprint, sort_keys=True, default=str))
        self.records: dict[str, dict] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume and self.path.exists():
            self._read()
        else:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"header": self.fingerprint}, sort_keys=True) + "\n")
            os.replace(tmp, self.path)
        self._fh = open(self.path, "a", encoding="utf-8")

    def _read(self) -> None:
        text = self.path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):  # end the torn line so new records start afresh
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write("\n")
        lines = text.splitlines()
        if not lines:
            raise ResumeMismatch(f"{self.path}: empty progress log; start without --resume")
        header = json.loads(lines[0]).get("header")
        if header != self.fingerprint:
            raise ResumeMismatch(f"{self.path}: the saved run used different settings "
                                 f"({header}); start without --resume or use another --out")
        for line in lines[1:]:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # torn final line from a crash
            self.records[str(rec["key"])] = rec["data"]

    def done(self, key) -> bool:
        return str(key) in self.records

    def append(self, key, data: dict) -> None:
        self.records[str(key)] = data
        self._fh.write(json.dumps({"key": str(key), "data": data}, sort_keys=True, default=float) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._fh.close()

    def __enter__(self) -> "RunLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C (KeyboardInterrupt) inside the block."""
    def _raise(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    old = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _raise)
    except ValueError:  # not the main thread
        old = None
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
