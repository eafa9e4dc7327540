"""Two-stage stochastic settlement on an event tree (docs/sensitivity.md §3).

Scenario s (probability p_s) is the instance with its events applied; the first stage is
every decision before the tree's trigger year, the same in all branches; recourse after.
The extensive form (:mod:`allocator.models.stochastic`) is solved on HiGHS. Reported
(maximisation, objective units):

    RP   = optimum of the extensive form (the stochastic, "robust" settlement)
    WS   = Σ_s p_s V_s*                    (wait and see: each branch known in advance)
    EVPI = WS − RP >= 0                    (expected value of perfect information)
    EV   = plan solved on the expected forecast F̄ = Σ_s p_s F_s (linear in the events)
    EEV  = Σ_s p_s V_s(x̄₁)                 (EV's first stage fixed, best recourse per branch)
    VSS  = RP − EEV >= 0                   (value of the stochastic solution; +∞ when the
                                            EV settlement leaves some branch infeasible)

and the same comparison against the base plan x⁰ (the no-event forecast):
VSS_base = RP − Σ_s p_s V_s(x⁰₁).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from allocator.errors import AllocatorError
from allocator.explain import InfeasibilityReport, explain_infeasibility
from allocator.modelling import build
from allocator.models.data import CATEGORIES
from allocator.models.stochastic import ExtensiveForm, build_extensive_form, first_stage_columns
from allocator.schema import Instance, parse_year_label
from allocator.solvers.highs import HighsBackend

from .common import closest_plan, programme_cash, settlement_limits
from .events import EventTree, as_events, base_fiscal, instance_with_events
from allocator.numerics import to_gbp_m


@dataclass
class StochasticResult:
    instance_name: str
    trigger_year: str
    status: str
    recourse_value: float | None  # RP
    wait_and_see: float | None  # WS
    evpi: float | None
    expected_value_solution: float | None  # EEV (−inf if EV's settlement is infeasible in a branch)
    vss: float | None
    base_plan_expected: float | None  # Σ p V_s(x⁰ first stage)
    vss_vs_base: float | None
    scenarios: pd.DataFrame  # per branch: probability, V*, V(RP), V(EV first stage), V(base)
    settlement_difference: pd.DataFrame  # department × category × stage: robust vs deterministic
    explanation: InfeasibilityReport | None = None
    model_size: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"stochastic_scenarios": self.scenarios,
                "settlement_difference": self.settlement_difference}

    def summary(self) -> dict:
        def num(v):
            return None if v is None else (v if np.isfinite(v) else str(v))

        d = {"trigger_year": self.trigger_year, "status": self.status,
             "recourse_value": num(self.recourse_value), "wait_and_see": num(self.wait_and_see),
             "evpi": num(self.evpi), "expected_value_solution": num(self.expected_value_solution),
             "vss": num(self.vss), "base_plan_expected": num(self.base_plan_expected),
             "vss_vs_base": num(self.vss_vs_base), "extensive_form": self.model_size}
        if self.explanation is not None:
            d["infeasibility"] = self.explanation.to_dict()
        return d


def _solve(lp) -> tuple:
    b = HighsBackend()
    b.load(lp)
    return b.solve()


def _value(model, out) -> float | None:
    return None if out.x is None else float(out.objective + model.lp.constant)


def _fixed_value(model, x_first: np.ndarray, J: np.ndarray, plans: list | None = None,
                 near: np.ndarray | None = None) -> float:
    """V_s(x₁): the branch's best recourse with the first stage fixed (−inf if infeasible);
    the plan found is appended to ``plans`` (None if infeasible) — among the optimal ones,
    the closest to ``near`` in spend and settlements, so that differences are not ties."""
    lp = model.lp
    lo, hi = lp.col_lower.copy(), lp.col_upper.copy()
    lo[J] = hi[J] = x_first

    class _Fixed:
        pass

    f = _Fixed()
    f.A, f.cost, f.n, f.m = lp.A, lp.cost, lp.n, lp.m
    f.col_lower, f.col_upper, f.row_lower, f.row_upper = lo, hi, lp.row_lower, lp.row_upper
    out = _solve(f)
    if plans is not None:
        x = out.x
        if x is not None and near is not None:
            import scipy.sparse as sp

            B = sp.vstack([model.expr.cash, model.expr.limit], format="csr")
            xc = closest_plan(f, B, B @ near, out)
            x = x if xc is None else xc
        plans.append(x)
    return -np.inf if out.x is None else float(out.objective + lp.constant)


def _tree(events, tree) -> tuple:
    ev = events
    t = tree or ev.tree
    if t is None:
        raise AllocatorError("no event tree: give one in the events file ('tree:' with "
                             "trigger_year and scenarios) or pass tree=...")
    if isinstance(t, dict):
        t = EventTree.model_validate(t)
    return t


def stochastic_plan(instance: Instance, events, tree: EventTree | dict | None = None,
                    explain: bool = True) -> StochasticResult:
    """Solve the two-stage stochastic settlement on ``events``' tree (or ``tree``).

    ``events``: an events file/path/mapping whose ``tree`` section lists scenarios with
    probabilities (e.g. no event 0.7, recession 0.2, interest-rate shock 0.1).

    >>> from allocator import load_instance, stochastic_plan, tiny_instance_path
    >>> events = {"events": [{"id": "cut", "kind": "demand_shock", "department": "A",
    ...                       "year": "2027-28", "severity": 0.2, "duration": 2}],
    ...           "replan": {"years": ["2027-28"], "severity_multipliers": [0, 1]},
    ...           "tree": {"trigger_year": "2027-28", "scenarios": [
    ...               {"id": "no_event", "probability": 0.7, "events": []},
    ...               {"id": "cut", "probability": 0.3, "events": ["cut"]}]}}
    >>> sp = stochastic_plan(load_instance(tiny_instance_path()), events)
    >>> sp.status, sp.wait_and_see, sp.evpi   # nothing to gain from knowing the branch early
    ('optimal', 176.4, 0.0)
    """
    t_start = time.perf_counter()
    instance = to_gbp_m(instance)  # analyses run, and report, in £m whatever the money_unit
    ev = as_events(events, instance)
    tr = _tree(ev, tree)
    if tree is not None:
        from .events import check_events

        check_events(ev.model_copy(update={"tree": tr}), instance)
    trig = parse_year_label(tr.trigger_year) - parse_year_label(instance.years[0])
    ids = [s.id for s in tr.scenarios]
    p = np.array([s.probability for s in tr.scenarios])
    insts = [instance_with_events(instance, [ev.event(e) for e in s.events]) for s in tr.scenarios]
    t0 = time.perf_counter()
    models = [build(i).allocation for i in insts]  # the one build path
    base_model = build(instance).allocation
    J = first_stage_columns(base_model, trig)
    ef = build_extensive_form(models, p, J, ids)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = _solve(ef)
    ef_s = time.perf_counter() - t0
    size = {"columns": ef.n, "rows": ef.m, "nonzeros": int(ef.A.nnz), "scenarios": len(ids),
            "first_stage_columns": int(len(J))}
    # wait-and-see: each branch on its own
    ws_out = [_solve(m.lp) for m in models]
    v_star = np.array([(-np.inf if o.x is None else _value(m, o)) for m, o in zip(models, ws_out)])
    # the base (no-event) plan and the expected-value plan
    base_out = _solve(base_model.lp)
    base_f = base_fiscal(instance)
    mean_f = {k: sum(pi * base_fiscal(i)[k] for pi, i in zip(p, insts)) for k in base_f}
    ev_inst = _with_fiscal(instance, mean_f)
    ev_model = build(ev_inst).allocation
    ev_out = _solve(ev_model.lp)
    timings = {"build": round(build_s, 6), "extensive_form_solve": round(ef_s, 6)}
    if out.x is None:
        rep = explain_infeasibility(ef) if explain and out.status.value == "infeasible" else None
        return StochasticResult(instance.settings.name, tr.trigger_year, out.status.value,
                                None, None, None, None, None, None, None,
                                _scen_table(ids, p, v_star, None, None, None), pd.DataFrame(),
                                rep, size, timings)
    rp = float(out.objective + ef.constant)
    ws = float(p @ v_star)
    v_rp = np.array([float(models[s].lp.cost @ out.x[ef.block(s)] + models[s].lp.constant)
                     for s in range(len(ids))])
    x_ev = ev_out.x
    # report the robust plan closest (first stage) to the EV plan among the optimal ones
    x_rob = out.x
    if x_ev is not None:
        import scipy.sparse as sp

        e, T = models[0].expr, models[0].data.T
        # only first-stage rows (years before the trigger): rows are (subject, year) with year fastest
        keep_c = np.flatnonzero(np.arange(e.cash.shape[0]) % T < trig)
        keep_l = np.flatnonzero(np.arange(e.limit.shape[0]) % T < trig)
        B0 = sp.vstack([e.cash[keep_c], e.limit[keep_l]], format="csr")
        B = sp.hstack([B0, sp.csr_matrix((B0.shape[0], ef.n - ef.n_per_scenario))], format="csr")
        xc = closest_plan(ef, B, B0 @ x_ev, out)
        if xc is not None:
            x_rob = xc
    ev_plans: list = []
    b_plans: list = []
    near = [x_rob[ef.block(k)] for k in range(len(ids))]
    v_ev = (np.array([_fixed_value(m, x_ev[J], J, ev_plans, near[k]) for k, m in enumerate(models)])
            if x_ev is not None else np.full(len(ids), -np.inf))
    x_b = base_out.x
    v_base = (np.array([_fixed_value(m, x_b[J], J, b_plans, near[k]) for k, m in enumerate(models)])
              if x_b is not None else np.full(len(ids), -np.inf))
    eev = float(p @ v_ev) if np.all(np.isfinite(v_ev[p > 0])) else -np.inf
    ebase = float(p @ v_base) if np.all(np.isfinite(v_base[p > 0])) else -np.inf
    diff = _settlement_difference(models, ef, p, x_rob, ev_plans, b_plans, trig)
    timings["total"] = round(time.perf_counter() - t_start, 6)
    tol = 1e-9 * max(1.0, abs(rp))

    def gap(a, b):  # differences within solver round-off are reported as exactly 0
        d = a - b
        return 0.0 if np.isfinite(d) and abs(d) <= tol else d

    return StochasticResult(
        instance_name=instance.settings.name, trigger_year=tr.trigger_year, status="optimal",
        recourse_value=rp, wait_and_see=ws, evpi=gap(ws, rp), expected_value_solution=eev,
        vss=gap(rp, eev), base_plan_expected=ebase, vss_vs_base=gap(rp, ebase),
        scenarios=_scen_table(ids, p, v_star, v_rp, v_ev, v_base),
        settlement_difference=diff, model_size=size, timings_s=timings)


def _with_fiscal(instance: Instance, fiscal: dict) -> Instance:
    data = instance.model_dump()
    pos = {y: t for t, y in enumerate(instance.years)}
    for row in data["fiscal"]:
        t = pos.get(row["year"])
        if t is None:
            continue
        for col, arr in fiscal.items():
            if row.get(col) is None and not np.isfinite(arr[t]):
                continue
            row[col] = float(arr[t])
    return Instance.model_validate(data)


def _scen_table(ids, p, v_star, v_rp, v_ev, v_base) -> pd.DataFrame:
    n = len(ids)

    def col(v):
        return [None] * n if v is None else list(v)

    return pd.DataFrame({"scenario": ids, "probability": p, "value_perfect_information": col(v_star),
                         "value_stochastic_plan": col(v_rp), "value_ev_first_stage": col(v_ev),
                         "value_base_first_stage": col(v_base)})


def _settlement_difference(models, ef: ExtensiveForm, p, x, ev_plans, base_plans,
                           trig: int) -> pd.DataFrame:
    """Cash £m summed over the years of each stage — the first stage (t < trigger, one figure
    for every branch) and the probability-weighted recourse (t >= trigger) — of settlement
    limits by department and category (``level`` = department) and of spend by programme
    (``level`` = programme). Robust = the stochastic plan; EV plan / base plan = that plan's
    first stage followed by the best recourse in each branch (NaN if a branch is infeasible)."""
    md = models[0].data
    T = md.T

    def per_branch(plans):
        if len(plans) != len(models) or any(xs is None for xs in plans):
            return None
        return [(settlement_limits(models[s], plans[s]), programme_cash(models[s], plans[s]))
                for s in range(len(models))]

    rob_b = per_branch([x[ef.block(s)] for s in range(len(models))])
    ev_b, base_b = per_branch(ev_plans), per_branch(base_plans)
    rows = []
    for stage, sl in (("first_stage", slice(0, trig)), ("recourse_expected", slice(trig, T))):
        def agg(branches, which):
            if branches is None:
                return np.full((md.D, 2) if which == 0 else (md.P,), np.nan)
            return sum(pi * br[which][..., sl].sum(axis=-1) for pi, br in zip(p, branches))

        for which, level in ((0, "department"), (1, "programme")):
            rob, evv, bas = agg(rob_b, which), agg(ev_b, which), agg(base_b, which)
            if which == 0:
                keys = [(md.departments[d], CATEGORIES[c], (d, c)) for d in range(md.D)
                        for c in range(2)]
            else:
                keys = [(md.programmes[q], CATEGORIES[md.prog_category[q]], q) for q in range(md.P)]
            for name, cat, ix in keys:
                rows.append(dict(stage=stage, level=level, name=name, category=cat,
                                 robust_gbp_m=rob[ix], ev_plan_gbp_m=evv[ix], base_plan_gbp_m=bas[ix],
                                 difference_vs_ev_gbp_m=rob[ix] - evv[ix],
                                 difference_vs_base_gbp_m=rob[ix] - bas[ix]))
    return pd.DataFrame(rows)


__all__ = ["stochastic_plan", "StochasticResult"]
