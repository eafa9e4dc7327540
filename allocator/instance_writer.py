"""Write an in-memory :class:`Instance` as an instance folder: the inverse of ``load_instance``.

``write_instance(inst, folder, unit=...)`` writes instance.yaml and the CSV tables
atomically (the folder appears complete or not at all); with a ``unit`` other than £m,
every money figure is converted (the inverse of :func:`allocator.numerics.to_gbp_m`), so
the same economics can be typed in £m, £bn or £. Used by generators, converters and tests;
``load_instance(write_instance(inst, d))`` has the same SHA-256 as ``inst``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from allocator.io import TABLES
from allocator.output import results_folder
from allocator.numerics import _scale_tree, unit_factor
from allocator.schema import Instance


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ";".join(v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def instance_data(inst: Instance, unit: str = "gbp_m") -> dict:
    """The instance as plain data with money in ``unit`` (from an instance in £m)."""
    data = inst.model_dump(mode="json")  # plain Python numbers (no numpy scalars) for YAML
    if unit != "gbp_m":
        f = unit_factor(unit)
        data = _scale_tree(data, 1.0 / f, inst.settings.weights.kind == "monetised")
        data["settings"]["money_unit"] = unit
    return data


def write_instance(inst: Instance, folder: str | Path, unit: str = "gbp_m") -> Path:
    folder = Path(folder)
    data = instance_data(inst, unit)
    settings = {k: v for k, v in data["settings"].items() if v is not None}
    with results_folder(folder, "instance", instance_folder=True) as tmp:
        (tmp / "instance.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        for key, (file, model, _req) in TABLES.items():
            cols = list(model.model_fields)
            with open(tmp / file, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(cols)
                for row in data[key]:
                    w.writerow([_cell(row.get(c)) for c in cols])
    return folder
