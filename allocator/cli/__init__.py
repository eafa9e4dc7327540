"""Command-line interface (typer). Each command family lives in its own module.

Exit codes: 0 success (optimal); 1 invalid input or usage; 2 no plan (infeasible,
unbounded, solver failure); 3 a plan that is not proven optimal (time/iteration limit);
130 interrupted.
"""

from __future__ import annotations

import gc
import sys

import typer

from allocator.errors import AllocatorError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Mission-led Spending Review allocation engine.")

EXIT_OK, EXIT_INPUT, EXIT_NO_PLAN, EXIT_NOT_OPTIMAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

from . import solve_cmds  # noqa: E402,F401  (registers commands)
from . import tools_cmds  # noqa: E402,F401  (template, report, appraise, diff)
from . import sensitivity_cmds  # noqa: E402,F401
from . import reliability_cmds  # noqa: E402,F401
from . import cycles_cmds  # noqa: E402,F401
from . import statement_cmds  # noqa: E402,F401  (mission impact statement)
from . import uncertainty_cmds  # noqa: E402,F401
from . import levers_cmds  # noqa: E402,F401


# commands that build and solve a model: their solver stack is imported before dispatch
SOLVING_COMMANDS = frozenset({"solve", "validate", "export", "appraise", "verify", "cycles",
                              "sensitivity", "uncertainty", "levers", "statement", "template"})


def preload(args: list[str]) -> None:
    """Import the solver stack (numpy, pandas, scipy.sparse, pydantic schema, highspy, the
    model) with the cyclic garbage collector off, then freeze what the imports made.

    Module imports create only long-lived objects (about 0.3 million for this stack), and
    each full collection during the run would scan them all again: 0.1-0.2 s CPU of the
    0.9-1.1 s of ``allocator solve`` on the default. Frozen objects (``gc.freeze``) are
    never scanned; the collector runs as usual for everything the command creates. Only
    for a command in :data:`SOLVING_COMMANDS` (``--help`` and the reading commands do not
    pay for the solver stack)."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in SOLVING_COMMANDS:
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        import allocator.api  # noqa: F401
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def main() -> None:
    """Console entry point: user mistakes become one clear message and exit code 1."""
    from allocator.cli.common import err_console

    preload(sys.argv[1:])
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except AllocatorError as e:
        # soft_wrap: a long path or value is never broken across lines
        err_console.print(f"[bold red]error:[/] {e}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(EXIT_INPUT)
    except KeyboardInterrupt:
        err_console.print("interrupted", style="yellow")
        sys.exit(EXIT_INTERRUPTED)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except SystemExit:
        raise
    except OSError as e:  # a file we read or write: one message, never a traceback
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        err_console.print(f"[bold red]error:[/] {where}{e.strerror or e}", highlight=False,
                          markup=True, soft_wrap=True)
        sys.exit(EXIT_INPUT)
    except Exception as e:  # click usage errors (typer >= 0.20 vendors click as typer._click,
        # and the standalone click, when installed, is a different module: check both)
        aborts, usage = _click_exception_types()
        if isinstance(e, aborts):
            sys.exit(EXIT_INTERRUPTED)
        if isinstance(e, usage):
            e.show()
            sys.exit(EXIT_INPUT)
        raise


def _click_exception_types() -> tuple[tuple, tuple]:
    aborts, usage = [typer.Abort], []
    for mod in ("typer._click.exceptions", "typer._click", "click.exceptions", "click"):
        try:
            m = __import__(mod, fromlist=["ClickException"])
        except ImportError:
            continue
        for name, into in (("Abort", aborts), ("ClickException", usage)):
            if isinstance(getattr(m, name, None), type):
                into.append(getattr(m, name))
    return tuple(aborts), tuple(usage)
