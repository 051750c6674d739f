"""Options declared once and shared by the commands (one `Annotated` type
each), with the choices as enums: the signature of a command is its spec."""

from __future__ import annotations

import math
from enum import Enum
from typing import Annotated

import typer


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
    parquet = "parquet"


class PointsFormat(str, Enum):
    """--input-format: what --points holds (auto: by the file's extension)."""

    auto = "auto"
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"
    arrow = "arrow"


class GraphFormat(str, Enum):
    tree = "tree"
    dot = "dot"
    mermaid = "mermaid"
    json = "json"


def examples(*lines: str) -> str:
    """A help screen's closing examples, one paragraph each."""
    return "Examples:\n\n" + "\n\n".join(lines)


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
    from ..render.numbers import MAX_DIGITS

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
    from .. import budget

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


ComputeTimeout = Annotated[  # a command that reads no input
    float, _timeout_option("; past it the run ends with exit 3. Default 5.")
]
Timeout = Annotated[
    float,
    _timeout_option(
        ", and at most as long waiting for input on stdin (EXPR '-'); past it the run "
        "ends with exit 3. Default 5."
    ),
]
DiffTimeout = Annotated[
    float,
    _timeout_option(
        ", and at most as long waiting for input (EXPR '-', --points); past it the run "
        "ends with exit 3. Default 5, and for --points 5 per chunk of 50,000 points."
    ),
]


LatexFlag = Annotated[
    bool,
    typer.Option(
        "--latex",
        help="Read EXPR (and --answer) as LaTeX: \\frac{\\sin x}{x}, 2x, e^{x}. Text with a "
        "backslash or a brace is read as LaTeX without it. Shows what it reads as.",
    ),
]


# diff's own options.
def _order(value: int) -> int:
    if not 1 <= value <= 4:
        raise typer.BadParameter(f"{value} is not an order gradcalc computes: 1, 2, 3 or 4")
    return value


Order = Annotated[
    int,
    typer.Option(
        "--order",
        "-n",
        metavar="N",
        callback=_order,
        help="Derivative order, 1 to 4; 2 gives the Hessian.",
    ),
]
Steps = Annotated[
    bool,
    typer.Option(
        "--steps",
        help="Write out the chain rule: named intermediates, local derivatives, products.",
    ),
]
GraphFlag = Annotated[
    bool, typer.Option("--graph", help="Show the computation graph tree under the table.")
]
Full = Annotated[
    bool,
    typer.Option(
        "--full",
        help="Show all of a large derivative, its steps and graph instead of eliding.",
    ),
]
NoAutograd = Annotated[
    bool,
    typer.Option(
        "--no-autograd",
        help="Symbolic and finite differences only: never imports torch (faster start).",
    ),
]
PlotFlag = Annotated[
    bool,
    typer.Option(
        "--plot", help="Draw f, its tangent and f′ under the table (one variable: --wrt)."
    ),
]
PointsFile = Annotated[
    str | None,
    typer.Option(
        "--points",
        metavar="FILE",
        help="Many points from a file ('-' for stdin): CSV with a header of "
        'variable names, JSON Lines ({"x": 1} per line), Parquet or Arrow IPC (by the '
        "extension, or --input-format). Answered vectorized; with --json, one JSON object "
        "per line (NDJSON).",
        show_default=False,
    ),
]
Explain = Annotated[
    bool,
    typer.Option(
        "--explain",
        help="Derive it step by step as a textbook does, each rule named and each step "
        "checked against SymPy (no --at needed; a failed check exits 70).",
    ),
]
AnswerOption = Annotated[
    str | None,
    typer.Option(
        "--answer",
        metavar="EXPR",
        help="Check a derivative written by hand: exit 0 when it is right, 1 when wrong "
        "(with a point where it differs and the step it departs from).",
        show_default=False,
    ),
]
DiffFormatOption = Annotated[
    DiffFormat,
    typer.Option(
        "--format",  # no short form: -f stays free for an expression like -f*x
        metavar="text|markdown|latex|csv|parquet",
        help="text: the table (default); markdown ($...$ math) or latex (an align* "
        "environment) for the derivative and --explain; csv, with --points: one header "
        "line, then per point its input line, the point, f, each method's derivative "
        "(sympy:x, autograd:x, finite_difference:x per partial) and the status; parquet: "
        "the same columns in a Parquet file (needs --output FILE, or --output - with "
        "stdout redirected).",
    ),
]
InputFormatOption = Annotated[
    PointsFormat,
    typer.Option(
        "--input-format",
        metavar="auto|csv|jsonl|parquet|arrow",
        help="What --points holds. auto: by the extension (.csv; .jsonl, .ndjson; "
        ".parquet; .arrow, .feather, .ipc), else CSV or JSON Lines by the first line.",
    ),
]
PlotInputFormat = Annotated[
    PointsFormat,
    typer.Option(
        "--input-format",
        metavar="FORMAT",
        help="What --points holds: auto (by the extension, as for diff), csv, jsonl, "
        "parquet or arrow.",
    ),
]
PointsOutput = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="With --points: write the answers (--format csv|parquet or --json) to FILE, "
        "whole or not at all (an existing FILE needs --force). '-' is stdout (parquet: "
        "only when stdout is not a terminal).",
        show_default=False,
    ),
]
Implicit = Annotated[
    str | None,
    typer.Option(
        "--implicit",
        metavar="NAME",
        help="EXPR is an equation lhs = rhs defining NAME as a function of the other "
        "variable: dy/dx there (--order 2: d²y/dx²), the point checked to lie on the "
        "curve, and the derivative cross-checked by solving for NAME numerically.",
        show_default=False,
    ),
]
Pretty = Annotated[
    bool,
    typer.Option("--pretty", help="Draw the derivative in SymPy's two-dimensional form."),
]


# perceptron's own options.
Features = Annotated[
    str,
    typer.Option(
        "--x",
        metavar="X",
        help="Input feature(s): 6.7, or 1,2,3 for several.",
        show_default=False,
    ),
]
Label = Annotated[
    str,
    typer.Option(
        "--y", metavar="Y", help="The true label (in [0, 1] for bce).", show_default=False
    ),
]
Weights = Annotated[
    str | None,
    typer.Option(
        "--w",
        metavar="W",
        help="Weight(s), one per feature. Default: 1 each.",
        show_default=False,
    ),
]
Bias = Annotated[str, typer.Option("--b", metavar="B", help="Bias.")]
LossOption = Annotated[
    Loss,
    typer.Option(
        "--loss",
        metavar="bce|mse|ce",
        help="bce: binary cross-entropy with the notebook's clamp; mse: squared error; "
        "ce: softmax and cross-entropy over --classes K (then --y is a class index, "
        "--w K rows separated by ';', --b K biases).",
    ),
]
Epsilon = Annotated[
    float,
    typer.Option("--epsilon", metavar="EPS", help="The clamp of bce: ŷ is kept in [ε, 1 - ε]."),
]
Epochs = Annotated[
    int,
    typer.Option(
        "--epochs",  # one spelling: "--train" read as a flag that took a number
        metavar="N",
        min=0,
        help="Gradient-descent steps to take (at most 100,000), updating with manual "
        "and autograd gradients side by side.",
    ),
]
OldSteps = Annotated[
    int | None,
    typer.Option(
        "--steps",
        hidden=True,
        min=0,
        help="Deprecated spelling of --epochs (diff --steps is the chain rule).",
    ),
]
LearningRate = Annotated[
    float, typer.Option("--lr", metavar="RATE", help="Learning rate for --epochs.")
]
NeuronDType = Annotated[
    DType,
    typer.Option(
        "--dtype",
        metavar="float64|float32",
        help="Precision of torch's forward and backward pass: float64 for an exact "
        "comparison with the manual chain rule, float32 for the notebook's own figures.",
    ),
]
Classes = Annotated[
    int | None,
    typer.Option(
        "--classes",
        metavar="K",
        help="With --loss ce: the number of classes (default: the rows of --w, else 2).",
        show_default=False,
    ),
]


# plot's own options.
AlongVariable = Annotated[
    list[str] | None,
    typer.Option(
        "--wrt",
        "-w",
        metavar="NAME",
        help="The variable along which to draw (the others are held at the point). "
        "Needed when there are several.",
        show_default=False,
    ),
]
Window = Annotated[
    str | None,
    typer.Option(
        "--range",
        "-r",
        metavar="A:B",
        help="The window of the variable, e.g. -2:2; it must hold the point (else exit 2). "
        "Default: around the point. With --fd-error: the range of the step h, e.g. "
        "1e-12:1 (default 1e-16:1). With --points: the window drawn (default: the points' "
        "span); points outside it are counted, not drawn.",
        show_default=False,
    ),
]
NoDerivative = Annotated[bool, typer.Option("--no-derivative", help="Leave out the panel of f′.")]
FdError = Annotated[
    bool,
    typer.Option(
        "--fd-error",
        help="Instead: the error of finite differences against the step h (log-log), "
        "central, forward and five-point, in float64 and float32.",
    ),
]
ImageFile = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write an image instead: FILE.svg, .png or .pdf (needs pip install "
        "'gradcalc\\[plot]'). '-' is SVG on stdout; png:- and pdf:- write PNG or PDF to "
        "stdout when it is not a terminal.",
        show_default=False,
    ),
]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="With --output: replace FILE if it exists (a symbolic link is replaced "
        "itself, never written through).",
    ),
]
PlotPoints = Annotated[
    str | None,
    typer.Option(
        "--points",
        metavar="FILE",
        help="Draw the derivative at every point of a file ('-' for stdin; "
        "as diff --points reads it).",
        show_default=False,
    ),
]
PlotJson = Annotated[
    bool,
    typer.Option("--json", help="The plotted data as one strict JSON document (see schemas/)."),
]


# emit's own options.
class EmitTarget(str, Enum):
    numpy = "numpy"
    torch = "torch"
    jax = "jax"
    c = "c"
    latex = "latex"


To = Annotated[
    EmitTarget,
    typer.Option(
        "--to",
        "-t",
        metavar="numpy|torch|jax|c|latex",
        help="The language of the code: a NumPy, torch or JAX function, C99 with math.h, "
        "or LaTeX (an align* environment).",
        show_default=False,
    ),
]


def _emit_order(value: int) -> int:
    if value not in (1, 2):
        raise typer.BadParameter(f"{value} is not an order emit writes: 1 or 2")
    return value


EmitOrder = Annotated[
    int,
    typer.Option(
        "--order",
        "-n",
        metavar="N",
        callback=_emit_order,
        help="1: f and its gradient; 2: f, its gradient and its Hessian.",
    ),
]
AutogradFunction = Annotated[
    bool,
    typer.Option(
        "--function",
        help="With --to torch: a torch.autograd.Function subclass whose backward is the "
        "closed-form gradient (call it as EmittedFunction.apply(...)).",
    ),
]
CodeFile = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the code to FILE (whole or not at all) instead of stdout; an existing "
        "FILE is replaced only with --force. '-' is stdout.",
        show_default=False,
    ),
]
EmitAt = Annotated[
    list[str] | None,
    typer.Option(
        "--at",
        "-a",
        metavar="POINT",
        help="A point where the code is also checked (x=1,y=2); a vector variable's value "
        "(x=[1,2,3]) gives the length the code takes. Repeatable.",
        show_default=False,
    ),
]
EmitTimeout = Annotated[float, _timeout_option("; past it the run ends with exit 3. Default 60.")]
