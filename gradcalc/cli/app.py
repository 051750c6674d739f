"""The Typer app: the root options and the commands, registered in the order
`gradcalc --help` lists them."""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Annotated

import typer

from .. import __version__
from .commands import COMMANDS
from .group import GradcalcCommand, GradcalcGroup
from .output import Writing

app = typer.Typer(
    cls=GradcalcGroup,
    help="A gradient calculator you can trust: SymPy, torch autograd and finite "
    "differences, side by side.\n\nExit codes: 0 all methods agree; 1 they disagree, or "
    "the point is a kink; 2 bad input (also past a documented size limit); 3 undefined "
    "or not finite at the point, or past the time or memory budget; 130 interrupted; "
    "70 a bug.",
    epilog="Examples:\n\n"
    "gradcalc diff 'sin(x**2)' --at 3\n\n"
    "gradcalc graph 'x*y + sin(x)' --at x=1,y=2\n\n"
    "gradcalc perceptron --x 6.7 --y 0 --epochs 5",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        with Writing():
            sys.stdout.write(f"gradcalc {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """A gradient calculator you can trust."""


def _command_class(module: ModuleType) -> type[GradcalcCommand]:
    """The command's class, with what its module says it computes with
    (`ENGINES`, or `engines(params)` when that depends on the options) and
    what it checks before (`prepare(params)`)."""
    engines = getattr(module, "engines", None)
    if engines is None and hasattr(module, "ENGINES"):
        fixed = module.ENGINES

        def engines(params: dict) -> tuple[str, ...]:
            return fixed

    prepare = getattr(module, "prepare", None)
    attributes = {
        "engines": None if engines is None else staticmethod(engines),
        "prepare": None if prepare is None else staticmethod(prepare),
    }
    name = module.__name__.rsplit(".", 1)[1]
    return type(f"{name.title()}Command", (GradcalcCommand,), attributes)


for _module in COMMANDS:
    _name = _module.__name__.rsplit(".", 1)[1]
    app.command(cls=_command_class(_module), **_module.SETTINGS)(getattr(_module, _name))
