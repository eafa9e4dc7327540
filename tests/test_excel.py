"""Excel round-trip: instance -> workbook -> instance is the identity; errors name sheet, row, field."""

import pytest
from openpyxl import load_workbook

from allocator import InstanceError, instance_sha256, load_instance, solve
from allocator.excel import load_workbook_instance, write_results_workbook, write_template


@pytest.mark.parametrize("name", ["uk_missions", "tiny"])
def test_round_trip_identity(name, tmp_path):
    from tests.conftest import INSTANCES

    inst = load_instance(INSTANCES / name)
    book = write_template(tmp_path / f"{name}.xlsx", inst)
    back = load_instance(book)  # io.load_instance dispatches .xlsx to the Excel loader
    assert instance_sha256(back) == instance_sha256(inst)
    assert back == inst


def test_template_is_documented(tmp_path):
    book = write_template(tmp_path / "blank.xlsx")
    wb = load_workbook(book)
    assert wb.sheetnames[:2] == ["README", "settings"]
    for sheet in ("missions", "spending_reviews", "departments", "programmes", "segments", "lags",
                  "fiscal"):
        assert sheet in wb.sheetnames
    ws = wb["programmes"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["id", "name", "owners", "category"]
    assert ws.freeze_panes == "A2"
    # the category column only accepts the two categories
    formulas = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert '"resource,capital"' in formulas and '"TRUE,FALSE"' in formulas
    readme = [(r[0], r[1], r[2]) for r in wb["README"].iter_rows(min_row=2, values_only=True)]
    assert any(s == "fiscal" and c == "deflator" and "1.0 in the price-base year" in m
               for s, c, m in readme)


def _book_with(tmp_path, tiny_dir, sheet, row, col_name, value):
    path = write_template(tmp_path / "t.xlsx", load_instance(tiny_dir))
    wb = load_workbook(path)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    ws.cell(row=row, column=header.index(col_name) + 1, value=value)
    wb.save(path)
    return path


def test_bad_cell_names_sheet_row_field(tmp_path, tiny_dir):
    path = _book_with(tmp_path, tiny_dir, "segments", 2, "width_gbp_m", -3)
    with pytest.raises(InstanceError) as ei:
        load_workbook_instance(path)
    msgs = [str(p) for p in ei.value.problems]
    assert any(m.startswith("t.xlsx[segments]: row 2, field 'width_gbp_m'") and "-3" in m
               for m in msgs), msgs


def test_bad_cell_message_matches_csv(tmp_path, tiny_copy, tiny_dir):
    """The same mistake gives the same message in a workbook and in a CSV file."""
    import pandas as pd

    path = _book_with(tmp_path, tiny_dir, "fiscal", 3, "deflator", "abc")
    with pytest.raises(InstanceError) as xl:
        load_workbook_instance(path)
    f = pd.read_csv(tiny_copy / "fiscal.csv", dtype=str, keep_default_na=False)
    f.loc[1, "deflator"] = "abc"
    f.to_csv(tiny_copy / "fiscal.csv", index=False)
    with pytest.raises(InstanceError) as cs:
        load_instance(tiny_copy)
    (a,), (b,) = xl.value.problems, cs.value.problems
    assert (a.where, a.value, a.message) == (b.where, b.value, b.message)
    assert a.file == "t.xlsx[fiscal]" and b.file == "fiscal.csv"


def test_cross_reference_error_names_sheet(tmp_path, tiny_dir):
    path = _book_with(tmp_path, tiny_dir, "programmes", 2, "owners", "Z")
    with pytest.raises(InstanceError) as ei:
        load_workbook_instance(path)
    msgs = [str(p) for p in ei.value.problems]
    assert any(m.startswith("t.xlsx[programmes]: row 2, field 'owners'") and "'Z'" in m
               for m in msgs), msgs


def test_bad_setting_names_settings_row(tmp_path, tiny_dir):
    path = write_template(tmp_path / "t.xlsx", load_instance(tiny_dir))
    wb = load_workbook(path)
    ws = wb["settings"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == "horizon.years")
    ws.cell(row=row, column=2, value="three")
    wb["missions"].cell(row=2, column=[c.value for c in wb["missions"][1]].index("weight") + 1,
                        value=-1)
    wb.save(path)
    with pytest.raises(InstanceError) as ei:
        load_workbook_instance(path)
    msgs = [str(p) for p in ei.value.problems]
    assert any(m.startswith(f"t.xlsx[settings]: row {row}, field 'horizon.years'") and "three" in m
               for m in msgs), msgs
    assert any(m.startswith("t.xlsx[missions]: row 2, field 'weight'") for m in msgs), msgs


def test_not_a_workbook(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    with pytest.raises(InstanceError, match="bad.xlsx: file"):
        load_instance(bad)


def test_results_workbook(tmp_path, tiny_dir):
    res = solve(load_instance(tiny_dir))
    path = write_results_workbook(res, tmp_path / "results.xlsx")
    wb = load_workbook(path)
    for sheet in ("summary", "allocations", "departments", "missions", "fiscal", "shadow_prices"):
        assert sheet in wb.sheetnames
        assert wb[sheet].freeze_panes == "A2"
    summary = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["objective"] == pytest.approx(184.5)
    ws = wb["allocations"]
    header = [c.value for c in ws[1]]
    col = header.index("spend_gbp_m") + 1
    assert ws.cell(row=2, column=col).number_format == "#,##0.0"
    spend = sum(ws.cell(row=r, column=col).value for r in range(2, ws.max_row + 1))
    assert spend == pytest.approx(3 * 25.0)  # the envelope is spent in full each year


def test_missing_record_sheet(tmp_path, tiny_dir):
    path = write_template(tmp_path / "t.xlsx", load_instance(tiny_dir))
    wb = load_workbook(path)
    del wb["missions"]
    wb.save(path)
    with pytest.raises(InstanceError) as ei:
        load_workbook_instance(path)
    assert "t.xlsx: sheet: required sheet 'missions' not found (value: 'missions')" in \
        [str(p) for p in ei.value.problems]


def test_digits_typed_into_a_text_setting(tmp_path, tiny_dir):
    """Excel stores typed digits as a number; a text setting (the name) keeps them as text."""
    path = write_template(tmp_path / "t.xlsx", load_instance(tiny_dir))
    wb = load_workbook(path)
    ws = wb["settings"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == "name")
    ws.cell(row=row, column=2, value=2026)
    wb.save(path)
    assert load_workbook_instance(path).settings.name == "2026"
