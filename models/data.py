"""Arrays derived from an instance: everything the model builders index into.

Notation (see docs/formulation.md): years t = 0..T-1 (year 1 of the horizon is t = 0),
programmes p, missions m, departments d, categories c ∈ {resource, capital}, response
*pieces* i (the segments of each programme plus one tail piece: zero gain, or the last
segment's gain for a mission it harms), lags k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.schema import Instance

CATEGORIES = ("resource", "capital")


def discount_factors(rate: float, rate_after_30: float, rate_after_75: float, n: int,
                     flat: bool) -> np.ndarray:
    """δ_n for n = 0..n-1 years after the price base: Π_{j<n} 1/(1+r_j), with the Green Book
    step-down of r_j after 30 and 75 years unless ``flat``."""
    years = np.arange(n)
    r = np.full(n, rate)
    if not flat:
        r = np.where(years >= 30, rate_after_30, r)
        r = np.where(years >= 75, rate_after_75, r)
    growth = np.concatenate([[1.0], np.cumprod(1.0 + r[:-1])]) if n else np.zeros(0)
    return 1.0 / growth


def persistence_factors(T: int, n: int, fade: float, years: int | None) -> np.ndarray:
    """θ_t for t = 0..n-1: 1 inside the horizon (t < T); (1 − fade)^(t − T + 1) for an effect
    landing t − T + 1 years after it; 0 once t − T + 1 exceeds ``years`` (truncation)."""
    t = np.arange(n)
    s = np.maximum(t - T + 1, 0)
    theta = np.where(t < T, 1.0, (1.0 - fade) ** s)
    if years is not None:
        theta = np.where(s > years, 0.0, theta)
    return theta


def pressure_index(inst: Instance, years: list[str]) -> np.ndarray:
    """Λ[p,t] = Π_{1<=j<=t} (1 + g[p,j]) with g[p,j] the pressures.csv growth covering year j
    (0 where none): the real spend needed in year t to buy programme p's first-year service
    per head of need, per real £m of first-year spend. Λ[p,0] = 1."""
    pos = {y: t for t, y in enumerate(years)}
    pid = {p.id: i for i, p in enumerate(inst.programmes)}
    g = np.zeros((len(inst.programmes), len(years)))
    for r in inst.pressures:
        g[pid[r.programme], pos[r.first_year]:pos[r.last_year] + 1] += r.growth_per_year
    return np.cumprod(1.0 + g, axis=1)


@dataclass
class ModelData:
    years: list[str]
    T: int
    deflator: np.ndarray  # (T,)  π_t
    programmes: list[str]
    prog_category: np.ndarray  # (P,) 0 resource / 1 capital
    prog_pie: np.ndarray  # (P,) bool
    prog_mf: np.ndarray  # (P,) bool: Mission Fund may fund
    prog_owners: list[list[int]]
    prog_baseline: np.ndarray  # (P,) real £m
    prog_floor: np.ndarray
    prog_cap: np.ndarray  # inf where none
    prog_ramp: np.ndarray  # inf where none
    prog_ame_saving: np.ndarray
    lag: np.ndarray  # (P, K+1)
    departments: list[str]
    dept_baseline: np.ndarray  # (D, 2) cash year 1
    dept_real_floor: np.ndarray  # (D,)
    dept_pie_floor: np.ndarray  # (D,) real £m
    missions: list[str]
    weight: np.ndarray  # (M,)
    delta: np.ndarray  # (M, T+K) discount factors × persistence θ_t
    piece_prog: np.ndarray  # (N,)
    piece_seg: np.ndarray  # (N,) segment number, 0 for the tail piece
    piece_width: np.ndarray  # (N,) inf for the tail
    piece_gain: np.ndarray  # (N, M) metric units per real £m
    piece_baseline_fill: np.ndarray  # (N,) real £m of the baseline spend on each piece
    periods: list[tuple[str, int, int]]  # (id, first t, last t) — settlement periods
    period_of_year: np.ndarray  # (T,)
    fiscal: dict  # column -> (T,) array, cash £m
    pressure: np.ndarray  # (P, T) Λ: pressure index, 1 in the first year
    prog_demand_floor: np.ndarray  # (P,) real £m at first-year demand, nan where none
    its_source: np.ndarray  # (R,) invest-to-save rows: saving programme
    its_target: np.ndarray  # (R,) programme whose demand falls
    its_saving: np.ndarray  # (R,) real £m avoided per real £m above baseline
    its_targets: np.ndarray  # (V,) distinct targets, in programme order (avoided-demand columns)
    persistence: np.ndarray  # (T+K,) θ_t, folded into delta

    @property
    def P(self) -> int:
        return len(self.programmes)

    @property
    def D(self) -> int:
        return len(self.departments)

    @property
    def M(self) -> int:
        return len(self.missions)

    @property
    def K(self) -> int:
        return self.lag.shape[1] - 1


def model_data(inst: Instance) -> ModelData:
    s = inst.settings
    years = s.horizon.labels
    T = len(years)
    fy = {f.year: f for f in inst.fiscal}
    rows = [fy[y] for y in years]
    cols = ["gdp_gbp_m", "receipts_gbp_m", "ame_current_gbp_m", "welfare_capped_gbp_m",
            "welfare_cap_gbp_m", "debt_interest_gbp_m", "ame_capital_gbp_m", "depreciation_gbp_m",
            "other_psnfl_flows_gbp_m", "deflator", "rdel_envelope_gbp_m", "cdel_envelope_gbp_m"]
    fiscal = {c: np.array([np.nan if getattr(r, c) is None else getattr(r, c) for r in rows],
                          dtype=float) for c in cols}

    dept_ids = [d.id for d in inst.departments]
    dpos = {d: i for i, d in enumerate(dept_ids)}
    progs = inst.programmes
    P = len(progs)
    ppos = {p.id: i for i, p in enumerate(progs)}
    lag_map: dict[str, dict[int, float]] = {}
    for lw in inst.lag_profiles:
        lag_map.setdefault(lw.profile, {})[lw.lag] = lw.weight
    K = max((max(v) for v in lag_map.values()), default=0)
    lag = np.zeros((P, K + 1))
    for i, p in enumerate(progs):
        for k, w in lag_map[p.lag_profile].items():
            lag[i, k] = w

    missions = [m.id for m in s.missions]
    mpos = {m: i for i, m in enumerate(missions)}
    M = len(missions)
    dsc = s.discounting
    theta = persistence_factors(T, T + K, s.persistence.terminal_fade_per_year,
                                s.persistence.terminal_years)
    delta = np.vstack([
        discount_factors(m.discount_rate if m.discount_rate is not None else dsc.rate,
                         dsc.rate_after_30, dsc.rate_after_75, T + K,
                         flat=m.discount_rate is not None) * theta
        for m in s.missions])

    # response pieces: each programme's segments in order, then the tail
    seg_by_prog: dict[str, dict[int, tuple[float, np.ndarray]]] = {}
    for seg in inst.segments:
        d = seg_by_prog.setdefault(seg.programme, {})
        w, g = d.get(seg.segment, (seg.width_gbp_m, np.zeros(M)))
        g = g.copy()
        g[mpos[seg.mission]] = seg.gain_per_gbp_m
        d[seg.segment] = (w, g)
    piece_prog, piece_seg, piece_width, piece_gain, piece_fill = [], [], [], [], []
    for i, p in enumerate(progs):
        used = 0.0
        for k in sorted(seg_by_prog.get(p.id, {})):
            w, g = seg_by_prog[p.id][k]
            piece_prog.append(i); piece_seg.append(k); piece_width.append(w); piece_gain.append(g)
            piece_fill.append(min(w, max(0.0, p.baseline_gbp_m - used)))
            used += w
        # the tail: zero gain, except that a harm (negative last-segment gain) goes on at the
        # last segment's rate, so the chain stays non-increasing per mission (docs §4)
        last = piece_gain[-1] if piece_prog and piece_prog[-1] == i else np.zeros(M)
        piece_prog.append(i); piece_seg.append(0); piece_width.append(np.inf)
        piece_gain.append(np.minimum(last, 0.0)); piece_fill.append(max(0.0, p.baseline_gbp_m - used))

    # settlement periods: one settlement variable per spending review when the profile is
    # flat in real terms; otherwise every year has its own limit (annual profile)
    if s.settlement_profile == "flat_real":
        pos = {y: t for t, y in enumerate(years)}
        periods = [(per.id, pos[per.start], pos[per.end]) for per in s.spending_reviews]
    else:
        periods = [(y, t, t) for t, y in enumerate(years)]
    period_of_year = np.zeros(T, dtype=int)
    for k, (_, a, b) in enumerate(periods):
        period_of_year[a:b + 1] = k

    return ModelData(
        years=years, T=T, deflator=fiscal["deflator"],
        programmes=[p.id for p in progs],
        prog_category=np.array([CATEGORIES.index(p.category) for p in progs], dtype=int),
        prog_pie=np.array([p.pie for p in progs], dtype=bool),
        prog_mf=np.array([p.mission_fund_can_fund for p in progs], dtype=bool),
        prog_owners=[[dpos[o] for o in p.owners] for p in progs],
        prog_baseline=np.array([p.baseline_gbp_m for p in progs], dtype=float),
        prog_floor=np.array([p.floor_gbp_m for p in progs], dtype=float),
        prog_cap=np.array([np.inf if p.cap_gbp_m is None else p.cap_gbp_m for p in progs]),
        prog_ramp=np.array([np.inf if p.ramp_limit_gbp_m is None else p.ramp_limit_gbp_m
                            for p in progs]),
        prog_ame_saving=np.array([p.ame_saving_per_gbp_m for p in progs], dtype=float),
        lag=lag,
        departments=dept_ids,
        dept_baseline=np.array([[d.rdel_baseline_gbp_m, d.cdel_baseline_gbp_m]
                                for d in inst.departments], dtype=float),
        dept_real_floor=np.array([d.real_floor for d in inst.departments], dtype=float),
        dept_pie_floor=np.array([d.pie_floor_gbp_m for d in inst.departments], dtype=float),
        missions=missions,
        weight=np.array([m.weight for m in s.missions], dtype=float),
        delta=delta,
        piece_prog=np.array(piece_prog, dtype=int),
        piece_seg=np.array(piece_seg, dtype=int),
        piece_width=np.array(piece_width, dtype=float),
        piece_gain=np.array(piece_gain, dtype=float).reshape(-1, M),
        piece_baseline_fill=np.array(piece_fill, dtype=float),
        periods=periods, period_of_year=period_of_year, fiscal=fiscal,
        pressure=pressure_index(inst, years),
        prog_demand_floor=np.array([np.nan if p.demand_floor_gbp_m is None else p.demand_floor_gbp_m
                                    for p in progs], dtype=float),
        its_source=np.array([ppos[r.programme] for r in inst.invest_to_save], dtype=int),
        its_target=np.array([ppos[r.target] for r in inst.invest_to_save], dtype=int),
        its_saving=np.array([r.saving_per_gbp_m for r in inst.invest_to_save], dtype=float),
        its_targets=np.array(sorted({ppos[r.target] for r in inst.invest_to_save}), dtype=int),
        persistence=theta,
    )
