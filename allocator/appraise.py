"""Appraise a given spending plan against the mission test, without optimising.

A plan is a table with the columns of ``allocations.csv`` (``year, department, programme,
category, pie, funding, spend_gbp_m, real_spend_gbp_m``; only ``year``, ``programme`` and
``spend_gbp_m`` are required; ``spend_gbp_m`` is cash £m and is authoritative). It is
mapped onto the allocation LP's columns exactly as the optimiser would hold it:

- real spend q[p,t] = Σ cash spend / π_t, poured into the programme's response pieces in
  segment order (x[i,t] = min(width_i, what is left)); the response is concave, so this is
  the fill any optimum uses;
- ``funding[p,d,t]`` = cash the plan says department d pays for p (split programmes),
  ``mission_fund[p,t]`` = the Mission Fund rows;
- ``business_case[p]`` (all-or-nothing programmes) = 1 when year-1 spend is nearer the cap
  than the baseline, else 0;
- settlements = department spend: S[d,k,c] = max_{t∈k} spend[d,c,t] · π_{k0} / π_t (the
  smallest settlement that covers the plan; annual profile: the spend itself);
- PSNFL from its definition, N_t = N_{t−1} + RDEL_t + CDEL_t + (A_t − sav_t) + A^K_t − R_t + O_t.

Every row of the LP is then evaluated, a = A·x, against its bounds lo <= a <= hi. The margin
of a row is min(a − lo, hi − a) in £m (negative = breach), and each row is named in the
policy's words. The mission test (each row family declares its group, ``Rows.test``, in its module):

- **affordability**: every DEL envelope, settlement, departmental floor, Mission Fund limit,
  welfare cap and fiscal rule holds (with margins);
- **mission critical**: discounted mission value Σ_m w_m Σ_t δ_mt gain_mt >= 0 (no worse
  than continuing baseline spending), reported per mission and per £m spent;
- **10-year test**: the value of effects inside the horizon and after it (terminal) are
  both reported; passes if terminal value >= 0 and the total >= 0;
- **PIE protection**: each department's protected PIE floor and the rising PIE share hold;
- **deliverability**: programme floors, caps, ramp limits and all-or-nothing business cases hold;
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
from allocator.models.allocation import AllocationModel, build_allocation_model
from allocator.models.constraints import row_families
from allocator.models.data import CATEGORIES
from allocator.models.family import TEST_GROUPS
from allocator.models.objective import mission_gains, piece_coefficients
from allocator.schema import Instance

PLAN_COLUMNS = ("year", "department", "programme", "category", "pie", "funding", "spend_gbp_m",
                "real_spend_gbp_m")
REQUIRED = ("year", "programme", "spend_gbp_m")
#: appraisal test group -> the declared row families in it (``Rows.test`` in each module)
TESTS = {g: tuple(n for n, r in row_families().items() if r.test == g) for g in TEST_GROUPS}
ABS_TOL_GBP_M = 1e-3  # a plan read from a CSV with 6 decimals is exact to well within £1,000
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
            "notes": self.notes, **self.provenance,
        }

    def write(self, out: str | Path) -> Path:
        from allocator.output import atomic_dir, write_csv, write_json

        out = Path(out)
        with atomic_dir(out) as tmp:
            write_csv(self.constraints, tmp / "constraints.csv")
            write_csv(self.missions, tmp / "missions.csv")
            write_json(self.to_dict(), tmp / "appraisal.json")
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


def plan_spend(model: AllocationModel, plan, file: str = "plan") -> tuple[dict, list[str]]:
    """Cash spend per (programme, year, funder) from a plan; raises :class:`PlanError`."""
    md = model.data
    rows, cols = _plan_rows(plan, file)
    problems: list[Problem] = []
    for c in cols:
        if c not in PLAN_COLUMNS:
            problems.append(Problem(file, f"column '{c}'", c, f"unknown column; expected some of {list(PLAN_COLUMNS)}"))
    for c in REQUIRED:
        if c not in cols:
            problems.append(Problem(file, f"column '{c}'", None, "required column is missing"))
    if problems:
        raise PlanError(problems)
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
            v = float(r["spend_gbp_m"])
        except ValueError:
            v = float("nan")
        if not math.isfinite(v) or v < 0:
            problems.append(Problem(file, f"{where}, field 'spend_gbp_m'", r["spend_gbp_m"],
                                    "must be a finite number >= 0 (cash £m)"))
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
    left = q.copy()
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
    # PSNFL from its definition (rows N_t − (1+ι) N_{t−1} + other_t = rhs_t): forward substitution
    from scipy.sparse.linalg import spsolve_triangular

    nb = lp.var_blocks["psnfl"]
    blk = lp.family("psnfl_definition")
    A = lp.A
    rows = slice(blk.start, blk.start + blk.size)
    other = A[rows] @ x
    rhs = lp.row_lower[rows]
    M = A[rows][:, nb.start:nb.start + T].tocsr()
    x[nb.start:nb.start + T] = spsolve_triangular(M, rhs - other, lower=True)
    return x


def constraint_table(model: AllocationModel, x: np.ndarray) -> pd.DataFrame:
    """Every row's activity, bounds and margin (£m; < 0 = breach), named in words."""
    lp = model.lp
    act = lp.A @ x
    lo, hi = lp.row_lower, lp.row_upper
    labels = lp.row_labels()
    with np.errstate(invalid="ignore"):
        m_lo = np.where(np.isfinite(lo), act - lo, np.inf)
        m_hi = np.where(np.isfinite(hi), hi - act, np.inf)
    margin = np.minimum(m_lo, m_hi)
    scale = np.maximum(1.0, np.abs(np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi, 0.0))))
    ok = margin >= -(ABS_TOL_GBP_M + REL_TOL * scale)
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


def appraise(instance, plan, *, file: str | None = None, optimise: bool = True) -> Appraisal:
    """Evaluate ``plan`` (a path, or a DataFrame shaped like ``allocations.csv``) for ``instance``
    (an :class:`Instance`, or a built :class:`allocator.modelling.Model` whose user
    constraints then form the test ``user_constraints``)."""
    from allocator.modelling import Model
    from allocator.provenance import command_line, package_versions

    built = instance if isinstance(instance, Model) else None
    if built is not None:
        instance = built.user_instance
        model = built.allocation
    else:
        model = build_allocation_model(instance)
    md, lp = model.data, model.lp
    fname = file or (Path(plan).name if not isinstance(plan, pd.DataFrame) else "plan")
    spend, notes = plan_spend(model, plan, fname)
    x = plan_vector(model, spend)
    cons = constraint_table(model, x)
    structural = cons["structural"].to_numpy()
    if not cons.loc[structural, "ok"].all():  # cannot happen for a plan built by plan_vector
        bad = cons[structural & ~cons["ok"]]
        raise AllocatorError(f"internal: plan violates definitions {list(bad['constraint'].unique())}")
    policy = cons[~structural].drop(columns="structural").reset_index(drop=True)

    unit = ("£m-equivalent (monetised weights)" if instance.settings.weights.kind == "monetised"
            else "priority points (unitless weights)")
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
    worse = missions[missions["value"] < -tol]["mission"].tolist()
    mc = TestResult("mission_critical", total >= -tol,
                    (f"{'pass' if total >= -tol else 'FAIL'}: mission value {total:,.1f} {unit} against "
                     f"continuing baseline spending ({total / total_cash if total_cash else float('nan'):,.4f} "
                     f"per £m spent)" + (f"; missions worse off than baseline: {', '.join(worse)}" if worse else "")),
                    {"mission_value": total, "total_spend_gbp_m": total_cash,
                     "spend_above_baseline_gbp_m": extra_cash,
                     "value_per_gbp_m": total / total_cash if total_cash > 0 else None,
                     "missions_worse_than_baseline": worse,
                     "by_mission": missions.set_index("mission")[["gain_final_year", "value",
                                                                  "value_per_gbp_m"]].to_dict(orient="index")})
    ten_ok = v_term >= -tol and total >= -tol
    ten = TestResult("ten_year", ten_ok,
                     f"{'pass' if ten_ok else 'FAIL'}: value in the horizon {v_in:,.1f}, after it (terminal) "
                     f"{v_term:,.1f} {unit}; terminal share {100 * v_term / total if total else 0:,.1f}%",
                     {"value_in_horizon": v_in, "value_terminal": v_term,
                      "terminal_share": v_term / total if total else None})
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
        res = built.solve(explain=False) if built is not None else _solve(instance)
        status = res.status
        opt = res.objective
    app = Appraisal(instance.settings.name, unit, tests, policy, missions, plan_objective, total, v_in,
                    v_term, opt, status, notes,
                    {"instance_sha256": (built.instance_hash if built is not None
                                         else instance_sha256(instance)),
                     "versions": package_versions(),
                     "command": command_line()})
    return app
