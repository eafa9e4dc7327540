"""Load an instance folder (``instance.yaml`` + CSV tables) into :class:`Instance`.

YAML is read with a bounded safe loader only (no code execution; on libyaml's C parser where
PyYAML has it, see :func:`load_yaml`); CSVs with the standard
library so that every cell's raw text is available for error messages. Every problem is
collected and raised together as :class:`InstanceError`, naming file, row, field and value.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from allocator.errors import InstanceError, Problem
from allocator.schema import (BarnettFactor, CommittedPath, Department, FiscalYear, GroupLimit,
                              Instance, InstanceSettings, InvestToSave, LagWeight, Pressure,
                              Programme, ProgrammeGroup, ProgrammeRatio, Resource, ResourceLimit,
                              ResourceUse, Segment, SettledLimit)

#: table name -> (file name, row model, required? )
TABLES: dict[str, tuple[str, type[BaseModel], bool]] = {
    "departments": ("departments.csv", Department, True),
    "programmes": ("programmes.csv", Programme, True),
    "segments": ("segments.csv", Segment, False),
    "lag_profiles": ("lags.csv", LagWeight, True),
    "fiscal": ("fiscal.csv", FiscalYear, True),  # optional in budget mode
    "resources": ("resources.csv", Resource, False),
    "resource_limits": ("resource_limits.csv", ResourceLimit, False),
    "resource_use": ("resource_use.csv", ResourceUse, False),
    "groups": ("groups.csv", GroupLimit, False),
    "group_members": ("group_members.csv", ProgrammeGroup, False),
    "ratios": ("ratios.csv", ProgrammeRatio, False),
    "pressures": ("pressures.csv", Pressure, False),
    "invest_to_save": ("invest_to_save.csv", InvestToSave, False),
    "barnett": ("barnett.csv", BarnettFactor, False),
    "settled": ("settled.csv", SettledLimit, False),
    "committed": ("committed.csv", CommittedPath, False),
}
MAX_FILE_BYTES = 200 * 1024 * 1024
# bounds that keep a hostile or mistaken file from exhausting memory (clear errors instead)
MAX_YAML_BYTES = 4 * 1024 * 1024
MAX_YAML_DEPTH = 50
MAX_YAML_NODES = 200_000
# (sized for national-to-local instances: 52,000 programmes have ~520,000 segment rows)
MAX_TABLE_ROWS = 2_000_000
MAX_TABLE_CELLS = 20_000_000


class _NoDuplicateKeys:
    """Constructor part shared by both loaders: duplicate mapping keys are refused."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                dup = key in seen
            except TypeError:
                dup = False
            if dup:
                from yaml.constructor import ConstructorError

                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            try:
                seen.add(key)
            except TypeError:
                pass
        return super().construct_mapping(node, deep=deep)


class _BoundedSafeLoader(_NoDuplicateKeys, yaml.SafeLoader):
    """PyYAML's safe loader (no code, no Python tags) that also refuses aliases (YAML
    bombs), nesting deeper than MAX_YAML_DEPTH, more than MAX_YAML_NODES nodes, and
    duplicate keys (a silently overridden setting is a typo hazard)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def _refuse(self, problem: str):
        from yaml.composer import ComposerError

        raise ComposerError(None, None, problem, self.peek_event().start_mark)

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._refuse("YAML aliases (*name) are not allowed in input files; write the "
                         "value out in full")
        if getattr(self.peek_event(), "anchor", None):
            self._refuse("YAML anchors (&name) are not allowed in input files; write the "
                         "value out in full")
        self._depth += 1
        self._nodes += 1
        if self._depth > MAX_YAML_DEPTH:
            self._refuse(f"nested more than {MAX_YAML_DEPTH} levels deep")
        if self._nodes > MAX_YAML_NODES:
            self._refuse(f"more than {MAX_YAML_NODES} values")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_CSafeLoader = getattr(yaml, "CSafeLoader", None)  # libyaml's parser, where PyYAML has it


class _BoundedCSafeLoader(_NoDuplicateKeys, _CSafeLoader or yaml.SafeLoader):
    """The same loader on libyaml's C parser (about 10× faster). Its composer is C code the
    bounds above cannot hook into, so :func:`_check_events` first applies the same refusals
    (aliases, anchors, depth, node count) to the event stream, in the same order and with
    the same messages; the C composer then only ever sees a stream within the bounds."""


class _Refused(yaml.composer.ComposerError):
    """A refusal of :func:`_check_events` (worded as _BoundedSafeLoader words it)."""


def _check_events(text: str) -> None:
    """Apply _BoundedSafeLoader.compose_node's refusals to the events of ``text`` (C parser)."""
    depth = nodes = 0
    for ev in yaml.parse(text, Loader=_CSafeLoader):
        if isinstance(ev, yaml.CollectionEndEvent):
            depth -= 1
            continue
        if not isinstance(ev, yaml.NodeEvent):
            continue
        problem = None
        if isinstance(ev, yaml.AliasEvent):
            problem = "YAML aliases (*name) are not allowed in input files; write the value out in full"
        elif getattr(ev, "anchor", None):
            problem = "YAML anchors (&name) are not allowed in input files; write the value out in full"
        elif depth + 1 > MAX_YAML_DEPTH:
            problem = f"nested more than {MAX_YAML_DEPTH} levels deep"
        elif nodes + 1 > MAX_YAML_NODES:
            problem = f"more than {MAX_YAML_NODES} values"
        if problem:
            raise _Refused(None, None, problem, ev.start_mark)
        nodes += 1
        if isinstance(ev, yaml.CollectionStartEvent):
            depth += 1


LIST_FIELDS = {"owners"}


def _loc(loc: tuple) -> str:
    return ".".join(str(x) for x in loc)


def _pydantic_problems(err: ValidationError, file: str, prefix: str, raw: dict | None,
                       model: type[BaseModel] | None = None) -> list[Problem]:
    out = []
    for e in err.errors():
        field = _loc(e["loc"])
        value = e.get("input")
        if raw is not None and e["loc"] and e["loc"][0] in raw:
            value = raw[e["loc"][0]]
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            from allocator.suggest import unknown_field_message

            msg = unknown_field_message(model, e["loc"]) if model is not None else "unknown field"
        elif e["type"] == "missing":
            msg = "required field is missing"
            value = None
        out.append(Problem(file, f"{prefix}field '{field}'" if field else prefix.rstrip(", "),
                           value, msg))
    return out


def _read_text(path: Path, file: str, problems: list[Problem]) -> str | None:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.append(Problem(file, "file", f"{path.stat().st_size} bytes",
                                    f"file is larger than {MAX_FILE_BYTES // 2**20} MiB"))
            return None
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        problems.append(Problem(file, "file", f"byte {e.start}", "not UTF-8 text"))
    except OSError as e:
        problems.append(Problem(file, "file", str(path), f"cannot read: {e.strerror}"))
    return None


def _coerce_cell(name: str, text: str) -> Any:
    if name in LIST_FIELDS:
        return [t.strip() for t in text.split(";") if t.strip()]
    return text


def read_table(text: str, file: str, model: type[BaseModel], problems: list[Problem]) -> list:
    """Parse CSV ``text`` into ``model`` rows; append a :class:`Problem` for every bad cell."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        fields = reader.fieldnames
    except csv.Error as e:
        problems.append(Problem(file, "header", None, f"not readable as CSV: {e}"))
        return []
    if not fields:
        problems.append(Problem(file, "header", "", "file is empty: a header row is required"))
        return []
    known = set(model.model_fields)
    cols = [c.strip() for c in fields]
    for c in cols:
        if c not in known:
            from allocator.suggest import did_you_mean

            problems.append(Problem(file, f"column '{c}'", c,
                                    f"unknown column{did_you_mean(c, known)}"))
    if len(set(cols)) != len(cols):
        problems.append(Problem(file, "header", cols, "a column name appears twice"))
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    missing = [n for n in required if n not in cols]
    for n in missing:
        problems.append(Problem(file, f"column '{n}'", None, "required column is missing"))
    if missing or any(c not in known for c in cols):
        return []
    rows = []
    records = iter(reader)
    lineno = 1
    while True:
        try:
            rec = next(records)
        except StopIteration:
            break
        except csv.Error as e:  # NUL bytes, a field over the csv module's size limit, ...
            problems.append(Problem(file, f"row {max(reader.line_num, lineno + 1)}", None,
                                    f"not readable as CSV: {e}"))
            return []
        lineno += 1
        if lineno - 1 > MAX_TABLE_ROWS or (lineno - 1) * len(cols) > MAX_TABLE_CELLS:
            problems.append(Problem(file, "file", f"more than {lineno - 2} rows",
                                    f"table too large: at most {MAX_TABLE_ROWS} rows and "
                                    f"{MAX_TABLE_CELLS} cells are accepted"))
            return []
        if None in rec:  # more cells than header columns
            problems.append(Problem(file, f"row {lineno}", rec[None], "more cells than columns"))
            continue
        raw = {k.strip(): (v.strip() if v is not None else "") for k, v in rec.items()}
        if not any(raw.values()):
            continue  # blank line
        data = {k: _coerce_cell(k, v) for k, v in raw.items() if v != ""}
        try:
            rows.append(model.model_validate(data))
        except ValidationError as err:
            problems.extend(_pydantic_problems(err, file, f"row {lineno}, ", raw))
    return rows


def _safe_child(folder: Path, name: str) -> Path:
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents:
        raise InstanceError([Problem(name, "path", str(path), "path escapes the instance folder")])
    return path


def load_yaml(text: str, file: str, error=InstanceError):
    """Parse YAML text with the bounded safe loader (no aliases or anchors, bounded size, depth
    and node count, duplicate keys refused); a problem raises ``error([Problem])`` naming the
    file, line and column. Every YAML input (instance.yaml, events files) is read this way."""
    if len(text) > MAX_YAML_BYTES:
        raise error([Problem(file, "file", f"{len(text)} characters",
                             f"larger than {MAX_YAML_BYTES // 2**20} MiB; YAML files hold "
                             "settings only (bulk data belongs in the CSV tables)")])
    try:
        if _CSafeLoader is not None:
            try:
                _check_events(text)
                return yaml.load(text, Loader=_BoundedCSafeLoader)  # noqa: S506 (safe, bounded)
            except _Refused:
                raise  # worded as the pure-Python loader words it
            except yaml.YAMLError:
                pass  # not valid YAML: the pure-Python loader below words the error as always
        return yaml.load(text, Loader=_BoundedSafeLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        raise error([Problem(file, where, getattr(e, "problem", str(e)), "not valid YAML")]) from None


def load_settings(text: str, file: str = "instance.yaml") -> InstanceSettings:
    problems: list[Problem] = []
    data = load_yaml(text, file)
    if not isinstance(data, dict):
        raise InstanceError([Problem(file, "top level", type(data).__name__,
                                     "must be a mapping of settings")])
    try:
        return InstanceSettings.model_validate(data)
    except ValidationError as err:
        problems.extend(_pydantic_problems(err, file, "", None, InstanceSettings))
        raise InstanceError(problems) from None


def load_instance(path: str | Path) -> Instance:
    """Load and validate an instance folder (or its ``instance.yaml``, or an ``.xlsx`` workbook)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from allocator.excel import load_workbook_instance

        return load_workbook_instance(path)
    folder = path.parent if path.is_file() else path
    if not folder.is_dir():
        raise InstanceError([Problem(str(path), "path", str(path), "no such instance folder")])
    problems: list[Problem] = []
    yaml_path = _safe_child(folder, "instance.yaml")
    if not yaml_path.is_file():
        raise InstanceError([Problem("instance.yaml", "file", str(folder), "instance.yaml not found")])
    text = _read_text(yaml_path, "instance.yaml", problems)
    settings = None
    if text is not None:
        try:
            settings = load_settings(text)
        except InstanceError as e:
            problems.extend(e.problems)
    tables: dict[str, list] = {}
    for key, (file, model, required) in TABLES.items():
        p = _safe_child(folder, file)
        if not p.is_file():
            if required and not (key == "fiscal" and settings is not None and settings.mode == "budget"):
                problems.append(Problem(file, "file", str(folder), "required table not found"))
            tables[key] = []
            continue
        t = _read_text(p, file, problems)
        tables[key] = read_table(t, file, model, problems) if t is not None else []
    if problems:
        raise InstanceError(problems)
    return build_instance(settings, tables)


def build_instance(settings: InstanceSettings, tables: dict[str, list]) -> Instance:
    """Assemble and cross-validate an :class:`Instance`; table-level errors name the file."""
    try:
        return Instance(settings=settings, **tables)
    except ValidationError as err:
        probs = []
        for e in err.errors():
            loc = e["loc"]
            if loc and loc[0] in TABLES:
                file = TABLES[loc[0]][0]
                probs.append(Problem(file, "table", None, f"{e['msg']}"))
            else:
                probs.append(Problem("instance", _loc(loc), e.get("input"), e["msg"]))
        raise InstanceError(probs) from None


_OPTIONAL_SINCE_RESOURCES = ("resources", "resource_limits", "resource_use", "groups",
                             "group_members", "ratios")


def instance_sha256(inst: Instance) -> str:
    """SHA-256 of the instance's canonical JSON: identical for equal instances however built."""
    data = inst.model_dump(mode="json")
    for key in _OPTIONAL_SINCE_RESOURCES:  # absent tables leave the hash of older instances as it was
        if data.get(key) == []:
            del data[key]
    for key in ("currency", "budget"):  # likewise the settings added for budget mode
        if data["settings"].get(key) is None:
            data["settings"].pop(key, None)
    for p in data.get("programmes", []):
        if p.get("activity_unit") is None:
            p.pop("activity_unit", None)
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
