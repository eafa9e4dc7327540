"""Appraise a given spending plan against the mission test, without optimising.

A plan is a table with the columns of ``allocations.csv`` (``year, department, programme,
category, pie, funding, spend_gbp_m, real_spend_gbp_m``). Required: ``year``, ``programme``
and one cash spend column whose name says its unit (``spend_gbp_m`` £m, ``spend_gbp_bn`` £bn
or ``spend_gbp`` £, whatever the instance's money_unit: solve's own ``allocations.csv`` is a
valid plan); it is authoritative (``real_spend_*``, ``category`` and ``pie`` are ignored).
``department`` is required on the rows of programmes with more than one owner (one row per
paying owner); ``funding`` (``department`` by default, or ``mission_fund``) is required for
Mission Fund spend. The appraisal works in £m (the instance is converted on loading) and
reports in £m. The plan is mapped onto the allocation LP's columns exactly as the
optimiser would hold it:

- real spend q[p,t] = Σ cash spend / π_t, poured into the programme's response pieces in
  segment order (x[i,t] = min(width_i, what is left)); the response is concave, so this is
  the fill any optimum uses;
- ``funding[p,d,t]`` = cash the plan says department d pays for p (split programmes),
  ``mission_fund[p,t]`` = the Mission Fund rows;
- ``business_case[p]`` (all-or-nothing programmes) = 1 when year-1 spend is nearer the cap
  than the baseline, else 0;
- settlements: a plan states spending, not limits, so the appraisal gives it the
  settlements most favourable to it: the smallest (least total Σ S) that cover its spend
  and meet every rule, found by a small LP over the settlement and PSNFL columns with every
  other column fixed at the plan. Limits above spend (unspent settlement) are then chosen
  only where a rule needs them, e.g. a real-terms floor a department's programmes cannot
  absorb; the appraisal notes each such amount. When no settlements make every rule hold,
  it takes the smallest that cover the plan, S[d,k,c] = max_{t∈k} spend[d,c,t] · π_{k0} / π_t,
  and reports the rows that fail;
- PSNFL from its definition, N_t = N_{t−1} + RDEL_t + CDEL_t + (A_t − sav_t) + A^K_t − R_t + O_t.

Every row of the LP is then evaluated, a = A·x, against its bounds lo <= a <= hi. The margin
of a row is min(a − lo, hi − a) in £m (negative = breach), and each row is named in the
policy's words. The mission test (each row family declares its group, ``Rows.test``, in its module):

- **affordability**: every DEL envelope, settlement, departmental floor, Mission Fund limit,
  welfare cap and fiscal rule holds (with margins);
- **mission critical**: each core metric against baseline (continuing baseline spending grown with any
  demand pressures: today's service per head of need) in every published year, with
  every year it is worse flagged. It fails if a core metric is worse than baseline in the
  last published year, or worse in an earlier year by more than the J-curve tolerance the
  plan declares (``dip_tolerance``; an undeclared dip that recovers by the last year, or one
  within the declared tolerance, is a finding), or if the plan improves no core metric by the
  last year or its discounted mission value is not positive (a zero-impact plan fails);
- **10-year test**: the value of effects inside the horizon and after it (terminal) are
  both reported, with the persistence assumption (effects last as long as their lag profile
  says, nothing after); passes if terminal value >= 0 and the total >= 0;
- **PIE protection**: each department's protected PIE floor and the rising PIE share hold;
- **deliverability**: programme floors, caps, ramp limits, statutory demand floors and
  all-or-nothing business cases hold;
- **targets** (target mode only): each mission target is reached.

The gap to the optimal plan is (optimal objective − plan objective), both computed from
the same LP; zero for an optimal plan.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.errors import AllocatorError, Problem
from allocator.io import instance_sha256
from allocator.explain import describe
from allocator.models.allocation import (AllocationModel, avoided_demand, build_allocation_model,
                                         effective_activity)
from allocator.models.constraints import row_families
from allocator.models.data import CATEGORIES
from allocator.models.family import TEST_GROUPS
from allocator.models.objective import mission_gains, piece_coefficients
from allocator.schema import Instance

SPEND_COLUMNS = {"spend_gbp_m": 1.0, "spend_gbp_bn": 1000.0, "spend_gbp": 1e-6}  # £m per unit
REAL_COLUMNS = ("real_spend_gbp_m", "real_spend_gbp_bn", "real_spend_gbp")
PLAN_COLUMNS = ("year", "department", "programme", "category", "pie", "funding", *SPEND_COLUMNS,
                *REAL_COLUMNS)
REQUIRED = ("year", "programme")
#: appraisal test group -> the declared row families in it (``Rows.test`` in each module)
TESTS = {g: tuple(n for n, r in row_families().items() if r.test == g) for g in TEST_GROUPS}
ABS_TOL_GBP_M = 1e-3  # a plan in £m read from a CSV with 6 decimals is exact to well within
# £1,000 (a plan in £bn: within £1m, the tolerance used for it)
REL_TOL = 1e-9


class PlanError(AllocatorError):
    """A plan file is malformed; lists every problem (file, row, field, value)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"invalid plan: {len(problems)} problem(s)\n{lines}{more}")


@dataclass
class TestResult:
    name: str
    passed: bool
    summary: str
    figures: dict = field(default_factory=dict)


@dataclass
class Appraisal:
    instance_name: str
    objective_unit: str
    tests: list[TestResult]
    constraints: pd.DataFrame  # every policy row: activity, bounds, margin, ok, description
    missions: pd.DataFrame  # per mission: gain, value in/after horizon, value per £m
    plan_objective: float
    mission_value: float
    value_in_horizon: float
    value_terminal: float
    optimal_objective: float | None
    optimal_status: str
    notes: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    metrics: pd.DataFrame | None = None  # core metric against baseline, every published year
    net_value: dict | None = None  # NPV, BCR incremental over the baseline (allocator/value.py)
    value_programmes: pd.DataFrame | None = None

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tests)

    @property
    def gap(self) -> float | None:
        if self.optimal_objective is None:
            return None
        return self.optimal_objective - self.plan_objective

    def test(self, name: str) -> TestResult:
        return next(t for t in self.tests if t.name == name)

    @property
    def violations(self) -> pd.DataFrame:
        return self.constraints[~self.constraints["ok"]].reset_index(drop=True)

    def to_dict(self) -> dict:
        return {
            "instance": self.instance_name, "passed": self.passed,
            "objective_unit": self.objective_unit,
            "plan_objective": self.plan_objective, "mission_value": self.mission_value,
            "value_in_horizon": self.value_in_horizon, "value_terminal": self.value_terminal,
            "optimal_objective": self.optimal_objective, "optimal_status": self.optimal_status,
            "gap_to_optimal": self.gap,
            "tests": [{"name": t.name, "passed": t.passed, "summary": t.summary, "figures": t.figures}
                      for t in self.tests],
            "violations": self.violations.to_dict(orient="records"),
            "net_value": self.net_value,
            "notes": self.notes, **self.provenance,
        }

    def write(self, out: str | Path) -> Path:
        from allocator.output import atomic_dir, write_csv, write_json

        out = Path(out)
        with atomic_dir(out) as tmp:
            write_csv(self.constraints, tmp / "constraints.csv")
            write_csv(self.missions, tmp / "missions.csv")
            if self.metrics is not None:
                write_csv(self.metrics, tmp / "metrics.csv")
            if self.value_programmes is not None:
                write_csv(self.value_programmes, tmp / "value_programmes.csv")
            write_json(self.to_dict(), tmp / "appraisal.json")
            from allocator.dictionary import datapackage_for_folder

            datapackage_for_folder(tmp, "appraise")
        return out


# --------------------------------------------------------------------------- reading a plan
def _plan_rows(plan, file: str) -> tuple[list[tuple[int, dict]], list[str]]:
    """(row number, raw cells) from a path, CSV text or DataFrame."""
    if isinstance(plan, pd.DataFrame):
        df = plan.copy()
        for c in df.columns:
            if df[c].dtype == bool:
                df[c] = df[c].map({True: "true", False: "false"})
        recs = df.astype(object).where(df.notna(), "").to_dict(orient="records")
        return [(i + 2, {str(k): ("" if v is None else str(v) if not isinstance(v, float) else repr(v))
                         for k, v in r.items()}) for i, r in enumerate(recs)], list(map(str, df.columns))
    path = Path(plan)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise PlanError([Problem(file, "file", str(path), "no such plan file")]) from None
    except UnicodeDecodeError as e:
        raise PlanError([Problem(file, "file", f"byte {e.start}", "not UTF-8 text")]) from None
    reader = csv.DictReader(io.StringIO(text))
    cols = [c.strip() for c in (reader.fieldnames or [])]
    rows = []
    for lineno, rec in enumerate(reader, start=2):
        if None in rec:
            raise PlanError([Problem(file, f"row {lineno}", rec[None], "more cells than columns")])
        raw = {k.strip(): (v or "").strip() for k, v in rec.items()}
        if any(raw.values()):
            rows.append((lineno, raw))
    return rows, cols


def plan_spend(model: AllocationModel, plan, file: str = "plan",
               info: dict | None = None) -> tuple[dict, list[str]]:
    """Cash spend (£m) per (programme, year, funder) from a plan; raises :class:`PlanError`.
    ``info``, if given, receives ``spend_column`` and ``gbp_m_per_unit`` of the plan."""
    md = model.data
    rows, cols = _plan_rows(plan, file)
    problems: list[Problem] = []
    for c in cols:
        if c not in PLAN_COLUMNS:
            problems.append(Problem(file, f"column '{c}'", c, f"unknown column; expected some of {list(PLAN_COLUMNS)}"))
    for c in REQUIRED:
        if c not in cols:
            problems.append(Problem(file, f"column '{c}'", None, "required column is missing"))
    spend_cols = [c for c in cols if c in SPEND_COLUMNS]
    if len(spend_cols) != 1:
        problems.append(Problem(file, "column 'spend_gbp_m'", ", ".join(spend_cols) or None,
                                "exactly one cash spend column is required: spend_gbp_m (£m), "
                                "spend_gbp_bn (£bn) or spend_gbp (£)"))
    if problems:
        raise PlanError(problems)
    scol = spend_cols[0]
    to_m = SPEND_COLUMNS[scol]
    if info is not None:
        info.update(spend_column=scol, gbp_m_per_unit=to_m)
    if "department" not in cols:
        multi = [md.programmes[p] for p in range(md.P) if len(md.prog_owners[p]) > 1]
        named = {r.get("programme") for _, r in rows if (r.get("funding") or "department") == "department"}
        need = [p for p in multi if p in named]
        if need:
            raise PlanError([Problem(file, "column 'department'", None,
                                     f"required: {len(need)} programme(s) in the plan have several "
                                     f"owners and need one row per paying department (e.g. "
                                     f"{', '.join(need[:5])})")])
    prog_pos = {p: i for i, p in enumerate(md.programmes)}
    year_pos = {y: t for t, y in enumerate(md.years)}
    spend: dict[tuple[int, int, str], float] = {}
    seen: dict[tuple, int] = {}
    for lineno, r in rows:
        where = f"row {lineno}"
        p = prog_pos.get(r["programme"])
        if p is None:
            problems.append(Problem(file, f"{where}, field 'programme'", r["programme"], "unknown programme"))
            continue
        t = year_pos.get(r["year"])
        if t is None:
            problems.append(Problem(file, f"{where}, field 'year'", r["year"],
                                    f"not a horizon year ({md.years[0]}..{md.years[-1]})"))
            continue
        try:
            v = float(r[scol]) * to_m
        except ValueError:
            v = float("nan")
        if not math.isfinite(v) or v < 0:
            problems.append(Problem(file, f"{where}, field '{scol}'", r[scol],
                                    "must be a finite number >= 0 (cash)"))
            continue
        funding = r.get("funding", "") or "department"
        owners = [md.departments[d] for d in md.prog_owners[p]]
        if funding == "mission_fund":
            funder = "mission_fund"
            if not (model.lp.var_blocks["mission_fund"].index["programme"] == r["programme"]).any():
                problems.append(Problem(file, f"{where}, field 'funding'", funding,
                                        f"the Mission Fund cannot fund programme '{r['programme']}' "
                                        "in this instance (not eligible, or the Fund is off)"))
                continue
        elif funding == "department":
            funder = r.get("department", "") or (owners[0] if len(owners) == 1 else "")
            if funder not in owners:
                problems.append(Problem(file, f"{where}, field 'department'", funder or None,
                                        f"must be an owner of '{r['programme']}': {owners}"))
                continue
        else:
            problems.append(Problem(file, f"{where}, field 'funding'", funding,
                                    "must be 'department' or 'mission_fund'"))
            continue
        key = (p, t, funder)
        if key in seen:
            problems.append(Problem(file, where, f"{r['programme']} {r['year']} {funder}",
                                    f"duplicate of row {seen[key]}"))
            continue
        seen[key] = lineno
        spend[key] = v
    if problems:
        raise PlanError(problems)
    notes = []
    covered = {(p, t) for p, t, _ in spend}
    missing = [(p, t) for p in range(md.P) for t in range(md.T) if (p, t) not in covered]
    if missing:
        ex = ", ".join(f"{md.programmes[p]} {md.years[t]}" for p, t in missing[:5])
        notes.append(f"{len(missing)} programme-years have no row in the plan and are taken as zero "
                     f"spend (e.g. {ex})")
    return spend, notes


# --------------------------------------------------------------------------- plan -> LP columns
def plan_vector(model: AllocationModel, spend: dict) -> np.ndarray:
    """The LP column vector that represents a plan (see the module docstring)."""
    md, lp, e = model.data, model.lp, model.expr
    T = md.T
    x = np.zeros(lp.n)
    cash = np.zeros((md.P, T))
    for (p, t, _), v in spend.items():
        cash[p, t] += v
    q = cash / md.deflator[None, :]
    xb = lp.var_blocks["x"]
    left = effective_activity(md, q)  # pieces hold (q + avoided demand) / pressure index
    vb = lp.var_blocks["avoided_demand"]
    if vb.size:
        x[vb.start:vb.start + vb.size] = avoided_demand(md, q)[md.its_targets].ravel()
    for i in range(len(md.piece_prog)):  # pieces of a programme are consecutive, in fill order
        p = md.piece_prog[i]
        take = np.minimum(md.piece_width[i], left[p])
        x[xb.start + i * T: xb.start + (i + 1) * T] = take
        left[p] -= take
    fb = lp.var_blocks["funding"]
    if fb.size:
        idx = fb.index
        pp = idx["programme"].map({p: i for i, p in enumerate(md.programmes)}).to_numpy()
        tt = idx["year"].map({y: t for t, y in enumerate(md.years)}).to_numpy()
        x[fb.start:fb.start + fb.size] = [spend.get((p, t, d), 0.0)
                                          for p, t, d in zip(pp, tt, idx["department"])]
    gb = lp.var_blocks["mission_fund"]
    if gb.size:
        idx = gb.index
        pp = idx["programme"].map({p: i for i, p in enumerate(md.programmes)}).to_numpy()
        tt = idx["year"].map({y: t for t, y in enumerate(md.years)}).to_numpy()
        x[gb.start:gb.start + gb.size] = [spend.get((p, t, "mission_fund"), 0.0) for p, t in zip(pp, tt)]
    # settlements: the smallest that cover the plan's department spend
    sb = lp.var_blocks["settlement"]
    dspend = (e.dept_spend @ x).reshape(md.D, 2, T)
    pi = md.deflator
    for j, r in enumerate(sb.index.itertuples(index=False)):
        d = md.departments.index(r.department)
        c = CATEGORIES.index(r.category)
        k = [pid for pid, _, _ in md.periods].index(r.period)
        _, a, b = md.periods[k]
        x[sb.start + j] = max(dspend[d, c, t] * pi[a] / pi[t] for t in range(a, b + 1))
    # settled totals fixed where imposed; Barnett-determined limits from their rows
    if model.instance.settings.constraints.settled_totals and lp.family("settled_total") is not None:
        from allocator.models.constraints.settlements import settled_values

        slot = {(r.department, r.category, r.period): j
                for j, r in enumerate(sb.index.itertuples(index=False))}
        for d, c, t, v in settled_values(model):
            k = md.period_of_year[t]
            pid, a, _ = md.periods[k]
            x[sb.start + slot[(md.departments[d], CATEGORIES[c], pid)]] = v * pi[a] / pi[t]
    blk = lp.family("barnett")
    if blk is not None:
        # L[n,c,t] = rhs + Σ β CE: the row's activity without the devolved limits gives them
        A = lp.A
        rows = np.arange(blk.start, blk.start + blk.size)
        labels = blk.labels
        own = {(r.department, r.category, r.period): j
               for j, r in enumerate(sb.index.itertuples(index=False))}
        for i, lab in enumerate(labels.itertuples(index=False)):
            t = md.years.index(lab.year)
            pid, a, _ = md.periods[md.period_of_year[t]]
            j = sb.start + own[(lab.subject, lab.category, pid)]
            coef = A[rows[i], j]
            keep, x[j] = x[j], 0.0
            need = (lp.row_lower[rows[i]] - (A[rows[i]] @ x)[0]) / coef
            # annual profile: one year per column; flat_real: the period's largest need
            x[j] = need if md.periods[md.period_of_year[t]][1] == t else max(keep, need)
    # all-or-nothing business cases: z_p = 1 when year-1 real spend is nearer the cap than the
    # baseline (a plan funding it in part then breaks its business_case rows)
    zb = lp.var_blocks.get("business_case")
    if zb is not None and zb.size:
        for j, prog in enumerate(zb.index["programme"]):
            p = md.programmes.index(prog)
            x[zb.start + j] = float(abs(q[p, 0] - md.prog_cap[p]) < abs(q[p, 0] - md.prog_baseline[p]))
    psnfl_from_definition(model, x)
    return x


def favourable_settlements(model: AllocationModel, x: np.ndarray,
                           tol_gbp_m: float = 0.0) -> np.ndarray | None:
    """The plan ``x`` with the settlements most favourable to it, or None if there are none.

    With every column but the settlements S and PSNFL N fixed at ``x`` (x_F), solve

        minimise Σ S   subject to   lo − A_F x_F <= A_{S,N} (S, N) <= hi − A_F x_F,
                                     S, N within their column bounds

    (every row, policy and structural; policy rows widened by ``tol_gbp_m``, the rounding
    allowance the appraisal uses). Feasible: the plan with the least settlements that make
    every rule hold. Infeasible: no settlements do, and None is returned."""
    from allocator.solvers.highs import _clip_inf, new_highs

    import highspy

    lp = model.lp
    sb, nb = lp.var_blocks["settlement"], lp.var_blocks["psnfl"]
    free = np.concatenate([np.arange(sb.start, sb.start + sb.size), np.arange(nb.start, nb.start + nb.size)])
    fixed = np.ones(lp.n, dtype=bool)
    fixed[free] = False
    A = lp.A.tocsc()
    act = A[:, np.flatnonzero(fixed)] @ x[fixed]
    sub = A[:, free].tocsc()
    h = new_highs()
    m = highspy.HighsLp()
    m.num_col_, m.num_row_ = len(free), lp.m
    m.sense_ = highspy.ObjSense.kMinimize
    m.col_cost_ = np.r_[np.ones(sb.size), np.zeros(nb.size)]
    m.col_lower_ = _clip_inf(lp.col_lower[free])
    m.col_upper_ = _clip_inf(lp.col_upper[free])
    widen = np.where(lp.row_labels()["structural"].to_numpy(dtype=bool), 0.0, tol_gbp_m)
    m.row_lower_ = _clip_inf(lp.row_lower - act - widen)
    m.row_upper_ = _clip_inf(lp.row_upper - act + widen)
    m.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    m.a_matrix_.start_ = sub.indptr.astype(np.int32)
    m.a_matrix_.index_ = sub.indices.astype(np.int32)
    m.a_matrix_.value_ = sub.data.astype(float)
    m.a_matrix_.num_col_, m.a_matrix_.num_row_ = len(free), lp.m
    h.passModel(m)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    y = x.copy()
    y[free] = np.asarray(h.getSolution().col_value)
    psnfl_from_definition(model, y)
    return y


def psnfl_from_definition(model: AllocationModel, x: np.ndarray) -> None:
    """Set the PSNFL columns of ``x`` from their definition rows, in place: the rows
    N_t − (1+ι) N_{t−1} + other_t = rhs_t solved by forward substitution."""
    from scipy.sparse.linalg import spsolve_triangular

    lp, T = model.lp, model.data.T
    nb = lp.var_blocks["psnfl"]
    x[nb.start:nb.start + T] = 0.0
    blk = lp.family("psnfl_definition")
    A = lp.A
    rows = slice(blk.start, blk.start + blk.size)
    other = A[rows] @ x
    rhs = lp.row_lower[rows]
    M = A[rows][:, nb.start:nb.start + T].tocsr()
    x[nb.start:nb.start + T] = spsolve_triangular(M, rhs - other, lower=True)


def constraint_table(model: AllocationModel, x: np.ndarray,
                     abs_tol_gbp_m: float = ABS_TOL_GBP_M) -> pd.DataFrame:
    """Every row's activity, bounds and margin (£m; < 0 = breach), named in words; a row
    holds when its margin >= −(abs_tol + 1e-9 · |bound|)."""
    lp = model.lp
    act = lp.A @ x
    lo, hi = lp.row_lower, lp.row_upper
    labels = lp.row_labels()
    with np.errstate(invalid="ignore"):
        m_lo = np.where(np.isfinite(lo), act - lo, np.inf)
        m_hi = np.where(np.isfinite(hi), hi - act, np.inf)
    margin = np.minimum(m_lo, m_hi)
    scale = np.maximum(1.0, np.abs(np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi, 0.0))))
    ok = margin >= -(abs_tol_gbp_m + REL_TOL * scale)
    df = labels.rename(columns={"family": "constraint"}).copy()
    df["activity"] = act
    df["lower"] = lo
    df["upper"] = hi
    df["margin_gbp_m"] = margin
    df["ok"] = ok
    df["description"] = [describe(r.constraint, r.year, r.subject, r.category)
                         for r in df.itertuples()]
    return df


def _gbp(v: float) -> str:
    return f"{round(float(v), 1) + 0.0:,.1f}"


def _test(name: str, fams, cons: pd.DataFrame, what: str) -> TestResult:
    rows = cons[cons["constraint"].isin(fams)]
    bad = rows[~rows["ok"]].sort_values("margin_gbp_m")
    fig = {"rows_checked": int(len(rows)), "breaches": int(len(bad))}
    per = {}
    for fam, g in rows.groupby("constraint", sort=False):
        i = g["margin_gbp_m"].idxmin()
        per[fam] = {"min_margin_gbp_m": float(g.loc[i, "margin_gbp_m"]), "where": g.loc[i, "description"],
                    "breaches": int((~g["ok"]).sum())}
    fig["by_constraint"] = per
    if len(rows) == 0:
        return TestResult(name, True, f"no {what} apply in this instance", fig)
    if len(bad):
        worst = bad.iloc[0]
        summary = (f"FAIL: {len(bad)} of {len(rows)} {what} breached; worst: {worst['description']} "
                   f"by £{_gbp(-worst['margin_gbp_m'])}m")
        fig["worst"] = {"description": worst["description"], "margin_gbp_m": float(worst["margin_gbp_m"])}
    else:
        # settlements are set to cover the plan, so they are tight by construction: report the
        # tightest of the other rows
        pick = rows[rows["constraint"] != "settlement"]
        pick = pick if len(pick) else rows
        i = pick["margin_gbp_m"].idxmin()
        summary = (f"pass: all {len(rows)} {what} hold; tightest: {pick.loc[i, 'description']} "
                   f"(margin £{_gbp(pick.loc[i, 'margin_gbp_m'])}m)")
    return TestResult(name, len(bad) == 0, summary, fig)


def _solve(instance):
    from allocator.api import solve

    return solve(instance, explain=False)


def appraise(instance, plan, *, file: str | None = None, optimise: bool = True,
             dip_tolerance: dict | None = None) -> Appraisal:
    """Evaluate ``plan`` (a path, or a DataFrame shaped like ``allocations.csv``) for ``instance``
    (an :class:`Instance`, or a built :class:`allocator.modelling.Model` whose user
    constraints then form the test ``user_constraints``).

    Every constraint row of the LP is checked at the plan (margins in £m, named in words)
    and the plan's mission value computed, giving the mission test: affordability, mission
    critical, 10-year test, PIE protection, deliverability (and targets in target mode),
    plus the gap to the optimal plan when ``optimise``.

    ``dip_tolerance``: the J-curves the plan declares, {mission id or "*": largest dip below
    baseline in metric units it accepts in a year before the last}; see
    :func:`mission_critical` for the rule.

    >>> from allocator import load_instance, solve, tiny_instance_path
    >>> instance = load_instance(tiny_instance_path())
    >>> a = appraise(instance, solve(instance).allocations)   # the optimal plan itself
    >>> a.passed, a.mission_value, a.gap
    (True, 184.5, 0.0)
    >>> [t.name for t in a.tests]
    ['affordability', 'mission_critical', 'ten_year', 'pie_protection', 'deliverability']"""
    from allocator.modelling import Model
    from allocator.provenance import command_line, package_versions

    from allocator.numerics import objective_unit_label, to_gbp_m, value_unit_label

    built = instance if isinstance(instance, Model) else None
    if built is not None:  # a built model: its user constraints are appraised too
        user_instance = built.user_instance
        model = built.allocation  # built in £m
        instance = model.instance
    else:
        user_instance = instance
        instance = to_gbp_m(instance)  # the appraisal works, and reports, in £m
        model = build_allocation_model(instance)
    md, lp = model.data, model.lp
    fname = file or (Path(plan).name if not isinstance(plan, pd.DataFrame) else "plan")
    info: dict = {}
    spend, notes = plan_spend(model, plan, fname, info)
    # a CSV value with 6 decimals is exact to 5e-7 of its unit; a row sums up to hundreds
    tol = ABS_TOL_GBP_M * max(1.0, info["gbp_m_per_unit"])
    x = plan_vector(model, spend)
    fav = favourable_settlements(model, x, tol)
    if fav is not None:
        lim = (model.expr.limit @ fav).reshape(md.D, 2, md.T)
        dsp = (model.expr.dept_spend @ fav).reshape(md.D, 2, md.T)
        unspent = (lim - dsp).sum(axis=(1, 2))
        x = fav
        for d in np.flatnonzero(unspent > ABS_TOL_GBP_M):
            notes.append(f"{md.departments[d]}: £{_gbp(unspent[d])}m of settlement is left unspent "
                         "over the horizon (limits above spend, which a rule such as the "
                         "real-terms floor requires)")
    cons = constraint_table(model, x, tol)
    structural = cons["structural"].to_numpy()
    if not cons.loc[structural, "ok"].all():  # cannot happen for a plan built by plan_vector
        bad = cons[structural & ~cons["ok"]]
        raise AllocatorError(f"internal: plan violates definitions {list(bad['constraint'].unique())}")
    policy = cons[~structural].drop(columns="structural").reset_index(drop=True)

    st = instance.settings
    unit = value_unit_label("gbp_m", st.weights.kind)
    obj_unit = objective_unit_label("gbp_m", st.weights.kind, st.objective.kind)
    plan_objective = float(lp.cost @ x + lp.constant)
    # mission value from the value objective, whatever the instance's objective mode
    c_in, c_term = piece_coefficients(md)
    xb = lp.var_blocks["x"]
    xv = x[xb.start:xb.start + xb.size].reshape(-1, md.T)
    fill = md.piece_baseline_fill[:, None]
    v_in = float((c_in * (xv - fill)).sum())
    v_term = float((c_term * (xv - fill)).sum())
    gains = mission_gains(md, xv)
    total_cash = float(sum(spend.values()))
    base_cash = float((md.prog_baseline[:, None] * md.deflator[None, :]).sum())
    extra_cash = total_cash - base_cash
    mrows = []
    for m, mission in enumerate(instance.settings.missions):
        val = md.weight[m] * md.delta[m] * gains[m]
        vin, vt = float(val[:md.T].sum()), float(val[md.T:].sum())
        mrows.append(dict(mission=mission.id, metric=mission.metric, unit=mission.metric_unit,
                          gain_final_year=float(gains[m, md.T - 1]), value_in_horizon=vin,
                          value_terminal=vt, value=vin + vt,
                          value_per_gbp_m=(vin + vt) / total_cash if total_cash > 0 else float("nan"),
                          value_per_extra_gbp_m=(vin + vt) / extra_cash if extra_cash > 1e-9 else float("nan")))
    missions = pd.DataFrame(mrows)
    total = v_in + v_term
    tol = 1e-6 * max(1.0, abs(total))

    tests = [_test("affordability", TESTS["affordability"], policy,
                   "DEL envelope, settlement, departmental floor, Mission Fund and fiscal-rule constraints")]
    metrics = metric_paths(instance, md, gains)
    mc = mission_critical(metrics, total, tol, unit, total_cash, extra_cash, missions, dip_tolerance)
    ten_ok = v_term >= -tol and total >= -tol
    persistence = persistence_note(instance, md)
    ten = TestResult("ten_year", ten_ok,
                     f"{'pass' if ten_ok else 'FAIL'}: value in the horizon {v_in:,.1f}, after it (terminal) "
                     f"{v_term:,.1f} {unit}; terminal share {100 * v_term / total if total else 0:,.1f}%. "
                     f"Persistence: {persistence}",
                     {"value_in_horizon": v_in, "value_terminal": v_term,
                      "terminal_share": v_term / total if total else None,
                      "persistence": persistence,
                      "gain_after_horizon": {mission.id: float(gains[m, md.T:].sum())
                                             for m, mission in enumerate(instance.settings.missions)}})
    tests += [mc, ten,
              _test("pie_protection", TESTS["pie_protection"], policy, "PIE protection constraints"),
              _test("deliverability", TESTS["deliverability"], policy, "programme floor, cap, ramp and business-case limits")]
    if instance.settings.objective.kind == "target_cost":
        tests.append(_test("targets", TESTS["targets"], policy, "mission targets"))
    user = [f.rows[0].name for f in (built.user_families if built is not None else [])]
    if user:
        tests.append(_test("user_constraints", tuple(user), policy, "user constraints"))

    opt, status = None, "not computed"
    if optimise:
        if built is not None:
            from allocator.numerics import money_unit, objective_factor

            res = built.solve(explain=False)  # Result in the user's unit: back to £m-model units
            ws = built.user_instance.settings
            k = objective_factor(money_unit(built.user_instance), ws.weights.kind, ws.objective.kind)
        else:
            res, k = _solve(instance), 1.0  # the £m instance: objective in £m-model units
        status = res.status
        opt = None if res.objective is None else res.objective * k
    if obj_unit != unit:
        notes.append(f"the plan objective and the gap to the optimum are in {obj_unit}; mission "
                     f"values in {unit}")
    from allocator.value import net_value

    nv = net_value(model, x)
    app = Appraisal(instance.settings.name, unit, tests, policy, missions, plan_objective, total, v_in,
                    v_term, opt, status, notes,
                    {"instance_sha256": (built.instance_hash if built is not None
                                         else instance_sha256(user_instance)),
                     "money_unit": "gbp_m",
                     "versions": package_versions(),
                     "command": command_line()}, metrics=metrics, net_value=nv.summary(),
                    value_programmes=nv.programmes)
    return app


def metric_paths(instance: Instance, md, gains: np.ndarray) -> pd.DataFrame:
    """Each core metric against baseline in every published (horizon) year: mission, year,
    baseline_value, value, improvement (metric units, + = better), worse (beyond round-off)."""
    rows = []
    for m, mission in enumerate(instance.settings.missions):
        sign = 1.0 if mission.higher_is_better else -1.0
        for t, y in enumerate(md.years):
            base = mission.baseline_value + mission.baseline_trend_per_year * t
            g = float(gains[m, t])
            eps = 1e-9 * max(1.0, abs(base))
            rows.append(dict(mission=mission.id, year=y, unit=mission.metric_unit, baseline_value=base,
                             value=base + sign * g, improvement=g, worse=g < -eps))
    return pd.DataFrame(rows)


def mission_critical(metrics: pd.DataFrame, total: float, tol: float, unit: str, total_cash: float,
                     extra_cash: float, missions: pd.DataFrame,
                     dip_tolerance: dict | None = None) -> TestResult:
    """The mission-critical test. Every core metric is compared with baseline in every
    published year and each year it is worse is flagged. A flag is a FAILURE when

    1. the metric is worse than baseline at the end of the horizon (the last published year); or
    2. the plan declares a J-curve tolerance for the mission (``dip_tolerance[mission]``, or
       ``["*"]`` for all) and the metric is worse by more than it in an earlier year;

    otherwise (a dip before the last year that recovers, with no tolerance declared, or within
    the declared one) it is a *finding*, reported with its years and depth. The plan must also
    help: it FAILS if it improves no core metric at the end of the horizon or its total mission
    value is not positive (a plan that changes nothing delivers no mission)."""
    last = metrics["year"].iloc[-1] if len(metrics) else None
    dips = metrics[metrics["worse"]]
    end_worse = sorted(dips.loc[dips["year"] == last, "mission"].unique())
    tol_of = dict(dip_tolerance or {})
    beyond, findings = [], []
    for mid, g in dips[dips["year"] != last].groupby("mission", sort=True):
        depth = float(-g["improvement"].min())
        at = g.loc[g["improvement"].idxmin(), "year"]
        allowed = tol_of.get(mid, tol_of.get("*"))
        text = (f"{mid} worse than baseline in {', '.join(g['year'])} (deepest {depth:,.4g} "
                f"{g['unit'].iloc[0]} in {at})")
        if allowed is not None and depth > allowed + 1e-12:
            beyond.append(text + f", beyond its declared tolerance {allowed:g}")
        else:
            findings.append(text + (" within its declared J-curve" if allowed is not None
                                    else ", recovering by the end of the horizon (J-curve)"))
    improved = sorted(metrics.loc[(metrics["year"] == last) & (metrics["improvement"] > 1e-9
                                  * metrics["baseline_value"].abs().clip(lower=1.0)), "mission"])
    helps = bool(improved) and total > tol
    ok = not end_worse and not beyond and helps
    reasons = []
    if end_worse:
        reasons.append("worse than baseline at the end of the horizon: " + ", ".join(end_worse))
    reasons += beyond
    if not helps:
        reasons.append("improves no core metric at the end of the horizon" if not improved
                       else f"total mission value {total:,.1f} is not positive")
    head = (f"{'pass' if ok else 'FAIL'}: mission value {total:,.1f} {unit} against continuing "
            f"baseline spending; core metrics improved at the end of the horizon: "
            f"{', '.join(improved) or 'none'}")
    summary = head + ("; FAIL because " + "; ".join(reasons) if reasons else "")
    if findings:
        summary += "; findings: " + "; ".join(findings)
    figs = {"mission_value": total, "total_spend_gbp_m": total_cash,
            "spend_above_baseline_gbp_m": extra_cash,
            "value_per_extra_gbp_m": total / extra_cash if extra_cash > 1e-9 else None,
            "rule": "fail if a core metric is worse than baseline in the last published year, or "
                    "worse in an earlier year by more than the J-curve tolerance the plan "
                    "declares, or if no core metric improves by the last year",
            "worse_at_end_of_horizon": end_worse, "beyond_declared_tolerance": beyond,
            "findings": findings, "improved_at_end_of_horizon": improved,
            "declared_tolerance": tol_of,
            "worse_years": dips[["mission", "year", "improvement"]].to_dict(orient="records"),
            "by_mission": missions.set_index("mission")[["gain_final_year", "value",
                                                         "value_per_extra_gbp_m"]].to_dict(orient="index")}
    return TestResult("mission_critical", ok, summary, figs)


def persistence_note(instance: Instance, md) -> str:
    """The persistence assumption behind the 10-year test, in words."""
    K = md.K
    return (f"an effect lasts only as its lag profile says (lags.csv: shares of a year's spend "
            f"landing 0..{K} years later; nothing persists after the last lag), so value after "
            f"the horizon counts effects landing in {_after(md, 0)}..{_after(md, K - 1)} from spend "
            "inside it, discounted as in the objective; no effect of spend after the horizon "
            "is counted") if K > 0 else ("effects land in the year of spend only (no lags): "
                                          "nothing persists after the horizon")


def _after(md, k: int) -> str:
    start = int(md.years[0][:4]) + md.T + k
    return f"{start}-{(start + 1) % 100:02d}"


# --------------------------------------------------------------------------- one business case
CASE_COLUMNS = ("programme", "change_gbp_m", "year", "note")


def read_business_case(instance: Instance, case, file: str = "case") -> pd.DataFrame:
    """A business case: rows ``programme, change_gbp_m[, year][, note]``. ``change_gbp_m`` is
    the change against baseline spend in real £m a year (price base), + or −; ``year`` a
    horizon year, or empty/absent for every year. Raises :class:`PlanError` naming the file,
    row, field and value of every problem."""
    rows, cols = _plan_rows(case, file)
    problems: list[Problem] = []
    for c in cols:
        if c not in CASE_COLUMNS:
            problems.append(Problem(file, f"column '{c}'", c, f"unknown column; expected some of {list(CASE_COLUMNS)}"))
    for c in ("programme", "change_gbp_m"):
        if c not in cols:
            problems.append(Problem(file, f"column '{c}'", None, "required column is missing"))
    if problems:
        raise PlanError(problems)
    progs = {p.id: p for p in instance.programmes}
    years = list(instance.years)
    out = []
    for lineno, r in rows:
        where = f"row {lineno}"
        if r["programme"] not in progs:
            problems.append(Problem(file, f"{where}, field 'programme'", r["programme"], "unknown programme"))
            continue
        try:
            v = float(r["change_gbp_m"])
        except ValueError:
            v = float("nan")
        if not math.isfinite(v):
            problems.append(Problem(file, f"{where}, field 'change_gbp_m'", r["change_gbp_m"],
                                    "must be a finite number (real £m a year against baseline)"))
            continue
        y = (r.get("year") or "").strip()
        if y and y not in years:
            problems.append(Problem(file, f"{where}, field 'year'", y,
                                    f"not a horizon year ({years[0]}..{years[-1]}); leave empty for every year"))
            continue
        for yy in ([y] if y else years):
            out.append(dict(programme=r["programme"], year=yy, change_gbp_m=v))
    if problems:
        raise PlanError(problems)
    if not out:
        raise PlanError([Problem(file, "rows", None, "the business case changes nothing")])
    return pd.DataFrame(out).groupby(["programme", "year"], as_index=False, sort=False)["change_gbp_m"].sum()


def proposal_plan(instance: Instance, changes: pd.DataFrame) -> pd.DataFrame:
    """Baseline spend plus the business case's changes, as a plan (cash £m). A shared
    programme's spend is funded by its first owner (settlements follow the plan)."""
    pi = {y: f.deflator for y, f in zip(instance.years, instance.fiscal)}
    ch = {(r.programme, r.year): r.change_gbp_m for r in changes.itertuples()}
    rows = []
    for p in instance.programmes:
        for y in instance.years:
            real = p.baseline_gbp_m + ch.get((p.id, y), 0.0)
            rows.append(dict(year=y, programme=p.id, department=p.owners[0], funding="department",
                             spend_gbp_m=max(real, 0.0) * pi[y]))
    return pd.DataFrame(rows)


def appraise_proposal(instance: Instance, case, *, file: str | None = None, optimise: bool = False,
                      dip_tolerance: dict | None = None) -> Appraisal:
    """Appraise one business case on its own: the baseline plus the case's programme changes
    (:func:`read_business_case`), so every figure (NPV, BCR, core-metric impacts, value
    inside and after the horizon) is the case's increment over the baseline, with the
    affordability and other tests of the whole plan it implies."""
    fname = file or (Path(case).name if not isinstance(case, pd.DataFrame) else "case")
    changes = read_business_case(instance, case, fname)
    a = appraise(instance, proposal_plan(instance, changes), file=fname, optimise=optimise,
                 dip_tolerance=dip_tolerance)
    a.notes.insert(0, f"business case {fname}: {len(changes)} programme-year changes against "
                      f"baseline, net {changes['change_gbp_m'].sum():+,.1f} real £m")
    base = appraise(instance, proposal_plan(instance, changes.iloc[0:0]), file="baseline",
                    optimise=False)
    key = ["constraint", "year", "subject", "category"]
    inherited = a.violations.merge(base.violations[key], on=key)
    if len(inherited):
        a.notes.insert(1, f"{len(inherited)} of the {len(a.violations)} breaches are already "
                          "breached by the baseline plan itself (e.g. "
                          f"{inherited['description'].iloc[0]}): the case does not cause them")
    return a
