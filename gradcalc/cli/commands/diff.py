"""`gradcalc diff`: the derivative at a point three ways and the verdict (--points, --explain)."""

# No `from __future__ import annotations`: Typer reads the options from the
# signature, and evaluating 30 annotation strings at every run costs ~0.7 ms.

import sys

import typer

from ...budget import DEFAULT_SECONDS as DEFAULT_TIMEOUT
from ..course_options import Certify, Direction, Unnormalized
from ..diff_implicit import answer_implicit
from ..diff_rules import DiffFlags
from ..diff_table import diff_table
from ..group import exit_code
from ..inputs import derivative_asked, expression_and_point
from ..options import (
    AnswerOption,
    At,
    DiffFormat,
    DiffFormatOption,
    DiffTimeout,
    DType,
    DTypeOption,
    Explain,
    Expression,
    FittedDigits,
    Force,
    Full,
    GraphFlag,
    Implicit,
    InputFormatOption,
    Json,
    LatexFlag,
    NoAutograd,
    Order,
    PlotFlag,
    PointsFile,
    PointsFormat,
    PointsOutput,
    Pretty,
    Steps,
    Wrt,
    examples,
)
from ..output import draw_tangent, emit, show


def engines(params: dict) -> tuple[str, ...]:
    """What these flags compute with (see DiffFlags.engines)."""
    return DiffFlags.read(params).engines()


SETTINGS = {
    "short_help": "Derivative or gradient at a point, three ways, and whether they agree.",
    "epilog": examples(
        "gradcalc diff 'sin(x**2)' --at 3",
        "gradcalc diff 'x^2 + y^2 = 25' --implicit y --at x=3,y=4",
        """echo '{"x": 2}' | gradcalc diff 'x**3' --points - --format csv""",
    ),
}


def diff(
    ctx: typer.Context,
    expression: Expression,
    at: At = None,
    wrt: Wrt = None,
    order: Order = 1,
    dtype: DTypeOption = DType.float64,
    steps: Steps = False,
    graph: GraphFlag = False,
    full: Full = False,
    no_autograd: NoAutograd = False,
    plot: PlotFlag = False,
    digits: FittedDigits = None,
    timeout: DiffTimeout = DEFAULT_TIMEOUT,
    points: PointsFile = None,
    input_format: InputFormatOption = PointsFormat.auto,
    output: PointsOutput = None,
    force: Force = False,
    explain: Explain = False,
    answer: AnswerOption = None,
    output_format: DiffFormatOption = DiffFormat.text,
    pretty: Pretty = False,
    certify: Certify = False,
    direction: Direction = None,
    unnormalized: Unnormalized = False,
    json: Json = False,
    latex: LatexFlag = False,
    implicit: Implicit = None,
) -> int:
    """Derivative or gradient at a point, three ways (SymPy, torch autograd, finite
    differences), and whether they agree."""
    flags = DiffFlags.read(ctx.params)
    flags.check()
    if implicit is not None:
        return answer_implicit(ctx.params)
    expr, point = expression_and_point(ctx, expression, at)
    wrt, order = derivative_asked(expr, wrt, order)
    if points is not None:
        from ..diff_points import answer_points

        form = "json" if json else output_format.value
        files = (input_format.value, output, force)
        return answer_points(expr, points, wrt, order, dtype.value, form, digits, files)
    if flags.explaining:
        from ..diff_explain import answer_explained

        asked = {"expression": expr, "at": point, "wrt": wrt, "order": order}
        return answer_explained(ctx.params | asked)
    from ...pointcheck import differentiate

    result = differentiate(
        expr,
        point,
        wrt=wrt,
        order=order,
        dtype=dtype.value,
        full=full,
        autograd=not no_autograd,
    )
    if flags.certify or flags.direction:  # the table, each ball, D_u f
        from ..diff_extras import answer_extras

        return answer_extras(result, ctx.params)
    if json:
        from ...jsonout import diff as document

        emit(document(result))
        return exit_code(result.status)
    table = diff_table(result, flags, full, digits, dtype.value)
    drawn = draw_tangent(result) if plot else ""
    show(table)
    if drawn:
        sys.stdout.write("\n" + drawn)
    return exit_code(result.status)
