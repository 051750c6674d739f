"""The command line: thin commands over the library.

Each command parses its options, calls the library, and chooses a view.
Errors raised below are mapped to exit codes in one place, `GradcalcGroup.main`.
Torch and SymPy are imported inside the commands, so `--help`, `--version`
and completion stay fast.
"""

from __future__ import annotations

import codecs
import contextlib
import itertools
import math
import os
import re
import shlex
import sys
from enum import Enum
from typing import Annotated

import typer
from typer.core import TyperCommand, TyperGroup

from . import __version__
from .budget import DEFAULT_SECONDS as DEFAULT_TIMEOUT
from .coercion import plain
from .errors import BudgetError, ExitCode, GradcalcError, OutputError, PointError, UsageError


class DType(str, Enum):
    float64 = "float64"
    float32 = "float32"


class Loss(str, Enum):
    bce = "bce"
    mse = "mse"
    ce = "ce"


class DiffFormat(str, Enum):
    """diff's output forms (besides --json): text, Markdown and LaTeX for one
    point or an explanation; csv for --points."""

    text = "text"
    markdown = "markdown"
    latex = "latex"
    csv = "csv"


# The --format values that write one point (or an explanation), not --points.
_ONE_POINT_FORMATS = (DiffFormat.markdown, DiffFormat.latex)


class GraphFormat(str, Enum):
    tree = "tree"
    dot = "dot"
    mermaid = "mermaid"
    json = "json"


MAX_MESSAGE = 1_000  # characters of an error message: input echoed in it is cut


def _printable(message: str) -> str:
    """One line, at most MAX_MESSAGE characters, control characters escaped:
    a message echoes input (an expression, a file name), which must neither
    flood the terminal nor drive it (ESC sequences)."""
    message = " ".join(str(message).split())
    message = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in message
    )
    if len(message) > MAX_MESSAGE:
        half = MAX_MESSAGE // 2 - 20
        cut = len(message) - 2 * half
        message = f"{message[:half]} …[{cut} characters cut]… {message[-half:]}"
    return message


def _report(
    error_kind: str, message: str, code: int, machine: bool, column=None, context: str = ""
) -> int:
    """One line on stderr (then `context`, e.g. a caret under the column);
    under a machine format (--json, --format json) also the error document
    on stdout (not when stdout itself is what failed)."""
    from .jsonout import dumps, error

    message = _printable(message)
    if machine and error_kind != OutputError.kind:
        with contextlib.suppress(OSError, ValueError):  # stdout may be what failed
            sys.stdout.write(dumps(error(error_kind, message, column)) + "\n")
    sys.stderr.write(f"gradcalc: error: {message}\n{context}")
    return code


def _caret(error) -> str:
    """The expression and a caret under the error's column (for a reader;
    JSON has `column`). Nothing for a long or multi-line expression."""
    column, text = getattr(error, "column", None), getattr(error, "text", None)
    if column is None or not text or len(text) > 200 or not text.isprintable():
        return ""
    return f"  {text}\n  {' ' * (column - 1)}^\n"


def _finish_output(code: int) -> int:
    """Write out what stdout holds and flush it: a write that fails is an
    error (one line, ExitCode.OUTPUT), never a silent success; a reader that
    went away ends the run quietly (ExitCode.CLOSED_PIPE)."""
    from . import budget

    try:
        budget.release()
    except BrokenPipeError:
        return ExitCode.CLOSED_PIPE
    except (OSError, ValueError) as failure:  # ValueError: a closed or unencodable stream
        sys.stderr.write(f"gradcalc: error: {_output_failure(failure).message}\n")
        return ExitCode.OUTPUT
    return code


def _output_failure(failure: Exception) -> GradcalcError:
    reason = getattr(failure, "strerror", None) or str(failure)
    return OutputError(f"cannot write the output: {reason}")


class _ClosedPipe(Exception):
    """The reader of stdout went away (raised instead of BrokenPipeError, an
    OSError that Click would turn into exit 1)."""


class _Writing:
    """Around a write to stdout: a failed write becomes OutputError, a closed
    pipe _ClosedPipe."""

    def __enter__(self):
        return self

    def __exit__(self, kind, failure, trace):
        if isinstance(failure, BrokenPipeError):
            raise _ClosedPipe() from None
        if isinstance(failure, OSError):
            raise _output_failure(failure) from None
        return False


RECURSION_LIMIT = 60_000  # SymPy differentiates and prints recursively
STACK_BYTES = 512 * 1024 * 1024  # the worker thread's stack, for that recursion


def _deep(work):
    """Run `work()` in a thread with a large stack and recursion limit, so that
    expressions nested to the parser's limit do not exhaust Python's stack.
    Exceptions are re-raised here; Ctrl-C in the main thread ends the run."""
    import threading

    outcome = {}

    def target():
        try:
            outcome["value"] = work()
        except BaseException as error:
            outcome["error"] = error

    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    previous = threading.stack_size(STACK_BYTES)
    try:
        worker = threading.Thread(target=target, daemon=True)
        worker.start()
    finally:
        threading.stack_size(previous)
    while worker.is_alive():
        worker.join(0.05)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# What an attached short-option value (-a3, -wx, -n2, -fdot) must look like
# for the word to be that option rather than an expression starting with a
# minus (-a*b, -w^2): a point, variable names, or a value of the option's type.
_ATTACHED = {
    "at": re.compile(r"[0-9.+(\[-].*|[A-Za-z]\w*=.*|(pi|e|E)([^\w].*)?"),
    "wrt": re.compile(r"[A-Za-z]\w*(,[A-Za-z]\w*)*"),
}


def _fits(param, value: str) -> bool:
    """Could `value` be `param`'s value, attached to its short name?"""
    if param.name in _ATTACHED:
        return _ATTACHED[param.name].fullmatch(value) is not None
    descriptor = param.type_descriptor
    if descriptor.choices:
        return value in [str(getattr(c, "value", c)) for c in descriptor.choices]
    if descriptor.annotation is int:
        return re.fullmatch(r"[0-9]+", value) is not None
    if descriptor.annotation is float:
        return re.fullmatch(r"[0-9.][0-9.eE+-]*", value) is not None
    return True


class GradcalcGroup(TyperGroup):
    """Maps every way a run can end to an exit code (SPEC §6), for the real
    CLI and for CliRunner alike."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = self._protect_negative_expressions(list(sys.argv[1:] if args is None else args))
        self._parsed = {}  # the subcommand's options, once Click has parsed them
        code = self._run(args, prog_name, complete_var, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def get_params(self, ctx):
        return _plain_help(super().get_params(ctx))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            _plain_help(command.get_params(ctx))  # its --help option is made here, too
        return command

    def make_context(self, info_name, args, parent=None, **extra):
        context = super().make_context(info_name, args, parent=parent, **extra)
        # Shared with the subcommand's context, which leaves its parsed
        # options there (GradcalcCommand.invoke) for the error report.
        self._parsed = context.meta.setdefault(PARSED, {})
        return context

    def options(self, name: str) -> dict:
        """Every spelling of every option of command `name` (help included) ->
        its parameter."""
        command = self.commands[name]
        table: dict = {}
        for param in command.params:
            if param.param_type_name == "option":
                for spelling in list(param.opts) + list(param.secondary_opts):
                    table[spelling] = param
        for spelling in self.context_settings.get("help_option_names", ["--help"]):
            table[spelling] = None  # a flag
        return table

    def _protect_negative_expressions(self, args: list) -> list:
        """An expression like '-x^2' is not an option: prefix it with a space
        (which the parser ignores) so Click takes it as the argument. A word
        is an option when it is one of the command's spellings, a long one
        with '=value', or a short one with an attached value that fits it
        (-a3, -n2, -fdot); anything else starting with '-' is an expression.
        When a command that takes an expression would get none, its first
        attached-value word is the expression after all (-wx alone is the
        expression -wx; beside x^2 it is --wrt x)."""
        if not args or args[0] not in self.commands:
            return args
        options = self.options(args[0])
        words, kinds, takes_value, rest = [args[0]], [""], False, []
        for position, word in enumerate(args[1:], start=1):
            if takes_value:  # the value of the option before, whatever it looks like
                kind, takes_value = "value", False
            elif word == "--":
                rest = args[position:]
                break
            else:
                kind = _option_kind(word, options)
                takes_value = kind == "takes value"
            words.append(word)
            kinds.append(kind)
        wants_argument = any(p.param_type_name == "argument" for p in self.commands[args[0]].params)
        no_argument = not rest and not {"argument", "expression"} & set(kinds)
        if wants_argument and no_argument and "attached" in kinds:
            kinds[kinds.index("attached")] = "expression"
        return [
            " " + word if kind == "expression" else word for word, kind in zip(words, kinds)
        ] + rest

    def _machine(self, args) -> bool:
        """Does this run answer in a machine format (--json, --format json)?
        Click's parse when it got that far; else (a usage error) the words,
        read with the command's own option table."""
        parsed = getattr(self, "_parsed", None)
        if parsed:
            return bool(parsed.get("json")) or _value(parsed.get("format")) == "json"
        if not args:
            return False
        options, machine = self.options(args[0]) if args[0] in self.commands else {}, False
        if "json" not in {getattr(p, "name", None) for p in options.values()}:
            # No such command, or one without --json (completion): asked for
            # JSON all the same, the error comes as JSON.
            return "--json" in (args[: args.index("--")] if "--" in args else args)
        words = iter(args[1:])
        for word in words:
            if word == "--":
                break
            name, _, attached = word.partition("=") if word.startswith("--") else (word, "", "")
            param = options.get(name)
            if param is None and word[:2] in options and not word.startswith("--"):
                name, attached, param = word[:2], word[2:], options[word[:2]]
            if param is None:
                continue
            if param.name == "json":
                machine = True
            elif param.name == "format":
                machine = (attached or next(words, "")) == "json"
            elif not (param.is_flag or attached):
                next(words, None)
        return machine

    def _run(self, args, prog_name, complete_var, **extra) -> int:
        return _finish_output(self._invoke(args, prog_name, complete_var, **extra))

    def _invoke(self, args, prog_name, complete_var, **extra) -> int:
        import warnings

        def work():
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
                result = work() if args[:1] == ["repl"] else _deep(work)
            return int(result or 0)
        except GradcalcError as error:
            machine = self._machine(args)
            return _report(
                error.kind,
                error.worded(lambda option: "--" + option.replace("_", "-")),
                int(error.exit_code),
                machine,
                getattr(error, "column", None),
                "" if machine else _caret(error),  # a program reads `column`
            )
        except (KeyboardInterrupt, typer.Abort):
            # The work runs in a thread (see _deep), which may be drawing a
            # progress bar: end it first, so the message has its own line.
            _stop_progress()
            sys.stderr.write("gradcalc: interrupted\n")
            return ExitCode.INTERRUPTED
        except RecursionError:
            return _report(
                BudgetError.kind,
                "ran out of stack: the expression nests too deeply for this machine",
                BudgetError.exit_code,
                self._machine(args),
            )
        except MemoryError:
            return _report(
                BudgetError.kind,
                "ran out of memory (the memory budget)",
                BudgetError.exit_code,
                self._machine(args),
            )
        except (BrokenPipeError, _ClosedPipe):
            return ExitCode.CLOSED_PIPE
        except Exception as error:
            if hasattr(error, "format_message") and hasattr(error, "exit_code"):
                # Click's usage errors (vendored by Typer, so matched by shape).
                message = error.format_message()
                if not message:  # no arguments at all: help was already shown
                    return ExitCode.INPUT
                return _report(
                    "usage",
                    _usage_hint(message, self.commands),
                    ExitCode.INPUT,
                    self._machine(args),
                )
            if os.environ.get("GRADCALC_DEBUG", "0") not in ("", "0"):
                raise
            return _report(
                "internal",
                f"internal error: {type(error).__name__}: {error} "
                "(a bug; set GRADCALC_DEBUG=1 for a traceback)",
                ExitCode.INTERNAL,
                self._machine(args),
            )


def _option_kind(word: str, options: dict) -> str:
    """'flag', 'takes value' (the next word is its value), 'has value'
    (--name=value), 'attached' (-a3), 'argument', or 'expression' (a word
    starting with '-' that is no option)."""
    if word.startswith("--"):
        name, equals, _ = word.partition("=")
        param = options.get(name)
        if equals or param is None:
            return "has value"  # an unknown --name gets Click's error
        return "flag" if param is None or param.is_flag else "takes value"
    if not word.startswith("-") or word == "-":
        return "argument"
    if word in options:
        param = options[word]
        return "flag" if param is None or param.is_flag else "takes value"
    param = options.get(word[:2])
    if param is not None and not param.is_flag and _fits(param, word[2:]):
        return "attached"
    return "expression"


def _value(choice):
    return getattr(choice, "value", choice)


PARSED = "gradcalc.parsed"  # key of Click's shared context meta


# What each command computes with: imported before its time budget starts,
# since start-up is not computing (budget.py). Modules imported later, on
# demand (SymPy, when SymEngine cannot do the job), count as computing.
_ENGINES = {
    "diff": ("torch",),
    "graph": ("torch",),
    "perceptron": ("torch",),
    "accumulate": ("torch",),
    "plot": ("numpy",),
}


def _engines(name: str, params: dict) -> tuple:
    if name != "diff":
        return _ENGINES.get(name, ())
    symbolic = ("sympy",) if _explaining(params) else ()  # explain.py works in SymPy
    if params.get("no_autograd") or (symbolic and not params.get("at")):
        return symbolic  # a symbolic explanation needs no torch
    if params.get("points") is not None:
        return ("sympy", "torch")
    return (*symbolic, "torch")


def _explaining(params: dict) -> bool:
    """diff --explain, --answer, --pretty or --format markdown|latex."""
    form = _value(params.get("output_format"))
    return bool(
        params.get("explain")
        or params.get("answer") is not None
        or params.get("pretty")
        or form in ("markdown", "latex")
    )


def _start_computing(name: str, params: dict) -> None:
    """The one place a command's time budget starts (a no-op outside a
    budgeted run): once the modules it computes with are imported."""
    import importlib

    from . import budget

    if name == "plot" and params.get("output"):
        from .render import image

        image.image_format(params["output"])  # a wrong name fails before the import
        image.prepare()
    engines = _engines(name, params) if _reads(params) else ()
    for module in engines:
        importlib.import_module(module)
    if "torch" in engines:
        _fit_threads(params)
    budget.computing()


def _reads(params: dict) -> bool:
    """Whether the expression parses and its --at points read (or it comes
    from stdin, or there is none): input that does not is reported before
    torch's second of importing. The command reads them again, and raises."""
    text = params.get("expression")
    if not isinstance(text, str) or text.strip() == "-":
        return True
    from .errors import GradcalcError
    from .parsing import parse

    try:
        variables = parse(text).variables
        if params.get("at"):
            from . import points

            points.resolve(list(params["at"]), variables)
            parse(text)  # the newest parse again, after the points' constants
    except GradcalcError:
        return False
    return True


def _fit_threads(params: dict) -> None:
    """torch's threads for the largest work this run hands it at once: a
    --points chunk, else one point (a vector of at most MAX_VECTOR)."""
    from . import threads
    from .batch import CHUNK
    from .points import MAX_VECTOR

    threads.fit(CHUNK if params.get("points") is not None else MAX_VECTOR)


class GradcalcCommand(TyperCommand):
    def invoke(self, ctx):
        # Click has parsed every option: from here an error knows the format.
        ctx.meta.setdefault(PARSED, {}).update(ctx.params)
        if self.name in _ENGINES:
            _start_computing(self.name, ctx.params)
        return super().invoke(ctx)


def _plain_help(params: list) -> list:
    """Plain coercion (see coercion.py), and help without Typer's type
    labels: flags show no `<bool>`, arguments no `<str>`."""
    for param in plain(params):
        if param.param_type_name == "argument" or getattr(param, "is_flag", False):
            param.display_type_rich = _no_type
    return params


def _no_type(ctx=None):
    return None


def _usage_hint(message: str, commands) -> str:
    """Click's message, with what to type instead when the mistake is a known one."""
    match = re.search(r"No such command '(.*?)'\.(?: Did you mean '(.*?)'\?)?", message)
    if match:
        word, close = match.groups()
        known = " (commands: " + ", ".join(sorted(commands)) + ")"
        if close:  # a typo of a command
            return f"no command {word!r}; did you mean {close!r}?{known}"
        return (
            f"no command {word!r}; to differentiate an expression, write: "
            f"gradcalc diff {shlex.quote(word)} --at ...{known}"
        )
    return message


app = typer.Typer(
    cls=GradcalcGroup,
    help="A gradient calculator you can trust: SymPy, torch autograd and finite "
    "differences, side by side.\n\nExit codes: 0 all methods agree; 1 they disagree, or "
    "the point is a kink; 2 bad input (also past a documented size limit); 3 undefined "
    "or not finite at the point, or past the time or memory budget; 130 interrupted; "
    "70 a bug.",
    epilog="Examples:\n\n"
    "gradcalc diff 'sin(x**2)' --at 3\n\n"
    "gradcalc graph 'x*y + sin(x)' --at x=1,y=2\n\n"
    "gradcalc perceptron --x 6.7 --y 0 --epochs 5",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _examples(*lines: str) -> str:
    """A help screen's closing examples, one paragraph each."""
    return "Examples:\n\n" + "\n\n".join(lines)


def _version(value: bool):
    if value:
        with _Writing():
            sys.stdout.write(f"gradcalc {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
):
    """A gradient calculator you can trust."""


# Options shared by the commands, declared once.
Expression = Annotated[
    str,
    typer.Argument(
        metavar="EXPR",
        help="The expression, e.g. 'sin(x**2)', 'x^2*y', '3(x+1)', 'mean(x**2)'; "
        "'-' reads it from stdin. See 'gradcalc functions'.",
        show_default=False,
    ),
]
At = Annotated[
    list[str] | None,
    typer.Option(
        "--at",
        "-a",
        metavar="POINT",
        help="The point: 3 (one variable), x=3,y=2, x=[1,2,3] (a vector); "
        "values may be constant expressions like pi/4. Repeatable.",
        show_default=False,
    ),
]
Wrt = Annotated[
    list[str] | None,
    typer.Option(
        "--wrt",
        "-w",
        metavar="NAMES",
        help="Differentiate with respect to these variables only "
        "(comma-separated or repeated). Default: all.",
        show_default=False,
    ),
]
DTypeOption = Annotated[
    DType,
    typer.Option(
        "--dtype",
        metavar="float64|float32",
        help="Precision of the autograd pass: float64 for a tight cross-check, "
        "float32 as PyTorch uses by default. Finite differences always use float64.",
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="Print one strict JSON document (see schemas/).")
]


def _digits(value: int | None) -> int | None:
    if value is None:
        return None  # importing the views (Rich) would cost --json 0.1 s
    from .render.numbers import MAX_DIGITS

    if not 1 <= value <= MAX_DIGITS:
        raise typer.BadParameter(f"must be a whole number from 1 to {MAX_DIGITS}")
    return value


def _digits_option(fitted: str = "") -> typer.models.OptionInfo:
    return typer.Option(
        "--digits",  # no short form: -d stays free for an expression like -d*x
        metavar="N",
        callback=_digits,
        help="Significant digits of the numbers shown, 1 to 17 (17: every digit of a "
        f"float64). Default 10{fitted}.",
        show_default=False,
    )


Digits = Annotated[int | None, _digits_option()]
FittedDigits = Annotated[int | None, _digits_option(", fewer when a table would not fit")]


def _budget_seconds(ctx: typer.Context, value: float) -> float:
    # The one reader of --timeout: the budget (budget.py) learns it here, after
    # Click has parsed the command line (the last --timeout wins, as for any
    # option), and tells the parent process that watches the clocks.
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter("must be a number of seconds, 0 or more (0: no budget)")
    from . import budget

    # Typer vendors Click: its ParameterSource is matched by name.
    source = ctx.get_parameter_source("timeout")
    given = getattr(source, "name", "DEFAULT") != "DEFAULT"
    budget.set_timeout(value, explicit=given)
    return value


def _timeout_option(rest: str) -> typer.models.OptionInfo:
    return typer.Option(
        "--timeout",
        metavar="SECONDS",
        callback=_budget_seconds,
        help="Time budget: seconds of CPU time for computing (0: none)" + rest,
        show_default=False,
    )


Timeout = Annotated[float, _timeout_option("; past it the run ends with exit 3. Default 5.")]
DiffTimeout = Annotated[
    float,
    _timeout_option(
        ", and at most as long waiting for --points input; past it the run ends with "
        "exit 3. Default 5, and for --points 5 per chunk of 50,000 points."
    ),
]


def _expression(text: str) -> str:
    """'-' reads the expression from stdin (one line, surrounding blanks dropped)."""
    if text == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise UsageError(
                    f"the expression on stdin is not UTF-8 text (byte {error.start + 1})"
                ) from None
        text = data.strip()
        if not text:
            raise UsageError("no expression on stdin (EXPR '-' reads it from there)")
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1:  # two expressions would read as their product
            raise UsageError(
                f"stdin holds {len(lines)} lines; EXPR '-' reads one expression "
                "(gradcalc repl answers one a line)"
            )
    elif text.startswith(" -"):
        text = text[1:]  # the blank _protect_negative_expressions put there
    return text


def _emit(document: dict) -> None:
    from .jsonout import dumps

    with _Writing():
        sys.stdout.write(dumps(document) + "\n")


def _write_bytes(chunks) -> None:
    """UTF-8 chunks to stdout: to its byte buffer when it has one (not a
    held-back StringIO, see budget.py)."""
    with _Writing():
        buffer = getattr(sys.stdout, "buffer", None)
        sys.stdout.flush()
        for chunk in chunks:
            if buffer is not None:
                buffer.write(chunk)
            else:
                sys.stdout.write(chunk.decode())


def _show(renderable) -> None:
    with _Writing():
        _print(renderable)


def _print(renderable) -> None:
    from rich.console import Console

    if os.environ.get("NO_COLOR"):
        # NO_COLOR: no colour and no other markup (bold, dim) either, even on a
        # terminal, whose width is still used.
        import shutil

        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        console = Console(highlight=False, emoji=False, force_terminal=False, width=width)
    else:
        # emoji=False: ":name:" in an expression or note is text, never an emoji.
        console = Console(highlight=False, emoji=False)
    if console.is_terminal:
        console.print(renderable)
        return
    # Piped: plain text, without the blanks Rich leaves where it wraps a line.
    with console.capture() as captured:
        console.print(renderable)
    sys.stdout.write("\n".join(line.rstrip() for line in captured.get().split("\n")))


def _exit_code(status: str) -> int:
    from .verdict import Status

    return {
        Status.AGREE: ExitCode.OK,
        Status.DISAGREE: ExitCode.DISAGREE,
        Status.KINK: ExitCode.DISAGREE,
        Status.UNDEFINED: ExitCode.UNDEFINED,
    }[status]


def _order(value: int) -> int:
    if not 1 <= value <= 4:
        raise typer.BadParameter(f"{value} is not an order gradcalc computes: 1, 2, 3 or 4")
    return value


@app.command(
    cls=GradcalcCommand,
    short_help="Derivative or gradient at a point, three ways, and whether they agree.",
    epilog=_examples(
        "gradcalc diff 'sin(x**2)' --at 3",
        "echo 'tanh(x)' | gradcalc diff - --at 0.5 --steps",
        """echo '{"x": 2}' | gradcalc diff 'x**3' --points - --format csv""",
    ),
)
def diff(
    expression: Expression,
    at: At = None,
    wrt: Wrt = None,
    order: Annotated[
        int,
        typer.Option(
            "--order",
            "-n",
            metavar="N",
            callback=_order,
            help="Derivative order, 1 to 4; 2 gives the Hessian.",
        ),
    ] = 1,
    dtype: DTypeOption = DType.float64,
    steps: Annotated[
        bool,
        typer.Option(
            "--steps",
            help="Write out the chain rule: named intermediates, local derivatives, products.",
        ),
    ] = False,
    graph: Annotated[
        bool, typer.Option("--graph", help="Show the computation graph tree under the table.")
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Show all of a large derivative, its steps and graph instead of eliding.",
        ),
    ] = False,
    no_autograd: Annotated[
        bool,
        typer.Option(
            "--no-autograd",
            help="Symbolic and finite differences only: never imports torch (faster start).",
        ),
    ] = False,
    plot: Annotated[
        bool,
        typer.Option(
            "--plot", help="Draw f, its tangent and f′ under the table (one variable: --wrt)."
        ),
    ] = False,
    digits: FittedDigits = None,
    timeout: DiffTimeout = DEFAULT_TIMEOUT,
    points: Annotated[
        str | None,
        typer.Option(
            "--points",
            metavar="FILE",
            help="Many points from a file ('-' for stdin): CSV with a header of "
            'variable names, or JSON Lines ({"x": 1} per line). Answered vectorized; with '
            "--json, one JSON object per line (NDJSON).",
            show_default=False,
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Derive it step by step as a textbook does, each rule named and each step "
            "checked against SymPy (no --at needed; a failed check exits 70).",
        ),
    ] = False,
    answer: Annotated[
        str | None,
        typer.Option(
            "--answer",
            metavar="EXPR",
            help="Check a derivative written by hand: exit 0 when it is right, 1 when wrong "
            "(with a point where it differs and the step it departs from).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        DiffFormat,
        typer.Option(
            "--format",  # no short form: -f stays free for an expression like -f*x
            metavar="text|markdown|latex|csv",
            help="text: the table (default); markdown ($...$ math) or latex (an align* "
            "environment) for the derivative and --explain; csv, with --points: one header "
            "line, then per point its input line, the point, f, each method's derivative "
            "(sympy:x, autograd:x, finite_difference:x per partial) and the status.",
        ),
    ] = DiffFormat.text,
    pretty: Annotated[
        bool,
        typer.Option("--pretty", help="Draw the derivative in SymPy's two-dimensional form."),
    ] = False,
    json: Json = False,
):
    """Derivative or gradient at a point, three ways (SymPy, torch autograd, finite
    differences), and whether they agree."""
    if expression == "-" and points == "-":
        raise UsageError("stdin can hold the expression or the points, not both")
    if output_format is DiffFormat.csv:
        if points is None:
            raise UsageError("--format csv writes one row per point: give --points FILE")
        if json:
            raise UsageError("--format csv and --json are two forms: choose one")
    expression = _expression(expression)
    if plot and order != 1:
        raise UsageError("--plot draws the first derivative: not with --order above 1")
    if json and (steps or graph or plot):
        raise UsageError(
            "--steps, --graph and --plot are text under the table: not with --json "
            "(graph --format json has the graph, plot --json the curves)"
        )
    if points is not None:
        if at:
            raise UsageError("give either --at or --points, not both")
        if steps or graph or no_autograd or plot:
            raise UsageError(
                "--steps, --graph, --plot and --no-autograd take one point (--at), not --points"
            )
        if explain or answer is not None or pretty or output_format in _ONE_POINT_FORMATS:
            raise UsageError(
                "--explain, --answer, --format markdown|latex and --pretty take one point "
                "(--at) or none, not --points"
            )
        form = "json" if json else output_format.value
        return _diff_many(expression, points, wrt, order, dtype.value, form, digits)
    if explain or answer is not None or pretty or output_format != DiffFormat.text:
        if steps or graph or plot:
            raise UsageError(
                "--steps, --graph and --plot are not shown with --explain, --answer, --format "
                "or --pretty: run them apart"
            )
        return _diff_explained(
            expression,
            at,
            wrt,
            order,
            dtype.value,
            full,
            no_autograd,
            explain,
            answer,
            output_format.value,
            pretty,
            digits,
            json,
        )
    from .check import differentiate

    result = differentiate(
        expression,
        at or [],
        wrt=wrt,
        order=order,
        dtype=dtype.value,
        full=full,
        autograd=not no_autograd,
    )
    if json:
        from .jsonout import diff as document

        _emit(document(result))
        return _exit_code(result.status)
    from rich.console import Group

    from .render.diff import view

    parts = [view(result, digits)]
    if (steps or graph) and no_autograd:
        raise UsageError("--steps and --graph show torch's graph: drop --no-autograd")
    from .jacobian import Jacobian

    if (steps or graph) and isinstance(result, Jacobian):
        raise UsageError(
            "--steps and --graph follow one output; this expression is vector-valued "
            "(its Jacobian is the answer): wrap it in sum(...) for the graph of the sum"
        )
    if steps or graph:
        from . import computation as graph_model

        model = graph_model.build(result.tree, result.point, dtype.value)
        if steps:
            from .render.steps import view as steps_view

            parts.append(steps_view(model, result.wrt, full, digits, order))
        if graph:
            from .render.graph import tree

            parts.append(tree(model, full, digits))
    drawn = _plot_text(result.tree, result.point, result.wrt, None, True, result) if plot else ""
    _show(Group(*parts))
    if drawn:
        sys.stdout.write("\n" + drawn)
    return _exit_code(result.status)


def _diff_explained(
    expression,
    at,
    wrt,
    order,
    dtype,
    full,
    no_autograd,
    explain,
    answer,
    output_format,
    pretty,
    digits,
    json,
) -> int:
    """diff --explain / --answer / --format / --pretty (gradcalc.explained)."""
    from .explained import run

    outcome = run(
        expression,
        at,
        wrt,
        order,
        dtype,
        explain=explain,
        answer=answer,
        form=output_format,
        pretty=pretty,
        full=full,
        autograd=not no_autograd,
        digits=digits,
        json=json,
        status_code=_exit_code,
    )
    if outcome.document is not None:
        _emit(outcome.document)
    elif outcome.text is not None:
        with _Writing():
            sys.stdout.write(outcome.text)
    else:
        _show(outcome.renderable)
    if outcome.failure:
        return _report("step_check", outcome.failure, outcome.code, False)
    return outcome.code


def _open_points(source: str):
    """The binary stream of --points (stdin for '-'), and the name for messages."""
    if source == "-":
        if sys.stdin is None:
            raise PointError("--points -: standard input is closed")
        return sys.stdin.buffer, "stdin"
    try:
        return open(source, "rb"), source
    except OSError as error:
        raise PointError(f"--points {source}: {error.strerror or error}") from None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _diff_many(expression, source, wrt, order, dtype, form: str, digits=None) -> int:
    """Answer the points chunk by chunk as they are read: the first lines of
    the answer come long before a large input is read, and memory stays
    bounded by a chunk."""
    from . import batch, budget

    budget.per_chunk()
    with budget.waiting():  # opening a FIFO waits for its writer
        stream, name = _open_points(source)
    try:
        chunks = batch.read_chunks(stream, name, waiting=budget.waiting)
        answers = batch.differentiate_stream(
            expression, chunks, wrt, order, dtype, before=budget.computing
        )
        counts = _with_progress(
            lambda progress: _answer_points(answers, form, progress, digits), _lines_in(stream)
        )
    finally:
        if source != "-":
            stream.close()
    total = sum(counts.values())
    others = {k: v for k, v in counts.items() if k != "agree"}
    if others:
        summary_line = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(others.items()))
        sys.stderr.write(f"gradcalc: {summary_line} of {_plural(total, 'point')}\n")
    return _exit_code(batch.worst_status(counts))


WRITE_LINES = 4096  # NDJSON lines written at a time (about 4 MB)


def _answer_points(answers, form: str, progress, digits=None) -> dict:
    """NDJSON or CSV (`form` "json" or "csv") written chunk by chunk as each
    is answered, or ("text") a table of the first and last points once all
    are; returns the count of each verdict."""
    from . import batch, budget

    counts: dict = {}
    if form in ("json", "csv"):
        from .csvout import header_line, rows
        from .jsonout import diff_lines

        for index, many in enumerate(answers):
            with _Writing():
                budget.computed()  # writing: the reader sets the pace
            if form == "csv":
                head = [header_line(many)] if index == 0 else []
                _write_bytes(itertools.chain(head, rows(many, chunk=WRITE_LINES)))
            else:
                _write_bytes(diff_lines(many, chunk=WRITE_LINES))
            with _Writing():
                sys.stdout.flush()
            for status, count in many.counts().items():
                counts[status] = counts.get(status, 0) + count
            if progress is not None:
                progress(len(many.points))
        return counts
    from .render.many import HEAD, view

    tally = batch.Tally(HEAD)
    for many in answers:
        tally.add(many)
        if progress is not None:
            progress(len(many.points))
    with _Writing():
        budget.computed()
    summary = tally.summary()
    _show(view(summary, digits))
    return summary.counts()


def _lines_in(stream) -> int:
    """For the progress bar, shown on a terminal: the lines of a regular file,
    counted without moving its position (0 when unknown)."""
    import stat

    try:
        fd = stream.fileno()
        if not sys.stderr.isatty() or not stat.S_ISREG(os.fstat(fd).st_mode):
            return 0
    except (OSError, ValueError, AttributeError):
        return 0
    lines, offset = 0, 0
    while block := os.pread(fd, 1 << 20, offset):
        lines += block.count(b"\n")
        offset += len(block)
    return max(0, lines - 1)  # the header


_LIVE: list = []  # progress bars on screen, stopped before an interruption's message


def _with_progress(work, total: int):
    """Run `work(progress)` with a progress bar on stderr when stderr is a
    terminal and the input is long: it shows the count of points done and
    is drawn at once (ten times a second after that)."""
    from .batch import CHUNK

    if total <= CHUNK or not sys.stderr.isatty():
        return work(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("points"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
        refresh_per_second=10,
    )
    task = progress.add_task("points", total=total)
    _LIVE.append(progress)  # before it draws: Ctrl-C may come at its first frame
    progress.start()
    if progress not in _LIVE:  # interrupted while it started: it stays stopped
        progress.stop()
    try:
        return work(lambda done: progress.advance(task, done))
    finally:
        _stop_progress()


def _stop_progress() -> None:
    """Erase any progress bar (transient), so the next line starts clean."""
    while _LIVE:
        _LIVE.pop().stop()


def _terminal() -> tuple[int, bool]:
    """The width to draw in (COLUMNS, else the terminal's, else 80) and
    whether to colour: a terminal, and NO_COLOR unset."""
    import shutil

    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    return shutil.get_terminal_size().columns, color


def _plot_text(expression, at, wrt, window, derivative: bool, result=None) -> str:
    from .plotting import build
    from .render.plot import function

    width, color = _terminal()
    return function(build(expression, at, wrt, window, derivative, result), width, color)


@app.command(
    cls=GradcalcCommand,
    short_help="f, its tangent at the point and f′, in the terminal or as an image.",
    epilog=_examples(
        "gradcalc plot 'sin(x**2)' --at 3",
        "gradcalc plot 'abs(x)' --at 0 --range -1:1 --output abs.svg",
        "gradcalc plot 'sin(x)' --at 1 --fd-error --json",
    ),
)
def plot(
    expression: Expression,
    at: At = None,
    wrt: Annotated[
        list[str] | None,
        typer.Option(
            "--wrt",
            "-w",
            metavar="NAME",
            help="The variable along which to draw (the others are held at the point). "
            "Needed when there are several.",
            show_default=False,
        ),
    ] = None,
    range_: Annotated[
        str | None,
        typer.Option(
            "--range",
            "-r",
            metavar="A:B",
            help="The window of the variable, e.g. -2:2. Default: around the point.",
            show_default=False,
        ),
    ] = None,
    no_derivative: Annotated[
        bool, typer.Option("--no-derivative", help="Leave out the panel of f′.")
    ] = False,
    fd_error: Annotated[
        bool,
        typer.Option(
            "--fd-error",
            help="Instead: the error of finite differences against the step h (log-log), "
            "central, forward and five-point, in float64 and float32.",
        ),
    ] = False,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write an image instead: FILE.svg, .png or .pdf "
            "(needs pip install 'gradcalc\\[plot]').",
            show_default=False,
        ),
    ] = None,
    points: Annotated[
        str | None,
        typer.Option(
            "--points",
            metavar="FILE",
            help="Draw the derivative at every point of a file ('-' for stdin; "
            "as diff --points reads it).",
            show_default=False,
        ),
    ] = None,
    timeout: Timeout = 5.0,
    json: Annotated[
        bool,
        typer.Option("--json", help="The plotted data as one strict JSON document (see schemas/)."),
    ] = False,
):
    """Draw f around the point with its tangent there, f′ below it, kinks and
    undefined points marked; or (--fd-error) the error of finite differences
    against the step."""
    from .plotting import parse_range

    if expression == "-" and points == "-":
        raise UsageError("stdin can hold the expression or the points, not both")
    expression = _expression(expression)
    window = parse_range(range_) if range_ is not None else None
    if output is not None and json:
        raise UsageError("give either --output or --json, not both")
    if points is not None:
        if at or fd_error or json or output:
            raise UsageError(
                "--points draws in the terminal: without --at, --fd-error, --json, --output"
            )
        from . import batch
        from .plotting import over_points
        from .render.plot import over_points as points_view

        stream, name = _open_points(points)
        with stream:
            text = stream.read().decode("utf-8", "surrogateescape")
        read = batch.read(text, name)
        on_points = over_points(expression, read, wrt)
        width, color = _terminal()
        sys.stdout.write(points_view(on_points, width, color))
        return ExitCode.OK
    if fd_error:
        from . import fderror

        curve = fderror.curve(expression, at or [], wrt)
        if json:
            _emit(fderror.document(curve))
        elif output is not None:
            from .render import image

            image.error_curve(curve, output)
        else:
            from .render.plot import error_curve

            width, color = _terminal()
            sys.stdout.write(error_curve(curve, width, color))
        return ExitCode.OK
    from .plotting import build, document

    drawn = build(expression, at or [], wrt, window, not no_derivative)
    if json:
        _emit(document(drawn))
    elif output is not None:
        from .render import image

        image.function(drawn, output)
    else:
        from .render.plot import function

        width, color = _terminal()
        sys.stdout.write(function(drawn, width, color))
    return _exit_code(drawn.status)


@app.command(
    cls=GradcalcCommand,
    short_help="The computation graph: values, local derivatives, gradients, grad_fn.",
    epilog=_examples(
        "gradcalc graph 'x*x' --at 3",
        "gradcalc graph 'sin(x**2)' --at 3 -f dot | dot -Tsvg > graph.svg",
        "gradcalc graph 'x*y' --at x=1,y=2 --format json",
    ),
)
def graph(
    expression: Expression,
    at: At = None,
    format: Annotated[
        GraphFormat,
        typer.Option(
            "--format",
            "-f",
            metavar="tree|dot|mermaid|json",
            help="tree (Rich), dot (Graphviz), mermaid (Markdown) or json.",
        ),
    ] = GraphFormat.tree,
    dtype: DTypeOption = DType.float64,
    full: Annotated[
        bool,
        typer.Option("--full", help="Show every node of a large graph instead of eliding."),
    ] = False,
    digits: Digits = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
):
    """The computation graph: forward values, local derivatives, gradients flowing back,
    and torch's own grad_fn view with its retained gradients."""
    from . import computation as graph_model

    if json and format not in (GraphFormat.tree, GraphFormat.json):
        raise UsageError(f"--json and --format {format.value} are two forms: choose one")
    model = graph_model.build(_expression(expression), at or [], dtype.value)
    if json or format is GraphFormat.json:
        from .jsonout import graph as document

        _emit(document(model))
    elif format is GraphFormat.tree:
        from .render.graph import tree

        _show(tree(model, full, digits))
    else:
        from .render import graph as views

        with _Writing():
            sys.stdout.write(getattr(views, format.value)(model, digits))
    if model.status != "agree":  # the point's verdict, as diff gives it
        return _exit_code(model.status)
    return ExitCode.OK if model.agree else ExitCode.DISAGREE


def _numbers(text: str, option: str) -> list:
    from .points import number

    return [number(part, option) for part in text.split(",")]


def _number(text: str, option: str) -> float:
    """One number (a list of several is refused, not cut to its first)."""
    numbers = _numbers(text, option)
    if len(numbers) != 1:
        raise UsageError(f"{option} takes one number, not {len(numbers)}")
    return numbers[0]


@app.command(
    cls=GradcalcCommand,
    short_help="One neuron: the manual chain rule beside autograd, and training.",
    epilog=_examples(
        "gradcalc perceptron --x 6.7 --y 0",
        "gradcalc perceptron --x 1,2,3 --w 0.1,0.2,0.3 --y 1 --epochs 20 --lr 0.5",
        "gradcalc perceptron --x 6.7 --y 0 --dtype float32 --json",
    ),
)
def perceptron(
    x: Annotated[
        str,
        typer.Option(
            "--x",
            metavar="X",
            help="Input feature(s): 6.7, or 1,2,3 for several.",
            show_default=False,
        ),
    ],
    y: Annotated[
        str,
        typer.Option(
            "--y", metavar="Y", help="The true label (in [0, 1] for bce).", show_default=False
        ),
    ],
    w: Annotated[
        str | None,
        typer.Option(
            "--w",
            metavar="W",
            help="Weight(s), one per feature. Default: 1 each.",
            show_default=False,
        ),
    ] = None,
    b: Annotated[str, typer.Option("--b", metavar="B", help="Bias.")] = "0",
    loss: Annotated[
        Loss,
        typer.Option(
            "--loss",
            metavar="bce|mse|ce",
            help="bce: binary cross-entropy with the notebook's clamp; mse: squared error; "
            "ce: softmax and cross-entropy over --classes K (then --y is a class index, "
            "--w K rows separated by ';', --b K biases).",
        ),
    ] = Loss.bce,
    epsilon: Annotated[
        float,
        typer.Option("--epsilon", metavar="EPS", help="The clamp of bce: ŷ is kept in [ε, 1 - ε]."),
    ] = 1e-8,
    epochs: Annotated[
        int,
        typer.Option(
            "--epochs",
            "--train",
            metavar="N",
            min=0,
            help="Gradient-descent steps to take (at most 100,000), updating with manual "
            "and autograd gradients side by side.",
        ),
    ] = 0,
    old_steps: Annotated[
        int | None,
        typer.Option(
            "--steps",
            hidden=True,
            min=0,
            help="Deprecated spelling of --epochs (diff --steps is the chain rule).",
        ),
    ] = None,
    lr: Annotated[
        float, typer.Option("--lr", metavar="RATE", help="Learning rate for --epochs.")
    ] = 0.1,
    dtype: Annotated[
        DType,
        typer.Option(
            "--dtype",
            metavar="float64|float32",
            help="Precision of torch's forward and backward pass: float64 for an exact "
            "comparison with the manual chain rule, float32 for the notebook's own figures.",
        ),
    ] = DType.float64,
    classes: Annotated[
        int | None,
        typer.Option(
            "--classes",
            metavar="K",
            help="With --loss ce: the number of classes (default: the rows of --w, else 2).",
            show_default=False,
        ),
    ] = None,
    digits: Digits = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    json: Json = False,
):
    """One neuron (sigmoid + loss): the notebook's hand-derived chain-rule gradients beside
    torch autograd's, and optional training epochs. With --loss ce, K neurons: softmax and
    cross-entropy, (ŷ − onehot(y))·xᵀ by hand beside autograd."""
    from .limits import MAX_EPOCHS as MAX_STEPS
    from .neuron import shaped, train

    if old_steps is not None:
        sys.stderr.write(
            "gradcalc: note: perceptron --steps is deprecated; write --epochs "
            f"{old_steps} (diff --steps means the chain rule)\n"
        )
        epochs = old_steps if epochs == 0 else epochs
    if epochs > MAX_STEPS:  # (the library names its own parameter, steps)
        raise UsageError(f"must be between 0 and {MAX_STEPS:,}, not {epochs:,}", option="epochs")
    features = _numbers(x, "--x")
    if loss is Loss.ce:
        return _softmax_layer(features, y, w, b, classes, dtype.value, epochs, lr, digits, json)
    if classes is not None:
        raise UsageError("--classes goes with --loss ce")
    neuron = train(
        features if len(features) > 1 else features[0],
        _number(y, "--y"),
        None if w is None else _numbers(w, "--w"),
        _number(b, "--b"),
        loss.value,
        epsilon,
        dtype.value,
        epochs,
        lr,
    )
    if json:
        from .jsonout import perceptron as document

        _emit(document(neuron))
    else:
        from .render.perceptron import view

        _show(view(neuron, shaped, digits))
    return ExitCode.OK if neuron.agree and neuron.trajectories_agree else ExitCode.DISAGREE


def _softmax_layer(features, y, w, b, classes, dtype, epochs, lr, digits, json) -> int:
    from .multiclass import train

    rows = None if w is None else [_numbers(row, "--w") for row in w.split(";")]
    biases = None if b in (None, "0") else _numbers(b, "--b")
    count = classes or (len(rows) if rows else 2)
    layer = train(features, _number(y, "--y"), count, rows, biases, dtype, epochs, lr)
    if json:
        from .jsonout import softmax_layer as document

        _emit(document(layer))
    else:
        from .render.perceptron import softmax_view

        _show(softmax_view(layer, digits))
    return ExitCode.OK if layer.agree and layer.trajectories_agree else ExitCode.DISAGREE


@app.command(
    cls=GradcalcCommand,
    epilog=_examples(
        "gradcalc accumulate 'x**2' --at 2 --passes 3",
        "gradcalc accumulate 'x**2' --at 2 --passes 3 --zero-grad",
        "gradcalc accumulate 'x*y' --at x=1,y=2 --json",
    ),
)
def accumulate(
    expression: Expression,
    at: At = None,
    passes: Annotated[
        int,
        typer.Option(
            "--passes", "-p", metavar="N", min=1, help="How many times to call backward()."
        ),
    ] = 3,
    zero_grad: Annotated[
        bool,
        typer.Option(
            "--zero-grad", help="Zero .grad before each backward(), as optimizer.zero_grad() does."
        ),
    ] = False,
    dtype: DTypeOption = DType.float64,
    digits: Digits = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    json: Json = False,
):
    """What repeated backward() does to .grad: it accumulates unless zeroed."""
    from .accumulation import accumulate as run

    result = run(_expression(expression), at or [], passes, zero_grad, dtype.value)
    if json:
        from .jsonout import accumulate as document

        _emit(document(result))
    else:
        from .render.accumulate import view

        _show(view(result, digits))
    return ExitCode.OK if result.agree else ExitCode.DISAGREE


@app.command(
    cls=GradcalcCommand,
    epilog=_examples("gradcalc functions", "gradcalc functions --json | jq '.functions[].name'"),
)
def functions(json: Json = False):
    """List the functions and constants expressions may use."""
    from .functions import CONSTANTS, FUNCTIONS

    rows = [
        (f.name, "/".join((f.name,) + f.aliases), _arity(f.arity), f.domain, f.doc)
        for f in FUNCTIONS
    ]
    if json:
        from .jsonout import SCHEMA_VERSION

        _emit(
            {
                "schema_version": SCHEMA_VERSION,
                "functions": [
                    {
                        "name": r[0],
                        "spellings": r[1].split("/"),
                        "arguments": r[2],
                        "domain": r[3],
                        "description": r[4],
                    }
                    for r in rows
                ],
                "constants": {k: v[1] for k, v in CONSTANTS.items()},
            }
        )
        return 0
    from rich.table import Table

    table = Table("function", "arguments", "domain", "description")
    for _, spellings, arity, domain, doc in rows:
        table.add_row(spellings, arity, domain, doc)
    table.add_row("pi, e/E", "", "", "constants")
    _show(table)
    return 0


def _arity(arity) -> str:
    low, high = arity
    if high is None:
        return f"{low} or more"
    return str(low) if low == high else f"{low}–{high}"


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


# The scripts ship inside the package (gradcalc/completions/), generated by
# scripts/gen_completions.py; printing one imports nothing heavy.
COMPLETION_FILES = {"bash": "gradcalc.bash", "zsh": "_gradcalc", "fish": "gradcalc.fish"}


@app.command(
    cls=GradcalcCommand,
    epilog=_examples(
        "gradcalc completion bash > ~/.local/share/bash-completion/completions/gradcalc",
        "gradcalc completion zsh > ~/.zfunc/_gradcalc",
        "gradcalc completion fish > ~/.config/fish/completions/gradcalc.fish",
    ),
)
def completion(
    shell: Annotated[
        Shell,
        typer.Argument(metavar="bash|zsh|fish", help="The shell to print the script for."),
    ],
):
    """Print the shell completion script for bash, zsh or fish."""
    from importlib.resources import files

    script = files("gradcalc") / "completions" / COMPLETION_FILES[shell.value]
    sys.stdout.write(script.read_text(encoding="utf-8"))
    return 0


@app.command(
    cls=GradcalcCommand,
    epilog=_examples(
        "gradcalc repl",
        "echo 'diff x^2 --at 1' | gradcalc repl --json",
    ),
)
def repl(
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Answer every line with --json: one JSON document per input line (NDJSON), "
            "each with its exit status in `exit_code`.",
        ),
    ] = False,
):
    """One warm session, many answers: gradcalc command lines without 'gradcalc', at a prompt
    (history, completion, Ctrl-C cancels an answer) or one per line from a pipe. A bare
    expression is diff at the last point; 'at x=3' sets it; 'ans' is the last derivative."""
    from .repl import main as session

    return session(json)


# What a terminal that cannot show Unicode gets instead (the rest: \uXXXX).
ASCII_FALLBACK = {
    "∂": "d",
    "✓": "ok",
    "✗": "x",
    "·": "*",
    "×": "x",
    "…": "...",
    "−": "-",
    "–": "-",
    "—": "--",
    "²": "^2",
    "³": "^3",
    "⁴": "^4",
    "′": "'",
    "ŷ": "y_hat",
    "ε": "eps",
    "π": "pi",
    "→": "->",
    "←": "<-",
    "≤": "<=",
    "≥": ">=",
    "≈": "~",
    "∞": "inf",
    "•": "*",
    "▁": "_",
    "█": "#",
}


def _ascii_fallback(error: UnicodeEncodeError):
    """codecs error handler: readable ASCII for the characters gradcalc prints,
    JSON's \\uXXXX (a surrogate pair past U+FFFF) for anything else, so that
    JSON stays the same JSON."""
    text = error.object[error.start : error.end]
    out = []
    for char in text:
        if char in ASCII_FALLBACK:
            out.append(ASCII_FALLBACK[char])
        elif ord(char) > 0xFFFF:
            high, low = divmod(ord(char) - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out), error.end


codecs.register_error("gradcalc-ascii", _ascii_fallback)  # type: ignore[arg-type]


def _standard_streams() -> set:
    """Make the process safe to run with closed standard streams (`<&-`,
    `>&-`, `2>&-`): each closed descriptor is reopened on /dev/null, so that no
    pipe or file opened later takes its number; stderr then writes there.
    Returns the names of the streams that were closed. A terminal that
    cannot encode Unicode gets ASCII fallbacks instead of an encoding error."""
    closed = set()
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(name)
            os.open(os.devnull, os.O_RDWR)  # takes the lowest free number: fd
    if "stderr" in closed or sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
        if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="gradcalc-ascii")
    return closed


def main() -> None:
    """The console script: the command runs in a child process with a time and
    memory budget (see budget.py); --help, --version and completion do not."""
    import signal

    from . import threads

    threads.serial_blas()  # before anything imports numpy

    # A closed pipe ends the run at once, quietly, as for any Unix filter.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    closed = _standard_streams()
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
    )
    from . import budget

    if light:
        if args[:1] != ["repl"]:  # a session writes each answer as it comes
            budget.hold()  # so that a failed write is seen, at release (in GradcalcGroup._run)
        app()
        return

    def overrun(message: str) -> int:
        group = typer.main.get_command(app)
        machine = isinstance(group, GradcalcGroup) and group._machine(args)
        return _report(BudgetError.kind, message, BudgetError.exit_code, machine)

    def signalled(message: str, code: int) -> int:
        if code == ExitCode.INTERRUPTED:
            sys.stderr.write(f"gradcalc: {message}\n")
            return code
        group = typer.main.get_command(app)
        machine = isinstance(group, GradcalcGroup) and group._machine(args)
        kind = "internal" if code == ExitCode.INTERNAL else "killed"
        return _report(kind, message, code, machine)

    def work() -> int:
        try:
            app()
        except SystemExit as stop:
            return stop.code if isinstance(stop.code, int) else 0
        return 0

    code = budget.run(work, on_overrun=overrun, on_signal=signalled)
    code = _finish_output(code)
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    # The child did the work and has exited; tearing down the parent's
    # modules (Typer's) would only add to the wait.
    os._exit(code)


if __name__ == "__main__":
    main()
