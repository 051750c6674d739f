"""The console script: the process around a command. The command runs in a
child process with a time and memory budget (see budget.py); --help,
--version, completion and the repl do not."""

from __future__ import annotations

import contextlib
import gc
import os
import sys

import typer

from ..errors import BudgetError, ExitCode
from .app import app
from .group import GradcalcGroup
from .output import finish_output
from .report import report
from .streams import standard_streams


def main() -> None:
    """The console script: the command runs in a child process with a time and
    memory budget (see budget.py); --help, --version and completion do not."""
    import signal

    from .. import forking, threads

    threads.serial_blas()  # before anything imports numpy

    # A closed pipe ends the run at once, quietly, as for any Unix filter.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    closed = standard_streams()
    args = sys.argv[1:]
    if "stdout" in closed or sys.stdout is None:
        sys.stderr.write("gradcalc: error: cannot write the output: standard output is closed\n")
        sys.stderr.flush()
        os._exit(ExitCode.OUTPUT)
    light = (
        not args
        or args[0] == "repl"  # a session: each answer gets its own budget (session.py)
        or any(a in ("--help", "-h", "--version", "-V") for a in args)
        or (os.environ.get("_GRADCALC_COMPLETE"))
        or forking.hazard() is not None  # main() called where a fork is unsafe: here, unbudgeted
    )
    from .. import budget

    if light:
        # Imported with the collector off (gradcalc.console): what was
        # imported is frozen, never walked again, and collecting resumes.
        gc.freeze()
        gc.enable()
        if args[:1] != ["repl"]:  # a session writes each answer as it comes
            budget.hold()  # so that a failed write is seen, at release (in GradcalcGroup.main)
        app()
        return

    def overrun(message: str) -> int:
        group = typer.main.get_command(app)
        machine = isinstance(group, GradcalcGroup) and group.machine(args)
        return report(BudgetError.kind, message, BudgetError.exit_code, machine)

    def signalled(message: str, code: int) -> int:
        if code == ExitCode.INTERRUPTED:
            sys.stderr.write(f"gradcalc: {message}\n")
            return code
        group = typer.main.get_command(app)
        machine = isinstance(group, GradcalcGroup) and group.machine(args)
        kind = "internal" if code == ExitCode.INTERNAL else "killed"
        return report(kind, message, code, machine)

    def work() -> int:
        try:
            app()
        except SystemExit as stop:
            return stop.code if isinstance(stop.code, int) else 0
        return 0

    code = budget.run(work, on_overrun=overrun, on_signal=signalled)
    code = finish_output(code)
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    # The child did the work and has exited; tearing down the parent's
    # modules (Typer's) would only add to the wait.
    os._exit(code)
