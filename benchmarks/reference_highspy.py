"""The reference: the same allocation LP built directly with highspy from the instance.

This is an independent implementation of docs/formulation.md (it does not import
``allocator.models``): columns are added with ``Highs.addVars`` and each constraint
family with one ``Highs.addRows`` call, from numpy arrays computed straight from the
:class:`~allocator.schema.Instance`. It measures the physical limit — HiGHS with
nothing around it — and, because it shares no code with the engine's model builder, the
tests comparing its optimum with the engine's check the engine's LP.

Columns (per programme p: pieces i = its segments in order plus a zero-gain tail):

    x[p,i,t] ∈ [0, width_pi]     real £m on piece i in year t
    f[p,d,t] >= 0                 cash funded by owner d (programmes needing a split)
    g[p,t]   >= 0                 Mission Fund cash (eligible programmes)
    S[d,k,c] >= 0                 settlement of department d, period k, category c (cash)
    N[t]     free                 PSNFL

    v[r,t]   free                 demand of invest-to-save target r avoided by prevention

with q[p,t] = Λ[p,t] Σ_i x[p,i,t] − v[p,t] (Λ the pressure index, v = 0 off the targets), δ
including the persistence factor θ after the horizon, limits L[d,c,t] = S[d,k(t),c] π_t/π_k0 and invest-to-save
savings sav_t = Σ_p a_p π_t Σ_k ℓ_p[k] (q[p,t−k] − b_p). Objective: maximise
Σ c[p,i,t] x[p,i,t] + const with c[p,i,τ] = Σ_m w_m γ_pim Σ_k ℓ_p[k] δ_m[τ+k] and
const = −Σ c x̄ (x̄ = the baseline's fill of each piece).
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from allocator.schema import Instance
from allocator.solvers.highs import new_highs

INF = highspy.kHighsInf
FISCAL_COLUMNS = ("gdp_gbp_m", "receipts_gbp_m", "ame_current_gbp_m", "welfare_capped_gbp_m",
                  "welfare_cap_gbp_m", "ame_capital_gbp_m", "depreciation_gbp_m",
                  "other_psnfl_flows_gbp_m", "deflator", "rdel_envelope_gbp_m",
                  "cdel_envelope_gbp_m")


def _discount(rate: float, r30: float, r75: float, n: int, flat: bool) -> np.ndarray:
    r = np.full(n, rate)
    if not flat:
        j = np.arange(n)
        r[j >= 30] = r30
        r[j >= 75] = r75
    out = np.ones(n)
    for j in range(1, n):
        out[j] = out[j - 1] / (1.0 + r[j - 1])
    return out


class ReferenceLP:
    """Build the LP in a fresh ``highspy.Highs``; re-solve warm after bound/cost changes."""

    def __init__(self, inst: Instance, threads: int | None = None):
        t0 = time.perf_counter()
        self.inst = inst
        self.h = new_highs()  # highspy.Highs() with its stdout banner suppressed
        if threads:
            self.h.setOptionValue("threads", int(threads))
        self._read(inst)
        self._columns()
        self._rows()
        self.set_weights(self.w)
        self.build_s = time.perf_counter() - t0

    # ------------------------------------------------------------------ data
    def _read(self, inst: Instance) -> None:
        s = inst.settings
        self.years = s.horizon.labels
        T = self.T = len(self.years)
        by_year = {f.year: f for f in inst.fiscal}
        self.F = {c: np.array([getattr(by_year[y], c) if getattr(by_year[y], c) is not None
                               else np.nan for y in self.years], dtype=float)
                  for c in FISCAL_COLUMNS}
        self.pi = self.F["deflator"]
        self.depts = [d.id for d in inst.departments]
        dix = {d: i for i, d in enumerate(self.depts)}
        self.progs = inst.programmes
        P = len(self.progs)
        lags: dict[str, dict[int, float]] = {}
        for lw in inst.lag_profiles:
            lags.setdefault(lw.profile, {})[lw.lag] = lw.weight
        self.K = max(max(v) for v in lags.values())
        self.lag = np.zeros((P, self.K + 1))
        for p, prog in enumerate(self.progs):
            for k, w in lags[prog.lag_profile].items():
                self.lag[p, k] = w
        self.missions = [m.id for m in s.missions]
        M = len(self.missions)
        mix = {m: i for i, m in enumerate(self.missions)}
        dc = s.discounting
        self.delta = np.array([_discount(m.discount_rate if m.discount_rate is not None else dc.rate,
                                         dc.rate_after_30, dc.rate_after_75, T + self.K,
                                         m.discount_rate is not None) for m in s.missions])
        per = s.persistence  # θ: effects landing j >= 1 years after the horizon count (1-φ)^j, 0 past Y
        j = np.arange(T + self.K) - T + 1
        theta = np.where(j <= 0, 1.0, (1.0 - per.terminal_fade_per_year) ** np.maximum(j, 0))
        if per.terminal_years is not None:
            theta[j > per.terminal_years] = 0.0
        self.delta = self.delta * theta[None, :]
        pix = {prog.id: i for i, prog in enumerate(inst.programmes)}
        yix = {y: t for t, y in enumerate(self.years)}
        growth = np.zeros((P, T))
        for r in inst.pressures:
            growth[pix[r.programme], yix[r.first_year]:yix[r.last_year] + 1] += r.growth_per_year
        self.Lam = np.cumprod(1.0 + growth, axis=1)  # Λ[p,t]
        self.its = [(pix[r.programme], pix[r.target], r.saving_per_gbp_m) for r in inst.invest_to_save]
        self.targets = sorted({r for _, r, _ in self.its})
        self.vpos = np.full(P, -1, dtype=int)
        self.vpos[self.targets] = np.arange(len(self.targets))
        self.w = np.array([m.weight for m in s.missions], dtype=float)
        curves: dict[str, dict[int, list]] = {}
        for sg in inst.segments:
            e = curves.setdefault(sg.programme, {}).setdefault(sg.segment, [sg.width_gbp_m, np.zeros(M)])
            e[1][mix[sg.mission]] = sg.gain_per_gbp_m
        self.owners = [[dix[o] for o in prog.owners] for prog in self.progs]
        self.cat = np.array([0 if prog.category == "resource" else 1 for prog in self.progs])
        self.base = np.array([prog.baseline_gbp_m for prog in self.progs])
        # pieces
        pp, width, gain, fill = [], [], [], []
        for p, prog in enumerate(self.progs):
            left = prog.baseline_gbp_m
            for k in sorted(curves.get(prog.id, {})):
                wd, g = curves[prog.id][k]
                pp.append(p); width.append(wd); gain.append(g); fill.append(min(wd, max(left, 0.0)))
                left -= wd
            # tail: a benefit stops beyond the last segment, a harm (negative gain) goes on
            last = np.minimum(gain[-1], 0.0) if pp and pp[-1] == p else np.zeros(M)
            pp.append(p); width.append(np.inf); gain.append(last); fill.append(max(left, 0.0))
        self.piece_prog = np.array(pp)
        self.width = np.array(width)
        self.gain = np.array(gain).reshape(-1, M)
        self.fill = np.array(fill)
        use_mf = s.constraints.mission_fund and s.mission_fund.max_share_of_del > 0
        mf_ok = [prog.mission_fund_eligible or len(prog.owners) >= 2 for prog in self.progs]
        self.mf = [p for p in range(P) if use_mf and mf_ok[p]]
        self.split = [p for p in range(P) if len(self.owners[p]) > 1 or (use_mf and mf_ok[p])]
        if s.settlement_profile == "flat_real":
            ypos = {y: t for t, y in enumerate(self.years)}
            self.periods = [(ypos[r.start], ypos[r.end]) for r in s.spending_reviews]
        else:
            self.periods = [(t, t) for t in range(T)]
        self.period_of = np.zeros(T, dtype=int)
        for k, (a, b) in enumerate(self.periods):
            self.period_of[a:b + 1] = k

    # ------------------------------------------------------------------ columns
    def _columns(self) -> None:
        T, h = self.T, self.h
        n = 0

        def add(lb, ub):
            nonlocal n
            lb, ub = np.asarray(lb, float), np.asarray(ub, float)
            h.addVars(len(lb), np.clip(lb, -INF, INF), np.clip(ub, -INF, INF))
            start = n
            n += len(lb)
            return start

        N_pieces = len(self.piece_prog)
        self.c_x = add(np.zeros(N_pieces * T), np.repeat(self.width, T))  # x[i,t] at i*T+t
        self.f_keys = [(p, d) for p in self.split for d in self.owners[p]]
        self.c_f = add(np.zeros(len(self.f_keys) * T), np.full(len(self.f_keys) * T, np.inf))
        self.c_g = add(np.zeros(len(self.mf) * T), np.full(len(self.mf) * T, np.inf))
        D, Kp = len(self.depts), len(self.periods)
        self.c_s = add(np.zeros(D * Kp * 2), np.full(D * Kp * 2, np.inf))  # S at (d*Kp+k)*2+c
        self.c_n = add(np.full(T, -np.inf), np.full(T, np.inf))
        V = len(self.targets)
        self.c_v = add(np.full(V * T, -np.inf), np.full(V * T, np.inf))  # v[r,t] avoided demand
        self.n = n

    def _rows(self) -> None:
        s, T, pi = self.inst.settings, self.T, self.pi
        on = s.constraints
        P, D = len(self.progs), len(self.depts)
        order = np.argsort(self.piece_prog, kind="stable")
        counts = np.bincount(self.piece_prog, minlength=P)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.rows = {}

        def q_terms(p, t, scale):
            """Entries of scale·q[p,t] = scale·(Λ[p,t] Σ_i x[i,t] − v[p,t]) (arrays)."""
            p, t = np.atleast_1d(p).astype(int), np.atleast_1d(t).astype(int)
            scale = np.broadcast_to(np.asarray(scale, dtype=float), p.shape)
            reps = counts[p]
            pr = np.repeat(np.arange(len(p)), reps)
            offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
            piece = order[np.repeat(first[p], reps) + offs]
            r = pr
            c = self.c_x + piece * T + np.repeat(t, reps)
            v = np.repeat(scale * self.Lam[p, t], reps)
            tg = np.flatnonzero(self.vpos[p] >= 0)
            if len(tg):
                r = np.concatenate([r, tg])
                c = np.concatenate([c, self.c_v + self.vpos[p[tg]] * T + t[tg]])
                v = np.concatenate([v, -scale[tg]])
            return r, c, v

        def add_rows(name, nrows, lo, hi, entries):
            """entries: list of (row, col, val) arrays."""
            if nrows == 0:
                return
            r = np.concatenate([e[0] for e in entries]) if entries else np.zeros(0, int)
            c = np.concatenate([e[1] for e in entries]) if entries else np.zeros(0, int)
            v = np.concatenate([e[2] for e in entries]) if entries else np.zeros(0)
            keep = v != 0
            r, c, v = r[keep], c[keep], v[keep]
            o = np.lexsort((c, r))
            r, c, v = r[o], c[o], v[o]
            starts = np.searchsorted(r, np.arange(nrows)).astype(np.int32)
            lo = np.clip(np.broadcast_to(np.asarray(lo, float).ravel() if np.ndim(lo) else lo, (nrows,)), -INF, INF)
            hi = np.clip(np.broadcast_to(np.asarray(hi, float), (nrows,)), -INF, INF)
            start = self.h.getNumRow()
            self.h.addRows(nrows, lo, hi, len(v), starts, c.astype(np.int32), v.astype(float))
            self.rows[name] = (start, nrows)

        self._add_rows = add_rows

        tt = np.arange(T)
        # avoided demand: v[r,t] − Σ σ ℓ_s[k] q[s,t−k] = −Σ σ ℓ_s[k] b_s (sources are never targets)
        V = len(self.targets)
        if V:
            ent = [(np.arange(V * T), self.c_v + np.arange(V * T), np.ones(V * T))]
            rhs = np.zeros(V * T)
            for src, tgt, sig in self.its:
                for kk in range(min(self.K + 1, T)):
                    if self.lag[src, kk] == 0:
                        continue
                    ts = np.arange(kk, T)
                    coef = sig * self.lag[src, kk]
                    r, c, v = q_terms(np.full(len(ts), src), ts - kk, -coef)
                    ent.append((self.vpos[tgt] * T + ts[r], c, v))
                    rhs[self.vpos[tgt] * T + ts] -= coef * self.base[src]
            add_rows("avoided_demand_definition", V * T, rhs, rhs, ent)
            pg, ty = np.repeat(np.array(self.targets), T), np.tile(tt, V)
            r, c, v = q_terms(pg, ty, 1.0)
            add_rows("spend_non_negative", V * T, 0.0, np.inf, [(r, c, v)])
        # demand floors: q[r,t] + v[r,t] >= F_r Λ[r,t]
        if getattr(on, "demand_floors", False):
            ps = np.array([p for p in range(P) if self.progs[p].demand_floor_gbp_m is not None], dtype=int)
            pg, ty = np.repeat(ps, T), np.tile(tt, len(ps))
            r, c, v = q_terms(pg, ty, 1.0)
            keep = c < self.c_v if V else np.ones(len(c), bool)  # q + v: drop the −v entries
            add_rows("demand_floor", len(pg),
                     np.array([self.progs[p].demand_floor_gbp_m for p in pg]) * self.Lam[pg, ty],
                     np.inf, [(r[keep], c[keep], v[keep])])
        # programme floors and caps: q[p,t] >= floor, <= cap
        if on.programme_floors:
            ps = np.array([p for p in range(P) if self.progs[p].floor_gbp_m > 0], dtype=int)
            pg, ty = np.repeat(ps, T), np.tile(tt, len(ps))
            r, c, v = q_terms(pg, ty, 1.0)
            add_rows("programme_floor", len(pg), np.repeat([self.progs[p].floor_gbp_m for p in ps], T),
                     np.inf, [(r, c, v)])
        if on.programme_caps:
            ps = np.array([p for p in range(P) if self.progs[p].cap_gbp_m is not None], dtype=int)
            pg, ty = np.repeat(ps, T), np.tile(tt, len(ps))
            r, c, v = q_terms(pg, ty, 1.0)
            add_rows("programme_cap", len(pg), -np.inf,
                     np.repeat([self.progs[p].cap_gbp_m for p in ps], T), [(r, c, v)])
        # programme groups (weighted sums of members' real spend) and ratios, resources, budget:
        # written from docs/instance_format.md, not from models/constraints
        pid = {prog.id: p for p, prog in enumerate(self.progs)}
        inst = self.inst

        def weighted_sum_rows(name, items, lo, hi):
            """items: one list of (programme index, coefficient) per subject; a row per year."""
            ent = []
            for j, terms in enumerate(items):
                for p, a in terms:
                    r, c, v = q_terms(np.full(T, p), tt, a)
                    ent.append((j * T + tt[r], c, v))
            add_rows(name, len(items) * T, lo, hi, ent)

        mem = {g.id: [] for g in inst.groups}
        for m in inst.group_members:
            mem[m.group].append((pid[m.programme], m.weight))
        fl = [g for g in inst.groups if g.floor_gbp_m > 0]
        if fl:
            weighted_sum_rows("group_floor", [mem[g.id] for g in fl],
                              np.repeat([g.floor_gbp_m for g in fl], T), np.inf)
        cp = [g for g in inst.groups if g.cap_gbp_m is not None]
        if cp:
            weighted_sum_rows("group_cap", [mem[g.id] for g in cp], -np.inf,
                              np.repeat([g.cap_gbp_m for g in cp], T))
        if inst.ratios:
            weighted_sum_rows("programme_ratio", [[(pid[r.programme], 1.0), (pid[r.of], -r.ratio)]
                                                  for r in inst.ratios], -np.inf, 0.0)
        if inst.settings.budget is not None:
            b = inst.settings.budget
            money = [(p, 1.0) for p, prog in enumerate(self.progs)
                     if getattr(prog, "activity_unit", None) is None]
            weighted_sum_rows("budget", [money], -np.inf,
                              b.amount_gbp_m * (1.0 + b.growth_per_year) ** tt)
        used = {}
        for u in inst.resource_use:
            used.setdefault(u.resource, []).append((pid[u.programme], u.use_per_gbp_m))
        rs = [r for r in inst.resources if r.id in used]
        if rs and inst.settings.constraints.resource_limits:
            explicit = {(x.resource, x.year): x.limit for x in inst.resource_limits}
            lim = np.concatenate([[explicit.get((r.id, y), r.limit * (1 + r.growth_per_year) ** t)
                                   for t, y in enumerate(self.years)] for r in rs])
            weighted_sum_rows("resource_limit", [used[r.id] for r in rs], -np.inf, lim)
        # ramp limits: −R <= q[p,t] − q[p,t−1] <= R (q[p,−1] = baseline)
        if on.ramp_limits:
            ps = np.array([p for p in range(P) if self.progs[p].ramp_limit_gbp_m is not None],
                          dtype=int)
            pg, ty = np.repeat(ps, T), np.tile(tt, len(ps))
            R = np.repeat([self.progs[p].ramp_limit_gbp_m for p in ps], T)
            shift = np.where(ty == 0, self.base[pg], 0.0)
            now = q_terms(pg, ty, 1.0)
            later = ty > 0
            prev = q_terms(pg[later], ty[later] - 1, -1.0)
            prev = (np.flatnonzero(later)[prev[0]], prev[1], prev[2])
            add_rows("ramp_limit", len(pg), -R + shift, R + shift, [now, prev])

        # department-funded cash spend, per (d, c, t) row index (2d+c)T+t
        single = [p for p in range(P) if p not in set(self.split)]
        sp_single = np.array(single, dtype=int)
        spend_entries = []
        if len(sp_single):
            pg, ty = np.repeat(sp_single, T), np.tile(tt, len(sp_single))
            d = np.array([self.owners[p][0] for p in pg], dtype=int)
            r, c, v = q_terms(pg, ty, pi[ty])
            rowid = (2 * d + self.cat[pg]) * T + ty
            spend_entries.append((rowid[r], c, v))
        fk = np.array(self.f_keys, dtype=int).reshape(-1, 2)
        if len(fk):
            pg, dg, ty = np.repeat(fk[:, 0], T), np.repeat(fk[:, 1], T), np.tile(tt, len(fk))
            spend_entries.append(((2 * dg + self.cat[pg]) * T + ty, self.c_f + np.arange(len(fk) * T),
                                  np.ones(len(fk) * T)))
        # limits L[d,c,t] = S[d,k(t),c] π_t / π_k0 as entries with a given row map
        Kp = len(self.periods)
        dd, cc, ty = np.meshgrid(np.arange(D), np.arange(2), tt, indexing="ij")
        dd, cc, ty = dd.ravel(), cc.ravel(), ty.ravel()
        k = self.period_of[ty]
        k0 = np.array([a for a, _ in self.periods])[k]
        lim_col = self.c_s + (dd * Kp + k) * 2 + cc
        lim_val = pi[ty] / pi[k0]
        # settlements: spend − L <= 0 (= 0 when the switch is off, and in fiscal mode)
        # equality also in a year without that envelope; Barnett-determined limits never
        env_missing = np.isnan(np.concatenate([self.F["rdel_envelope_gbp_m"],
                                               self.F["cdel_envelope_gbp_m"]]))  # index c*T+t
        devolved = {b.devolved for b in self.inst.barnett} if on.barnett else set()
        set_lo = np.zeros(2 * D * T)
        for d in range(D):
            for c in range(2):
                for t in range(T):
                    ineq = (on.settlements and s.mode == "envelope"
                            and not (on.del_envelope and env_missing[c * T + t]))
                    if ineq or self.depts[d] in devolved:
                        set_lo[(2 * d + c) * T + t] = -np.inf
        add_rows("settlement", 2 * D * T, set_lo, 0.0,
                 spend_entries + [((2 * dd + cc) * T + ty, lim_col, -lim_val)])
        self.spend_entries = spend_entries  # F[d,c,t] at row (2d+c)T+t
        self.limit_entries = ((2 * dd + cc) * T + ty, lim_col, lim_val)  # L[d,c,t], same rows
        # limit entries by (d, c, t) for the settled, committed and Barnett rows
        self.lim_of = {(int(a), int(b), int(c2)): (col, val)
                       for a, b, c2, col, val in zip(dd, cc, ty, lim_col, lim_val)}
        # department real floor: L[d,R,t] + L[d,C,t] >= f_d (B_R + B_C) π_t
        if on.department_real_floor:
            fl = np.array([d.real_floor for d in self.inst.departments])
            B = np.array([d.rdel_baseline_gbp_m + d.cdel_baseline_gbp_m for d in self.inst.departments])
            ds = np.flatnonzero(fl > 0)
            pos = np.full(D, -1)
            pos[ds] = np.arange(len(ds))
            m = pos[dd] >= 0
            add_rows("department_real_floor", len(ds) * T,
                     (fl[ds] * B[ds])[:, None] * pi[None, :], np.inf,
                     [(pos[dd[m]] * T + ty[m], lim_col[m], lim_val[m])])
        # Mission Fund cash by category
        mfa = np.array(self.mf, dtype=int)
        g_p, g_t = np.repeat(mfa, T), np.tile(tt, len(mfa))
        g_col = self.c_g + np.arange(len(mfa) * T)
        # DEL totals: RDEL_t / CDEL_t entries as (row c*T+t, col, val)
        del_entries = [(cc * T + ty, lim_col, lim_val), (self.cat[g_p] * T + g_t, g_col, np.ones(len(g_col)))]
        if s.mode == "envelope" and on.del_envelope:
            E = np.concatenate([self.F["rdel_envelope_gbp_m"], self.F["cdel_envelope_gbp_m"]])
            have = np.flatnonzero(~np.isnan(E))
            pos = np.full(2 * T, -1)
            pos[have] = np.arange(len(have))
            ent = [(pos[r][pos[r] >= 0], c[pos[r] >= 0], v[pos[r] >= 0]) for r, c, v in del_entries]
            add_rows("del_envelope", len(have), -np.inf, E[have], ent)
        self._settled_committed_barnett(g_p, g_t, g_col)
        # PIE
        pie = np.array([prog.pie for prog in self.progs])
        if on.pie_department_floor:
            phi = np.array([d.pie_floor_gbp_m for d in self.inst.departments])
            ds = np.flatnonzero(phi > 0)
            pos = np.full(D, -1)
            pos[ds] = np.arange(len(ds))
            ent = []
            ps = np.array([p for p in single if pie[p]], dtype=int)
            if len(ps):
                pg, ty2 = np.repeat(ps, T), np.tile(tt, len(ps))
                d = np.array([self.owners[p][0] for p in pg], dtype=int)
                r, c, v = q_terms(pg, ty2, pi[ty2])
                m = pos[d][r] >= 0
                ent.append(((pos[d] * T + ty2)[r][m], c[m], v[m]))
            if len(fk):
                pg, dg, ty2 = np.repeat(fk[:, 0], T), np.repeat(fk[:, 1], T), np.tile(tt, len(fk))
                m = pie[pg] & (pos[dg] >= 0)
                ent.append(((pos[dg] * T + ty2)[m], (self.c_f + np.arange(len(fk) * T))[m],
                            np.ones(m.sum())))
            add_rows("pie_department_floor", len(ds) * T, (phi[ds])[:, None] * pi[None, :], np.inf, ent)
        sigma = np.array(s.pie.share_path(T))
        allp, allt = np.repeat(np.arange(P), T), np.tile(tt, P)
        if on.pie_share and sigma.max() > 0:
            r, c, v = q_terms(allp, allt, (pie[allp] - sigma[allt]) * pi[allt])
            add_rows("pie_share", T, 0.0, np.inf, [(allt[r], c, v)])
        # Mission Fund size and minimum
        if on.mission_fund and len(mfa):
            phi = s.mission_fund.max_share_of_del
            r, c, v = q_terms(allp, allt, -phi * pi[allt])
            add_rows("mission_fund_size", T, -np.inf, 0.0,
                     [(g_t, g_col, np.ones(len(g_col))), (allt[r], c, v)])
            if s.mission_fund.min_gbp_m > 0:
                add_rows("mission_fund_minimum", T, s.mission_fund.min_gbp_m, np.inf,
                         [(g_t, g_col, np.ones(len(g_col)))])
        # invest-to-save: sav_t = Σ_p a_p π_t Σ_k ℓ_p[k] q[p,t−k] + sav_const_t
        a = np.array([prog.ame_saving_per_gbp_m for prog in self.progs])
        sav = []
        self.sav_const = np.zeros(T)
        for kk in range(self.K + 1):
            ps = np.flatnonzero((a > 0) & (self.lag[:, kk] > 0))
            if not len(ps):
                continue
            ts = np.arange(kk, T)
            pg, ty2 = np.repeat(ps, len(ts)), np.tile(ts, len(ps))
            coef = a[pg] * pi[ty2] * self.lag[pg, kk]
            r, c, v = q_terms(pg, ty2 - kk, coef)
            sav.append((ty2[r], c, v))
            np.subtract.at(self.sav_const, ty2, coef * self.base[pg])
        self.sav_entries = sav
        self.wc_years = (np.flatnonzero(~np.isnan(self.F["welfare_cap_gbp_m"]))
                         if s.fiscal_rules.welfare_cap_years is None else
                         np.array([self.years.index(y) for y in s.fiscal_rules.welfare_cap_years], int))
        if on.welfare_cap and len(self.wc_years):
            pos = np.full(T, -1)
            pos[self.wc_years] = np.arange(len(self.wc_years))
            ent = [(pos[r][pos[r] >= 0], c[pos[r] >= 0], -v[pos[r] >= 0]) for r, c, v in sav]
            add_rows("welfare_cap", len(self.wc_years), -np.inf, 0.0, ent)
        # funding balance: Σ_d f[p,d,t] + g[p,t] − π_t q[p,t] = 0
        if self.split:
            spos = {p: j for j, p in enumerate(self.split)}
            ent = []
            if len(fk):
                pg, ty2 = np.repeat(fk[:, 0], T), np.tile(tt, len(fk))
                ent.append((np.array([spos[p] for p in pg]) * T + ty2, self.c_f + np.arange(len(fk) * T),
                            np.ones(len(fk) * T)))
            if len(mfa):
                ent.append((np.array([spos[p] for p in g_p], dtype=int) * T + g_t, g_col,
                            np.ones(len(g_col))))
            spl = np.array(self.split, dtype=int)
            pg, ty2 = np.repeat(spl, T), np.tile(tt, len(spl))
            r, c, v = q_terms(pg, ty2, -pi[ty2])
            ent.append(((np.repeat(np.arange(len(spl)), T) * T + ty2)[r], c, v))
            add_rows("funding_balance", len(spl) * T, 0.0, 0.0, ent)
        # fiscal rules
        ncol = self.c_n + tt
        rdel = [e for e in del_entries]
        rd = [(r, c, v) for r, c, v in ((r[r < T], c[r < T], v[r < T]) for r, c, v in rdel)]
        cd = [(r - T, c, v) for r, c, v in ((r[r >= T], c[r >= T], v[r >= T]) for r, c, v in rdel)]
        fr = s.fiscal_rules
        iota = self.iota = fr.debt_interest_rate if on.debt_interest_feedback else 0.0
        ent = [(tt, ncol, np.ones(T)), (tt[1:], ncol[:-1], -(1.0 + iota) * np.ones(T - 1))]
        ent += [(r, c, -v) for r, c, v in rd + cd] + sav
        add_rows("psnfl_definition", T, 0.0, 0.0, ent)
        fr = s.fiscal_rules
        self.st_years = np.array([self.years.index(y) for y in fr.stability_rule.target_years], int)
        if on.stability_rule and len(self.st_years):
            pos = np.full(T, -1)
            pos[self.st_years] = np.arange(len(self.st_years))
            ent = [(pos[r][pos[r] >= 0], c[pos[r] >= 0], -v[pos[r] >= 0]) for r, c, v in rd]
            ent += [(pos[r][pos[r] >= 0], c[pos[r] >= 0], v[pos[r] >= 0]) for r, c, v in sav]
            later = self.st_years[self.st_years > 0]  # −ι N_{t−1}
            ent.append((pos[later], ncol[later - 1], -iota * np.ones(len(later))))
            add_rows("stability_rule", len(self.st_years), 0.0, np.inf, ent)
        self.inv_years = np.array([self.years.index(y) for y in fr.investment_rule.target_years], int)
        if on.investment_rule and len(self.inv_years):
            Y = self.F["gdp_gbp_m"]
            ratio = Y / np.concatenate([[fr.gdp_initial_gbp_m], Y[:-1]])
            ts = self.inv_years
            later = ts > 0
            ent = [(np.arange(len(ts)), ncol[ts], np.ones(len(ts))),
                   (np.flatnonzero(later), ncol[ts[later] - 1], -ratio[ts[later]])]
            add_rows("investment_rule", len(ts), -np.inf, 0.0, ent)
        self.q_terms = q_terms
        self.mf_cols = (g_p, g_t, g_col)
        self._push_bounds()

    def _settled_committed_barnett(self, g_p, g_t, g_col) -> None:
        """settled_total: L = V (fixed rows, not devolved); committed_path: L_R + L_C >= K;
        barnett: L_n − Σ β (L_d + MF_d) = Ref_n − Σ β Ref_d, Ref from settled.csv held flat real."""
        inst, on, T, pi = self.inst, self.inst.settings.constraints, self.T, self.pi
        D = len(self.depts)
        dix = {d: i for i, d in enumerate(self.depts)}
        cat = {"resource": 0, "capital": 1}
        devolved = {b.devolved for b in inst.barnett} if on.barnett else set()
        add_rows = self._add_rows
        if on.settled_totals:
            rows = [r for r in inst.settled if r.fixed and r.department not in devolved]
            ent_r, ent_c, ent_v = [], [], []
            for i, r in enumerate(rows):
                col, val = self.lim_of[(dix[r.department], cat[r.category], self.years.index(r.year))]
                ent_r.append(i); ent_c.append(col); ent_v.append(val)
            add_rows("settled_total", len(rows), [r.limit_gbp_m for r in rows],
                     [r.limit_gbp_m for r in rows],
                     [(np.array(ent_r, int), np.array(ent_c, int), np.array(ent_v, float))])
        if on.committed_paths and inst.committed:
            ent_r, ent_c, ent_v = [], [], []
            for i, r in enumerate(inst.committed):
                for c in range(2):
                    col, val = self.lim_of[(dix[r.department], c, self.years.index(r.year))]
                    ent_r.append(i); ent_c.append(col); ent_v.append(val)
            add_rows("committed_path", len(inst.committed), [r.min_del_gbp_m for r in inst.committed],
                     np.inf, [(np.array(ent_r, int), np.array(ent_c, int), np.array(ent_v, float))])
        if not (on.barnett and inst.barnett):
            return
        V = {(dix[r.department], cat[r.category], self.years.index(r.year)): r.limit_gbp_m
             for r in inst.settled}
        base = [(d.rdel_baseline_gbp_m, d.cdel_baseline_gbp_m) for d in inst.departments]
        ref = np.zeros((D, 2, T))
        for d in range(D):
            for c in range(2):
                v, u = base[d][c], 0
                for t in range(T):
                    if (d, c, t) in V:
                        v, u = V[(d, c, t)], t
                    ref[d, c, t] = v * pi[t] / pi[u]
        nations = list(dict.fromkeys(b.devolved for b in inst.barnett))
        ent_r, ent_c, ent_v, rhs = [], [], [], []
        mf_owner = np.array([self.owners[p][0] for p in g_p], dtype=int)
        for j, n in enumerate(nations):
            for c in range(2):
                for t in range(T):
                    row = (j * 2 + c) * T + t
                    col, val = self.lim_of[(dix[n], c, t)]
                    ent_r.append(row); ent_c.append(col); ent_v.append(val)
                    r0 = ref[dix[n], c, t]
                    for b in (b for b in inst.barnett if b.devolved == n):
                        d = dix[b.department]
                        beta = b.comparability_factor * b.population_proportion
                        col, val = self.lim_of[(d, c, t)]
                        ent_r.append(row); ent_c.append(col); ent_v.append(-beta * val)
                        m = (mf_owner == d) & (self.cat[g_p] == c) & (g_t == t)
                        ent_r += [row] * int(m.sum()); ent_c += list(g_col[m])
                        ent_v += [-beta] * int(m.sum())
                        r0 -= beta * ref[d, c, t]
                    rhs.append(r0)
        add_rows("barnett", len(rhs), rhs,
                 np.inf if inst.settings.settlement_profile == "flat_real" else rhs,
                 [(np.array(ent_r, int), np.array(ent_c, int), np.array(ent_v, float))])

    # ------------------------------------------------------------------ parameters
    def _bounds(self) -> dict:
        """Fiscal-dependent row bounds from the current forecast self.F."""
        fr, F, T = self.inst.settings.fiscal_rules, self.F, self.T
        H, sc = fr.headroom_gbp_m, self.sav_const
        out = {}
        E = np.concatenate([F["rdel_envelope_gbp_m"], F["cdel_envelope_gbp_m"]])
        out["del_envelope"] = (np.full(int((~np.isnan(E)).sum()), -np.inf), E[~np.isnan(E)])
        w = self.wc_years
        out["welfare_cap"] = (np.full(len(w), -np.inf),
                              (F["welfare_cap_gbp_m"] * (1.0 + fr.welfare_cap_margin)
                               - F["welfare_capped_gbp_m"] + sc)[w])
        # ΔDI_t = ι (N_{t−1} − N^f_{t−1}): constant part −ι N^f_{t−1} (N^f_{−1} = N_{−1})
        iota = self.iota
        Nf_prev = np.zeros(T)
        if iota:
            by_year = {f.year: f.psnfl_forecast_gbp_m for f in self.inst.fiscal}
            Nf_prev = np.array([fr.psnfl_initial_gbp_m] + [by_year[y] for y in self.years[:-1]])
        rhs = (F["ame_current_gbp_m"] + F["ame_capital_gbp_m"] - F["receipts_gbp_m"]
               + F["other_psnfl_flows_gbp_m"] - sc - iota * Nf_prev)
        rhs[0] += (1.0 + iota) * fr.psnfl_initial_gbp_m
        out["psnfl_definition"] = (rhs, rhs)
        lo = (fr.stability_rule.required_margin_gbp_m + H - F["receipts_gbp_m"]
              + F["ame_current_gbp_m"] + F["depreciation_gbp_m"] - sc - iota * Nf_prev)
        lo[0] += iota * fr.psnfl_initial_gbp_m
        out["stability_rule"] = (lo[self.st_years], np.full(len(self.st_years), np.inf))
        Y = F["gdp_gbp_m"]
        hi = np.full(T, -H)
        hi[0] += Y[0] / fr.gdp_initial_gbp_m * fr.psnfl_initial_gbp_m
        out["investment_rule"] = (np.full(len(self.inv_years), -np.inf), hi[self.inv_years])
        return out

    def _push_bounds(self) -> None:
        for name, (lo, hi) in self._bounds().items():
            if name in self.rows:
                start, n = self.rows[name]
                self.h.changeRowsBounds(n, np.arange(start, start + n, dtype=np.int32),
                                        np.clip(lo, -INF, INF), np.clip(hi, -INF, INF))

    def set_fiscal(self, **cols) -> None:
        """Replace fiscal columns (envelopes, receipts, AME, welfare …); GDP and the deflator
        enter matrix coefficients, so they are not changeable here."""
        for k, v in cols.items():
            if k in ("gdp_gbp_m", "deflator"):
                raise KeyError(f"{k} enters the matrix; rebuild instead")
            self.F[k] = np.asarray(v, dtype=float).copy()
        self._push_bounds()

    def set_weights(self, w) -> None:
        """Objective c[p,i,τ] = Σ_m w_m γ_pim Σ_k ℓ_p[k] δ_m[τ+k]; constant −Σ c x̄."""
        self.w = np.asarray(w, dtype=float).copy()
        T, K = self.T, self.K
        # E[p,m,τ] = Σ_k ℓ_p[k] δ_m[τ+k]
        E = np.zeros((len(self.progs), len(self.missions), T))
        for k in range(K + 1):
            E += self.lag[:, k, None, None] * self.delta[None, :, k:k + T]
        c = np.einsum("m,im,imt->it", self.w, self.gain, E[self.piece_prog])
        self.cost = c.ravel()
        self.offset = -float((c * self.fill[:, None]).sum())
        n = len(self.cost)
        self.h.changeColsCost(n, np.arange(self.c_x, self.c_x + n, dtype=np.int32), self.cost)
        self.h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h.changeObjectiveOffset(self.offset)

    # ------------------------------------------------------------------ second stage
    def _stage2_data(self):
        """Costs and deviation rows of the second stage (docs/formulation.md §4b), written
        from the formulation, not from models/tiebreak.py:

            minimise Σ ω_d (u⁺ + u⁻) + κ Σ ω_p g + η Σ ω_p ω_t π_t q + β Σ (L − F)
            s.t. c·x ≥ V* (value floor);  L_d,c,t − u⁺ + u⁻ = τ_d,c,t (path deviation)

        Returns (cost over the model's columns, deviation rows (row, col, val), τ, ω_d per row)."""
        if getattr(self, "_s2", None) is not None:
            return self._s2
        inst, T, pi = self.inst, self.T, self.pi
        up = inst.settings.unique_plan
        P, D = len(self.progs), len(self.depts)

        def rank(ids):
            order = {k: r for r, k in enumerate(sorted(ids))}
            return 1.0 + 1e-3 * np.array([order[k] for k in ids], float) / max(len(ids), 1)

        w_p, w_d = rank([p.id for p in self.progs]), rank(self.depts)
        cost = np.zeros(self.n)
        g_p, g_t, g_col = self.mf_cols
        cost[g_col] += up.mission_fund_cost * w_p[g_p]
        allp, allt = np.repeat(np.arange(P), T), np.tile(np.arange(T), P)
        r, c, v = self.q_terms(allp, allt, 1e-6 * w_p[allp] * (1.0 + 1e-3 * allt / T) * pi[allt])
        np.add.at(cost, c, v)
        lr, lc, lv = self.limit_entries
        np.add.at(cost, lc, 2.0 * lv)
        for _, c, v in self.spend_entries:
            np.add.at(cost, c, -2.0 * v)
        # τ: baseline shares of each year's envelope (envelope mode), else baseline flat real
        B = np.array([[d.rdel_baseline_gbp_m, d.cdel_baseline_gbp_m] for d in inst.departments])
        tau = B[:, :, None] * pi[None, None, :]
        if inst.settings.mode == "envelope":
            for k, col in enumerate(("rdel_envelope_gbp_m", "cdel_envelope_gbp_m")):
                E, tot = self.F[col], B[:, k].sum()
                if tot > 0 and np.all(np.isfinite(E)):
                    tau[:, k, :] = (B[:, k] / tot)[:, None] * E[None, :]
        self._s2 = (cost, (lr, lc, lv), tau.reshape(-1), np.repeat(w_d, 2 * T))
        return self._s2

    def second_stage(self, in_place: bool = False) -> tuple[str, float]:
        """Solve the second stage after an optimal first stage, from the first stage's basis
        (the u of each deviation row basic, as the engine starts it). By default in a fresh
        ``Highs`` holding a copy of the first stage (``getLp``) plus the added rows and
        columns, as the engine does: the first stage stays loaded and warm, and at 1,000+
        programmes this is much faster than the alternative. ``in_place=True`` adds the rows
        and columns to the first stage's own ``Highs`` and removes them again afterwards
        (restoring costs, sense, basis and tolerance). Returns (status, seconds in HiGHS); the
        plan is ``self.x2``.

        Attempts, as docs/formulation.md §4b lists them (a plan is accepted when optimal and
        within max(10⁻⁷, 10 × the first plan's own violation) £m of every first-stage row and
        bound): the floor at 0 from the starting basis; where that plan was optimal but not exact
        enough, the same ``Highs`` continued with the floor at 10⁻⁹ and rows held to 10⁻⁹; then from the starting basis again at 10⁻⁹ and
        10⁻⁷ (the engine's cold fallbacks are not repeated here: they were never reached in
        the benchmark's sweeps)."""
        h1, n, m = self.h, self.n, self.h.getNumRow()
        cost2, (lr, lc, lv), tau, w_d = self._stage2_data()
        x1 = np.array(h1.getSolution().col_value)
        lp1 = h1.getLp()
        bounds = (np.array(lp1.row_lower_), np.array(lp1.row_upper_),
                  np.array(lp1.col_lower_), np.array(lp1.col_upper_))

        def violation(sol) -> float:
            act, x = np.array(sol.row_value)[:m], np.array(sol.col_value)[:n]
            rl, ru, cl, cu = bounds
            return float(max(np.max(np.maximum(rl - act, act - ru), initial=0.0),
                             np.max(np.maximum(cl - x, x - cu), initial=0.0)))

        limit = max(1e-7, 10 * violation(h1.getSolution()))
        b1 = h1.getBasis()
        c1 = self.cost_full()
        v_star = float(c1 @ x1)
        R = len(tau)
        S = highspy.HighsBasisStatus
        if in_place:
            h = h1
        else:
            h = new_highs()
            h.passModel(lp1)
        h.addVars(2 * R, np.zeros(2 * R), np.full(2 * R, INF))  # u⁺ then u⁻
        nz = np.flatnonzero(c1)
        h.addRow(-INF, INF, len(nz), nz.astype(np.int32), c1[nz])  # value floor (bounds below)
        o = np.lexsort((lc, lr))
        rr, cc, vv = lr[o], lc[o], lv[o]
        cols = np.concatenate([cc, n + np.arange(R), n + R + np.arange(R)])
        vals = np.concatenate([vv, -np.ones(R), np.ones(R)])
        rows = np.concatenate([rr, np.arange(R), np.arange(R)])
        o = np.lexsort((cols, rows))
        starts = np.searchsorted(rows[o], np.arange(R)).astype(np.int32)
        h.addRows(R, tau, tau, len(o), starts, cols[o].astype(np.int32), vals[o])
        h.changeColsCost(n + 2 * R, np.arange(n + 2 * R, dtype=np.int32),
                         -np.concatenate([cost2, w_d, w_d]))  # maximise −cost
        h.changeObjectiveOffset(0.0)
        dev = np.bincount(rr, weights=vv * x1[cc], minlength=R) - tau
        basis = highspy.HighsBasis()
        basis.col_status = (list(b1.col_status) + [S.kBasic if d >= 0 else S.kLower for d in dev]
                            + [S.kLower if d >= 0 else S.kBasic for d in dev])
        basis.row_status = list(b1.row_status) + [S.kBasic] + [S.kLower] * R
        basis.valid = True
        tol0 = h.getOptions().primal_feasibility_tolerance
        dt, st, ok, iterations = 0.0, "not solved", False, 0
        for tol, start, tight in ((0.0, "basis", False), (1e-9, "continue", True),
                                  (1e-9, "basis", False), (1e-7, "basis", False)):
            if start == "continue" and st != "Optimal":
                continue  # continued only from a plan that was optimal but not exact enough
            h.changeRowBounds(m, v_star - tol * max(abs(v_star + self.offset), 1.0), INF)
            h.setOptionValue("primal_feasibility_tolerance", 1e-9 if tight else tol0)
            if start == "basis":
                h.setBasis(basis)
            t0 = time.perf_counter()
            h.run()
            dt += time.perf_counter() - t0
            iterations += max(h.getInfo().simplex_iteration_count, 0)
            st = h.modelStatusToString(h.getModelStatus())
            if st == "Optimal" and violation(h.getSolution()) <= limit:
                ok = True
                break
        h.setOptionValue("primal_feasibility_tolerance", tol0)
        self.x2 = np.array(h.getSolution().col_value)[:n] if ok else x1
        st = st if ok or st != "Optimal" else "Optimal but not exact enough"
        self.stage2_iterations = iterations
        if in_place:
            h.deleteRows(R + 1, np.arange(m, m + R + 1, dtype=np.int32))
            h.deleteCols(2 * R, np.arange(n, n + 2 * R, dtype=np.int32))
            h.changeColsCost(n, np.arange(n, dtype=np.int32), c1)
            h.changeObjectiveOffset(self.offset)
            h.setBasis(b1)
        return st, dt

    def cost_full(self) -> np.ndarray:
        """The first stage's cost over every column (only the x block has one)."""
        c = np.zeros(self.n)
        c[self.c_x:self.c_x + len(self.cost)] = self.cost
        return c

    # ------------------------------------------------------------------ solve
    def solve(self) -> tuple[str, float | None, float]:
        """(status, objective incl. constant, seconds in HiGHS)."""
        t0 = time.perf_counter()
        self.h.run()
        dt = time.perf_counter() - t0
        st = self.h.modelStatusToString(self.h.getModelStatus())
        obj = self.h.getInfo().objective_function_value if st == "Optimal" else None
        return st, obj, dt

    def x(self) -> np.ndarray:
        return np.array(self.h.getSolution().col_value)


def solve_reference(inst: Instance) -> tuple[str, float | None]:
    ref = ReferenceLP(inst)
    st, obj, _ = ref.solve()
    return st, obj
