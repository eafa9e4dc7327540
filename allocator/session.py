"""Build once, re-solve many times: the engine's persistent path for sweeps and re-plans.

A :class:`ModelSession` builds the allocation LP once and keeps it loaded in HiGHS.
Parameter changes are pushed as bound or cost changes only (no rebuild, no
re-translation), and HiGHS re-solves warm from the previous basis:

- fiscal forecast columns (receipts, AME, welfare, GDP, envelopes, ...) → row bounds of
  ``del_envelope``, ``welfare_cap``, ``stability_rule``, ``investment_rule``,
  ``psnfl_definition``, recomputed by the same ``bounds()`` functions the build uses;
- mission weights, effect sizes (gain scaling) and discount rates → objective costs;
- fixing decisions of earlier years (non-anticipativity in re-plans) → column bounds.

The coefficient matrix never changes, so the LP solved is always the one
``build_allocation_model`` would build for the changed instance (tests check this).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from allocator.api import result_from
from allocator.models.allocation import build_allocation_model
from allocator.models.constraints import del_envelope, fiscal_rules, welfare_cap
from allocator.models.data import discount_factors
from allocator.models.objective import piece_lagged_discount, set_objective
from allocator.results import Result
from allocator.schema import Instance
from allocator.solvers.base import SolveOutput
from allocator.solvers.highs import HighsBackend

_BOUND_MODULES = (del_envelope, fiscal_rules, welfare_cap)
DECISION_BLOCKS = ("x", "funding", "mission_fund", "settlement")


@dataclass
class QuickSolve:
    """What a re-solve returns without building result tables."""

    status: str
    objective: float | None
    objective_in_horizon: float | None
    objective_terminal: float | None
    x: np.ndarray | None
    solve_s: float
    iterations: int


class ModelSession:
    def __init__(self, instance: Instance, *, time_limit_s: float | None = None,
                 presolve: bool = True):
        t0 = time.perf_counter()
        self.instance = instance
        self.model = build_allocation_model(instance)
        self.build_s = time.perf_counter() - t0
        self.backend = HighsBackend(time_limit_s=time_limit_s, presolve=presolve)
        self.backend.load(self.model.lp)
        md, lp = self.model.data, self.model.lp
        self._fiscal0 = {k: v.copy() for k, v in md.fiscal.items()}
        self._weight0 = md.weight.copy()
        self._gain0 = md.piece_gain.copy()
        self._delta0 = md.delta.copy()
        self._lb0, self._ub0 = lp.col_lower.copy(), lp.col_upper.copy()
        self._lb, self._ub = self._lb0.copy(), self._ub0.copy()
        self.col_year = self._column_years()
        self._lagged = None  # (delta it was computed for, piece_lagged_discount arrays)
        self.last: SolveOutput | None = None

    # ------------------------------------------------------------------ structure
    def _column_years(self) -> np.ndarray:
        """Year index of each decision column (−1 for columns that are not decisions)."""
        md, lp = self.model.data, self.model.lp
        out = np.full(lp.n, -1, dtype=int)
        pos = {y: t for t, y in enumerate(md.years)}
        period_start = {pid: a for pid, a, _ in md.periods}
        for name in DECISION_BLOCKS:
            b = lp.var_blocks[name]
            if b.size == 0:
                continue
            if "year" in b.index:
                out[b.start:b.start + b.size] = b.index["year"].map(pos).to_numpy()
            else:
                out[b.start:b.start + b.size] = b.index["period"].map(period_start).to_numpy()
        return out

    def _push_row_bounds(self) -> None:
        lp = self.model.lp
        for mod in _BOUND_MODULES:
            for family, (lo, hi) in mod.bounds(self.model).items():
                block = lp.family(family)
                if block is None:
                    continue
                rows = np.arange(block.start, block.start + block.size)
                self.backend.set_row_bounds(rows, lo, hi)

    def _push_costs(self) -> None:
        """Recompute the objective and push the costs of the x block (the only columns with a
        cost). The lagged discount factors are reused while the discount rates are unchanged."""
        lp, md = self.model.lp, self.model.data
        if self._lagged is None or not np.array_equal(self._lagged[0], md.delta):
            self._lagged = (md.delta.copy(), piece_lagged_discount(md))
        set_objective(self.model, self._lagged[1])
        x = lp.var_blocks["x"]
        self.backend.set_costs(np.arange(x.start, x.start + x.size), lp.cost[x.start:x.start + x.size])

    # ------------------------------------------------------------------ parameter changes
    def set_fiscal(self, **columns) -> None:
        """Replace fiscal-table columns (arrays of length T, cash £m), e.g.
        ``receipts_gbp_m=…, ame_current_gbp_m=…, rdel_envelope_gbp_m=…``."""
        md = self.model.data
        for name, values in columns.items():
            if name not in md.fiscal:
                raise KeyError(f"unknown fiscal column {name!r}; known: {sorted(md.fiscal)}")
            arr = np.asarray(values, dtype=float)
            if arr.shape != (md.T,):
                raise ValueError(f"{name}: expected {md.T} values, got shape {arr.shape}")
            md.fiscal[name] = arr.copy()
        self._push_row_bounds()

    def set_weights(self, weights) -> None:
        """Mission weights: an array (M,) or a mapping mission id -> weight."""
        md = self.model.data
        if isinstance(weights, dict):
            w = md.weight.copy()
            for k, v in weights.items():
                w[md.missions.index(k)] = v
        else:
            w = np.asarray(weights, dtype=float)
        md.weight = w
        self._push_costs()

    def scale_gains(self, factor=1.0, *, programmes=None, missions=None) -> None:
        """Multiply effect sizes (gain per £m) by ``factor`` for the given programmes/missions
        (all by default), relative to the instance's values."""
        md = self.model.data
        rows = np.ones(len(md.piece_prog), dtype=bool)
        if programmes is not None:
            ids = {md.programmes.index(p) for p in programmes}
            rows = np.isin(md.piece_prog, list(ids))
        cols = np.ones(md.M, dtype=bool)
        if missions is not None:
            cols = np.isin(np.array(md.missions), list(missions))
        g = self._gain0.copy()
        g[np.ix_(rows, cols)] *= factor
        md.piece_gain = g
        self._push_costs()

    def set_discount_rate(self, rate: float, *, missions=None) -> None:
        """Flat discount rate for the given missions (all by default)."""
        md = self.model.data
        d = md.delta.copy()
        for m, mid in enumerate(md.missions):
            if missions is None or mid in missions:
                d[m] = discount_factors(rate, rate, rate, d.shape[1], flat=True)
        md.delta = d
        self._push_costs()

    def fix_years(self, before: int, x: np.ndarray) -> None:
        """Fix every decision of years t < ``before`` to its value in ``x`` (a previous plan)."""
        cols = np.flatnonzero((self.col_year >= 0) & (self.col_year < before))
        self._lb[:] = self._lb0
        self._ub[:] = self._ub0
        self._lb[cols] = x[cols]
        self._ub[cols] = x[cols]
        self.backend.set_col_bounds(np.arange(len(self._lb)), self._lb, self._ub)

    def release(self) -> None:
        """Undo :meth:`fix_years`."""
        self._lb[:] = self._lb0
        self._ub[:] = self._ub0
        self.backend.set_col_bounds(np.arange(len(self._lb)), self._lb, self._ub)

    def reset(self) -> None:
        """Back to the instance as built."""
        md = self.model.data
        md.fiscal = {k: v.copy() for k, v in self._fiscal0.items()}
        md.weight, md.piece_gain, md.delta = self._weight0.copy(), self._gain0.copy(), self._delta0.copy()
        self._push_row_bounds()
        self._push_costs()
        self.release()

    # ------------------------------------------------------------------ solving
    def solve(self) -> QuickSolve:
        """Warm re-solve; objective parts only (fast path for sweeps and simulations)."""
        out = self.backend.solve()
        self.last = out
        lp = self.model.lp
        if out.x is None:
            return QuickSolve(out.status.value, None, None, None, None, out.solve_s, out.iterations)
        oi = float(lp.cost_in_horizon @ out.x + lp.constant_in_horizon)
        ot = float(lp.cost_terminal @ out.x + lp.constant_terminal)
        return QuickSolve(out.status.value, oi + ot, oi, ot, out.x, out.solve_s, out.iterations)

    def result(self, explain: bool = True) -> Result:
        """Full :class:`Result` (tables, shadow prices) of the last solve."""
        if self.last is None:
            self.solve()
        return result_from(self.model, self.last, explain=explain)
