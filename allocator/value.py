"""Net value of a plan: NPV, BCR and the marginal BCR by year (docs/formulation.md §4c).

All figures are incremental over the baseline plan (every programme at its baseline, which
scores zero mission value and zero extra cost), in real £m at the price base, discounted:

- benefit B: the mission value V (in-horizon plus terminal, as in the objective);
- cost C: the extra spending net of the welfare AME it saves, Σ_t δ^S_t [Σ_p (q_p,t − b_p)
  − sav_t/π_t] (:mod:`allocator.models.net_value`), valued at λ = cost_of_public_funds;
- NPV = B − λC; BCR = B / (λC) (None when λC ≤ 0: the plan costs nothing extra);
- per programme p: B_p = Σ_{i∈ℐ(p), τ} c_i,τ (x_i,τ − x̄_i) and C_p its own terms of C;
  per department: each programme's B_p and C_p shared among its funders in proportion to
  the cash each funds over the horizon (the Mission Fund is a funder of its own);
- marginal BCR in year t: the shadow price of the year's DEL envelope (value of £1m cash)
  over the cost of that £1m, λ δ^S_t / π_t. In fiscal mode the stability rule stands in
  for the envelope (£1m less required margin is £1m more room for current spending).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocator.models.net_value import cost_discount
from allocator.models.objective import piece_coefficients


@dataclass
class NetValue:
    benefit_gbp_m: float
    cost_gbp_m: float  # C, before λ
    cost_of_public_funds: float
    programmes: pd.DataFrame
    departments: pd.DataFrame
    marginal: pd.DataFrame

    @property
    def npv_gbp_m(self) -> float:
        return self.benefit_gbp_m - self.cost_of_public_funds * self.cost_gbp_m

    @property
    def bcr(self) -> float | None:
        return _ratio(self.benefit_gbp_m, self.cost_of_public_funds * self.cost_gbp_m)

    def summary(self) -> dict:
        return {
            "benefit_gbp_m": self.benefit_gbp_m,
            "extra_cost_gbp_m": self.cost_gbp_m,
            "cost_of_public_funds": self.cost_of_public_funds,
            "npv_gbp_m": self.npv_gbp_m,
            "bcr": self.bcr,
            "basis": "incremental over the counterfactual (baseline grown with demand pressures); real £m at the price base, discounted "
                     "(costs at the Green Book STPR); cost = extra spending net of AME saved",
            "marginal_bcr_by_year": {
                f"{r.year} {r.category}": r.marginal_bcr for r in self.marginal.itertuples()},
        }


def _ratio(b: float, c: float) -> float | None:
    return float(b / c) if c > 1e-9 else None


def programme_parts(model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B_p, C_p), each (P,): mission value and extra net cost (before λ) of each programme."""
    md, lp = model.data, model.lp
    T = md.T
    xb = lp.var_blocks["x"]
    xv = x[xb.start:xb.start + xb.size].reshape(-1, T)
    c_in, c_term = piece_coefficients(md)
    contrib = ((c_in + c_term) * (xv - md.piece_baseline_fill[:, None])).sum(axis=1)
    benefit = np.bincount(md.piece_prog, weights=contrib, minlength=md.P)
    q = (model.expr.q @ x).reshape(md.P, T)
    dq = q - md.prog_baseline[:, None]  # AME savings follow spend above the flat baseline (§3)
    saved = np.zeros_like(dq)  # real AME saving in year t, per programme
    for k in range(md.K + 1):
        saved[:, k:] += md.lag[:, k][:, None] * dq[:, :T - k] if k < T else 0.0
    saved *= md.prog_ame_saving[:, None]
    dS = cost_discount(model)
    # cost against the counterfactual b_p Λ_p,t (current policy with pressures), as the benefit
    cost = (q - md.prog_baseline[:, None] * md.pressure - saved) @ dS
    return benefit, cost


def funder_shares(model, x: np.ndarray) -> pd.DataFrame:
    """programme, funder, share: each funder's share of the programme's cash over the horizon."""
    md, lp = model.data, model.lp
    rows = []
    fb, gb = lp.var_blocks["funding"], lp.var_blocks["mission_fund"]
    f = pd.DataFrame({"programme": fb.index["programme"], "funder": fb.index["department"],
                      "cash": x[fb.start:fb.start + fb.size]})
    g = pd.DataFrame({"programme": gb.index["programme"], "funder": "mission_fund",
                      "cash": x[gb.start:gb.start + gb.size]})
    split = pd.concat([f, g], ignore_index=True).groupby(["programme", "funder"], sort=True)["cash"].sum()
    split = split.reset_index()
    tot = split.groupby("programme")["cash"].transform("sum")
    split["share"] = np.where(tot > 1e-9, split["cash"] / tot.where(tot > 1e-9, 1.0), 0.0)
    nfun = split.groupby("programme")["funder"].transform("size")
    split.loc[tot <= 1e-9, "share"] = 1.0 / nfun[tot <= 1e-9]
    done = set(split["programme"])
    for p, pid in enumerate(md.programmes):
        if pid not in done:
            rows.append(dict(programme=pid, funder=md.departments[md.prog_owners[p][0]], share=1.0))
    return pd.concat([split[["programme", "funder", "share"]], pd.DataFrame(rows)],
                     ignore_index=True)


def marginal_bcr(model, row_dual: np.ndarray | None, lam: float) -> pd.DataFrame:
    """year, category, constraint, shadow_price, marginal_cost_gbp_m, marginal_bcr."""
    md, lp = model.data, model.lp
    cols = ["year", "category", "constraint", "shadow_price", "marginal_cost_gbp_m", "marginal_bcr"]
    if row_dual is None:
        return pd.DataFrame(columns=cols)
    fam = "del_envelope" if lp.family("del_envelope") is not None else "stability_rule"
    block = lp.family(fam)
    if block is None:
        return pd.DataFrame(columns=cols)
    dS = cost_discount(model)
    rows = []
    for r, lab in enumerate(block.labels.itertuples()):
        t = md.years.index(lab.year)
        price = abs(float(row_dual[block.start + r]))
        mc = lam * dS[t] / md.deflator[t]
        rows.append(dict(year=lab.year, category=lab.category or "resource", constraint=fam,
                         shadow_price=price, marginal_cost_gbp_m=mc,
                         marginal_bcr=_ratio(price, mc)))
    return pd.DataFrame(rows, columns=cols)


def net_value(model, x: np.ndarray, row_dual: np.ndarray | None = None) -> NetValue:
    """NPV, BCR and their breakdowns for plan ``x`` of ``model`` (docstring of the module)."""
    md = model.data
    lam = model.instance.settings.appraisal.cost_of_public_funds
    B, C = programme_parts(model, x)
    owners = ["; ".join(md.departments[d] for d in o) for o in md.prog_owners]
    progs = pd.DataFrame({"programme": md.programmes, "owners": owners, "benefit_gbp_m": B,
                          "extra_cost_gbp_m": C})
    progs["npv_gbp_m"] = progs["benefit_gbp_m"] - lam * progs["extra_cost_gbp_m"]
    progs["bcr"] = [_ratio(b, lam * c) for b, c in zip(B, C)]
    sh = funder_shares(model, x).merge(progs[["programme", "benefit_gbp_m", "extra_cost_gbp_m"]],
                                       on="programme")
    sh["benefit_gbp_m"] *= sh["share"]
    sh["extra_cost_gbp_m"] *= sh["share"]
    deps = (sh.groupby("funder", sort=True)[["benefit_gbp_m", "extra_cost_gbp_m"]].sum()
            .reset_index().rename(columns={"funder": "department"}))
    deps["npv_gbp_m"] = deps["benefit_gbp_m"] - lam * deps["extra_cost_gbp_m"]
    deps["bcr"] = [_ratio(b, lam * c) for b, c in zip(deps["benefit_gbp_m"], deps["extra_cost_gbp_m"])]
    return NetValue(float(B.sum()), float(C.sum()), lam, progs, deps,
                    marginal_bcr(model, row_dual, lam))
