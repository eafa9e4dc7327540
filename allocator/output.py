"""Atomic output: a results folder appears complete or not at all.

Files are written into a temporary sibling folder; on success it is renamed into place
(or, when the folder already exists, each file replaces its old version with
``os.replace``, which is atomic). On any error the temporary folder is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pandas as pd


@contextlib.contextmanager
def atomic_dir(out: str | Path) -> Iterator[Path]:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        if not out.exists():
            os.replace(tmp, out)
        else:
            for item in sorted(tmp.rglob("*")):
                target = out / item.relative_to(tmp)
                if item.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(item, target)
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (ending in ``suffix``, default ``path``'s own, for
    writers that choose the format by extension); on success it replaces ``path`` atomically,
    on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with a fixed float format so equal results give byte-identical files."""
    df.to_csv(path, index=False, float_format="%.6f", lineterminator="\n")


def write_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


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
