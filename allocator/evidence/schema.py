"""The evidence file (``evidence.yaml``): uncertain parameters of an instance.

The cycles simulation already owns an ``uncertainty:`` section (economic paths); evidence
uncertainty (effect sizes, lags, weights) is a separate file, ``evidence.yaml`` beside
``instance.yaml`` (or any file given with ``--evidence``), validated here. Every value
drawn is a *factor* on the instance's own figure (1.0 = the instance), except
``persistence``, whose value ρ multiplies the lag-k weight by ρ^k (1.0 = the instance).

A bad value raises :class:`allocator.errors.InstanceError` naming the file, the field
(``parameters[3].distribution.sd``) and the value; unknown keys are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
import yaml
from pydantic import Field, ValidationError, model_validator

from allocator.errors import InstanceError, Problem
from allocator.schema import Instance, Strict

KINDS = ("effect_size", "mission_weight", "lag_scale", "persistence")


class Normal(Strict):
    type: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)


class LogNormal(Strict):
    """Log-normal with the given arithmetic mean and standard deviation (of the factor)."""

    type: Literal["lognormal"]
    mean: float = Field(gt=0)
    sd: float = Field(gt=0)


class Beta(Strict):
    """Beta(alpha, beta) stretched onto [low, high]."""

    type: Literal["beta"]
    alpha: float = Field(gt=0)
    beta: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _order(self) -> "Beta":
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class Triangular(Strict):
    type: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> "Triangular":
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(f"need low <= mode <= high and low < high, got {self.low}, "
                             f"{self.mode}, {self.high}")
        return self


class Range(Strict):
    """A range as published ("between 0.5 and 1.5"), read as a stated distribution:
    ``uniform`` on [low, high]; ``triangular`` with its mode mid-way; ``normal_90`` /
    ``lognormal_90``: low and high are the 5th and 95th percentiles."""

    type: Literal["range"]
    low: float
    high: float
    read_as: Literal["uniform", "triangular", "normal_90", "lognormal_90"]

    @model_validator(mode="after")
    def _order(self) -> "Range":
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.read_as == "lognormal_90" and self.low <= 0:
            raise ValueError(f"lognormal_90 needs low > 0, got {self.low}")
        return self


Distribution = Annotated[Union[Normal, LogNormal, Beta, Triangular, Range],
                         Field(discriminator="type")]


class Selection(Strict):
    """What a parameter applies to; lists combine with AND across keys (OR within one)."""

    programmes: list[str] | None = None
    departments: list[str] | None = Field(None, description="programmes whose lead (first-listed) owner is one of these")
    missions: list[str] | None = None
    segments: list[int] | None = Field(None, description="segment numbers (1 = first)")
    lag_profiles: list[str] | None = None


class Parameter(Strict):
    id: str = Field(min_length=1)
    kind: Literal["effect_size", "mission_weight", "lag_scale", "persistence"]
    select: Selection
    distribution: Distribution
    group: str | None = Field(None, description="correlation group (default: its own group)")
    source: str | None = None
    assumption: str | None = None

    @model_validator(mode="after")
    def _provenance(self) -> "Parameter":
        if not (self.source or self.assumption):
            raise ValueError("give a source or a labelled assumption (source: or assumption:)")
        return self


class Group(Strict):
    id: str = Field(min_length=1)
    correlation: float = Field(0.0, gt=-1, lt=1, description="pairwise correlation (Gaussian copula)")
    description: str = ""


class Evidence(Strict):
    title: str = ""
    groups: list[Group] = Field(default_factory=list)
    parameters: list[Parameter] = Field(min_length=1)

    def group_of(self) -> dict[str, list[int]]:
        """Group id → indices of its parameters, in file order (ungrouped: own group)."""
        out: dict[str, list[int]] = {}
        for i, p in enumerate(self.parameters):
            out.setdefault(p.group or p.id, []).append(i)
        return out

    def correlation(self, group: str) -> float:
        for g in self.groups:
            if g.id == group:
                return g.correlation
        return 0.0


_ALLOWED = {"effect_size": {"programmes", "departments", "missions", "segments", "lag_profiles"},
            "mission_weight": {"missions"},
            "lag_scale": {"lag_profiles", "programmes", "departments"},
            "persistence": {"lag_profiles", "programmes", "departments"}}


def check_evidence(ev: Evidence, instance: Instance, file: str) -> None:
    """References to the instance and group rules; raises InstanceError listing every problem."""
    probs: list[Problem] = []
    ids = {
        "programmes": {p.id for p in instance.programmes},
        "departments": {d.id for d in instance.departments},
        "missions": {m.id for m in instance.settings.missions},
        "lag_profiles": {lw.profile for lw in instance.lag_profiles},
        "segments": {s.segment for s in instance.segments},
    }
    seen = set()
    for i, p in enumerate(ev.parameters):
        if p.id in seen:
            probs.append(Problem(file, f"field 'parameters[{i}].id'", p.id, "duplicate parameter id"))
        seen.add(p.id)
        used = {k for k, v in p.select.model_dump().items() if v is not None}
        if not used:
            probs.append(Problem(file, f"field 'parameters[{i}].select'", {}, "select at least one "
                                 f"of {sorted(_ALLOWED[p.kind])}"))
        for k in sorted(used - _ALLOWED[p.kind]):
            probs.append(Problem(file, f"field 'parameters[{i}].select.{k}'", getattr(p.select, k),
                                 f"not used by kind {p.kind!r} (allowed: {sorted(_ALLOWED[p.kind])})"))
        for k in sorted(used & _ALLOWED[p.kind]):
            vals = getattr(p.select, k)
            bad = [v for v in vals if v not in ids[k]]
            if bad or not vals:
                probs.append(Problem(file, f"field 'parameters[{i}].select.{k}'", bad or vals,
                                     f"unknown {k.rstrip('s').replace('_', ' ')} id(s) in the instance"
                                     if bad else "empty list"))
        if p.kind == "persistence" and _support_low(p.distribution) < 0:
            probs.append(Problem(file, f"field 'parameters[{i}].distribution'",
                                 p.distribution.model_dump(), "a persistence rate cannot be "
                                 "negative; use beta, lognormal, triangular or a range with low >= 0"))
    gids = [g.id for g in ev.groups]
    for j, g in enumerate(ev.groups):
        if gids.count(g.id) > 1:
            probs.append(Problem(file, f"field 'groups[{j}].id'", g.id, "duplicate group id"))
    known = set(gids)
    for i, p in enumerate(ev.parameters):
        if p.group is not None and p.group not in known:
            probs.append(Problem(file, f"field 'parameters[{i}].group'", p.group,
                                 f"not declared under groups: (declared: {sorted(known)})"))
    for j, g in enumerate(ev.groups):
        k = sum(1 for p in ev.parameters if p.group == g.id)
        if k == 0:
            probs.append(Problem(file, f"field 'groups[{j}].id'", g.id, "no parameter is in this group"))
        elif k > 1 and g.correlation <= -1.0 / (k - 1):
            probs.append(Problem(file, f"field 'groups[{j}].correlation'", g.correlation,
                                 f"with {k} parameters the correlation must exceed {-1 / (k - 1):.4g} "
                                 "(positive-definite)"))
    if probs:
        raise InstanceError(probs)


def _support_low(d) -> float:
    if isinstance(d, (LogNormal,)):
        return 0.0
    if isinstance(d, Normal):
        return -np.inf
    if isinstance(d, Range) and d.read_as == "normal_90":
        return -np.inf
    return float(d.low)


def parse_evidence(data, file: str, instance: Instance | None = None) -> Evidence:
    if not isinstance(data, dict):
        raise InstanceError([Problem(file, "file", type(data).__name__,
                                     "expected a mapping with 'parameters:' (and 'groups:')")])
    try:
        ev = Evidence.model_validate(data)
    except ValidationError as err:
        probs = []
        for e in err.errors():
            loc = [x for x in e["loc"] if x not in ("normal", "lognormal", "beta", "triangular", "range")]
            field = ""
            for x in loc:
                field += f"[{x}]" if isinstance(x, int) else (f".{x}" if field else str(x))
            msg = "unknown field" if e["type"] == "extra_forbidden" else e["msg"]
            probs.append(Problem(file, f"field '{field}'", e.get("input"), msg))
        raise InstanceError(probs) from None
    if instance is not None:
        check_evidence(ev, instance, file)
    return ev


def load_evidence(path: str | Path, instance: Instance | None = None) -> Evidence:
    """Read and validate an evidence YAML file (safe_load); errors name file, field and value."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InstanceError([Problem(file, "file", str(path), f"cannot read: {e.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        raise InstanceError([Problem(file, where, getattr(e, "problem", str(e)), "not valid YAML")]) \
            from None
    return parse_evidence(data, file, instance)


def as_evidence(evidence, instance: Instance | None = None) -> Evidence:
    """Accept an :class:`Evidence`, a path or a mapping."""
    if isinstance(evidence, Evidence):
        if instance is not None:
            check_evidence(evidence, instance, "evidence")
        return evidence
    if isinstance(evidence, (str, Path)):
        return load_evidence(evidence, instance)
    return parse_evidence(evidence, "evidence", instance)
