"""The command line: thin commands over the library.

Each command parses its options, calls the library, and chooses a view.
Errors raised below are mapped to exit codes in one place, `GradcalcGroup.main`.
Torch and SymPy are imported inside the commands, so `--help`, `--version`
and completion stay fast.
"""

from __future__ import annotations

import codecs
import contextlib
import math
import os
import sys
from enum import Enum
from typing import Annotated

import typer
from typer.core import TyperGroup

from . import __version__
from .budget import DEFAULT_SECONDS as DEFAULT_TIMEOUT
from .coercion import plain
from .errors import ExitCode, GradcalcError, OutputError, PointError, UsageError


class DType(str, Enum):
    float64 = "float64"
    float32 = "float32"


class Loss(str, Enum):
    bce = "bce"
    mse = "mse"


class GraphFormat(str, Enum):
    tree = "tree"
    dot = "dot"
    mermaid = "mermaid"
    json = "json"


def _wants_json(args) -> bool:
    return "--json" in args


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


def _report(error_kind: str, message: str, code: int, args, column=None) -> int:
    from .jsonout import dumps, error

    message = _printable(message)
    if _wants_json(args) and error_kind != OutputError.kind:
        with contextlib.suppress(OSError, ValueError):  # stdout may be what failed
            sys.stdout.write(dumps(error(error_kind, message, column)) + "\n")
    sys.stderr.write(f"gradcalc: error: {message}\n")
    return code


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


class GradcalcGroup(TyperGroup):
    """Maps every way a run can end to an exit code (SPEC §6), for the real
    CLI and for CliRunner alike."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = self._protect_negative_expressions(list(sys.argv[1:] if args is None else args))
        code = self._run(args, prog_name, complete_var, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def get_params(self, ctx):
        return plain(super().get_params(ctx))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            plain(command.get_params(ctx))  # its --help option is made here, too
        return command

    def _protect_negative_expressions(self, args: list) -> list:
        """An expression like '-x^2' is not an option: prefix it with a space
        (which the parser ignores) so Click takes it as the argument."""
        if not args or args[0] not in self.commands:
            return args
        command = self.commands[args[0]]
        takes_value, known = set(), set()
        for param in command.params:
            names = list(getattr(param, "opts", [])) + list(getattr(param, "secondary_opts", []))
            known.update(names)
            if getattr(param, "param_type_name", "") == "option" and not param.is_flag:
                takes_value.update(names)
        out, previous = [args[0]], None
        for word in args[1:]:
            # "--name" is always an option (an unknown one gets Click's error).
            if (
                word.startswith("-")
                and not word.startswith("--")
                and word not in known
                and previous not in takes_value
            ):
                word = " " + word
            out.append(word)
            previous = word
        return out

    def _run(self, args, prog_name, complete_var, **extra) -> int:
        return _finish_output(self._invoke(args, prog_name, complete_var, **extra))

    def _invoke(self, args, prog_name, complete_var, **extra) -> int:
        import warnings

        try:
            with warnings.catch_warnings():
                # numpy's "invalid value encountered" and the like: the answer
                # says what is not finite, in one line.
                warnings.simplefilter("ignore", RuntimeWarning)
                result = _deep(
                    lambda: super(GradcalcGroup, self).main(
                        args=args,
                        prog_name=prog_name,
                        complete_var=complete_var,
                        standalone_mode=False,
                        **extra,
                    )
                )
            return int(result or 0)
        except GradcalcError as error:
            return _report(
                error.kind,
                error.message,
                int(error.exit_code),
                args,
                getattr(error, "column", None),
            )
        except (KeyboardInterrupt, typer.Abort):
            sys.stderr.write("gradcalc: interrupted\n")
            return ExitCode.INTERRUPTED
        except RecursionError:
            return _report(
                "too_large", "expression is too deeply nested to process", ExitCode.UNDEFINED, args
            )
        except MemoryError:
            return _report(
                "too_large", "out of memory: the input is too large", ExitCode.UNDEFINED, args
            )
        except (BrokenPipeError, _ClosedPipe):
            return ExitCode.CLOSED_PIPE
        except Exception as error:
            if hasattr(error, "format_message") and hasattr(error, "exit_code"):
                # Click's usage errors (vendored by Typer, so matched by shape).
                message = error.format_message()
                if not message:  # no arguments at all: help was already shown
                    return ExitCode.INPUT
                return _report("usage", message, ExitCode.INPUT, args)
            if os.environ.get("GRADCALC_DEBUG", "0") not in ("", "0"):
                raise
            return _report(
                "internal",
                f"internal error: {type(error).__name__}: {error} "
                "(a bug; set GRADCALC_DEBUG=1 for a traceback)",
                ExitCode.INTERNAL,
                args,
            )


app = typer.Typer(
    cls=GradcalcGroup,
    help="A gradient calculator you can trust: SymPy, torch autograd and finite "
    "differences, side by side.\n\nExit codes: 0 all methods agree; 1 they disagree, or "
    "the point is a kink; 2 bad input; 3 undefined or not finite at the point; "
    "130 interrupted; 70 a bug.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
):
    """A gradient calculator you can trust."""


# Options shared by the commands, declared once.
Expression = Annotated[
    str,
    typer.Argument(
        help="The expression, e.g. 'sin(x**2)', 'x^2*y', '3(x+1)', 'mean(x**2)'. "
        "See 'gradcalc functions'.",
        show_default=False,
    ),
]
At = Annotated[
    list[str] | None,
    typer.Option(
        "--at",
        "-a",
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
        help="Differentiate with respect to these variables only "
        "(comma-separated or repeated). Default: all.",
        show_default=False,
    ),
]
DTypeOption = Annotated[
    DType,
    typer.Option(
        "--dtype",
        help="Precision of the autograd pass: float64 for a tight cross-check, "
        "float32 as PyTorch uses by default. Finite differences always use float64.",
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="Print one strict JSON document (see schemas/).")
]


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


Timeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        callback=_budget_seconds,
        help="Time budget: seconds of CPU time for computing (0: none), and at most "
        "as long waiting for input; past it the run ends with exit 3. Default 5, and for "
        "--points 5 per chunk of 50,000 points.",
        show_default=False,
    ),
]
Full = Annotated[
    bool,
    typer.Option(
        "--full",
        help="Show all of a large expression's derivative, nodes and steps instead of eliding.",
    ),
]


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
        Console(highlight=False, emoji=False, force_terminal=False, width=width).print(renderable)
        return
    # emoji=False: ":name:" in an expression or note is text, never an emoji.
    Console(highlight=False, emoji=False).print(renderable)


def _exit_code(status: str) -> int:
    from .verdict import Status

    return {
        Status.AGREE: ExitCode.OK,
        Status.DISAGREE: ExitCode.DISAGREE,
        Status.KINK: ExitCode.DISAGREE,
        Status.UNDEFINED: ExitCode.UNDEFINED,
    }[status]


@app.command()
def diff(
    expression: Expression,
    at: At = None,
    wrt: Wrt = None,
    order: Annotated[
        int,
        typer.Option("--order", "-n", min=1, max=4, help="Derivative order; 2 gives the Hessian."),
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
    full: Full = False,
    no_autograd: Annotated[
        bool,
        typer.Option(
            "--no-autograd",
            help="Symbolic and finite differences only: never imports torch (faster start).",
        ),
    ] = False,
    timeout: Timeout = DEFAULT_TIMEOUT,
    points: Annotated[
        str | None,
        typer.Option(
            "--points",
            help="Many points from a file ('-' for stdin): CSV with a header of "
            'variable names, or JSON Lines ({"x": 1} per line). Answered vectorized; with '
            "--json, one JSON object per line (NDJSON).",
            show_default=False,
        ),
    ] = None,
    json: Json = False,
):
    """Derivative or gradient at a point, three ways (SymPy, torch autograd, finite
    differences), and whether they agree."""
    if points is not None:
        if at:
            raise UsageError("give either --at or --points, not both")
        if steps or graph or no_autograd:
            raise UsageError(
                "--steps, --graph and --no-autograd take one point (--at), not --points"
            )
        return _diff_many(expression, points, wrt, order, dtype.value, json)
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

    parts = [view(result)]
    if (steps or graph) and no_autograd:
        raise UsageError("--steps and --graph show torch's graph: drop --no-autograd")
    if steps or graph:
        from . import graph as graph_model

        model = graph_model.build(result.tree, result.point, dtype.value)
        if steps:
            from .render.steps import view as steps_view

            parts.append(steps_view(model, result.wrt, full))
        if graph:
            from .render.graph import tree

            parts.append(tree(model, full))
    _show(Group(*parts))
    return _exit_code(result.status)


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


def _diff_many(expression, source, wrt, order, dtype, json) -> int:
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
            lambda progress: _answer_points(answers, json, progress), _lines_in(stream)
        )
    finally:
        if source != "-":
            stream.close()
    total = sum(counts.values())
    others = {k: v for k, v in counts.items() if k != "agree"}
    if others:
        summary_line = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(others.items()))
        sys.stderr.write(f"gradcalc: {summary_line} of {total} points\n")
    return _exit_code(batch.worst_status(counts))


WRITE_LINES = 4096  # NDJSON lines written at a time (about 4 MB)


def _answer_points(answers, json: bool, progress) -> dict:
    """NDJSON written chunk by chunk as each is answered, or a table of the
    first and last points once all are; returns the count of each verdict."""
    from . import batch, budget

    counts: dict = {}
    if json:
        from .jsonout import diff_lines

        for many in answers:
            with _Writing():
                budget.computed()  # writing: the reader sets the pace
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
    _show(view(summary))
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


def _with_progress(work, total: int):
    """Run `work(progress)` with a Rich progress bar on stderr when stderr is a
    terminal and the input is long; otherwise silently."""
    from .batch import CHUNK

    if total <= CHUNK or not sys.stderr.isatty():
        return work(None)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("points", total=total)
        return work(lambda done: progress.advance(task, done))


@app.command()
def graph(
    expression: Expression,
    at: At = None,
    format: Annotated[
        GraphFormat,
        typer.Option(
            "--format", "-f", help="tree (Rich), dot (Graphviz), mermaid (Markdown) or json."
        ),
    ] = GraphFormat.tree,
    dtype: DTypeOption = DType.float64,
    full: Full = False,
    timeout: Timeout = DEFAULT_TIMEOUT,
    json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
):
    """The computation graph: forward values, local derivatives, gradients flowing back,
    and torch's own grad_fn view with its retained gradients."""
    from . import graph as graph_model

    model = graph_model.build(expression, at or [], dtype.value)
    if json or format is GraphFormat.json:
        from .jsonout import graph as document

        _emit(document(model))
    elif format is GraphFormat.tree:
        from .render.graph import tree

        _show(tree(model, full))
    else:
        from .render import graph as views

        with _Writing():
            sys.stdout.write(getattr(views, format.value)(model))
    return ExitCode.OK if model.agree else ExitCode.DISAGREE


def _numbers(text: str, option: str) -> list:
    from .points import number

    return [number(part, option) for part in text.split(",")]


@app.command()
def perceptron(
    x: Annotated[
        str,
        typer.Option(
            "--x", help="Input feature(s): 6.7, or 1,2,3 for several.", show_default=False
        ),
    ],
    y: Annotated[
        str, typer.Option("--y", help="The true label (in [0, 1] for bce).", show_default=False)
    ],
    w: Annotated[
        str | None,
        typer.Option(
            "--w", help="Weight(s), one per feature. Default: 1 each.", show_default=False
        ),
    ] = None,
    b: Annotated[str, typer.Option("--b", help="Bias.")] = "0",
    loss: Annotated[
        Loss,
        typer.Option(
            "--loss",
            help="bce: binary cross-entropy with the notebook's clamp; mse: squared error.",
        ),
    ] = Loss.bce,
    epsilon: Annotated[
        float, typer.Option("--epsilon", help="The clamp of bce: ŷ is kept in [ε, 1 - ε].")
    ] = 1e-8,
    steps: Annotated[
        int,
        typer.Option(
            "--steps",
            help="Gradient-descent steps to take, "
            "updating with manual and autograd gradients side by "
            "side.",
        ),
    ] = 0,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate for --steps.")] = 0.1,
    dtype: DTypeOption = DType.float64,
    timeout: Timeout = DEFAULT_TIMEOUT,
    json: Json = False,
):
    """One neuron (sigmoid + loss): the notebook's hand-derived chain-rule gradients beside
    torch autograd's, and optional training steps."""
    from .perceptron import shaped, train

    features = _numbers(x, "--x")
    neuron = train(
        features if len(features) > 1 else features[0],
        _numbers(y, "--y")[0],
        None if w is None else _numbers(w, "--w"),
        _numbers(b, "--b")[0],
        loss.value,
        epsilon,
        dtype.value,
        steps,
        lr,
    )
    if json:
        from .jsonout import perceptron as document

        _emit(document(neuron))
    else:
        from .render.perceptron import view

        _show(view(neuron, shaped))
    return ExitCode.OK if neuron.agree and neuron.trajectories_agree else ExitCode.DISAGREE


@app.command()
def accumulate(
    expression: Expression,
    at: At = None,
    passes: Annotated[
        int, typer.Option("--passes", "-p", help="How many times to call backward().")
    ] = 3,
    zero_grad: Annotated[
        bool,
        typer.Option(
            "--zero-grad", help="Zero .grad before each backward(), as optimizer.zero_grad() does."
        ),
    ] = False,
    dtype: DTypeOption = DType.float64,
    timeout: Timeout = DEFAULT_TIMEOUT,
    json: Json = False,
):
    """What repeated backward() does to .grad: it accumulates unless zeroed."""
    from .accumulate import accumulate as run

    result = run(expression, at or [], passes, zero_grad, dtype.value)
    if json:
        from .jsonout import accumulate as document

        _emit(document(result))
    else:
        from .render.accumulate import view

        _show(view(result))
    return ExitCode.OK if result.agree else ExitCode.DISAGREE


@app.command()
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


codecs.register_error("gradcalc-ascii", _ascii_fallback)


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
        or any(a in ("--help", "-h", "--version") for a in args)
        or (os.environ.get("_GRADCALC_COMPLETE"))
    )
    from . import budget

    if light:
        budget.hold()  # so that a failed write is seen, at release (in GradcalcGroup._run)
        app()
        return

    def overrun(message: str) -> int:
        return _report("too_large", message, ExitCode.UNDEFINED, args)

    def signalled(message: str, code: int) -> int:
        if code == ExitCode.INTERRUPTED:
            sys.stderr.write(f"gradcalc: {message}\n")
            return code
        return _report("internal" if code == ExitCode.INTERNAL else "killed", message, code, args)

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
