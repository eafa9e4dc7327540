"""Excel round-trip: a documented input workbook, loading it back, and a results workbook.

Input workbook layout (``write_template``):

- ``README``       what each sheet and column means, with units (from the schema's descriptions);
- ``settings``     ``instance.yaml`` flattened to one ``key | value`` row per setting, keys are
  dotted paths (``fiscal_rules.stability_rule.required_margin_gbp_m``); lists and free-form
  sections are JSON text in the value cell; an empty value means "use the default";
- one sheet per list of records in the settings (``missions``, ``spending_reviews``, …),
  one row per record;
- one sheet per CSV table (``departments``, ``programmes``, ``segments``, ``lags``,
  ``fiscal``) with exactly the CSV's columns.

Loading (``load_workbook_instance``) turns every table sheet back into CSV text and runs it
through :func:`allocator.io.read_table`, so a bad cell gets the same message as in a CSV
file, with the sheet standing for the file (``book.xlsx[programmes]: row 7, field …``).
Row numbers are Excel row numbers (header = row 1), matching CSV line numbers.
"""

from __future__ import annotations

import csv
import io
import json
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from allocator.errors import InstanceError, Problem
from allocator.io import TABLES, build_instance, read_table
from allocator.schema import Instance, InstanceSettings

SETTINGS_SHEET = "settings"
README_SHEET = "README"
#: table key -> sheet name (the CSV file's stem)
TABLE_SHEETS = {key: file.rsplit(".", 1)[0] for key, (file, _, _) in TABLES.items()}


# --------------------------------------------------------------------------- schema walking
def _model_of(annotation) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``Model`` or ``Model | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _list_model_of(annotation) -> type[BaseModel] | None:
    """The record model of a ``list[Model]`` annotation, if it is one."""
    if typing.get_origin(annotation) is list:
        args = typing.get_args(annotation)
        if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            return args[0]
    return None


def _record_sheets(model: type[BaseModel], prefix: str = "") -> dict[str, type[BaseModel]]:
    """Dotted path -> record model for every ``list[Model]`` field (each becomes a sheet)."""
    out = {}
    for name, f in model.model_fields.items():
        path = f"{prefix}{name}"
        rec = _list_model_of(f.annotation)
        if rec is not None:
            out[path] = rec
            continue
        sub = _model_of(f.annotation)
        if sub is not None:
            out.update(_record_sheets(sub, path + "."))
    return out


def _settings_keys(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, FieldInfo) for every scalar-or-JSON setting (records excluded)."""
    out = []
    for name, f in model.model_fields.items():
        path = f"{prefix}{name}"
        if _list_model_of(f.annotation) is not None:
            continue
        sub = _model_of(f.annotation)
        if sub is not None:
            out.extend(_settings_keys(sub, path + "."))
        else:
            out.append((path, f))
    return out


def _sheet_name(path: str) -> str:
    return path[:31]


# --------------------------------------------------------------------------- cell values
def _to_cell(v: Any) -> Any:
    """A setting or table value as an Excel cell value (None -> empty cell)."""
    if v is None:
        return None
    if isinstance(v, (list, dict)):
        return json.dumps(v, separators=(", ", ": "))
    return v


def _table_cell(name: str, v: Any) -> Any:
    if v is None:
        return None
    if name == "owners" and isinstance(v, list):
        return ";".join(v)
    return v


def _cell_text(v: Any) -> str:
    """Cell value as the text a CSV file would hold (floats keep every digit)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v).strip()


def _setting_value(v: Any) -> Any:
    """Parse a settings value cell: JSON for lists/objects, the cell's own type otherwise."""
    if isinstance(v, str):
        t = v.strip()
        if t[:1] in ("[", "{"):
            return json.loads(t)
        return v
    return v


def _set_path(d: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    d[parts[-1]] = value


# --------------------------------------------------------------------------- writing
def _describe(f, key: str | None = None) -> str:
    """The field's schema description, else the input dictionary's (allocator/dictionary.py)."""
    text = (f.description or "").strip()
    if not text and key is not None:
        from allocator.dictionary import INPUT_FIELDS

        text = INPUT_FIELDS.get(key, "")
    return text


def _header_comment(f) -> str | None:
    d = _describe(f)
    return d or None


def _validation_for(ws, col_letter: str, f, nrows: int):
    """Data validation for one column from its schema type (where openpyxl supports it)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    ann = f.annotation
    if typing.get_origin(ann) is typing.Literal:
        base = ann
    else:
        args = [a for a in typing.get_args(ann) if a is not type(None)] or [ann]
        base = args[0]
    rng = f"{col_letter}2:{col_letter}{max(nrows + 1, 2) + 500}"
    dv = None
    if typing.get_origin(base) is typing.Literal:
        dv = DataValidation(type="list", formula1='"' + ",".join(typing.get_args(base)) + '"',
                            allow_blank=True)
    elif base is bool:
        dv = DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True)
    elif base in (float, int):
        lo = None
        for m in f.metadata:
            for attr in ("ge", "gt"):
                if getattr(m, attr, None) is not None:
                    lo = getattr(m, attr)
        kind = "whole" if base is int else "decimal"
        if lo is not None:
            dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(lo),
                                allow_blank=True)
        else:
            dv = DataValidation(type=kind, operator="between", formula1="-1E+15",
                                formula2="1E+15", allow_blank=True)
    if dv is not None:
        dv.error = f"{f.description or 'invalid value'}"
        dv.errorTitle = "allocator: invalid value"
        dv.showErrorMessage = True
        ws.add_data_validation(dv)
        dv.add(rng)


def _write_records(wb, title: str, model: type[BaseModel], records: list[dict], columns=None):
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(_sheet_name(title))
    cols = columns or list(model.model_fields)
    ws.append(cols)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
    for j, c in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=j)
        cell.font, cell.fill = bold, fill
        text = _header_comment(model.model_fields[c])
        if text:
            cell.comment = Comment(text, "allocator")
        ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(c) + 4))
    for rec in records:
        ws.append([_to_cell(_table_cell(c, rec.get(c))) for c in cols])
    for j, c in enumerate(cols, start=1):
        _validation_for(ws, get_column_letter(j), model.model_fields[c], len(records))
    ws.freeze_panes = "A2"
    return ws


def _readme_rows(settings_keys, record_sheets) -> list[tuple[str, str, str]]:
    rows = [("README", "", "This workbook is an allocator instance. Edit the sheets, then run "
             "`allocator solve THIS.xlsx`. Money is £ million: cash (nominal) for departments and "
             "the fiscal sheet, real at the price base (first horizon year) for programmes, "
             "segments and PIE floors. Years are fiscal-year labels like 2026-27. An empty cell "
             "means 'use the default' (or 'none' for optional limits). Unknown columns are errors."),
            (SETTINGS_SHEET, "key | value", "instance.yaml, one setting per row (dotted path). "
             "Lists and free-form sections are JSON text, e.g. [\"2029-30\", \"2030-31\"].")]
    for key, f in settings_keys:
        rows.append((SETTINGS_SHEET, key, _describe(f, key)))
    for path, model in record_sheets.items():
        rows.append((_sheet_name(path), "", f"one row per entry of '{path}' in instance.yaml"))
        for c, f in model.model_fields.items():
            rows.append((_sheet_name(path), c, _describe(f, f"{path}.{c}")))
    for key, (file, model, required) in TABLES.items():
        rows.append((TABLE_SHEETS[key], "", f"the {file} table ({'required' if required else 'optional'}); "
                     "see docs/instance_format.md"))
        for c, f in model.model_fields.items():
            rows.append((TABLE_SHEETS[key], c, _describe(f, f"{TABLE_SHEETS[key]}.{c}")))
    return rows


def _save_atomic(wb, path: Path) -> Path:
    from allocator.output import atomic_file

    with atomic_file(path) as tmp:
        wb.save(tmp)
    return Path(path)


def write_template(path: str | Path, instance: Instance | None = None) -> Path:
    """Write a documented input workbook: ``instance``'s data, or empty tables if None."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = README_SHEET
    skeys = _settings_keys(InstanceSettings)
    rsheets = _record_sheets(InstanceSettings)
    ws.append(["sheet", "column / key", "meaning and units"])
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in _readme_rows(skeys, rsheets):
        ws.append(list(r))
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 45
    ws.column_dimensions["C"].width = 110
    for row in ws.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"

    data = instance.settings.model_dump(mode="json") if instance is not None else {}
    st = wb.create_sheet(SETTINGS_SHEET)
    st.append(["key", "value", "meaning"])
    for c in st[1]:
        c.font = Font(bold=True)
    for key, f in skeys:
        v: Any = data
        for part in key.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        st.append([key, _to_cell(v), _describe(f, key)])
    st.column_dimensions["A"].width = 45
    st.column_dimensions["B"].width = 40
    st.column_dimensions["C"].width = 80
    st.freeze_panes = "A2"

    for path_, model in rsheets.items():
        recs: Any = data
        for part in path_.split("."):
            recs = recs.get(part) if isinstance(recs, dict) else None
        _write_records(wb, path_, model, list(recs or []))
    for key, (file, model, _) in TABLES.items():
        recs = [r.model_dump(mode="json") for r in getattr(instance, key)] if instance else []
        _write_records(wb, TABLE_SHEETS[key], model, recs)
    return _save_atomic(wb, Path(path))


# --------------------------------------------------------------------------- reading
def _sheet_rows(ws) -> list[list[Any]]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    while rows and all(v is None or (isinstance(v, str) and not v.strip()) for v in rows[-1]):
        rows.pop()
    return rows


def _sheet_csv(ws) -> str:
    """A sheet as CSV text (header = row 1); trailing empty header columns dropped."""
    rows = _sheet_rows(ws)
    if not rows:
        return ""
    header = rows[0]
    width = len(header)
    while width and (header[width - 1] is None or not str(header[width - 1]).strip()):
        width -= 1
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in rows:
        cells = [_cell_text(v) for v in r]
        extra = cells[width:]
        cells = cells[:width]
        if any(extra):  # data beyond the header: keep so read_table reports it
            last = max(i for i, v in enumerate(extra) if v)
            cells += extra[:last + 1]
        w.writerow(cells)
    return buf.getvalue()


def _is_text(f) -> bool:
    ann = f.annotation
    return ann is str or (typing.get_origin(ann) in (typing.Union, types.UnionType)
                          and str in typing.get_args(ann))


def _read_settings(wb, file: str, problems: list[Problem]) -> tuple[dict, dict[str, int]]:
    data: dict = {}
    where: dict[str, int] = {}
    if SETTINGS_SHEET not in wb.sheetnames:
        problems.append(Problem(file, "sheet", SETTINGS_SHEET, "required sheet 'settings' not found"))
        return data, where
    fields = dict(_settings_keys(InstanceSettings))
    known = set(fields)
    sheet = f"{file}[{SETTINGS_SHEET}]"
    for i, row in enumerate(_sheet_rows(wb[SETTINGS_SHEET]), start=1):
        if i == 1 or not row or row[0] is None:
            continue
        key = str(row[0]).strip()
        val = row[1] if len(row) > 1 else None
        if key not in known:
            problems.append(Problem(sheet, f"row {i}, field 'key'", key, "unknown setting"))
            continue
        if val is None or (isinstance(val, str) and not val.strip()):
            continue
        if isinstance(val, (int, float)) and not isinstance(val, bool) and _is_text(fields[key]):
            # Excel turns typed digits into numbers: a text setting keeps the digits as typed
            val = str(int(val)) if float(val).is_integer() else repr(val)
        try:
            _set_path(data, key, _setting_value(val))
        except json.JSONDecodeError as e:
            problems.append(Problem(sheet, f"row {i}, field '{key}'", val, f"not valid JSON: {e.msg}"))
        where[key] = i
    return data, where


def _read_records(wb, file: str, path: str, model: type[BaseModel], problems: list[Problem]) -> list:
    name = _sheet_name(path)
    if name not in wb.sheetnames:
        return []
    text = _sheet_csv(wb[name])
    if not text.strip():
        return []
    recs = read_table(text, f"{file}[{name}]", model, problems)
    return [r.model_dump(mode="json", exclude_unset=True) for r in recs]


def _settings_problems(err: ValidationError, file: str, where: dict[str, int],
                       rsheets: dict[str, type[BaseModel]]) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = [str(x) for x in e["loc"]]
        # a record sheet: loc = path..., index, field
        for path in rsheets:
            parts = path.split(".")
            if loc == parts and e["type"] == "missing":
                out.append(Problem(file, "sheet", _sheet_name(path),
                                   f"required sheet '{_sheet_name(path)}' not found"))
                break
            if loc[:len(parts)] == parts and len(loc) > len(parts) and loc[len(parts)].isdigit():
                row = int(loc[len(parts)]) + 2
                field = ".".join(loc[len(parts) + 1:])
                out.append(Problem(f"{file}[{_sheet_name(path)}]", f"row {row}, field '{field}'",
                                   e.get("input"), e["msg"]))
                break
        else:
            key = ".".join(loc)
            row = where.get(key)
            msg = "required setting is missing" if e["type"] == "missing" else e["msg"]
            out.append(Problem(f"{file}[{SETTINGS_SHEET}]",
                               f"row {row}, field '{key}'" if row else f"field '{key}'",
                               None if e["type"] == "missing" else e.get("input"), msg))
    return out


def load_workbook_instance(path: str | Path) -> Instance:
    """Load and validate an instance workbook written by :func:`write_template` (or by hand)."""
    from openpyxl import load_workbook

    path = Path(path)
    file = path.name
    if not path.is_file():
        raise InstanceError([Problem(file, "file", str(path), "no such workbook")])
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zip/xml errors: not a workbook
        raise InstanceError([Problem(file, "file", str(path), f"not an .xlsx workbook ({e})")]) from None
    try:
        problems: list[Problem] = []
        data, where = _read_settings(wb, file, problems)
        rsheets = _record_sheets(InstanceSettings)
        for rpath, model in rsheets.items():
            recs = _read_records(wb, file, rpath, model, problems)
            if recs or _sheet_name(rpath) in wb.sheetnames:
                _set_path(data, rpath, recs)
        settings = None
        if SETTINGS_SHEET in wb.sheetnames:
            try:
                settings = InstanceSettings.model_validate(data)
            except ValidationError as err:
                problems.extend(_settings_problems(err, file, where, rsheets))
        tables: dict[str, list] = {}
        for key, (csv_file, model, required) in TABLES.items():
            sheet = TABLE_SHEETS[key]
            if sheet not in wb.sheetnames:
                if required:
                    problems.append(Problem(file, "sheet", sheet, f"required sheet '{sheet}' not found"))
                tables[key] = []
                continue
            text = _sheet_csv(wb[sheet])
            tables[key] = read_table(text, f"{file}[{sheet}]", model, problems)
    finally:
        wb.close()
    if problems:
        raise InstanceError(problems)
    try:
        return build_instance(settings, tables)
    except InstanceError as e:
        # cross-reference problems name the CSV file: name the sheet instead
        sheet_of = {f: TABLE_SHEETS[k] for k, (f, _, _) in TABLES.items()}
        sheet_of["instance.yaml"] = SETTINGS_SHEET
        raise InstanceError([Problem(f"{file}[{sheet_of[p.file]}]" if p.file in sheet_of else p.file,
                                     p.where, p.value, p.message) for p in e.problems]) from None


# --------------------------------------------------------------------------- results workbook
MONEY_FORMAT = "#,##0.0"
SMALL_FORMAT = "#,##0.000"


def _number_format(col: str) -> str:
    if col.endswith("_gbp_m"):
        return MONEY_FORMAT
    if col in ("shadow_price", "slack", "gain", "value", "baseline_value", "discounted_value",
               "psnfl_pct_gdp", "pie_share", "pie_share_floor"):
        return SMALL_FORMAT
    return "General"


def _write_frame(wb, title: str, df) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(_sheet_name(title))
    cols = [str(c) for c in df.columns]
    ws.append(cols)
    for c in ws[1]:
        c.font, c.fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
    for rec in df.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and v != v) else
                   (v.item() if hasattr(v, "item") else v) for v in rec])
    for j, c in enumerate(cols, start=1):
        letter = get_column_letter(j)
        fmt = _number_format(c)
        if fmt != "General":
            for cell in ws[letter][1:]:
                cell.number_format = fmt
        ws.column_dimensions[letter].width = max(10, min(50, len(c) + 3))
    ws.freeze_panes = "A2"
    if len(df):
        ws.auto_filter.ref = ws.dimensions


def write_results_workbook(result, path: str | Path) -> Path:
    """One sheet per results table (formatted numbers, frozen headers) plus a summary sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    ws.append(["item", "value"])
    for c in ws[1]:
        c.font = Font(bold=True)
    s = result.summary_dict() if hasattr(result, "summary_dict") else dict(result)
    rows = [("instance", s.get("instance")), ("status", s.get("status")),
            ("objective", s.get("objective")), ("objective_in_horizon", s.get("objective_in_horizon")),
            ("objective_terminal", s.get("objective_terminal")), ("objective_unit", s.get("objective_unit")),
            ("instance_sha256", s.get("instance_sha256")), ("message", s.get("message"))]
    solver = s.get("solver") or {}
    rows += [("solver", f"{solver.get('name')} {solver.get('version')}"), ("command", s.get("command"))]
    for k, v in rows:
        ws.append([k, v])
    for r in (4, 5, 6):
        ws.cell(row=r, column=2).number_format = MONEY_FORMAT
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 90
    ws.freeze_panes = "A2"
    tables = result.tables if hasattr(result, "tables") else {}
    for name in ("allocations", "departments", "missions", "metrics", "fiscal", "shadow_prices"):
        if name in tables and (name != "metrics" or len(tables[name])):
            _write_frame(wb, name, tables[name])
    written = {n: tables[n] for n in ("allocations", "departments", "missions", "metrics", "fiscal",
                                      "shadow_prices")
               if n in tables and (n != "metrics" or len(tables[n]))}
    if "allocations" in tables and "departments" in tables:
        from allocator.impact import department_by_year

        written["department_by_year"] = department_by_year(tables)
        _write_frame(wb, "department_by_year", written["department_by_year"])
    binding = getattr(result, "binding", None)
    if binding is not None and len(binding):
        _write_frame(wb, "binding", binding)
        written["binding"] = binding
    expl = getattr(result, "explanation", None)
    if expl is not None:
        _write_frame(wb, "infeasibility", expl.relaxations)
        written["infeasibility"] = expl.relaxations
    _write_frame(wb, "columns", _columns_sheet(written))
    return _save_atomic(wb, Path(path))


def _columns_sheet(tables: dict):
    """The data dictionary (allocator/dictionary.py) for every column of the workbook's sheets."""
    import pandas as pd

    from allocator.dictionary import lookup

    rows = [("summary", c, *(lambda x: (x.meaning, x.unit, x.sign))(lookup("solve", "summary_sheet", c)))
            for c in ("item", "value")]
    for name, df in tables.items():
        for c in df.columns:
            col = lookup("solve", name, str(c))
            rows.append((name, str(c), col.meaning if col else "", col.unit if col else "",
                         col.sign if col else ""))
    return pd.DataFrame(rows, columns=["table", "column", "meaning", "unit", "sign"])
