"""`gradcalc diff`: the derivative at a point three ways and the verdict; or
over a file's points; or explained step by step."""

from __future__ import annotations

import sys
from typing import Any

import typer

from ...budget import DEFAULT_SECONDS as DEFAULT_TIMEOUT
from ..diff_rules import DiffFlags
from ..group import exit_code
from ..inputs import expression_and_point
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
    InputFormatOption,
    Json,
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
        "echo 'tanh(x)' | gradcalc diff - --at 0.5 --steps",
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
    json: Json = False,
) -> int:
    """Derivative or gradient at a point, three ways (SymPy, torch autograd, finite
    differences), and whether they agree."""
    flags = DiffFlags.read(ctx.params)
    flags.check()
    expr, point = expression_and_point(ctx, expression, at)
    if points is not None:
        from ..diff_points import answer_points

        form = "json" if json else output_format.value
        files = (input_format.value, output, force)
        return answer_points(expr, points, wrt, order, dtype.value, form, digits, files)
    if flags.explaining:
        from ..diff_explain import answer_explained

        return answer_explained(ctx.params | {"expression": expr, "at": point})
    from ...check import differentiate

    result = differentiate(
        expr,
        point,
        wrt=wrt,
        order=order,
        dtype=dtype.value,
        full=full,
        autograd=not no_autograd,
    )
    if json:
        from ...jsonout import diff as document

        emit(document(result))
        return exit_code(result.status)
    table = _table(result, flags, full, digits, dtype.value)
    drawn = draw_tangent(result) if plot else ""
    show(table)
    if drawn:
        sys.stdout.write("\n" + drawn)
    return exit_code(result.status)


def _table(result: Any, flags: DiffFlags, full: bool, digits: int | None, dtype: str) -> Any:
    """The table, then the chain rule's steps and the graph when asked for."""
    from rich.console import Group

    from ...jacobian import Jacobian
    from ...render.diff import view

    parts = [view(result, digits)]
    if not (flags.steps or flags.graph):
        return Group(*parts)
    flags.check_answer(vector_valued=isinstance(result, Jacobian))
    from ... import computation as graph_model

    # The graph's verdict is the table's when the table is its question (the
    # first derivative by every variable): differentiated once, not twice.
    same = flags.order == 1 and list(result.wrt) == list(result.variables)
    verdict = (result.status, result.reason) if same else None
    model = graph_model.build(result.tree, result.point, dtype, verdict)
    if flags.steps:
        from ...render.steps import view as steps_view

        parts.append(steps_view(model, result.wrt, full, digits, flags.order))
    if flags.graph:
        from ...render.graph import tree

        parts.append(tree(model, full, digits))
    return Group(*parts)
