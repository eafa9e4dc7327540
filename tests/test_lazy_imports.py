"""`allocator solve` loads only what it uses (issue 16: an instant CLI).

Each check runs in a fresh interpreter (the test process has imported everything already)
and inspects ``sys.modules`` after the work: a behavioural test of the import graph, not a
timing.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# what the solve path never uses: plotting, Excel, distributed scheduling, parallel pools,
# the Pyomo back-end, and the engine's other commands' packages
NOT_ON_SOLVE_PATH = ("matplotlib", "openpyxl", "dask", "distributed", "joblib", "loky", "pyomo",
                     "rich.table", "rich.progress", "allocator.cycles", "allocator.sensitivity",
                     "allocator.evidence", "allocator.statement", "allocator.session",
                     "allocator.scenario_sweep", "allocator.parallel", "allocator.appraise",
                     "allocator.plots", "allocator.excel", "allocator.report", "allocator.levers")


def _modules_after(code: str) -> set[str]:
    """The module names loaded in a fresh interpreter after running ``code``."""
    wrapper = (code + "\nimport json, sys\n"
               "print('MODULES=' + json.dumps(sorted(sys.modules)))\n")
    p = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, cwd=ROOT,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    line = next(x for x in p.stdout.splitlines() if x.startswith("MODULES="))
    return set(json.loads(line[len("MODULES="):]))


def _loaded(mods: set[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in mods)


def test_import_allocator_is_lazy():
    mods = _modules_after("import allocator")
    for heavy in ("numpy", "pandas", "scipy", "highspy", "pydantic", "allocator.api"):
        assert not _loaded(mods, heavy), heavy


def test_public_names_still_import():
    mods = _modules_after("from allocator import compare_cycles, solve, Instance, sweep\n"
                          "import allocator\n"
                          "assert callable(allocator.run_uncertainty)\n"
                          "assert allocator.load_instance is allocator.io.load_instance\n"
                          "assert set(allocator.__all__) <= set(dir(allocator))\n"
                          "import allocator as a2\n"
                          "assert a2.tables.allocations")  # a submodule, as before
    assert _loaded(mods, "allocator.cycles") and _loaded(mods, "allocator.sensitivity")


def test_unknown_name_is_an_attribute_error():
    import allocator

    with pytest.raises(AttributeError, match="no_such_name"):
        allocator.no_such_name  # noqa: B018


def test_cli_import_loads_no_command_machinery():
    mods = _modules_after("import allocator.cli")
    for name in NOT_ON_SOLVE_PATH + ("allocator.api", "allocator.models", "pandas", "highspy"):
        assert not _loaded(mods, name), name


@pytest.mark.parametrize("args", [["solve", "instances/tiny", "--quiet"],
                                  ["solve", "instances/tiny", "--json"]])
def test_solve_path_loads_only_what_it_uses(args):
    code = ("import sys\n"
            f"sys.argv = ['allocator'] + {args!r}\n"
            "from allocator.cli import main\n"
            "try:\n"
            "    main()\n"
            "except SystemExit as e:\n"
            "    assert not e.code, e.code\n")
    mods = _modules_after(code)
    assert _loaded(mods, "highspy") and _loaded(mods, "allocator.checker")  # it did solve
    for name in NOT_ON_SOLVE_PATH:
        assert not _loaded(mods, name), f"{name} is imported on the solve path"


@pytest.mark.parametrize("args,expect_stack", [(["solve", "x", "--quiet"], True),
                                               (["--help"], False), (["report", "r"], False)])
def test_solver_stack_is_imported_with_the_collector_off_then_frozen(args, expect_stack):
    """A solving command imports the solver stack before dispatch with the cyclic collector
    off and freezes what the imports made (never scanned again); the collector is on again
    for the command's own work. Commands that do not solve import nothing ahead."""
    code = ("import gc, json, sys\nfrom allocator.cli import preload\n"
            f"preload({args!r})\n"
            "print('GC=' + json.dumps([gc.isenabled(), gc.get_freeze_count(), "
            "'allocator.api' in sys.modules, 'highspy' in sys.modules]))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    enabled, frozen, api, highs = json.loads(
        next(x for x in p.stdout.splitlines() if x.startswith("GC="))[3:])
    assert enabled
    assert api is highs is expect_stack
    assert (frozen > 100_000) is expect_stack  # the stack's objects, frozen
