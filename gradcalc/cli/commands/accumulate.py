"""`gradcalc accumulate`: what repeated backward() does to .grad."""

from __future__ import annotations

from typing import Annotated

import typer

from ...budget import DEFAULT_SECONDS as DEFAULT_TIMEOUT
from ...errors import ExitCode
from ..inputs import expression_and_point
from ..options import (
    At,
    Digits,
    DType,
    DTypeOption,
    Expression,
    Json,
    LatexFlag,
    Timeout,
    examples,
)
from ..output import emit, show

ENGINES = ("torch",)  # what it computes with, imported before its budget starts
SETTINGS = {
    "epilog": examples(
        "gradcalc accumulate 'x**2' --at 2 --passes 3",
        "gradcalc accumulate 'x**2' --at 2 --passes 3 --zero-grad",
        "gradcalc accumulate 'x*y' --at x=1,y=2 --json",
    ),
}


def accumulate(
    ctx: typer.Context,
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
    latex: LatexFlag = False,
) -> int:
    """What repeated backward() does to .grad: it accumulates unless zeroed."""
    from ...accumulation import accumulate as run

    expr, point = expression_and_point(ctx, expression, at)
    result = run(expr, point, passes, zero_grad, dtype.value)
    if json:
        from ...jsonout import accumulate as document

        emit(document(result))
    else:
        from ...render.accumulate import view

        show(view(result, digits))
    return ExitCode.OK if result.agree else ExitCode.DISAGREE
