"""First derivatives of very wide products, in linear time.

A product of m factors differentiates into m terms of m - 1 factors, so its
derivative formula grows as m²: 7,000 factors would hold 49 million. Past
the engine's WIDE_FACTORS the formula is not built. Instead the computer
algebra system (SymEngine or SymPy, whichever `check` chose) differentiates
each operation on its own (d(a*b)/da = b, d sin(u)/du = cos(u)), those
partials are evaluated at the operation's inputs, and the chain rule
combines them from the output back to the variable (reverse accumulation),
in float64. Torch is not involved: autograd stays an independent check.
Scalar variables and first derivatives only (`check` decides).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import backward
from .cas import tree

if TYPE_CHECKING:
    from .cas import Engine
    from .parsing import Expression, Node


def widest_product(expr: Expression) -> int:
    """The number of factors depending on a variable in the widest product
    (divisors included) of `expr`: its derivative formula holds about the
    square of it."""
    depends = backward.depends_on(expr, set(expr.variables))
    links = tree.chain_links(expr)
    widest = 0
    for node in expr.nodes:
        if tree.CHAINS.get(node.op) == "Mul" and id(node) not in links:
            factors = sum(1 for factor, _ in tree.chain_operands(node) if depends[id(factor)])
            widest = max(widest, factors)
    return widest


def gradient(
    expr: Expression, point: dict, names: list, engine: Engine
) -> tuple[dict[str, float | None], dict[str, str]]:
    """d expr / d name for each of `names` (scalar variables) at `point`
    ({name: array}), with `engine` a `cas.Engine` (SymEngine or SymPy,
    whichever `check` chose). Returns ({name: float or None}, {name: why not})."""
    variable = backward.depends_on(expr, set(expr.variables))
    values: dict = {}
    for node in expr.nodes:  # forward: exact constants, float64 values elsewhere
        if node.op == "var":
            value = engine.number(float(point[node.value].reshape(-1)[0]))
        elif node.is_leaf:
            value = engine.leaf(node)
        else:
            value = engine.operation(node.op, [values[id(a)] for a in node.args])
            if variable[id(node)]:
                number, why = engine.value_at(value, {})
                if number is None:
                    return (
                        {name: None for name in names},
                        {name: f"{why} at {node.brief}" for name in names},
                    )
                value = engine.number(number)
        values[id(node)] = value
    found: dict[str, float | None] = {}
    whys: dict[str, str] = {}
    for name in names:
        found[name], why = _one_variable(expr, values, variable, name, engine)
        if why is not None:
            whys[name] = why
    return found, whys


class _Stop(Exception):
    """The sweep cannot go on: the reason is its message."""


def _one_variable(
    expr: Expression, values: dict, variable: dict, name: str, engine: Engine
) -> tuple[float | None, str | None]:
    """(d expr / d name, None), or (None, why not), by the one backward sweep
    over each operation's local derivative (see backward)."""
    depends = backward.depends_on(expr, {name})

    def contribution(node: Node, position: int, adjoint: float) -> float | None:

        arg = node.args[position]
        if not depends[id(arg)] or adjoint == 0.0:
            return None
        exponent = backward.constant_exponent(node, variable, values) if position == 0 else None
        inputs, partial = backward.local_rule(engine, node.op, len(node.args), position, exponent)
        arguments = node.args[:1] if exponent is not None else node.args
        local, why = engine.value_at(partial, {u: values[id(a)] for u, a in zip(inputs, arguments)})
        if local is None:
            raise _Stop(f"{why} (the derivative of {node.brief})")
        flowing = adjoint * local
        if not math.isfinite(flowing):
            raise _Stop(f"beyond float64's range (through {node.brief})")
        return flowing

    try:
        adjoints = backward.sweep(expr, 1.0, contribution)
    except _Stop as stop:
        return None, str(stop)
    leaves = [node for node in expr.nodes if node.op == "var" and node.value == name]
    return (adjoints.get(id(leaves[0]), 0.0) if leaves else 0.0), None
