"""Build once, re-solve many times: the engine's persistent path for sweeps and re-plans.

A :class:`ModelSession` builds the allocation LP once and keeps it loaded in HiGHS.
Parameter changes are pushed as bound or cost changes only (no rebuild, no
re-translation), and HiGHS re-solves warm from the previous basis:

- fiscal forecast columns (receipts, AME, welfare, GDP, envelopes, ...) → row bounds of
  ``del_envelope``, ``welfare_cap``, ``stability_rule``, ``investment_rule``,
  ``psnfl_definition``, recomputed by the same ``bounds()`` functions the build uses;
- mission weights, effect sizes (gain scaling) and discount rates → objective costs;
- fixing decisions of earlier years (non-anticipativity in re-plans) → column bounds.

Only two kinds of matrix coefficient follow parameters, and they are changed in place:
the investment rule's GDP ratio, and (target mode) the target rows' effect sizes. So the
LP solved is always the one ``build_allocation_model`` would build for the changed
instance (tests check this).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from allocator.api import result_from
from allocator.models.allocation import build_allocation_model, decision_years
from allocator.models.constraints import with_bounds
from allocator.models.data import discount_factors
from allocator.models.objective import piece_lagged_discount, set_objective
from allocator.results import Result
from allocator.schema import Instance
from allocator.solvers.base import SolveOutput
from allocator.solvers.highs import HighsBackend




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
    slack: np.ndarray | None = None  # breach slacks (see ModelSession.add_breach_slacks)


class ModelSession:
    def __init__(self, instance: Instance, *, time_limit_s: float | None = None,
                 presolve: bool = True):
        t0 = time.perf_counter()
        from allocator.numerics import to_gbp_m

        self.instance = instance
        # the engine works in £m whatever the instance's money_unit (tables come back in £m)
        self.model = build_allocation_model(to_gbp_m(instance))
        self.build_s = time.perf_counter() - t0
        self.backend = HighsBackend(time_limit_s=time_limit_s, presolve=presolve)
        from allocator.models.constraints.business_cases import integrality

        ints = integrality(self.model)  # all-or-nothing business cases stay integer on re-solves
        self.backend.load(self.model.lp, integrality=ints)
        md, lp = self.model.data, self.model.lp
        self._fiscal0 = {k: v.copy() for k, v in md.fiscal.items()}
        self._weight0 = md.weight.copy()
        self._gain0 = md.piece_gain.copy()
        self._delta0 = md.delta.copy()
        self._lb0, self._ub0 = lp.col_lower.copy(), lp.col_upper.copy()
        self._lb, self._ub = self._lb0.copy(), self._ub0.copy()
        self.col_year = decision_years(self.model)
        self._lagged = None  # (delta it was computed for, piece_lagged_discount arrays)
        self.last: SolveOutput | None = None
        self._target_gain = self.model.data.piece_gain.copy()  # gains the target rows hold
        self.slack_rows = np.zeros(0, dtype=int)  # row of each breach slack column
        self.slack_family: list[str] = []

    # ------------------------------------------------------------------ structure
    def _push_row_bounds(self) -> None:
        lp = self.model.lp
        for mod in with_bounds():
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
        self._push_target_rows()

    def _push_target_rows(self) -> None:
        """Target mode: the ``mission_target`` rows hold the effect sizes in the matrix
        (Σ γ ℓ x ≥ …), so a change of gains rewrites their coefficients and lower bounds."""
        lp, md = self.model.lp, self.model.data
        block = lp.family("mission_target")
        if block is None:
            return
        if self._target_gain is not None and np.array_equal(self._target_gain, md.piece_gain):
            return
        from allocator.models.targets import target_rows

        A_new, lo, _ = target_rows(self.model)
        part = next(i for i, b in enumerate(lp.row_blocks) if b is block)
        old = lp._A_parts[part].tocsr()
        diff = (A_new.tocsr() - old).tocoo()
        h = self.backend.h
        new = A_new.tocsr()
        for r, c in zip(diff.row, diff.col):
            h.changeCoeff(int(block.start + r), int(c), float(new[r, c]))
        lp._A_parts[part] = new
        lp._A = None  # the cached full matrix is rebuilt on next use
        rows = np.arange(block.start, block.start + block.size)
        lp._lo_parts[part] = lo
        self.backend.set_row_bounds(rows, lo, np.full(len(rows), np.inf))
        self._target_gain = md.piece_gain.copy()

    # ------------------------------------------------------------------ parameter changes
    def set_fiscal(self, **columns) -> None:
        """Replace fiscal-table columns (arrays of length T, cash £m), e.g.
        ``receipts_gbp_m=…, ame_current_gbp_m=…, rdel_envelope_gbp_m=…``."""
        md = self.model.data
        if "deflator" in columns:
            raise ValueError("the deflator enters the coefficient matrix (cash = π·real spend); "
                             "build a new ModelSession for a changed deflator")
        for name, values in columns.items():
            if name not in md.fiscal:
                raise KeyError(f"unknown fiscal column {name!r}; known: {sorted(md.fiscal)}")
            arr = np.asarray(values, dtype=float)
            if arr.shape != (md.T,):
                raise ValueError(f"{name}: expected {md.T} values, got shape {arr.shape}")
            md.fiscal[name] = arr.copy()
        if "gdp_gbp_m" in columns:
            self._push_gdp_ratios()
        self._push_row_bounds()

    def _push_gdp_ratios(self) -> None:
        """The investment rule's coefficient −Y_t/Y_{t−1} on N_{t−1} (t ≥ 1) follows GDP."""
        lp, md = self.model.lp, self.model.data
        block = lp.family("investment_rule")
        if block is None:
            return
        Y = md.fiscal["gdp_gbp_m"]
        nb = lp.var_blocks["psnfl"]
        A = lp.A
        for r, year in enumerate(block.labels["year"]):
            t = md.years.index(year)
            if t == 0:
                continue  # Y_0/Y_{-1} sits in the row bound
            row, col, val = block.start + r, nb.start + t - 1, -Y[t] / Y[t - 1]
            self.backend.h.changeCoeff(row, col, val)
            lo, hi = A.indptr[col], A.indptr[col + 1]
            hit = np.flatnonzero(A.indices[lo:hi] == row)
            A.data[lo + hit[0]] = val

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

    def set_headroom(self, gbp_m: float) -> None:
        """Fiscal-rule headroom H (cash £m) → ``stability_rule``/``investment_rule`` row bounds.
        Works on a private copy of the settings, so the caller's instance is not changed."""
        if self.model.instance is self.instance:
            self.model.instance = self.instance.model_copy(deep=True)
        self.model.instance.settings.fiscal_rules.headroom_gbp_m = float(gbp_m)
        self._push_row_bounds()

    def set_gain_factors(self, piece_factor) -> None:
        """Multiply the effect size of each response piece i by ``piece_factor[i]`` (shape (N,)),
        relative to the instance's values: γ'_im = f_i γ_im. Used for effects that depend on
        the spending regime (e.g. the certainty of multi-year settlements)."""
        md = self.model.data
        f = np.asarray(piece_factor, dtype=float)
        if f.shape != (len(md.piece_prog),):
            raise ValueError(f"expected {len(md.piece_prog)} piece factors, got shape {f.shape}")
        md.piece_gain = self._gain0 * f[:, None]
        self._push_costs()

    def add_breach_slacks(self, families, penalty_per_gbp_m: float) -> None:
        """Make the rows of ``families`` elastic: one slack column s_r >= 0 per row r, costing
        ``penalty_per_gbp_m`` per £m in the objective (maximised, so −penalty·s_r):

            a_r·x + s_r >= lo_r     (rows with only a lower bound, e.g. stability_rule)
            a_r·x − s_r <= hi_r     (rows with an upper bound: investment_rule, welfare_cap, del_envelope)

        With a penalty far above any shadow price the LP breaks a rule only when no plan can
        keep it, and then by the least amount (a minimum-breach plan). The slack columns live
        only in the solver; ``QuickSolve.x`` keeps the model's n columns and the slacks are in
        ``QuickSolve.slack`` (aligned with ``self.slack_rows`` / ``self.slack_family``). The
        objective parts reported exclude the penalty. Call once, before solving."""
        if len(self.slack_rows):
            raise RuntimeError("breach slacks were already added to this session")
        lp = self.model.lp
        hi = lp.row_upper
        rows, signs, fams = [], [], []
        for fam in families:
            block = lp.family(fam)
            if block is None:
                continue
            r = np.arange(block.start, block.start + block.size)
            rows.append(r)
            signs.append(np.where(np.isfinite(hi[r]), -1.0, 1.0))
            fams += [fam] * block.size
        if not rows:
            return
        r, sg = np.concatenate(rows), np.concatenate(signs)
        k = len(r)
        h = self.backend.h
        # costs go to HiGHS in the back-end's normalised objective units (HighsBackend.cost_scale)
        h.addCols(k, np.full(k, -float(penalty_per_gbp_m) * self.backend.cost_scale), np.zeros(k),
                  np.full(k, np.inf),
                  k, np.arange(k, dtype=np.int32), r.astype(np.int32), sg)
        self.slack_rows, self.slack_family = r, fams

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
        self.model.instance = self.instance  # undo set_headroom
        md.fiscal = {k: v.copy() for k, v in self._fiscal0.items()}
        self._push_gdp_ratios()  # undo a GDP change in the investment rule's matrix
        md.weight, md.piece_gain, md.delta = self._weight0.copy(), self._gain0.copy(), self._delta0.copy()
        self._push_row_bounds()
        self._push_costs()
        self.release()
        self.restore_base_basis()

    # ------------------------------------------------------------------ warm-start basis
    def remember_base_basis(self) -> None:
        """Keep the current HiGHS basis as the *base* basis (taken automatically after the
        first optimal solve)."""
        self._base_basis = self.backend.h.getBasis()

    def restore_base_basis(self) -> None:
        """Warm-start the next solve from the base basis instead of the last one.

        The LP often has alternative optima; the vertex HiGHS ends at depends on where it
        starts. Starting every scenario from the same basis makes each result independent of
        the order scenarios run in (serial, parallel chunks, or resumed after an interrupt),
        so equal seeds give byte-identical tables."""
        basis = getattr(self, "_base_basis", None)
        if basis is not None:
            self.backend.h.setBasis(basis)

    # ------------------------------------------------------------------ solving
    def solve(self) -> QuickSolve:
        """Warm re-solve; objective parts only (fast path for sweeps and simulations)."""
        out = self.backend.solve()
        self.last = out
        if getattr(self, "_base_basis", None) is None and out.status.value == "optimal":
            self.remember_base_basis()
        lp = self.model.lp
        slack = None
        if len(self.slack_rows) and out.x is not None:
            slack = out.x[lp.n:].copy()
            cd = out.col_dual[:lp.n] if out.col_dual is not None else None
            out = replace(out, x=out.x[:lp.n], col_dual=cd)
        self.last = out
        if out.x is None:
            return QuickSolve(out.status.value, None, None, None, None, out.solve_s, out.iterations)
        oi = float(lp.cost_in_horizon @ out.x + lp.constant_in_horizon)
        ot = float(lp.cost_terminal @ out.x + lp.constant_terminal)
        return QuickSolve(out.status.value, oi + ot, oi, ot, out.x, out.solve_s, out.iterations, slack)

    def result(self, explain: bool = True) -> Result:
        """Full :class:`Result` (tables, shadow prices) of the last solve."""
        if self.last is None:
            self.solve()
        return result_from(self.model, self.last, explain=explain)
