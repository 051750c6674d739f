"""The Click group and command classes behind the Typer app: every way a run
can end is mapped to its exit code here, in one place, for the real CLI and
for CliRunner alike."""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from ..errors import BudgetError, ExitCode, GradcalcError, UsageError
from . import argv, startup
from .coercion import plain
from .output import ClosedPipe, finish_output, read_as
from .progress import stop_progress
from .report import caret, report, usage_hint
from .stack import deep


def exit_code(status: str) -> int:
    """A verdict's exit code: 0 agree, 1 disagree or a kink, 3 undefined."""
    from ..verdict import Status

    return {
        Status.AGREE: ExitCode.OK,
        Status.DISAGREE: ExitCode.DISAGREE,
        Status.KINK: ExitCode.DISAGREE,
        Status.UNDEFINED: ExitCode.UNDEFINED,
    }[status]


class GradcalcGroup(TyperGroup):
    """The app's group: rewrites the words an expression may start with,
    runs the command on a deep stack, and maps its end to an exit code."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> int:
        words = list(sys.argv[1:] if args is None else args)
        words = argv.protect_negative_expressions(words, self.commands, self.help_names)
        self._parsed: dict = {}  # the subcommand's options, once Click has parsed them
        code = finish_output(self._invoke(words, prog_name, complete_var, **extra))
        if standalone_mode:
            sys.exit(code)
        return code

    @property
    def help_names(self) -> list[str]:
        return list(self.context_settings.get("help_option_names", ["--help"]))

    def get_params(self, ctx: Any) -> list:
        return plain_help(super().get_params(ctx))

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is not None:
            plain_help(command.get_params(ctx))  # its --help option is made here, too
        return command

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:  # Click's Context (vendored by Typer: no public type to name)
        context = super().make_context(info_name, args, parent=parent, **extra)
        # Shared with the subcommand's context, which leaves its parsed
        # options there (GradcalcCommand.invoke) for the error report.
        self._parsed = context.meta.setdefault(startup.PARSED, {})
        return context

    def machine(self, args: list[str]) -> bool:
        """Does this run answer in a machine format (--json, --format json)?"""
        parsed = getattr(self, "_parsed", None) or {}
        return argv.asks_machine_format(args, parsed, self.commands, self.help_names)

    def _invoke(
        self, args: list[str], prog_name: str | None, complete_var: str | None, **extra: Any
    ) -> int:
        def work() -> Any:
            twice = argv.given_twice(args, self.commands, self.help_names)
            if twice is not None:
                raise UsageError(
                    f"{twice} is given more than once; it reads one source of points "
                    "(a second would silently replace the first)"
                )
            return super(GradcalcGroup, self).main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )

        try:
            with warnings.catch_warnings():
                # numpy's "invalid value encountered" and the like: the answer
                # says what is not finite, in one line.
                warnings.simplefilter("ignore", RuntimeWarning)
                # The repl stays in this thread (its prompt wants the main
                # thread); its answers get the deep stack in their own processes.
                result = work() if args[:1] == ["repl"] else deep(work)
            return int(result or 0)
        except (KeyboardInterrupt, typer.Abort):
            # The work runs in a thread (see stack.deep), which may be drawing a
            # progress bar: end it first, so the message has its own line.
            stop_progress()
            sys.stderr.write("gradcalc: interrupted\n")
            return ExitCode.INTERRUPTED
        except Exception as error:
            return self._failed(error, args)

    # An option named as the caller's syntax names it: the repl's session sets
    # {"at": "at"} for a bare expression, whose point is its `at` shortcut.
    option_spelling: dict[str, str] = {}  # noqa: RUF012 - replaced whole, never changed

    def _spell(self, option: str) -> str:
        return self.option_spelling.get(option) or "--" + option.replace("_", "-")

    def _failed(self, error: Exception, args: list[str]) -> int:
        """The exit code of a run that raised `error`, with its one-line report."""
        if isinstance(error, GradcalcError):
            machine = self.machine(args)
            return report(
                error.kind,
                error.worded(self._spell),
                int(error.exit_code),
                machine,
                getattr(error, "column", None),
                # A program reads `column`; the user's own frames (gradcalc
                # check) go to stderr either way.
                ("" if machine else caret(error)) + _frames(error),
            )
        if isinstance(error, RecursionError):
            message = "ran out of stack: the expression nests too deeply for this machine"
            return report(BudgetError.kind, message, BudgetError.exit_code, self.machine(args))
        if isinstance(error, MemoryError):
            message = "ran out of memory (the memory budget)"
            return report(BudgetError.kind, message, BudgetError.exit_code, self.machine(args))
        if isinstance(error, BrokenPipeError | ClosedPipe):
            return ExitCode.CLOSED_PIPE
        if hasattr(error, "format_message") and hasattr(error, "exit_code"):
            # Click's usage errors (vendored by Typer, so matched by shape).
            message = error.format_message()
            if not message:  # no arguments at all: help was already shown
                return ExitCode.INPUT
            hint = usage_hint(message, self.commands)
            return report("usage", hint, ExitCode.INPUT, self.machine(args))
        if os.environ.get("GRADCALC_DEBUG", "0") not in ("", "0"):
            raise error
        return report(
            "internal",
            f"internal error: {type(error).__name__}: {error} "
            "(a bug; set GRADCALC_DEBUG=1 for a traceback)",
            ExitCode.INTERNAL,
            self.machine(args),
        )


class GradcalcCommand(TyperCommand):
    """A command. app.py makes one class per command from its module:
    `engines(params)`, the modules it computes with (None: it computes
    nothing under a budget), and `prepare(params)`, checks to make before them."""

    engines: Callable[[dict], tuple[str, ...]] | None = None
    prepare: Callable[[dict], None] | None = None

    def invoke(self, ctx: Any) -> Any:
        # Click has parsed every option: from here an error knows the format.
        ctx.meta.setdefault(startup.PARSED, {}).update(ctx.params)
        read_as(None)  # (a repl's worker answers one command after another)
        if self.prepare is not None:
            self.prepare(ctx.params)
        if self.engines is not None:
            startup.start_computing(self.engines, ctx.params, ctx.meta)
        return super().invoke(ctx)


def _frames(error: GradcalcError) -> str:
    context = getattr(error, "context", None)
    return context() if callable(context) else ""


def plain_help(params: list) -> list:
    """Plain coercion (see coercion.py), and help without Typer's type
    labels: flags show no `<bool>`, arguments no `<str>`; and a required
    argument named in the usage line as Click names it (`EXPR`, not Typer's
    `{EXPR}`, which reads as a set of choices)."""
    for param in plain(params):
        if param.param_type_name == "argument" or getattr(param, "is_flag", False):
            param.display_type_rich = _no_type
        if param.param_type_name == "argument":
            param._usage_display_name = functools.partial(_usage_name, param)
    return params


def _usage_name(param: Any) -> str:
    name = param.display_name_raw if param.required else f"[{param.display_name_raw}]"
    return name + ("..." if param.nargs != 1 else "")


def _no_type(ctx: Any = None) -> None:
    return None
