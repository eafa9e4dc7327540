"""One-at-a-time parameter sweeps, tornado tables and LP ranging (docs/sensitivity.md §4).

Each sweep unit changes ONE parameter of the instance from its base value and re-solves:

| parameter            | what changes                        | how (no rebuild unless noted)      |
|----------------------|-------------------------------------|------------------------------------|
| ``discount_rate``    | STPR of missions without own rate   | objective costs (session)          |
| ``weight:<mission>`` | w_m × value                         | objective costs (session)          |
| ``effect:<dept>``    | γ_im × value for the programmes the | objective costs (session)          |
|                      | department leads (evidence risk)    |                                    |
| ``headroom_gbp_m``   | H in the fiscal rules               | row bounds (session)               |
| ``envelope_multiplier`` | RDEL and CDEL envelopes × value  | row bounds (session)               |
| ``lag_shift_years``  | every effect arrives k years later  | REBUILD: the AME-saving rows of the |
|                      |                                     | matrix use the lag profile         |

Units are spread over joblib (loky) workers; each worker builds ONE :class:`ModelSession`
from the instance and re-solves its whole chunk warm (lag units rebuild a session for that
value only). Finished units can be recorded in a :class:`RunLog` so ``--resume`` skips them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from allocator.errors import AllocatorError
from allocator.models.data import CATEGORIES
from allocator.schema import Instance
from allocator.session import ModelSession

from .common import settlement_limits
from .settings import sensitivity_settings
from allocator.numerics import to_gbp_m

SESSION_PARAMS = ("discount_rate", "weight", "effect", "headroom_gbp_m", "envelope_multiplier")
REBUILD_PARAMS = ("lag_shift_years",)


def default_grid(instance: Instance) -> dict[str, list]:
    """The parameter grid from instance.yaml's ``sensitivity`` section (or its defaults)."""
    s = sensitivity_settings(instance)
    grid: dict[str, list] = {}
    if s.discount_rate:
        grid["discount_rate"] = list(s.discount_rate)
    for m in instance.settings.missions:
        if s.weight_multiplier:
            grid[f"weight:{m.id}"] = list(s.weight_multiplier)
    with_effect = {g.programme for g in instance.segments if g.gain_per_gbp_m != 0}
    for d in instance.departments:
        if s.effect_multiplier and _owned(instance, d.id) & with_effect:
            grid[f"effect:{d.id}"] = list(s.effect_multiplier)
    if s.lag_shift_years:
        grid["lag_shift_years"] = list(s.lag_shift_years)
    fr, on = instance.settings.fiscal_rules, instance.settings.constraints
    if s.headroom_gbp_m:
        grid["headroom_gbp_m"] = list(s.headroom_gbp_m)
    elif (on.stability_rule and fr.stability_rule.target_years) or \
            (on.investment_rule and fr.investment_rule.target_years):
        # default: the base headroom plus 0.5% and 1% of first-year GDP
        y1 = instance.fiscal[0].gdp_gbp_m
        grid["headroom_gbp_m"] = [round(fr.headroom_gbp_m + f * y1, -2) for f in (0.005, 0.01)]
    if s.envelope_multiplier:
        grid["envelope_multiplier"] = list(s.envelope_multiplier)
    return grid


def _check_grid(instance: Instance, grid: dict) -> list[tuple[str, float]]:
    missions = {m.id for m in instance.settings.missions}
    depts = {d.id for d in instance.departments}
    units = []
    for name, values in grid.items():
        kind, _, target = name.partition(":")
        if kind == "weight" and target not in missions:
            raise AllocatorError(f"parameter grid: {name!r}: unknown mission {target!r}; "
                                 f"known: {sorted(missions)}")
        if kind == "effect" and target not in depts:
            raise AllocatorError(f"parameter grid: {name!r}: unknown department {target!r}; "
                                 f"known: {sorted(depts)}")
        if kind in ("weight", "effect"):
            pass
        elif kind not in SESSION_PARAMS + REBUILD_PARAMS or target:
            raise AllocatorError(f"parameter grid: unknown parameter {name!r}; use one of "
                                 "discount_rate, weight:<mission>, effect:<department>, "
                                 "lag_shift_years, headroom_gbp_m, envelope_multiplier")
        if not isinstance(values, (list, tuple)) or not values:
            raise AllocatorError(f"parameter grid: {name!r} needs a non-empty list of values, "
                                 f"got {values!r}")
        for v in values:
            if not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise AllocatorError(f"parameter grid: {name!r}: value {v!r} must be a finite "
                                     "number >= 0")
            units.append((name, float(v)))
    return units


def unit_key(name: str, value: float) -> str:
    return f"{name}={value:g}"


def _owned(instance: Instance, department: str) -> set[str]:
    """Programmes whose lead (first) owner is ``department``."""
    return {p.id for p in instance.programmes if p.owners[0] == department}


def shifted_lags(instance: Instance, k: int) -> Instance:
    """The instance with every lag profile delayed by ``k`` years (weights unchanged)."""
    data = instance.model_dump()
    for row in data["lag_profiles"]:
        row["lag"] = int(row["lag"]) + int(k)
    return Instance.model_validate(data)


def changed_instance(instance: Instance, name: str, value: float) -> Instance:
    """The instance with one parameter changed: the cold-build reference for a sweep unit."""
    kind, _, target = name.partition(":")
    if kind == "lag_shift_years":
        return shifted_lags(instance, int(value))
    data = instance.model_dump()
    s = data["settings"]
    if kind == "discount_rate":
        s["discounting"].update(rate=value, rate_after_30=value, rate_after_75=value)
    elif kind == "weight":
        for m in s["missions"]:
            if m["id"] == target:
                m["weight"] = m["weight"] * value
    elif kind == "effect":
        progs = _owned(instance, target)
        for seg in data["segments"]:
            if seg["programme"] in progs:
                seg["gain_per_gbp_m"] = seg["gain_per_gbp_m"] * value
    elif kind == "headroom_gbp_m":
        s["fiscal_rules"]["headroom_gbp_m"] = value
    elif kind == "envelope_multiplier":
        for row in data["fiscal"]:
            for col in ("rdel_envelope_gbp_m", "cdel_envelope_gbp_m"):
                if row.get(col) is not None:
                    row[col] = row[col] * value
    return Instance.model_validate(data)


def _apply(session: ModelSession, name: str, value: float) -> None:
    kind, _, target = name.partition(":")
    md = session.model.data
    if kind == "discount_rate":
        own = {m.id for m in session.instance.settings.missions if m.discount_rate is not None}
        session.set_discount_rate(value, missions=[m for m in md.missions if m not in own])
    elif kind == "weight":
        session.set_weights({target: session.base_weights[md.missions.index(target)] * value})
    elif kind == "effect":
        session.scale_gains(value, programmes=sorted(_owned(session.instance, target)))
    elif kind == "headroom_gbp_m":
        session.set_headroom(value)
    elif kind == "envelope_multiplier":
        f0 = session.base_fiscal
        session.set_fiscal(rdel_envelope_gbp_m=f0["rdel_envelope_gbp_m"] * value,
                           cdel_envelope_gbp_m=f0["cdel_envelope_gbp_m"] * value)
    else:  # pragma: no cover
        raise KeyError(name)


def _record(session: ModelSession, name: str, value: float, q, rebuilt: bool) -> dict:
    md = session.model.data
    rec = dict(parameter=name, value=value, status=q.status, objective=q.objective,
               objective_in_horizon=q.objective_in_horizon, objective_terminal=q.objective_terminal,
               solve_s=q.solve_s, iterations=q.iterations, rebuilt=rebuilt, allocations={})
    if q.x is not None:
        L = settlement_limits(session.model, q.x).sum(axis=2)  # (D, 2) cash £m over the horizon
        rec["allocations"] = {f"{d}|{CATEGORIES[c]}": float(L[i, c])
                              for i, d in enumerate(md.departments) for c in range(2)}
    return rec


def run_chunk(instance: Instance, units: list[tuple[str, float]]) -> list[dict]:
    """Worker: one session for the chunk; parameters changed in place, warm re-solves."""
    return run_chunk_with({}, instance, units)


@dataclass
class SweepResult:
    instance_name: str
    base_objective: float
    results: pd.DataFrame  # one row per unit: parameter, value, status, objective, ...
    allocations: pd.DataFrame  # unit × department × category: total settlement £m (cash)
    tornado: pd.DataFrame  # per parameter: low/high objective and swing
    tornado_allocations: pd.DataFrame  # per parameter × key department
    ranging: pd.DataFrame | None = None
    timings_s: dict = field(default_factory=dict)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        t = {"sweep": self.results, "sweep_allocations": self.allocations, "tornado": self.tornado,
             "tornado_allocations": self.tornado_allocations}
        if self.ranging is not None:
            t["ranging"] = self.ranging
        return t


def _chunks(units, n_jobs: int) -> list[list]:
    n = max(1, min(n_jobs, len(units)))
    return [units[i::n] for i in range(n) if units[i::n]]


def sweep(instance: Instance, parameter_grid: dict | None = None, *, n_jobs: int = 1,
          runlog=None, ranging: bool = True, key_departments: list[str] | None = None,
          progress=None) -> SweepResult:
    """One-at-a-time sweep of ``parameter_grid`` (default: instance.yaml ``sensitivity``).

    ``parameter_grid`` maps names (``discount_rate``, ``weight:<mission>``,
    ``effect:<department>``, ``lag_shift_years``, ``headroom_gbp_m``, ``envelope_multiplier``)
    to lists of values (multipliers for weight/effect/envelope). ``n_jobs`` > 1 runs chunks
    on joblib workers. With a :class:`RunLog`, finished units are logged and skipped on resume.

    >>> from allocator import load_instance, sweep, tiny_instance_path
    >>> sw = sweep(load_instance(tiny_instance_path()), {"discount_rate": [0.02, 0.05]})
    >>> sw.results[["parameter", "objective"]].round(2).values.tolist()
    [['base', 184.5], ['discount_rate', 180.47], ['discount_rate', 174.83]]
    >>> round(float(sw.tornado.loc[0, "swing"]), 2)
    5.64
    """
    t_start = time.perf_counter()
    instance = to_gbp_m(instance)  # analyses run, and report, in £m whatever the money_unit
    grid = parameter_grid if parameter_grid is not None else default_grid(instance)
    units = _check_grid(instance, grid)
    settings = sensitivity_settings(instance)
    base_session = ModelSession(instance)
    base = base_session.solve()
    if base.x is None:
        raise AllocatorError(f"the base plan of {instance.settings.name} is {base.status}; "
                             "a sweep needs a solvable base")
    base_rec = _record(base_session, "base", float("nan"), base, False)
    done = {}
    if runlog is not None:
        for name, value in units:
            k = unit_key(name, value)
            if runlog.done(k):
                done[k] = runlog.records[k]
    todo = [u for u in units if unit_key(*u) not in done]
    records = dict(done)
    finished = len(done)
    if progress is not None:
        progress(finished, len(units))
    if todo:
        if n_jobs == 1:
            holder: dict = {}
            iterator = (run_chunk_with(holder, instance, [u]) for u in todo)
        else:
            from joblib import Parallel, delayed

            chunks = _chunks(todo, n_jobs)  # one chunk (one session) per worker
            iterator = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")(
                delayed(run_chunk)(instance, c) for c in chunks)
        for batch in iterator:
            for rec in batch:
                k = unit_key(rec["parameter"], rec["value"])
                records[k] = rec
                if runlog is not None:
                    runlog.append(k, rec)
                finished += 1
            if progress is not None:
                progress(finished, len(units))
    ordered = [records[unit_key(*u)] for u in units]
    # solve times and iteration counts are run facts (they depend on warm starts and the
    # machine), kept out of the tables so equal inputs give byte-identical CSVs
    run_facts = ("allocations", "solve_s", "iterations")
    res = pd.DataFrame([{k: v for k, v in r.items() if k not in run_facts} for r in [base_rec] + ordered])
    res.insert(2, "change_vs_base", res["objective"] - base.objective)
    arows = []
    dept_order = [d.id for d in instance.departments]
    for r in [base_rec] + ordered:
        # instance order, not dict order: records read back from a RunLog have sorted keys
        for d in dept_order:
            for c in CATEGORIES:
                val = r["allocations"].get(f"{d}|{c}")
                if val is not None:
                    arows.append(dict(parameter=r["parameter"], value=r["value"], department=d,
                                      category=c, total_gbp_m=val))
    alloc = pd.DataFrame(arows, columns=["parameter", "value", "department", "category", "total_gbp_m"])
    keys = key_departments or settings.key_departments or _largest(instance, 4)
    out = SweepResult(instance.settings.name, float(base.objective), res, alloc,
                      tornado_table(res, base.objective),
                      tornado_allocation_table(alloc, keys))
    if ranging:
        out.ranging = ranging_table(base_session)
    out.timings_s = {"total": round(time.perf_counter() - t_start, 6), "units": len(units),
                     "resumed_units": len(done), "n_jobs": n_jobs,
                     "solve_s_sum": round(sum(r.get("solve_s", 0.0) for r in ordered), 6),
                     "iterations_sum": int(sum(r.get("iterations", 0) for r in ordered))}
    return out


def run_chunk_with(holder: dict, instance: Instance, units) -> list[dict]:
    """In-process variant of :func:`run_chunk` that keeps one session across calls."""
    out = []
    for name, value in units:
        if name in REBUILD_PARAMS:
            s2 = ModelSession(changed_instance(instance, name, value))
            out.append(_record(s2, name, value, s2.solve(), True))
            continue
        s = holder.get("session")
        if s is None:
            s = holder["session"] = ModelSession(instance)
            s.solve()  # the base plan: its basis is where every unit's re-solve starts
        s.reset()  # parameters back to the base and the base basis restored (order-independent)
        _apply(s, name, value)
        out.append(_record(s, name, value, s.solve(), False))
    return out


def _largest(instance: Instance, k: int) -> list[str]:
    d = sorted(instance.departments, key=lambda d: -(d.rdel_baseline_gbp_m + d.cdel_baseline_gbp_m))
    return [x.id for x in d[:k]]


def tornado_table(res: pd.DataFrame, base_objective: float) -> pd.DataFrame:
    """Per parameter: the lowest and highest objective over its feasible values, the swing,
    and whether an end of its range (its smallest or largest value) has no feasible plan.
    An infeasible end is not a swing of 0: ``infeasible_end`` names it ("low", "high",
    "both") with the value, its swing is left empty (unbounded), and such parameters sort
    first."""
    r = res[res["parameter"] != "base"]
    rows = []
    for name, g in r.groupby("parameter", sort=False):
        ok = g[g["objective"].notna()]
        ends = {"low": g.loc[g["value"].idxmin()], "high": g.loc[g["value"].idxmax()]}
        bad = [k for k, e in ends.items() if pd.isna(e["objective"])]
        infeasible_end = ("both" if len(bad) == 2 else bad[0]) if bad else ""
        where = "; ".join(f"{k} end {ends[k]['value']:g} infeasible" for k in bad)
        if len(ok):
            lo, hi = ok.loc[ok["objective"].idxmin()], ok.loc[ok["objective"].idxmax()]
            lo_v, lo_o, hi_v, hi_o = lo["value"], lo["objective"], hi["value"], hi["objective"]
        else:
            lo_v = lo_o = hi_v = hi_o = float("nan")
        rows.append(dict(parameter=name, base_objective=base_objective,
                         value_at_low=lo_v, objective_low=lo_o, value_at_high=hi_v, objective_high=hi_o,
                         swing=(hi_o - lo_o) if not bad else float("nan"),
                         infeasible_values=int(g["objective"].isna().sum()),
                         infeasible_end=infeasible_end, infeasible_at=where))
    df = pd.DataFrame(rows, columns=["parameter", "base_objective", "value_at_low", "objective_low",
                                     "value_at_high", "objective_high", "swing", "infeasible_values",
                                     "infeasible_end", "infeasible_at"])
    df["_bad"] = df["infeasible_end"] != ""
    df = df.sort_values(["_bad", "swing"], ascending=False, kind="stable").drop(columns="_bad")
    return df.reset_index(drop=True)


def tornado_allocation_table(alloc: pd.DataFrame, departments: list[str]) -> pd.DataFrame:
    """Per parameter × key department: range of its total settlement (cash £m, horizon)."""
    a = alloc[alloc["department"].isin(departments)]
    tot = a.groupby(["parameter", "value", "department"], dropna=False, sort=False)["total_gbp_m"].sum().reset_index()
    base = tot[tot["parameter"] == "base"].set_index("department")["total_gbp_m"]
    rows = []
    for (name, dep), g in tot[tot["parameter"] != "base"].groupby(["parameter", "department"], sort=False):
        rows.append(dict(parameter=name, department=dep, base_gbp_m=base.get(dep, np.nan),
                         low_gbp_m=g["total_gbp_m"].min(), high_gbp_m=g["total_gbp_m"].max(),
                         swing_gbp_m=g["total_gbp_m"].max() - g["total_gbp_m"].min()))
    df = pd.DataFrame(rows, columns=["parameter", "department", "base_gbp_m", "low_gbp_m",
                                     "high_gbp_m", "swing_gbp_m"])
    return df.sort_values(["department", "swing_gbp_m"], ascending=[True, False],
                          kind="stable").reset_index(drop=True)


def ranging_table(session: ModelSession) -> pd.DataFrame:
    """Shadow prices of the base plan's policy rows with HiGHS ranging: the interval of the
    row's bound over which the price (and the optimal basis) holds, and the objective there."""
    from allocator.sensitivity.common import current_row_bounds

    session.reset()
    session.solve()
    rg = session.backend.ranging()
    lp = session.model.lp
    labels = lp.row_labels()
    dual, act = rg["row_dual"], rg["row_value"]
    lo, hi = current_row_bounds(session)
    rows = []
    for i in range(lp.m):
        if labels["structural"].iat[i] or abs(dual[i]) < 1e-9:
            continue
        bound = hi[i] if np.isfinite(hi[i]) and abs(act[i] - hi[i]) <= abs(act[i] - lo[i]) else lo[i]
        rows.append(dict(constraint=labels["family"].iat[i], year=labels["year"].iat[i],
                         subject=labels["subject"].iat[i], category=labels["category"].iat[i],
                         shadow_price=abs(dual[i]), bound=bound,
                         bound_low=rg["bound_low"][i], bound_high=rg["bound_high"][i],
                         objective_at_low=rg["objective_at_low"][i] + lp.constant,
                         objective_at_high=rg["objective_at_high"][i] + lp.constant))
    df = pd.DataFrame(rows, columns=["constraint", "year", "subject", "category", "shadow_price",
                                     "bound", "bound_low", "bound_high", "objective_at_low",
                                     "objective_at_high"])
    df.attrs["ranging_status"] = rg["status"]
    return df.sort_values("shadow_price", ascending=False, kind="stable").reset_index(drop=True)


__all__ = ["sweep", "SweepResult", "default_grid", "changed_instance", "ranging_table",
           "tornado_table", "run_chunk"]
