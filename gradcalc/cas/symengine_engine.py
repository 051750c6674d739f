"""SymEngine for large expressions: the same symbolic method, fast.

SymPy differentiates a 200-factor product in seconds and prints it in more;
SymEngine (SymPy's C++ core) does both in milliseconds. gradcalc switches to
it when the tree is large and every function in it has a SymEngine
derivative (the function table's `symengine` column). Values are found as
SymPy's are, in 30 digits (MPFR's 100 bits), from the point's exact binary
value: a derivative that cancels (3(x + 1/10)^2 - 3x^2 at 1e10) keeps its digits.

`number`, `operation`, `placeholders` and `leaf` let `chainrule` work with
SymEngine as with SymPy.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..functions import TABLE
from . import tree

if TYPE_CHECKING:
    from ..parsing import Expression, Node

NAME, ENGINE = "SymEngine", "symengine"  # for people; for Result.engine
LARGE = 60  # tree nodes above which SymEngine takes over
# Factors of a product past which its derivative formula (their square) is
# not built, see chainrule: building and evaluating it would take seconds.
WIDE_FACTORS = 500


def suits(expr: Expression, any_size: bool = False) -> bool:
    """SymEngine can differentiate every function in `expr`, and the tree is
    large (or size does not matter: the symbolic-only mode wants speed)."""
    big = any_size or len(expr.nodes) > LARGE
    return big and all(node.op not in TABLE or TABLE[node.op].symengine for node in expr.nodes)


def symbols_for(variables: list, shapes: dict) -> dict:
    import symengine as se

    out: dict[str, Any] = {}
    for name in variables:
        length = shapes.get(name)
        out[name] = (
            se.Symbol(name)
            if length is None
            else [se.Symbol(f"{name}[{i}]") for i in range(length)]
        )
    return out


def build(expr: Expression, symbols: dict) -> Any:
    import symengine as se

    return tree.build(expr, symbols, se)


def derivative(f: Any, symbols: tuple) -> Any:
    import symengine as se

    return se.diff(f, *symbols)


BITS = 100  # MPFR precision of a value: 30 digits, as SymPy's evalf


def substitutions(symbols: dict, point: dict) -> dict:
    import symengine as se

    subs = {}
    for name, symbol in symbols.items():
        values = point[name].reshape(-1)
        for s, v in zip(symbol if isinstance(symbol, list) else [symbol], values):
            # The float's exact binary value (Decimal spells it out whole).
            subs[s] = se.RealMPFR(str(Decimal(float(v))), BITS)
    return subs


def value_at(f: Any, substitutions: dict) -> tuple[float | None, str | None]:
    """Float value at the point; (None, reason) when not a finite real."""
    try:
        number = _complex(f.subs(substitutions))
    except (TypeError, RuntimeError, ValueError, ZeroDivisionError):
        return None, "not a finite number"
    if cmath.isnan(number):
        return None, "not a number"
    if abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
        return None, "not real"
    if not math.isfinite(number.real):
        return None, "infinite"
    return number.real, None


def _complex(value: Any) -> complex:
    """The substituted value as a number. SymEngine leaves erf of an argument
    that is not a plain number (erf(0.25·(1 + tanh(0.5·sqrt(2)/sqrt(pi))))) unevaluated
    and complex() refuses it ("Not Implemented"); evaluating the whole
    expression at BITS first turns it into one."""
    try:
        return complex(value)
    except RuntimeError:
        return complex(value.n(BITS))


def text(f: Any) -> str:
    return str(f)


def printer() -> Callable[[Any], str]:
    return str


def number(value: float) -> Any:
    """A float64 value as a SymEngine number."""
    import symengine as se

    return se.RealDouble(value)


def operation(op: str, args: list) -> Any:
    """One operation of the function table on SymEngine arguments."""
    import symengine as se

    return tree.build_operation(op, args, se)


def placeholders(names: list) -> list:
    import symengine as se

    return [se.Symbol(name) for name in names]


def leaf(node: Node) -> Any:

    import symengine as se

    return tree.build_leaf(node, se)


class SymEngineEngine:
    """This module's functions as a `cas.Engine`."""

    NAME, ENGINE, WIDE_FACTORS = NAME, ENGINE, WIDE_FACTORS
    symbols_for = staticmethod(symbols_for)
    build = staticmethod(build)
    derivative = staticmethod(derivative)
    substitutions = staticmethod(substitutions)
    value_at = staticmethod(value_at)
    text = staticmethod(text)
    printer = staticmethod(printer)
    number = staticmethod(number)
    operation = staticmethod(operation)
    placeholders = staticmethod(placeholders)
    leaf = staticmethod(leaf)


ENGINE_INSTANCE = SymEngineEngine()
