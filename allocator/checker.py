"""Independent feasibility check of a plan: recompute every rule from the result tables.

The solver's word is not taken for anything. Starting only from the instance and the
plan's result tables (``allocations``, ``departments``, ``fiscal``; all money in £m), this
module recomputes each constraint family with its own arithmetic (no LP matrix, no model
code) and lists every violation:

    q[p,t]   = Σ real_spend over the programme's allocation rows        (real £m)
    cash     : spend = π_t · real_spend on every row, spend >= 0
    funding  : department rows name an owner; Mission Fund rows only for eligible
               programmes (two or more owners, or flagged) and only when the Fund is on
    programme_floor / programme_cap:  floor_p <= q[p,t] <= cap_p
    ramp_limit: |q[p,0] − b_p| <= R_p, |q[p,t] − q[p,t−1]| <= R_p
    settlement: Σ department-funded spend[d,c,t] <= L[d,c,t]; = when settlements are off, in
                fiscal mode or in a year without that envelope, except Barnett-determined limits
                L >= 0; with flat_real settlements L[d,c,t]/π_t is flat within each period
    department_real_floor: L[d,R,t] + L[d,C,t] >= f_d (B_d^R + B_d^C) π_t
    del_envelope: Σ_d L[d,c,t] + MF[c,t] <= E[c,t] in years with an envelope figure (without
                  one, settlement rows are equalities except for Barnett-determined departments)
    pie_department_floor: PIE spend funded by d >= φ_d π_t
    pie_share: Σ_{PIE} π_t q − σ_t Σ π_t q >= 0
    mission_fund_size / _minimum: Σ MF_t <= share · Σ π_t q;  Σ MF_t >= G_min
    settled_total: L[d,c,t] = V[d,c,t] for settled figures (not Barnett-determined departments)
    committed_path: L[d,R,t] + L[d,C,t] >= K[d,t]
    barnett: L[n,c,t] − Ref[n,c,t] = Σ_d cf·pp (L[d,c,t] + MF[d,c,t] − Ref[d,c,t]), Ref the
             settled figure, else the last settled figure (or year-1 baseline) held flat real,
             MF the Mission Fund spend on programmes whose first owner is d (>= with flat_real)
    sav_t = Σ_p a_p π_t Σ_τ ℓ_p[t−τ] (q[p,τ] − b_p)
    welfare_cap: W_t − sav_t <= cap_t (1 + margin), in years with a cap figure
    ΔDI_t = ι (N_{t−1} − N^f_{t−1}) (0 in the first year; ι = 0 with the feedback off)
    stability_rule: R_t − RDEL_t − (A_t − sav_t + ΔDI_t) − Dep_t >= margin + H
    N_t = N_{t−1} + RDEL_t + CDEL_t + (A_t − sav_t + ΔDI_t) + A^K_t − R_t + O_t
    investment_rule: N_t − (Y_t / Y_{t−1}) N_{t−1} <= −H
    business_case: an all-or-nothing programme spends b_p every year or C_p every year
    objective: Σ_m w_m Σ_t δ[m,t] Σ_p Σ_k ℓ_p[k] (R_pm(q[p,t−k]) − R_pm(b_p)),  R_pm the
               concave response (segments filled in order), δ the Green Book schedule

and the tables' own totals (department spend, DEL totals, PSNFL) are compared with the
recomputed ones. A violation is reported when it exceeds a tolerance relative to the
magnitudes involved: ``rtol · Σ|terms| + n_terms · rounding + atol``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from allocator.schema import Instance, parse_year_label

RTOL = 1e-6
ATOL = 1e-6


@dataclass(frozen=True)
class Violation:
    family: str
    year: str
    subject: str
    amount: float  # by how much the rule is broken (£m, or objective units)
    message: str

    def __str__(self) -> str:
        where = ", ".join(x for x in (self.subject, self.year) if x)
        return f"{self.family} [{where}]: {self.message} (by {self.amount:.6g})"


@dataclass
class CheckReport:
    violations: list[Violation] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)  # family -> rows checked
    objective: float | None = None  # recomputed
    objective_in_horizon: float | None = None
    objective_terminal: float | None = None

    @property
    def ok(self) -> bool:
        return not self.violations

    def text(self, limit: int = 20) -> str:
        if self.ok:
            return (f"independent check passed: {sum(self.checked.values())} rule rows in "
                    f"{len(self.checked)} families hold")
        lines = [f"independent check FAILED: {len(self.violations)} violation(s)"]
        lines += [f"  - {v}" for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"  ... and {len(self.violations) - limit} more")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked,
                "objective_recomputed": self.objective,
                "violations": [v.__dict__ for v in self.violations]}


class _Checker:
    def __init__(self, inst: Instance, rounding: float):
        self.inst = inst
        self.rounding = rounding
        self.report = CheckReport()

    def tol(self, scale: float, nterms: int = 1) -> float:
        return RTOL * max(1.0, scale) + nterms * self.rounding + ATOL

    def le(self, family: str, year: str, subject: str, lhs: float, rhs: float, scale: float,
           nterms: int = 1, what="") -> None:
        """Record that ``lhs <= rhs`` was checked; a violation if it fails beyond tolerance."""
        self.report.checked[family] = self.report.checked.get(family, 0) + 1
        excess = lhs - rhs
        if not np.isfinite(lhs) or excess > self.tol(scale, nterms):
            self.report.violations.append(Violation(
                family, year, subject, float(excess) if np.isfinite(excess) else float("nan"),
                (what() if callable(what) else what) or f"{lhs:.6f} exceeds the limit {rhs:.6f}"))

    def ge(self, family, year, subject, lhs, rhs, scale, nterms=1, what=""):
        self.le(family, year, subject, -lhs, -rhs, scale, nterms,
                what or (lambda: f"{lhs:.6f} is below the required {rhs:.6f}"))

    def eq(self, family, year, subject, lhs, rhs, scale, nterms=1, what=""):
        self.le(family, year, subject, abs(lhs - rhs), 0.0, scale, nterms,
                what or (lambda: f"{lhs:.6f} differs from {rhs:.6f}"))

    def fail(self, family, year, subject, message):
        self.report.violations.append(Violation(family, year, subject, float("nan"), message))


def green_book_discount(rate: float, after_30: float, after_75: float, n: int,
                        flat: bool) -> np.ndarray:
    """δ_t = Π_{j<t} 1/(1+r_j), r_j stepping down after 30 and 75 years unless ``flat``."""
    out = np.ones(n)
    for t in range(1, n):
        j = t - 1
        r = rate if flat or j < 30 else (after_30 if j < 75 else after_75)
        out[t] = out[t - 1] / (1.0 + r)
    return out


def _response(widths: list[float], gains: np.ndarray, q: float) -> np.ndarray:
    """Σ_k g_k · clip(q − W_{k−1}, 0, w_k): the concave response of one programme, per mission."""
    out = np.zeros(gains.shape[1]) if gains.size else np.zeros(0)
    start = 0.0
    for w, g in zip(widths, gains):
        out = out + g * min(max(q - start, 0.0), w)
        start += w
    return out


REQUIRED = {
    "allocations": ["year", "department", "programme", "funding", "spend_gbp_m", "real_spend_gbp_m"],
    "departments": ["year", "department", "rdel_gbp_m", "cdel_gbp_m"],
    "fiscal": ["year"],
}


def check_plan(inst: Instance, tables: dict[str, pd.DataFrame], *, objective: float | None = None,
               objective_in_horizon: float | None = None, objective_terminal: float | None = None,
               rounding_gbp_m: float = 0.0) -> CheckReport:
    """Check a plan (result tables, £m) against ``inst`` (in £m); see the module docstring.

    ``rounding_gbp_m`` is the largest rounding error of one table value (0 for in-memory
    tables; 5e-7 × unit factor for tables read back from CSV)."""
    c = _Checker(inst, rounding_gbp_m)
    s = inst.settings
    on = s.constraints
    years = s.horizon.labels
    T = len(years)
    pos = {y: t for t, y in enumerate(years)}
    fy = {f.year: f for f in inst.fiscal}
    pi = np.array([fy[y].deflator for y in years])
    F = {k: np.array([getattr(fy[y], k) if getattr(fy[y], k) is not None else np.nan for y in years],
                     dtype=float)
         for k in ("gdp_gbp_m", "receipts_gbp_m", "ame_current_gbp_m", "welfare_capped_gbp_m",
                   "welfare_cap_gbp_m", "ame_capital_gbp_m", "depreciation_gbp_m", "debt_interest_gbp_m",
                   "other_psnfl_flows_gbp_m", "rdel_envelope_gbp_m", "cdel_envelope_gbp_m")}
    for name, cols in REQUIRED.items():
        df = tables.get(name)
        if df is None:
            c.fail("table", "", name, f"result table '{name}' is missing")
            return c.report
        missing = [k for k in cols if k not in df.columns]
        if missing:
            c.fail("table", "", name, f"result table '{name}' lacks columns {missing}")
            return c.report
    alloc, depts = tables["allocations"], tables["departments"]
    progs = {p.id: p for p in inst.programmes}
    dept_ids = [d.id for d in inst.departments]
    dset = set(dept_ids)
    mf_on = on.mission_fund and s.mission_fund.max_share_of_del > 0
    devolved = {b.devolved for b in inst.barnett}

    # ---------------------------------------------------------------- allocation rows
    q = {p: np.zeros(T) for p in progs}
    nrows = defaultdict(int)
    dept_spend = defaultdict(float)  # (d, category, t)
    dept_pie = defaultdict(float)  # (d, t)
    mf = np.zeros((2, T))
    mf_owner = defaultdict(float)  # Mission Fund spend by (first owner, category, t)
    for r in alloc.itertuples(index=False):
        year, prog, fund, dep = str(r.year), str(r.programme), str(r.funding), str(r.department)
        spend, real = float(r.spend_gbp_m), float(r.real_spend_gbp_m)
        if year not in pos or prog not in progs:
            c.fail("table", year, prog, "allocation row names an unknown programme or year")
            continue
        t, p = pos[year], progs[prog]
        cat = 0 if p.category == "resource" else 1
        c.eq("cash_real", year, prog, spend, pi[t] * real, abs(spend), 2,
             lambda: f"cash spend {spend:.6f} ≠ deflator {pi[t]} × real spend {real:.6f}")
        c.ge("non_negative", year, prog, spend, 0.0, 0.0, 1, lambda: f"negative spend {spend:.6f}")
        q[prog][t] += real
        nrows[(prog, t)] += 1
        if fund == "department":
            if dep not in p.owners:
                c.fail("funding_source", year, prog,
                       f"funded by department '{dep}', which does not own it (owners {p.owners})")
                continue
            dept_spend[(dep, cat, t)] += spend
            if p.pie:
                dept_pie[(dep, t)] += spend
        elif fund == "mission_fund":
            if not mf_on:
                c.fail("mission_fund_eligibility", year, prog,
                       f"Mission Fund spend {spend:.6f} although the Mission Fund is off")
            elif not p.mission_fund_can_fund:
                c.fail("mission_fund_eligibility", year, prog,
                       f"Mission Fund spend {spend:.6f} on a programme it may not fund "
                       "(single owner, not flagged eligible)")
            mf[cat, t] += spend
            mf_owner[(p.owners[0], cat, t)] += spend
        else:
            c.fail("table", year, prog, f"unknown funding source '{fund}'")
    for prog in progs:
        for t in range(T):
            if nrows[(prog, t)] == 0:
                c.fail("table", years[t], prog, "no allocation row for this programme and year")

    # ---------------------------------------------------------------- programme rules
    for pid, p in progs.items():
        n = max(1, max(nrows[(pid, t)] for t in range(T)))
        for t in range(T):
            if on.programme_floors and p.floor_gbp_m > 0:
                c.ge("programme_floor", years[t], pid, q[pid][t], p.floor_gbp_m, p.floor_gbp_m, n)
            if on.programme_caps and p.cap_gbp_m is not None:
                c.le("programme_cap", years[t], pid, q[pid][t], p.cap_gbp_m, p.cap_gbp_m, n)
            if on.ramp_limits and p.ramp_limit_gbp_m is not None:
                prev = p.baseline_gbp_m if t == 0 else q[pid][t - 1]
                c.le("ramp_limit", years[t], pid, abs(q[pid][t] - prev), p.ramp_limit_gbp_m,
                     abs(q[pid][t]) + abs(prev), 2 * n,
                     lambda: f"real spend moves {q[pid][t] - prev:+.6f} from the previous year; "
                     f"ramp limit {p.ramp_limit_gbp_m}")

        if getattr(p, "all_or_nothing", False) and p.cap_gbp_m is not None:
            # business case: q = b every year (not taken up) or q = cap every year (funded)
            full = [abs(q[pid][t] - p.cap_gbp_m) <= c.tol(p.cap_gbp_m, n) for t in range(T)]
            none = [abs(q[pid][t] - p.baseline_gbp_m) <= c.tol(p.baseline_gbp_m, n) for t in range(T)]
            c.report.checked["business_case"] = c.report.checked.get("business_case", 0) + 1
            if not (all(full) or all(none)):
                off = min(range(T), key=lambda t: 0 if not (full[t] or none[t]) else 1)
                c.fail("business_case", years[off], pid,
                       f"all-or-nothing business case funded in part: real spend "
                       f"{[round(float(v), 6) for v in q[pid]]} is neither the baseline "
                       f"{p.baseline_gbp_m} nor the cap {p.cap_gbp_m} in every year")

    # ---------------------------------------------------------------- departments
    lim = np.full((len(dept_ids), 2, T), np.nan)
    dtab = {}
    for r in depts.itertuples(index=False):
        year, dep = str(r.year), str(r.department)
        if year not in pos or dep not in dset:
            c.fail("table", year, dep, "departments row names an unknown department or year")
            continue
        d, t = dept_ids.index(dep), pos[year]
        lim[d, 0, t], lim[d, 1, t] = float(r.rdel_gbp_m), float(r.cdel_gbp_m)
        dtab[(dep, t)] = r
    for d, dep in enumerate(dept_ids):
        D = inst.departments[d]
        for t in range(T):
            if (dep, t) not in dtab:
                c.fail("table", years[t], dep, "no departments row for this department and year")
                continue
            row = dtab[(dep, t)]
            for k, cat in enumerate(("resource", "capital")):
                L, S = lim[d, k, t], dept_spend[(dep, k, t)]
                c.ge("settlement", years[t], f"{dep} {cat}", L, 0.0, 0.0, 1,
                     lambda: f"negative settlement {L:.6f}")
                no_env = (on.del_envelope
                          and np.isnan(F[("rdel_envelope_gbp_m", "cdel_envelope_gbp_m")[k]][t]))
                if (on.settlements and s.mode == "envelope" and not no_env) or (
                        on.barnett and dep in devolved):
                    c.le("settlement", years[t], f"{dep} {cat}", S, L, abs(S) + abs(L), 50,
                         lambda: f"department-funded spend {S:.6f} exceeds the settlement {L:.6f}")
                else:
                    c.eq("settlement", years[t], f"{dep} {cat}", S, L, abs(S) + abs(L), 50)
                col = f"{'rdel' if k == 0 else 'cdel'}_spend_gbp_m"
                if hasattr(row, col):
                    c.eq("departments_table", years[t], f"{dep} {cat}", float(getattr(row, col)), S,
                         abs(S), 50, lambda: f"table says department-funded spend "
                         f"{float(getattr(row, col)):.6f}, allocations add up to {S:.6f}")
            base = D.rdel_baseline_gbp_m + D.cdel_baseline_gbp_m
            if on.department_real_floor and D.real_floor > 0:
                need = D.real_floor * base * pi[t]
                c.ge("department_real_floor", years[t], dep, lim[d, 0, t] + lim[d, 1, t], need,
                     need, 2)
            if on.pie_department_floor and D.pie_floor_gbp_m > 0:
                need = D.pie_floor_gbp_m * pi[t]
                c.ge("pie_department_floor", years[t], dep, dept_pie[(dep, t)], need, need, 50)
    if s.settlement_profile == "flat_real":
        for per in s.spending_reviews:
            ts = list(range(pos[per.start], pos[per.end] + 1))
            for d, dep in enumerate(dept_ids):
                for k in range(2):
                    real = lim[d, k, ts] / pi[ts]
                    c.le("settlement_flat_real", per.start, f"{dep} {per.id}",
                         float(np.nanmax(real) - np.nanmin(real)), 0.0, float(np.nanmax(np.abs(real))),
                         2, "settlement is not flat in real terms within the period")

    # ---------------------------------------------------------------- settled, committed, Barnett
    _settled_committed_barnett(c, inst, lim, mf_owner, pi, years, pos, dept_ids)

    # ---------------------------------------------------------------- totals
    del_tot = np.nansum(lim, axis=0) + mf  # (2, T)
    cash_total = sum(pi * q[p] for p in progs)
    pie_total = sum((pi * q[p] for p in progs if progs[p].pie), np.zeros(T))
    ftab = tables["fiscal"]
    fiscal_rows = {str(r.year): r for r in ftab.itertuples(index=False)}
    for t, y in enumerate(years):
        if s.mode == "envelope" and on.del_envelope:
            for k, col in enumerate(("rdel_envelope_gbp_m", "cdel_envelope_gbp_m")):
                if np.isnan(F[col][t]):
                    continue  # no envelope this year: the fiscal rules govern
                c.le("del_envelope", y, ("resource", "capital")[k], del_tot[k, t], F[col][t],
                     abs(F[col][t]), len(dept_ids) + 50)
        fr_row = fiscal_rows.get(y)
        if fr_row is not None:
            for k, col in enumerate(("rdel_gbp_m", "cdel_gbp_m")):
                if hasattr(fr_row, col):
                    c.eq("fiscal_table", y, col, float(getattr(fr_row, col)), del_tot[k, t],
                         abs(del_tot[k, t]), len(dept_ids) + 50)
        if on.pie_share:
            sigma = s.pie.share_path(T)[t]
            if max(s.pie.share_path(T)) > 0:
                c.ge("pie_share", y, "total PIE", pie_total[t], sigma * cash_total[t],
                     cash_total[t], len(alloc) // max(1, T) + 1)
        if mf_on:
            n = len(alloc) // max(1, T) + 1
            c.le("mission_fund_size", y, "Mission Fund", mf[:, t].sum(),
                 s.mission_fund.max_share_of_del * cash_total[t], cash_total[t], n)
            if s.mission_fund.min_gbp_m > 0:
                c.ge("mission_fund_minimum", y, "Mission Fund", mf[:, t].sum(),
                     s.mission_fund.min_gbp_m, s.mission_fund.min_gbp_m, n)

    # ---------------------------------------------------------------- AME and fiscal rules
    lag = defaultdict(dict)
    for lw in inst.lag_profiles:
        lag[lw.profile][lw.lag] = lw.weight
    sav = np.zeros(T)
    sav_scale = np.zeros(T)
    for pid, p in progs.items():
        if p.ame_saving_per_gbp_m <= 0:
            continue
        for tau in range(T):
            for k, w in lag[p.lag_profile].items():
                t = tau + k
                if t < T and w:
                    term = p.ame_saving_per_gbp_m * pi[t] * w * (q[pid][tau] - p.baseline_gbp_m)
                    sav[t] += term
                    sav_scale[t] += abs(term) + p.ame_saving_per_gbp_m * pi[t] * w * abs(q[pid][tau])
    fr = s.fiscal_rules
    H = fr.headroom_gbp_m
    wyears = ([y for y in years if fy[y].welfare_cap_gbp_m is not None]
              if fr.welfare_cap_years is None else fr.welfare_cap_years)
    if on.welfare_cap:
        for y in wyears:
            t = pos[y]
            limit = F["welfare_cap_gbp_m"][t] * (1.0 + fr.welfare_cap_margin)
            c.le("welfare_cap", y, "welfare cap", F["welfare_capped_gbp_m"][t] - sav[t],
                 limit, F["welfare_capped_gbp_m"][t] + sav_scale[t], 50)
    # PSNFL year by year with the debt-interest feedback ΔDI_t = ι (N_{t−1} − N^f_{t−1})
    iota = fr.debt_interest_rate if on.debt_interest_feedback else 0.0
    N = np.zeros(T)
    N_scale = np.zeros(T)
    extra_di = np.zeros(T)
    prev, prev_scale = fr.psnfl_initial_gbp_m, abs(fr.psnfl_initial_gbp_m)
    prev_forecast = fr.psnfl_initial_gbp_m
    for t in range(T):
        if iota:
            extra_di[t] = iota * (prev - prev_forecast)
            prev_forecast = fy[years[t]].psnfl_forecast_gbp_m
        flows = (del_tot[0, t] + del_tot[1, t] + F["ame_current_gbp_m"][t] - sav[t] + extra_di[t]
                 + F["ame_capital_gbp_m"][t] - F["receipts_gbp_m"][t] + F["other_psnfl_flows_gbp_m"][t])
        N[t] = prev + flows
        N_scale[t] = (1.0 + iota) * prev_scale + abs(del_tot[:, t]).sum() + F["ame_current_gbp_m"][t] \
            + sav_scale[t] + iota * abs(prev_forecast) + F["ame_capital_gbp_m"][t] \
            + F["receipts_gbp_m"][t] + abs(F["other_psnfl_flows_gbp_m"][t])
        prev, prev_scale = N[t], N_scale[t]
        fr_row = fiscal_rows.get(years[t])
        if fr_row is not None and hasattr(fr_row, "debt_interest_gbp_m"):
            c.eq("fiscal_table", years[t], "debt_interest_gbp_m", float(fr_row.debt_interest_gbp_m),
                 fy[years[t]].debt_interest_gbp_m + extra_di[t], N_scale[t], 100 * (t + 1))
    cb = (F["receipts_gbp_m"] - del_tot[0] - (F["ame_current_gbp_m"] - sav + extra_di)
          - F["depreciation_gbp_m"])
    scale_cb = F["receipts_gbp_m"] + np.abs(del_tot[0]) + F["ame_current_gbp_m"] + sav_scale \
        + iota * np.concatenate([[0.0], N_scale[:-1]])
    if on.stability_rule:
        for y in fr.stability_rule.target_years:
            t = pos[y]
            c.ge("stability_rule", y, "current budget", cb[t],
                 fr.stability_rule.required_margin_gbp_m + H, scale_cb[t], 100)
    for t in range(T):
        fr_row = fiscal_rows.get(years[t])
        if fr_row is not None and hasattr(fr_row, "psnfl_gbp_m"):
            c.eq("fiscal_table", years[t], "psnfl_gbp_m", float(fr_row.psnfl_gbp_m), N[t], N_scale[t],
                 100 * (t + 1))
    if on.investment_rule:
        Y = F["gdp_gbp_m"]
        Y_prev = np.concatenate([[fr.gdp_initial_gbp_m], Y[:-1]])
        N_prev = np.concatenate([[fr.psnfl_initial_gbp_m], N[:-1]])
        S_prev = np.concatenate([[abs(fr.psnfl_initial_gbp_m)], N_scale[:-1]])
        for y in fr.investment_rule.target_years:
            t = pos[y]
            c.le("investment_rule", y, "PSNFL/GDP", N[t] - (Y[t] / Y_prev[t]) * N_prev[t], -H,
                 N_scale[t] + (Y[t] / Y_prev[t]) * S_prev[t], 100 * (t + 1))

    # ---------------------------------------------------------------- objective
    _objective(c, inst, q, T, lag, objective, objective_in_horizon, objective_terminal,
               max(nrows.values(), default=1), cash_spend=float(alloc["spend_gbp_m"].sum()))
    return c.report


def _settled_committed_barnett(c: _Checker, inst: Instance, lim: np.ndarray, mf_owner: dict,
                               pi: np.ndarray, years: list, pos: dict, dept_ids: list) -> None:
    """Settled totals, committed paths and Barnett rows, from the departments table's limits."""
    on = inst.settings.constraints
    T = len(years)
    devolved = {b.devolved for b in inst.barnett}
    settled = {}  # (d, c, t) -> V, every published figure (the Barnett reference)
    fixed = set()  # (d, c, t) imposed
    for r in inst.settled:
        key = (r.department, 0 if r.category == "resource" else 1, pos[r.year])
        settled[key] = r.limit_gbp_m
        if r.fixed:
            fixed.add(key)
    if on.settled_totals:
        for (dep, k, t), v in settled.items():
            if (on.barnett and dep in devolved) or (dep, k, t) not in fixed:
                continue
            L = lim[dept_ids.index(dep), k, t]
            c.eq("settled_total", years[t], f"{dep} {('resource', 'capital')[k]}", L, v, abs(v), 1,
                 lambda: f"limit {L:.6f} differs from the settled figure {v:.6f}")
    if on.committed_paths:
        for r in inst.committed:
            t, d = pos[r.year], dept_ids.index(r.department)
            c.ge("committed_path", r.year, r.department, lim[d, 0, t] + lim[d, 1, t], r.min_del_gbp_m,
                 r.min_del_gbp_m, 2)
    if not (on.barnett and inst.barnett):
        return
    base = {d.id: (d.rdel_baseline_gbp_m, d.cdel_baseline_gbp_m) for d in inst.departments}

    def ref(dep: str, k: int, t: int) -> float:
        for u in range(t, -1, -1):  # the latest settled figure at or before t, held flat real
            if (dep, k, u) in settled:
                return settled[(dep, k, u)] * pi[t] / pi[u]
        return base[dep][k] * pi[t] / pi[0]

    for n in dict.fromkeys(b.devolved for b in inst.barnett):
        rows = [b for b in inst.barnett if b.devolved == n]
        for t in range(T):
            for k in range(2):
                change = 0.0
                scale = abs(lim[dept_ids.index(n), k, t])
                for b in rows:
                    d = dept_ids.index(b.department)
                    comparable = lim[d, k, t] + mf_owner[(b.department, k, t)]
                    beta = b.comparability_factor * b.population_proportion
                    change += beta * (comparable - ref(b.department, k, t))
                    scale += beta * (abs(comparable) + abs(ref(b.department, k, t)))
                want = ref(n, k, t) + change
                got = lim[dept_ids.index(n), k, t]
                check = c.ge if inst.settings.settlement_profile == "flat_real" else c.eq
                check("barnett", years[t], f"{n} {('resource', 'capital')[k]}", got, want, scale,
                      len(rows) + 2, lambda: f"block grant {got:.6f}; Barnett gives {want:.6f}")


def _objective(c: _Checker, inst: Instance, q: dict, T: int, lag: dict, objective, obj_in, obj_term,
               rows_per_q: int, cash_spend: float = 0.0) -> None:
    s = inst.settings
    missions = [m.id for m in s.missions]
    M = len(missions)
    K = max((max(v) for v in lag.values()), default=0)
    dsc = s.discounting
    delta = np.array([green_book_discount(m.discount_rate if m.discount_rate is not None else dsc.rate,
                                          dsc.rate_after_30, dsc.rate_after_75, T + K,
                                          m.discount_rate is not None) for m in s.missions])
    w = np.array([m.weight for m in s.missions])
    segs = defaultdict(dict)
    for sg in inst.segments:
        segs[sg.programme].setdefault(sg.segment, [sg.width_gbp_m, np.zeros(M)])
        segs[sg.programme][sg.segment][1][missions.index(sg.mission)] = sg.gain_per_gbp_m
    value = np.zeros((M, T + K))
    slope = 0.0  # bound on |d objective / d q| summed over all q, for the rounding allowance
    for p in inst.programmes:
        if p.id not in segs:
            continue
        ks = sorted(segs[p.id])
        widths = [segs[p.id][k][0] for k in ks]
        gains = np.array([segs[p.id][k][1] for k in ks])
        base = _response(widths, gains, p.baseline_gbp_m)
        top = gains.max(axis=0) if len(gains) else np.zeros(M)
        dgain = np.array([_response(widths, gains, q[p.id][tau]) - base for tau in range(T)]).T
        for k, lw in lag[p.lag_profile].items():  # (M, T) effect of year-τ spend in year τ+k
            value[:, k:k + T] += lw * dgain
            slope += float(lw * (w * top) @ delta[:, k:k + T].sum(axis=1))
    contrib = w[:, None] * delta * value
    in_h = float(contrib[:, :T].sum())
    term = float(contrib[:, T:].sum())
    scale = float(np.abs(contrib).sum())
    allowance = slope * rows_per_q * (c.rounding + 1e-9)
    if s.objective.kind == "target_cost":
        # target mode (models/targets.py): objective = −total cash spend; each target met
        years = inst.years
        for tg in s.objective.targets:
            m = missions.index(tg.mission)
            mission = s.missions[m]
            t = years.index(tg.year)
            metric = (mission.baseline_value + mission.baseline_trend_per_year * t
                      + (1.0 if mission.higher_is_better else -1.0) * value[m, t])
            gap = (metric - tg.value) * (1.0 if mission.higher_is_better else -1.0)
            c.report.checked["mission_target"] = c.report.checked.get("mission_target", 0) + 1
            if gap < -(RTOL * max(1.0, abs(tg.value)) + ATOL):
                c.report.violations.append(Violation(
                    "mission_target", tg.year, tg.mission, -gap,
                    f"metric {metric:.6f} misses the target {tg.value}"))
        in_h, term = -cash_spend, 0.0
        scale, allowance = abs(cash_spend), rows_per_q * (c.rounding + 1e-9) * len(q) * T
    c.report.objective, c.report.objective_in_horizon, c.report.objective_terminal = \
        in_h + term, in_h, term
    for name, reported, mine in (("objective", objective, in_h + term),
                                 ("objective_in_horizon", obj_in, in_h),
                                 ("objective_terminal", obj_term, term)):
        if reported is None:
            continue
        c.report.checked["objective"] = c.report.checked.get("objective", 0) + 1
        diff = abs(float(reported) - mine)
        tol = RTOL * max(1.0, scale) + allowance + ATOL
        if not np.isfinite(diff) or diff > tol:
            c.report.violations.append(Violation(
                "objective", "", name, diff,
                f"reported {float(reported):.6f}, recomputed from the allocations {mine:.6f}"))


def check_result(inst_gbp_m: Instance, res) -> CheckReport:
    """Check an in-memory :class:`allocator.results.Result` solved in £m."""
    return check_plan(inst_gbp_m, res.tables, objective=res.objective,
                      objective_in_horizon=res.objective_in_horizon,
                      objective_terminal=res.objective_terminal)


__all__ = ["CheckReport", "Violation", "check_plan", "check_result", "green_book_discount",
           "parse_year_label"]
