"""Export the allocation LP (LP or MPS) with readable row and column names."""

from __future__ import annotations

import re
from pathlib import Path

from allocator.models.allocation import build_allocation_model
from allocator.output import atomic_file
from allocator.schema import Instance
from allocator.solvers.highs import HighsBackend

_SAFE = re.compile(r"[^A-Za-z0-9_.]+")


def _name(*parts) -> str:
    return _SAFE.sub("_", "_".join(str(p) for p in parts if str(p) != ""))[:200]


def names(lp) -> tuple[list[str], list[str]]:
    cols = []
    for b in lp.var_blocks.values():
        for r in b.index.itertuples(index=False):
            cols.append(_name(b.name, *r))
    rows = [_name(r.family, r.subject, r.category, r.year) for r in lp.row_labels().itertuples()]
    # names must be unique
    for lst in (cols, rows):
        seen: dict[str, int] = {}
        for i, n in enumerate(lst):
            if n in seen:
                seen[n] += 1
                lst[i] = f"{n}_{seen[n]}"
            else:
                seen[n] = 0
    return cols, rows


def write_model(inst: Instance, file: str | Path, fmt: str) -> Path:
    model = build_allocation_model(inst)
    be = HighsBackend()
    be.load(model.lp)
    cols, rows = names(model.lp)
    for j, n in enumerate(cols):
        be.h.passColName(j, n)
    for i, n in enumerate(rows):
        be.h.passRowName(i, n)
    file = Path(file)
    with atomic_file(file, suffix=f".{fmt}") as tmp:  # HiGHS picks the format by extension
        be.write(tmp)
    return file
