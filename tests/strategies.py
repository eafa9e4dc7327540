"""Hypothesis strategies: valid allocation instances of random shape, and ways to break them.

``instances()`` draws a valid :class:`Instance` (money in £m): 1-5 years, 1-4 departments,
1-3 missions, 1-8 programmes with random owners, categories, PIE and Mission Fund flags,
floors, caps, ramps, invest-to-save rates, concave response curves of 0-3 segments, lag
profiles, random fiscal tables, both modes, random constraint switches, settlement
profiles, spending-review periods, rule target years and discounting.
"""

from __future__ import annotations

from hypothesis import strategies as st

from allocator.schema import Instance, year_label

money = st.floats(min_value=0.0, max_value=1000.0, allow_nan=False).map(lambda x: round(x, 3))
pos_money = st.floats(min_value=0.5, max_value=1000.0, allow_nan=False).map(lambda x: round(x, 3))
share = st.floats(min_value=0.0, max_value=1.0).map(lambda x: round(x, 4))


@st.composite
def instances(draw) -> Instance:
    T = draw(st.integers(1, 5))
    years = [year_label(2026 + i) for i in range(T)]
    D = draw(st.integers(1, 4))
    depts = [dict(id=f"D{d}", name=f"Department {d}", rdel_baseline_gbp_m=draw(money),
                  cdel_baseline_gbp_m=draw(money),
                  real_floor=draw(st.sampled_from([0.0, 0.0, 0.5, 0.9, 1.0])),
                  pie_floor_gbp_m=draw(st.sampled_from([0.0, 0.0, 5.0, 20.0])))
             for d in range(D)]
    M = draw(st.integers(1, 3))
    missions = [dict(id=f"m{m}", name=f"Mission {m}", metric=f"metric {m}", metric_unit="points",
                     baseline_value=draw(st.floats(-100, 100).map(lambda x: round(x, 2))),
                     higher_is_better=draw(st.booleans()),
                     weight=draw(st.floats(0.0, 50.0).map(lambda x: round(x, 3))),
                     discount_rate=draw(st.sampled_from([None, None, 0.015, 0.0])))
                for m in range(M)]
    n_prof = draw(st.integers(1, 3))
    lags = []
    for k in range(n_prof):
        n_lag = draw(st.integers(1, 3))
        ws = draw(st.lists(st.floats(0.0, 1.0), min_size=n_lag, max_size=n_lag))
        total = sum(ws) or 1.0
        scale = draw(st.floats(0.3, 1.0)) / max(total, 1.0)
        lag_ids = draw(st.lists(st.integers(0, 4), min_size=n_lag, max_size=n_lag, unique=True))
        for lag, w in zip(lag_ids, ws):
            lags.append(dict(profile=f"L{k}", lag=lag, weight=round(w * scale * 0.999, 4)))
    P = draw(st.integers(1, 8))
    progs, segs = [], []
    for p in range(P):
        owners = draw(st.lists(st.sampled_from([d["id"] for d in depts]), min_size=1, max_size=2,
                               unique=True))
        floor = draw(st.sampled_from([0.0, 0.0, draw(money) / 10]))
        cap = draw(st.sampled_from([None, floor + draw(money)]))
        progs.append(dict(
            id=f"p{p}", name=f"Programme {p}", owners=owners,
            category=draw(st.sampled_from(["resource", "capital"])), pie=draw(st.booleans()),
            mission_fund_eligible=draw(st.booleans()), baseline_gbp_m=draw(money) / 4,
            floor_gbp_m=round(floor, 3), cap_gbp_m=None if cap is None else round(cap, 3),
            ramp_limit_gbp_m=draw(st.sampled_from([None, None, 5.0, 50.0])),
            lag_profile=f"L{draw(st.integers(0, n_prof - 1))}",
            ame_saving_per_gbp_m=draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))))
        n_seg = draw(st.integers(0, 3))
        widths = [draw(pos_money) / 5 for _ in range(n_seg)]
        for m in draw(st.lists(st.sampled_from([x["id"] for x in missions]), min_size=1 if n_seg else 0,
                               max_size=M, unique=True)) if n_seg else []:
            gains = sorted((draw(st.floats(0.0, 5.0).map(lambda x: round(x, 4)))
                            for _ in range(n_seg)), reverse=True)
            for k, (w, g) in enumerate(zip(widths, gains), start=1):
                segs.append(dict(programme=f"p{p}", mission=m, segment=k, width_gbp_m=round(w, 3),
                                 gain_per_gbp_m=g))
    base_del = sum(d["rdel_baseline_gbp_m"] + d["cdel_baseline_gbp_m"] for d in depts)
    fiscal, defl = [], 1.0
    for t, y in enumerate(years):
        gdp = 10_000 + 300 * t
        fiscal.append(dict(
            year=y, gdp_gbp_m=gdp, receipts_gbp_m=draw(st.floats(3000, 6000).map(round)),
            ame_current_gbp_m=draw(st.floats(1000, 3000).map(round)),
            welfare_capped_gbp_m=draw(st.floats(100, 500).map(round)),
            welfare_cap_gbp_m=draw(st.floats(100, 600).map(round)),
            ame_capital_gbp_m=draw(st.floats(0, 200).map(round)),
            depreciation_gbp_m=draw(st.floats(0, 100).map(round)),
            other_psnfl_flows_gbp_m=draw(st.floats(-50, 50).map(round)),
            deflator=round(defl, 4),
            rdel_envelope_gbp_m=round(draw(st.floats(0.2, 2.0)) * (base_del + 100), 2),
            cdel_envelope_gbp_m=round(draw(st.floats(0.2, 2.0)) * (base_del / 3 + 50), 2)))
        defl *= draw(st.floats(1.0, 1.05))
    cuts = sorted(draw(st.lists(st.integers(1, max(1, T - 1)), max_size=2, unique=True))) if T > 1 else []
    bounds = [0, *[c for c in cuts if 0 < c < T], T]
    periods = [dict(id=f"SR{i}", start=years[a], end=years[b - 1])
               for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]
    switches = {k: draw(st.booleans()) for k in (
        "programme_floors", "programme_caps", "ramp_limits", "settlements", "department_real_floor",
        "del_envelope", "pie_department_floor", "pie_share", "mission_fund", "welfare_cap",
        "stability_rule", "investment_rule")}
    targets = draw(st.lists(st.sampled_from(years), unique=True, max_size=T))
    fundable = any(q["mission_fund_eligible"] or len(q["owners"]) > 1 for q in progs)
    settings = dict(
        name="fuzz", horizon=dict(start_year=years[0], years=T),
        mode=draw(st.sampled_from(["envelope", "fiscal"])),
        discounting=dict(rate=draw(st.sampled_from([0.0, 0.035, 0.1]))),
        weights=dict(kind=draw(st.sampled_from(["monetised", "priority"]))),
        missions=missions, spending_reviews=periods,
        settlement_profile=draw(st.sampled_from(["annual", "flat_real"])),
        constraints=switches,
        pie=dict(share_start=draw(st.sampled_from([0.0, 0.05, 0.2])),
                 share_increase_per_year=draw(st.sampled_from([0.0, 0.01]))),
        # a minimum needs a share above 0 and a programme to fund (the contradictions are
        # refused: issue 10)
        mission_fund=draw(st.sampled_from([0.0, 0.05, 0.3]).flatmap(
            lambda share: st.sampled_from([0.0, 0.0, 5.0] if share > 0 and fundable else [0.0]).map(
                lambda mn: dict(max_share_of_del=share, min_gbp_m=mn)))),
        fiscal_rules=dict(psnfl_initial_gbp_m=draw(st.floats(0, 9000).map(round)),
                          gdp_initial_gbp_m=9_800,
                          headroom_gbp_m=draw(st.sampled_from([0.0, 10.0])),
                          stability_rule=dict(target_years=targets,
                                              required_margin_gbp_m=draw(st.sampled_from([-2000.0, 0.0]))),
                          investment_rule=dict(target_years=targets),
                          welfare_cap_years=draw(st.sampled_from([None, targets]))),
    )
    return Instance.model_validate(dict(settings=settings, departments=depts, programmes=progs,
                                        segments=segs, lag_profiles=lags, fiscal=fiscal))


units = st.sampled_from(["gbp_m", "gbp_bn", "gbp"])
