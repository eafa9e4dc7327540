"""Scenario sweeps on the persistent path: build once per worker, re-solve warm.

A scenario is a mapping with optional keys ``fiscal`` ({fiscal column: (T,) array, cash £m})
and ``weights`` ((M,) array or {mission id: weight}); anything it leaves out is the
instance's own value, so scenarios are independent of the order they run in.

Every worker receives the instance data (a picklable :class:`Instance`), never a model:
it builds one :class:`~allocator.session.ModelSession` and re-solves through its chunk of
consecutive scenarios, each re-solve starting from the previous optimal basis. With
``n_jobs > 1`` the scenarios are cut into ``n_jobs`` contiguous chunks (joblib, loky).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from allocator.schema import Instance
from allocator.session import ModelSession, one_blas_thread


@dataclass
class SweepPoint:
    """One scenario's outcome (plan ``x`` only when asked for)."""

    index: int
    status: str
    objective: float | None
    objective_in_horizon: float | None
    objective_terminal: float | None
    iterations: int
    solve_s: float
    x: np.ndarray | None = None


class ScenarioRunner:
    """Applies scenarios to one :class:`ModelSession` and re-solves it."""

    def __init__(self, instance: Instance, **session_kw):
        from allocator.numerics import to_gbp_m

        # scenarios (and the objectives returned) are in £m whatever the instance's money_unit
        self.session = ModelSession(to_gbp_m(instance), **session_kw)
        md = self.session.model.data
        self._fiscal0 = {k: v.copy() for k, v in md.fiscal.items()}
        self._weight0 = md.weight.copy()
        self._changed: set[str] = set()
        self._weights_changed = False

    def run(self, index: int, scenario: dict, keep_x: bool = False) -> SweepPoint:
        with one_blas_thread():  # BLAS threads would fight HiGHS for the cores
            return self._run(index, scenario, keep_x)

    def _run(self, index: int, scenario: dict, keep_x: bool) -> SweepPoint:
        s = self.session
        fiscal = dict(scenario.get("fiscal") or {})
        # columns a previous scenario changed but this one does not: back to the instance
        for col in self._changed - set(fiscal):
            fiscal[col] = self._fiscal0[col]
        if fiscal:
            s.set_fiscal(**fiscal)
        self._changed = {c for c, v in fiscal.items()
                         if not np.array_equal(np.asarray(v, dtype=float), self._fiscal0[c])}
        w = scenario.get("weights")
        if isinstance(w, dict):  # a partial mapping changes only those missions' weights
            md = s.model.data
            full = self._weight0.copy()
            for mission, value in w.items():
                if mission not in md.missions:
                    raise KeyError(f"unknown mission {mission!r} in scenario {index}; "
                                   f"known: {md.missions}")
                full[md.missions.index(mission)] = value
            w = full
        if w is not None:
            s.set_weights(w)
            self._weights_changed = True
        elif self._weights_changed:
            s.set_weights(self._weight0)
            self._weights_changed = False
        q = s.solve()
        return SweepPoint(index, q.status, q.objective, q.objective_in_horizon, q.objective_terminal,
                          q.iterations, q.solve_s, q.x if keep_x else None)


def _run_chunk(instance: Instance, chunk: list[tuple[int, dict]], keep_x: bool,
               session_kw: dict) -> tuple[list[SweepPoint], float]:
    t0 = time.perf_counter()
    runner = ScenarioRunner(instance, **session_kw)
    build_s = time.perf_counter() - t0
    return [runner.run(i, sc, keep_x) for i, sc in chunk], build_s


def run_sweep(instance: Instance, scenarios: list[dict], *, n_jobs: int = 1, keep_x: bool = False,
              **session_kw) -> list[SweepPoint]:
    """Solve every scenario; results in scenario order. ``n_jobs`` worker processes each
    build the model once and warm-start through a contiguous share of the scenarios."""
    items = list(enumerate(scenarios))
    if n_jobs <= 1 or len(items) < 2:
        return _run_chunk(instance, items, keep_x, session_kw)[0]
    from joblib import Parallel, delayed

    k = min(n_jobs, len(items))
    bounds = np.linspace(0, len(items), k + 1).astype(int)
    chunks = [items[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    parts = Parallel(n_jobs=k, backend="loky")(
        delayed(_run_chunk)(instance, c, keep_x, session_kw) for c in chunks)
    return [p for part, _ in parts for p in part]
