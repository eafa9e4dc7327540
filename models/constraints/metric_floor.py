"""Floors on comprehensive metrics (family ``metric_floor``).

    baseline_c + Σ_{(p, κ, basis) ∈ terms_c} κ (z[p,t] − b_p) >= floor_c
                                        every metric c with a floor, every t from floor_from_c

with z = q (real spend; basis ``real_spend``) or z = e = (q + v) / Λ (effective activity per
unit of need; basis ``activity``), in the metric's own units (e.g. police officers, an
index of hospital activity per unit of need). A way to hold an input or output line (a
workforce number, a service level) while the optimiser maximises the core metrics.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..family import Family, Rows


def _floors(inst):
    years = inst.settings.horizon.labels
    for cm in inst.settings.comprehensive_metrics:
        if cm.floor is None:
            continue
        start = years.index(cm.floor_from) if cm.floor_from is not None else 0
        yield cm, start


def add(model) -> None:
    md, e, inst = model.data, model.expr, model.instance
    if not inst.settings.constraints.metric_floors:
        return
    pos = {p: i for i, p in enumerate(md.programmes)}
    blocks, lo, labels = [], [], []
    for cm, start in _floors(inst):
        ts = np.arange(start, md.T)
        A = None
        const = cm.baseline_value
        for term in cm.terms:
            p = pos[term.programme]
            src = e.q if term.basis == "real_spend" else e.activity
            part = term.per_gbp_m * src[p * md.T + ts]
            A = part if A is None else A + part
            const -= term.per_gbp_m * md.prog_baseline[p]
        blocks.append(A)
        lo.append(np.full(len(ts), cm.floor - const))
        labels.append(pd.DataFrame({"year": [md.years[t] for t in ts], "subject": cm.id}))
    if blocks:
        model.lp.add_constraints("metric_floor", sp.vstack(blocks).tocsr(), np.concatenate(lo),
                                 np.inf, pd.concat(labels, ignore_index=True))


def check(c, plan) -> None:
    """The metric recomputed from real spend (allocations), avoided demand and the pressure
    index (PlanFacts), against its floor."""
    if not plan.on.metric_floors:
        return
    for cm, start in _floors(plan.inst):
        for t in range(start, plan.T):
            value, scale = cm.baseline_value, abs(cm.baseline_value)
            for term in cm.terms:
                q = plan.q[term.programme][t]
                z = q if term.basis == "real_spend" else \
                    (q + plan.avoided[term.programme][t]) / plan.pressure[term.programme][t]
                b = plan.progs[term.programme].baseline_gbp_m
                value += term.per_gbp_m * (z - b)
                scale += abs(term.per_gbp_m) * (abs(z) + b)
            c.ge("metric_floor", plan.years[t], cm.id, value, cm.floor, scale, 20 * len(cm.terms),
                 lambda: f"{cm.name} is {value:.6f}, below its floor {cm.floor}")


def _binding(inst):
    """For the tamper test: a police-officer floor (uk_missions) or a floor on the tiny
    instance's a1 spend, each just above the optimum's value in the last year."""
    from allocator.api import solve
    from allocator.schema import ComprehensiveMetric, MetricTerm

    d = inst.model_copy(deep=True)
    if any(p.id == "police_core" for p in d.programmes):
        terms = [MetricTerm(programme="police_core", per_gbp_m=13.477)]
        name, base = "police officers", 146442.0
    elif any(p.id == "a1" for p in d.programmes):
        terms = [MetricTerm(programme="a1", per_gbp_m=1.0)]
        name, base = "a1 real spend", 0.0
    else:
        return None
    cm = ComprehensiveMetric(id="tamper_floor", mission=d.settings.missions[0].group, name=name,
                             unit="units", kind="input", baseline_value=base, terms=terms)
    d.settings.comprehensive_metrics = [cm]
    m = solve(d, explain=False).tables["metrics"]
    top = float(m[m.metric == "tamper_floor"]["value"].iloc[-1])
    d.settings.comprehensive_metrics = [cm.model_copy(update={"floor": top * 1.001 + 1.0,
                                                              "floor_from": d.years[-1]})]
    return type(inst).model_validate(d.model_dump())


FAMILY = Family(
    module=__name__, order=16, add=add, check=check, tamper=_binding,
    rows=(Rows("metric_floor", "comprehensive-metric floors",
               "the floor on {subject} in {year}", "lowered by", test="deliverability", sense=">=",
               unit="metric units", switch="metric_floors"),))
