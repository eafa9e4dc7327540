"""Re-check a results folder against its instance: hash, units, every rule, the objective.

``verify_results(results_dir, instance=None)`` reads ``summary.json`` and the result
tables written by ``allocator solve --out`` (in the instance's money unit), loads the
instance (the given path, or the one recorded in the summary), and

1. compares the instance's SHA-256 with the one the results were produced from (a run with
   user constraints, ``summary.json`` ``user_constraints``, records the hash of the instance
   and its constraints, so it never verifies against the bare instance);
2. converts the tables back to £m and runs :func:`allocator.checker.check_plan` with a
   rounding allowance for the 6-decimal CSV files (5e-7 of the unit per value);
3. recomputes the objective from the allocations and compares it with the summary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from allocator.checker import CheckReport, check_plan
from allocator.errors import AllocatorError
from allocator.io import instance_sha256, load_instance
from allocator.numerics import objective_factor, table_from_unit, to_gbp_m, unit_factor

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


def verify_results(results_dir: str | Path, instance: str | Path | None = None) -> VerifyReport:
    folder = Path(results_dir)
    summary = _read_summary(folder)
    path = instance or summary.get("instance_path")
    if path is None:
        raise AllocatorError(f"{folder}/summary.json does not record the instance folder; pass it "
                             "with --instance")
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
    missing = [t for t in TABLES_NEEDED if not (folder / f"{t}.csv").is_file()]
    if missing:
        if status in ("infeasible", "unbounded", "error"):
            return rep  # no plan was reported: nothing to check
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
    k = objective_factor(unit, inst.settings.weights.kind)
    obj = {n: (None if summary.get(n) is None else float(summary[n]) * k)
           for n in ("objective", "objective_in_horizon", "objective_terminal")}
    rep.check = check_plan(to_gbp_m(inst), tables, rounding_gbp_m=5e-7 * unit_factor(unit), **obj)
    return rep
