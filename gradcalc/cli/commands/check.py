"""`gradcalc check PATH.py:NAME`: the gradients of the user's own PyTorch code.

The one command that runs code gradcalc did not write: it imports the file
(running its top level, as `python PATH.py` or pytest would) and calls NAME."""

from __future__ import annotations

from typing import Annotated

import typer

from ...budget import DEFAULT_SECONDS as DEFAULT_TIMEOUT
from ..options import ComputeTimeout, Json, examples
from ..output import emit, show

ENGINES = ("torch",)  # what it computes with, imported before its budget starts
ABOUT = (
    "NAME in PATH.py (or package.module; losses.py:huber, mypkg.ops:softplus, "
    "model.py:net, a torch.nn.Module) is checked by reverse mode (torch.autograd.grad), "
    "forward mode (torch.func.jacfwd) where it works, finite differences, and SymPy where "
    "it traces, at float64 tensors built from the point. WARNING: this imports and runs "
    "PATH.py (its top level, then NAME), as python or pytest would: check only code you "
    "trust. No other gradcalc command runs code. Exit 0 agree, 1 disagree or not "
    "differentiable (a kink), 3 undefined or past the budget, 2 bad use (no such file or "
    "name, a point that does not cover the parameters, no tensor returned) or an exception"
    " raised by your code (shown with your own frames only), 130 Ctrl-C or a "
    "KeyboardInterrupt your code raised (named with its file and line)."
)
SETTINGS = {
    "epilog": ABOUT
    + "\n\n"
    + examples(
        "gradcalc check gradcalc.usercode.examples:softplus --at x=[0.5,-2,3]",
        "gradcalc check gradcalc.usercode.examples:wrong_square --at x=[1,2]",
        "gradcalc check gradcalc.usercode.examples:softplus --random 5 --shape x=3,4",
    ),
}

Target = Annotated[
    str,
    typer.Argument(
        metavar="PATH.py:NAME",
        help="The function: a file and a name in it "
        "(NAME may be dotted: Class.method), or package.module:NAME.",
        show_default=False,
    ),
]
Point = Annotated[
    list[str] | None,
    typer.Option(
        "--at",
        "-a",
        metavar="POINT",
        show_default=False,
        help="The point, by parameter name: x=[1,2,3],w=0.5; nested lists for a "
        "tensor of more dimensions (x=[[1,2],[3,4]]). Repeatable.",
    ),
]
Random = Annotated[
    int | None,
    typer.Option(
        "--random",
        metavar="N",
        show_default=False,
        help="Check N random points (normal draws, around --at when given) and report the worst.",
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(
        "--seed",
        metavar="S",
        show_default=False,
        help="Seed of --random's points and of the random directions that check an output "
        "of more than 64 elements (default 0).",
    ),
]
Shape = Annotated[
    list[str] | None,
    typer.Option(
        "--shape",
        metavar="NAME=N,M",
        show_default=False,
        help="A parameter's shape for --random without --at (x=3,4; x= a scalar). Repeatable.",
    ),
]


Symbolic = Annotated[
    bool,
    typer.Option(
        "--symbolic/--no-symbolic",
        help="Also trace the function into gradcalc's function table and compare "
        "SymPy's derivative (a scalar output of float64 code).",
    ),
]


def check(
    target: Target,
    at: Point = None,
    random: Random = None,
    seed: Seed = None,
    shape: Shape = None,
    symbolic: Symbolic = True,
    timeout: ComputeTimeout = DEFAULT_TIMEOUT,
    json: Json = False,
) -> int:
    """Check the gradients of your own PyTorch function (runs your file)."""
    import contextlib
    import sys

    from ...usercode.run import check as run
    from ...usercode.target import interrupted_in
    from ..group import exit_code

    # Under --json stdout is the document: what the user's code prints goes to stderr.
    quiet = contextlib.redirect_stdout(sys.stderr) if json else contextlib.nullcontext()
    try:
        with quiet:
            result = run(
                target,
                list(at or []) or None,
                random,
                seed or 0,
                list(shape or []) or None,
                symbolic,
            )
    except KeyboardInterrupt as error:  # raised by the user's code: said as its errors are
        raise interrupted_in(error) or error from None
    if json:
        from ...jsonout import usercheck

        emit(usercheck.check(result))
    else:
        from ...render.usercheck import view

        show(view(result))
    return exit_code(result.status)
