"""Re-check a results folder against its instance: hash, units, every rule, every table,
the status and the objective.

``verify_results(results_dir, instance=None)`` reads ``summary.json`` and the result
tables written by ``allocator solve --out`` (in the instance's money unit), loads the
instance (the given path; otherwise the folder recorded in the summary if its hash
matches, else the installed shipped instance with that hash), and

1. compares the instance's SHA-256 with the one the results were produced from (a run with
   user constraints, ``summary.json`` ``user_constraints``, records the hash of the instance
   and its constraints, so it never verifies against the bare instance), and the summary's
   money unit, weights/objective kind and objective label with the instance's;
2. converts the tables back to £m and runs :func:`allocator.checker.check_plan` with a
   rounding allowance for the 6-decimal CSV files (5e-7 of the unit per value), which
   also recomputes the objective from the allocations and compares it with the summary;
3. rebuilds the plan's LP point from ``allocations.csv`` (spend) and ``departments.csv``
   (settlement limits) and recomputes every table the engine derives from it
   (allocations, departments, missions, metrics, fiscal, value_programmes,
   value_departments, the activity columns of shadow_prices and the marginal costs of
   marginal_bcr), checks shadow_prices' helps/value_if_raised/shadow_price against each
   other and summary.json's net_value block against the plan's: any value that differs
   from the saved one by more than the rounding allowance is named by file, row and column;
4. re-solves the instance (HiGHS, its own settings) and checks the summary's status and
   objective: "optimal" must equal the optimum (relative 1e-6); "infeasible"/"unbounded"
   must be what the solve finds, with no plan tables; a limit-stopped plan must not beat
   the optimum; and, when the results came from the same HiGHS version, the shadow prices
   (shadow_price and the signed value_if_raised) and marginal_bcr.csv must be the
   re-solve's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from allocator.checker import CheckReport, check_plan
from allocator.errors import AllocatorError
from allocator.io import instance_sha256, load_instance
from allocator.numerics import (objective_factor, objective_unit_label, summary_to_gbp_m,
                                table_from_unit, tables_to_gbp_m, to_gbp_m, unit_factor)
from allocator.results import TABLE_FILES

TABLES_NEEDED = ("allocations", "departments", "fiscal")


@dataclass
class VerifyReport:
    results_dir: str
    instance_path: str
    status: str
    hash_ok: bool
    unit_ok: bool
    check: CheckReport | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.hash_ok and self.unit_ok and (self.check is None or self.check.ok) \
            and not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "results_dir": self.results_dir, "instance": self.instance_path,
                "status": self.status, "instance_hash_matches": self.hash_ok,
                "money_unit_matches": self.unit_ok, "problems": self.problems,
                "check": self.check.to_dict() if self.check is not None else None}


def _read_summary(folder: Path) -> dict:
    f = folder / "summary.json"
    if not folder.is_dir():
        raise AllocatorError(f"{folder}: no such results folder")
    if not f.is_file():
        raise AllocatorError(f"{folder}: summary.json not found; is this an 'allocator solve --out' "
                             "folder?")
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AllocatorError(f"{f}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise AllocatorError(f"{f}: expected a JSON object")
    return data


def shipped_instances() -> list[Path]:
    """The instance folders installed with the package (allocator.instances.*)."""
    from importlib import resources

    root = resources.files("allocator.instances")
    return sorted(Path(str(d)) for d in root.iterdir()
                  if d.is_dir() and (d / "instance.yaml").is_file())


def find_instance(summary: dict, folder: Path) -> Path:
    """The instance a results folder was produced from, when none is given: the folder the
    summary records if it still exists with the recorded SHA-256, else the shipped
    instance with that SHA-256 (e.g. the default after a reinstall moved site-packages),
    else the recorded folder if it exists (its hash difference is then reported)."""
    want = summary.get("instance_sha256")
    recorded = summary.get("instance_path")
    rec = Path(str(recorded)) if recorded else None
    if rec is not None and rec.is_dir():
        try:
            if instance_sha256(load_instance(rec)) == want:
                return rec
        except AllocatorError:
            pass
    for cand in shipped_instances():
        if cand != rec and instance_sha256(load_instance(cand)) == want:
            return cand
    if rec is not None and rec.is_dir():
        return rec
    where = f"the recorded instance folder {rec} does not exist" if rec else \
        "summary.json does not record the instance folder"
    raise AllocatorError(f"{folder}/summary.json: {where}, and no installed instance has the "
                         f"recorded SHA-256 {str(want)[:16]}…; pass the instance with --instance")


def verify_results(results_dir: str | Path, instance: str | Path | None = None) -> VerifyReport:
    folder = Path(results_dir)
    summary = _read_summary(folder)
    path = instance or find_instance(summary, folder)
    inst = load_instance(path)
    unit = inst.settings.money_unit
    status = str(summary.get("status", "unknown"))
    rep = VerifyReport(str(folder), str(path), status,
                       hash_ok=summary.get("instance_sha256") == instance_sha256(inst),
                       unit_ok=summary.get("money_unit", "gbp_m") == unit, check=None)
    user = summary.get("user_constraints") or []
    if user:
        names = ", ".join(str(u.get("name")) for u in user if isinstance(u, dict))
        rep.problems.append(f"the run added {len(user)} user constraint(s) through the API "
                            f"({names}): its plan answers a different question than the instance "
                            "alone, so it is not verified against it")
    if not rep.hash_ok:
        rep.problems.append(f"instance hash differs: results were produced from "
                            f"{str(summary.get('instance_sha256'))[:16]}…, {path} is "
                            f"{instance_sha256(inst)[:16]}…")
    if not rep.unit_ok:
        rep.problems.append(f"money unit differs: results in {summary.get('money_unit', 'gbp_m')}, "
                            f"instance in {unit}")
    st = inst.settings
    want = {"weights_kind": st.weights.kind, "objective_kind": st.objective.kind,
            "objective_unit": objective_unit_label(unit, st.weights.kind, st.objective.kind)}
    for key, val in want.items():
        if key in summary and summary[key] != val:
            rep.problems.append(f"summary.json: field '{key}' is {summary[key]!r}; the instance "
                                f"gives {val!r}")
    reference = _resolve(inst, explain=status == "infeasible")
    present = [t for t in TABLE_FILES if (folder / f"{t}.csv").is_file()]
    missing = [t for t in TABLES_NEEDED if not (folder / f"{t}.csv").is_file()]
    if missing:
        if status in NO_PLAN:
            _check_status(rep, summary, reference, has_plan=bool(present))
            return rep  # no plan was reported: nothing else to check
        rep.problems.append(f"result tables missing: {', '.join(t + '.csv' for t in missing)}")
        return rep
    tables = {}
    for t in TABLES_NEEDED:
        try:
            df = pd.read_csv(folder / f"{t}.csv", dtype={"year": str, "department": str,
                                                         "programme": str})
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
            raise AllocatorError(f"{folder / (t + '.csv')}: not a readable table ({e})") from None
        tables[t] = table_from_unit(df, unit)
    k = objective_factor(unit, inst.settings.weights.kind, inst.settings.objective.kind)
    obj = {n: (None if summary.get(n) is None else float(summary[n]) * k)
           for n in ("objective", "objective_in_horizon", "objective_terminal")}
    rep.check = check_plan(to_gbp_m(inst), tables, rounding_gbp_m=5e-7 * unit_factor(unit), **obj)
    _check_status(rep, summary, reference, has_plan=True)
    try:
        rep.problems += recompute_tables(folder, inst, summary, reference)
    except AllocatorError as e:
        rep.problems.append(str(e))
    return rep


NO_PLAN = ("infeasible", "unbounded", "error")
LIMITS = ("time_limit", "iteration_limit")
KNOWN_STATUS = ("optimal", "check_failed", *NO_PLAN, *LIMITS)


def _resolve(inst, explain: bool = False):
    """The instance solved afresh (HiGHS unless the instance names another solver)."""
    from allocator.api import solve

    return solve(inst, explain=explain)


def _check_infeasibility(rep: VerifyReport, folder: Path, summary: dict, ref) -> None:
    """An infeasible folder's smallest relaxation (infeasibility.csv and the summary's total)
    against the elastic program solved afresh: the L1 optimum is unique even where the
    relaxation that attains it is not, so the totals must agree; the rows must too when the
    same HiGHS wrote them."""
    if ref.explanation is None:
        return
    want = float(ref.explanation.total_relaxation_gbp_m)
    tol = 1e-6 * max(1.0, abs(want))
    told = (summary.get("infeasibility") or {}).get("total_relaxation_gbp_m")
    if isinstance(told, (int, float)) and abs(told - want) > tol:
        rep.problems.append(f"summary.json: total relaxation {told:,.6f} £m; the elastic program "
                            f"solved again gives {want:,.6f} £m")
    f = folder / "infeasibility.csv"
    if not f.is_file():
        rep.problems.append("infeasibility.csv is missing for an infeasible result")
        return
    try:
        old = pd.read_csv(f, dtype={"year": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        rep.problems.append(f"{f.name}: not a readable table ({e})")
        return
    col = pd.to_numeric(old.get("relaxation_gbp_m", pd.Series(dtype=float)), errors="coerce")
    if col.isna().any() or abs(float(col.sum()) - want) > tol:
        rep.problems.append(f"infeasibility.csv: relaxations total {float(col.sum()):,.6f} £m; the "
                            f"elastic program solved again gives {want:,.6f} £m")
    sol, rs = summary.get("solver") or {}, ref.provenance.get("solver", {})
    if sol.get("name") == rs.get("name") and sol.get("version") == rs.get("version"):
        rep.problems += compare_table("infeasibility.csv", old, ref.explanation.relaxations,
                                      atol=1e-6 * max(1.0, abs(want)))


def _check_status(rep: VerifyReport, summary: dict, ref, *, has_plan: bool) -> None:
    """The summary's status and objective against a fresh solve of the instance."""
    status = rep.status
    if status not in KNOWN_STATUS:
        rep.problems.append(f"summary.json: field 'status' is {status!r}; expected one of "
                            f"{list(KNOWN_STATUS)}")
        return
    obj = summary.get("objective")
    if status in NO_PLAN:
        if has_plan:
            rep.problems.append(f"summary.json says status {status!r}, yet the folder holds plan "
                                "tables")
        if obj is not None:
            rep.problems.append(f"summary.json says status {status!r}, yet reports objective {obj}")
        if status in ("infeasible", "unbounded") and ref.status != status:
            rep.problems.append(f"summary.json says status {status!r}; solving the instance again "
                                f"gives {ref.status!r}" + (f" with objective {ref.objective:,.6g}"
                                                          if ref.objective is not None else ""))
        elif status == "infeasible":
            _check_infeasibility(rep, Path(rep.results_dir), summary, ref)
        return
    if not isinstance(obj, (int, float)):
        rep.problems.append(f"summary.json: status {status!r} needs a numeric 'objective', found "
                            f"{obj!r}")
        return
    if ref.status != "optimal" or ref.objective is None:
        rep.problems.append(f"summary.json says status {status!r}; solving the instance again "
                            f"gives {ref.status!r}")
        return
    tol = 1e-6 * max(1.0, abs(ref.objective))
    if status == "optimal" and abs(obj - ref.objective) > tol:
        rep.problems.append(f"summary.json: objective {obj:,.6f} is not the optimum "
                            f"{ref.objective:,.6f} found by solving the instance again")
    if status in LIMITS and obj > ref.objective + tol:
        rep.problems.append(f"summary.json: a plan stopped at a limit reports {obj:,.6f}, above the "
                            f"optimum {ref.objective:,.6f}")


def _plan_point(model, alloc: pd.DataFrame, depts: pd.DataFrame):
    """The LP column vector of a saved plan: programme spend and funding from the
    allocations, settlements S[d,k,c] = L[d,c,k0] (the limit in the period's first year)
    from the departments table, PSNFL from its definition."""
    from allocator.appraise import PlanError, plan_spend, plan_vector, psnfl_from_definition

    md, lp = model.data, model.lp
    plan = alloc[[c for c in ("year", "department", "programme", "funding", "spend_gbp_m")
                  if c in alloc]]
    try:
        spend, _ = plan_spend(model, plan, "allocations.csv")
    except PlanError as e:
        raise AllocatorError(f"allocations.csv: {e}") from None
    x = plan_vector(model, spend)
    lim = {}
    for r in depts.itertuples(index=False):
        lim[(str(r.department), "resource", str(r.year))] = float(r.rdel_gbp_m)
        lim[(str(r.department), "capital", str(r.year))] = float(r.cdel_gbp_m)
    sb = lp.var_blocks["settlement"]
    first = {pid: md.years[a] for pid, a, _ in md.periods}
    for j, r in enumerate(sb.index.itertuples(index=False)):
        key = (r.department, r.category, first[r.period])
        if key not in lim:
            raise AllocatorError(f"departments.csv: no row for department {r.department!r}, year "
                                 f"{first[r.period]!r}")
        x[sb.start + j] = lim[key]
    psnfl_from_definition(model, x)
    return x


def recompute_tables(folder: Path, inst, summary: dict, ref) -> list[str]:
    """Every saved table against the one the engine derives from the saved plan (£m)."""
    import numpy as np

    from allocator import tables as T
    from allocator.models.allocation import build_allocation_model
    from allocator.results_dir import load_results_dir

    saved = load_results_dir(folder).tables  # in £m with _gbp_m names
    model = build_allocation_model(to_gbp_m(inst))
    x = _plan_point(model, saved["allocations"], saved["departments"])
    act = model.lp.A @ x
    from allocator.value import net_value

    nv = net_value(model, x)
    fresh = {"allocations": T.allocations(model, x), "departments": T.departments(model, x),
             "missions": T.missions(model, x), "metrics": T.metrics(model, x),
             "fiscal": T.fiscal(model, x), "shadow_prices": T.shadow_prices(model, None, act),
             "value_programmes": nv.programmes, "value_departments": nv.departments,
             "marginal_bcr": _marginal_costs(model, nv.cost_of_public_funds)}
    f = unit_factor(inst.settings.money_unit)
    n_alloc = max(1, len(saved["allocations"]))
    problems = []
    for name, new in fresh.items():
        if name not in saved:
            if name in ("shadow_prices", "value_programmes", "value_departments") or \
                    (name == "metrics" and len(new)):
                problems.append(f"{name}.csv is missing")
            continue
        old = saved[name]
        atol = 5e-7 * f * n_alloc + 1e-6
        skip = DUAL_COLUMNS.get(name, set())
        problems += compare_table(f"{name}.csv", old, new, atol=atol, skip=skip)
        if name == "shadow_prices" and len(old) == len(new) and "binding" in old:
            problems += _check_binding(old, new, model, atol)
        if name.startswith("value_") and len(old) == len(new) and "bcr" in old:
            problems += _check_bcr(f"{name}.csv", old, new, nv.cost_of_public_funds, atol)
    if "shadow_prices" in saved:
        problems += _check_signs(saved["shadow_prices"])
    problems += _check_net_value(summary_to_gbp_m(summary).get("net_value"), nv,
                                 5e-7 * f * n_alloc + 1e-6)
    # shadow prices: the re-solve's duals, when the same HiGHS produced the results
    sol = summary.get("solver") or {}
    rs = ref.provenance.get("solver", {})
    if ("shadow_prices" in saved and ref.status == "optimal" and sol.get("name") == rs.get("name")
            and sol.get("version") == rs.get("version") and summary.get("status") == "optimal"):
        mine = tables_to_gbp_m({"shadow_prices": ref.tables["shadow_prices"]}, inst.settings.money_unit,
                               inst.settings.weights.kind, inst.settings.objective.kind)["shadow_prices"]
        for c in ("shadow_price", "value_if_raised"):
            if c not in saved["shadow_prices"] or c not in mine:
                continue
            a = pd.to_numeric(saved["shadow_prices"][c], errors="coerce").to_numpy()
            b = mine[c].to_numpy(dtype=float)
            if len(a) != len(b):
                problems.append(f"shadow_prices.csv: {len(a)} rows, the re-solve gives {len(b)}")
                break
            bad = np.flatnonzero(~(np.abs(a - b) <= 1e-6 * np.maximum(1.0, np.abs(b))))
            for i in bad[:10]:
                problems.append(f"shadow_prices.csv: row {i + 2}, column '{c}': saved "
                                f"{a[i]!r}, the re-solve gives {b[i]:.9g}")
            if len(bad) > 10:
                problems.append(f"shadow_prices.csv: ... and {len(bad) - 10} more values of "
                                f"'{c}' differ")
        if "marginal_bcr" in saved and "marginal_bcr" in ref.tables:
            mb = tables_to_gbp_m({"marginal_bcr": ref.tables["marginal_bcr"]},
                                 inst.settings.money_unit, inst.settings.weights.kind,
                                 inst.settings.objective.kind)["marginal_bcr"]
            problems += compare_table("marginal_bcr.csv", saved["marginal_bcr"], mb,
                                      atol=1e-6, rtol=1e-6)
    return problems


#: columns that come from the LP duals: checked against the re-solve (same HiGHS), not
#: recomputed from the plan
DUAL_COLUMNS = {"shadow_prices": {"shadow_price", "value_if_raised", "helps", "binding"},
                "marginal_bcr": {"shadow_price", "marginal_bcr"},
                "value_programmes": {"bcr"}, "value_departments": {"bcr"}}


def _marginal_costs(model, lam: float) -> pd.DataFrame:
    """marginal_bcr.csv's plan-independent columns (year, category, constraint and the
    marginal cost λ·δ^S_t/π_t of £1m): the table with every row's price set to 0."""
    import numpy as np

    from allocator.value import marginal_bcr

    return marginal_bcr(model, np.zeros(model.lp.m), lam)


def _check_signs(sp: pd.DataFrame) -> list[str]:
    """shadow_prices.csv within itself: shadow_price = |value_if_raised| and helps names the
    sign ("raising" when positive, "lowering" when negative, empty when 0)."""
    import numpy as np

    if not {"shadow_price", "value_if_raised", "helps"} <= set(sp.columns):
        return []
    y = pd.to_numeric(sp["value_if_raised"], errors="coerce").to_numpy(dtype=float)
    p = pd.to_numeric(sp["shadow_price"], errors="coerce").to_numpy(dtype=float)
    want = np.where(y > 0, "raising", np.where(y < 0, "lowering", ""))
    helps = np.array([_text(v) for v in sp["helps"]], dtype=object)
    out = []
    for i in np.flatnonzero(helps != want)[:5]:
        out.append(f"shadow_prices.csv: row {i + 2}, column 'helps': saved {helps[i]!r}, but "
                   f"value_if_raised {y[i]:.9g} says {want[i]!r}")
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~(np.abs(p - np.abs(y)) <= 1e-6 * np.maximum(1.0, np.abs(y))))
    for i in bad[:5]:
        out.append(f"shadow_prices.csv: row {i + 2}, column 'shadow_price': saved {p[i]!r}, not "
                   f"|value_if_raised| = {abs(y[i]):.9g}")
    return out


def _check_bcr(file: str, old: pd.DataFrame, new: pd.DataFrame, lam: float,
               atol: float) -> list[str]:
    """A BCR B/(λC) against the recomputed one where the recomputed extra cost C is clearly
    positive (the allowance on B and C moves the ratio by at most (atol/|B| + atol/C)·|BCR|),
    empty where C is clearly negative (no extra cost), and either within the rounding
    allowance of 0 (C may round to either side of 'no extra cost')."""
    import numpy as np

    b = pd.to_numeric(new["benefit_gbp_m"], errors="coerce").to_numpy(dtype=float)
    c = pd.to_numeric(new["extra_cost_gbp_m"], errors="coerce").to_numpy(dtype=float) * lam
    want = pd.to_numeric(new["bcr"], errors="coerce").to_numpy(dtype=float)
    got = pd.to_numeric(old["bcr"], errors="coerce").to_numpy(dtype=float)
    margin = 10 * atol * max(lam, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tol = 1e-6 + 2 * np.abs(want) * (atol / np.maximum(np.abs(b), atol) + atol * lam / c)
        ok = np.where(c > margin, np.abs(got - want) <= tol,  # a ratio: the recomputed one
                      np.where(c < -margin, np.isnan(got), True))  # clearly no extra cost: none
    bad = np.flatnonzero(~ok)
    out = [f"{file}: row {i + 2}, column 'bcr': saved {got[i]!r}, recomputed {want[i]:.9g}"
           for i in bad[:5]]
    if len(bad) > 5:
        out.append(f"{file}: column 'bcr': ... and {len(bad) - 5} more values differ")
    return out


def _check_net_value(told, nv, atol: float) -> list[str]:
    """summary.json's net_value block (in £m) against the plan's benefit, extra cost, NPV and
    BCR recomputed (allocator/value.py)."""
    if not isinstance(told, dict):
        return []
    want = nv.summary()
    out = []
    for key in ("benefit_gbp_m", "extra_cost_gbp_m", "npv_gbp_m", "bcr"):
        a, b = told.get(key), want.get(key)
        if b is None or a is None:
            if (a is None) != (b is None):
                out.append(f"summary.json: net_value.{key} is {a!r}; the plan gives {b!r}")
            continue
        tol = (1e-6 if key == "bcr" else atol) + 1e-9 * abs(b)
        if not isinstance(a, (int, float)) or abs(a - b) > tol:
            out.append(f"summary.json: net_value.{key} is {a!r}; the plan gives {b:.9g}")
    return out


def _check_binding(old: pd.DataFrame, new: pd.DataFrame, model, atol: float) -> list[str]:
    """A saved 'binding' flag must match the recomputed one, except where the recomputed slack
    is within the rounding allowance of the binding threshold 1e-6 · max(1, |bound|)."""
    import numpy as np

    lp = model.lp
    pol = ~lp.row_labels()["structural"].to_numpy(dtype=bool)
    lo, hi = lp.row_lower[pol], lp.row_upper[pol]
    thr = 1e-6 * np.maximum(1.0, np.abs(np.where(np.isfinite(hi), hi, lo)))
    slack = new["slack"].to_numpy(dtype=float)
    saved = np.array([_text(v) == "true" for v in old["binding"]])
    fresh = new["binding"].to_numpy(dtype=bool)
    bad = np.flatnonzero((saved != fresh) & (np.abs(slack - thr) > atol))
    out = [f"shadow_prices.csv: row {i + 2}, column 'binding': saved {bool(saved[i])}, recomputed "
           f"{bool(fresh[i])} (slack {slack[i]:.6g})" for i in bad[:5]]
    if len(bad) > 5:
        out.append(f"shadow_prices.csv: column 'binding': ... and {len(bad) - 5} more values differ")
    return out


def compare_table(file: str, old: pd.DataFrame, new: pd.DataFrame, *, atol: float,
                  rtol: float = 1e-9, skip=()) -> list[str]:
    """Cell-by-cell comparison (same rows in the same order, same columns); numbers within
    atol + rtol·|value|, everything else as text."""
    import numpy as np

    out = []
    if list(old.columns) != list(new.columns):
        return [f"{file}: columns {list(old.columns)}, expected {list(new.columns)}"]
    if len(old) != len(new):
        return [f"{file}: {len(old)} rows, the plan gives {len(new)}"]
    for c in new.columns:
        if c in skip:
            continue
        n = new[c]
        if pd.api.types.is_float_dtype(n) or pd.api.types.is_integer_dtype(n):
            o = pd.to_numeric(old[c], errors="coerce").to_numpy(dtype=float)
            v = n.to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                ok = (np.abs(o - v) <= atol + rtol * np.abs(v)) | (np.isnan(o) & np.isnan(v)) | \
                    (np.isinf(o) & (o == v))
            bad = np.flatnonzero(~ok)
            for i in bad[:5]:
                out.append(f"{file}: row {i + 2}, column '{c}': saved {o[i]!r}, recomputed {v[i]:.9g}")
        else:
            o = np.array([_text(t) for t in old[c]], dtype=object)
            v = np.array([_text(t) for t in n], dtype=object)
            bad = np.flatnonzero(o != v)
            for i in bad[:5]:
                out.append(f"{file}: row {i + 2}, column '{c}': saved {old[c].iloc[i]!r}, expected "
                           f"{n.iloc[i]!r}")
        if len(bad) > 5:
            out.append(f"{file}: column '{c}': ... and {len(bad) - 5} more values differ")
    return out


def _text(v) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) else str(v).strip().lower()
