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

# Constants a point can sit on in float64 without being them (pi, 0.1), and
# ones it can be (0.5, 1000): each as mpmath gives it at the working precision.
CONSTANTS = {
    "pi": lambda: mpmath.mp.pi,
    "E": lambda: mpmath.mp.e,
    "sqrt(2)": lambda: mpmath.mp.sqrt(2),
    "log(2)": lambda: mpmath.mp.log(2),
    "1/3": lambda: mpmath.mp.mpf(1) / 3,
    "0.1": lambda: mpmath.mp.mpf(1) / 10,
    "0.5": lambda: mpmath.mp.mpf(1) / 2,
    "1000": lambda: mpmath.mp.mpf(1000),
}


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


def one_variable_verdict(expression, name: str, x0: float, order: int = 1):
    """The verdict at x0 by mpmath alone, for an expression of one variable:
    ("undefined", None) where f is not finite there or a one-sided derivative
    is not; ("not_differentiable", None) where f is not continuous or, for
    some k <= order, the k-th one-sided derivatives differ; otherwise
    ("differentiable", the order-th derivative)."""
    expr = parse(expression) if isinstance(expression, str) else expression
    with mpmath.workdps(DIGITS):
        x = mpmath.mpf(x0)

        def f(t):
            result = _value(expr, {name: t})
            if result is None:
                raise ValueError("undefined")
            return result

        try:
            here = f(x)
        except ValueError:
            return "undefined", None
        # Continuity: a gap that keeps its size as the offset shrinks from
        # 1e-30 to 1e-40 (a jump); a continuous f's change shrinks with it.
        scale = max(1, abs(here))
        for sign in (-1, 1):
            try:
                gaps = [abs(f(x + sign * mpmath.mpf(10) ** -e) - here) for e in (30, 40)]
            except ValueError:
                return "undefined", None
            if gaps[1] > mpmath.mpf(10) ** -10 * scale and gaps[1] > gaps[0] / 2:
                return "not_differentiable", None
        derivative = None
        for k in range(1, order + 1):
            try:
                # Each side at two step sizes: a one-sided derivative that
                # exists is the same at both; one that diverges is not.
                left, left_finer = (
                    mpmath.diff(f, x, k, direction=-1, h=mpmath.mpf(10) ** -e) for e in (12, 20)
                )
                right, right_finer = (
                    mpmath.diff(f, x, k, direction=1, h=mpmath.mpf(10) ** -e) for e in (12, 20)
                )
            except ValueError:
                return "undefined", None
            for coarse, fine in ((left, left_finer), (right, right_finer)):
                # One-sided differences are first order: O(h) apart when the
                # derivative exists, orders of magnitude apart when it diverges.
                if not mpmath.isfinite(fine) or abs(fine - coarse) > mpmath.mpf(10) ** -3 * max(
                    1, abs(fine)
                ):
                    return "undefined", None
            # A corner's one-sided derivatives stay apart as the step shrinks;
            # a difference that shrinks with it (like √h) meets at the point.
            if abs(left_finer - right_finer) <= abs(left - right) / 2:
                right_finer = left_finer = (left_finer + right_finer) / 2
            left, right = left_finer, right_finer
            if abs(left - right) > mpmath.mpf(10) ** -8 * max(1, abs(right)):
                return "not_differentiable", None
            derivative = right
        return "differentiable", float(derivative)
