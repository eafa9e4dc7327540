"""The core allocation LP (docs/formulation.md, sections 2-5).

``build_allocation_model(instance)`` creates the variables, the shared linear
expressions (real spend q, department-funded spend, Mission Fund spend, settlement
limits, DEL totals, AME savings) and then adds each switched-on constraint family from
:mod:`models.constraints` and the objective from :mod:`models.objective`. Building is
vectorised: every family is one sparse matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocator.schema import Instance

from . import objective
from .constraints import registry
from .data import CATEGORIES, ModelData, model_data
from .lp import INF, LinearProgram


@dataclass
class Expressions:
    """Linear expressions shared by several constraint families, each (rows × n)."""

    q: sp.csr_matrix  # real spend, row p*T + t
    cash: sp.csr_matrix  # cash spend π_t q_pt, row p*T + t
    dept_spend: sp.csr_matrix  # cash spend funded by department d, category c: row (2d+c)T + t
    dept_pie: sp.csr_matrix  # cash PIE spend funded by department d: row d*T + t
    mission_fund: sp.csr_matrix  # Mission Fund cash spend, category c: row c*T + t
    limit: sp.csr_matrix  # settlement limit of department d, category c in year t
    del_total: sp.csr_matrix  # total DEL (limits + Mission Fund), category c: row c*T + t
    ame_saving: sp.csr_matrix  # welfare AME saved in year t (variable part)
    ame_saving_const: np.ndarray  # minus the saving of baseline spend (constant part), (T,)
    q_need: sp.csr_matrix  # real spend plus avoided demand, q + v = Λ Σ_i x: row p*T + t
    activity: sp.csr_matrix  # effective activity e = Σ_i x = (q + v) / Λ: row p*T + t
    avoided_definition: sp.csr_matrix  # v − Σ σ ℓ q of each invest-to-save target: row r*T + t
    avoided_definition_rhs: np.ndarray  # − Σ σ ℓ b (constant side), (V*T,)
    funding_balance: sp.csr_matrix  # Σ_d f + g − π q of each split programme: row s*T + t
    split_programmes: np.ndarray  # programmes paid through funding columns, in row order


@dataclass
class AllocationModel:
    instance: Instance
    data: ModelData
    lp: LinearProgram
    expr: Expressions


def _select(rows: np.ndarray, cols: np.ndarray, vals, shape) -> sp.csr_matrix:
    return sp.csr_matrix((np.broadcast_to(vals, rows.shape).astype(float), (rows, cols)), shape=shape)


def build_allocation_model(inst: Instance) -> AllocationModel:
    md = model_data(inst)
    s = inst.settings
    T, P, D, N = md.T, md.P, md.D, len(md.piece_prog)
    lp = LinearProgram()
    years = np.array(md.years)

    # -- variables ------------------------------------------------------------------
    # x[i,t]: real £m on response piece i in year t (0 <= x <= width)
    xi = pd.DataFrame({
        "programme": np.repeat(np.array(md.programmes)[md.piece_prog], T),
        "segment": np.repeat(md.piece_seg, T),
        "year": np.tile(years, N),
    })
    x = lp.add_variables("x", xi, 0.0, np.repeat(md.piece_width, T))

    use_mf = s.constraints.mission_fund and s.mission_fund.max_share_of_del > 0
    split = [p for p in range(P) if len(md.prog_owners[p]) > 1 or (use_mf and md.prog_mf[p])]
    f_rows = [(p, d) for p in split for d in md.prog_owners[p]]
    fi = pd.DataFrame({
        "programme": np.repeat([md.programmes[p] for p, _ in f_rows], T),
        "department": np.repeat([md.departments[d] for _, d in f_rows], T),
        "year": np.tile(years, len(f_rows)),
    })
    f = lp.add_variables("funding", fi, 0.0, INF)
    mf_progs = [p for p in range(P) if use_mf and md.prog_mf[p]]
    gi = pd.DataFrame({"programme": np.repeat([md.programmes[p] for p in mf_progs], T),
                       "year": np.tile(years, len(mf_progs))})
    g = lp.add_variables("mission_fund", gi, 0.0, INF)
    Kp = len(md.periods)
    si = pd.DataFrame([(md.departments[d], md.periods[k][0], CATEGORIES[c])
                       for d in range(D) for k in range(Kp) for c in range(2)],
                      columns=["department", "period", "category"])
    settle = lp.add_variables("settlement", si, 0.0, INF)
    lp.add_variables("psnfl", pd.DataFrame({"year": years}), -INF, INF)  # N_t, used by fiscal_rules
    V = len(md.its_targets)  # v[r,t]: real £m of target r's demand avoided by prevention (invest to save)
    vb = lp.add_variables("avoided_demand", pd.DataFrame({
        "programme": np.repeat(np.array(md.programmes, dtype=object)[md.its_targets], T),
        "year": np.tile(years, V)}), -INF, INF)

    # -- shared expressions ---------------------------------------------------------
    pi = md.deflator

    def grid(a, b):
        """Row-major (a × T) index grid a[:, None] * T + b[None, :], flattened."""
        return (np.asarray(a, dtype=int)[:, None] * T + b[None, :]).ravel()

    xcols = np.arange(N * T)
    # real spend q[p,t] = Λ[p,t] Σ_i x[i,t] − v[p,t]: the pieces hold effective activity at
    # first-year demand; Λ is the pressure index; v the demand avoided by prevention (targets only)
    qrow = md.piece_prog[xcols // T] * T + xcols % T
    q_local = _select(qrow, xcols, md.pressure.ravel()[qrow], (P * T, N * T))
    q_gross = lp.column_matrix(x, q_local)
    activity = lp.column_matrix(x, _select(qrow, xcols, 1.0, (P * T, N * T)))  # e = Σ_i x
    vrows = grid(md.its_targets, np.arange(T)) if V else np.zeros(0, dtype=int)
    v_in_q = lp.column_matrix(vb, _select(vrows, np.arange(V * T), 1.0, (P * T, V * T)))
    q = (q_gross - v_in_q).tocsr()
    pi_rows = sp.diags(np.tile(pi, P))
    cash = (pi_rows @ q).tocsr()

    tt = np.arange(T)
    ones = np.ones  # entry values of selection matrices

    owner0 = np.array([o[0] for o in md.prog_owners], dtype=int)
    cat = md.prog_category
    is_split = np.zeros(P, dtype=bool)
    is_split[split] = True
    fp = np.array([p for p, _ in f_rows], dtype=int)
    fd = np.array([d for _, d in f_rows], dtype=int)
    fcols = grid(np.arange(len(f_rows)), tt)

    # department-funded cash spend: single-funded programmes through q, split ones through f
    single = np.flatnonzero(~is_split)
    rows = grid(2 * owner0[single] + cat[single], tt)
    dept_from_cash = sp.csr_matrix((ones(len(rows)), (rows, grid(single, tt))),
                                   shape=(2 * D * T, P * T)) @ cash
    dept_from_f = lp.column_matrix(f, _select(grid(2 * fd + cat[fp], tt), fcols, 1.0,
                                              (2 * D * T, len(f_rows) * T)))
    dept_spend = (dept_from_cash + dept_from_f).tocsr()

    # PIE spend funded by each department (both categories)
    ps = np.flatnonzero(md.prog_pie & ~is_split)
    rows = grid(owner0[ps], tt)
    pie_cash = sp.csr_matrix((ones(len(rows)), (rows, grid(ps, tt))), shape=(D * T, P * T)) @ cash
    js = np.flatnonzero(md.prog_pie[fp]) if len(fp) else np.zeros(0, dtype=int)
    pie_f = lp.column_matrix(f, _select(grid(fd[js], tt), grid(js, tt), 1.0,
                                        (D * T, len(f_rows) * T)))
    dept_pie = (pie_cash + pie_f).tocsr()

    mfa = np.array(mf_progs, dtype=int)
    mission_fund = lp.column_matrix(g, _select(grid(cat[mfa], tt), np.arange(len(mf_progs) * T),
                                               1.0, (2 * T, len(mf_progs) * T)))

    # settlement limit in year t: S[d,k(t),c] · π_t / π_{first year of k}
    dd, cc, ty = (a.ravel() for a in np.meshgrid(np.arange(D), np.arange(2), tt, indexing="ij"))
    k = md.period_of_year[ty]
    k0 = np.array([a for _, a, _ in md.periods], dtype=int)[k]
    limit = lp.column_matrix(settle, sp.csr_matrix((pi[ty] / pi[k0], ((2 * dd + cc) * T + ty,
                                                                      (dd * Kp + k) * 2 + cc)),
                                                   shape=(2 * D * T, settle.size)))
    sum_depts = sp.csr_matrix((np.ones(2 * D * T), (np.tile(np.arange(2 * T), D), np.arange(2 * D * T))),
                              shape=(2 * T, 2 * D * T))
    del_total = (sum_depts @ limit + mission_fund).tocsr()

    # AME saving in year t: Σ_p a_p π_t Σ_{τ<=t} ℓ_p[t-τ] (q_pτ − b_p)
    pa = np.flatnonzero(md.prog_ame_saving > 0)
    pg, tg, taug = (a.ravel() for a in np.meshgrid(pa, tt, tt, indexing="ij"))  # order p, t, τ
    lagk = tg - taug
    ok = (lagk >= 0) & (lagk <= md.K)
    pg, tg, taug, lagk = pg[ok], tg[ok], taug[ok], lagk[ok]
    w = md.lag[pg, lagk]
    ok = w != 0
    pg, tg, taug, w = pg[ok], tg[ok], taug[ok], w[ok]
    aw = md.prog_ame_saving[pg] * pi[tg] * w
    const = np.zeros(T)
    np.subtract.at(const, tg, aw * md.prog_baseline[pg])  # in loop order: same sums
    ame_saving = (sp.csr_matrix((aw, (tg, pg * T + taug)), shape=(T, P * T)) @ q).tocsr()

    # Mission Fund funding balance (structural; rows added by constraints/funding_balance):
    # Σ_d f_pdt + g_pt − π_t q_pt = 0
    fb = sp.csr_matrix((0, lp.n))
    if split:
        spos = np.full(P, -1, dtype=int)
        spos[split] = np.arange(len(split))
        A = lp.column_matrix(f, _select(grid(spos[fp], tt), fcols, 1.0,
                                        (len(split) * T, len(f_rows) * T)))
        if mf_progs:
            A = A + lp.column_matrix(g, _select(grid(spos[mfa], tt), np.arange(len(mf_progs) * T),
                                                1.0, (len(split) * T, len(mf_progs) * T)))
        pick = _select(np.arange(len(split) * T), grid(split, tt), 1.0, (len(split) * T, P * T))
        fb = (A - pick @ cash).tocsr()

    # avoided demand (structural definition, added by models/constraints/avoided_demand.py):
    #   v[r,t] − Σ_{(s,r)} σ_sr Σ_{τ<=t} ℓ_s[t−τ] q[s,τ] = − Σ_{(s,r)} σ_sr Σ_{τ<=t} ℓ_s[t−τ] b_s
    const_v = np.zeros(V * T)
    avoided_def = sp.csr_matrix((V * T, lp.n))
    if V:
        vpos = np.full(P, -1, dtype=int)
        vpos[md.its_targets] = np.arange(V)
        rr, tg, taug = (a.ravel() for a in np.meshgrid(np.arange(len(md.its_source)), tt, tt,
                                                        indexing="ij"))
        lagk = tg - taug
        ok = (lagk >= 0) & (lagk <= md.K)
        rr, tg, taug, lagk = rr[ok], tg[ok], taug[ok], lagk[ok]
        src = md.its_source[rr]
        wv = md.its_saving[rr] * md.lag[src, lagk]
        keep = wv != 0
        rr, tg, taug, src, wv = rr[keep], tg[keep], taug[keep], src[keep], wv[keep]
        rowv = vpos[md.its_target[rr]] * T + tg
        Dq = sp.csr_matrix((wv, (rowv, src * T + taug)), shape=(V * T, P * T)) @ q_gross
        np.subtract.at(const_v, rowv, wv * md.prog_baseline[src])
        avoided_def = (lp.column_matrix(vb, sp.identity(V * T, format="csr")) - Dq).tocsr()

    expr = Expressions(q=q.tocsr(), cash=cash, dept_spend=dept_spend, dept_pie=dept_pie,
                       mission_fund=mission_fund.tocsr(), limit=limit.tocsr(), del_total=del_total,
                       ame_saving=ame_saving, ame_saving_const=const, q_need=q_gross.tocsr(), activity=activity.tocsr(),
                       avoided_definition=avoided_def, avoided_definition_rhs=const_v,
                       funding_balance=fb, split_programmes=np.array(split, dtype=int))
    model = AllocationModel(inst, md, lp, expr)
    for family in registry():  # every declared constraint family, in its declared order
        family.add(model)
    objective.set_objective(model)
    return model


def avoided_demand(md: ModelData, q: np.ndarray) -> np.ndarray:
    """v[p,t] (P, T) from real spend q (P, T): Σ_{(s,p)} σ_sp Σ_{τ<=t} ℓ_s[t−τ] (q[s,τ] − b_s),
    zero for programmes that are no invest-to-save target."""
    v = np.zeros((md.P, md.T))
    for s_, r, sig in zip(md.its_source, md.its_target, md.its_saving):
        dq = q[s_] - md.prog_baseline[s_]
        for k in range(min(md.K + 1, md.T)):
            if md.lag[s_, k]:
                v[r, k:] += sig * md.lag[s_, k] * dq[:md.T - k]
    return v


def effective_activity(md: ModelData, q: np.ndarray) -> np.ndarray:
    """e[p,t] = (q[p,t] + v[p,t]) / Λ[p,t]: real £m of first-year service per head of need."""
    return (q + avoided_demand(md, q)) / md.pressure


DECISION_BLOCKS = ("x", "funding", "mission_fund", "settlement")


def decision_years(model: AllocationModel) -> np.ndarray:
    """Year index of each column that is a decision (−1 otherwise): programme spend,
    funding splits and Mission Fund by their year, settlements by their period's first year.
    Re-plans fix the decisions of earlier years by this index (non-anticipativity)."""
    md, lp = model.data, model.lp
    out = np.full(lp.n, -1, dtype=int)
    pos = {y: t for t, y in enumerate(md.years)}
    period_start = {pid: a for pid, a, _ in md.periods}
    for name in DECISION_BLOCKS:
        b = lp.var_blocks[name]
        if b.size == 0:
            continue
        if "year" in b.index:
            out[b.start:b.start + b.size] = b.index["year"].map(pos).to_numpy()
        else:
            out[b.start:b.start + b.size] = b.index["period"].map(period_start).to_numpy()
    return out
