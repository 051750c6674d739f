"""An independent reference for tests: the parsed tree evaluated in mpmath at
high precision, and its derivatives by mpmath's own numerical
differentiation (one-sided where asked), never by gradcalc's methods.

Only the parser and the function table's `mpmath` column are shared with
the code under test: the column is itself checked against mpmath's own
functions in test_functions_table.py.
"""

from __future__ import annotations

import mpmath

from gradcalc.functions import TABLE
from gradcalc.parsing import parse

DIGITS = 50


def value(expression, point: dict):
    """f at `point` ({name: number}) in mpmath, or None where mpmath finds it
    undefined (a pole, a complex value, a domain error)."""
    expr = parse(expression) if isinstance(expression, str) else expression
    with mpmath.workdps(DIGITS):
        return _value(expr, {k: mpmath.mpf(v) for k, v in point.items()})


def _value(expr, point):
    values = {}
    try:
        for node in expr.nodes:
            if node.op == "num":
                result = mpmath.mpf(node.value)
            elif node.op == "const":
                result = {"pi": mpmath.pi, "e": mpmath.e, "E": mpmath.e}[node.value]
            elif node.op == "var":
                result = point[node.value]
            else:
                result = TABLE[node.op].mpmath(mpmath, *[values[id(a)] for a in node.args])
            if isinstance(result, mpmath.mpc):
                if abs(result.imag) > mpmath.mpf(10) ** (-DIGITS + 10):
                    return None
                result = result.real
            if not mpmath.isfinite(result):
                return None
            values[id(node)] = result
    except (ZeroDivisionError, ValueError, OverflowError):
        return None
    return values[id(expr.root)]


def derivative(expression, point: dict, wrt: tuple, direction: int = 0, step=None):
    """d^n f / d wrt... at `point` by mpmath.diff (direction -1/+1: one-sided),
    as a float; None where mpmath cannot evaluate f nearby."""
    expr = parse(expression) if isinstance(expression, str) else expression
    names = sorted(point)
    orders = [wrt.count(name) for name in names]
    with mpmath.workdps(DIGITS):
        at = [mpmath.mpf(point[name]) for name in names]

        def f(*args):
            result = _value(expr, dict(zip(names, args)))
            if result is None:
                raise ValueError("undefined")
            return result

        try:
            options = {"direction": direction} if direction else {}
            if step is not None:
                options["h"] = mpmath.mpf(step)
            if len(names) == 1:
                return float(mpmath.diff(f, at[0], orders[0], **options))
            return float(mpmath.diff(f, at, orders, **options))
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
