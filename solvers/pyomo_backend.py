"""Any solver Pyomo can find (GLPK, CBC, Gurobi, ...), from the same LP arrays.

The sparse LP is turned into a Pyomo model row by row (one indexed variable, one
constraint per row); duals are imported through a Suffix when the solver supplies them.
This path exists for solver choice, not speed: HiGHS through highspy is the default.
"""

from __future__ import annotations

import time

import numpy as np

from allocator.errors import SolverUnavailable

from .base import SolveOutput, SolverStatus


def available_pyomo_solvers(candidates=("glpk", "cbc", "gurobi", "cplex", "scip", "appsi_highs")) -> list[str]:
    import pyomo.environ as pyo

    found = []
    for name in candidates:
        try:
            if pyo.SolverFactory(name).available(exception_flag=False):
                found.append(name)
        except Exception:  # noqa: BLE001 - a broken plugin means "not available"
            pass
    return found


class PyomoBackend:
    def __init__(self, solver: str, time_limit_s: float | None = None, mip_gap: float | None = None,
                 threads: int | None = None, verbose: bool = False):
        import pyomo.environ as pyo

        if "highs" in solver.lower():
            # Pyomo's HiGHS interfaces create ``highspy.Highs`` objects themselves; creating
            # the process's first one here keeps HiGHS's banner off stdout (see new_highs).
            from .highs import new_highs
            new_highs()
        self.pyo = pyo
        self.name = solver
        import logging

        log = logging.getLogger("pyomo")
        level, log.level = log.level, logging.CRITICAL + 1  # an unknown name logs a traceback
        try:
            self.opt = pyo.SolverFactory(solver)
        finally:
            log.setLevel(level)
        try:
            ok = self.opt is not None and self.opt.available(exception_flag=False)
        except Exception:  # noqa: BLE001
            ok = False
        if not ok:
            found = available_pyomo_solvers()
            raise SolverUnavailable(
                f"solver '{solver}' is not installed; available: highs"
                + (", " + ", ".join(found) if found else ""))
        self.time_limit_s, self.mip_gap, self.verbose = time_limit_s, mip_gap, verbose
        self.model = None

    def load(self, lp, integrality: np.ndarray | None = None) -> None:
        pyo = self.pyo
        m = pyo.ConcreteModel()
        n = lp.n
        lo, up = lp.col_lower, lp.col_upper
        ints = integrality if integrality is not None else np.zeros(n, dtype=bool)
        m.x = pyo.Var(range(n), within=pyo.Reals)
        for j in range(n):
            m.x[j].setlb(None if not np.isfinite(lo[j]) else float(lo[j]))
            m.x[j].setub(None if not np.isfinite(up[j]) else float(up[j]))
            if ints[j]:
                m.x[j].domain = pyo.Integers
        A = lp.A.tocsr()
        rlo, rhi = lp.row_lower, lp.row_upper
        m.c = pyo.ConstraintList()
        for i in range(lp.m):
            s, e = A.indptr[i], A.indptr[i + 1]
            expr = sum(float(v) * m.x[int(j)] for j, v in zip(A.indices[s:e], A.data[s:e]))
            if s == e:
                expr = 0.0 * m.x[0]
            lo_i = float(rlo[i]) if np.isfinite(rlo[i]) else None
            hi_i = float(rhi[i]) if np.isfinite(rhi[i]) else None
            m.c.add((lo_i, expr, hi_i))
        cost = lp.cost
        nz = np.flatnonzero(cost)
        m.obj = pyo.Objective(expr=sum(float(cost[j]) * m.x[int(j)] for j in nz), sense=pyo.maximize)
        m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
        self.model, self.n, self.m = m, n, lp.m

    def solve(self) -> SolveOutput:
        pyo = self.pyo
        from pyomo.opt import TerminationCondition as TC

        opts = {}
        if self.time_limit_s and self.name in ("glpk",):
            opts["tmlim"] = int(self.time_limit_s)
        elif self.time_limit_s and self.name in ("cbc",):
            opts["sec"] = self.time_limit_s
        t0 = time.perf_counter()
        res = self.opt.solve(self.model, tee=self.verbose, load_solutions=False, options=opts)
        elapsed = time.perf_counter() - t0
        tc = res.solver.termination_condition
        status = {TC.optimal: SolverStatus.OPTIMAL, TC.infeasible: SolverStatus.INFEASIBLE,
                  TC.unbounded: SolverStatus.UNBOUNDED,
                  TC.infeasibleOrUnbounded: SolverStatus.INFEASIBLE,
                  TC.maxTimeLimit: SolverStatus.TIME_LIMIT}.get(tc, SolverStatus.ERROR)
        x = act = rdual = None
        obj = None
        if status == SolverStatus.OPTIMAL:
            self.model.solutions.load_from(res)
            x = np.array([pyo.value(self.model.x[j]) if self.model.x[j].value is not None else 0.0
                          for j in range(self.n)])
            obj = float(pyo.value(self.model.obj))
            cons = list(self.model.c.values())
            try:
                rdual = np.array([self.model.dual.get(c, np.nan) for c in cons], dtype=float)
                if np.isnan(rdual).all():
                    rdual = None
            except Exception:  # noqa: BLE001
                rdual = None
        version = ".".join(str(v) for v in (self.opt.version() or ())) if hasattr(self.opt, "version") else ""
        return SolveOutput(status, str(tc), obj, x, act, rdual, None, elapsed, 0, self.name, version)
