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
    by_rule: pd.DataFrame | None = None  # family, category, year, relaxation summed over rows
    summary: list[str] = field(default_factory=list)  # one sentence per rule, largest first

    def text(self) -> str:
        head = ("The instance is infeasible: these constraint families cannot all hold together: "
                + ", ".join(self.conflict or self.families) + ".")
        agg = "\n".join(f"  - {s}" for s in self.summary)
        body = "\n".join(f"  - {s}" for s in self.sentences[:20])
        more = (f"\n  ... and {len(self.sentences) - 20} more relaxations"
                if len(self.sentences) > 20 else "")
        return (f"{head}\nThe smallest relaxation that restores feasibility totals "
                f"£{self.total_relaxation_gbp_m:,.1f}m. By rule and year:\n{agg}\n"
                f"In detail:\n{body}{more}")

    def to_dict(self) -> dict:
        return {"total_relaxation_gbp_m": self.total_relaxation_gbp_m, "families": self.families,
                "conflict": self.conflict, "summary": self.summary,
                "sentences": self.sentences,
                "relaxations": self.relaxations.to_dict(orient="records")}


#: policy rows kept hard in the elastic program: a settlement row (department spend within
#: its limit) can always be met by raising the limit, which the envelope and the fiscal rules
#: count; relaxing it instead would be spending off the books, which no rule sees
HARD_IN_ELASTIC = frozenset({"settlement"})


#: whole-economy rules, relaxed at weight 1 in the elastic program; every other row (a
#: programme's or a department's own floor, cap or ramp) at DETAIL_WEIGHT, so the smallest
#: relaxation says first how far the envelope or rule falls short, and names individual
#: programmes or departments only where relaxing the aggregate cannot restore feasibility
AGGREGATE_RULES = frozenset({"del_envelope", "stability_rule", "investment_rule", "welfare_cap",
                             "pie_share", "mission_fund_size", "mission_fund_minimum",
                             "mission_target"})
DETAIL_WEIGHT = 2.0


def _money(v: float) -> str:
    return f"£{v / 1000:,.1f}bn" if abs(v) >= 1000 else f"£{v:,.1f}m"


def aggregate_relaxations(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The relaxation summed by rule (family and category) and year, and one sentence per rule,
    largest first: how much is missing in total, in its first and last year, and at its peak."""
    if df.empty:
        return pd.DataFrame(columns=["family", "category", "year", "relaxation_gbp_m"]), []
    agg = (df.groupby(["family", "category", "year"], sort=False)["relaxation_gbp_m"].sum()
           .reset_index().sort_values(["family", "category", "year"], kind="stable"))
    fams = row_families()
    out = []
    tot = agg.groupby(["family", "category"], sort=False)["relaxation_gbp_m"].sum().sort_values(
        ascending=False, kind="stable")
    for (fam, cat), total in tot.items():
        g = agg[(agg["family"] == fam) & (agg["category"] == cat)]
        title = fams[fam].title if fam in fams else fam
        verb = PHRASES.get(fam, ("", "relaxed by"))[1]
        unit = (lambda v: f"{v:,.3f} metric units") if fam in METRIC_FAMILIES else _money
        what = f"{cat} {title}" if cat else title
        first, last = g.iloc[0], g.iloc[-1]
        peak = g.loc[g["relaxation_gbp_m"].idxmax()]
        text = (f"{what[0].upper() + what[1:]} must be {verb} {unit(total)} in total: "
                f"{unit(first['relaxation_gbp_m'])} in {first['year']}")
        if len(g) > 1:
            a, b = first["relaxation_gbp_m"], last["relaxation_gbp_m"]
            if unit(a) == unit(b):  # equal as printed: not "rising to" the same figure
                text += f", the same in {last['year']}"
            else:
                text += f", {'falling' if b < a else 'rising'} to {unit(b)} in {last['year']}"
            if peak["year"] not in (first["year"], last["year"]):
                text += f" (largest {unit(peak['relaxation_gbp_m'])} in {peak['year']})"
        out.append(text + f" [{len(g)} year(s)]")
    return agg.reset_index(drop=True), out


def explain_infeasibility(lp, tol: float = 1e-6) -> InfeasibilityReport | None:
    """Elastic re-solve of ``lp``; None if even the elastic program fails (e.g. bad bounds).
    Structural rows and settlement rows (:data:`HARD_IN_ELASTIC`) are never relaxed; whole-
    economy rules (:data:`AGGREGATE_RULES`) cost 1 a unit of relaxation, other rows
    :data:`DETAIL_WEIGHT`. The reported total is the plain sum of the relaxations."""
    labels = lp.row_labels()
    soft = ~labels["structural"].to_numpy() & ~labels["family"].isin(HARD_IN_ELASTIC).to_numpy()
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
    fam = labels["family"].to_numpy()
    w = np.where(np.isin(fam, list(AGGREGATE_RULES)), 1.0, DETAIL_WEIGHT)
    el.cost = np.concatenate([np.zeros(lp.n), -w[rows_lo], -w[rows_hi]])
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
    by_rule, summary = aggregate_relaxations(df)
    return InfeasibilityReport(float(df["relaxation_gbp_m"].sum()), df, families, sentences, conflict,
                               by_rule=by_rule, summary=summary)


def binding_summary(shadow: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The binding constraints with the largest shadow prices, in words."""
    b = shadow[shadow["binding"] & (shadow["shadow_price"] > 0)].copy()
    b = b.sort_values("shadow_price", ascending=False, kind="stable").head(top)
    b["description"] = [describe(r.constraint, r.year, r.subject, r.category) for r in b.itertuples()]
    if "helps" in b:
        b["advice"] = [advice(r.constraint, r.description, r.helps, r.shadow_price)
                       for r in b.itertuples()]
    return b.reset_index(drop=True)


def advice(family: str, description: str, helps: str, price: float) -> str:
    """A shadow price in the direction that helps, sign explicit. The optimal value is concave
    in a row's bound, so the dual y bounds both one-sided changes: moving the bound the
    helpful way by h adds at most |y|·h; moving it the other way costs at least |y|·h."""
    unit = row_families().get(family).unit if family in row_families() else "£m"
    per = {"£m": "£1m", "real £m": "£1m (real)", "metric units": "one metric unit"}.get(unit, f"1 {unit}")
    other = "raising" if helps == "lowering" else "lowering"
    return (f"{helps} {description} by {per} adds up to {price:,.4g} of mission value; "
            f"{other} it costs at least as much per {per}"
            if helps else f"{description}: no value at the margin")


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
