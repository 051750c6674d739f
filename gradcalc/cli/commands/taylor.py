"""`gradcalc taylor`: the Taylor polynomial at a point, each coefficient
three ways (SymPy, torch autograd, mpmath), the remainder measured."""

from __future__ import annotations

from typing import Any

import typer

from ...budget import DEFAULT_SECONDS as DEFAULT_TIMEOUT
from ..course_options import RadiusTolerance, TaylorExplain, TaylorOrder, TaylorVariable
from ..group import exit_code
from ..inputs import expression_and_point
from ..options import (
    At,
    Digits,
    Expression,
    Json,
    Timeout,
    examples,
)
from ..output import emit, show


def engines(params: dict) -> tuple[str, ...]:
    """--explain works in SymPy alone; the polynomial needs torch and mpmath too."""
    return ("sympy",) if params.get("explain") else ("sympy", "torch", "mpmath")


SETTINGS = {
    "short_help": "The Taylor polynomial at a point, each coefficient three ways, "
    "and how far it holds.",
    "epilog": examples(
        "gradcalc taylor 'sin(x)' --at 0 --order 5",
        "gradcalc taylor 'exp(x)*y' --at x=1,y=2 --wrt x --json",
        "gradcalc taylor 'atan(x)' --at 1 -n 3 --explain",
    ),
}


def taylor(
    ctx: typer.Context,
    expression: Expression,
    at: At = None,
    order: TaylorOrder = 3,
    wrt: TaylorVariable = None,
    tolerance: RadiusTolerance = 1e-6,
    explain: TaylorExplain = False,
    digits: Digits = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    json: Json = False,
) -> int:
    """The Taylor polynomial of degree N around the point: each coefficient
    f⁽ᵏ⁾(a)/k! by SymPy, torch autograd (nested) and mpmath.taylor (50 digits),
    with diff's verdict and exit codes; the remainder |f − P| at distances 1,
    0.1, 0.01, 0.001 on both sides; and the radius within which |f − P| ≤ TOL."""
    expr, point = expression_and_point(ctx, expression, at)
    from ...taylor import expand

    # With --explain too: its exit code is the verdict's, as diff --explain's is.
    expanded = expand(expr, point, order=order, wrt=wrt, tolerance=tolerance)
    if explain:
        from ...explain import explain_taylor

        explained = explain_taylor(expr, point, order, wrt)
        return _explained(explained, json, digits) or exit_code(expanded.status)
    if json:
        from ...jsonout import taylor as document

        emit(document(expanded))
    else:
        from ...render.taylor import view

        show(view(expanded, digits))
    return exit_code(expanded.status)


def _explained(explained: Any, json: bool, digits: int | None) -> int:
    from ...errors import ExitCode

    if json:
        from ...jsonout import taylor_explained

        emit(taylor_explained(explained))
    else:
        from ...render.taylor import explained as view

        show(view(explained, digits))
    failed = not getattr(explained, "checked", True)
    return ExitCode.INTERNAL if failed else ExitCode.OK
