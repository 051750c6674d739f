"""Float64 overflow at a point where f itself is finite.

`exp(x)*exp(-x)` at 1000 is 1, but in float64 exp(1000) is inf and inf·0 is
NaN: the point is not undefined (docs/verdicts.md: f itself not finite or not
real), float64 is too narrow for a part of the expression there. The one-point
driver asks `past_float64` before it calls a non-finite float64 evaluation
undefined: when every sub-expression is finite in 30 digits (mpmath's
exponents have no float64 limit) and the first non-finite one is past
float64's range, the error says that float64 overflows (kind `overflow`, exit
3, as a computation past its budget), never that f is undefined.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import Float64RangeError, GradcalcError
from .parsing import Expression, Node

MAX_NODES = 2_000  # a larger tree is left to the float64 verdict (30 digits per node)
LARGEST = float(np.finfo(np.float64).max)
# A part past this is not evaluated further in 30 digits (exp of it would need
# an exponent of 10**1000 digits): the float64 verdict, undefined, stands.
ASTRONOMICAL = 10**1000


def past_float64(
    expr: Expression, node: Node, values: dict, point: dict[str, np.ndarray], where: str
) -> Float64RangeError | None:
    """The error to raise when `node`, the first sub-expression that is not
    finite in float64 at `point` (`where` names it; `values`: each node's
    float64 value there), is only past float64's range: every node that is
    not finite in float64, and f itself, are finite in 30 digits. None when
    f is undefined there (or the check does not apply: vector variables, a
    tree of more than MAX_NODES nodes)."""
    if any(np.ndim(v) for v in point.values()) or len(expr.nodes) > MAX_NODES:
        return None
    wanted = {id(n) for n in expr.nodes if not np.all(np.isfinite(values[id(n)]))}
    exact = _exact_values(expr, point, wanted | {id(expr.root)})
    if exact is None:
        return None
    part = exact[id(node)]
    if abs(part) <= LARGEST:  # float64 would hold it: not an overflow
        return None
    from .cas import sympy_engine as engine

    value = engine.value_at(exact[id(expr.root)], {})[0]
    if value is None:  # f itself past float64's range: exp(x) at 1000 is not finite there
        return None
    return Float64RangeError(
        f"{expr.source} is {value:.6g} at {where} (in 30 digits), but float64 cannot "
        f"evaluate it there: {node.brief} is {_short(part)}, past float64's largest "
        f"number ({LARGEST:.3g}), so every float64 method overflows; rewrite the "
        "expression so that no part of it leaves float64's range"
    )


def _exact_values(
    expr: Expression, point: dict[str, np.ndarray], wanted: set[int]
) -> dict[int, Any] | None:
    """The `wanted` nodes' values in 30 digits (SymPy Floats), or None when
    one is not a finite real there."""
    import sympy as sp

    from .cas import sympy_engine as engine

    symbols = engine.symbols_for(expr.variables, dict.fromkeys(expr.variables))
    try:
        tree = engine.build(expr, symbols, keep=True)
    except GradcalcError:  # 9**9**9: an exact number past the CAS's limit
        return None
    subs = engine.substitutions(symbols, point)
    values: dict[int, Any] = {}
    for node in expr.nodes:  # children first
        if id(node) not in wanted:
            continue
        if any(abs(values.get(id(arg), 0)) > ASTRONOMICAL for arg in node.args):
            return None  # (a tower of powers past this would take 30 digits forever)
        try:
            number = sp.sympify(tree[id(node)]).evalf(engine.PRECISION, subs=subs)
        except (ArithmeticError, TypeError, ValueError):
            return None
        if not (number.is_real and number.is_finite and number.is_Number):
            return None
        values[id(node)] = number
    return values


def _short(number: Any) -> str:
    """A SymPy Float of any exponent in four digits: 1.970e+434."""
    import mpmath

    return str(mpmath.nstr(mpmath.mpf(number._mpf_), 4))


__all__ = ["past_float64"]
