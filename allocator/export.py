"""Export the allocation LP (LP or MPS) with readable row and column names."""

from __future__ import annotations

import re

import numpy as np
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
    """Write the LP ``allocator solve`` solves, with the objective it reports.

    Columns and rows are the engine's (money in £m whatever the instance's money_unit). The
    objective is written exactly as reported in ``summary.json``: maximise (c·x + c0) / k,
    with c0 the model's constant (the baseline terms) as the objective offset and k the
    money-unit factor of the objective (1 for £m instances and priority weights), and none
    of the solver back-end's internal cost normalisation; the constant c0/k is the cost of
    one extra column, ``objective_constant``, fixed at 1 (portable to every LP/MPS reader).
    Any LP solver's optimum on the file is therefore ``summary.json``'s objective."""
    from allocator.numerics import money_unit, objective_factor, to_gbp_m

    st = inst.settings
    k = objective_factor(money_unit(inst), st.weights.kind, st.objective.kind)
    model = build_allocation_model(to_gbp_m(inst))
    be = HighsBackend()
    be.load(model.lp)
    lp = model.lp
    be.h.changeObjectiveOffset(0.0)  # the constant is written as a column instead (below)
    be.h.changeColsCost(lp.n, np.arange(lp.n, dtype=np.int32), np.asarray(lp.cost, dtype=float) / k)
    # the constant as a column fixed at 1 (named objective_constant): LP-format readers such as
    # GLPK's do not accept a bare constant in the objective, and MPS readers disagree on the
    # sign of an objective-row RHS
    be.h.addCol(float(lp.constant) / k, 1.0, 1.0, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
    cols, rows = names(model.lp)
    for j, n in enumerate([*cols, "objective_constant"]):
        be.h.passColName(j, n)
    for i, n in enumerate(rows):
        be.h.passRowName(i, n)
    file = Path(file)
    with atomic_file(file, suffix=f".{fmt}") as tmp:  # HiGHS picks the format by extension
        be.write(tmp)
    return file
