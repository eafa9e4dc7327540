"""Build → modify → solve: the one public path to the allocation LP.

    import allocator
    m = allocator.build("instances/uk_missions")                 # a Model (no solve yet)
    prev = m.spend(department="dhsc", pie=True, year="2027-28")  # labelled expression rows
    m.add_constraint("dhsc_prevention_min", prev.sum() >= 2500)  # instance money unit
    res = m.solve()                                              # a Result, like allocator.solve
    s = m.session()                                              # warm re-solves, same rows

``allocator.solve``, :class:`allocator.session.ModelSession` (and through it the cycle
simulation and the sensitivity analyses) all build through :func:`build`.

**Expressions.** A model exposes named quantities of the plan, each a set of labelled rows
(an :class:`Expression`: a pandas ``index`` of coordinates, one row each):

| method | rows (coordinates) | unit |
|---|---|---|
| ``spend(programme, year, department, pie, category)`` | programme, year: cash π_t q[p,t] | money |
| ``real_spend(...)`` | programme, year: q[p,t] | money (real) |
| ``department_spend(department, category, year)`` | cash spend funded by the department | money |
| ``settlement(department, category, year)`` | settlement limit L[d,c,t] | money |
| ``del_total(category, year)`` | RDEL_t / CDEL_t: limits plus Mission Fund (envelope totals) | money |
| ``mission_fund(category, year)`` | Mission Fund cash spend MF[c,t] | money |
| ``ame_saving(year)`` | welfare AME saved by invest-to-save, sav_t | money |
| ``gain(mission, year)`` | mission metric gain against baseline spend, gain[m,t] | metric units |

An argument filters its coordinate (a value or a list); ``department`` on programme spend
selects the programmes the department owns. Expressions add, subtract, scale by numbers and
sum (``e.sum()`` to one row, ``e.sum("year")`` over years per remaining coordinate);
``e >= v``, ``e <= v``, ``e == v`` make a constraint (``v`` a number or one per row). Money
constants are in the instance's money unit and converted to £m here (the edge), as
``solve()`` converts everything else.

Each expression is a linear combination of *atoms*, the quantities above, per row:
``value = E · atoms + c``. The LP row is ``E · X`` (X: each atom's row over the LP columns,
from the model's shared expressions); the independent checker evaluates the same ``E`` on
atoms recomputed from the result tables (:func:`plan_atoms`), never on the LP.

**User constraints** are constraint families declared at run time (``Family`` with module
``user:<name>``): they appear in shadow prices, binding and infeasibility explanations, the
independent check, the appraisal (test ``user_constraints``), and the provenance hash
(``summary.json``'s ``instance_sha256`` becomes the hash of the instance *and* the user
constraints, so ``allocator verify`` does not call the run verified against the bare
instance; ``summary.json`` lists them under ``user_constraints``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocator.models.allocation import AllocationModel, build_allocation_model
from allocator.models.data import CATEGORIES
from allocator.models.family import Family, Rows
from allocator.schema import Instance

MONEY, METRIC = "money", "metric units"
RESOURCE = "resource units"  # a non-money resource (resources.csv), in its own unit
#: how results name a row of a user constraint (allocator.explain.describe uses the same)
USER_PHRASE = "the user constraint {family}: {subject} {year}"


# --------------------------------------------------------------------------- atoms
class _Atoms:
    """The atom space of a model: named blocks of quantities, their LP rows and offsets."""

    def __init__(self, model: AllocationModel):
        md, e, lp = model.data, model.expr, model.lp
        T, P, D, M = md.T, md.P, md.D, md.M
        gain_A, gain_c = _gain_rows(model)
        self.blocks = {  # name: (size, LP rows (size × n), constant (size,), kind)
            "spend": (P * T, e.cash, np.zeros(P * T), MONEY),
            "real_spend": (P * T, e.q, np.zeros(P * T), MONEY),
            "department_spend": (2 * D * T, e.dept_spend, np.zeros(2 * D * T), MONEY),
            "settlement": (2 * D * T, e.limit, np.zeros(2 * D * T), MONEY),
            "del_total": (2 * T, e.del_total, np.zeros(2 * T), MONEY),
            "mission_fund": (2 * T, e.mission_fund, np.zeros(2 * T), MONEY),
            "ame_saving": (T, e.ame_saving, np.asarray(e.ame_saving_const, dtype=float), MONEY),
            "gain": (M * T, gain_A, gain_c, METRIC),
        }
        self.start, pos = {}, 0
        for name, (size, *_r) in self.blocks.items():
            self.start[name] = pos
            pos += size
        self.size = pos
        n = lp.n
        self.X = sp.vstack([sp.csr_matrix(A)[:, :n] if A.shape[1] >= n else
                            sp.hstack([A, sp.csr_matrix((A.shape[0], n - A.shape[1]))])
                            for _, A, _, _ in self.blocks.values()], format="csr")
        self.c = np.concatenate([c for _, _, c, _ in self.blocks.values()])


def _gain_rows(model: AllocationModel) -> tuple[sp.csr_matrix, np.ndarray]:
    """gain[m,t] = Σ_i γ_im Σ_{τ<=t} ℓ_p(i)[t−τ] (x[i,τ] − x̄_i) for t < T, row m*T + t:
    (matrix over the LP columns, constant)."""
    md, lp = model.data, model.lp
    T, K, N = md.T, md.K, len(md.piece_prog)
    rows, cols, vals = [], [], []
    const = np.zeros(md.M * T)
    for i in range(N):
        p = md.piece_prog[i]
        for m in np.flatnonzero(md.piece_gain[i]):
            g = md.piece_gain[i, m]
            for t in range(T):
                for tau in range(max(0, t - K), t + 1):
                    w = md.lag[p, t - tau]
                    if w:
                        rows.append(m * T + t)
                        cols.append(i * T + tau)
                        vals.append(g * w)
                        const[m * T + t] -= g * w * md.piece_baseline_fill[i]
    local = sp.csr_matrix((vals, (rows, cols)), shape=(md.M * T, N * T))
    return lp.column_matrix(lp.var_blocks["x"], local), const


def plan_atoms(plan, atoms_layout: dict) -> np.ndarray:
    """The atom values of a plan recomputed from its result tables (an
    :class:`allocator.checker.PlanFacts`), in the layout ``{block: (start, size)}``: no LP."""
    inst, T = plan.inst, plan.T
    progs = [p.id for p in inst.programmes]
    depts = plan.dept_ids
    missions = [m.id for m in inst.settings.missions]
    q = np.array([plan.q[p] for p in progs]).reshape(len(progs), T)
    vals = {
        "spend": (q * plan.pi[None, :]).ravel(),
        "real_spend": q.ravel(),
        "department_spend": np.array([plan.dept_spend[(d, c, t)] for d in depts for c in range(2)
                                      for t in range(T)]),
        "settlement": plan.lim.reshape(-1),
        "del_total": plan.del_tot.reshape(-1),
        "mission_fund": plan.mf.reshape(-1),
        "ame_saving": plan.sav,
        "gain": plan.gains[:, :T].reshape(-1) if len(missions) else np.zeros(0),
    }
    out = np.zeros(sum(size for _, size in atoms_layout.values()))
    for name, (start, size) in atoms_layout.items():
        out[start:start + size] = vals[name]
    return out


# --------------------------------------------------------------------------- expressions
@dataclass
class Expression:
    """Labelled rows ``E · atoms + const`` (``index``: one row of coordinates per row)."""

    model: "Model"
    E: sp.csr_matrix  # rows × atoms
    const: np.ndarray
    index: pd.DataFrame
    kind: str  # MONEY or METRIC

    def __len__(self) -> int:
        return self.E.shape[0]

    def _combine(self, other, sign: float) -> "Expression":
        if isinstance(other, Expression):
            if other.kind != self.kind:
                raise ValueError(f"cannot add {self.kind} and {other.kind} expressions")
            if len(other) == len(self):
                idx = self.index
            elif len(other) == 1:
                other = other._repeat(len(self))
                idx = self.index
            elif len(self) == 1:
                return other._combine(self, 1.0) if sign > 0 else (-other)._combine(self, 1.0)
            else:
                raise ValueError(f"expressions of {len(self)} and {len(other)} rows do not align")
            return Expression(self.model, (self.E + sign * other.E).tocsr(),
                              self.const + sign * other.const, idx, self.kind)
        c = np.broadcast_to(np.asarray(other, dtype=float), (len(self),))
        return Expression(self.model, self.E, self.const + sign * self.model._to_gbp_m(c, self.kind),
                          self.index, self.kind)

    def _repeat(self, k: int) -> "Expression":
        return Expression(self.model, sp.vstack([self.E] * k, format="csr"),
                          np.repeat(self.const, k), pd.concat([self.index] * k, ignore_index=True),
                          self.kind)

    def __add__(self, other):
        return self._combine(other, 1.0)

    __radd__ = __add__

    def __sub__(self, other):
        return self._combine(other, -1.0)

    def __rsub__(self, other):
        return (-self)._combine(other, 1.0)

    def __neg__(self):
        return self * -1.0

    def __mul__(self, k):
        k = np.asarray(k, dtype=float)
        if k.ndim == 0:
            return Expression(self.model, (self.E * float(k)).tocsr(), self.const * float(k),
                              self.index, self.kind)
        k = np.broadcast_to(k, (len(self),))
        return Expression(self.model, (sp.diags(k) @ self.E).tocsr(), self.const * k, self.index,
                          self.kind)

    __rmul__ = __mul__

    def sum(self, dims=None) -> "Expression":
        """Sum over every row (``dims=None``) or over the named coordinate(s), keeping the others."""
        if dims is None:
            keep = []
        else:
            dims = [dims] if isinstance(dims, str) else list(dims)
            keep = [c for c in self.index.columns if c not in dims]
        # a summed coordinate that has one value throughout (e.g. the year of a one-year
        # selection) stays as a label
        const_cols = [c for c in self.index.columns if c not in keep and self.index[c].nunique() == 1]
        if not keep:
            idx = self.index[const_cols].iloc[:1].reset_index(drop=True) if len(self) else \
                pd.DataFrame(index=[0])
            return Expression(self.model, sp.csr_matrix(self.E.sum(axis=0)),
                              np.array([self.const.sum()]), idx, self.kind)
        groups = self.index.groupby(keep, sort=False).ngroup().to_numpy()
        G = sp.csr_matrix((np.ones(len(groups)), (groups, np.arange(len(groups)))),
                          shape=(groups.max() + 1, len(groups)))
        idx = self.index[keep + const_cols].drop_duplicates(keep).reset_index(drop=True)
        return Expression(self.model, (G @ self.E).tocsr(), G @ self.const, idx, self.kind)

    def _bound(self, lo, hi) -> "Constraint":
        def conv(v):
            v = np.broadcast_to(np.asarray(v, dtype=float), (len(self),))
            return self.model._to_gbp_m(v, self.kind) - self.const

        return Constraint(self, conv(lo), conv(hi))

    def __ge__(self, v):
        return self._bound(v, np.inf)

    def __le__(self, v):
        return self._bound(-np.inf, v)

    def __eq__(self, v):  # noqa: D105 - a constraint, as in linopy
        return self._bound(v, v)

    __hash__ = None

    def value(self, res) -> np.ndarray:
        """The rows' values at a solved :class:`Result`'s plan (instance money unit)."""
        x = res.solved.output.x
        if x is None:
            return None
        v = self.E @ (self.model._atoms.X @ x + self.model._atoms.c) + self.const
        return self.model._from_gbp_m(v, self.kind)


@dataclass
class Constraint:
    """lo <= E · atoms <= hi (bounds in £m or metric units, the expression's constant moved over)."""

    expr: Expression
    lo: np.ndarray
    hi: np.ndarray

    @property
    def sense(self) -> str:
        lo_f, hi_f = np.isfinite(self.lo).any(), np.isfinite(self.hi).any()
        if lo_f and hi_f:
            return "==" if np.allclose(self.lo, self.hi) else "range"
        return ">=" if lo_f else "<="


# --------------------------------------------------------------------------- the model
class Model:
    """A built allocation LP with named expressions and user constraints (see module doc).

    ``instance``: the caller's instance (its money unit); ``allocation``: the
    :class:`AllocationModel` in £m (``lp``, ``data``, ``expr`` are forwarded to it)."""

    def __init__(self, instance: Instance):
        from allocator.numerics import money_unit, to_gbp_m, unit_factor

        self.user_instance = instance
        self.unit = money_unit(instance)
        self.factor = unit_factor(self.unit)
        self.allocation = build_allocation_model(to_gbp_m(instance))
        self._atoms_cache = None
        self.user_families: list[Family] = []
        self.user_specs: list[dict] = []

    # forwarding: a Model can be used wherever an AllocationModel was
    @property
    def lp(self):
        return self.allocation.lp

    @property
    def data(self):
        return self.allocation.data

    @property
    def expr(self):
        return self.allocation.expr

    @property
    def instance(self) -> Instance:
        """The instance in £m the LP was built from."""
        return self.allocation.instance

    @property
    def _atoms(self) -> _Atoms:
        if self._atoms_cache is None or self._atoms_cache.X.shape[1] != self.lp.n:
            self._atoms_cache = _Atoms(self.allocation)
        return self._atoms_cache

    def _to_gbp_m(self, v, kind):
        return np.asarray(v, dtype=float) * (self.factor if kind == MONEY else 1.0)

    def _from_gbp_m(self, v, kind):
        return np.asarray(v, dtype=float) / (self.factor if kind == MONEY else 1.0)

    # ------------------------------------------------------------------ expressions
    def _expr(self, block: str, index: pd.DataFrame, mask: np.ndarray) -> Expression:
        a = self._atoms
        size, _, _, kind = a.blocks[block]
        rows = np.flatnonzero(mask)
        if not len(rows):
            raise ValueError(f"{block}: no rows match the selection")
        E = sp.csr_matrix((np.ones(len(rows)), (np.arange(len(rows)), a.start[block] + rows)),
                          shape=(len(rows), a.size))
        return Expression(self, E, np.zeros(len(rows)), index.iloc[rows].reset_index(drop=True), kind)

    @staticmethod
    def _pick(values, sel, what, known) -> np.ndarray:
        values = np.asarray(values, dtype=object)
        if sel is None:
            return np.ones(len(values), dtype=bool)
        sel = [sel] if isinstance(sel, (str, bool)) else list(sel)
        unknown = [s for s in sel if s not in set(known)]
        if unknown:
            raise KeyError(f"unknown {what} {unknown}; known: {sorted(map(str, set(known)))}")
        return np.isin(values, sel)

    def _programme_index(self, programme, year, department, pie, category):
        md, inst = self.data, self.instance
        T = md.T
        progs = inst.programmes
        idx = pd.DataFrame({"programme": np.repeat(md.programmes, T), "year": np.tile(md.years, md.P)})
        mask = self._pick(idx["programme"], programme, "programme", md.programmes)
        mask &= self._pick(idx["year"], year, "year", md.years)
        if department is not None:
            ds = [department] if isinstance(department, str) else list(department)
            unknown = [d for d in ds if d not in md.departments]
            if unknown:
                raise KeyError(f"unknown department {unknown}; known: {md.departments}")
            owned = [p.id for p in progs if set(p.owners) & set(ds)]
            mask &= np.isin(idx["programme"], owned)
        if pie is not None:
            mask &= np.isin(idx["programme"], [p.id for p in progs if p.pie == bool(pie)])
        if category is not None:
            mask &= np.isin(idx["programme"], [p.id for p in progs if p.category == category])
        return idx, mask

    def spend(self, programme=None, year=None, *, department=None, pie=None, category=None) -> Expression:
        """Cash spend π_t q[p,t] per programme and year (money)."""
        return self._expr("spend", *self._programme_index(programme, year, department, pie, category))

    def real_spend(self, programme=None, year=None, *, department=None, pie=None,
                   category=None) -> Expression:
        """Real spend q[p,t] (price-base money) per programme and year."""
        return self._expr("real_spend", *self._programme_index(programme, year, department, pie,
                                                               category))

    def _dept_cat_year(self, department, category, year):
        md = self.data
        T, D = md.T, md.D
        idx = pd.DataFrame({"department": np.repeat(md.departments, 2 * T),
                            "category": np.tile(np.repeat(CATEGORIES, T), D),
                            "year": np.tile(md.years, 2 * D)})
        mask = (self._pick(idx["department"], department, "department", md.departments)
                & self._pick(idx["category"], category, "category", CATEGORIES)
                & self._pick(idx["year"], year, "year", md.years))
        return idx, mask

    def department_spend(self, department=None, category=None, year=None) -> Expression:
        """Cash spend funded by each department, by category and year (money)."""
        return self._expr("department_spend", *self._dept_cat_year(department, category, year))

    def settlement(self, department=None, category=None, year=None) -> Expression:
        """Settlement limits L[d,c,t] (money)."""
        return self._expr("settlement", *self._dept_cat_year(department, category, year))

    def _cat_year(self, category, year):
        md = self.data
        idx = pd.DataFrame({"category": np.repeat(CATEGORIES, md.T), "year": np.tile(md.years, 2)})
        mask = (self._pick(idx["category"], category, "category", CATEGORIES)
                & self._pick(idx["year"], year, "year", md.years))
        return idx, mask

    def del_total(self, category=None, year=None) -> Expression:
        """Total DEL by category (RDEL_t, CDEL_t): settlement limits plus the Mission Fund."""
        return self._expr("del_total", *self._cat_year(category, year))

    def mission_fund(self, category=None, year=None) -> Expression:
        """Mission Fund cash spend by category and year (money)."""
        return self._expr("mission_fund", *self._cat_year(category, year))

    def ame_saving(self, year=None) -> Expression:
        """Capped welfare AME saved by invest-to-save programmes, sav_t (money)."""
        md = self.data
        idx = pd.DataFrame({"year": md.years})
        return self._expr("ame_saving", idx, self._pick(idx["year"], year, "year", md.years))

    def gain(self, mission=None, year=None) -> Expression:
        """Mission metric gain against baseline spending, gain[m,t] (metric units)."""
        md = self.data
        idx = pd.DataFrame({"mission": np.repeat(md.missions, md.T), "year": np.tile(md.years, md.M)})
        mask = (self._pick(idx["mission"], mission, "mission", md.missions)
                & self._pick(idx["year"], year, "year", md.years))
        return self._expr("gain", idx, mask)

    def resource_use(self, resource=None, year=None) -> Expression:
        """Use of each non-money resource, Σ_p u[p,r] q[p,t] (resource units; resources.csv and
        resource_use.csv), by resource and year: rows over the ``real_spend`` atoms."""
        md, inst, a = self.data, self.instance, self._atoms
        ids = [r.id for r in inst.resources]
        idx = pd.DataFrame({"resource": np.repeat(ids, md.T), "year": np.tile(md.years, len(ids))})
        mask = (self._pick(idx["resource"], resource, "resource", ids)
                & self._pick(idx["year"], year, "year", md.years))
        rows = np.flatnonzero(mask)
        if not len(rows):
            raise ValueError("resource_use: no rows match the selection")
        ppos, rpos = {p: i for i, p in enumerate(md.programmes)}, {r: i for i, r in enumerate(ids)}
        U = np.zeros((len(ids), md.P))
        for u in inst.resource_use:
            U[rpos[u.resource], ppos[u.programme]] = u.use_per_gbp_m
        full = sp.kron(sp.csr_matrix(U), sp.identity(md.T, format="csr"), format="csr")[rows]
        start = a.start["real_spend"]
        E = sp.hstack([sp.csr_matrix((len(rows), start)), full,
                       sp.csr_matrix((len(rows), a.size - start - full.shape[1]))]).tocsr()
        return Expression(self, E, np.zeros(len(rows)), idx.iloc[rows].reset_index(drop=True),
                          RESOURCE)

    # ------------------------------------------------------------------ user constraints
    def add_constraint(self, name: str, constraint: Constraint, *, description: str | None = None
                       ) -> None:
        """Add ``constraint`` as a named row family (one row per expression row).

        ``description`` names it in results ("DHSC prevention spend"); the default is the name."""
        from allocator.models.constraints import row_families

        if not isinstance(constraint, Constraint):
            raise TypeError("add_constraint needs a constraint such as `expr >= value`")
        if not name.isidentifier():
            raise ValueError(f"constraint name {name!r}: use letters, digits and underscores")
        if name in row_families() or name in {f.rows[0].name for f in self.user_families} or \
                self.lp.family(name) is not None:
            raise ValueError(f"constraint name {name!r} is already used")
        e = constraint.expr
        a = self._atoms
        A = (e.E @ a.X).tocsr()
        lo = constraint.lo - e.E @ a.c
        hi = constraint.hi - e.E @ a.c
        words = description or name
        idx = e.index
        year = idx["year"].astype(str) if "year" in idx else pd.Series([""] * len(e))
        other = [c for c in idx.columns if c != "year"]
        subject = [words + (" (" + ", ".join(str(r[c]) for c in other) + ")" if other else "")
                   for _, r in idx.iterrows()] if other else [words] * len(e)
        labels = pd.DataFrame({"year": year.to_numpy(), "subject": subject, "category": ""})
        self.lp.add_constraints(name, A, lo, hi, labels)
        layout = {b: (a.start[b], a.blocks[b][0]) for b in a.blocks}
        E, clo, chi = e.E.copy(), constraint.lo.copy(), constraint.hi.copy()
        unit = "£m" if e.kind == MONEY else e.kind

        def check(c, plan, E=E, lo=clo, hi=chi, name=name, labels=labels):
            v = E @ plan_atoms(plan, layout)
            scale = np.abs(E) @ np.abs(plan_atoms(plan, layout))
            n = max(1, int(np.diff(E.indptr).max())) if E.nnz else 1
            for r in range(len(v)):
                y, s = labels["year"].iloc[r], labels["subject"].iloc[r]
                if np.isfinite(lo[r]):
                    c.ge(name, y, s, v[r], lo[r], max(scale[r], abs(lo[r])), n)
                if np.isfinite(hi[r]):
                    c.le(name, y, s, v[r], hi[r], max(scale[r], abs(hi[r])), n)

        rows = Rows(name, words, USER_PHRASE.replace("{family}", name), "relaxed by", test="user",
                    sense=constraint.sense, unit=unit)
        self.user_families.append(Family(module=f"user:{name}", rows=(rows,), add=None,
                                         check=check, order=1000 + len(self.user_families)))
        self.user_specs.append({
            "name": name, "description": words, "unit": unit,
            "rows": [{"year": str(labels["year"].iloc[r]), "subject": labels["subject"].iloc[r],
                      "terms": {f"{k}": float(v) for k, v in zip(
                          (self._atom_name(j) for j in E.indices[E.indptr[r]:E.indptr[r + 1]]),
                          E.data[E.indptr[r]:E.indptr[r + 1]])},
                      "lower_gbp_m_or_metric": _json_num(clo[r]),
                      "upper_gbp_m_or_metric": _json_num(chi[r])} for r in range(len(e))]})

    def _atom_name(self, j: int) -> str:
        md, a = self.data, self._atoms
        for b, s in a.start.items():
            size = a.blocks[b][0]
            if s <= j < s + size:
                k, T = j - s, md.T
                t = md.years[k % T]
                if b in ("spend", "real_spend"):
                    return f"{b}[{md.programmes[k // T]},{t}]"
                if b in ("department_spend", "settlement"):
                    return f"{b}[{md.departments[k // (2 * T)]},{CATEGORIES[(k // T) % 2]},{t}]"
                if b in ("del_total", "mission_fund"):
                    return f"{b}[{CATEGORIES[k // T]},{t}]"
                if b == "gain":
                    return f"gain[{md.missions[k // T]},{t}]"
                return f"{b}[{t}]"
        raise IndexError(j)

    @property
    def instance_hash(self) -> str:
        """SHA-256 of the instance, and of the user constraints when there are any."""
        from allocator.io import instance_sha256

        h = instance_sha256(self.user_instance)
        if not self.user_specs:
            return h
        payload = json.dumps({"instance_sha256": h, "user_constraints": self.user_specs},
                             sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    # ------------------------------------------------------------------ solving
    def integrality(self):
        from allocator.models.constraints.business_cases import integrality

        return integrality(self.allocation)

    def solve(self, *, solver: str | None = None, time_limit_s: float | None = None,
              explain: bool = True, keep_model: bool = False, mip_gap: float | None = None,
              node_limit: int | None = None, timings: dict | None = None,
              unique_plan: bool | None = None):
        """Solve and return a :class:`Result` (what :func:`allocator.solve` returns)."""
        from allocator.api import solve_model

        return solve_model(self, solver=solver, time_limit_s=time_limit_s, explain=explain,
                           keep_model=keep_model, mip_gap=mip_gap, node_limit=node_limit,
                           timings=timings, unique_plan=unique_plan)

    def session(self, **kw):
        """A :class:`allocator.session.ModelSession` on this model (user constraints included)."""
        from allocator.session import ModelSession

        return ModelSession(self, **kw)

    def appraise(self, plan, **kw):
        """Appraise a plan against this model's rules (user constraints included)."""
        from allocator.appraise import appraise

        return appraise(self, plan, **kw)


def _json_num(v: float):
    return None if not np.isfinite(v) else float(v)


def build(instance) -> Model:
    """Build the allocation LP of ``instance`` (an :class:`Instance` or a path) without solving."""
    from allocator.io import load_instance
    from allocator.numerics import check_model_size

    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    check_model_size(instance)
    return Model(instance)


__all__ = ["Constraint", "Expression", "Model", "build", "plan_atoms"]
