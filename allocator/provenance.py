"""Provenance recorded with every result: instance hash, versions, solver, timings."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

PACKAGES = ("allocator", "highspy", "pyomo", "numpy", "pandas", "scipy", "pydantic", "joblib", "PyYAML")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def command_line() -> str:
    return " ".join(sys.argv)
