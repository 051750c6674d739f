"""Every `--json` document, one builder each, and strict encoding (RFC 8259:
no NaN/Infinity). Each builder's schema is beside it in gradcalc/schemas/.

Every document carries `schema_version`; a number that is not finite is
written as null with the reason beside it under `<key>_nonfinite`.

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
from .graphs import graph
from .implicit import implicit
from .manypoints import diff_lines, point_document
from .onepoint import diff, jacobian
from .plots import fd_error, plot
from .session_lines import repl_message, repl_output, with_exit_code
from .table import functions
from .taylor import taylor, taylor_explained
from .training import accumulate, perceptron, softmax_layer

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
