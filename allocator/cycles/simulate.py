"""Rolling-horizon simulation of one Spending Review regime along one economic path.

One :class:`CycleSimulator` per worker: it builds the allocation LP once (a
:class:`~allocator.session.ModelSession` with elastic fiscal rules) and re-solves it by
changing parameters only. For each year t = 0..T−1:

1. **Review** (at t = 0, then every L years, or at t when a trigger fired at the end of
   t−1; a review can be brought forward, never pushed back). The forecast made at the
   start of t (realised years < t, expected years >= t) is pushed with ``set_fiscal``;
   the years already lived are fixed to what happened (``fix_years(t, x)``); the LP is
   re-solved over the remaining horizon. The plan's settlements for years t..t+L−1 are
   then executed until the next review, corrected by each year's Budget. Planning uses
   the regime's certainty factors (``set_gain_factors``), holds back the central reserve
   from the RDEL envelope and counts it as spent, and treats every fiscal rule and the
   envelope as elastic with a large penalty (a minimum-breach plan when no plan keeps
   every rule); the session's second stage picks one plan from the optimal face.

   **Budget** (every other year, ``uncertainty.budgets``): the same re-plan, but each
   settled limit of the remaining settled years may move by at most ±b of its settled
   value and each year's DEL total by at most ±β (column bounds and two added rows per
   year; :meth:`CycleSimulator.budget_band`).

   **Fiscal event**: each year's review or Budget tests the stability and investment
   rules on its forecast for the target year τ(t) (the first target year >= t + 2, the
   third forecast year) and the welfare cap for its cap year; a failure is a breach.

2. **Outturn** of year t with the realised receipts, AME and GDP. Pressure on the
   stability rule (a target year whose current balance falls below the required
   margin m) is absorbed in the declared order:

       headroom H  (the plan kept CB − m >= H; shortfalls up to H just use it up)
       → the reserve (not spent: CB rises by up to the reserve)
       → in-year cuts to unprotected resource spending: first unspent settlement,
         then the least valuable spend (lowest mission value per £m), within programme
         floors, ramp limits, department real floors and the Mission Fund share, at most
         ``max_in_year_cut_share`` of unprotected resource spend; PIE is never cut
       → what is left is an outturn miss (reported apart from breaches).

   The investment rule (PSNFL falling as a share of GDP, PSNFL carried with realised
   flows) and the welfare cap are compared with the outturn too (outturn misses).

3. **Triggers** (end of year t, when the next scheduled review is later than t+1), bad
   news and the mirrored good news: real GDP growth below / above a threshold; receipts
   short of / above the last review's forecast by more than a share; forecast stability
   headroom in the remaining target years falling below a threshold / risen by more than
   a threshold since the last review. Any one reopens the review at t+1.

Settlements are cash limits per department, category and year (``settlement_profile:
annual``); with ``flat_real`` the in-year cuts and the Budgets are switched off (a limit
cannot be cut in one year alone) and pressure goes straight from the reserve to an
outturn miss.
"""

from __future__ import annotations

import time

import numpy as np

from allocator.errors import AllocatorError
from allocator.models.constraints import fiscal_rule_families
from allocator.schema import Instance
from allocator.session import ModelSession

from .regime import Regime, piece_factors
from .settings import UncertaintySettings
from .uncertainty import EconomicPath, central_forecast, forecast, realised

ELASTIC_FAMILIES = fiscal_rule_families()  # as declared (``Rows.fiscal_rule``): envelopes and fiscal rules
TOL = 1e-6
HEADROOM_TOL_GBP_M = 1e-3  # £m: headroom "below" a threshold means below it by more than this
TARGET_OFFSET = 2  # a fiscal event at the start of year t tests the year t + 2 (third forecast year)


class SimulationError(AllocatorError):
    """A re-plan failed (the LP has no solution even with elastic fiscal rules)."""


class CycleSimulator:
    def __init__(self, instance: Instance, us: UncertaintySettings, unique_plan: bool | None = None):
        self.instance, self.us = instance, us
        s = instance.settings
        # every re-plan and Budget picks its plan by the second stage (docs/formulation.md §4b)
        # unless the instance (unique_plan.enabled) or the caller switches it off
        self.session = ModelSession(instance, unique_plan=unique_plan)
        self.session.add_breach_slacks(ELASTIC_FAMILIES, us.absorption.breach_penalty_per_gbp_m)
        # Past years are fixed to values from earlier solves, whose equality rows (funding
        # balance, PSNFL) hold to HiGHS's 1e-7 tolerance; with every column of such a row
        # fixed, that residual must still pass. Settlement rows are equalities too in years
        # without an envelope (and chain with split funding rows), so two residuals can add up:
        # 1e-5 £m (£10) is 1e-11 of the largest figures.
        self.session.backend.set_option("primal_feasibility_tolerance", 1e-5)
        md, lp, e = self.session.model.data, self.session.model.lp, self.session.model.expr
        self.md, self.lp, self.e = md, lp, e
        T = self.T = md.T
        self.base = central_forecast(instance)
        self.pi = self.base["deflator"]
        fr = s.fiscal_rules
        self.fr = fr
        # debt-interest feedback (models/constraints/fiscal_rules.py): ΔDI_t = ι (N_{t−1} − N^f_{t−1})
        from allocator.models.constraints.fiscal_rules import debt_interest_rate, psnfl_forecast_previous

        self.iota = debt_interest_rate(self.session.model)
        self.Nf_prev = psnfl_forecast_previous(self.session.model)
        self.H, self.m = fr.headroom_gbp_m, fr.stability_rule.required_margin_gbp_m
        on = s.constraints
        self.stab_target = np.array([on.stability_rule and y in fr.stability_rule.target_years
                                     for y in md.years])
        self.inv_target = np.array([on.investment_rule and y in fr.investment_rule.target_years
                                    for y in md.years])
        wy = fr.welfare_cap_years
        caps = {f.year: f.welfare_cap_gbp_m for f in instance.fiscal}
        self.welfare_years = np.array([on.welfare_cap and (y in wy if wy is not None else
                                                           caps[y] is not None) for y in md.years])
        self.discount = 1.0 / (1.0 + s.discounting.rate) ** np.arange(T)
        self.reserve = us.absorption.reserve_share_of_rdel * self.base["rdel_envelope_gbp_m"]
        if not np.all(np.isfinite(self.reserve)):
            self.reserve = np.zeros(T)
        self.pie_sigma = np.array(s.pie.share_path(T)) if on.pie_share else np.zeros(T)
        self.decision = self.session.col_year >= 0
        self._plan0: dict[Regime, np.ndarray] = {}
        self._basis0: dict = {}
        self.replans, self.replan_s, self.highs_s = 0, 0.0, 0.0  # re-plans and their wall time
        self.cold_retries = 0  # re-plans solved again from a cold start
        self.failed_replans = 0  # re-plans refused even so, on the current path
        self._factors: dict[Regime, np.ndarray] = {}
        self._active: Regime | None = None
        self._prepare_cuts(s)
        self._prepare_budgets(s)
        # fiscal events test each rule on the forecast for its target year (docs/cycles.md §5b)
        self.stab_targets = np.flatnonzero(self.stab_target)
        self.inv_targets = np.flatnonzero(self.inv_target)

    # ------------------------------------------------------------------ set-up
    def _prepare_cuts(self, s) -> None:
        md, lp = self.md, self.lp
        T = self.T
        split = (set(lp.var_blocks["funding"].index["programme"])
                 | set(lp.var_blocks["mission_fund"].index["programme"]))
        self.cuts_on = s.settlement_profile == "annual" and self.us.absorption.max_in_year_cut_share > 0
        cand = [p for p in range(md.P) if md.programmes[p] not in split and md.prog_category[p] == 0
                and not md.prog_pie[p] and md.prog_ame_saving[p] == 0
                and not (s.constraints.demand_floors and np.isfinite(md.prog_demand_floor[p]))]
        # (statutory demand-led services are not cut in-year: their demand floor must hold)
        self.cut_progs = np.array(cand, dtype=int)
        xb = lp.var_blocks["x"]
        pieces = np.flatnonzero(np.isin(md.piece_prog, self.cut_progs))
        self.cut_pieces = pieces
        self.cut_piece_col0 = xb.start + pieces * T  # + t
        seg = md.piece_seg[pieces]
        self.cut_piece_rank = np.where(seg == 0, 10**6, seg)  # the tail piece is cut first
        sb = lp.var_blocks["settlement"]
        self.settle_col = np.full((md.D, T), -1, dtype=int)
        if s.settlement_profile == "annual":
            idx = sb.index
            dpos = {d: i for i, d in enumerate(md.departments)}
            ypos = {y: t for t, y in enumerate(md.years)}
            for j, (d, per, cat) in enumerate(zip(idx["department"], idx["period"], idx["category"])):
                if cat == "resource":
                    self.settle_col[dpos[d], ypos[per]] = sb.start + j
        # departments whose year-t resource limit an in-year cut may not move: a fixed settled
        # total, a devolved limit set by Barnett or a department whose limit drives one, a
        # committed path (models/constraints/settlements.py, barnett.py)
        inst, on = self.instance, s.constraints
        self.cut_pinned = np.zeros((md.D, T), dtype=bool)
        pos = {y: t for t, y in enumerate(md.years)}
        if on.settled_totals:
            for r in inst.settled:
                if r.fixed and r.category == "resource":
                    self.cut_pinned[md.departments.index(r.department), pos[r.year]] = True
        if on.barnett:
            for b in inst.barnett:
                self.cut_pinned[md.departments.index(b.devolved), :] = True
                self.cut_pinned[md.departments.index(b.department), :] = True
        if on.committed_paths:
            for r in inst.committed:
                self.cut_pinned[md.departments.index(r.department), pos[r.year]] = True
        mfb = lp.var_blocks["mission_fund"]
        self.mf_share = (s.mission_fund.max_share_of_del
                         if (s.constraints.mission_fund and mfb.size) else 0.0)
        self.mf_cols = [mfb.start + np.flatnonzero(mfb.index["year"].to_numpy() == y)
                        for y in md.years]

    def _prepare_budgets(self, s) -> None:
        """Budget corrections: the settled limit columns (one per department, category and
        year with ``settlement_profile: annual``) and one added row per category and year
        holding that year's DEL total (limits + Mission Fund) in a band; free unless a Budget
        sets it."""
        md, e, T = self.md, self.e, self.T
        self.budgets_on = self.us.budgets.enabled and s.settlement_profile == "annual"
        self.limit_col = np.full((md.D, 2, T), -1, dtype=int)
        if not self.budgets_on:
            return
        L = e.limit.tocsr()
        for r in range(L.shape[0]):  # row (2d + c)T + t
            lo, hi = L.indptr[r], L.indptr[r + 1]
            if hi - lo == 1 and abs(L.data[lo] - 1.0) < 1e-12:
                d, rem = divmod(r, 2 * T)
                c, t = divmod(rem, T)
                self.limit_col[d, c, t] = L.indices[lo]
        self.total_rows = self.session.add_rows(e.del_total, np.full(2 * T, -np.inf),
                                                np.full(2 * T, np.inf))
        self._rows_free = True

    def _free_total_rows(self) -> None:
        if self.budgets_on and not self._rows_free:
            n = len(self.total_rows)
            self.session.set_row_bounds(self.total_rows, np.full(n, -np.inf), np.full(n, np.inf))
            self._rows_free = True

    def budget_band(self, t: int, end: int, settled: np.ndarray):
        """The Budget at the start of year t may move, in years t..end−1 (the remaining
        settled years), each limit L_{d,c,y} within (1 ± b)·L*_{d,c,y} and each DEL total
        Σ_d L_{d,c,y} + MF_{c,y} within (1 ± β)·S*_{c,y}, where * is the plan settled at the
        last review (b = ``limit_band``, β = ``total_band``). Returns (cols, lo, hi) of the
        limit columns and (lo, hi) of the 2T total rows."""
        b, beta = self.us.budgets.limit_band, self.us.budgets.total_band
        lim = (self.e.limit @ settled).reshape(self.md.D, 2, self.T)
        tot = (self.e.del_total @ settled).reshape(2, self.T)
        yrs = np.zeros(self.T, dtype=bool)
        yrs[t:end] = True
        sel = (self.limit_col >= 0) & yrs[None, None, :]
        v = lim[sel]
        cols = self.limit_col[sel]
        lo, hi = np.minimum((1 - b) * v, (1 + b) * v), np.maximum((1 - b) * v, (1 + b) * v)
        rlo = np.where(yrs[None, :], np.minimum((1 - beta) * tot, (1 + beta) * tot), -np.inf)
        rhi = np.where(yrs[None, :], np.maximum((1 - beta) * tot, (1 + beta) * tot), np.inf)
        return (cols, lo, hi), (rlo.reshape(-1), rhi.reshape(-1))

    def _use_regime(self, regime: Regime) -> None:
        if self._active == regime:
            return
        if regime not in self._factors:
            self._factors[regime] = piece_factors(regime, self.us, self.instance, self.md)
        self.session.set_gain_factors(self._factors[regime])
        self._active = regime

    # ------------------------------------------------------------------ accounting
    def _fiscal_parts(self, x: np.ndarray):
        e = self.e
        dels = (e.del_total @ x).reshape(2, self.T)
        sav = e.ame_saving @ x + e.ame_saving_const
        return dels[0], dels[1], sav

    def _plan_interest(self, x: np.ndarray) -> np.ndarray:
        """The plan's extra debt interest ΔDI_t from its own PSNFL path (0 without feedback)."""
        if not self.iota:
            return np.zeros(self.T)
        nb = self.lp.var_blocks["psnfl"]
        N = x[nb.start:nb.start + self.T]
        return self.iota * (np.concatenate([[self.fr.psnfl_initial_gbp_m], N[:-1]]) - self.Nf_prev)

    def _stability_margin(self, F: dict, rdel, sav, reserve_spent, interest=0.0) -> np.ndarray:
        """Current balance less the required margin m (cash £m), every year; ``interest`` is
        the extra debt interest ΔDI (current AME)."""
        return (F["receipts_gbp_m"] - rdel - reserve_spent - (F["ame_current_gbp_m"] - sav + interest)
                - self.base["depreciation_gbp_m"] - self.m)

    # ------------------------------------------------------------------ re-plan
    def _replan(self, t: int, F: dict, x: np.ndarray | None, reserve_spent: np.ndarray,
                Freal: dict, regime: Regime) -> np.ndarray:
        be = self.session.backend
        if t == 0:
            # The first plan uses the central forecast on every path: solve it once per regime,
            # from a cold start, and start every path of the regime from its basis, so that a
            # path's results do not depend on which paths a worker solved before it.
            if regime not in self._plan0:
                be.clear_solution()
                self._plan0[regime] = self._solve_plan(0, F, None, reserve_spent, Freal, regime)
                self._basis0[regime] = be.get_basis()
            be.clear_solution()
            be.set_basis(self._basis0[regime])
            return self._plan0[regime].copy()
        return self._solve_plan(t, F, x, reserve_spent, Freal, regime)

    def _solve_plan(self, t: int, F: dict, x: np.ndarray | None, reserve_spent: np.ndarray,
                    Freal: dict, regime: Regime, band=None) -> np.ndarray:
        t0 = time.perf_counter()
        T = self.T
        past = np.arange(T) < t
        cols = {k: F[k].copy() for k in ("gdp_gbp_m", "receipts_gbp_m", "welfare_capped_gbp_m",
                                          "debt_interest_gbp_m")}
        ame = F["ame_current_gbp_m"] + self.reserve
        ame[past] = Freal["ame_current_gbp_m"][past] + reserve_spent[past]
        cols["ame_current_gbp_m"] = ame
        cols["rdel_envelope_gbp_m"] = np.where(past, np.inf, F["rdel_envelope_gbp_m"] - self.reserve)
        cols["cdel_envelope_gbp_m"] = np.where(past, np.inf, F["cdel_envelope_gbp_m"])
        self.session.set_fiscal(**cols)
        if t == 0 or x is None:
            self.session.release()
        else:
            self.session.fix_years(t, x)
        if band is None:
            self._free_total_rows()
        else:
            (cols, lo, hi), (rlo, rhi) = band
            self.session.bound_columns(cols, lo, hi)
            self.session.set_row_bounds(self.total_rows, rlo, rhi)
            self._rows_free = False
        q = self.session.solve()
        if q.status != "optimal" or q.x is None:
            # The fixed past is the last plan, feasible to the tolerance of the solve that made
            # it; scaled, a row of a past year can miss by a few 1e-5 £m (a funding balance of
            # one programme: measured 2.9e-5 after a chain of Budgets), which the 1e-5 tolerance
            # then refuses. Solve once more from a cold start with 1e-4 £m (£100) before giving up.
            be = self.session.backend
            for tol in (1e-4, 1e-3):
                be.clear_solution()
                be.set_option("primal_feasibility_tolerance", tol)
                try:
                    q = self.session.solve()
                finally:
                    be.set_option("primal_feasibility_tolerance", 1e-5)
                self.cold_retries += 1
                if q.status == "optimal" and q.x is not None:
                    break
        if (q.status != "optimal" or q.x is None) and x is not None and t > 0:
            # still refused (a past row off by more than 1e-3 £m): the standing plan carries
            # on unchanged, and the path counts a failed re-plan (``failed_replans``)
            self.failed_replans += 1
            self.session.backend.clear_solution()
            return x.copy()
        if q.status != "optimal" or q.x is None:
            what = "Budget correction" if band is not None else "re-plan"
            raise SimulationError(f"{what} at {self.md.years[t]} ({regime.label}) is {q.status}: "
                                  "no plan meets the hard constraints (floors, ramps, PIE) even "
                                  "with elastic fiscal rules")
        new = q.x.copy()
        if x is not None and t > 0:
            keep = self.decision & (self.session.col_year < t)
            new[keep] = x[keep]
        self.replans += 1
        self.replan_s += time.perf_counter() - t0
        self.highs_s += q.solve_s
        return new

    # ------------------------------------------------------------------ in-year cuts
    def _cut(self, t: int, x: np.ndarray, need_cash: float) -> float:
        """Cut year-t unprotected resource spending by up to ``need_cash`` (cash £m) in place;
        return the cash cut. Unspent settlement goes first (no value lost), then the
        response pieces with the lowest mission value per £m."""
        if not self.cuts_on or need_cash <= 0:
            return 0.0
        md, e, T, pi = self.md, self.e, self.T, self.pi[t]
        q = (e.q @ x).reshape(md.P, T)
        lim = (e.limit @ x).reshape(md.D, 2, T)[:, :, t]
        spend = (e.dept_spend @ x).reshape(md.D, 2, T)[:, :, t]
        floor = md.dept_real_floor * md.dept_baseline.sum(axis=1) * pi
        allow_d = np.where(md.dept_real_floor > 0, lim.sum(axis=1) - floor, np.inf)
        allow_d = np.maximum(allow_d, 0.0)
        allow_d[self.cut_pinned[:, t]] = 0.0  # limits fixed by settled totals, Barnett, commitments
        budget = min(need_cash, self.us.absorption.max_in_year_cut_share
                     * float(pi * q[self.cut_progs, t].sum()))
        if self.mf_share > 0:
            room = self.mf_share * float(pi * q[:, t].sum()) - float(x[self.mf_cols[t]].sum())
            budget = min(budget, max(room, 0.0) / self.mf_share)
        done = 0.0
        # 1. unspent resource settlement
        for d in range(md.D):
            c = self.settle_col[d, t]
            if c < 0 or budget - done <= TOL:
                continue
            take = min(max(lim[d, 0] - spend[d, 0], 0.0), allow_d[d], budget - done)
            if take > TOL:
                x[c] -= take
                allow_d[d] -= take
                done += take
        # 2. the least valuable spending
        qt, qprev = q[:, t], (q[:, t - 1] if t > 0 else md.prog_baseline)
        allow_p = qt - md.prog_floor
        ramp = md.prog_ramp
        allow_p = np.minimum(allow_p, ramp + (qt - qprev))
        if t < T - 1:
            allow_p = np.minimum(allow_p, ramp - (q[:, t + 1] - qt))
        allow_p = np.maximum(allow_p, 0.0)
        cols = self.cut_piece_col0 + t
        coef = self.lp.cost[cols]
        order = np.lexsort((-self.cut_piece_rank, coef))
        for k in order:
            if budget - done <= TOL:
                break
            col, i = cols[k], self.cut_pieces[k]
            p = md.piece_prog[i]
            d = md.prog_owners[p][0]
            lam = md.pressure[p, t]  # real spend per unit of the piece (pressure index)
            take = min(x[col] * lam, allow_p[p], allow_d[d] / pi, (budget - done) / pi)
            if take <= TOL:
                continue
            x[col] -= take / lam
            x[self.settle_col[d, t]] -= take * pi
            allow_p[p] -= take
            allow_d[d] -= take * pi
            done += take * pi
        return done

    # ------------------------------------------------------------------ one path
    # ------------------------------------------------------------------ fiscal events
    def target_year(self, t: int, targets: np.ndarray) -> int | None:
        """The year a fiscal event at the start of year t tests a rule for: the first of the
        rule's target years at or after t + 2, the third year of that event's forecast period
        (the UK rules' rolling target; 2029-30 until it becomes the third year). None when no
        target year is left in the horizon."""
        later = targets[targets >= t + TARGET_OFFSET]
        return int(later[0]) if len(later) else None

    def forecast_accounts(self, t: int, F: dict, x: np.ndarray, psnfl_prev: float):
        """The forecast at the start of year t of the stability margin (current balance − m)
        and PSNFL of every year s >= t under plan x, the reserve assumed spent, PSNFL carried
        from the realised N_{t−1} with debt interest ΔDI_s = ι (N_{s−1} − N^f_{s−1}).
        Returns (margin, N) arrays (T,), NaN before t."""
        T = self.T
        rdel, cdel, sav = self._fiscal_parts(x)
        margin, N = np.full(T, np.nan), np.full(T, np.nan)
        prev = psnfl_prev
        for s in range(t, T):
            di = self.iota * (prev - self.Nf_prev[s]) if self.iota else 0.0
            margin[s] = (F["receipts_gbp_m"][s] - rdel[s] - self.reserve[s]
                         - (F["ame_current_gbp_m"][s] - sav[s] + di)
                         - self.base["depreciation_gbp_m"][s] - self.m)
            N[s] = (prev + rdel[s] + self.reserve[s] + cdel[s] + F["ame_current_gbp_m"][s] - sav[s] + di
                    + self.base["ame_capital_gbp_m"][s] - F["receipts_gbp_m"][s]
                    + self.base["other_psnfl_flows_gbp_m"][s])
            prev = N[s]
        return margin, N

    def fiscal_event(self, t: int, F: dict, x: np.ndarray, psnfl_prev: float, gdp_prev: float):
        """The rules tested at the fiscal event at the start of year t on its forecast F:
        stability (margin >= 0) and investment (PSNFL falling as a share of GDP) in their
        target years τ(t); the welfare cap (welfare − savings <= cap·(1 + margin)) in every
        cap year not yet past. Returns the three forecast breaches (£m, 0 if kept) and the
        stability target year (or None)."""
        margin, N = self.forecast_accounts(t, F, x, psnfl_prev)
        stab = inv = welf = 0.0
        ts = self.target_year(t, self.stab_targets)
        if ts is not None:
            stab = max(-margin[ts], 0.0)
        ti = self.target_year(t, self.inv_targets)
        if ti is not None:
            Y = F["gdp_gbp_m"]
            Nprev = N[ti - 1] if ti - 1 >= t else psnfl_prev
            Yprev = Y[ti - 1] if ti >= 1 else gdp_prev
            inv = max(N[ti] - (Y[ti] / Yprev) * Nprev, 0.0)
        _, _, sav = self._fiscal_parts(x)
        for y in np.flatnonzero(self.welfare_years & (np.arange(self.T) >= t)):
            welf += max(F["welfare_capped_gbp_m"][y] - sav[y]
                        - self.base["welfare_cap_gbp_m"][y] * (1.0 + self.fr.welfare_cap_margin), 0.0)
        return stab, inv, welf, ts

    # ------------------------------------------------------------------ one path
    def run(self, path: EconomicPath, regime: Regime) -> dict:
        """Simulate ``regime`` on ``path``; return the path's outcome (see measures.py)."""
        from .measures import path_measures

        self._use_regime(regime)
        self.failed_replans = 0
        us, T, fr = self.us, self.T, self.fr
        R = realised(us, self.base, path)
        x = None
        reserve_spent = np.zeros(T)
        stab_out, inv_out, welf_out = np.zeros(T), np.zeros(T), np.zeros(T)  # outturn misses
        stab_fc, inv_fc, welf_fc = np.zeros(T), np.zeros(T), np.zeros(T)  # forecast breaches
        target = [""] * T
        cut, drawn, headroom = np.zeros(T), np.zeros(T), np.zeros(T)
        review = np.zeros(T, dtype=int)  # 1 scheduled review, 2 triggered review
        budget = np.zeros(T, dtype=int)  # 1 a Budget corrected the settled limits
        fired = [""] * T
        psnfl_prev, gdp_prev = fr.psnfl_initial_gbp_m, fr.gdp_initial_gbp_m
        next_review, pending = 0, False
        F_review = planned_min = settled = None
        budgets = regime.budgets and self.budgets_on
        for t in range(T):
            F_now = None
            if t == next_review or pending:
                review[t] = 2 if (pending and t != next_review) else 1
                F_review = F_now = forecast(us, self.base, path, t)
                x = self._replan(t, F_review, x, reserve_spent, R, regime)
                settled = x.copy()
                next_review = t + regime.length
                pending = False
                rdel, _, sav = self._fiscal_parts(x)
                fm = self._stability_margin(F_review, rdel, sav, self.reserve,
                                            self._plan_interest(x)) - self.H
                sel = self.stab_target & (np.arange(T) >= t)
                planned_min = float(fm[sel].min()) if sel.any() else np.inf
            elif budgets:
                # annual Budget: small corrections to the remaining settled years, in a band
                F_now = forecast(us, self.base, path, t)
                band = self.budget_band(t, min(next_review, T), settled)
                x = self._solve_plan(t, F_now, x, reserve_spent, R, regime, band=band)
                budget[t] = 1
            # the fiscal event's forecast test of each rule for its target year
            if F_now is None:
                F_now = forecast(us, self.base, path, t)
            stab_fc[t], inv_fc[t], welf_fc[t], ts = self.fiscal_event(t, F_now, x, psnfl_prev, gdp_prev)
            target[t] = "" if ts is None else self.md.years[ts]
            # outturn of year t
            rdel, cdel, sav = self._fiscal_parts(x)
            di = np.zeros(T)  # extra debt interest on the realised PSNFL
            di[t] = self.iota * (psnfl_prev - self.Nf_prev[t]) if self.iota else 0.0
            margin = self._stability_margin(R, rdel, sav, self.reserve, di)[t]
            res_t = self.reserve[t]
            if self.stab_target[t] and margin < 0:
                pressure = -margin
                drawn[t] = min(pressure, res_t)
                pressure -= drawn[t]
                if pressure > TOL:
                    cut[t] = self._cut(t, x, pressure)
                    pressure -= cut[t]
                stab_out[t] = max(pressure, 0.0)
            reserve_spent[t] = res_t - drawn[t]
            rdel, cdel, sav = self._fiscal_parts(x)
            headroom[t] = self._stability_margin(R, rdel, sav, reserve_spent, di)[t] - self.H
            psnfl = (psnfl_prev + rdel[t] + reserve_spent[t] + cdel[t] + R["ame_current_gbp_m"][t] - sav[t]
                     + di[t]
                     + self.base["ame_capital_gbp_m"][t] - R["receipts_gbp_m"][t]
                     + self.base["other_psnfl_flows_gbp_m"][t])
            gdp = R["gdp_gbp_m"][t]
            if self.inv_target[t]:
                inv_out[t] = max(psnfl - (gdp / gdp_prev) * psnfl_prev, 0.0)
            if self.welfare_years[t]:
                welf_out[t] = max(R["welfare_capped_gbp_m"][t] - sav[t]
                                  - self.base["welfare_cap_gbp_m"][t]
                                  * (1.0 + self.fr.welfare_cap_margin), 0.0)
            # triggers, judged at the end of year t
            if regime.triggers and t + 1 < min(next_review, T):
                fired[t] = self._triggers(t, path, R, F_review, x, planned_min, gdp, gdp_prev)
                pending = bool(fired[t])
            psnfl_prev, gdp_prev = psnfl, gdp
        self.last_x = x
        return path_measures(self, regime, path, x, review=review, budget=budget, fired=fired,
                             headroom=headroom, target=target,
                             stability_breach=stab_fc, investment_breach=inv_fc, welfare_breach=welf_fc,
                             stability_outturn=stab_out, investment_outturn=inv_out,
                             welfare_outturn=welf_out, cut=cut, reserve_drawn=drawn)

    def _triggers(self, t, path, R, F_review, x, planned_min, gdp, gdp_prev) -> str:
        """Bad news: growth below, receipts short, forecast headroom below a threshold. Good
        news (the mirror rules): growth above, receipts above the forecast, forecast headroom
        risen by more than a threshold. A rule set to null is off."""
        tr = self.us.triggers
        why = []
        if tr.gdp_growth_below is not None or tr.gdp_growth_above is not None:
            # inflation of year 0 is not in the instance: take year 1's as its proxy
            inflation = (self.pi[t] / self.pi[t - 1] if t > 0 else
                         (self.pi[1] / self.pi[0] if self.T > 1 else 1.0))
            growth = (gdp / gdp_prev) / inflation - 1.0
            if tr.gdp_growth_below is not None and growth < tr.gdp_growth_below:
                why.append("gdp_growth")
            if tr.gdp_growth_above is not None and growth > tr.gdp_growth_above:
                why.append("gdp_growth_high")
        f = F_review["receipts_gbp_m"][t]
        gap = (R["receipts_gbp_m"][t] - f) / f
        if tr.receipts_shortfall_above is not None and -gap > tr.receipts_shortfall_above:
            why.append("receipts_shortfall")
        if tr.receipts_surplus_above is not None and gap > tr.receipts_surplus_above:
            why.append("receipts_surplus")
        if tr.headroom_below_gbp_m is not None or tr.headroom_rise_above_gbp_m is not None:
            Fn = forecast(self.us, self.base, path, t + 1)
            rdel, _, sav = self._fiscal_parts(x)
            fm = self._stability_margin(Fn, rdel, sav, self.reserve, self._plan_interest(x)) - self.H
            sel = self.stab_target & (np.arange(self.T) > t)
            if sel.any():
                now = float(fm[sel].min())
                # a rule the plan meets exactly sits at 0 ± round-off (either sign, and unit
                # dependent): compare with a tolerance of HEADROOM_TOL_GBP_M
                lim = tr.headroom_below_gbp_m
                if lim is not None and now < lim - HEADROOM_TOL_GBP_M <= planned_min:
                    why.append("headroom")
                if (tr.headroom_rise_above_gbp_m is not None
                        and now - planned_min > tr.headroom_rise_above_gbp_m):
                    why.append("headroom_rise")
        return "+".join(why)


GOOD_NEWS = ("gdp_growth_high", "receipts_surplus", "headroom_rise")
