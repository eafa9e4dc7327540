"""Safe output: a results folder is replaced whole, never mixed, never half-written.

The rule for ``--out DIR`` (every command that writes a folder: solve, appraise, diff,
cycles, sensitivity):

1. **Refused targets** (exit 1, nothing written): ``/``, the home folder, an existing file,
   an instance folder (it holds ``instance.yaml``), and a non-empty folder that is not an
   allocator results folder. A results folder is marked by the file ``.allocator-results``
   (written last, so a folder without it was never completed by allocator).
2. **The run is written beside the target** into a hidden temporary folder in the same
   parent (``PARENT/.DIR.XXXX.tmp``: same file system, so the final rename never crosses
   devices), then swapped in for the target in one step (``renameat2(RENAME_EXCHANGE)``
   where the kernel has it, otherwise two renames under a lock), and the old folder is
   deleted. No file of the earlier run survives; a reader sees the old run or the new one.
3. **When the target is a mount point** (a container volume) or its parent is not
   writable, the target itself cannot be renamed. The run is then written into a hidden
   folder inside the target (``DIR/.allocator-new.XXXX``); at the end the old run's
   entries are moved aside into ``DIR/.allocator-old.XXXX`` (marker first), the new
   entries moved up (marker last) and the old ones deleted. Old and new files are never
   side by side, and the marker is present only while the folder holds one complete run.
4. **Resumable runs** (cycles, sensitivity) keep their progress log in
   ``DIR/.allocator-partial/`` while they run (the earlier results stay readable beside it
   and untouched). ``--resume`` continues that log; it is locked so two runs cannot share
   it. At the end the finished tables are written into the same folder, which then
   replaces ``DIR`` whole as in rule 2 or 3 (the log is kept as ``DIR/progress.jsonl``).
   A run without ``--resume`` starts a fresh log.
5. **Faults** (disk full, permission denied, read-only file system) end the command with
   one message naming the target and the cause, exit 1; the temporary folder is removed
   (a resumable run keeps its progress log for ``--resume``) and the target is untouched.
6. **Permissions** follow the umask, as for any file the user creates (the temporary
   folders and files Python creates are 0700/0600; they are opened up to ``0777 & ~umask``
   and ``0666 & ~umask`` before they are swapped in).

Single-file outputs (report ``.html``, template ``.xlsx``, export ``.lp``/``.mps``) are
written to a temporary file beside the target and renamed over it; an existing folder, an
instance's input file or a results folder's own data file is refused as a target.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pandas as pd

from allocator.errors import AllocatorError

MARKER = ".allocator-results"
PARTIAL = ".allocator-partial"
_OURS = (".allocator-",)  # hidden entries of our own making inside a target folder


class OutputError(AllocatorError):
    """An output target is refused, or writing it failed (nothing was changed)."""


# --------------------------------------------------------------------------- permissions
def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _open_up(path: Path, directory: bool) -> None:
    """Give a mkdtemp/mkstemp path the permissions a plain mkdir/open would have."""
    with contextlib.suppress(OSError):
        os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


# --------------------------------------------------------------------------- target checks
def is_results_folder(folder: Path) -> bool:
    """True if ``folder`` was written by allocator (marker file, possibly inside one of our
    hidden working folders after an interrupted swap)."""
    if (folder / MARKER).is_file():
        return True
    try:
        return any(p.name.startswith(_OURS) and (p / MARKER).is_file() for p in folder.iterdir())
    except OSError:
        return False


def _only_ours(folder: Path) -> bool:
    return all(p.name.startswith(_OURS) for p in folder.iterdir())


def _refuse(out: Path, why: str) -> OutputError:
    return OutputError(f"--out {out}: {why}")


def check_target(out: str | Path, instance_folder: bool = False) -> Path:
    """The target folder, resolved, or :class:`OutputError` if it must not be written.
    ``instance_folder``: the target is an instance folder being (re)written, not results."""
    given = Path(out)
    out = Path(os.path.abspath(given))
    if given.is_symlink():
        out = given.resolve()
    if out == Path(out.anchor):
        raise _refuse(given, "refusing to write into the root folder; give a new folder")
    home = Path(os.path.expanduser("~"))
    with contextlib.suppress(OSError):
        if out == home.resolve() or out == home:
            raise _refuse(given, "refusing to write into the home folder; give a new folder "
                          "such as ~/results")
    if out.exists() and not out.is_dir():
        raise _refuse(given, "is a file, not a folder; give a folder for the results")
    if out.is_dir() and instance_folder:
        if any(out.iterdir()) and not (out / "instance.yaml").exists():
            raise _refuse(given, "is a non-empty folder that is not an instance folder (no "
                          "instance.yaml); give a new or empty folder")
    elif out.is_dir():
        if (out / "instance.yaml").exists():
            raise _refuse(given, "is an instance folder (it holds instance.yaml); write the "
                          "results to another folder, e.g. --out results")
        try:
            entries = list(out.iterdir())
        except PermissionError as e:
            raise _refuse(given, f"cannot read the folder ({e.strerror})") from None
        if entries and not is_results_folder(out) and not _only_ours(out):
            names = ", ".join(sorted(p.name for p in entries)[:5])
            raise _refuse(given, f"is a non-empty folder that is not an allocator results folder "
                          f"(no {MARKER} file; it holds {names}{', ...' if len(entries) > 5 else ''}); "
                          "give a new or empty folder, or remove it first")
    for p in out.parents if not instance_folder else ():  # writing inside a results folder would be lost at its next run
        if p.is_dir() and (p / MARKER).is_file():
            raise _refuse(given, f"is inside the results folder {p}, which is replaced whole "
                          "by its next run; give a folder outside it")
    return out


def _writable_parent(out: Path) -> bool:
    return os.access(out.parent, os.W_OK | os.X_OK)


def _in_place(out: Path) -> bool:
    """True when ``out`` itself cannot be renamed: a mount point, or a parent we cannot write."""
    return out.is_dir() and (os.path.ismount(out) or not _writable_parent(out))


def _fault(out: Path, e: OSError) -> OutputError:
    what = e.strerror or str(e)
    if e.errno == errno.ENOSPC:
        what = "no space left on the device"
    elif e.errno in (errno.EACCES, errno.EPERM):
        what = "permission denied"
    elif e.errno == errno.EROFS:
        what = "the file system is read-only"
    where = f" ({e.filename})" if getattr(e, "filename", None) else ""
    return OutputError(f"cannot write {out}: {what}{where}; nothing was changed")


# --------------------------------------------------------------------------- locking, swap
@contextlib.contextmanager
def _locked(folder: Path, blocking: bool = True, what: str = "") -> Iterator[None]:
    """An advisory lock (flock) on a folder, held by one allocator process at a time."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            raise OutputError(f"{what or folder}: another allocator run is writing here; wait for "
                              "it to finish or choose another --out") from None
        yield
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_sibling(new: Path, out: Path) -> None:
    """Put the complete folder ``new`` (a sibling of ``out``) in place of ``out``."""
    with _locked(out.parent):
        if not out.exists():
            os.rename(new, out)
            return
        if _exchange(new, out):
            shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the old run
            return
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.rename(out, old / "run")
        os.rename(new, out)
        shutil.rmtree(old, ignore_errors=True)


def _swap_inside(new: Path, out: Path) -> None:
    """Replace the contents of ``out`` (a mount point) by those of ``new`` (a folder inside
    it): the old entries move aside (marker first), then the new ones move up (marker last)."""
    with _locked(out):
        old = Path(tempfile.mkdtemp(prefix=".allocator-old.", dir=out))
        if (out / MARKER).exists():
            os.rename(out / MARKER, old / MARKER)
        for p in list(out.iterdir()):
            if p == new or p == old:
                continue
            if p.name.startswith(_OURS) and p.is_dir() and _alive(p):
                continue  # another run's working folder (it swaps itself in later)
            os.rename(p, old / p.name)
        for p in sorted(new.iterdir(), key=lambda q: q.name == MARKER):
            os.rename(p, out / p.name)
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(new, ignore_errors=True)


def _mark(folder: Path, command: str) -> None:
    from allocator import __version__

    write_json({"allocator_results": 1, "command": command, "allocator": __version__},
               folder / MARKER)


def _finish(work: Path, out: Path, command: str, marker: bool = True) -> None:
    for p in [work, *work.rglob("*")]:
        if p.is_dir():
            _open_up(p, True)
    if marker:
        _mark(work, command)
    if work.parent == out:  # written inside the target
        if _in_place(out):
            _swap_inside(work, out)
            return
        sib = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        os.rename(work, sib / "run")
        _open_up(sib / "run", True)
        try:
            _swap_sibling(sib / "run", out)
        finally:
            shutil.rmtree(sib, ignore_errors=True)
    else:
        _swap_sibling(work, out)


def _alive(folder: Path) -> bool:
    """True if a running allocator process holds the lock on ``folder`` (its working folder)."""
    import fcntl

    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)  # (also releases a lock taken just above)


def _remove_stale(out: Path) -> None:
    """Delete temporary siblings of ``out`` left by a killed run (a minute old and not locked:
    a running one holds the lock on its folder, so it is never touched)."""
    import time

    for p in out.parent.glob(f".{out.name}.*.tmp"):
        try:
            old = time.time() - p.lstat().st_mtime > 60
        except OSError:
            continue
        if p.is_dir() and not p.is_symlink() and old and not _alive(p):
            shutil.rmtree(p, ignore_errors=True)


# --------------------------------------------------------------------------- folders
@contextlib.contextmanager
def results_folder(out: str | Path, command: str = "allocator", *, resumable: bool = False,
                   resume: bool = False, instance_folder: bool = False) -> Iterator[Path]:
    """Yield an empty (or, with ``resume``, the continued) working folder for a run whose
    results replace folder ``out`` whole when the block ends without error (rules in the
    module docstring). ``resumable`` runs work in ``out/.allocator-partial``.
    ``instance_folder``: write an instance folder (no results marker; it may replace an
    existing instance folder)."""
    out = check_target(out, instance_folder=instance_folder)
    given = out
    try:
        if resumable:
            out.mkdir(parents=True, exist_ok=True)
            work = out / PARTIAL
            if work.exists() and not resume:
                with _locked(work, blocking=False, what=str(given)):
                    pass
                shutil.rmtree(work)
            work.mkdir(exist_ok=True)
            if resume:  # a finished run's log may be continued too
                for log in out.glob("*progress.jsonl"):
                    if not (work / log.name).exists():
                        shutil.copy2(log, work / log.name)
        elif _in_place(out):
            work = Path(tempfile.mkdtemp(prefix=".allocator-new.", dir=out))
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale(out)
            work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as e:
        raise _fault(given, e) from None
    _open_up(work, True)
    lock = _locked(work, blocking=False, what=str(given))  # marks the folder as in use
    done = False
    try:
        with lock:
            yield work
            try:
                _finish(work, out, command, marker=not instance_folder)
            except OSError as e:
                raise _fault(given, e) from None
            done = True
    except OSError as e:
        if not resumable:
            shutil.rmtree(work, ignore_errors=True)
        raise _fault(given, e) from None
    finally:
        if not done and not resumable:
            shutil.rmtree(work, ignore_errors=True)


#: kept for callers that predate :func:`results_folder`
atomic_dir = results_folder


# --------------------------------------------------------------------------- single files
_INSTANCE_INPUTS = {".yaml", ".yml", ".csv"}


def check_file_target(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name for the output")
    if path.exists() and (path.parent / "instance.yaml").exists() and \
            (path.suffix.lower() in _INSTANCE_INPUTS or path.name == "instance.yaml"):
        raise OutputError(f"{path}: is an input file of the instance in {path.parent}; "
                          "refusing to overwrite it")
    if path.exists() and (path.parent / MARKER).is_file() and \
            (path.suffix.lower() in {".csv", ".json", ".jsonl"} or path.name == MARKER):
        raise OutputError(f"{path}: is a data file of the results folder {path.parent}; "
                          "refusing to overwrite it")
    return path


@contextlib.contextmanager
def atomic_file(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (ending in ``suffix``, default ``path``'s own, for
    writers that choose the format by extension); on success it replaces ``path`` atomically,
    on error it is removed and the error is reported as :class:`OutputError`."""
    path = check_file_target(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix or path.suffix,
                                   dir=path.parent)
        os.close(fd)
        _open_up(Path(tmp), False)
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as e:
        raise _fault(path, e) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_file(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with a fixed float format so equal results give byte-identical files."""
    df.to_csv(path, index=False, float_format="%.6f", lineterminator="\n")


def json_safe(obj):
    """``obj`` with every non-finite float (NaN, ±inf) as None, so the JSON written is strict
    (RFC 8259 has no NaN or Infinity; Python would otherwise write them bare)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "shape", None) == ():  # numpy scalar
        return json_safe(obj.item())
    return obj


def json_text(obj) -> str:
    """Strict, sorted, indented JSON of ``obj`` (non-finite numbers as null)."""
    return json.dumps(json_safe(obj), indent=2, sort_keys=True, default=str, allow_nan=False)


def write_json(obj, path: Path) -> None:
    path.write_text(json_text(obj) + "\n", encoding="utf-8")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Parquet beside the CSV (typed columns; needs the optional pyarrow: ``allocator[parquet]``)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        from allocator.errors import AllocatorError

        raise AllocatorError("--parquet needs pyarrow: pip install 'allocator[parquet]'") from None
    if df is None:  # availability check only
        return
    df.to_parquet(path, index=False, engine="pyarrow")
