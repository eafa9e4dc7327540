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

A session is built through :func:`allocator.build` (pass an instance, or a
:class:`allocator.modelling.Model` carrying user constraints), talks to the solver only
through the :class:`solvers.base.Solver` interface, and uses the instance's money unit at
its edges like ``solve()``: fiscal columns, headroom and monetised weights given to the
setters, objectives in :class:`QuickSolve` and every :meth:`result` are in that unit (the
LP works in £m).

**Independent check on re-solves.** Every plan a session reports as a :class:`Result`
(:meth:`result`) is checked against the instance as changed by the session's parameters,
like ``solve()``: a failing "optimal" plan becomes ``check_failed``. The fast path
:meth:`solve`, used by sweeps, cycles and re-plans hundreds of times, checks a seeded
sample: each re-solve is checked with probability ``check_sample`` (default 0.02,
drawn from ``numpy.random.default_rng(check_seed)``, so the same run checks the same
re-solves), and always the first one. A failed sampled check sets the QuickSolve's status
to ``check_failed`` and is listed in ``check_failures``. Rows made elastic by
:meth:`add_breach_slacks` may be broken by design: their violations are not failures.
Why a sample: on uk_missions one check (result tables, then the pure-Python checker) takes
about 0.15 s against about 0.01 s for a warm re-solve (benchmarks/session_check_results.md),
so checking every re-solve would make sweeps and cycle simulations ~18× slower; a 2% sample
adds about a third, and every plan reported as a Result is checked in full.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from allocator.api import check_solution, result_from
from allocator.models.allocation import decision_years
from allocator.models.constraints import with_bounds
from allocator.models.data import discount_factors
from allocator.models.objective import piece_lagged_discount, set_objective
from allocator.results import Result
from allocator.schema import Instance
from allocator.solvers.base import SolveOutput, SolverStatus
from allocator.solvers.highs import HighsBackend

CHECK_SAMPLE = 0.02

_BLAS = None  # one threadpoolctl controller per process (finding the BLAS libraries is slow)


def one_blas_thread():
    """A context in which BLAS (OpenBLAS, MKL, ...) runs on one thread.

    A warm re-solve is short, and the few dense products around it (objective parts, costs)
    would otherwise wake every BLAS worker thread, which then spin against HiGHS for the
    cores: at 1,000 programmes that tripled the CPU of a re-solve. threadpoolctl sets the
    limit through each library's own API and restores it on exit, so code outside a
    session keeps the process's settings."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")





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
    """One allocation LP built once and kept loaded in HiGHS for warm re-solves.

    Setters push parameter changes as bounds or costs (:meth:`set_fiscal`,
    :meth:`set_weights`, :meth:`scale_gains`, :meth:`set_discount_rate`,
    :meth:`set_headroom`, :meth:`fix_years`); :meth:`solve` re-solves warm and returns a
    :class:`QuickSolve` (independently checked on a seeded sample of re-solves), :meth:`result` a full
    (always checked) :class:`allocator.Result`; :meth:`reset`
    restores the instance as loaded. The LP solved is always the one a rebuild of the
    changed instance would give.

    >>> from allocator import load_instance, tiny_instance_path
    >>> session = ModelSession(load_instance(tiny_instance_path()))
    >>> session.solve().objective
    184.5
    >>> session.scale_gains(2.0)       # every effect twice as large: the value doubles
    >>> session.solve().objective
    369.0
    >>> session.reset()
    >>> session.solve().objective
    184.5
    """

    def __init__(self, instance, *, time_limit_s: float | None = None, presolve: bool = True,
                 check_sample: float = CHECK_SAMPLE, check_seed: int = 0,
                 unique_plan: bool | None = None):
        t0 = time.perf_counter()
        from allocator.modelling import Model, build
        from allocator.numerics import objective_factor

        built = instance if isinstance(instance, Model) else build(instance)
        self.built = built
        self.instance = built.user_instance
        # the engine works in £m whatever the instance's money_unit (tables come back in £m)
        self.model = built.allocation
        self.unit, self._f = built.unit, built.factor
        s = self.instance.settings
        self.money_unit = self.unit
        self._k = objective_factor(self.unit, s.weights.kind, s.objective.kind)
        self._wf = self._f if self.instance.settings.weights.kind == "monetised" else 1.0
        self.build_s = time.perf_counter() - t0
        self.backend = HighsBackend(time_limit_s=time_limit_s, presolve=presolve)
        ints = built.integrality()  # all-or-nothing business cases stay integer on re-solves
        self.backend.load(self.model.lp, integrality=ints)
        self._ints = ints
        # the second stage (docs/formulation.md §4b) after every optimal re-solve
        self.unique_plan = (self.instance.settings.unique_plan.enabled if unique_plan is None
                            else bool(unique_plan))
        self._second_stage_cache: dict = {}  # fixed parts of the second stage (unique_plan.polish)
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
        self.check_sample = float(check_sample)
        self._rng = np.random.default_rng(check_seed)
        self._rates: dict[str, float] = {}  # mission -> flat discount rate set by the session
        self.checks = 0
        self.check_failures: list = []

    # ------------------------------------------------------------------ edges and checks
    @property
    def base_fiscal(self) -> dict:
        """The instance's fiscal columns (cash £m) as built."""
        return {k: v.copy() for k, v in self._fiscal0.items()}

    @property
    def base_weights(self) -> np.ndarray:
        """The instance's mission weights as built (model units)."""
        return self._weight0.copy()

    def col_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Current column bounds (after :meth:`fix_years`)."""
        return self._lb.copy(), self._ub.copy()

    def current_instance(self) -> Instance:
        """The instance (in £m) as the session's parameter changes have made it: fiscal
        columns, mission weights, flat discount rates, effect sizes and headroom. The
        independent check of a re-solve runs against it."""
        md = self.model.data
        inst = self.model.instance.model_copy(deep=True)  # attributes set, not re-validated:
        pos = {y: t for t, y in enumerate(md.years)}       # a session may lift an envelope to ∞
        for f in inst.fiscal:
            t = pos.get(f.year)
            if t is None:
                continue
            for k, v in md.fiscal.items():
                if hasattr(f, k) and not (getattr(f, k) is None and np.isnan(v[t])):
                    # a lifted envelope stays a (slack) figure: an empty one would mean "no
                    # envelope this year", whose settlement rows are equalities
                    lifted = np.isposinf(v[t]) and k.endswith("_envelope_gbp_m") and getattr(f, k) is not None
                    setattr(f, k, float(v[t]) if (np.isfinite(v[t]) or lifted) else None)
        for m, mission in enumerate(inst.settings.missions):
            mission.weight = float(md.weight[m])
            if mission.id in self._rates:
                mission.discount_rate = self._rates[mission.id]
        piece = {(int(md.piece_prog[i]), int(md.piece_seg[i])): i for i in range(len(md.piece_prog))}
        ppos = {p: k for k, p in enumerate(md.programmes)}
        mpos = {m: k for k, m in enumerate(md.missions)}
        for sg in inst.segments:
            sg.gain_per_gbp_m = float(md.piece_gain[piece[(ppos[sg.programme], sg.segment)],
                                                    mpos[sg.mission]])
        return inst

    def _check(self, out: SolveOutput, oi: float, ot: float) -> bool:
        """Independent check of a re-solved plan (see the module docstring); True if it holds."""
        from allocator import tables
        from allocator.checker import check_plan

        x = out.x
        t = {"allocations": tables.allocations(self.model, x),
             "departments": tables.departments(self.model, x),
             "fiscal": tables.fiscal(self.model, x)}
        rep = check_plan(self.current_instance(), t, objective=oi + ot, objective_in_horizon=oi,
                         objective_terminal=ot, extra_families=self.built.user_families)
        self.checks += 1
        elastic = set(self.slack_family)
        bad = [v for v in rep.violations if v.family not in elastic]
        if bad:
            self.check_failures.append(bad)
        return not bad

    def _to_model_money(self, v):
        return np.asarray(v, dtype=float) * self._f

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
        with one_blas_thread():  # dense products: see one_blas_thread
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
        diff = (A_new.tocsr() - lp.rows_of("mission_target")).tocoo()
        new = A_new.tocsr()
        self.backend.change_coefficients(block.start + diff.row, diff.col,
                                         [new[r, c] for r, c in zip(diff.row, diff.col)])
        lp.replace_rows("mission_target", new, lo=lo)
        rows = np.arange(block.start, block.start + block.size)
        self.backend.set_row_bounds(rows, lo, np.full(len(rows), np.inf))
        self._target_gain = md.piece_gain.copy()

    # ------------------------------------------------------------------ parameter changes
    def set_fiscal(self, **columns) -> None:
        """Replace fiscal-table columns (arrays of length T, cash, in the instance's money
        unit), e.g.
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
            # money columns (…_gbp_m) are in the instance's unit; ratios and deflators are not
            md.fiscal[name] = arr * (self._f if name.endswith("_gbp_m") else 1.0)
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
        for r, year in enumerate(block.labels["year"]):
            t = md.years.index(year)
            if t == 0:
                continue  # Y_0/Y_{-1} sits in the row bound
            row, col, val = block.start + r, nb.start + t - 1, -Y[t] / Y[t - 1]
            self.backend.change_coefficients([row], [col], [val])
            lp.set_coefficient(row, col, val)

    def set_weights(self, weights) -> None:
        """Mission weights: an array (M,) or a mapping mission id -> weight, in the instance's
        units (monetised weights in its money unit per metric unit)."""
        md = self.model.data
        if isinstance(weights, dict):
            w = md.weight.copy()
            for k, v in weights.items():
                w[md.missions.index(k)] = v * self._wf
        else:
            w = np.asarray(weights, dtype=float) * self._wf
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
                d[m] = discount_factors(rate, rate, rate, d.shape[1], flat=True) * md.persistence
                self._rates[mid] = float(rate)
        md.delta = d
        self._push_costs()

    def set_headroom(self, gbp_m: float) -> None:
        """Fiscal-rule headroom H (cash, instance money unit) → ``stability_rule``/
        ``investment_rule`` row bounds.
        Works on a private copy of the settings, so the caller's instance is not changed."""
        if not getattr(self, "_own_settings", False):
            self._instance_built = self.model.instance
            self.model.instance = self.model.instance.model_copy(deep=True)
            self._own_settings = True
        self.model.instance.settings.fiscal_rules.headroom_gbp_m = float(self._to_model_money(gbp_m))
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
        # the penalty is in objective units per instance money unit: objective_£m per £m
        pen = float(penalty_per_gbp_m) * self._k / self._f
        self.backend.add_columns(np.full(k, -pen), np.zeros(k),
                                 np.full(k, np.inf), r, sg)
        self.slack_rows, self.slack_family = r, fams

    def add_rows(self, A, lower, upper) -> np.ndarray:
        """Append rows lower <= A·x <= upper over the model's n columns (e.g. a simulation's
        own limits, such as a Budget's band on DEL totals); they live only in the solver, like
        breach slacks. Returns their row numbers, for :meth:`set_row_bounds`."""
        import scipy.sparse as sp

        A = sp.csr_matrix(A)
        n_all = self.backend.n
        if A.shape[1] < n_all:  # no entries on the breach-slack columns
            A = sp.hstack([A, sp.csr_matrix((A.shape[0], n_all - A.shape[1]))], format="csr")
        start = self.backend.m
        self.backend.add_rows(A, lower, upper)
        return np.arange(start, start + A.shape[0])

    def set_row_bounds(self, rows, lower, upper) -> None:
        """Bounds of rows added by :meth:`add_rows`."""
        self.backend.set_row_bounds(np.asarray(rows), lower, upper)

    def bound_columns(self, cols, lower, upper) -> None:
        """Tighten the bounds of decision columns ``cols`` until the next :meth:`fix_years`,
        :meth:`release` or :meth:`reset` (e.g. a Budget's band on settled limits)."""
        cols = np.asarray(cols, dtype=int)
        self._lb[cols] = lower
        self._ub[cols] = upper
        self.backend.set_col_bounds(cols, self._lb[cols], self._ub[cols])

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
        if getattr(self, "_own_settings", False):  # undo set_headroom
            self.model.instance = self._instance_built
            self._own_settings = False
        self._rates = {}
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
        self._base_basis = self.backend.get_basis()

    def restore_base_basis(self) -> None:
        """Warm-start the next solve from the base basis instead of the last one.

        The LP often has alternative optima; the vertex HiGHS ends at depends on where it
        starts. Starting every scenario from the same basis makes each result independent of
        the order scenarios run in (serial, parallel chunks, or resumed after an interrupt),
        so equal seeds give byte-identical tables."""
        basis = getattr(self, "_base_basis", None)
        if basis is not None:
            self.backend.set_basis(basis)

    # ------------------------------------------------------------------ solving
    def solve(self) -> QuickSolve:
        """Warm re-solve; objective parts only (fast path for sweeps and simulations), with
        BLAS on one thread (:func:`one_blas_thread`)."""
        with one_blas_thread():
            return self._solve()

    def _solve(self) -> QuickSolve:
        out = self.backend.solve()
        if out.status == SolverStatus.ERROR:
            # a warm re-solve that ends without a verdict (HiGHS "Unknown": numerical trouble
            # on the way from the warm basis, e.g. an infeasible scenario whose dual ray it
            # cannot certify): solve again cold, which gives the verdict
            self.backend.clear_solution()
            out = self.backend.solve()
        self.last = out
        if getattr(self, "_base_basis", None) is None and out.status.value == "optimal":
            self.remember_base_basis()
        if self.unique_plan:
            from allocator.api import unique

            out = unique(self.model, self.backend, out, self._ints, True,
                         cache=self._second_stage_cache)
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
        status = out.status.value
        if status == "optimal" and (self.checks == 0 or self._rng.random() < self.check_sample):
            if not self._check(out, oi, ot):
                status = "check_failed"
        k = self._k
        return QuickSolve(status, (oi + ot) / k, oi / k, ot / k, out.x, out.solve_s,
                          out.iterations, slack)

    def result(self, explain: bool = True) -> Result:
        """Full :class:`Result` (tables, shadow prices) of the last solve, independently checked
        against the instance as the session's parameters have changed it, in the instance's
        money unit."""
        from allocator.numerics import result_to_unit

        if self.last is None:
            self.solve()
        res = result_from(self.model, self.last, explain=explain,
                          instance_hash=self.built.instance_hash)
        if self.built.user_specs:
            res.provenance["user_constraints"] = self.built.user_specs
        elastic = set(self.slack_family)
        check_solution(self.model, res, instance=self.current_instance(),
                       extra_families=self.built.user_families, accept=elastic)
        result_to_unit(res, self.unit)
        return res
