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

    # -- shared expressions ---------------------------------------------------------
    pi = md.deflator
    xcols = np.arange(N * T)
    q_local = _select(md.piece_prog[xcols // T] * T + xcols % T, xcols, 1.0, (P * T, N * T))
    q = lp.column_matrix(x, q_local)
    pi_rows = sp.diags(np.tile(pi, P))
    cash = (pi_rows @ q).tocsr()

    tt = np.arange(T)
    ones = np.ones  # entry values of selection matrices

    def grid(a, b):
        """Row-major (a × T) index grid a[:, None] * T + b[None, :], flattened."""
        return (np.asarray(a, dtype=int)[:, None] * T + b[None, :]).ravel()

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

    expr = Expressions(q=q.tocsr(), cash=cash, dept_spend=dept_spend, dept_pie=dept_pie,
                       mission_fund=mission_fund.tocsr(), limit=limit.tocsr(), del_total=del_total,
                       ame_saving=ame_saving, ame_saving_const=const,
                       funding_balance=fb, split_programmes=np.array(split, dtype=int))
    model = AllocationModel(inst, md, lp, expr)
    for family in registry():  # every declared constraint family, in its declared order
        family.add(model)
    objective.set_objective(model)
    return model


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
