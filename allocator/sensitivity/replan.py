"""Re-plan after a trigger event (docs/sensitivity.md §2).

For an event starting in year t0 the decisions of years t < t0 are fixed to the base plan
x⁰ (non-anticipativity: they were taken before anyone knew), the fiscal forecast is
changed by the event, and the rest of the horizon is re-optimised:

    V(e, t0, s) = max { c·x : A x ∈ [lo(F^{e,t0,s}), hi(F^{e,t0,s})],  x_j = x⁰_j for year(j) < t0 }

Loss = V⁰ − V(e, t0, s) (mission value lost against the base plan, objective units).
Only row bounds and column bounds change, so one :class:`ModelSession` re-solves every
(event, timing, severity) warm. When the re-plan is infeasible the elastic program of
:func:`allocator.explain.explain_infeasibility` gives the smallest relaxation (£m, by
rule and year) that would restore the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from allocator.explain import explain_infeasibility
from allocator.models.data import CATEGORIES
from allocator.schema import Instance, parse_year_label
from allocator.session import ModelSession

from .common import (LPView, ProximalPlan, RULE_FAMILIES, family_holds, mission_fund_cash,
                     programme_cash, settlement_limits, value_by_year)
from .events import EventsFile, apply_events, as_events
from allocator.numerics import to_gbp_m

REPLAN_COLUMNS = ["event", "kind", "trigger_year", "severity_multiplier", "severity", "status",
                  "objective", "loss", "loss_pct", "base_plan_holds_rules", "relaxation_gbp_m"]
# (solve times are run facts, not results: they go to summary.json, so equal inputs give
# byte-identical tables)


@dataclass
class TriggerAnalysis:
    """Tidy tables of a trigger-event analysis (money cash £m; value in objective units)."""

    instance_name: str
    weights_kind: str
    base_objective: float
    replans: pd.DataFrame  # one row per (event, trigger year, severity)
    absorption: pd.DataFrame  # who absorbs the change: department / programme, £m over t >= t0
    rules: pd.DataFrame  # per rule family: holds for the base plan and for the re-plan
    relaxations: pd.DataFrame  # smallest relaxation restoring the rules, £m by rule and year
    value_paths: pd.DataFrame  # discounted mission value by year (fan chart)
    timings_s: dict = field(default_factory=dict)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"replan": self.replans, "absorption": self.absorption, "rules": self.rules,
                "relaxations": self.relaxations, "value_paths": self.value_paths}

    def summary(self) -> dict:
        r = self.replans
        ok = r[r["status"] == "optimal"]
        worst = ok.sort_values("loss", ascending=False).head(1)
        return {
            "base_objective": self.base_objective,
            "scenarios": int(len(r)),
            "infeasible_scenarios": int((r["status"] == "infeasible").sum()),
            "worst": worst[["event", "trigger_year", "severity", "loss"]].to_dict(orient="records"),
            "mean_loss_by_event": ok.groupby("event")["loss"].mean().round(6).to_dict(),
        }


#: changes smaller than this share of the base plan's horizon cash (at least £1,000) are
#: round-off of the solves (the unique plan holds value to 1e-9 relative), not absorption
ROUND_OFF_SHARE = 1e-8

def _year_index(instance: Instance, label: str) -> int:
    return parse_year_label(label) - parse_year_label(instance.years[0])


def analyse_triggers(instance: Instance, events, *, years: list[str] | None = None,
                     severity_multipliers: list[float] | None = None,
                     session: ModelSession | None = None, explain: bool = True,
                     closest: bool = True, progress=None) -> TriggerAnalysis:
    """Re-plan after every event × trigger year × severity multiplier.

    ``events``: an :class:`EventsFile`, a path to an events YAML file, or a list of events.
    ``years`` and ``severity_multipliers`` override the file's ``replan`` grid. Returns a
    :class:`TriggerAnalysis` whose tables say what each shock costs, who absorbs it and
    which rules still hold (or how much relaxation they would need).

    Example: department A's demand rises by 20% from 2027-28 on the tiny instance; the
    re-plan keeps 2026-27 as settled and loses 27 points of mission value at full severity.

    >>> from allocator import analyse_triggers, load_instance, tiny_instance_path
    >>> events = {"events": [{"id": "cut", "kind": "demand_shock", "department": "A",
    ...                       "year": "2027-28", "severity": 0.2, "duration": 2}],
    ...           "replan": {"years": ["2027-28"], "severity_multipliers": [0, 1]},
    ...           "tree": {"trigger_year": "2027-28", "scenarios": [
    ...               {"id": "no_event", "probability": 0.7, "events": []},
    ...               {"id": "cut", "probability": 0.3, "events": ["cut"]}]}}
    >>> ta = analyse_triggers(load_instance(tiny_instance_path()), events)
    >>> ta.replans[["severity_multiplier", "loss"]].values.tolist()
    [[0.0, 0.0], [1.0, 27.0]]
    """
    import time

    instance = to_gbp_m(instance)  # analyses run, and report, in £m whatever the money_unit
    ev = as_events(events, instance)
    grid = ev.replan
    horizon = instance.years
    trig_years = years or grid.years or horizon
    mults = severity_multipliers if severity_multipliers is not None else grid.severity_multipliers
    chosen = [e for e in ev.events if grid.events is None or e.id in grid.events]
    t_start = time.perf_counter()
    s = session or ModelSession(instance)
    s.reset()
    model, md = s.model, s.model.data
    base = s.solve()
    if base.x is None:
        from allocator.errors import AllocatorError

        raise AllocatorError(f"the base plan of {instance.settings.name} is {base.status}; "
                             "solve it first (allocator solve) to see why")
    x0, v0 = base.x, base.objective
    base_fiscal = {k: v.copy() for k, v in md.fiscal.items()}
    L0, Q0, MF0 = settlement_limits(model, x0), programme_cash(model, x0), mission_fund_cash(model, x0)
    round_off = max(1e-3, ROUND_OFF_SHARE * float(np.abs(Q0).sum()))
    path0 = value_by_year(model, x0)
    prox = ProximalPlan(s, x0) if closest else None
    T = md.T
    rows, absorb, rules, relax, paths = [], [], [], [], []
    units = [(e, y, m) for e in chosen for y in trig_years for m in mults]
    for i, (e, y, m) in enumerate(units):
        shock = e.scaled(m, y)
        t0 = _year_index(instance, y)
        new = apply_events(base_fiscal, [shock], horizon, instance)
        s.set_fiscal(**{k: v for k, v in new.items() if k != "deflator"})
        base_holds = family_holds(s, x0)
        s.fix_years(min(max(t0, 0), T), x0)
        q = s.solve()
        key = dict(event=e.id, kind=e.kind, trigger_year=y, severity_multiplier=m,
                   severity=shock.severity)
        relax_total = 0.0
        if q.x is not None:
            x = q.x
            if prox is not None:
                xp = prox.solve(s.last)
                x = q.x if xp is None else xp
            holds = family_holds(s, x)
            loss = v0 - q.objective
            if abs(loss) <= 1e-9 * max(1.0, abs(v0)):
                loss = 0.0  # solver round-off, not a loss
            L, Q, MF = settlement_limits(model, x), programme_cash(model, x), mission_fund_cash(model, x)
            after = slice(max(t0, 0), T)
            dL = (L - L0)[:, :, after].sum(axis=2)
            for d, dep in enumerate(md.departments):
                for c in range(2):
                    if abs(dL[d, c]) > round_off:
                        absorb.append(dict(key, level="department", name=dep, category=CATEGORIES[c],
                                           change_gbp_m=dL[d, c]))
            dMF = float((MF - MF0)[after].sum())
            if abs(dMF) > round_off:
                absorb.append(dict(key, level="department", name="mission_fund", category="",
                                   change_gbp_m=dMF))
            dQ = (Q - Q0)[:, after].sum(axis=1)
            for p in np.flatnonzero(np.abs(dQ) > round_off):
                absorb.append(dict(key, level="programme", name=md.programmes[p],
                                   category=CATEGORIES[md.prog_category[p]], change_gbp_m=dQ[p]))
            path = value_by_year(model, x)
            for t, v in enumerate(path):
                paths.append(dict(key, year_index=t, value=v, cumulative_value=float(path[:t + 1].sum()),
                                  base_value=path0[t], base_cumulative_value=float(path0[:t + 1].sum())))
        else:
            holds = {f: (None if base_holds[f] is None else False) for f in RULE_FAMILIES}
            loss = None
            if explain and q.status == "infeasible":
                rep = explain_infeasibility(LPView(s))
                if rep is not None:
                    relax_total = rep.total_relaxation_gbp_m
                    failing = set(rep.relaxations["family"])
                    holds = {f: (None if base_holds[f] is None else f not in failing)
                             for f in RULE_FAMILIES}
                    for r in rep.relaxations.itertuples():
                        relax.append(dict(key, rule=r.family, year=r.year, subject=r.subject,
                                          category=r.category, direction=r.direction,
                                          relaxation_gbp_m=r.relaxation_gbp_m))
        for f in RULE_FAMILIES:
            rules.append(dict(key, rule=f, enforced=base_holds[f] is not None,
                              base_plan_holds=base_holds[f], replan_holds=holds[f]))
        rows.append(dict(key, status=q.status, objective=q.objective, loss=loss,
                         loss_pct=(100.0 * loss / abs(v0) if loss is not None and v0 else None),
                         base_plan_holds_rules=all(v for v in base_holds.values() if v is not None),
                         relaxation_gbp_m=relax_total, solve_s=q.solve_s))
        if progress is not None:
            progress(i + 1, len(units))
    s.reset()
    key_cols = ["event", "kind", "trigger_year", "severity_multiplier", "severity"]
    yl = _value_year_labels(instance, len(path0))
    vp = pd.DataFrame(paths, columns=key_cols + ["year_index", "value", "cumulative_value",
                                                 "base_value", "base_cumulative_value"])
    vp.insert(len(key_cols), "year", vp["year_index"].map(dict(enumerate(yl))))
    return TriggerAnalysis(
        instance_name=instance.settings.name, weights_kind=instance.settings.weights.kind,
        base_objective=v0,
        replans=pd.DataFrame(rows, columns=REPLAN_COLUMNS),
        absorption=pd.DataFrame(absorb, columns=key_cols + ["level", "name", "category",
                                                            "change_gbp_m"]),
        rules=pd.DataFrame(rules, columns=key_cols + ["rule", "enforced", "base_plan_holds",
                                                      "replan_holds"]),
        relaxations=pd.DataFrame(relax, columns=key_cols + ["rule", "year", "subject", "category",
                                                            "direction", "relaxation_gbp_m"]),
        value_paths=vp.drop(columns="year_index"),
        timings_s={"total": round(time.perf_counter() - t_start, 6), "solves": len(units) + 1},
    )


def _value_year_labels(instance: Instance, n: int) -> list[str]:
    from allocator.schema import year_label

    first = parse_year_label(instance.years[0])
    return [year_label(first + t) for t in range(n)]


__all__ = ["analyse_triggers", "TriggerAnalysis", "EventsFile"]
