"""Explanations in the user's words: binding constraints and infeasibility.

Infeasibility is explained by an *elastic* re-solve (docs/formulation.md §6): every
policy row (not the structural definitions) gets non-negative slack columns on the
side(s) it bounds,

    lo − s⁺ <= a·x <= hi + s⁻,      minimise Σ (s⁺ + s⁻)      (all in £m)

whose optimum is the smallest total relaxation (L1, £m) that makes the instance
feasible; the rows with positive slack name the constraints that clash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocator.models.constraints import row_families
from allocator.solvers.highs import HighsBackend

#: wording of every declared row family (models/constraints/*.py: ``Rows.binding``/``relax``)
PHRASES = {name: (r.binding, r.relax) for name, r in row_families().items()}

#: families whose rows are in metric units rather than £m (target mode)
METRIC_FAMILIES = {name for name, r in row_families().items() if r.unit == "metric units"}
#: families whose rows are in a resource's own unit (named in the row's category label)
RESOURCE_FAMILIES = {name for name, r in row_families().items() if r.unit == "resource units"}


def describe(family: str, year: str, subject: str, category: str) -> str:
    """One row in words: the declared family's ``binding`` phrase, or for a user constraint
    (:mod:`allocator.modelling`) "the user constraint NAME: SUBJECT YEAR"."""
    from allocator.modelling import USER_PHRASE

    text, _ = PHRASES.get(family, (USER_PHRASE.replace("{family}", family), "relaxed by"))
    return " ".join(text.format(year=year, subject=subject, category=category).split())


@dataclass
class InfeasibilityReport:
    """Which named constraints clash and the smallest total relaxation (£m) that fixes them."""

    total_relaxation_gbp_m: float
    relaxations: pd.DataFrame  # family, year, subject, category, direction, relaxation_gbp_m
    families: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    conflict: list[str] = field(default_factory=list)  # every family in the clash

    def text(self) -> str:
        head = ("The instance is infeasible: these constraint families cannot all hold together: "
                + ", ".join(self.conflict or self.families) + ".")
        body = "\n".join(f"  - {s}" for s in self.sentences[:20])
        more = (f"\n  ... and {len(self.sentences) - 20} more relaxations"
                if len(self.sentences) > 20 else "")
        return (f"{head}\nThe smallest relaxation that restores feasibility totals "
                f"£{self.total_relaxation_gbp_m:,.1f}m:\n{body}{more}")

    def to_dict(self) -> dict:
        return {"total_relaxation_gbp_m": self.total_relaxation_gbp_m, "families": self.families,
                "conflict": self.conflict,
                "sentences": self.sentences,
                "relaxations": self.relaxations.to_dict(orient="records")}


def explain_infeasibility(lp, tol: float = 1e-6) -> InfeasibilityReport | None:
    """Elastic re-solve of ``lp``; None if even the elastic program fails (e.g. bad bounds)."""
    labels = lp.row_labels()
    soft = ~labels["structural"].to_numpy()
    lo, hi = lp.row_lower, lp.row_upper
    need_lo = soft & np.isfinite(lo)
    need_hi = soft & np.isfinite(hi)
    rows_lo, rows_hi = np.flatnonzero(need_lo), np.flatnonzero(need_hi)
    m = lp.m
    S_lo = sp.csr_matrix((np.ones(len(rows_lo)), (rows_lo, np.arange(len(rows_lo)))),
                         shape=(m, len(rows_lo)))
    S_hi = sp.csr_matrix((-np.ones(len(rows_hi)), (rows_hi, np.arange(len(rows_hi)))),
                         shape=(m, len(rows_hi)))

    class _Elastic:  # a LinearProgram-shaped view for the back-end
        pass

    el = _Elastic()
    el.n = lp.n + len(rows_lo) + len(rows_hi)
    el.m = m
    el.A = sp.hstack([lp.A, S_lo, S_hi], format="csc")
    el.col_lower = np.concatenate([lp.col_lower, np.zeros(len(rows_lo) + len(rows_hi))])
    el.col_upper = np.concatenate([lp.col_upper, np.full(len(rows_lo) + len(rows_hi), np.inf)])
    el.row_lower, el.row_upper = lo, hi
    # maximise −Σ slack
    el.cost = np.concatenate([np.zeros(lp.n), -np.ones(len(rows_lo) + len(rows_hi))])
    backend = HighsBackend()
    backend.load(el)
    out = backend.solve()
    if out.x is None:
        return None
    s_lo = out.x[lp.n:lp.n + len(rows_lo)]
    s_hi = out.x[lp.n + len(rows_lo):]
    recs = []
    for rows, vals, direction in ((rows_lo, s_lo, "lower bound"), (rows_hi, s_hi, "upper bound")):
        for r, v in zip(rows, vals):
            if v > tol:
                lab = labels.iloc[r]
                recs.append(dict(family=lab["family"], year=lab["year"], subject=lab["subject"],
                                 category=lab["category"], direction=direction, relaxation_gbp_m=v))
    df = pd.DataFrame(recs, columns=["family", "year", "subject", "category", "direction",
                                     "relaxation_gbp_m"])
    df = df.sort_values("relaxation_gbp_m", ascending=False, kind="stable").reset_index(drop=True)
    families = list(dict.fromkeys(df["family"]))
    # the clash: rows whose elastic duals are non-zero are the ones pushing against each other
    conflict = list(families)
    if out.row_dual is not None:
        active = np.flatnonzero((np.abs(out.row_dual) > 1e-9) & soft)
        conflict += [f for f in dict.fromkeys(labels["family"].to_numpy()[active]) if f not in conflict]
    sentences = []
    for r in df.itertuples():
        verb = PHRASES.get(r.family, ("", "relaxed by"))[1]
        amount = (f"{r.relaxation_gbp_m:,.3f} metric units" if r.family in METRIC_FAMILIES
                  else f"{r.relaxation_gbp_m:,.1f} {r.category}" if r.family in RESOURCE_FAMILIES
                  else f"£{r.relaxation_gbp_m:,.1f}m")
        sentences.append(f"{describe(r.family, r.year, r.subject, r.category)} {verb} {amount}")
    return InfeasibilityReport(float(-out.objective), df, families, sentences, conflict)


def binding_summary(shadow: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The binding constraints with the largest shadow prices, in words."""
    b = shadow[shadow["binding"] & (shadow["shadow_price"] > 0)].copy()
    b = b.sort_values("shadow_price", ascending=False, kind="stable").head(top)
    b["description"] = [describe(r.constraint, r.year, r.subject, r.category) for r in b.itertuples()]
    return b.reset_index(drop=True)


#: every declared row family in the plural ("programme caps")
FAMILY_NAMES = {name: r.title for name, r in row_families().items()}


def binding_by_family(shadow: pd.DataFrame) -> pd.DataFrame:
    """Per constraint family: rows, rows binding with a positive price, and the largest price
    (mission value per extra £1m) with where it occurs."""
    rows = []
    for fam, g in shadow.groupby("constraint", sort=False):
        priced = g[g["binding"] & (g["shadow_price"] > 0)]
        top = priced.sort_values("shadow_price", ascending=False, kind="stable").head(1)
        rows.append(dict(
            family=fam, name=FAMILY_NAMES.get(fam, fam), rows=len(g), binding=len(priced),
            max_shadow_price=float(top["shadow_price"].iloc[0]) if len(top) else 0.0,
            where=(describe(fam, top["year"].iloc[0], top["subject"].iloc[0], top["category"].iloc[0])
                   if len(top) else "")))
    df = pd.DataFrame(rows, columns=["family", "name", "rows", "binding", "max_shadow_price", "where"])
    return df.sort_values(["binding", "max_shadow_price"], ascending=False, kind="stable").reset_index(drop=True)
