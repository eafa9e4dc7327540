"""Independent feasibility check of a plan: recompute every rule from the result tables.

The solver's word is not taken for anything. Starting only from the instance and the
plan's result tables (``allocations``, ``departments``, ``fiscal``; all money in £m), the
rules are recomputed with their own arithmetic (no LP matrix, no model code) and every
violation is listed. This module is the driver:

- it reads the tables and recomputes what several rules share (:class:`PlanFacts`):
  q[p,t] = Σ real_spend over the programme's allocation rows (real £m); department-funded
  and PIE spend; Mission Fund spend; settlement limits L from the departments table;
  RDEL_t/CDEL_t = Σ_d L + MF; sav_t = Σ_p a_p π_t Σ_τ ℓ_p[t−τ] (q[p,τ] − b_p); PSNFL
  N_t = N_{t−1} + RDEL_t + CDEL_t + (A_t − sav_t) + A^K_t − R_t + O_t;
- it checks the tables themselves: cash = π_t · real spend and >= 0 on every row
  (``cash_real``, ``non_negative``), funding sources (``funding_source``,
  ``mission_fund_eligibility``), and the tables' own totals (``departments_table``,
  ``fiscal_table``: department spend, DEL totals, PSNFL);
- each declared constraint family then checks its own rule: ``Family.check`` in its module
  (``models/constraints/*.py``, e.g. ``programme_cap``: q[p,t] <= cap_p), then any user
  constraints of the run;
- demand pressures and invest to save inside DEL: Λ[p,t] = Π_{1<=j<=t} (1 + g[p,j])
  (pressures.csv, 1 in the first year); avoided demand v[r,t] = Σ_s σ_sr Σ_τ ℓ_s[t−τ]
  (q[s,τ] − b_s) (invest_to_save.csv); effective activity e[p,t] = (q[p,t] + v[p,t]) / Λ[p,t]
  (= q without either);
- the objective is recomputed: Σ_m w_m Σ_t θ_t δ[m,t] Σ_p Σ_k ℓ_p[k] (R_pm(e[p,t−k]) − R_pm(b_p)),
  R_pm the concave response (segments filled in order), δ the Green Book schedule, θ_t the
  persistence factor (1 in the horizon, (1 − fade)^(t−T+1) after it, 0 beyond terminal_years).

A violation is reported when it exceeds a tolerance relative to the magnitudes involved:
``rtol · Σ|terms| + n_terms · rounding + atol``.
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
    """Records checked rows and violations; a family's ``check(c, plan)`` calls ``le``/``ge``/
    ``eq`` per row it checks (``tol`` is the driver's tolerance)."""

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

    def le_many(self, family: str, years, subjects, lhs, rhs, scale, nterms=1, what=None) -> None:
        """:meth:`le` for many rows at once (numpy arrays, broadcast): ``years[i]`` and
        ``subjects[i]`` name row i (sequences, or one string for every row); ``what(i)``
        words a violated row i. Only the violated rows are turned into Python objects."""
        lhs, rhs, scale, nterms = np.broadcast_arrays(np.asarray(lhs, float), np.asarray(rhs, float),
                                                      np.asarray(scale, float),
                                                      np.asarray(nterms, float))
        if lhs.ndim == 0:
            lhs, rhs, scale, nterms = (a.reshape(1) for a in (lhs, rhs, scale, nterms))
        if not len(lhs):
            return
        self.report.checked[family] = self.report.checked.get(family, 0) + len(lhs)
        excess = lhs - rhs
        tol = RTOL * np.maximum(1.0, scale) + nterms * self.rounding + ATOL
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(lhs) | (excess > tol)
        for i in np.flatnonzero(bad):
            y = years if isinstance(years, str) else years[i]
            sub = subjects if isinstance(subjects, str) else subjects[i]
            msg = what(i) if what is not None else f"{lhs[i]:.6f} exceeds the limit {rhs[i]:.6f}"
            self.report.violations.append(Violation(
                family, str(y), str(sub), float(excess[i]) if np.isfinite(excess[i]) else float("nan"),
                msg))

    def ge_many(self, family, years, subjects, lhs, rhs, scale, nterms=1, what=None) -> None:
        """:meth:`ge` for many rows (see :meth:`le_many`)."""
        lhs, rhs = np.asarray(lhs, float), np.asarray(rhs, float)
        lb, rb = np.broadcast_arrays(lhs, rhs)
        self.le_many(family, years, subjects, -lhs, -rhs, scale, nterms,
                     what or (lambda i: f"{lb.flat[i]:.6f} is below the required {rb.flat[i]:.6f}"))

    def eq_many(self, family, years, subjects, lhs, rhs, scale, nterms=1, what=None) -> None:
        """:meth:`eq` for many rows (see :meth:`le_many`)."""
        lhs, rhs = np.asarray(lhs, float), np.asarray(rhs, float)
        lb, rb = np.broadcast_arrays(lhs, rhs)
        self.le_many(family, years, subjects, np.abs(lhs - rhs), 0.0, scale, nterms,
                     what or (lambda i: f"{lb.flat[i]:.6f} differs from {rb.flat[i]:.6f}"))

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
    """Σ_k g_k · clip(q − W_{k−1}, 0, w_k) + min(g_S, 0) · max(q − W_S, 0): the concave response
    of one programme, per mission (g_S the last segment's gain, W_k the cumulative widths)."""
    out = np.zeros(gains.shape[1]) if gains.size else np.zeros(0)
    start = 0.0
    for w, g in zip(widths, gains):
        out = out + g * min(max(q - start, 0.0), w)
        start += w
    if len(gains):  # beyond the last segment: a harm goes on at the last rate, a benefit stops
        out = out + np.minimum(gains[-1], 0.0) * max(q - start, 0.0)
    return out


REQUIRED = {
    "allocations": ["year", "department", "programme", "funding", "spend_gbp_m", "real_spend_gbp_m"],
    "departments": ["year", "department", "rdel_gbp_m", "cdel_gbp_m"],
    "fiscal": ["year"],
}


@dataclass
class PlanFacts:
    """What the driver recomputes from the result tables and the instance (£m), shared by
    every family's ``check``: no LP matrix, no model code.

    ``q[p]`` real spend (T,); ``dept_spend[(d, c, t)]`` department-funded cash spend (c = 0
    resource, 1 capital); ``dept_pie[(d, t)]``; ``mf`` (2, T) Mission Fund cash; ``lim`` (D, 2, T)
    settlement limits from the departments table; ``del_tot`` (2, T) = Σ_d lim + mf;
    ``cash_total``/``pie_total`` (T,); ``sav`` (T,) AME saving and ``sav_scale``; ``N`` (T,) PSNFL
    from its definition and ``N_scale``; ``F`` fiscal columns (T,); ``pi`` deflators;
    ``nrows[(p, t)]`` allocation rows per programme-year; ``n_alloc`` rows in allocations;
    ``gains`` mission metric gains recomputed for the objective; ``pressure[p]`` Λ (T,) and
    ``avoided[p]`` v (T,): effective activity is (q + v) / Λ; ``mf_owner[(d, c, t)]`` Mission
    Fund cash by the programme's first owner; ``extra_di`` the debt-interest feedback ΔDI_t
    (inside ``N``); ``extra_receipts`` the receipts feedback ΔR_t."""

    inst: Instance
    years: list
    T: int
    pos: dict
    pi: np.ndarray
    F: dict
    progs: dict
    dept_ids: list
    q: dict
    nrows: dict
    dept_spend: dict
    dept_pie: dict
    mf: np.ndarray
    lim: np.ndarray
    del_tot: np.ndarray
    cash_total: np.ndarray
    pie_total: np.ndarray
    sav: np.ndarray
    sav_scale: np.ndarray
    N: np.ndarray
    N_scale: np.ndarray
    n_alloc: int
    tables: dict
    gains: np.ndarray  # gain[m, t] (metric units), t = 0..T−1+K, from the concave responses
    mf_owner: dict  # Mission Fund cash by (first owner, category, t)
    extra_di: np.ndarray  # (T,) extra debt interest ΔDI_t = ι (N_{t−1} − N^f_{t−1})
    extra_receipts: np.ndarray  # (T,) receipts feedback ΔR_t = ρ Y_t / 100 · gain[g,t]
    pressure: dict = None  # Λ[p] (T,) pressure index
    avoided: dict = None  # v[p] (T,) demand avoided by invest to save inside DEL (0 off targets)
    pids: list = None  # programme ids, the row order of Q and n_q
    Q: np.ndarray = None  # (P, T) real spend q (``q[pid]`` is a row of it)
    n_q: np.ndarray = None  # (P, T) allocation rows behind each q (``nrows`` over it)

    @property
    def settings(self):
        return self.inst.settings

    @property
    def on(self):
        return self.inst.settings.constraints


def check_plan(inst: Instance, tables: dict[str, pd.DataFrame], *, objective: float | None = None,
               objective_in_horizon: float | None = None, objective_terminal: float | None = None,
               rounding_gbp_m: float = 0.0, extra_families=()) -> CheckReport:
    """Check a plan (result tables, £m) against ``inst`` (in £m); see the module docstring.

    The driver reads the tables and recomputes the shared quantities (:class:`PlanFacts`);
    each declared constraint family then checks its own rule (``Family.check`` in its
    module, collected by :func:`allocator.models.constraints.registry`), followed by any
    ``extra_families`` (user constraints added through :mod:`allocator.build`), and the
    objective is recomputed. ``rounding_gbp_m`` is the largest rounding error of one table
    value (0 for in-memory tables; 5e-7 × unit factor for tables read back from CSV)."""
    from allocator.models.constraints import registry

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

    # ---------------------------------------------------------------- allocation rows
    # column-wise over the table (numpy), one Python object per violated row only
    pids = list(progs)
    ppos = {pid: i for i, pid in enumerate(pids)}
    dpos = {d: i for i, d in enumerate(dept_ids)}
    P, D = len(pids), len(dept_ids)
    cat_of = np.array([0 if progs[p].category == "resource" else 1 for p in pids], dtype=int)
    pie_of = np.array([bool(progs[p].pie) for p in pids], dtype=bool)
    yr = alloc["year"].astype(str).to_numpy(dtype=object)
    pr = alloc["programme"].astype(str).to_numpy(dtype=object)
    fund = alloc["funding"].astype(str).to_numpy(dtype=object)
    dep = alloc["department"].astype(str).to_numpy(dtype=object)
    spend = alloc["spend_gbp_m"].to_numpy(dtype=float)
    real = alloc["real_spend_gbp_m"].to_numpy(dtype=float)
    t_all = pd.Series(yr).map(pos).to_numpy(dtype=float)
    p_all = pd.Series(pr).map(ppos).to_numpy(dtype=float)
    known = ~(np.isnan(t_all) | np.isnan(p_all))
    for i in np.flatnonzero(~known):
        c.fail("table", yr[i], pr[i], "allocation row names an unknown programme or year")
    rows = np.flatnonzero(known)
    ti, pi_ = t_all[rows].astype(int), p_all[rows].astype(int)
    sp_, re_ = spend[rows], real[rows]
    c.eq_many("cash_real", yr[rows], pr[rows], sp_, pi[ti] * re_, np.abs(sp_), 2,
              lambda i: f"cash spend {sp_[i]:.6f} ≠ deflator {pi[ti[i]]} × real spend {re_[i]:.6f}")
    c.ge_many("non_negative", yr[rows], pr[rows], sp_, 0.0, 0.0, 1,
              lambda i: f"negative spend {sp_[i]:.6f}")
    Q = np.zeros((P, T))  # real spend q[p,t]
    np.add.at(Q, (pi_, ti), re_)
    n_q = np.zeros((P, T), dtype=int)  # allocation rows per programme-year
    np.add.at(n_q, (pi_, ti), 1)
    fnd = fund[rows]
    is_dep, is_mf = fnd == "department", fnd == "mission_fund"
    for i in np.flatnonzero(~(is_dep | is_mf)):
        c.fail("table", yr[rows[i]], pr[rows[i]], f"unknown funding source '{fnd[i]}'")
    # department funding: only by an owner of the programme
    owner_pairs = {(pid, o) for pid in pids for o in progs[pid].owners}
    di = np.flatnonzero(is_dep)
    ok = np.fromiter(((pr[rows[i]], dep[rows[i]]) in owner_pairs for i in di), dtype=bool,
                     count=len(di))
    for i in di[~ok]:
        p = progs[pr[rows[i]]]
        c.fail("funding_source", yr[rows[i]], pr[rows[i]],
               f"funded by department '{dep[rows[i]]}', which does not own it (owners {p.owners})")
    di = di[ok]
    d_idx = np.array([dpos[x] for x in dep[rows[di]]], dtype=int)
    DS = np.zeros((D, 2, T))  # department-funded cash spend
    np.add.at(DS, (d_idx, cat_of[pi_[di]], ti[di]), sp_[di])
    DP = np.zeros((D, T))  # department-funded PIE cash spend
    pie_rows = pie_of[pi_[di]]
    np.add.at(DP, (d_idx[pie_rows], ti[di][pie_rows]), sp_[di][pie_rows])
    # Mission Fund: only when it is on, only on programmes it may fund
    mi = np.flatnonzero(is_mf)
    can = np.array([progs[p].mission_fund_can_fund for p in pids], dtype=bool)
    for i in mi:
        if not mf_on:
            c.fail("mission_fund_eligibility", yr[rows[i]], pr[rows[i]],
                   f"Mission Fund spend {sp_[i]:.6f} although the Mission Fund is off")
        elif not can[pi_[i]]:
            c.fail("mission_fund_eligibility", yr[rows[i]], pr[rows[i]],
                   f"Mission Fund spend {sp_[i]:.6f} on a programme it may not fund "
                   "(single owner, not flagged eligible)")
    mf = np.zeros((2, T))
    np.add.at(mf, (cat_of[pi_[mi]], ti[mi]), sp_[mi])
    first_owner = np.array([dpos.get(progs[p].owners[0], -1) for p in pids], dtype=int)
    MO = np.zeros((D, 2, T))  # Mission Fund cash by the programme's first owner: Barnett
    fo = first_owner[pi_[mi]]
    np.add.at(MO, (fo[fo >= 0], cat_of[pi_[mi]][fo >= 0], ti[mi][fo >= 0]), sp_[mi][fo >= 0])
    for p_, t_ in np.argwhere(n_q == 0):
        c.fail("table", years[t_], pids[p_], "no allocation row for this programme and year")
    # the families' view: dictionaries keyed by ids (rows of the arrays, no copies)
    q = {pid: Q[i] for i, pid in enumerate(pids)}
    nrows = _Counts(n_q, ppos)
    dept_spend = _Grid(DS, dpos)
    dept_pie = _Grid(DP, dpos)
    mf_owner = _Grid(MO, dpos)

    # ---------------------------------------------------------------- departments table
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
        for t in range(T):
            if (dep, t) not in dtab:
                c.fail("table", years[t], dep, "no departments row for this department and year")
                continue
            row = dtab[(dep, t)]
            for k, cat in enumerate(("resource", "capital")):
                S = dept_spend[(dep, k, t)]
                col = f"{'rdel' if k == 0 else 'cdel'}_spend_gbp_m"
                if hasattr(row, col):
                    c.eq("departments_table", years[t], f"{dep} {cat}", float(getattr(row, col)), S,
                         abs(S), 50, lambda: f"table says department-funded spend "
                         f"{float(getattr(row, col)):.6f}, allocations add up to {S:.6f}")

    # ---------------------------------------------------------------- totals and definitions
    del_tot = np.nansum(lim, axis=0) + mf  # (2, T)
    cash_total = (pi[None, :] * Q).sum(axis=0)
    pie_total = (pi[None, :] * Q[pie_of]).sum(axis=0)
    ftab = tables["fiscal"]
    fiscal_rows = {str(r.year): r for r in ftab.itertuples(index=False)}
    for t, y in enumerate(years):
        fr_row = fiscal_rows.get(y)
        if fr_row is not None:
            for k, col in enumerate(("rdel_gbp_m", "cdel_gbp_m")):
                if hasattr(fr_row, col):
                    c.eq("fiscal_table", y, col, float(getattr(fr_row, col)), del_tot[k, t],
                         abs(del_tot[k, t]), len(dept_ids) + 50)
    lag = defaultdict(dict)
    for lw in inst.lag_profiles:
        lag[lw.profile][lw.lag] = lw.weight
    # sav_t = Σ_p a_p π_t Σ_τ ℓ_p[t−τ] (q[p,τ] − b_p)
    K = max((max(v) for v in lag.values()), default=0)
    Lw = np.zeros((P, K + 1))  # ℓ_p[k]
    for i, pid in enumerate(pids):
        for k, w in lag[progs[pid].lag_profile].items():
            Lw[i, k] = w
    a = np.array([max(progs[p].ame_saving_per_gbp_m, 0.0) for p in pids])
    b = np.array([progs[p].baseline_gbp_m for p in pids])
    sav = np.zeros(T)
    sav_scale = np.zeros(T)
    for k in range(min(K + 1, T)):
        coef = a * Lw[:, k]  # (P,)
        if not coef.any():
            continue
        term = coef[:, None] * pi[None, k:] * (Q[:, :T - k] - b[:, None])  # (P, T−k) into t = τ+k
        sav[k:] += term.sum(axis=0)
        sav_scale[k:] += (np.abs(term) + coef[:, None] * pi[None, k:] * np.abs(Q[:, :T - k])).sum(axis=0)
    # ---------------------------------------------------------------- pressures, avoided demand
    growth = np.zeros((P, T))
    for r in inst.pressures:
        growth[ppos[r.programme], pos[r.first_year]:pos[r.last_year] + 1] += r.growth_per_year
    Lam = np.cumprod(1.0 + growth, axis=1)  # Λ[p,t]
    V = np.zeros((P, T))  # demand avoided by invest to save inside DEL
    for r in inst.invest_to_save:
        src, tgt = ppos[r.programme], ppos[r.target]
        for k in range(min(K + 1, T)):
            if Lw[src, k]:
                V[tgt, k:] += r.saving_per_gbp_m * Lw[src, k] * (Q[src, :T - k] - b[src])
    press = {pid: Lam[i] for i, pid in enumerate(pids)}
    avoided = {pid: V[i] for i, pid in enumerate(pids)}
    activity = (Q + V) / Lam  # e[p,t], rows in the order of ``pids``

    # mission gains first (the objective's recomputation): the receipts feedback reads them
    net_cost = 0.0
    if s.objective.kind == "net_value":  # V − λ·C (formulation §4c), C recomputed here
        dsc = s.discounting
        dS = green_book_discount(dsc.rate, dsc.rate_after_30, dsc.rate_after_75, T, False)
        extra = (Q - b[:, None] * Lam).sum(axis=0)  # against the counterfactual b·Λ, as the benefit
        net_cost = s.appraisal.cost_of_public_funds * float(dS @ (extra - sav / pi))
    _objective(c, inst, activity, pids, T, Lw, objective, objective_in_horizon, objective_terminal,
               max(int(n_q.max(initial=0)), 1), cash_spend=float(alloc["spend_gbp_m"].sum()),
               net_cost=net_cost)
    # ΔR_t = ρ Y_t / 100 · gain[g,t]: receipts from the growth mission's GDP gain (0 when off)
    extra_receipts = np.zeros(T)
    fr = s.fiscal_rules
    if fr.receipts_feedback_rate > 0 and fr.receipts_feedback_mission is not None:
        g = [m.id for m in s.missions].index(fr.receipts_feedback_mission)
        extra_receipts = fr.receipts_feedback_rate * F["gdp_gbp_m"] / 100.0 * c.gains[g, :T]
    # N_t = N_{t−1} + RDEL_t + CDEL_t + (A_t − sav_t + ΔDI_t) + A^K_t − (R_t + ΔR_t) + O_t, with the
    # debt-interest feedback ΔDI_t = ι (N_{t−1} − N^f_{t−1}) (ΔDI_0 = 0; ι = 0 when it is off)
    fr = s.fiscal_rules
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
                 + F["ame_capital_gbp_m"][t] - F["receipts_gbp_m"][t] - extra_receipts[t]
                 + F["other_psnfl_flows_gbp_m"][t])
        N[t] = prev + flows
        N_scale[t] = (1.0 + iota) * prev_scale + abs(del_tot[:, t]).sum() + F["ame_current_gbp_m"][t] \
            + sav_scale[t] + iota * abs(prev_forecast) + F["ame_capital_gbp_m"][t] \
            + F["receipts_gbp_m"][t] + abs(F["other_psnfl_flows_gbp_m"][t])
        prev, prev_scale = N[t], N_scale[t]
        fr_row = fiscal_rows.get(years[t])
        if fr_row is not None and hasattr(fr_row, "psnfl_gbp_m"):
            c.eq("fiscal_table", years[t], "psnfl_gbp_m", float(fr_row.psnfl_gbp_m), N[t], N_scale[t],
                 100 * (t + 1))
        if fr_row is not None and hasattr(fr_row, "debt_interest_gbp_m"):
            c.eq("fiscal_table", years[t], "debt_interest_gbp_m", float(fr_row.debt_interest_gbp_m),
                 fy[years[t]].debt_interest_gbp_m + extra_di[t], N_scale[t], 100 * (t + 1))

    plan = PlanFacts(inst=inst, years=years, T=T, pos=pos, pi=pi, F=F, progs=progs,
                     dept_ids=dept_ids, q=q, nrows=nrows, dept_spend=dept_spend, dept_pie=dept_pie,
                     mf=mf, lim=lim, del_tot=del_tot, cash_total=cash_total, pie_total=pie_total,
                     sav=sav, sav_scale=sav_scale, N=N, N_scale=N_scale, n_alloc=len(alloc),
                     tables=tables, gains=c.gains, mf_owner=mf_owner, extra_di=extra_di,
                     extra_receipts=extra_receipts,
                     pressure=press, avoided=avoided, pids=pids, Q=Q, n_q=n_q)
    # ---------------------------------------------------------------- every declared family
    for family in registry():
        if family.check is not None:
            family.check(c, plan)
    for family in extra_families:
        family.check(c, plan)
    return c.report


def _responses(widths: np.ndarray, gains: np.ndarray, e: np.ndarray) -> np.ndarray:
    """:func:`_response` for many programmes and years at once: ``widths`` (P, S) (0 past a
    programme's last segment), ``gains`` (P, S, M), ``e`` (P, T) → (P, T, M)."""
    start = np.cumsum(widths, axis=1) - widths  # W_{k−1}
    fill = np.clip(e[:, :, None] - start[:, None, :], 0.0, widths[:, None, :])  # (P, T, S)
    out = np.einsum("pts,psm->ptm", fill, gains)
    last = np.maximum((widths > 0).sum(axis=1) - 1, 0)  # index of the last segment
    g_last = np.minimum(gains[np.arange(len(widths)), last], 0.0)  # (P, M): a harm goes on
    beyond = np.maximum(e - widths.sum(axis=1)[:, None], 0.0)  # (P, T)
    return out + beyond[:, :, None] * g_last[:, None, :]


def _objective(c: _Checker, inst: Instance, e: np.ndarray, pids: list, T: int, Lw: np.ndarray,
               objective, obj_in, obj_term, rows_per_q: int, cash_spend: float = 0.0,
               net_cost: float = 0.0) -> None:
    """``e``: effective activity e[p,t] (P, T), rows in the order of ``pids`` (real spend when
    there are no pressures and no avoided demand); ``Lw`` (P, K+1) the lag weights ℓ_p[k];
    ``net_cost``: λ·C, subtracted in objective.kind net_value."""
    s = inst.settings
    missions = [m.id for m in s.missions]
    M = len(missions)
    K = Lw.shape[1] - 1
    dsc = s.discounting
    delta = np.array([green_book_discount(m.discount_rate if m.discount_rate is not None else dsc.rate,
                                          dsc.rate_after_30, dsc.rate_after_75, T + K,
                                          m.discount_rate is not None) for m in s.missions])
    per = s.persistence
    for t in range(T, T + K):  # persistence of effects landing after the horizon
        after = t - T + 1
        delta[:, t] *= 0.0 if (per.terminal_years is not None and after > per.terminal_years) \
            else (1.0 - per.terminal_fade_per_year) ** after
    w = np.array([m.weight for m in s.missions])
    segs = defaultdict(dict)
    for sg in inst.segments:
        segs[sg.programme].setdefault(sg.segment, [sg.width_gbp_m, np.zeros(M)])
        segs[sg.programme][sg.segment][1][missions.index(sg.mission)] = sg.gain_per_gbp_m
    with_curve = [i for i, pid in enumerate(pids) if pid in segs]
    S = max((len(segs[pids[i]]) for i in with_curve), default=0)
    widths = np.zeros((len(with_curve), S))
    gains = np.zeros((len(with_curve), S, M))
    by_id = {p.id: p for p in inst.programmes}
    base = np.array([by_id[pids[i]].baseline_gbp_m for i in with_curve], dtype=float)
    for j, i in enumerate(with_curve):
        ks = sorted(segs[pids[i]])
        widths[j, :len(ks)] = [segs[pids[i]][k][0] for k in ks]
        gains[j, :len(ks)] = [segs[pids[i]][k][1] for k in ks]
    ec = e[with_curve]
    # metric gain of year-τ activity against the baseline's, per programme and mission
    dgain = _responses(widths, gains, ec) - _responses(widths, gains, base[:, None])  # (P', T, M)
    Lc = Lw[with_curve]
    value = np.zeros((M, T + K))
    top = np.abs(gains).max(axis=1) if S else np.zeros((len(with_curve), M))  # (P', M)
    slope = 0.0  # bound on |d objective / d q| summed over all q, for the rounding allowance
    for k in range(K + 1):  # (M, T) effect of year-τ spend in year τ+k
        if not Lc[:, k].any():
            continue
        value[:, k:k + T] += np.einsum("p,ptm->mt", Lc[:, k], dgain)
        slope += float(Lc[:, k] @ ((top * w[None, :]) @ delta[:, k:k + T].sum(axis=1)))
    contrib = w[:, None] * delta * value
    in_h = float(contrib[:, :T].sum())
    term = float(contrib[:, T:].sum())
    scale = float(np.abs(contrib).sum())
    allowance = slope * rows_per_q * (c.rounding + 1e-9)
    c.gains = value  # gain[m,t] in metric units, read by the mission_target check
    if s.objective.kind == "target_cost":
        # target mode (models/targets.py): objective = −total cash spend (targets: their family)
        in_h, term = -cash_spend, 0.0
        scale, allowance = abs(cash_spend), rows_per_q * (c.rounding + 1e-9) * len(pids) * T
    in_h -= net_cost  # net_value objective: the cost of the extra funds is in-horizon
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


class _Counts:
    """``nrows[(programme, t)]``: allocation rows per programme-year, over an array."""

    def __init__(self, counts: np.ndarray, pos: dict):
        self.counts, self.pos = counts, pos

    def __getitem__(self, key) -> int:
        pid, t = key
        i = self.pos.get(pid)
        return 0 if i is None else int(self.counts[i, t])

    def values(self):
        return self.counts.ravel().tolist()


class _Grid:
    """``grid[(department, ...)]`` over an array whose first axis is the department."""

    def __init__(self, arr: np.ndarray, pos: dict):
        self.arr, self.pos = arr, pos

    def __getitem__(self, key) -> float:
        i = self.pos.get(key[0])
        return 0.0 if i is None else float(self.arr[(i, *key[1:])])

    def get(self, key, default=0.0):
        return self[key] if key[0] in self.pos else default


def check_result(inst_gbp_m: Instance, res, extra_families=()) -> CheckReport:
    """Check an in-memory :class:`allocator.results.Result` solved in £m."""
    return check_plan(inst_gbp_m, res.tables, objective=res.objective,
                      objective_in_horizon=res.objective_in_horizon,
                      objective_terminal=res.objective_terminal, extra_families=extra_families)


__all__ = ["CheckReport", "PlanFacts", "Violation", "check_plan", "check_result", "green_book_discount",
           "parse_year_label"]
