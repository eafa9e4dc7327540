"""Did-you-mean suggestions for unknown keys and names in input files.

``unknown_field_message(model, loc)`` names the field a mistyped key most likely meant,
from the pydantic model that refused it (nested models, lists, dicts and tagged unions
are followed along the error's location).
"""

from __future__ import annotations

import difflib
import types
import typing

from pydantic import BaseModel


def did_you_mean(value: object, choices) -> str:
    """'; did you mean 'x'?' for the closest choice, or '; known: a, b, c' when none is close."""
    choices = sorted({str(c) for c in choices})
    if not choices:
        return ""
    close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"; known: {shown}"


def _models(annotation) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, list, dict, Union)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return _models(args[1])
    out: list[type[BaseModel]] = []
    if origin in (list, tuple, set, typing.Union, types.UnionType, typing.Annotated) or args:
        for a in args:
            out.extend(_models(a))
    return out


def fields_at(model: type[BaseModel], loc) -> list[str]:
    """Field names allowed at the location of an ``extra_forbidden`` error (``loc`` ends with
    the unknown key)."""
    candidates = [model]
    for part in list(loc)[:-1]:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for m in candidates:
            f = m.model_fields.get(str(part))
            if f is not None:
                nxt.extend(_models(f.annotation))
        if not nxt:  # a union tag (e.g. an event 'kind') or a dict key: keep the same models
            tagged = [m for m in candidates if any(
                str(part) in typing.get_args(fi.annotation) for fi in m.model_fields.values())]
            nxt = tagged or candidates
        candidates = nxt
    names: set[str] = set()
    for m in candidates:
        names.update(m.model_fields)
    return sorted(names)


def unknown_field_message(model: type[BaseModel], loc) -> str:
    key = list(loc)[-1] if loc else ""
    return "unknown field" + did_you_mean(key, fields_at(model, loc))
