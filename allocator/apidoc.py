"""The API reference, generated from the docstrings by pdoc (``pip install 'allocator[docs]'``).

    python -m allocator.apidoc docs/api          # writes docs/api/index.html and one page per module

:data:`COVERED` names every public entry point the reference must document and the module
whose page documents it; ``tests/test_apidoc.py`` builds the reference, fails on any pdoc
warning, checks that each covered name has its section with a docstring, and runs the
docstrings' examples as doctests. Docstrings are reStructuredText (``:class:`Result```,
``>>>`` examples).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

#: module documented -> names it must document (the public API)
COVERED: dict[str, list[str]] = {
    "allocator": ["solve", "load_instance", "Result", "Instance", "build", "compare_cycles",
                  "analyse_triggers", "stochastic_plan", "sweep"],
    "allocator.api": ["solve", "build"],
    "allocator.results": ["Result"],
    "allocator.schema": ["Instance"],
    "allocator.session": ["ModelSession"],
    "allocator.cycles": ["compare_cycles"],
    "allocator.sensitivity": ["analyse_triggers", "stochastic_plan", "sweep"],
    "allocator.appraise": ["appraise"],
    "allocator.statement": ["impact_statement", "write_statement"],
    "allocator.dictionary": ["lookup", "datapackage"],
    "allocator.models.constraints": [],  # the constraint families (the extension point)
}
#: the extension API (build → add_constraint → solve; one declaration per constraint family),
#: covered as soon as its modules exist
EXTENSION: dict[str, list[str]] = {
    "allocator.modelling": ["build", "Model", "Expression", "Constraint"],
    "allocator.models.family": ["Family", "Rows"],
}
for _module, _names in EXTENSION.items():
    import importlib.util as _util

    try:
        _found = _util.find_spec(_module) is not None
    except ModuleNotFoundError:
        _found = False
    if _found:
        COVERED[_module] = _names

#: modules whose docstring examples run as doctests (tests/test_apidoc.py)
DOCTESTED = ["allocator.api", "allocator.results", "allocator.schema", "allocator.session",
             "allocator.appraise", "allocator.cycles.compare", "allocator.sensitivity.replan",
             "allocator.sensitivity.stochastic", "allocator.sensitivity.sweep", "allocator.statement"]


def build(out: str | Path, modules: list[str] | None = None) -> list[str]:
    """Write the HTML reference of ``modules`` (default: :data:`COVERED`) into ``out``;
    return pdoc's warnings (empty when the docstrings are clean)."""
    import pdoc
    import pdoc.render

    pdoc.render.configure(docformat="restructuredtext", show_source=False, search=False,
                          footer_text="allocator API reference (generated from the docstrings)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*(modules or list(COVERED)), output_directory=Path(out))
    return [f"{w.category.__name__}: {w.message}" for w in caught]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0] if argv else "docs/api")
    problems = build(out)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"API reference written to {out}/index.html")
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
