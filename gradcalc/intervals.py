"""Interval enclosures of every node of an expression at a point: bounds
that hold (mpmath's interval arithmetic at PROOF_DIGITS digits), where
30-digit evaluation can take a zero for a tiny number (sin(x - 1000) at
1000 is 0; evalf says 1.5e-154). overflow.py proves with them that f is
finite where float64 fails (a pole it rounded onto, an overflow), and that
float64 rounded a part onto its kink (abs(x-pi) at float64's pi)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .parsing import Expression, Node

# A bound past this is not enclosed further (exp of it would need an exponent
# of 10**1000 digits).
ASTRONOMICAL = 10**1000

PROOF_DIGITS = 50  # the working precision of `enclose`


class NoIntervalForm(Exception):
    """A part of the expression that `enclose` cannot enclose soundly."""


class _Enclosures:
    """The functions the operations in ENCLOSED call (as `mp.`), each an
    enclosure of its exact result: mpmath's interval sin, cos, exp, log and
    sqrt, and the rest written with those and + - * /, each of which encloses
    its exact result, so they do too (mpmath's own interval sign, for one,
    says -1 of [0, 0]). Anything else raises NoIntervalForm."""

    def __init__(self, iv: Any) -> None:
        self.iv = iv
        self.pi, self.e, self.mpf = iv.pi, iv.e, iv.mpf
        self.sin, self.cos, self.exp, self.sqrt = iv.sin, iv.cos, iv.exp, iv.sqrt

    def __getattr__(self, name: str) -> Any:
        raise NoIntervalForm(name)

    def log(self, x: Any, base: Any = None) -> Any:
        found = self.iv.log(x)
        return found if base is None else found / self.iv.log(self.iv.mpf(base))

    def log10(self, x: Any) -> Any:
        return self.log(x, 10)

    def tan(self, x: Any) -> Any:
        return self.iv.sin(x) / self.iv.cos(x)

    def sec(self, x: Any) -> Any:
        return 1 / self.iv.cos(x)

    def csc(self, x: Any) -> Any:
        return 1 / self.iv.sin(x)

    def cot(self, x: Any) -> Any:
        return self.iv.cos(x) / self.iv.sin(x)

    def sinh(self, x: Any) -> Any:
        grown = self.iv.exp(x)
        return (grown - 1 / grown) / 2

    def cosh(self, x: Any) -> Any:
        grown = self.iv.exp(x)
        return (grown + 1 / grown) / 2

    def tanh(self, x: Any) -> Any:
        grown = self.iv.exp(2 * x)
        return (grown - 1) / (grown + 1)

    def power(self, base: Any, exponent: Any) -> Any:
        whole = exponent.a == exponent.b and int(exponent.a) == exponent.a
        if whole and abs(int(exponent.a)) <= MAX_WHOLE_POWER:
            return base ** int(exponent.a)
        return self.iv.exp(exponent * self.iv.log(base))  # (a base that is not > 0 raises)


# The function table's operations `enclose` encloses: each calls only
# + - * / and `_Enclosures` (the piecewise ones are in PIECEWISE). The rest
# (erf, the inverse functions, the functions of whole vectors, ...) leave f to
# the float64 verdict.
ENCLOSED = frozenset(
    [
        "add",
        "sub",
        "mul",
        "div",
        "neg",
        "pow",
        "sin",
        "cos",
        "tan",
        "sec",
        "csc",
        "cot",
        "sinh",
        "cosh",
        "tanh",
        "exp",
        "log",
        "log2",
        "log10",
        "sqrt",
        "sigmoid",
        "softplus",
        "silu",
        "detach",
    ]
)
MAX_WHOLE_POWER = 4096  # a whole exponent past this goes by exp and log


def ends(value: Any) -> tuple[Any, Any]:
    """An interval's ends as mpmath numbers, exactly (at twice the intervals'
    digits: at mpmath's default 15 they would round, and not outward)."""
    import mpmath

    with mpmath.mp.workdps(2 * PROOF_DIGITS):
        return +mpmath.mpf(value.a), +mpmath.mpf(value.b)


def _side(value: Any) -> int:
    """1, -1 or 0 where the whole interval is above, below or at 0;
    NoIntervalForm where it straddles 0 (which piece is not known)."""
    lo, hi = ends(value)
    if lo > 0:
        return 1
    if hi < 0:
        return -1
    if lo == hi == 0:
        return 0
    raise NoIntervalForm("a piece")


def _least(iv: Any, *values: Any) -> Any:
    bounds = [ends(iv.mpf(v)) for v in values]
    return iv.mpf([min(b[0] for b in bounds), min(b[1] for b in bounds)])


def _most(iv: Any, *values: Any) -> Any:
    bounds = [ends(iv.mpf(v)) for v in values]
    return iv.mpf([max(b[0] for b in bounds), max(b[1] for b in bounds)])


def _clamp(iv: Any, x: Any, lo: Any, hi: Any) -> Any:
    if ends(lo)[1] > ends(hi)[0]:  # not lo <= hi for sure: the table's domain decides
        raise NoIntervalForm("clamp")
    return _most(iv, lo, _least(iv, hi, x))


def _leaky(iv: Any, x: Any, slope: Any = None) -> Any:
    side = _side(x)
    return x if side >= 0 else (iv.mpf("0.01") if slope is None else slope) * x


# The piecewise operations, enclosed by their ends: min and max by each end,
# a function of pieces only where the interval lies on one piece.
PIECEWISE: dict[str, Any] = {
    "abs": lambda iv, x: abs(x),
    "sign": lambda iv, x: iv.mpf(_side(x)),
    "min": _least,
    "max": _most,
    "relu": lambda iv, x: _most(iv, x, 0),
    "hardtanh": lambda iv, x: _most(iv, -1, _least(iv, 1, x)),
    "clamp": _clamp,
    "leaky_relu": _leaky,
    "elu": lambda iv, x: x if _side(x) >= 0 else iv.exp(x) - 1,
}


def enclose(expr: Expression, point: dict[str, np.ndarray]) -> dict[int, Any] | None:
    """Every node's value at `point` as an mpmath interval (PROOF_DIGITS
    digits), the function table's mpmath column evaluated by `_Enclosures`:
    bounds that hold, where evalf's 30 digits can take a zero for a tiny
    number (sin(x - 1000) at 1000 is 0; evalf says 1.5e-154). A vector's
    value is a list of intervals, one per element (elementwise operations
    element by element, the reductions in REDUCTIONS by their sums). None
    where a part is not a bounded interval (a pole); NoIntervalForm where an
    operation is not enclosed, a bound passes ASTRONOMICAL (exp of it would
    take for ever) or mpmath fails."""
    import mpmath

    iv = mpmath.iv
    context = _Enclosures(iv)
    values: dict[int, Any] = {}
    saved, iv.dps = iv.dps, PROOF_DIGITS
    try:
        for node in expr.nodes:
            value = _node_value(node, [values[id(a)] for a in node.args], point, context)
            for element in value if isinstance(value, list) else [value]:
                if not isinstance(element, type(iv.mpf(0))):
                    raise NoIntervalForm(node.op)
                lo, hi = ends(element)
                if not (mpmath.isfinite(lo) and mpmath.isfinite(hi)):
                    return None
                if max(abs(lo), abs(hi)) > ASTRONOMICAL:
                    raise NoIntervalForm(node.op)
            values[id(node)] = value
    except NoIntervalForm:
        raise
    except Exception as error:  # mpmath's own failures: no proof either way
        raise NoIntervalForm(str(error)) from None
    finally:
        iv.dps = saved
    return values


def _node_value(node: Node, args: list[Any], point: dict[str, np.ndarray], context: Any) -> Any:
    """One node's enclosure from its arguments' (intervals, or lists of them)."""
    from .functions import TABLE

    iv = context.iv
    if node.op == "var":
        numbers = np.asarray(point[node.value], dtype=np.float64)
        if numbers.ndim:
            return [iv.mpf(float(v)) for v in numbers.reshape(-1)]
        return iv.mpf(float(numbers))
    if node.op == "num":
        return iv.mpf(str(node.value))
    if node.op == "const":
        return +(iv.pi if node.value == "pi" else iv.e)  # (a constant: as an interval)
    if node.op in REDUCTIONS:
        return REDUCTIONS[node.op](iv, *args)
    if node.op in PIECEWISE:
        apply = lambda *a: PIECEWISE[node.op](iv, *a)  # noqa: E731
    elif node.op in ENCLOSED:
        apply = lambda *a: _interval(iv, TABLE[node.op].mpmath(context, *a))  # noqa: E731
    else:
        raise NoIntervalForm(node.op)
    lengths = {len(a) for a in args if isinstance(a, list)}
    if not lengths:
        return apply(*args)
    if len(lengths) > 1:
        raise NoIntervalForm("vectors of two lengths")
    (length,) = lengths
    columns = [a if isinstance(a, list) else [a] * length for a in args]
    return [apply(*row) for row in zip(*columns)]


def _interval(iv: Any, found: Any) -> Any:
    return iv.mpf(found) if isinstance(found, (int, float)) else found


def _elements(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def _total(iv: Any, terms: list[Any]) -> Any:
    return sum(terms[1:], terms[0]) if terms else iv.mpf(0)


def _norm(iv: Any, x: Any, p: Any = None) -> Any:
    if p is not None and not (p.a == p.b == 1 or p.a == p.b == 2):
        raise NoIntervalForm("norm")
    if p is not None and p.a == 1:
        return _total(iv, [abs(v) for v in _elements(x)])
    return iv.sqrt(_total(iv, [v * v for v in _elements(x)]))


def _index(iv: Any, x: Any, i: Any) -> Any:
    return _elements(x)[int(ends(i)[0])]


def _dot(iv: Any, a: Any, b: Any) -> Any:
    if len(_elements(a)) != len(_elements(b)):
        raise NoIntervalForm("dot")
    return _total(iv, [u * v for u, v in zip(_elements(a), _elements(b))])


# The functions of whole vectors `enclose` takes: each by + - * / and sqrt of
# its elements (sum, mean, dot, the 1- and 2-norm), or by picking them.
REDUCTIONS: dict[str, Any] = {
    "sum": lambda iv, x: _total(iv, _elements(x)),
    "mean": lambda iv, x: _total(iv, _elements(x)) / len(_elements(x)),
    "dot": _dot,
    "norm": _norm,
    "index": _index,
    "vector": lambda iv, *parts: [e for p in parts for e in _elements(p)],
}


def tight(proof: dict[int, Any]) -> bool:
    """Is every interval narrow (PROOF_WIDTH of its size): its middle f's value?"""
    import mpmath

    for value in proof.values():
        for element in value if isinstance(value, list) else [value]:
            lo, hi = ends(element)
            with mpmath.mp.workdps(2 * PROOF_DIGITS):
                if hi - lo > PROOF_WIDTH * max(abs(lo), abs(hi)):
                    return False
    return True


PROOF_WIDTH = 1e-10  # the line shows 6 digits of f and 4 of a part


__all__ = ["ASTRONOMICAL", "PROOF_DIGITS", "NoIntervalForm", "enclose", "ends", "tight"]
