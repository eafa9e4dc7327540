"""Shared CLI helpers: consoles, instance argument resolution, JSON output."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def resolve_instance(path: Path | None) -> Path:
    """The instance to use: the given path, or the shipped default."""
    if path is None:
        from allocator.api import default_instance_path

        return Path(str(default_instance_path()))
    return path


def print_json(obj) -> None:
    """Strict JSON on stdout (NaN and ±inf as null)."""
    from allocator.output import json_text

    print(json_text(obj))
