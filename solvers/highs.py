"""HiGHS through highspy: the default and fastest path.

The LP arrays from :class:`allocator.models.LinearProgram` are passed in one
``passModel`` call (no modelling-layer translation). The loaded model stays in the
back-end, so sweeps and re-plans change row/column bounds or costs and re-solve warm
from the previous basis instead of rebuilding.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import threading
import time

import highspy
import numpy as np

from .base import SolveOutput, SolverStatus

_STATUS = {
    "kOptimal": SolverStatus.OPTIMAL,
    "kInfeasible": SolverStatus.INFEASIBLE,
    "kUnbounded": SolverStatus.UNBOUNDED,
    "kUnboundedOrInfeasible": SolverStatus.INFEASIBLE,
    "kTimeLimit": SolverStatus.TIME_LIMIT,
    "kIterationLimit": SolverStatus.ITERATION_LIMIT,
    # HiGHS reports a reached MIP node limit (mip_max_nodes) as "solution limit": a
    # deterministic work limit, reported like the iteration limit.
    "kSolutionLimit": SolverStatus.ITERATION_LIMIT,
}


_STDOUT_LOCK = threading.Lock()
_LIBC = ctypes.CDLL(None)


def new_highs() -> highspy.Highs:
    """A ``Highs`` object with console output off, created without writing to stdout.

    HiGHS >= 1.16 prints a licence banner on the process's stdout (C ``printf``) when the
    first ``Highs`` object of a process is created, before any option can switch output
    off. That would corrupt ``--json`` output and break ``--quiet``. Every ``Highs`` the
    package creates comes from here: file descriptor 1 points at the null device while the
    object is built, C's stdio buffer is flushed before it is restored, and
    ``output_flag`` is off before the caller sees the object. The banner is informational
    (HiGHS's licence is MIT; its notices ship with highspy).
    """
    with _STDOUT_LOCK:
        try:
            sys.stdout.flush()
        except (AttributeError, ValueError, OSError):  # pragma: no cover - closed stdout
            pass
        try:
            saved = os.dup(1)
        except OSError:  # pragma: no cover - no fd 1 at all: nothing to protect
            saved = None
        if saved is None:
            h = highspy.Highs()
        else:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                try:
                    h = highspy.Highs()
                finally:
                    _LIBC.fflush(None)
                    os.dup2(saved, 1)
            finally:
                os.close(devnull)
                os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


@functools.lru_cache(maxsize=1)
def highs_version() -> str:
    h = new_highs()
    try:
        return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    except AttributeError:  # pragma: no cover
        return getattr(highspy, "__version__", "unknown")


def _clip_inf(a: np.ndarray) -> np.ndarray:
    inf = highspy.kHighsInf
    return np.clip(np.asarray(a, dtype=float), -inf, inf)


class HighsBackend:
    name = "highs"

    def __init__(self, time_limit_s: float | None = None, mip_gap: float | None = None,
                 threads: int | None = None, presolve: bool = True, verbose: bool = False,
                 node_limit: int | None = None):
        self.h = new_highs()
        self.h.setOptionValue("output_flag", bool(verbose))
        # HiGHS's time_limit counts its run clock, which runs on over every run() of one Highs
        # (1.16): each solve gets the limit afresh, set in :meth:`solve` against that clock
        self.time_limit_s = None if time_limit_s is None else float(time_limit_s)
        if mip_gap is not None:
            self.h.setOptionValue("mip_rel_gap", float(mip_gap))
        if threads is not None:
            self.h.setOptionValue("threads", int(threads))
        if not presolve:
            self.h.setOptionValue("presolve", "off")
        if node_limit is not None:  # branch-and-bound nodes: a limit that does not depend on load
            self.h.setOptionValue("mip_max_nodes", int(node_limit))
        self.n = self.m = 0
        self.integrality: np.ndarray | None = None
        self.cost_scale = 1.0
        self.offset = 0.0
        self.matrix_version = 0  # bumped whenever the loaded matrix changes (see program())
        self._program_matrix = None  # (matrix_version, A) read back from HiGHS
        self.exact_copy = False  # load: HiGHS kept every entry of the LP's matrix as given

    # ------------------------------------------------------------------ model
    def load(self, lp, integrality: np.ndarray | None = None) -> None:
        """Pass the whole LP to HiGHS (maximisation of c·x).

        The CSC arrays go to ``Highs.passModel`` as numpy buffers (HiGHS copies them once
        into its own model): no staging ``HighsLp`` and no converted copies when the arrays
        already have HiGHS's types (int32 indices, float64 values)."""
        A = lp.A
        if A.format != "csc":
            A = A.tocsc()
        # Objective normalisation: HiGHS judges optimality with absolute tolerances on reduced
        # costs (1e-7), so costs of order 1e-3 (money in £ rather than £m) could stop it at a
        # vertex that is optimal only to within tolerance. Solve max (s·c)·x with max|s·c| = 1
        # and divide the objective and duals by s afterwards.
        cost = np.asarray(lp.cost, dtype=float)
        cmax = float(np.max(np.abs(cost))) if cost.size else 0.0
        self.cost_scale = 1.0 / cmax if cmax > 0 else 1.0
        # The model constant goes to HiGHS as the objective offset, so its relative MIP gap
        # |primal − dual| / |primal| is judged on the objective in reported units (without it
        # a large constant makes HiGHS stop at a gap far wider than ``mip_rel_gap``). The
        # objective and bound returned by :meth:`solve` are c·x without it, as before.
        self.offset = float(getattr(lp, "constant", 0.0) or 0.0)
        ints = np.zeros(lp.n, dtype=np.int32)  # HighsVarType: 0 continuous, 1 integer
        if integrality is not None and np.any(integrality):
            ints[np.asarray(integrality, dtype=bool)] = int(highspy.HighsVarType.kInteger)
            self.integrality = integrality
        st = self.h.passModel(int(lp.n), int(lp.m), int(A.nnz), int(highspy.MatrixFormat.kColwise),
                         int(highspy.ObjSense.kMaximize), self.offset * self.cost_scale,
                         cost * self.cost_scale,
                         _clip_inf(lp.col_lower), _clip_inf(lp.col_upper),
                         _clip_inf(lp.row_lower), _clip_inf(lp.row_upper),
                         np.ascontiguousarray(A.indptr, dtype=np.int32),
                         np.ascontiguousarray(A.indices, dtype=np.int32),
                         np.ascontiguousarray(A.data, dtype=float), ints)
        if st == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS rejected the model passed to it (passModel)")
        self.matrix_version += 1
        self.n, self.m = lp.n, lp.m
        # HiGHS copies the values as given and only drops entries (|a| <= small_matrix_value):
        # with every entry kept, the matrix it holds is the LP's, entry for entry
        self.exact_copy = int(self.h.getNumNz()) == int(A.nnz)
        del ints

    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.int32)
        self.h.changeRowsBounds(len(rows), rows, _clip_inf(lower), _clip_inf(upper))

    def set_col_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        self.h.changeColsBounds(len(cols), cols, _clip_inf(lower), _clip_inf(upper))

    def set_costs(self, cols: np.ndarray, cost: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        self.h.changeColsCost(len(cols), cols, np.asarray(cost, dtype=float) * self.cost_scale)

    def change_coefficients(self, rows, cols, values) -> None:
        """Set matrix entries A[rows[k], cols[k]] = values[k] of the loaded model."""
        for r, c, v in zip(np.asarray(rows), np.asarray(cols), np.asarray(values, dtype=float)):
            self.h.changeCoeff(int(r), int(c), float(v))
        self.matrix_version += 1

    def add_columns(self, cost, lower, upper, rows, values) -> None:
        """Append one column per entry: column k has cost[k] (objective units), bounds
        [lower[k], upper[k]] and the single matrix entry values[k] in row rows[k]."""
        k = len(cost)
        self.h.addCols(k, np.asarray(cost, dtype=float) * self.cost_scale, _clip_inf(lower),
                       _clip_inf(upper), k, np.arange(k, dtype=np.int32),
                       np.asarray(rows, dtype=np.int32), np.asarray(values, dtype=float))
        self.n += k
        self.matrix_version += 1

    def matrix(self):
        """The loaded matrix (CSC), as HiGHS stores it now: read back once per change of the
        matrix (:attr:`matrix_version`) and the same object returned until the next change
        (kept after :meth:`release_solver`). Callers must not modify it."""
        h = self.h
        if h is None:  # released: the last read-back
            return self._program_matrix[1]
        n, m = h.getNumCol(), h.getNumRow()
        cached, key = self._program_matrix, (self.matrix_version, m, n, h.getNumNz())
        if cached is None or cached[0] != key:
            cached = self._program_matrix = (key, self._read_matrix(m, n, key[3]))
        return cached[1]

    def release_solver(self) -> None:
        """Free HiGHS (its model and all of its solver memory: about 1.4 GiB at 20,000
        programmes) once nothing more will be solved or read from it. :meth:`matrix` stays
        available (read back first); every other method fails afterwards."""
        if self.h is not None:
            self.matrix()
            self.h = None

    def program(self):
        """(A, row_lower, row_upper, col_lower, col_upper, cost) of the program HiGHS holds
        now, as HiGHS stores it (bounds and costs after every change; costs in the normalised
        units s·c; breach slack columns included). A is read back once per change of the
        matrix (:attr:`matrix_version`) and the same object returned until the next change,
        so a caller may cache what it derives from it by identity; the bounds and costs are
        read on every call."""
        h = self.h
        A = self.matrix()
        n, m = h.getNumCol(), h.getNumRow()
        _, _, cost, clo, chi, _ = h.getCols(n, np.arange(n, dtype=np.int32))
        _, _, rlo, rhi, _ = h.getRows(m, np.arange(m, dtype=np.int32))
        return (A, np.asarray(rlo, float), np.asarray(rhi, float),
                np.asarray(clo, float), np.asarray(chi, float), np.asarray(cost, float))

    READ_CHUNK_NNZ = 1 << 19  # matrix entries read back from HiGHS per call (see _read_matrix)

    def _read_matrix(self, m: int, n: int, nnz: int):
        """The loaded m × n matrix (CSC, int32 indices), exactly as HiGHS stores it.

        Read by ``getColsEntries`` over ranges of columns of about :attr:`READ_CHUNK_NNZ`
        entries into preallocated arrays: highspy builds each answer through Python objects
        (about 100 bytes an entry while the call runs), so one call over every column would
        need about 8× the matrix for a moment (+0.7 GiB at 20,000 programmes, the engine's
        peak); by ranges that transient is bounded (about 50 MiB) and the result is the same."""
        import scipy.sparse as sp

        indptr = np.empty(n + 1, dtype=np.int32)
        index = np.empty(nnz, dtype=np.int32)
        value = np.empty(nnz, dtype=float)
        step = max(1, int(n * self.READ_CHUNK_NNZ // max(nnz, 1)))
        pos = 0
        for c0 in range(0, n, step):
            c1 = min(n, c0 + step)
            cols = np.arange(c0, c1, dtype=np.int32)
            _, start, idx, val = self.h.getColsEntries(c1 - c0, cols)
            k = len(idx)
            if k == 1 and self.h.getCols(c1 - c0, cols)[5] == 0:
                k = 0  # highspy answers a range without entries with one stray entry
            indptr[c0:c1] = np.asarray(start[:c1 - c0]) + pos
            index[pos:pos + k], value[pos:pos + k] = idx, val
            pos += k
        indptr[n] = pos
        return sp.csc_matrix((value[:pos], index[:pos], indptr), shape=(m, n))

    def add_rows(self, A, lower, upper) -> None:
        """Append rows lower <= A·x <= upper (A sparse, one row per bound, over the loaded
        columns)."""
        import scipy.sparse as sp

        A = sp.csr_matrix(A)
        self.h.addRows(A.shape[0], _clip_inf(lower), _clip_inf(upper), A.nnz,
                       A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32),
                       A.data.astype(float))
        self.m += A.shape[0]
        self.matrix_version += 1

    def get_basis(self):
        return self.h.getBasis()

    def set_basis(self, basis) -> None:
        self.h.setBasis(basis)

    def clear_solution(self) -> None:
        """Forget the solution and basis: the next solve starts cold."""
        self.h.clearSolver()

    def set_option(self, name: str, value) -> None:
        self.h.setOptionValue(name, value)

    def ranging(self) -> dict:
        """Row-bound ranging of the last optimal solve (objective units; ±inf where unbounded):
        ``status``, ``row_dual``, ``row_value`` and for each row the bound interval
        ``bound_low``/``bound_high`` over which the basis stays optimal and the objective
        (without the model constant) ``objective_at_low``/``objective_at_high`` there."""
        status, rng = self.h.getRanging()
        sol = self.h.getSolution()
        inf = 1e29
        up_v, dn_v = np.array(rng.row_bound_up.value_), np.array(rng.row_bound_dn.value_)
        up_o, dn_o = np.array(rng.row_bound_up.objective_), np.array(rng.row_bound_dn.objective_)
        return {"status": str(status),
                "row_dual": np.array(sol.row_dual) / self.cost_scale,
                "row_value": np.array(sol.row_value),
                "bound_low": np.where(np.abs(dn_v) < inf, dn_v, -np.inf),
                "bound_high": np.where(np.abs(up_v) < inf, up_v, np.inf),
                "objective_at_low": np.where(np.abs(dn_o) < inf, dn_o / self.cost_scale - self.offset,
                                             np.nan),
                "objective_at_high": np.where(np.abs(up_o) < inf, up_o / self.cost_scale - self.offset,
                                              np.nan)}

    def write(self, path: str) -> None:
        """Write the loaded model (.lp or .mps, by extension)."""
        if self.integrality is None:
            # an LP is passed with an all-continuous integrality vector (load), which the LP
            # writer would print as empty bin/gen/semi sections (read by GLPK as a MIP and by
            # CBC as variables): write the LP without it
            lp = self.h.getLp()
            if len(lp.integrality_):
                lp.integrality_ = []
                self.h.passModel(lp)
        self.h.writeModel(str(path))

    # ------------------------------------------------------------------ solve
    def solve(self) -> SolveOutput:
        """Run HiGHS; a time limit applies to this run alone (``time_limit_s`` seconds from now)."""
        if self.time_limit_s is not None:
            self.h.setOptionValue("time_limit", self.h.getRunTime() + self.time_limit_s)
        t0 = time.perf_counter()
        self.h.run()
        elapsed = time.perf_counter() - t0
        ms = self.h.getModelStatus()
        raw = self.h.modelStatusToString(ms)
        key = str(ms).split(".")[-1]
        status = _STATUS.get(key, SolverStatus.ERROR)
        info = self.h.getInfo()
        iters = int(getattr(info, "simplex_iteration_count", 0) or 0)
        sol = self.h.getSolution()
        has_primal = bool(getattr(sol, "value_valid", False)) and status in (
            SolverStatus.OPTIMAL, SolverStatus.TIME_LIMIT, SolverStatus.ITERATION_LIMIT)
        x = np.array(sol.col_value) if has_primal else None
        act = np.array(sol.row_value) if has_primal else None
        duals_ok = bool(getattr(sol, "dual_valid", False)) and status == SolverStatus.OPTIMAL
        # HiGHS reports duals of the maximisation as d(obj)/d(bound): keep as is
        rdual = np.array(sol.row_dual) / self.cost_scale if duals_ok else None
        cdual = np.array(sol.col_dual) / self.cost_scale if duals_ok else None
        obj = (float(info.objective_function_value) / self.cost_scale - self.offset
               if has_primal else None)
        bound = gap = None
        if self.integrality is not None:
            bound = float(getattr(info, "mip_dual_bound", np.nan)) / self.cost_scale - self.offset
            gap = float(getattr(info, "mip_gap", np.nan))
        return SolveOutput(status, raw, obj, x, act, rdual, cdual, elapsed, iters, "highs",
                           highs_version(), bound, gap)
