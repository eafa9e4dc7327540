"""Command-line interface (typer). Each command family lives in its own module.

Exit codes: 0 success (optimal); 1 invalid input or usage; 2 no plan (infeasible,
unbounded, solver failure); 3 a plan that is not proven optimal (time/iteration limit);
130 interrupted.
"""

from __future__ import annotations

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


def main() -> None:
    """Console entry point: user mistakes become one clear message and exit code 1."""
    from allocator.cli.common import err_console

    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except AllocatorError as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False, markup=True)
        sys.exit(EXIT_INPUT)
    except KeyboardInterrupt:
        err_console.print("interrupted", style="yellow")
        sys.exit(EXIT_INTERRUPTED)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except SystemExit:
        raise
    except Exception as e:  # click usage errors
        try:
            from click import Abort, ClickException
        except ImportError:  # typer >= 0.20 vendors click as typer._click
            from typer import Abort
            from typer._click import ClickException

        if isinstance(e, Abort):
            sys.exit(EXIT_INTERRUPTED)
        if isinstance(e, ClickException):
            e.show()
            sys.exit(EXIT_INPUT)
        raise
