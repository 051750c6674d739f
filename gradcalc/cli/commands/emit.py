"""`gradcalc emit`: code for f and its gradient (or Hessian), run and
compared with SymPy before it is printed."""

from __future__ import annotations

import sys

import typer

from ...errors import ExitCode, UsageError
from ..inputs import expression_and_point
from ..options import (
    AutogradFunction,
    CodeFile,
    EmitAt,
    EmitOrder,
    EmitTarget,
    EmitTimeout,
    Expression,
    Force,
    Json,
    To,
    Wrt,
    examples,
)
from ..output import Writing
from ..output import emit as emit_json

SETTINGS = {
    "short_help": "Code for f and its gradient (NumPy, torch, JAX, C, LaTeX), checked first.",
    "epilog": examples(
        "gradcalc emit 'sin(x)*exp(y)' --to numpy",
        "gradcalc emit 'logsumexp(x) + y**2' --to c --at x=[1,2,3],y=0",
        "gradcalc emit 'softplus(w*x)' --to torch --function --wrt w",
    ),
}


def engines(params: dict) -> tuple[str, ...]:
    """What the certificate runs the code with, imported before the budget
    (JAX's code runs in a process of its own: emit/fresh.py)."""
    target = params.get("to")
    name = getattr(target, "value", target)
    extra = {"torch": ("torch",)}.get(str(name), ())
    return ("numpy", "sympy", "mpmath", *extra)


def emit(
    ctx: typer.Context,
    expression: Expression,
    to: To,
    wrt: Wrt = None,
    order: EmitOrder = 1,
    at: EmitAt = None,
    function: AutogradFunction = False,
    output: CodeFile = None,
    force: Force = False,
    timeout: EmitTimeout = 60.0,
    json: Json = False,
) -> int:
    """Write one self-contained function that returns f and its gradient (or
    Hessian), common sub-expressions computed once. Before anything is
    printed the code is run at random points inside the domain (and at
    --at) and compared with SymPy at 30 digits; if it does not match,
    nothing is printed and the exit code is 1."""
    from ...emit import emit as write_code

    if output is not None and json:
        raise UsageError("give either --output or --json, not both")
    output = None if output == "-" else output  # --output -: stdout, as without it
    if output is not None and not force:
        from ...outfile import refuse_to_replace

        refuse_to_replace(output, False)  # before the work, not after it
    expr, point = expression_and_point(ctx, expression, at)
    emitted = write_code(expr, EmitTarget(to).value, wrt, order, point or None, function)
    if json:
        from ...jsonout import emitted as document

        emit_json(document(emitted))
    elif output is not None:
        from ...outfile import write_text

        write_text(output, emitted.code, force)
    else:
        with Writing():
            sys.stdout.write(emitted.code)
    return ExitCode.OK
