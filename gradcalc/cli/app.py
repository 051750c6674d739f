"""The Typer app: the root options and the commands, listed by `gradcalc --help`
in the order of `commands.NAMES`, each imported and made on first use."""

from __future__ import annotations

import sys
from collections.abc import Iterator, MutableMapping
from types import ModuleType
from typing import Annotated, Any

import typer
from typer.main import get_command_from_info

from .. import __version__
from . import commands
from .group import GradcalcCommand, GradcalcGroup
from .output import Writing


# A made command is Click's Command (vendored by Typer: no public type to name).
class Commands(MutableMapping[str, Any]):
    """The group's commands by name, in `commands.NAMES`' order, each made
    the first time it is asked for: a run imports and makes only its own
    (making all eleven costs ~8 ms of start-up; --help makes them all)."""

    def __init__(self) -> None:
        self._made: dict[str, Any | None] = dict.fromkeys(commands.NAMES)

    def __getitem__(self, name: str) -> Any:
        command = self._made[name]  # KeyError for a name that is not a command
        if command is None:
            command = self._made[name] = _made(name)
        return command

    def __setitem__(self, name: str, command: Any) -> None:
        self._made[name] = command

    def __delitem__(self, name: str) -> None:
        del self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._made)

    def __len__(self) -> int:
        return len(self._made)

    def __contains__(self, name: object) -> bool:
        return name in self._made


class AppGroup(GradcalcGroup):
    """The app's group, its commands made on first use (Commands)."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)  # (Typer hands it no command: none is registered)
        self.commands = Commands()

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        """Pickled as the app's group, made again by Typer where it is
        unpickled (the repl's worker in a spawned interpreter: budgeted.Worker)."""
        return (root_group, ())


app = typer.Typer(
    cls=AppGroup,
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


def root_group() -> Any:
    """The app's group, as `gradcalc` makes it."""
    return typer.main.get_command(app)


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


def _made(name: str) -> Any:
    """The command `name`, made as Typer makes a registered command: its
    module imported, its options read from its function's signature."""
    module = commands.module(name)
    app.command(cls=_command_class(module), **module.SETTINGS)(getattr(module, name))
    return get_command_from_info(
        app.registered_commands.pop(),  # (registered only to be made here)
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )
