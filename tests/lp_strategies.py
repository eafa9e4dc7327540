"""Hypothesis strategies: small random but valid allocation instances built in memory."""

from __future__ import annotations

from hypothesis import strategies as st

from allocator.schema import (Department, FiscalYear, Instance, InstanceSettings, LagWeight, Mission,
                              Programme, Segment)


@st.composite
def small_instances(draw, n_missions: int = 1, zero_weight_mission: bool = False):
    T = draw(st.integers(2, 4))
    P = draw(st.integers(2, 5))
    years = [f"{2026 + i}-{(27 + i) % 100:02d}" for i in range(T)]
    missions = []
    for m in range(n_missions):
        w = 0.0 if (zero_weight_mission and m == n_missions - 1) else draw(st.floats(0.5, 3.0))
        missions.append(Mission(id=f"m{m}", name=f"m{m}", metric="index", metric_unit="pts",
                                baseline_value=0.0, weight=w))
    depts = [Department(id="A", name="A", rdel_baseline_gbp_m=50, cdel_baseline_gbp_m=0),
             Department(id="B", name="B", rdel_baseline_gbp_m=50, cdel_baseline_gbp_m=0)]
    progs, segs = [], []
    for p in range(P):
        floor = draw(st.sampled_from([0.0, 0.0, 1.0, 3.0]))
        progs.append(Programme(id=f"p{p}", name=f"p{p}", owners=[draw(st.sampled_from(["A", "B"]))],
                               category="resource", baseline_gbp_m=draw(st.sampled_from([0.0, 2.0, 5.0])),
                               floor_gbp_m=floor, lag_profile=draw(st.sampled_from(["now", "later"]))))
        n_seg = draw(st.integers(1, 3))
        for m in range(n_missions):
            if n_missions > 1 and draw(st.booleans()) and m > 0:
                continue
            g = draw(st.floats(0.1, 5.0))
            for s in range(1, n_seg + 1):
                segs.append(Segment(programme=f"p{p}", mission=f"m{m}", segment=s,
                                    width_gbp_m=[4.0, 3.0, 5.0][s - 1], gain_per_gbp_m=g))
                g *= draw(st.floats(0.2, 1.0))
    env = draw(st.floats(5.0, 40.0))
    fiscal = [FiscalYear(year=y, gdp_gbp_m=1000, receipts_gbp_m=400, ame_current_gbp_m=300,
                         welfare_capped_gbp_m=100, welfare_cap_gbp_m=150, deflator=1.0 + 0.02 * i,
                         rdel_envelope_gbp_m=env * (1 + 0.02 * i), cdel_envelope_gbp_m=0.0)
              for i, y in enumerate(years)]
    settings = InstanceSettings(
        name="random", horizon={"start_year": years[0], "years": T}, missions=missions,
        spending_reviews=[{"id": "all", "start": years[0], "end": years[-1]}],
        constraints={"stability_rule": False, "investment_rule": False, "welfare_cap": False,
                     "pie_share": False, "department_real_floor": False},
        fiscal_rules={"psnfl_initial_gbp_m": 100.0, "gdp_initial_gbp_m": 1000.0})
    lags = [LagWeight(profile="now", lag=0, weight=1.0), LagWeight(profile="later", lag=0, weight=0.3),
            LagWeight(profile="later", lag=2, weight=0.6)]
    return Instance(settings=settings, departments=depts, programmes=progs, segments=segs,
                    lag_profiles=lags, fiscal=fiscal)


def with_fiscal(inst: Instance, **scale_by_column) -> Instance:
    data = inst.model_dump()
    for row in data["fiscal"]:
        for col, f in scale_by_column.items():
            row[col] = f(row[col])
    return Instance.model_validate(data)


MONEY_FIELDS = {
    "departments": ["rdel_baseline_gbp_m", "cdel_baseline_gbp_m", "pie_floor_gbp_m"],
    "programmes": ["baseline_gbp_m", "floor_gbp_m", "cap_gbp_m", "ramp_limit_gbp_m"],
    "segments": ["width_gbp_m"],
    "fiscal": ["gdp_gbp_m", "receipts_gbp_m", "ame_current_gbp_m", "welfare_capped_gbp_m",
               "welfare_cap_gbp_m", "debt_interest_gbp_m", "ame_capital_gbp_m", "depreciation_gbp_m",
               "other_psnfl_flows_gbp_m", "rdel_envelope_gbp_m", "cdel_envelope_gbp_m"],
}


def scale_money(inst: Instance, k: float) -> Instance:
    """Every money figure × k; gains per £m ÷ k (so a £m buys the same metric change per unit of
    the new money) and weights unchanged: the plan scales by k, the objective is unchanged."""
    data = inst.model_dump()
    for table, cols in MONEY_FIELDS.items():
        for row in data[table]:
            for c in cols:
                if row.get(c) is not None:
                    row[c] *= k
    for row in data["segments"]:
        row["gain_per_gbp_m"] /= k
    fr = data["settings"]["fiscal_rules"]
    for c in ("psnfl_initial_gbp_m", "gdp_initial_gbp_m", "headroom_gbp_m"):
        fr[c] *= k
    fr["stability_rule"]["required_margin_gbp_m"] *= k
    data["settings"]["mission_fund"]["min_gbp_m"] *= k
    return Instance.model_validate(data)
