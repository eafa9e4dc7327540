"""Compare two results folders: what changed in allocations, mission value and headroom.

Every change is B − A: allocations by department (cash £m, horizon total and by year),
mission value and final-year metric gain, and the margin over each fiscal rule per year
(the same headroom table as the report). A plot shows the department and mission changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.plots import headroom_frame
from allocator.results_dir import ResultsFolder, load_results_dir

TOP = 12


@dataclass
class RunDiff:
    a: ResultsFolder
    b: ResultsFolder
    headline: pd.DataFrame
    departments: pd.DataFrame = field(default_factory=pd.DataFrame)
    departments_by_year: pd.DataFrame = field(default_factory=pd.DataFrame)
    missions: pd.DataFrame = field(default_factory=pd.DataFrame)
    headroom: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"run_a": str(self.a.path), "run_b": str(self.b.path),
                "instance_a": self.a.name, "instance_b": self.b.name,
                "instance_sha256_a": self.a.sha, "instance_sha256_b": self.b.sha,
                "headline": self.headline.to_dict(orient="records"),
                "departments": self.departments.to_dict(orient="records"),
                "missions": self.missions.to_dict(orient="records"),
                "headroom": self.headroom.to_dict(orient="records"),
                "notes": self.notes}

    def write(self, out: str | Path, plots: bool = True) -> Path:
        import matplotlib.pyplot as plt

        from allocator.output import atomic_dir, write_csv, write_json
        from allocator.plots import figure_bytes

        out = Path(out)
        with atomic_dir(out) as tmp:
            write_csv(self.headline, tmp / "headline.csv")
            for name in ("departments", "departments_by_year", "missions", "headroom"):
                df = getattr(self, name)
                if len(df):
                    write_csv(df, tmp / f"{name}.csv")
            write_json(self.to_dict(), tmp / "diff.json")
            from allocator.dictionary import datapackage_for_folder

            datapackage_for_folder(tmp, "diff")
            if plots:
                fig = plot(self)
                for fmt in ("png", "svg"):
                    (tmp / f"diff.{fmt}").write_bytes(figure_bytes(fig, fmt))
                plt.close(fig)
        return out


def _change_pct(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(a) > 1e-9, 100.0 * (b - a) / np.abs(a), np.nan)


def diff_runs(run_a, run_b) -> RunDiff:
    """B − A for two results folders (paths or :class:`ResultsFolder`)."""
    a = run_a if isinstance(run_a, ResultsFolder) else load_results_dir(run_a)
    b = run_b if isinstance(run_b, ResultsFolder) else load_results_dir(run_b)
    items = ["objective", "objective_in_horizon", "objective_terminal"]
    va = [a.summary.get(k) for k in items]
    vb = [b.summary.get(k) for k in items]
    head = pd.DataFrame({"item": items, "a": va, "b": vb})
    head["change"] = [(y - x) if x is not None and y is not None else None for x, y in zip(va, vb)]
    head = pd.concat([pd.DataFrame({"item": ["status"], "a": [a.summary.get("status")],
                                    "b": [b.summary.get("status")], "change": [None]}), head],
                     ignore_index=True)
    d = RunDiff(a, b, head)
    if a.sha != b.sha:
        d.notes.append(f"the runs are of different instances (sha256 {a.sha[:12]}… vs {b.sha[:12]}…)")
    if not (a.has_plan and b.has_plan):
        d.notes.append("one run has no plan (status " + ", ".join(
            f"{r.name}: {r.summary.get('status')}" for r in (a, b) if not r.has_plan) + "); only the "
            "headline is compared")
        return d

    def by_dept(r):
        return r.tables["allocations"].groupby("department")["spend_gbp_m"].sum()

    da, db = by_dept(a), by_dept(b)
    idx = da.index.union(db.index)
    da, db = da.reindex(idx, fill_value=0.0), db.reindex(idx, fill_value=0.0)
    dep = pd.DataFrame({"department": idx, "a_gbp_m": da.to_numpy(), "b_gbp_m": db.to_numpy()})
    dep["change_gbp_m"] = dep["b_gbp_m"] - dep["a_gbp_m"]
    dep["change_pct"] = _change_pct(dep["a_gbp_m"].to_numpy(), dep["b_gbp_m"].to_numpy())
    d.departments = dep.reindex(dep["change_gbp_m"].abs().sort_values(ascending=False, kind="stable")
                                .index).reset_index(drop=True)

    def by_dy(r):
        return r.tables["allocations"].groupby(["year", "department"])["spend_gbp_m"].sum()

    ya, yb = by_dy(a), by_dy(b)
    idx = ya.index.union(yb.index)
    ya, yb = ya.reindex(idx, fill_value=0.0), yb.reindex(idx, fill_value=0.0)
    dy = pd.DataFrame({"year": idx.get_level_values(0), "department": idx.get_level_values(1),
                       "a_gbp_m": ya.to_numpy(), "b_gbp_m": yb.to_numpy()})
    dy["change_gbp_m"] = dy["b_gbp_m"] - dy["a_gbp_m"]
    d.departments_by_year = dy

    def mission(r):
        m = r.tables["missions"]
        inside = m[m["in_horizon"].astype(str).str.lower() == "true"]
        last = inside[inside["year"] == inside["year"].max()].set_index("mission")["gain"]
        return m.groupby("mission", sort=False)["discounted_value"].sum(), last

    (ma, ga), (mb, gb) = mission(a), mission(b)
    idx = ma.index.union(mb.index, sort=False)
    mis = pd.DataFrame({"mission": idx, "a_value": ma.reindex(idx).to_numpy(),
                        "b_value": mb.reindex(idx).to_numpy()})
    mis["value_change"] = mis["b_value"] - mis["a_value"]
    mis["a_gain_final_year"] = ga.reindex(idx).to_numpy()
    mis["b_gain_final_year"] = gb.reindex(idx).to_numpy()
    mis["gain_change"] = mis["b_gain_final_year"] - mis["a_gain_final_year"]
    d.missions = mis

    ha, hb = headroom_frame(a.tables["fiscal"]), headroom_frame(b.tables["fiscal"])
    la = ha.melt(id_vars="year", var_name="rule", value_name="a_gbp_m")
    lb = hb.melt(id_vars="year", var_name="rule", value_name="b_gbp_m")
    h = la.merge(lb, on=["year", "rule"], how="outer")
    h = h.dropna(subset=["a_gbp_m", "b_gbp_m"], how="all")
    h["change_gbp_m"] = h["b_gbp_m"] - h["a_gbp_m"]
    d.headroom = h.reset_index(drop=True)
    return d


def plot(d: RunDiff):
    """Two panels: change in department allocation (horizon total, £bn) and in mission value."""
    import matplotlib.pyplot as plt

    from allocator.plots import source_line

    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    ax = axes[0]
    if len(d.departments):
        top = d.departments.head(TOP).iloc[::-1]
        colours = ["#1b7837" if v >= 0 else "#b2182b" for v in top["change_gbp_m"]]
        ax.barh(top["department"], top["change_gbp_m"] / 1000.0, color=colours)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("change in horizon spend, cash £bn (B − A)")
    ax.set_title("Allocation by department", fontsize=10)
    ax = axes[1]
    if len(d.missions):
        colours = ["#1b7837" if v >= 0 else "#b2182b" for v in d.missions["value_change"]]
        ax.barh(d.missions["mission"], d.missions["value_change"], color=colours)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"change in mission value ({d.b.summary.get('objective_unit', '')})")
    ax.set_title("Mission value", fontsize=10)
    fig.suptitle(f"What changed: {d.a.path.name} → {d.b.path.name}", fontsize=12, fontweight="bold")
    fig.text(0.01, 0.01, "A: " + source_line(d.a) + "\nB: " + source_line(d.b), fontsize=7,
             color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    return fig
