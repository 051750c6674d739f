"""One module a command: its options, its flag rules, one library call, one view.

`COMMANDS` is the order `gradcalc --help` lists them in."""

from . import (
    accumulate,
    check,
    completion,
    diff,
    emit,
    functions,
    graph,
    perceptron,
    plot,
    repl,
    taylor,
)

COMMANDS = (
    diff,
    taylor,
    plot,
    graph,
    emit,
    perceptron,
    accumulate,
    check,
    functions,
    completion,
    repl,
)
