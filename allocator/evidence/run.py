"""``run_uncertainty``: probabilistic sensitivity analysis, value of information and a
robust plan under evidence uncertainty (docs/uncertainty.md).

Work is split into *units* that each solve one LP on a persistent
:class:`~allocator.session.ModelSession` (built once per worker process; every solve
starts from the same base basis, so a unit's result never depends on the worker or the
order):

- ``d<s>``: draw s — the optimum of the LP with the draw's costs c_s;
- ``e<g>:<s>``: EVPPI of group g — the optimum with the fitted costs ĝ(φ_s) (voi.py).

Units run in parallel with joblib (loky; a dask.distributed cluster when a scheduler is
given) and each finished unit is appended to a :class:`~allocator.runlog.RunLog` in the
output folder, so an interrupted run resumes (``resume=True``) with identical tables.
Everything else (the point-estimate, sample-average, CVaR and pro-rata plans and every
plan's value under every draw) is computed in the calling process from the draws, which
depend only on the seed.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from allocator.errors import AllocatorError
from allocator.schema import Instance

from .draws import EvidenceMap, draw, moments
from .schema import Evidence, as_evidence

_WORKER_CACHE: dict = {}


class EvidenceRunError(AllocatorError):
    """An LP under a draw has no optimal plan (cannot happen while the evidence moves only
    the objective, unless the instance itself is infeasible)."""


# --------------------------------------------------------------------------- worker side
class _Context:
    """One process's session: the allocation LP loaded in HiGHS and the evidence map."""

    def __init__(self, instance: Instance, ev: Evidence):
        from allocator.session import ModelSession

        self.session = ModelSession(instance)
        model = self.session.model
        self.md = model.data
        self.emap = EvidenceMap(ev, model)
        xb = model.lp.var_blocks["x"]
        self.x0, self.nx = xb.start, xb.size
        self.xcols = np.arange(xb.start, xb.start + xb.size)
        q = self.session.solve()  # the point-estimate plan; its basis is the base basis
        if q.status != "optimal":
            raise EvidenceRunError(f"the instance has no optimal plan ({q.status}); solve it with "
                                   "`allocator solve` for an explanation")
        self.point_x = q.x.copy()

    def solve(self, cost: np.ndarray) -> np.ndarray:
        """max cost·x over the LP, warm from the base basis; the optimal x (all columns)."""
        self.session.backend.set_costs(self.xcols, cost)
        # The LP has alternative optima: the vertex HiGHS ends at depends on its state, not
        # only on the starting basis. Clearing the solver's data and starting every solve
        # from the same base basis makes a unit's plan independent of the worker's history
        # (as the cycle simulator does), so serial, parallel and resumed runs agree.
        self.session.backend.clear_solution()
        self.session.restore_base_basis()
        q = self.session.solve()
        if q.status != "optimal" or q.x is None:
            raise EvidenceRunError(f"a re-solve under a draw is {q.status}")
        return q.x

    def xblock(self, x: np.ndarray) -> np.ndarray:
        return x[self.x0:self.x0 + self.nx]

    def programme_spend(self, xb: np.ndarray) -> np.ndarray:
        """Σ_t q_pt: horizon real spend by programme."""
        per_piece = xb.reshape(-1, self.md.T).sum(axis=1)
        return np.bincount(self.md.piece_prog, weights=per_piece, minlength=self.md.P)


def _context(key: str, instance: Instance, ev_json: str) -> _Context:
    k = (key, threading.get_ident())
    ctx = _WORKER_CACHE.get(k)
    if ctx is None:
        for old in [c for c in _WORKER_CACHE if c[0] != key]:
            del _WORKER_CACHE[old]
        ctx = _Context(instance, Evidence.model_validate_json(ev_json))
        _WORKER_CACHE[k] = ctx
    return ctx


def run_units(key: str, instance: Instance, ev_json: str, seed: int, units: list) -> list:
    """Solve a chunk of units. ``("d", s)``: draw s. ``("e", g, s, b, beta)``: EVPPI unit with
    regression row b (q,) and coefficients beta (q × n_x): fitted costs b·beta."""
    ctx = _context(key, instance, ev_json)
    out = []
    for u in units:
        t0 = time.perf_counter()
        if u[0] == "d":
            s = u[1]
            theta = draw(ctx.emap.ev, seed, s)
            cost = ctx.emap.cost(theta)
            xb = ctx.xblock(ctx.solve(cost))
            rec = {"value": ctx.emap.value(cost, xb),
                   "mission_value": ctx.emap.mission_values(theta, xb).tolist(),
                   "metric": ctx.emap.final_metrics(theta, xb).tolist(),
                   "spend": ctx.programme_spend(xb).tolist()}
            k = f"d{s}"
        else:
            _, g, s, b, beta = u
            cost = np.asarray(b) @ beta
            xb = ctx.xblock(ctx.solve(cost))
            rec = {"value": ctx.emap.value(cost, xb)}
            k = f"e{g}:{s}"
        rec["seconds"] = time.perf_counter() - t0
        out.append((k, rec))
    return out


def _execute(chunks, key, instance, ev_json, seed, jobs, scheduler):
    from allocator.parallel import run_chunks

    yield from run_chunks(run_units, (key, instance, ev_json, seed), chunks, jobs, scheduler)


# --------------------------------------------------------------------------- result
@dataclass
class UncertaintyResult:
    """Tables (pandas DataFrames) of an evidence-uncertainty run and its provenance."""

    draws: pd.DataFrame  # one row per draw: parameters and each plan's value
    summary: pd.DataFrame  # measure × plan: mean, sd, p5, p50, p95
    funding: pd.DataFrame  # programme: probability funded above baseline
    evppi: pd.DataFrame  # group: EVPPI (and the whole-plan EVPI)
    departments: pd.DataFrame  # robust plan against the point plan, by department
    parameters: pd.DataFrame  # the evidence: distributions, moments, provenance
    meta: dict = field(default_factory=dict)

    @property
    def evpi(self) -> float:
        return self.meta["evpi"]

    def write(self, out: str | Path, plots: bool = True) -> None:
        """Write the tables, plots, report section and summary.json atomically into ``out``."""
        from allocator.output import results_folder

        with results_folder(out, "uncertainty") as tmp:
            self.write_files(tmp, plots=plots)

    def write_files(self, folder: Path, plots: bool = True) -> None:
        """The result files, into the folder being written."""
        from allocator.output import atomic_write_text, write_csv, write_json

        from . import report

        folder = Path(folder)
        write_csv(self.draws, folder / "uncertainty_draws.csv")
        write_csv(self.summary, folder / "uncertainty_summary.csv")
        write_csv(self.funding, folder / "funding_probability.csv")
        write_csv(self.evppi, folder / "evppi.csv")
        write_csv(self.departments, folder / "robust_by_department.csv")
        write_csv(self.parameters, folder / "evidence_parameters.csv")
        write_json(self.meta, folder / "summary.json")
        atomic_write_text(folder / "uncertainty_report.md", report.markdown(self))
        if plots:
            from . import plots as P

            P.value_distribution(self, folder / "value_distribution")
            P.funding_probability(self, folder / "funding_probability")
            P.evppi_bars(self, folder / "evppi")
        atomic_write_text(folder / "uncertainty_report.html",
                          report.html(self, folder if plots else None))


# --------------------------------------------------------------------------- driver
def _pro_rata_xblock(md) -> np.ndarray:
    """Each year's DEL envelope shared out in proportion to baseline spend, by category:
    q_pt = b_p · E_c(p),t / (π_t Σ_{p'∈c} b_p'), laid on the programme's pieces in order.
    (Years without an envelope keep baseline spend.)"""
    T = md.T
    q = np.zeros((md.P, T))
    for c, col in enumerate(("rdel_envelope_gbp_m", "cdel_envelope_gbp_m")):
        sel = md.prog_category == c
        B = md.prog_baseline[sel].sum()
        E = md.fiscal[col]
        r = np.where(np.isfinite(E) & (B > 0), E / (md.deflator * max(B, 1e-12)), 1.0)
        q[sel] = md.prog_baseline[sel][:, None] * r[None, :]
    X = np.zeros((len(md.piece_prog), T))
    used = np.zeros((md.P, T))
    for i, p in enumerate(md.piece_prog):
        take = np.clip(q[p] - used[p], 0.0, md.piece_width[i])
        X[i] = take
        used[p] += take
    return X.ravel()


def _stats(v: np.ndarray) -> dict:
    v = np.asarray(v, dtype=float)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "p5": float(np.quantile(v, 0.05)), "p50": float(np.quantile(v, 0.5)),
            "p95": float(np.quantile(v, 0.95))}


def run_uncertainty(instance: Instance | str | Path, evidence=None, *, out: str | Path | None = None,
                    resume: bool = False, **kw) -> UncertaintyResult:
    """Probabilistic sensitivity analysis of ``instance`` under ``evidence`` (an
    :class:`Evidence`, a path to an evidence YAML file or a mapping; default: the
    ``evidence.yaml`` beside the instance when ``instance`` is a folder); the keyword
    arguments of :func:`_run_uncertainty` (draws, seed, jobs, evppi, cvar_weight, cvar_alpha,
    scheduler, plots, progress, chunk_size).

    With ``out``, the run works in ``out/.allocator-partial`` (its progress log, so an
    interrupted run resumes with ``resume=True``) and its results replace ``out`` whole when
    it finishes (allocator.output's rules, as for cycles and sensitivity)."""
    if out is None:
        return _run_uncertainty(instance, evidence, work=None, resume=resume, **kw)
    from allocator.output import results_folder

    with results_folder(out, "uncertainty", resumable=True, resume=resume) as work:
        return _run_uncertainty(instance, evidence, work=work, resume=resume, **kw)


def _run_uncertainty(instance: Instance | str | Path, evidence=None, *, draws: int = 1000,
                    seed: int = 0, jobs: int = 1, work: Path | None = None,
                    resume: bool = False, evppi: bool = True, cvar_weight: float = 0.0,
                    cvar_alpha: float = 0.05, scheduler=None, plots: bool = True,
                    progress: Callable[[str, int, int], None] | None = None,
                    chunk_size: int | None = None) -> UncertaintyResult:
    """Probabilistic sensitivity analysis of ``instance`` under ``evidence`` (an
    :class:`Evidence`, a path to an evidence YAML file or a mapping; default: the
    ``evidence.yaml`` beside the instance when ``instance`` is a folder).

    ``draws`` parameter sets with ``seed`` (common random numbers: the same draws for every
    plan); ``jobs`` worker processes; ``scheduler`` a dask.distributed address or Client;
    ``out`` folder for the progress log and the result files; ``resume`` skips units in its
    log. ``evppi=False`` skips the EVPPI solves. ``cvar_weight`` λ > 0 adds the CVaR guard at
    level ``cvar_alpha`` to the robust plan. ``progress(stage, done, total)``.
    """
    from allocator.io import instance_sha256, load_instance
    from allocator.numerics import to_gbp_m
    from allocator.provenance import command_line, package_versions
    from allocator.runlog import RunLog, interruptible

    from . import voi

    folder = None
    if not isinstance(instance, Instance):
        folder = Path(instance)
        instance = load_instance(folder)
    if evidence is None:
        cand = None if folder is None else (folder if folder.is_dir() else folder.parent) / "evidence.yaml"
        if cand is None or not cand.is_file():
            raise AllocatorError("no evidence given: pass evidence= (or --evidence FILE), or put an "
                                 "evidence.yaml beside instance.yaml")
        evidence = cand
    instance = to_gbp_m(instance)
    if instance.settings.objective.kind != "value":
        raise AllocatorError(f"{instance.settings.name}: evidence uncertainty values plans by "
                             "mission value; the instance is in target mode (objective.kind: "
                             f"{instance.settings.objective.kind}); use objective.kind: value")
    ev = as_evidence(evidence, instance)
    if draws < 2:
        raise AllocatorError(f"--draws must be at least 2, got {draws}")
    if jobs < 1:
        raise AllocatorError(f"--jobs must be at least 1, got {jobs}")
    if not 0 <= cvar_weight <= 1 or not 0 < cvar_alpha <= 1:
        raise AllocatorError(f"--cvar-weight must be in [0, 1] and --cvar-alpha in (0, 1], got "
                             f"{cvar_weight}, {cvar_alpha}")
    S = draws
    ev_json = ev.model_dump_json()
    sha = instance_sha256(instance)
    fingerprint = {"analysis": "evidence_uncertainty", "instance_sha256": sha,
                   "evidence": json.loads(ev_json), "seed": seed, "draws": S, "evppi": evppi}
    key = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]

    t_start = time.perf_counter()
    ctx = _context(key, instance, ev_json)  # the calling process's own session
    emap, md = ctx.emap, ctx.md
    theta = np.vstack([draw(ev, seed, s) for s in range(S)])
    C = np.vstack([emap.cost(th) for th in theta])  # S × n_x
    fill = np.repeat(emap.fill, md.T)

    log = RunLog(work, fingerprint, resume=resume) if work is not None else None
    records: dict[str, dict] = dict(log.records) if log is not None else {}
    groups = list(ev.group_of().items())

    def run_stage(stage: str, units: list, total: int) -> float:
        todo = [u for u in units if _ukey(u) not in records]
        if progress:
            progress(stage, total - len(todo), total)
        size = chunk_size or (max(1, min(25, math.ceil(len(todo) / (4 * jobs)))) if todo else 1)
        chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
        t0 = time.perf_counter()
        done = total - len(todo)
        with interruptible():
            for batch in _execute(chunks, key, instance, ev_json, seed, jobs, scheduler):
                for k, rec in batch:
                    if log is not None:
                        log.append(k, rec)
                        records[k] = log.records[k]
                    else:
                        records[k] = json.loads(json.dumps(rec))
                done += len(batch)
                if progress:
                    progress(stage, done, total)
        return time.perf_counter() - t0

    try:
        t_draws = run_stage("draws", [("d", s) for s in range(S)], S)
        evppi_rows, t_evppi = [], 0.0
        designs = {}
        if evppi:
            units = []
            for gi, (gid, idx) in enumerate(groups):
                B = voi.design(theta[:, idx])
                beta = voi.fit(B, C)
                designs[gid] = B.shape[1]
                units += [("e", gi, s, B[s], beta) for s in range(S)]
            t_evppi = run_stage("evppi", units, len(units))
    finally:
        if log is not None:
            log.close()

    # ---------------------------------------------------------------- plans and values
    v_opt = np.array([records[f"d{s}"]["value"] for s in range(S)])
    x_point = ctx.xblock(ctx.point_x)
    cbar = C.mean(axis=0)
    x_saa_full = ctx.solve(cbar)
    plans = {"point": x_point, "robust": ctx.xblock(x_saa_full).copy(), "pro_rata": _pro_rata_xblock(md)}
    robust_full = x_saa_full.copy()
    robust_kind = "sample-average (risk-neutral)"
    if cvar_weight > 0:
        robust_full = _solve_cvar(ctx, C, fill, cvar_weight, cvar_alpha)
        plans["robust"] = ctx.xblock(robust_full).copy()
        robust_kind = f"sample-average with CVaR guard (λ={cvar_weight}, α={cvar_alpha})"
    V = {name: C @ (xb - fill) for name, xb in plans.items()}
    saa_value = float(cbar @ (ctx.xblock(x_saa_full) - fill))
    evpi = float(v_opt.mean() - saa_value)
    evpi_se = float(v_opt.std(ddof=1) / np.sqrt(S))

    # ---------------------------------------------------------------- EVPPI
    if evppi:
        for gi, (gid, idx) in enumerate(groups):
            vals = np.array([records[f"e{gi}:{s}"]["value"] for s in range(S)])
            e = float(vals.mean() - saa_value)
            evppi_rows.append({"group": gid, "parameters": ";".join(ev.parameters[i].id for i in idx),
                               "evppi": e, "share_of_evpi": e / evpi if evpi > 0 else np.nan,
                               "regression_terms": designs[gid]})
    evppi_rows.append({"group": "(all parameters: EVPI)",
                       "parameters": ";".join(p.id for p in ev.parameters),
                       "evppi": evpi, "share_of_evpi": 1.0 if evpi > 0 else np.nan,
                       "regression_terms": 0})
    evppi_tab = pd.DataFrame(evppi_rows)
    if evppi:
        head = evppi_tab.iloc[:-1].sort_values("evppi", ascending=False, kind="stable")
        evppi_tab = pd.concat([head, evppi_tab.iloc[-1:]], ignore_index=True)

    # ---------------------------------------------------------------- tables
    params = ev.parameters
    dtab = pd.DataFrame({"draw": np.arange(S)})
    for j, p in enumerate(params):
        dtab[p.id] = theta[:, j]
    dtab["optimum_value"] = v_opt
    for name in ("point", "robust", "pro_rata"):
        dtab[f"{name}_value"] = V[name]
    dtab["point_regret"] = v_opt - V["point"]
    dtab["point_share_of_optimum"] = np.where(np.abs(v_opt) > 1e-9, V["point"] / np.where(
        np.abs(v_opt) > 1e-9, v_opt, 1.0), np.nan)

    rows = []
    for name, v in (("optimum", v_opt), ("point", V["point"]), ("robust", V["robust"]),
                    ("pro_rata", V["pro_rata"])):
        rows.append({"measure": "mission_value", "plan": name, **_stats(v)})
    mv = np.array([records[f"d{s}"]["mission_value"] for s in range(S)])
    met = np.array([records[f"d{s}"]["metric"] for s in range(S)])
    met_point = np.vstack([emap.final_metrics(theta[s], x_point) for s in range(S)])
    mv_point = np.vstack([emap.mission_values(theta[s], x_point) for s in range(S)])
    for m, mid in enumerate(md.missions):
        rows.append({"measure": f"mission_value:{mid}", "plan": "optimum", **_stats(mv[:, m])})
        rows.append({"measure": f"mission_value:{mid}", "plan": "point", **_stats(mv_point[:, m])})
    for m, mid in enumerate(md.missions):
        rows.append({"measure": f"metric_final_year:{mid}", "plan": "optimum", **_stats(met[:, m])})
        rows.append({"measure": f"metric_final_year:{mid}", "plan": "point", **_stats(met_point[:, m])})
    rows.append({"measure": "point_share_of_optimum", "plan": "point",
                 **_stats(dtab["point_share_of_optimum"].dropna())})
    rows.append({"measure": "point_regret", "plan": "point", **_stats(dtab["point_regret"])})
    summary = pd.DataFrame(rows)

    spend = np.array([records[f"d{s}"]["spend"] for s in range(S)])  # S × P
    base_total = md.prog_baseline * md.T
    tol = 1e-6 * np.maximum(1.0, base_total)
    ptotal = ctx.programme_spend(x_point)
    rtotal = ctx.programme_spend(plans["robust"])
    owners = {p.id: ";".join(p.owners) for p in instance.programmes}
    funding = pd.DataFrame({
        "programme": md.programmes, "owners": [owners[p] for p in md.programmes],
        "baseline_horizon_gbp_m": base_total,
        "probability_above_baseline": (spend > base_total + tol).mean(axis=0),
        "mean_horizon_spend_gbp_m": spend.mean(axis=0),
        "point_plan_above_baseline": ptotal > base_total + tol,
        "robust_plan_above_baseline": rtotal > base_total + tol,
    }).sort_values(["probability_above_baseline", "programme"], ascending=[False, True],
                   kind="stable").reset_index(drop=True)

    e = ctx.session.model.expr
    point_full = ctx.point_x
    dp = (e.dept_spend @ point_full).reshape(md.D, 2, md.T).sum(axis=(1, 2))
    dr = (e.dept_spend @ robust_full).reshape(md.D, 2, md.T).sum(axis=(1, 2))
    departments = pd.DataFrame({"department": md.departments, "point_plan_gbp_m": dp,
                                "robust_plan_gbp_m": dr, "change_gbp_m": dr - dp})
    departments = departments.reindex(departments["change_gbp_m"].abs().sort_values(
        ascending=False, kind="stable").index).reset_index(drop=True)

    ptab = []
    for j, p in enumerate(params):
        mean, sd = moments(p.distribution)
        ptab.append({"parameter": p.id, "group": p.group or p.id, "kind": p.kind,
                     "select": json.dumps(p.select.model_dump(exclude_none=True), sort_keys=True),
                     "distribution": json.dumps(p.distribution.model_dump(), sort_keys=True),
                     "mean": mean, "sd": sd, "sample_mean": float(theta[:, j].mean()),
                     "sample_p5": float(np.quantile(theta[:, j], 0.05)),
                     "sample_p95": float(np.quantile(theta[:, j], 0.95)),
                     "provenance": f"source: {p.source}" if p.source else f"ASSUMPTION: {p.assumption}"})
    parameters = pd.DataFrame(ptab)

    alpha5 = 0.05
    from allocator.models.evidence_saa import cvar

    def plan_meta(name):
        v = V[name]
        return {"expected_value": float(v.mean()), "p5": float(np.quantile(v, alpha5)),
                "worst_5pct_mean": cvar(v, alpha5),
                "probability_beats_baseline": float((v > 0).mean()),
                "probability_beats_pro_rata": float((v > V["pro_rata"]).mean())}

    elapsed = time.perf_counter() - t_start
    solves = S + (len(groups) * S if evppi else 0)
    meta = {
        "instance": instance.settings.name, "instance_sha256": sha,
        "evidence_sha256": hashlib.sha256(ev_json.encode()).hexdigest(), "evidence_title": ev.title,
        "seed": seed, "draws": S, "groups": [g for g, _ in groups],
        "value_unit": "£m-equivalent" if instance.settings.weights.kind == "monetised" else "points",
        "evpi": evpi, "evpi_standard_error_of_first_term": evpi_se,
        "evppi": {r["group"]: r["evppi"] for r in evppi_rows if not r["group"].startswith("(")},
        "expected_optimum_value": float(v_opt.mean()), "sample_average_plan_value": saa_value,
        "plans": {name: plan_meta(name) for name in ("point", "robust", "pro_rata")},
        "robust_plan": robust_kind,
        "point_share_of_optimum_mean": float(dtab["point_share_of_optimum"].mean()),
        "point_regret_mean": float(dtab["point_regret"].mean()),
        "estimator": "EVPPI: regression (Strong, Oakley & Brennan 2014) of the objective's cost "
                     "vector on each group's parameters (additive cubic regression splines + "
                     "pairwise interactions), inner maximum by LP",
        "versions": package_versions(), "command": command_line(),
        "parallel": {"jobs": jobs, "scheduler": None if scheduler is None else str(scheduler)},
        "timings": {"seconds": round(elapsed, 3), "draws_seconds": round(t_draws, 3),
                    "evppi_seconds": round(t_evppi, 3), "lp_solves": solves,
                    "resumed_units": 0 if log is None else log.resumed},
    }
    res = UncertaintyResult(draws=dtab, summary=summary, funding=funding, evppi=evppi_tab,
                            departments=departments, parameters=parameters, meta=meta)
    if work is not None:
        res.write_files(work, plots=plots)
    return res


def _ukey(u) -> str:
    return f"d{u[1]}" if u[0] == "d" else f"e{u[1]}:{u[2]}"


def _solve_cvar(ctx: _Context, C: np.ndarray, fill: np.ndarray, lam: float, alpha: float) -> np.ndarray:
    from allocator.models.evidence_saa import build_robust_form
    from allocator.solvers.highs import HighsBackend

    form = build_robust_form(ctx.session.model.lp, ctx.x0, C, fill, cvar_weight=lam, alpha=alpha)
    b = HighsBackend()
    b.load(form)
    out = b.solve()
    if out.x is None or out.status.value != "optimal":
        raise EvidenceRunError(f"the CVaR-guarded robust plan is {out.status.value}")
    return out.x[:form.n_plan]
