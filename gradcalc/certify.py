"""`diff --certify`: each derivative's value enclosed in a ball with a
rigorous radius, by interval (ball) arithmetic: Arb, through python-flint.

SymPy's derivative expression (the one `diff` evaluates in 30 digits) is
walked node by node and evaluated with `flint.arb` balls: every operation
returns a ball that is guaranteed to hold the exact result of the same
operation on every number in its inputs' balls, so the final ball holds the
derivative's exact value at the point. A coordinate enters as its float64
joined with the exact number it stands for (0.1 typed is 1/10, pi/4 is pi/4;
3 and 0.5 are their float64): the ball holds the value at what was typed as
well as at its float64. The working precision starts at `START_BITS` and is
doubled until the radius is below `TARGET_RELATIVE` of the midpoint (or
`MAX_BITS` is reached). The ball is then written as two float64s, midpoint
and radius, the radius rounded outward so the float ball still holds Arb's.

Where Arb has no function for a node (`ARB`), the derivative is not
certified and the reason names the function; nothing is guessed. python-flint
is an optional extra (`pip install 'gradcalc[certify]'`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import UsageError

START_BITS = 128
MAX_BITS = 4096
TARGET_RELATIVE = 1e-30
EXTRA = "certify"
# Functions Arb has as a method of the same name as SymPy's class (lowercased).
ONE_ARGUMENT = [
    "sin",
    "cos",
    "tan",
    "sec",
    "csc",
    "cot",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "exp",
    "log",
    "sqrt",
    "erf",
    "erfc",
]


class Unsupported(Exception):
    """Arb cannot evaluate a function of the expression (named in the message)."""


@dataclass(frozen=True)
class Ball:
    """[midpoint − radius, midpoint + radius] holds the exact value."""

    midpoint: float
    radius: float
    bits: int  # the working precision that reached it
    arb: str = ""  # Arb's own ball, in decimal (its radius far below float64's)

    def distance(self, value: float | None) -> float | None:
        """How far `value` lies outside the ball (0 inside); None for no value."""
        if value is None or not math.isfinite(value):
            return None
        return max(0.0, abs(value - self.midpoint) - self.radius)

    def holds(self, value: float | None) -> bool:
        return self.distance(value) == 0.0


@dataclass(frozen=True)
class Certificate:
    """One derivative: its ball (None where Arb cannot evaluate it, and why)."""

    wrt: tuple[str, ...]
    ball: Ball | None
    why: str | None = None


def flint() -> Any:
    """python-flint, or the one-line error that names the extra to install."""
    try:
        import flint as module
    except ImportError:
        raise UsageError(
            "needs python-flint (Arb ball arithmetic): pip install 'gradcalc[certify]'",
            option="certify",
        ) from None
    return module


def _arb_table(arb: Any) -> dict[str, Callable[..., Any]]:
    """SymPy's function names -> the same function on Arb balls."""
    one = {name: (lambda method: lambda x: getattr(x, method)())(name) for name in ONE_ARGUMENT}
    return {
        **one,
        "Abs": abs,
        "sign": lambda x: x.sgn(),
        "atan2": lambda y, x: arb.atan2(y, x),
        "cbrt": lambda x: x.sgn() * abs(x).root(3),
        "detach": lambda x: x,
        "Heaviside": lambda x, *half: _step(arb, x),
        "DiracDelta": lambda x, *order: _spike(arb, x),
        "Max": lambda *xs: _fold(lambda a, b: a.max(b), xs),
        "Min": lambda *xs: _fold(lambda a, b: a.min(b), xs),
    }


def _step(arb: Any, x: Any) -> Any:
    if x > 0:
        return arb(1)
    if x < 0:
        return arb(0)
    raise Unsupported("Heaviside's ball straddles 0 (the step itself): Arb cannot decide it")


def _spike(arb: Any, x: Any) -> Any:
    if x > 0 or x < 0:
        return arb(0)  # DiracDelta (sign's derivative) is 0 away from 0
    raise Unsupported("DiracDelta's ball holds 0 (the spike itself): Arb cannot evaluate it")


def _fold(op: Callable[[Any, Any], Any], items: tuple) -> Any:
    total = items[0]
    for item in items[1:]:
        total = op(total, item)
    return total


def evaluate(f: Any, point: dict, bits: int) -> Any:
    """f (a SymPy expression) at `point` (Symbol -> float) as an Arb ball at
    `bits` of working precision. Raises Unsupported naming what Arb lacks."""
    import sympy as sp

    fl = flint()
    saved = fl.ctx.prec
    fl.ctx.prec = bits
    try:
        return _Walker(sp, fl.arb, point).ball_of(f)
    finally:
        fl.ctx.prec = saved


class _Walker:
    """Each SymPy node as an Arb ball, its arguments' balls already in `done`."""

    def __init__(self, sp: Any, arb: Any, point: dict) -> None:
        self.sp, self.arb, self.point = sp, arb, point
        self.table = _arb_table(arb)
        self.done: dict = {}

    def leaf(self, node: Any) -> Any:
        sp, arb = self.sp, self.arb
        if node.is_Symbol:
            return self.coordinate(float(self.point[node]))
        if node.is_Integer:
            return arb(int(node))
        if node.is_Rational:
            return arb(int(node.p)) / arb(int(node.q))
        if node is sp.pi:
            return arb.pi()
        if node is sp.E:
            return arb(1).exp()
        if node.is_Float:
            return arb(str(node))  # a decimal SymPy kept: read at the working precision
        raise Unsupported(f"Arb has no {type(node).__name__}")

    def coordinate(self, value: float) -> Any:
        """A coordinate of the point as a ball: the float64 itself, joined
        with the exact number it stands for when that differs (0.1 typed is
        1/10, pi/4 is pi/4: `taylor.exact_number`), so that the ball holds
        the derivative at what was typed as well as at its float64."""
        from .taylor import exact_number

        exact = exact_number(value)
        if exact.is_Float or exact == value:
            return self.arb(value)
        return self.arb(value).union(self.ball_of(exact))

    def ball_of(self, f: Any) -> Any:
        for node in self.sp.postorder_traversal(f):
            if node not in self.done:
                self.done[node] = self.node(node)
        return self.done[f]

    def node(self, node: Any) -> Any:
        if not node.args:
            return self.leaf(node)
        args = [self.done[a] for a in node.args]
        if node.is_Add:
            return _fold(lambda a, b: a + b, tuple(args))
        if node.is_Mul:
            return _fold(lambda a, b: a * b, tuple(args))
        if node.is_Pow:
            exponent = node.args[1]
            if exponent.is_Integer:
                return args[0] ** int(exponent)
            if exponent == self.sp.Rational(1, 2):
                return args[0].sqrt()
            return args[0] ** args[1]
        name = type(node).__name__
        if name in self.table:
            return self.table[name](*args)
        raise Unsupported(f"Arb has no {name}")


def enclose(f: Any, point: dict) -> Ball:
    """The ball of f at `point`, its precision doubled until it is tight.
    Raises Unsupported (Arb cannot evaluate a function, or the value is not
    finite there)."""
    fl = flint()
    bits = START_BITS
    while True:
        ball = evaluate(f, point, bits)
        if not ball.is_finite():
            if bits >= MAX_BITS:
                raise Unsupported(
                    "Arb's ball is not finite here (the value is undefined or infinite, "
                    f"or {MAX_BITS} bits could not bound it)"
                )
        elif ball.rad() <= abs(ball.mid()) * fl.arb(TARGET_RELATIVE) or bits >= MAX_BITS:
            return _as_floats(fl, ball, bits)
        if bits >= MAX_BITS:
            raise Unsupported(f"Arb could not bound the value in {MAX_BITS} bits")
        bits *= 2


def _as_floats(fl: Any, ball: Any, bits: int) -> Ball:
    """Two float64s whose ball holds Arb's: the radius rounded outward, and
    widened by how far the rounded midpoint moved."""
    saved = fl.ctx.prec
    fl.ctx.prec = bits
    try:
        midpoint = float(ball.mid())
        spread = (abs(fl.arb(midpoint) - ball.mid()) + ball.rad()).upper()
        radius = math.nextafter(float(spread), math.inf)
    finally:
        fl.ctx.prec = saved
    return Ball(midpoint, radius, bits, ball.str(30, radius=True))


def certify(result: Any) -> list[Certificate]:
    """A certificate for each derivative of a `pointcheck.Result` (scalar
    variables; the derivative SymPy's, rebuilt from the same tree)."""
    import numpy as np

    from .cas import sympy_engine as engine

    flint()  # the missing extra is said before any work
    if getattr(result, "tree", None) is None:  # a Jacobian: several values
        raise UsageError(
            "takes a function with one value (this one is vector-valued)", option="certify"
        )
    if result.tree is None or any(np.ndim(v) != 0 for v in result.point.values()):
        raise UsageError("takes scalar variables (a vector has no single ball)", option="certify")
    symbols = engine.symbols_for(result.tree.variables, {})
    f = engine.build(result.tree, symbols)
    if isinstance(f, list):
        raise UsageError(
            "takes a function with one value (this one is vector-valued)", option="certify"
        )
    point = {symbols[n]: float(v) for n, v in result.point.items()}
    found = []
    for partial in result.partials:
        derivative = engine.derivative(f, tuple(symbols[n] for n in partial.wrt))
        try:
            found.append(Certificate(partial.wrt, enclose(derivative, point)))
        except Unsupported as why:
            found.append(Certificate(partial.wrt, None, str(why)))
    return found
