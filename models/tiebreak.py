"""Second stage: one plan from the optimal face (docs/formulation.md §4b).

The mission-value LP often has many optimal plans: nothing in V says whether an owner or
the Mission Fund pays for a shared programme, or how a department's limit moves from year
to year, so the vertex a solver returns depends on row order. The second stage picks one
plan from the optimal face by a stated rule. With V* the first stage's optimum of the
objective actually maximised (c·x, including any breach penalties of a re-plan):

    V(x) ≥ V* − ε·max(|V*|, 1)                                    (value_floor, ε relative)

    L_d,c,t − τ_d,c,t = u⁺_d,c,t − u⁻_d,c,t,   u⁺, u⁻ ≥ 0        (path_deviation)

    minimise  Σ_{d,c,t} ω_d (u⁺ + u⁻)  +  κ Σ_{p,t} ω_p g_p,t  +  η Σ_{p,t} ω_p ω_t π_t q_p,t
              + β Σ_{d,c,t} (L_d,c,t − F_d,c,t)

where

- τ_d,c,t is the smooth path of baseline shares: department d's share of its category's
  year-1 baseline, s_d,c = B_d^c / Σ_d' B_d'^c, times the year's DEL envelope E^c_t
  (envelope mode); in fiscal mode (no envelope) the baseline held flat in real terms,
  τ = B_d^c π_t;
- κ (``mission_fund_cost``, default 0.5) is the cost of a £1m of Mission Fund money: below
  1, the Mission Fund pays for a shared programme where that brings an owner's settlement
  down towards its path; above 1 it is never used where owners can pay within their paths;
- ω_d = 1 + 10⁻³ · rank(d)/|𝒟| and ω_p = 1 + 10⁻³ · rank(p)/|𝒫|, ranks in the sorted
  order of the ids, break any remaining ties (in favour of moving the department or
  programme whose id sorts first), so the plan does not depend on the row order of the
  input tables; η = 10⁻⁶ keeps spend ties (equal marginal value inside a department)
  from being arbitrary: among equal plans, the one that spends least, and earliest
  (ω_t = 1 + 10⁻³ t/T);
- β = 2 per £m of settlement above the department's spend (unspent limit): larger than the
  path's 1, so a limit never exceeds spend just to sit nearer the path.

All the policy rows of the first stage still hold, so the plan is feasible and optimal to
within ε of V*. Integer business cases are fixed at their first-stage values, so the
second stage is always an LP. Its duals are not reported: shadow prices come from the
first stage (a dual optimum prices every primal optimum, so they stay valid for this plan).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

TIE_STEP = 1e-3  # spread of the rank weights ω
SPEND_WEIGHT = 1e-6  # η
UNSPENT_WEIGHT = 2.0  # β, per £m of limit above spend


@dataclass
class SecondStage:
    """The rows and columns the second stage adds to a loaded program of n columns."""

    A_dev: sp.csr_matrix  # (R × n) rows L − (share·E) ... over the model's columns
    dev_target: np.ndarray  # (R,) constant part τ of each deviation row (cash £m)
    dev_weight: np.ndarray  # (R,) ω_d of each deviation row
    cost: np.ndarray  # (n,) second-stage cost of the model's own columns (to minimise)


def rank_weights(ids) -> np.ndarray:
    """ω = 1 + TIE_STEP · rank/len, rank by the sorted ids (row-order independent)."""
    ids = list(ids)
    order = {k: r for r, k in enumerate(sorted(ids))}
    n = max(len(ids), 1)
    return 1.0 + TIE_STEP * np.array([order[k] for k in ids], dtype=float) / n


def path_targets(model) -> np.ndarray:
    """τ[d,c,t] (D, 2, T), cash £m: baseline shares of each year's DEL envelope (envelope
    mode), or each department's baseline flat in real terms (fiscal mode, or an envelope
    missing)."""
    md = model.data
    B = md.dept_baseline  # (D, 2) cash year 1 (= real, π_0 = 1)
    flat = B[:, :, None] * md.deflator[None, None, :]
    if model.instance.settings.mode != "envelope":
        return flat
    out = flat.copy()
    for c, col in enumerate(("rdel_envelope_gbp_m", "cdel_envelope_gbp_m")):
        E = md.fiscal.get(col)
        total = B[:, c].sum()
        if E is None or total <= 0 or not np.all(np.isfinite(E)):
            continue
        out[:, c, :] = (B[:, c] / total)[:, None] * np.asarray(E, dtype=float)[None, :]
    return out


def second_stage(model, mission_fund_cost: float = 0.5) -> SecondStage:
    """The deviation rows and second-stage costs of ``model`` (docstring of the module)."""
    md, lp, e = model.data, model.lp, model.expr
    T, D = md.T, md.D
    tau = path_targets(model)  # (D, 2, T) in the row order of e.limit: (2d + c)T + t
    A_dev = e.limit.tocsr()
    wd = np.repeat(rank_weights(md.departments), 2 * T)
    cost = np.zeros(lp.n)
    g = lp.var_blocks["mission_fund"]
    # κ ω_p: which programme the Fund pays for is not left to row order either
    pos = {k: i for i, k in enumerate(md.programmes)}
    wprog = rank_weights(md.programmes)
    cost[g.start:g.start + g.size] = mission_fund_cost * wprog[
        g.index["programme"].map(pos).to_numpy(dtype=int)] if g.size else 0.0
    # cash rows are p*T + t; the year term (1 + 10⁻³ t/T) also orders ties between years
    wp = np.repeat(rank_weights(md.programmes), T) * np.tile(1.0 + TIE_STEP * np.arange(T) / T, md.P)
    cost += SPEND_WEIGHT * np.asarray(e.cash.T @ wp).ravel()
    # unspent settlement: Σ (L − F) ≥ 0 at UNSPENT_WEIGHT a £m, so no limit sits above its
    # department's spend just to be nearer the path
    cost += UNSPENT_WEIGHT * np.asarray((e.limit - e.dept_spend).sum(axis=0)).ravel()
    return SecondStage(A_dev, tau.reshape(-1), wd, cost)


def value_floor(cost_max, x1, tolerance: float, constant: float = 0.0) -> float:
    """The value floor's bound V* − ε · max(|V* + c₀|, 1), with V* = c·x¹ (its row is the one
    after the loaded rows in :func:`extend`)."""
    v_star = float(np.asarray(cost_max, dtype=float) @ x1)
    return v_star - tolerance * max(abs(v_star + constant), 1.0)


def extend(A: sp.spmatrix, row_lo, row_hi, col_lo, col_hi, cost_max, x1, stage: SecondStage,
           tolerance: float, integer_cols=None, constant: float = 0.0):
    """The second-stage program as arrays, given the first stage's loaded program (any
    number of columns ≥ the model's n, e.g. with breach slacks) and its optimum x1.

    Columns: the loaded ones, then u⁺, u⁻ (one each per deviation row). Rows: the loaded
    ones, the value floor, the deviation rows. The cost is to be *maximised* (minus the
    second-stage cost). ``constant`` is the objective's constant term (in the units of
    ``cost_max``), so the tolerance is relative to the value V* = c·x1 + constant itself.
    Returns (A, row_lo, row_hi, col_lo, col_hi, cost)."""
    A = A if sp.issparse(A) and A.format == "csc" else sp.csc_matrix(A)
    m, n_all = A.shape
    n = stage.A_dev.shape[1]
    R = stage.A_dev.shape[0]
    cost_max = np.asarray(cost_max, dtype=float)
    floor = value_floor(cost_max, x1, tolerance, constant)
    A2 = _stack(A, cost_max, stage, R)
    lo2 = np.concatenate([row_lo, [floor], stage.dev_target])
    hi2 = np.concatenate([row_hi, [np.inf], stage.dev_target])
    clo = np.concatenate([col_lo, np.zeros(2 * R)])
    chi = np.concatenate([col_hi, np.full(2 * R, np.inf)])
    if integer_cols is not None and len(integer_cols):
        clo[integer_cols] = np.round(x1[integer_cols])
        chi[integer_cols] = np.round(x1[integer_cols])
    c2 = np.concatenate([-stage.cost, np.zeros(n_all - n), -stage.dev_weight, -stage.dev_weight])
    return A2, lo2, hi2, clo, chi, c2


def _stack(A: sp.csc_matrix, value: np.ndarray, stage: SecondStage, R: int) -> sp.csc_matrix:
    """The second-stage matrix, column by column (CSC) from preallocated arrays:

        [ A          0   0 ]   loaded rows (m)
        [ c          0   0 ]   value floor: the nonzeros of the cost c
        [ A_dev  0  −I   I ]   deviation rows (R), A_dev over the model's n columns

    Each column holds its A entries, then its value-floor entry (where c ≠ 0), then its
    A_dev entries, in that (increasing row) order; entries are kept as given."""
    m, n_all = A.shape
    dev = stage.A_dev.tocsc()
    n = dev.shape[1]
    nA = np.diff(A.indptr)
    has_v = value != 0
    nD = np.zeros(n_all, dtype=np.int64)
    nD[:n] = np.diff(dev.indptr)
    count = np.concatenate([nA + has_v + nD, np.ones(2 * R, dtype=np.int64)])
    indptr = np.zeros(n_all + 2 * R + 1, dtype=np.int64)
    np.cumsum(count, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int32)
    data = np.empty(indptr[-1], dtype=float)
    start = indptr[:n_all]
    pos = np.repeat(start - A.indptr[:-1], nA) + np.arange(A.indptr[-1])
    indices[pos], data[pos] = A.indices, A.data
    vcols = np.flatnonzero(has_v)
    pos = start[vcols] + nA[vcols]
    indices[pos], data[pos] = m, value[vcols]
    pos = (np.repeat(start[:n] + nA[:n] + has_v[:n] - dev.indptr[:-1], nD[:n])
           + np.arange(dev.indptr[-1]))
    indices[pos], data[pos] = m + 1 + dev.indices, dev.data
    u = indptr[n_all:n_all + 2 * R]
    indices[u] = np.tile(m + 1 + np.arange(R), 2)
    data[u] = np.repeat([-1.0, 1.0], R)
    return sp.csc_matrix((data, indices, indptr), shape=(m + 1 + R, n_all + 2 * R))
