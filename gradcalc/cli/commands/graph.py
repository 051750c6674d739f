"""`gradcalc graph`: the computation graph as a Rich tree, DOT, Mermaid or JSON."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ...budget import DEFAULT_SECONDS as DEFAULT_TIMEOUT
from ...errors import ExitCode, UsageError
from ..group import exit_code
from ..inputs import expression_and_point
from ..options import (
    At,
    Digits,
    DType,
    DTypeOption,
    Expression,
    GraphFormat,
    LatexFlag,
    Timeout,
    examples,
)
from ..output import Writing, emit, show
from ..report import verdict

ENGINES = ("torch",)  # what it computes with, imported before its budget starts
SETTINGS = {
    "short_help": "The computation graph: values, local derivatives, gradients, grad_fn.",
    "epilog": examples(
        "gradcalc graph 'x*x' --at 3",
        "gradcalc graph 'sin(x**2)' --at 3 -f dot | dot -Tsvg > graph.svg",
        "gradcalc graph 'x*y' --at x=1,y=2 --format json",
    ),
}


def graph(
    ctx: typer.Context,
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
    latex: LatexFlag = False,
) -> int:
    """The computation graph: forward values, local derivatives, gradients flowing back,
    and torch's own grad_fn view with its retained gradients."""
    from ... import computation as graph_model

    if json and format not in (GraphFormat.tree, GraphFormat.json):
        raise UsageError(f"--json and --format {format.value} are two forms: choose one")
    expr, point = expression_and_point(ctx, expression, at)
    model = graph_model.build(expr, point, dtype.value)
    if json or format is GraphFormat.json:
        from ...jsonout import graph as document

        emit(document(model))
    elif format is GraphFormat.tree:
        from ...render.graph import tree

        show(tree(model, full, digits))
    else:
        from ...render import graph as views

        with Writing():
            sys.stdout.write(getattr(views, format.value)(model, digits))
        # What the tree's last line says, and the exit code below tells.
        if model.status != "agree":
            verdict(model.status, model.reason)
        elif not model.agree:
            verdict("disagree", "some gradients differ from torch's retained .grad")
    if model.status != "agree":  # the point's verdict, as diff gives it
        return exit_code(model.status)
    return ExitCode.OK if model.agree else ExitCode.DISAGREE
