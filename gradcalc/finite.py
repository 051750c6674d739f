"""f at one point: its float64 value at every node, or the error that says
why there is none. One rule for every command that evaluates f at one point
(diff, graph, accumulate, taylor): where a node is not finite in float64,
`overflow.past_float64` decides whether f itself is finite there (float64
overflows, kind `overflow`, or rounds a part onto a singularity, kind
`rounding`); otherwise f is undefined there (kind `domain`), and the line
names the node and why (a division by zero, a logarithm of 0, an argument
outside the function's domain, an underflow)."""

from __future__ import annotations

import re

import numpy as np

from . import atpoint, numeric
from .errors import DomainError
from .functions import TABLE, Function
from .parsing import Expression, Node


def point_text(point: dict) -> str:
    """The point as the error lines show it: x=1000.0, y=[1.0, 2.0]."""
    return ", ".join(f"{k}={atpoint.as_json({k: v})[k]}" for k, v in point.items())


def values_at(expr: Expression, point: dict[str, np.ndarray]) -> dict:
    """Every node's float64 value at `point` (numeric.first_undefined's), when
    each is finite; else raises the error diff raises there: Float64RangeError,
    Float64RoundingError or DomainError."""
    node, values = numeric.first_undefined(expr, numeric.as_batch(point))
    if node is not None:
        from .overflow import past_float64  # f finite, float64 too narrow: not undefined

        raise past_float64(expr, node, values, point, point_text(point)) or DomainError(
            _undefined_message(node, values, point)
        )
    return values


def _undefined_message(node: Node, values: dict, point: dict) -> str:
    value = np.asarray(values[id(node)]).reshape(-1)
    bad = value[~np.isfinite(value)][0]
    if node.op == "num":
        return f"the number {node.brief} is too large for float64"
    for arg in node.args:
        if _underflowed(arg, values):
            return (
                f"{node.brief} cannot be evaluated in float64 at {point_text(point)}: "
                f"{arg.brief} is not 0 there, but below float64's smallest number "
                "(4.9e-324) it rounds to 0"
            )
    func = TABLE[node.op]
    if np.isnan(bad):
        # The table's domain in this call's own terms: asin(2*x) is defined
        # for -1 <= 2*x <= 1 (not "for -1 <= x <= 1", x being a variable here).
        if node.op == "pow":  # its domain reads best in its own letters
            base, exponent = (arg.brief for arg in node.args)
            why = (
                f"is undefined (a**b is defined for {func.domain}; here a = {base}, b = {exponent})"
            )
        else:
            spelling = func.name if func.operator is None else node.brief
            why = f"is undefined ({spelling} is defined for {_domain_of(node, func)})"
    elif node.op == "div":
        why = "is infinite (division by zero)"
    elif func.name.startswith("log"):
        why = "is infinite (the logarithm of 0)"
    elif node.op == "pow" and np.any(np.asarray(values[id(node.args[0])]) == 0):
        why = "is infinite (0 to a negative power)"
    else:
        why = "is infinite (beyond float64's range, or a pole)"
    return f"{node.brief} {why} at {point_text(point)}"


# Never 0 at a finite argument: 0 in float64 is an underflow.
_POSITIVE = ("exp", "sigmoid", "softplus", "erfc", "cosh")
# 0 only where their argument is 0 (silu(x) = x·sigmoid(x)).
_ZERO_AT_ZERO = ("silu", "gelu", "gelu_tanh", "mish", "erf", "tanh", "sinh", "atan", "asinh")


def _underflowed(node: Node, values: dict) -> bool:
    """The node is 0 in float64 where it cannot be 0: a product, quotient or
    power of numbers that are not 0, or a function that is 0 only where its
    argument is (x**2 at 1e-200, sigmoid(x) at -1e20, -silu(x) at -1e20)."""
    if np.any(np.asarray(values[id(node)]) != 0):
        return False
    if node.op == "neg":
        return _underflowed(node.args[0], values)
    inputs = [np.asarray(values[id(a)]) for a in node.args]
    nonzero = {
        "mul": inputs,
        "div": inputs[:1],
        "pow": inputs[:1],
        **dict.fromkeys(_POSITIVE, inputs[:0]),
        **dict.fromkeys(_ZERO_AT_ZERO, inputs[:1]),
    }.get(node.op)
    if nonzero is None or not all(np.all(np.isfinite(v)) for v in inputs):
        return False
    return all(np.all(v != 0) for v in nonzero)


_DOMAIN_NAMES = {"div": ("a", "b"), "atan2": ("y", "x"), "log": ("x", "b")}


def _domain_of(node: Node, func: Function) -> str:
    names = _DOMAIN_NAMES.get(node.op, ("x",))
    texts = {name: arg.brief for name, arg in zip(names, node.args)}
    return re.sub(r"\b[abxy]\b", lambda m: texts.get(m.group(), m.group()), func.domain)


__all__ = ["point_text", "values_at"]
