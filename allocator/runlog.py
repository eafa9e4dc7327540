"""Append-only progress records for long runs (cycle simulations, sweeps), and resume.

Each finished unit of work (a path, a scenario) is appended as one JSON line to
``progress.jsonl`` in the run's folder, flushed and fsync'ed, so a run killed at any
moment loses at most the unit in flight. The first line is a header holding the run's
fingerprint (instance hash, seed, options); ``--resume`` accepts the log only when the
fingerprint matches, then skips the units already done.

Crash safety:
- the header is written to a temporary file, fsync'ed and renamed into place (atomic);
- an append is one ``write`` of a whole line followed by flush + fsync, and inside
  :func:`interruptible` a Ctrl-C/SIGTERM arriving during an append is held until the
  line is on disk, so an interrupt never tears a record;
- a torn last line (power cut, SIGKILL mid-write) is cut off on resume before new
  records are appended, so it cannot glue itself to the next record;
- a damaged header, a damaged line in the middle, or a log of another run is refused
  with a message saying what to do (never a traceback);
- ``records`` always holds the JSON round trip of what was written (sorted keys, plain
  floats), so a fresh run and a resumed one see exactly the same data.

:func:`interruptible` turns SIGTERM into KeyboardInterrupt so both stop a run the same
way, leaving the log consistent, and (given ``resume_command``) prints how to resume.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Iterator

from allocator.errors import AllocatorError


class ResumeMismatch(AllocatorError):
    """The progress log belongs to a different run (other instance, seed or options)."""


# signal deferral: an interrupt that arrives while a record is being written is held
_state = {"critical": 0, "pending": None}


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class RunLog:
    def __init__(self, folder: str | Path, fingerprint: dict, *, resume: bool = False,
                 name: str = "progress.jsonl"):
        self.path = Path(folder) / name
        self.fingerprint = json.loads(json.dumps(fingerprint, sort_keys=True, default=str))
        self.records: dict[str, dict] = {}
        self.resumed = 0  # records found on resume
        self.torn_bytes = 0  # bytes of a torn final line cut off on resume
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume and self.path.exists():
            self._read()
        else:
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(json.dumps({"header": self.fingerprint}, sort_keys=True) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        self._fh = open(self.path, "a", encoding="utf-8")

    def _read(self) -> None:
        raw = self.path.read_bytes()
        if not raw.strip():
            raise ResumeMismatch(f"{self.path}: the progress log is empty; start again without "
                                 "--resume")
        # cut a torn final line (no trailing newline) so new records start on a fresh line
        if not raw.endswith(b"\n"):
            cut = raw.rfind(b"\n") + 1
            self.torn_bytes = len(raw) - cut
            raw = raw[:cut]
            with open(self.path, "r+b") as fh:
                fh.truncate(cut)
                fh.flush()
                os.fsync(fh.fileno())
        lines = raw.decode("utf-8", errors="replace").splitlines()
        if not lines:
            raise ResumeMismatch(f"{self.path}: the header line is incomplete; start again "
                                 "without --resume")
        try:
            header = json.loads(lines[0])["header"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ResumeMismatch(f"{self.path}: the first line is not a progress-log header; "
                                 "start again without --resume or use another --out") from None
        if header != self.fingerprint:
            diff = sorted(k for k in set(header) | set(self.fingerprint)
                          if header.get(k) != self.fingerprint.get(k)) if isinstance(header, dict) \
                else ["header"]
            raise ResumeMismatch(
                f"{self.path}: the saved run used different settings (differs in: "
                f"{', '.join(diff)}; saved {[header.get(k) for k in diff] if isinstance(header, dict) else header}, "
                f"now {[self.fingerprint.get(k) for k in diff]}); start without --resume or use "
                "another --out")
        for n, line in enumerate(lines[1:], start=2):
            try:
                rec = json.loads(line)
                key, data = str(rec["key"]), rec["data"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise ResumeMismatch(f"{self.path}: line {n} is damaged (not a complete record); "
                                     "the log cannot be trusted: start again without --resume"
                                     ) from None
            self.records[key] = data
        self.resumed = len(self.records)

    def done(self, key) -> bool:
        return str(key) in self.records

    def append(self, key, data: dict) -> None:
        """Write one finished unit: a whole line, flushed and fsync'ed before returning.
        An interrupt arriving meanwhile is delivered after the record is safe."""
        line = json.dumps({"key": str(key), "data": data}, sort_keys=True, default=float) + "\n"
        _state["critical"] += 1
        try:
            self._fh.write(line)
            self._fh.flush()
            os.fsync(self._fh.fileno())
            # keep what a resumed run will read back (JSON round trip: sorted keys, plain
            # floats), so a resumed run and an uninterrupted one build identical tables
            self.records[str(key)] = json.loads(line)["data"]
        finally:
            _state["critical"] -= 1
        _deliver_pending()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._fh.close()

    def __enter__(self) -> "RunLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _deliver_pending() -> None:
    if _state["critical"] == 0 and _state["pending"] is not None:
        _state["pending"] = None
        raise KeyboardInterrupt


def resume_command(argv: list[str] | None = None) -> str:
    """The command line that resumes this run: the current one with ``--resume`` added."""
    argv = list(sys.argv if argv is None else argv)
    if argv and Path(argv[0]).name in ("__main__.py", "allocator"):
        argv[0] = "allocator"
    if "--resume" not in argv:
        argv.append("--resume")
    return shlex.join(argv)


def resume_message(log: RunLog | None = None, command: str | None = None) -> str:
    """'interrupted: N finished units are saved in …; resume with: <command> --resume'."""
    saved = (f"{len(log.records)} finished unit(s) are saved in {log.path}"
             if log is not None else "finished units are saved")
    return f"interrupted: {saved}.\nresume with: {command or resume_command()}"


@contextlib.contextmanager
def interruptible(resume_command: str | None = None, log: RunLog | None = None,
                  stream=None) -> Iterator[None]:
    """Inside the block SIGTERM behaves like Ctrl-C (KeyboardInterrupt); an interrupt that
    lands while a :class:`RunLog` record is being written waits until it is on disk. On
    interrupt, if ``resume_command`` (or ``log``) is given, prints :func:`resume_message`
    to ``stream`` (stderr) before re-raising."""
    def _raise(signum, frame):  # noqa: ARG001
        if _state["critical"]:
            _state["pending"] = signum
            return
        raise KeyboardInterrupt

    old = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            old[sig] = signal.signal(sig, _raise)
        except ValueError:  # not the main thread
            pass
    try:
        yield
    except KeyboardInterrupt:
        if resume_command is not None or log is not None:
            print(resume_message(log, resume_command), file=stream or sys.stderr, flush=True)
        raise
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        _state["pending"] = None
