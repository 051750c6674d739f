"""`gradcalc plot`: f, its tangent and f′ around the point, in the terminal or as an image;
the derivative over a file's points; or finite differences' error against the step."""

from __future__ import annotations

import sys
from typing import Any

import typer

from ...errors import ExitCode, UsageError
from ..course_options import PlotTaylor
from ..group import exit_code
from ..inputs import expression_and_point, open_points, window
from ..options import (
    AlongVariable,
    At,
    Expression,
    FdError,
    Force,
    ImageFile,
    LatexFlag,
    NoDerivative,
    PlotInputFormat,
    PlotJson,
    PlotPoints,
    PointsFormat,
    Timeout,
    Window,
    examples,
)
from ..output import emit, reading_line, terminal
from ..report import verdict

ENGINES = ("numpy",)  # what it computes with, imported before its budget starts
SETTINGS = {
    "short_help": "f, its tangent at the point and f′, in the terminal or as an image.",
    "epilog": examples(
        "gradcalc plot 'sin(x**2)' --at 3",
        "gradcalc plot 'abs(x)' --at 0 --range -1:1 --output abs.svg",
        "gradcalc plot 'sin(x)' --at 1 --fd-error --json",
    ),
}


def prepare(params: dict) -> None:
    """An image's name is checked, and matplotlib imported, before the budget."""
    if params.get("output"):
        from ...render import image

        image.image_format(params["output"])  # a wrong name fails before the import
        image.refuse_to_replace(params["output"], params.get("force", False))
        image.prepare()


def plot(
    ctx: typer.Context,
    expression: Expression,
    at: At = None,
    wrt: AlongVariable = None,
    range_: Window = None,
    no_derivative: NoDerivative = False,
    taylor: PlotTaylor = None,
    fd_error: FdError = False,
    output: ImageFile = None,
    force: Force = False,
    points: PlotPoints = None,
    input_format: PlotInputFormat = PointsFormat.auto,
    timeout: Timeout = 5.0,
    json: PlotJson = False,
    latex: LatexFlag = False,
) -> int:
    """Draw f around the point with its tangent there, f′ below it, kinks and
    undefined points marked; or (--fd-error) the error of finite differences
    against the step."""
    if expression == "-" and points == "-":
        raise UsageError("stdin can hold the expression or the points, not both")
    expr, point = expression_and_point(ctx, expression, at)
    shown = window(range_) if range_ is not None else None
    if output is not None and json:
        raise UsageError("give either --output or --json, not both")
    if taylor is not None and (fd_error or points is not None):
        raise UsageError("--taylor draws over f at the point: not with --fd-error or --points")
    if points is None and input_format is not PointsFormat.auto:
        raise UsageError("--input-format goes with --points FILE")
    if points is not None:
        if at or fd_error or json or output:
            raise UsageError(
                "--points draws in the terminal: without --at, --fd-error, --json, --output"
            )
        return _over_points(expr, (points, input_format.value), wrt, shown)
    if fd_error:
        return _error_curve(expr, point, wrt, shown, (json, output, force))
    from ...plotting import build

    drawn = build(expr, point, wrt, shown, not no_derivative, taylor=taylor)
    _show("function", drawn, json, output, force)
    if not json:  # a picture cannot say why it exits 1 or 3: a line on stderr does
        verdict(drawn.status, drawn.reason)
    return exit_code(drawn.status)


def _over_points(expression: Any, files: tuple[str, str], wrt: list[str] | None, shown: Any) -> int:
    """`files`: (--points, --input-format); read as diff --points reads it."""
    from ... import columnar
    from ...plotting import over_points
    from ...render.plot import over_points as view

    stream, name = open_points(files[0])
    with stream:
        points = columnar.read_all(files[0], columnar.kind_of(*files), stream, name)
    on_points = over_points(expression, points, wrt, window=shown)
    width, color = terminal()
    sys.stdout.write(reading_line() + view(on_points, width, color))
    return ExitCode.OK


def _error_curve(
    expression: Any, at: Any, wrt: list[str] | None, steps: tuple[float, float] | None, how: Any
) -> int:
    """--fd-error: `steps` is --range, the range of h; `how` is (json, output, force)."""
    from ... import fderror

    _show("error_curve", fderror.curve(expression, at, wrt, steps), *how)
    return ExitCode.OK


# Each drawing's three views: its JSON document, its image, its terminal text.
_DOCUMENTS = {"function": "plot", "error_curve": "fd_error"}


def _show(view: str, drawing: Any, json: bool, output: str | None, force: bool) -> None:
    """A plot (`function`) or an error curve (`error_curve`) as JSON, an image
    (--output) or text for this terminal."""
    if json:
        from ... import jsonout

        emit(getattr(jsonout, _DOCUMENTS[view])(drawing))
    elif output is not None:
        from ...render import image

        getattr(image, view)(drawing, output, replace=force)
    else:
        from ...render import plot as text

        width, color = terminal()
        sys.stdout.write(reading_line() + getattr(text, view)(drawing, width, color))
