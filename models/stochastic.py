"""Two-stage stochastic settlement: the extensive form (docs/formulation.md §8,
docs/sensitivity.md §3).

Given S scenario programs of the same shape (the allocation LP of the instance under each
branch of an event tree, built by :func:`build_allocation_model`) with probabilities p_s,
and the set J₁ of *first-stage* columns (decisions of years before the trigger year:
settlements, programme spend, Mission Fund allocations), the extensive form is

    maximise   Σ_s p_s (c_s · x_s + c0_s)
    subject to lo_s <= A_s x_s <= hi_s,   l_s <= x_s <= u_s              s = 1..S
               x_s[j] − x_1[j] = 0                              j ∈ J₁,  s = 2..S

i.e. the scenario blocks stacked block-diagonally, coupled only by the non-anticipativity
equalities (one settlement for every branch before the trigger; recourse after it). The
coefficient matrix is

    [ A_1              ]
    [      A_2         ]
    [          ...     ]
    [            A_S   ]
    [ −E    E          ]      E = the rows of I for the columns in J₁
    [ −E         E     ]
    [ ...              ]

Model code only: no file I/O, no solving.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .allocation import decision_years


@dataclass
class ExtensiveForm:
    A: sp.csc_matrix
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    constant: float  # Σ_s p_s c0_s
    scenarios: list[str]
    probabilities: np.ndarray
    n_per_scenario: int
    m_per_scenario: list[int]
    first_stage: np.ndarray  # column indices (within one scenario) of J₁
    labels: pd.DataFrame  # family, year, subject, category, structural (+ scenario)

    @property
    def n(self) -> int:
        return self.A.shape[1]

    @property
    def m(self) -> int:
        return self.A.shape[0]

    def block(self, s: int) -> slice:
        """Columns of scenario ``s``."""
        return slice(s * self.n_per_scenario, (s + 1) * self.n_per_scenario)

    def row_labels(self) -> pd.DataFrame:
        return self.labels.drop(columns="scenario")


def build_extensive_form(models: list, probabilities, first_stage: np.ndarray,
                         scenario_ids: list[str] | None = None) -> ExtensiveForm:
    """Stack scenario :class:`AllocationModel` s into the extensive form above."""
    S = len(models)
    if S == 0:
        raise ValueError("at least one scenario is required")
    p = np.asarray(probabilities, dtype=float)
    if p.shape != (S,) or np.any(p < 0):
        raise ValueError(f"probabilities must be {S} non-negative numbers, got {probabilities!r}")
    n = models[0].lp.n
    for k, mdl in enumerate(models):
        if mdl.lp.n != n or list(mdl.lp.var_blocks) != list(models[0].lp.var_blocks):
            raise ValueError(f"scenario {k} has a different column structure from scenario 0")
    ids = scenario_ids or [f"s{k}" for k in range(S)]
    J = np.asarray(first_stage, dtype=int)
    blocks = [mdl.lp.A for mdl in models]
    na = []
    E = sp.csr_matrix((np.ones(len(J)), (np.arange(len(J)), J)), shape=(len(J), n))
    for s in range(1, S):
        row = [None] * S
        row[0], row[s] = -E, E
        na.append(row)
    A = sp.bmat([[blocks[s] if t == s else None for t in range(S)] for s in range(S)] + na,
                format="csc") if S > 1 else blocks[0].tocsc()
    if S > 1 and A.shape[1] < S * n:  # bmat drops trailing empty columns only if all None
        A = sp.hstack([A, sp.csc_matrix((A.shape[0], S * n - A.shape[1]))], format="csc")
    cost = np.concatenate([p[s] * models[s].lp.cost for s in range(S)])
    lab = []
    for s, mdl in enumerate(models):
        L = mdl.lp.row_labels()
        L["scenario"] = ids[s]
        L["subject"] = L["subject"].astype(str) + f" [{ids[s]}]"
        lab.append(L)
    if S > 1 and len(J):
        nl = pd.DataFrame({"family": "non_anticipativity", "year": "", "category": "",
                           "subject": [f"column {j} [{ids[s]}]" for s in range(1, S) for j in J],
                           "structural": True, "scenario": [ids[s] for s in range(1, S) for _ in J]})
        lab.append(nl)
    labels = pd.concat(lab, ignore_index=True)
    zeros = np.zeros(len(J) * (S - 1))
    return ExtensiveForm(
        A=A, cost=cost,
        col_lower=np.concatenate([m.lp.col_lower for m in models]),
        col_upper=np.concatenate([m.lp.col_upper for m in models]),
        row_lower=np.concatenate([m.lp.row_lower for m in models] + [zeros]),
        row_upper=np.concatenate([m.lp.row_upper for m in models] + [zeros]),
        constant=float(sum(p[s] * models[s].lp.constant for s in range(S))),
        scenarios=ids, probabilities=p, n_per_scenario=n,
        m_per_scenario=[m.lp.m for m in models], first_stage=J, labels=labels)


def first_stage_columns(model, trigger: int) -> np.ndarray:
    """J₁: decision columns of years t < ``trigger``."""
    y = decision_years(model)
    return np.flatnonzero((y >= 0) & (y < trigger))
