"""Derive, for any declared row family, a plan that breaks it by a small margin in one row.

Generic construction from the row (nothing family-specific): take the instance's LP, pick a
row r of the family and move its bound outward by δ, then *force* the row onto the moved
bound (a·x = hi + δ, or lo − δ) while every other row keeps its bounds; solve for the best
such plan (integrality relaxed, settlements nudged down to the spend they cover). That plan
breaks exactly row r by δ = 1e-4 · the row's magnitude (at least £0.05m), and holds every
other row and every definition. Its result tables are what the checker and the appraisal see.

The instance: tiny, then uk_missions; or, for a family that declares ``tamper(instance)`` (an
instance where its rule binds, so a plan can break it by a small margin), that applied to
them; the first in which such a plan exists.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp

from allocator import load_instance, tables
from allocator.models.allocation import build_allocation_model
from allocator.models.constraints import registry
from allocator.numerics import to_gbp_m
from allocator.solvers.highs import HighsBackend
from tests.conftest import INSTANCES

BASES = ("tiny", "uk_missions")


@functools.lru_cache(maxsize=None)
def base(name):
    return to_gbp_m(load_instance(INSTANCES / name))


def family_of(row_name):
    return next(f for f in registry() if row_name in f.names)


def candidates(row_name):
    """(label, instance, model) of each candidate instance where ``row_name`` has rows: the
    family's declared ``tamper`` applied to each base if it declares one, else the bases."""
    fam = family_of(row_name)
    if fam.tamper is not None:
        insts = [(f"{b} + {fam.module.rsplit('.', 1)[-1]}.tamper", fam.tamper(base(b))) for b in BASES]
    else:
        insts = [(b, base(b)) for b in BASES]
    for label, inst in insts:
        if inst is None:
            continue
        inst = to_gbp_m(inst)
        model = build_allocation_model(inst)
        block = model.lp.family(row_name)
        if block is not None and block.size:
            yield label, inst, model


class _View:
    pass


def _solve(lp, lo, hi, cost):
    v = _View()
    v.n, v.m, v.A = lp.n, lp.m, lp.A
    v.col_lower, v.col_upper = lp.col_lower, lp.col_upper
    v.row_lower, v.row_upper, v.cost = lo, hi, cost
    be = HighsBackend()
    be.load(v)
    return be.solve()


SIDES = {"<=": ("hi",), ">=": ("lo",), "==": ("hi", "lo"), "range": ("hi", "lo")}


def sides(row_name):
    """The sides a plan can break a row family on, from its declared sense."""
    from allocator.models.constraints import row_families

    return SIDES[row_families()[row_name].sense]


def broken_plan(row_name, side=None, max_tries=60):
    """(label, instance, model, x, row, delta) with row ``row`` of ``row_name`` broken by delta
    (above its upper bound, side "hi", or below its lower bound, "lo"; either when None) and
    every other row holding, in the first candidate instance where that is possible."""
    tried = []
    for label, inst, model in candidates(row_name):
        found = _break_one_row(model, row_name, max_tries, side)
        if found is not None:
            return (label, inst, model, *found)
        tried.append(label)
    raise AssertionError(f"no plan breaks one row of {row_name} alone in {tried or 'any instance'}; "
                         "declare tamper= (an instance where the rule binds)")


def _break_one_row(model, row_name, max_tries, only_side=None):
    lp = model.lp
    block = lp.family(row_name)
    lo0, hi0 = lp.row_lower, lp.row_upper
    # tie-breakers: settlements no higher than the spend they cover, and each programme's
    # response pieces filled in order (the concave fill the checker and appraisal assume)
    eps = 1e-6 * max(1.0, np.abs(lp.cost).max())
    cost = lp.cost.copy()
    sb = lp.var_blocks["settlement"]
    cost[sb.start:sb.start + sb.size] -= eps
    md, xb = model.data, lp.var_blocks["x"]
    rank = np.concatenate([[0], (np.diff(md.piece_prog) == 0).astype(int)])
    for i in range(1, len(rank)):
        rank[i] = rank[i - 1] + 1 if rank[i] else 0
    cost[xb.start:xb.start + xb.size] -= eps * np.repeat(rank, md.T)
    base_out = _solve(lp, lo0, hi0, cost)
    xs = base_out.x if base_out.x is not None else np.zeros(lp.n)
    A = sp.csr_matrix(lp.A)
    rows = np.arange(block.start, block.start + block.size)
    # rows nearest to binding first: they are the ones a plan can push past
    act = A[rows] @ xs
    gap = np.minimum(np.where(np.isfinite(hi0[rows]), hi0[rows] - act, np.inf),
                     np.where(np.isfinite(lo0[rows]), act - lo0[rows], np.inf))
    for r in rows[np.argsort(gap, kind="stable")][:max_tries]:
        a = A[r]
        mag = float(np.abs(a.data * xs[a.indices]).sum())
        for side in (only_side,) if only_side else ("hi", "lo"):
            bound = hi0[r] if side == "hi" else lo0[r]
            if not np.isfinite(bound):
                continue
            delta = max(0.05, 1e-4 * max(1.0, mag, abs(bound)))
            target = bound + delta if side == "hi" else bound - delta
            lo, hi = lo0.copy(), hi0.copy()
            lo[r] = hi[r] = target
            out = _solve(lp, lo, hi, cost)
            if out.x is not None and out.status.value == "optimal":
                return out.x, r, delta
    return None


def result_tables(model, x):
    return {"allocations": tables.allocations(model, x), "departments": tables.departments(model, x),
            "fiscal": tables.fiscal(model, x)}
