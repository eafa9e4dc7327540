"""A sparse linear program assembled from named blocks.

Columns are added in named blocks (``x``, ``settlement`` …) with bounds; rows are added
in named *families* (``del_envelope``, ``stability_rule`` …) as sparse matrices over all
columns, with lower/upper bounds and one label per row (year, subject, category). The
finished program is

    maximise  c·x + c0   subject to   lo <= A x <= hi,   l <= x <= u

and is handed to a solver back-end as CSC arrays. Keeping names on every row is what
lets results speak in the policy's words (shadow prices, binding constraints, the
elastic explanation of infeasibility).

Memory: the matrix is held once. Row families are kept as separate sparse parts while
the program is being built; the first use of :attr:`LinearProgram.A` stacks them into one
CSC matrix and releases the parts (a family's rows are then slices of ``A``; changing a
family's rows splits ``A`` back into parts). Labels are categorical columns. Once a
solver holds an exact copy, :meth:`LinearProgram.release_matrix` drops the LP's own: ``A``
is then the solver's copy, read back when first used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

INF = np.inf


def _categorical(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as categoricals (one code per row, each distinct label stored once)."""
    return frame.astype({c: "category" for c in frame.columns
                         if not isinstance(frame[c].dtype, pd.CategoricalDtype)
                         and not pd.api.types.is_numeric_dtype(frame[c].dtype)})


@dataclass
class VarBlock:
    name: str
    start: int
    size: int
    index: pd.DataFrame  # one row per column, descriptive keys

    @property
    def cols(self) -> np.ndarray:
        return np.arange(self.start, self.start + self.size)


@dataclass
class RowBlock:
    family: str
    start: int
    size: int
    labels: pd.DataFrame  # columns: year, subject, category
    structural: bool = False  # definitions (not policy rules): never relaxed or priced


@dataclass
class LinearProgram:
    n: int = 0
    lb: list = field(default_factory=list)
    ub: list = field(default_factory=list)
    var_blocks: dict = field(default_factory=dict)
    row_blocks: list = field(default_factory=list)
    _A_parts: list = field(default_factory=list)
    _lo_parts: list = field(default_factory=list)
    _hi_parts: list = field(default_factory=list)
    m: int = 0
    # objective: split into in-horizon and terminal parts for reporting
    cost_in_horizon: np.ndarray | None = None
    cost_terminal: np.ndarray | None = None
    constant_in_horizon: float = 0.0
    constant_terminal: float = 0.0
    _A: sp.csc_matrix | None = None
    _matrix_source: object = None  # set by release_matrix: gives A back (see there)

    # ------------------------------------------------------------------ columns
    def add_variables(self, name: str, index: pd.DataFrame, lb, ub) -> VarBlock:
        size = len(index)
        block = VarBlock(name, self.n, size, index.reset_index(drop=True))
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (size,)).copy())
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (size,)).copy())
        self.var_blocks[name] = block
        self.n += size
        return block

    def column_matrix(self, block: VarBlock, local: sp.spmatrix) -> sp.csr_matrix:
        """Embed a (rows × block.size) matrix into (rows × n) at the block's columns."""
        local = sp.csr_matrix(local)
        out = sp.csr_matrix((local.data, local.indices + block.start, local.indptr),
                            shape=(local.shape[0], self.n))
        return out

    # ------------------------------------------------------------------ rows
    def add_constraints(self, family: str, A: sp.spmatrix, lo, hi, labels: pd.DataFrame,
                        structural: bool = False) -> RowBlock | None:
        A = sp.csr_matrix(A)
        size = A.shape[0]
        if size == 0:
            return None
        if A.shape[1] != self.n:
            raise ValueError(f"{family}: matrix has {A.shape[1]} columns, program has {self.n}")
        lo = np.broadcast_to(np.asarray(lo, dtype=float), (size,)).copy()
        hi = np.broadcast_to(np.asarray(hi, dtype=float), (size,)).copy()
        labels = labels.reset_index(drop=True).copy()
        for col in ("year", "subject", "category"):
            if col not in labels:
                labels[col] = ""
        labels = _categorical(labels[["year", "subject", "category"]])
        block = RowBlock(family, self.m, size, labels, structural)
        self._own_parts()
        self.row_blocks.append(block)
        self._A_parts.append(A)
        self._lo_parts.append(lo)
        self._hi_parts.append(hi)
        self.m += size
        self._A = None
        return block

    def replace_rows(self, family: str, A: sp.spmatrix, lo=None, hi=None) -> RowBlock:
        """Replace the matrix (and optionally the bounds) of row family ``family`` in place,
        same number of rows (a re-solve whose coefficients follow parameters)."""
        i = next(k for k, b in enumerate(self.row_blocks) if b.family == family)
        block = self.row_blocks[i]
        A = sp.csr_matrix(A)
        if A.shape[0] != block.size:
            raise ValueError(f"{family}: {A.shape[0]} rows given, the family has {block.size}")
        self._own_parts()
        self._A_parts[i] = A
        if lo is not None:
            self._lo_parts[i] = np.broadcast_to(np.asarray(lo, dtype=float), (block.size,)).copy()
        if hi is not None:
            self._hi_parts[i] = np.broadcast_to(np.asarray(hi, dtype=float), (block.size,)).copy()
        self._A = None
        return block

    def rows_of(self, family: str) -> sp.csr_matrix:
        """The matrix of row family ``family`` (its rows × n)."""
        i = next(k for k, b in enumerate(self.row_blocks) if b.family == family)
        if self._A_parts is None:  # released into A: the family's rows are a slice of it
            b = self.row_blocks[i]
            return sp.csr_matrix(self.A[b.start:b.start + b.size])
        A = self._A_parts[i]
        if A.shape[1] < self.n:
            A = sp.hstack([A, sp.csr_matrix((A.shape[0], self.n - A.shape[1]))], format="csr")
        return sp.csr_matrix(A)

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        """Change one existing entry A[row, col] (it must be a stored entry)."""
        self._take_back()
        if self._A_parts is None:  # only A holds the matrix: change it there if stored
            self.A  # (padded to n columns)
            lo, hi = self._A.indptr[col], self._A.indptr[col + 1]
            hit = np.flatnonzero(self._A.indices[lo:hi] == row)
            if len(hit):
                self._A.data[lo + hit[0]] = value
                return
            self._own_parts()
        i = next(k for k, b in enumerate(self.row_blocks) if b.start <= row < b.start + b.size)
        block = self.row_blocks[i]
        part = sp.csr_matrix(self._A_parts[i])
        part[row - block.start, col] = value
        self._A_parts[i] = part
        if self._A is not None:
            lo, hi = self._A.indptr[col], self._A.indptr[col + 1]
            hit = np.flatnonzero(self._A.indices[lo:hi] == row)
            if len(hit):
                self._A.data[lo + hit[0]] = value
            else:
                self._A = None

    # ------------------------------------------------------------------ finished arrays
    @property
    def col_lower(self) -> np.ndarray:
        return np.concatenate(self.lb) if self.lb else np.zeros(0)

    @property
    def col_upper(self) -> np.ndarray:
        return np.concatenate(self.ub) if self.ub else np.zeros(0)

    @property
    def row_lower(self) -> np.ndarray:
        return np.concatenate(self._lo_parts) if self._lo_parts else np.zeros(0)

    @property
    def row_upper(self) -> np.ndarray:
        return np.concatenate(self._hi_parts) if self._hi_parts else np.zeros(0)

    @property
    def A(self) -> sp.csc_matrix:
        """The whole constraint matrix (m × n, CSC). Built on first use from the families'
        parts, which are then released, so that the matrix is held once. After
        :meth:`release_matrix`: the source's matrix (not held by the LP)."""
        if self._matrix_source is not None:
            A = self._matrix_source()
            if A.shape == (self.m, self.n):
                return A
            self._take_back()  # columns added since the release: the LP holds it again
        if self._A is None:
            parts = [p if p.shape[1] == self.n else sp.hstack(
                [p, sp.csr_matrix((p.shape[0], self.n - p.shape[1]))]) for p in self._A_parts]
            self._A = (sp.vstack(parts, format="csc") if parts
                       else sp.csc_matrix((0, self.n)))
            self._A.sort_indices()
            self._A_parts = None
        elif self._A.shape[1] < self.n:  # columns added since: pad (no entries in them)
            self._A = sp.hstack([self._A, sp.csc_matrix((self.m, self.n - self._A.shape[1]))],
                                format="csc")
        return self._A

    def release_matrix(self, source) -> None:
        """Hold no constraint matrix from now on: ``source()`` returns it, exactly (the same
        m × n CSC entries), whenever :attr:`A` is used.

        For a program loaded into a solver that keeps an exact copy: the solve path
        (:func:`allocator.api.solve_model`, a one-shot solve) passes the HiGHS back-end's
        read-back (``HighsBackend.matrix``, read once and kept by the back-end), so the
        matrix is not held twice beside HiGHS (99 MiB at 20,000 programmes). Every reader
        of ``A`` works unchanged; a change of the rows (:meth:`add_constraints`,
        :meth:`replace_rows`, :meth:`set_coefficient`) or added columns first take a
        private copy back, so the source is never modified; :meth:`hold_matrix` ends the
        release (the solve path does at its end, so a solved model keeps no back-end)."""
        self.A  # assemble (the families' parts are released)
        self._A, self._matrix_source = None, source

    @property
    def matrix_released(self) -> bool:
        """True while the LP holds no matrix of its own (:meth:`release_matrix`)."""
        return self._matrix_source is not None

    def hold_matrix(self) -> None:
        """End :meth:`release_matrix`: hold the source's matrix as the LP's own, without a
        copy (for when the source is about to be dropped, e.g. at the end of a solve)."""
        self._take_back(copy=False)

    def _take_back(self, copy: bool = True) -> None:
        """After :meth:`release_matrix`: hold the matrix again (a private copy by default)."""
        if self._matrix_source is not None:
            A, self._matrix_source = self._matrix_source(), None
            self._A = sp.csc_matrix(A, copy=copy)
            self._A_parts = None

    def _own_parts(self) -> None:
        """Split A back into one CSR part per row family (before a family is added or
        changed after A was built); A is dropped and rebuilt on next use."""
        self._take_back()
        if self._A_parts is None:
            A = sp.csr_matrix(self._A)
            self._A_parts = [A[b.start:b.start + b.size] for b in self.row_blocks]
            self._A = None

    @property
    def cost(self) -> np.ndarray:
        return self.cost_in_horizon + self.cost_terminal

    @property
    def constant(self) -> float:
        return self.constant_in_horizon + self.constant_terminal

    def row_labels(self) -> pd.DataFrame:
        """One row per constraint: family, year, subject, category, structural (the text
        columns categorical: one code per row)."""
        if not self.row_blocks:
            return pd.DataFrame(columns=["family", "year", "subject", "category", "structural"])
        blocks = self.row_blocks
        sizes = np.array([b.size for b in blocks])
        fams = sorted({b.family for b in blocks})
        fam_code = {f: i for i, f in enumerate(fams)}
        out = {"family": pd.Categorical.from_codes(
            np.repeat([fam_code[b.family] for b in blocks], sizes).astype(np.int32), categories=fams)}
        for col in ("year", "subject", "category"):
            parts = [b.labels[col] for b in blocks]
            if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
                out[col] = pd.api.types.union_categoricals(parts, sort_categories=True)
            else:
                out[col] = pd.concat(parts, ignore_index=True).astype("category")
        out["structural"] = np.repeat([b.structural for b in blocks], sizes)
        return pd.DataFrame(out)

    def family(self, name: str) -> RowBlock | None:
        for b in self.row_blocks:
            if b.family == name:
                return b
        return None
