"""Every `--json` document, one builder each, and strict encoding (RFC 8259:
no NaN/Infinity). Each builder's schema is beside it in gradcalc/schemas/.

Every document carries `schema_version`; a number that is not finite is
written as null with the reason beside it under `<key>_nonfinite`.

A builder's module is imported when the builder is first asked for (module
`__getattr__`): a run imports the one it writes with, not thirteen (~3 ms of
start-up for `diff --json`). The five modules named as their builder
(certified, emitted, explanation, implicit, taylor; small) are imported here: the
builder's name must be bound over the module's before anything imports the
module itself, which would leave the module under that name.

| document | builder | schema |
| --- | --- | --- |
| any error | `error` | error.schema.json |
| diff | `diff` | diff.schema.json |
| diff --certify, --direction | `certified` (adds to `diff`'s) | diff.schema.json |
| diff --points | `diff_lines` (NDJSON), a line a point | diff.schema.json |
| diff --explain, --answer | `explained` (`explanation`, `answer`) | explain.schema.json |
| the same, at a point | `explained_at_point` | diff.schema.json |
| diff --implicit | `implicit` | implicit.schema.json |
| graph | `graph` | graph.schema.json |
| perceptron | `perceptron` | perceptron.schema.json |
| perceptron --loss ce | `softmax_layer` | perceptron-ce.schema.json |
| accumulate | `accumulate` | accumulate.schema.json |
| check | `usercheck.check` | check.schema.json |
| plot | `plot` | plot.schema.json |
| plot --fd-error | `fd_error` | fd_error.schema.json |
| functions | `functions` | functions.schema.json |
| emit | `emitted` | emit.schema.json |
| taylor | `taylor` | taylor.schema.json |
| taylor --explain | `taylor_explained` | taylor-explain.schema.json |
| repl --json | `repl_message`, `repl_output`, `with_exit_code` | repl.schema.json |
"""

import importlib
from typing import TYPE_CHECKING, Any

from .certified import certified
from .emitted import emitted
from .encoding import (
    NOT_CHECKED,
    SCHEMA_VERSION,
    SKIPPED,
    dumps,
    error,
    put_number,
)
from .explanation import answer, explained, explained_at_point, explanation
from .implicit import implicit
from .taylor import taylor, taylor_explained

if TYPE_CHECKING:
    from .graphs import graph
    from .manypoints import diff_lines, point_document
    from .onepoint import diff, jacobian
    from .plots import fd_error, plot
    from .session_lines import repl_message, repl_output, with_exit_code
    from .table import functions
    from .training import accumulate, perceptron, softmax_layer

# Each builder's module, and the builders it holds.
_BUILDERS = {
    "graphs": ("graph",),
    "manypoints": ("diff_lines", "point_document"),
    "onepoint": ("diff", "jacobian"),
    "plots": ("fd_error", "plot"),
    "session_lines": ("repl_message", "repl_output", "with_exit_code"),
    "table": ("functions",),
    "training": ("accumulate", "perceptron", "softmax_layer"),
}
_MODULE_OF = {name: module for module, names in _BUILDERS.items() for name in names}


def __getattr__(name: str) -> Any:
    module_name = _MODULE_OF.get(name)
    if module_name is None:  # a module that is not a builder's (usercheck): imported as one
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    builders = {builder: getattr(module, builder) for builder in _BUILDERS[module_name]}
    globals().update(builders)
    return builders[name]


__all__ = [
    "NOT_CHECKED",
    "SCHEMA_VERSION",
    "SKIPPED",
    "accumulate",
    "answer",
    "certified",
    "diff",
    "diff_lines",
    "dumps",
    "emitted",
    "error",
    "explained",
    "explained_at_point",
    "explanation",
    "fd_error",
    "functions",
    "graph",
    "implicit",
    "jacobian",
    "perceptron",
    "plot",
    "point_document",
    "put_number",
    "repl_message",
    "repl_output",
    "softmax_layer",
    "taylor",
    "taylor_explained",
    "with_exit_code",
]
