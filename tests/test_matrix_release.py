"""A one-shot solve holds the constraint matrix once (HiGHS's copy) and frees the first
stage's solver before the second stage: the same plans and objectives, bit for bit, and every
reader of ``LinearProgram.A`` served from the released state (models/lp.py release_matrix)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from allocator import load_instance, solve
from allocator.api import build, default_instance_path, tiny_instance_path
from allocator.solvers.highs import HighsBackend


def _same_csc(a, b) -> None:
    a, b = sp.csc_matrix(a), sp.csc_matrix(b)
    assert a.shape == b.shape
    assert np.array_equal(a.indptr, b.indptr)
    assert np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)  # exact, not approximate


def _same_result(a, b) -> None:
    assert a.status == b.status == "optimal"
    assert a.objective == b.objective  # bit for bit
    assert a.objective_in_horizon == b.objective_in_horizon
    assert a.objective_terminal == b.objective_terminal
    assert set(a.tables) == set(b.tables)
    for k in a.tables:
        pd.testing.assert_frame_equal(a.tables[k], b.tables[k], check_exact=True)
    pd.testing.assert_frame_equal(a.binding, b.binding, check_exact=True)
    assert a.provenance["model_size"] == b.provenance["model_size"]
    assert a.provenance["feasibility_check"] == b.provenance["feasibility_check"]
    assert a.provenance["numerical_warnings"] == b.provenance["numerical_warnings"]


@pytest.fixture
def spy(monkeypatch):
    """Counts of the releases a solve makes."""
    calls = {"matrix": 0, "solver": 0}
    from allocator.models.lp import LinearProgram

    release_matrix, release_solver = LinearProgram.release_matrix, HighsBackend.release_solver

    def rm(self, source):
        calls["matrix"] += 1
        return release_matrix(self, source)

    def rs(self):
        calls["solver"] += 1
        return release_solver(self)

    monkeypatch.setattr(LinearProgram, "release_matrix", rm)
    monkeypatch.setattr(HighsBackend, "release_solver", rs)
    return calls


def _kept_against_one_shot(inst, spy):
    kept = solve(inst, keep_model=True)  # a session's path: nothing released
    assert spy == {"matrix": 0, "solver": 0}
    one_shot = solve(inst)
    assert spy == {"matrix": 1, "solver": 1}  # the matrix and the first stage's solver
    assert one_shot.provenance["unique_plan"]["used"]
    _same_result(one_shot, kept)
    return one_shot


def test_default_instance_same_plan_bit_for_bit(spy):
    _kept_against_one_shot(load_instance(default_instance_path()), spy)


def test_generated_instance_same_plan_bit_for_bit(spy):
    from benchmarks.generator import generate_size

    _kept_against_one_shot(generate_size("medium", seed=3), spy)


def test_read_back_is_the_matrix_passed_exactly(monkeypatch):
    """HiGHS's copy, read back by column ranges (small ranges here, empty columns included),
    is the LP's matrix entry for entry; so the released LP serves the same A."""
    model = build(load_instance(default_instance_path()))
    lp = model.lp
    A = lp.A.copy()
    b = HighsBackend()
    b.load(lp)
    assert b.exact_copy
    for chunk in (1, 7, 1000, 1 << 19):
        monkeypatch.setattr(HighsBackend, "READ_CHUNK_NNZ", chunk)
        _same_csc(b._read_matrix(lp.m, lp.n, A.nnz), A)


def test_read_back_with_empty_columns(monkeypatch):
    """Ranges of columns without entries (highspy answers those with one stray entry)."""
    from allocator.unique_plan import _Arrays

    dense = np.zeros((4, 9))
    dense[0, 1], dense[2, 1], dense[3, 4], dense[1, 8] = 1.5, -2.0, 3.25, 7.0  # 0, 2-3, 5-7 empty
    A = sp.csc_matrix(dense)
    b = HighsBackend()
    b.load(_Arrays(A, -np.ones(4), np.ones(4), np.zeros(9), np.ones(9), np.ones(9)))
    for chunk in (1, 2, 3, 100):
        monkeypatch.setattr(HighsBackend, "READ_CHUNK_NNZ", chunk)
        _same_csc(b._read_matrix(4, 9, A.nnz), A)


def test_released_state_serves_every_reader():
    from allocator.numerics import coefficient_report, numerical_warnings

    model = build(load_instance(default_instance_path()))
    lp = model.lp
    A = lp.A.copy()
    report, warnings = coefficient_report(model), numerical_warnings(model)
    target = lp.rows_of("mission_target") if lp.family("mission_target") else None
    b = HighsBackend()
    b.load(lp)
    lp.release_matrix(b.matrix)
    assert lp.matrix_released and lp._A is None and lp._A_parts is None  # holds no matrix
    _same_csc(lp.A, A)
    assert lp.A is b.matrix()  # the back-end's one read-back, not a copy
    pd.testing.assert_frame_equal(coefficient_report(model), report, check_exact=True)
    assert numerical_warnings(model) == warnings
    fam = lp.row_blocks[3]
    _same_csc(lp.rows_of(fam.family), A[fam.start:fam.start + fam.size])
    if target is not None:
        _same_csc(lp.rows_of("mission_target"), target)
    out = b.solve()
    x = out.x
    assert np.array_equal(lp.A @ x, A @ x)
    # the first stage's solver freed: the matrix stays available
    b.release_solver()
    assert b.h is None
    _same_csc(lp.A, A)
    # a change of the rows takes a private copy back; the source is never modified
    src = b.matrix()
    r, c = int(A.indices[A.indptr[5]]), 5
    lp.set_coefficient(r, c, 123.0)
    assert not lp.matrix_released
    assert lp.A[r, c] == 123.0 and src[r, c] == A[r, c]
    _same_csc(src, A)


def test_released_lp_takes_back_for_row_changes_and_new_columns():
    model = build(load_instance(tiny_instance_path()))
    lp = model.lp
    A = lp.A.copy()
    b = HighsBackend()
    b.load(lp)
    fam = lp.row_blocks[0]
    # replace_rows after a release
    lp.release_matrix(b.matrix)
    new = sp.csr_matrix(A[fam.start:fam.start + fam.size]) * 2.0
    lp.replace_rows(fam.family, new)
    assert not lp.matrix_released
    _same_csc(lp.A[fam.start:fam.start + fam.size], new)
    _same_csc(b.matrix(), A)  # HiGHS's read-back untouched
    # add_constraints and add_variables after a release
    b2 = HighsBackend()
    b2.load(lp)
    B = lp.A.copy()
    lp.release_matrix(b2.matrix)
    m0 = lp.m
    lp.add_constraints("extra", sp.csr_matrix(np.ones((1, lp.n))), 0.0, 1e9,
                       pd.DataFrame({"year": ["y"], "subject": ["s"], "category": ["c"]}))
    assert lp.m == m0 + 1 and not lp.matrix_released
    _same_csc(lp.A[:m0], B)
    b3 = HighsBackend()
    b3.load(lp)
    C = lp.A.copy()
    lp.release_matrix(b3.matrix)
    n0 = lp.n
    lp.add_variables("extra_cols", pd.DataFrame({"k": [0, 1]}), 0.0, 1.0)
    assert lp.A.shape == (lp.m, n0 + 2)
    _same_csc(lp.A[:, :n0], C)
    assert lp.A[:, n0:].nnz == 0


def test_infeasible_one_shot_explains_from_the_released_matrix(tiny_copy):
    """An infeasible instance: the elastic explanation reads A from the released state and
    names the same relaxation as with the LP's own matrix."""
    fis = pd.read_csv(tiny_copy / "fiscal.csv")
    fis["rdel_envelope_gbp_m"] = 1.0
    fis.to_csv(tiny_copy / "fiscal.csv", index=False)
    inst = load_instance(tiny_copy)
    one_shot, kept = solve(inst), solve(inst, keep_model=True)
    assert one_shot.status == kept.status == "infeasible"
    assert one_shot.explanation is not None
    assert one_shot.explanation.text() == kept.explanation.text()


def test_model_reused_after_a_one_shot_solve(spy):
    """A Model solved once holds its matrix again (no back-end kept alive through it) and
    solves again to the same plan."""
    model = build(load_instance(default_instance_path()))
    first = model.solve()
    assert spy["matrix"] == 1 and not model.lp.matrix_released
    assert model.lp._A is not None and model.lp._matrix_source is None
    again = model.solve()
    _same_result(first, again)
