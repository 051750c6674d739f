"""One module a command: its options, its flag rules, one library call, one view.

`NAMES` is the order `gradcalc --help` lists them in; `module(name)` imports
one. A run imports only the command it runs (cli.app makes each on first use):
the other ten modules and their options would cost it ~4 ms of start-up."""

import importlib
from types import ModuleType

NAMES = (
    "diff",
    "taylor",
    "plot",
    "graph",
    "emit",
    "perceptron",
    "accumulate",
    "check",
    "functions",
    "completion",
    "repl",
)


def module(name: str) -> ModuleType:
    """The module of the command `name` (one of NAMES), imported."""
    return importlib.import_module(f"{__name__}.{name}")
