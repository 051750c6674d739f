"""`gradcalc taylor`: the Taylor polynomial of f at a point, each coefficient
three ways, and how far from the point it stays close to f.

Each coefficient c_k = f^(k)(a)/k! is taken three ways that share no rule:

1. SymPy differentiates the expression k times and evaluates the derivative
   at a in 30 digits (the reference, as in `diff`);
2. torch autograd differentiates its own graph of the same tree k times
   (nested `torch.autograd.grad` with `create_graph`), in float64;
3. mpmath's `taylor` differentiates the function numerically, evaluated by
   the function table's mpmath column at 50 digits.

The verdict is diff's: agree (exit 0), disagree (1: a method off beyond its
named tolerance), not_differentiable (1: a non-smooth part such as abs(x)
sits on its kink at the point, so no Taylor polynomial of order ≥ 1 exists
there), undefined (3: f or a derivative is not finite at the point).

The remainder |f(a+h) − P(a+h)| is measured at the distances `DISTANCES`
on both sides, in 50-digit mpmath with mpmath's coefficients (so that it is
the polynomial's own error, not float64's rounding of it). The *radius* is
the largest r of the grid `radius_grid()` (geometric, `GRID_PER_DECADE` a
decade, from `GRID_LOW` to `GRID_HIGH` times max(1, |a|)) such that at every
grid distance t ≤ r, on both sides, f is defined and |f(a±t) − P(a±t)| ≤
the tolerance (absolute, default `DEFAULT_TOLERANCE`). It is 0 when even the
smallest grid distance fails, and `capped` when the largest one passes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import atpoint, numeric, verdict
from .errors import UsageError
from .exact import short_text
from .functions import TABLE
from .parsing import Expression, as_expression
from .verdict import Status, Tolerance

MAX_ORDER = 8  # autograd's nested graphs grow fast past it (see _autograd)
DEFAULT_ORDER = 3
DEFAULT_TOLERANCE = 1e-6
DISTANCES = (1.0, 0.1, 0.01, 0.001)  # the h at which the remainder is measured
MP_DIGITS = 50
GRID_LOW, GRID_HIGH, GRID_PER_DECADE = 1e-6, 100.0, 16
# Autograd against SymPy (float64, as diff's); mpmath's 50 digits against
# SymPy's 30, both rounded to float64: a few ulps apart.
AUTOGRAD_TOLERANCE = verdict.AUTOGRAD_TOLERANCE["float64"]
MPMATH_TOLERANCE = Tolerance(rtol=1e-12, atol=1e-15)
MAX_EXACT = 40  # characters of a coefficient's exact form shown
MAX_EXACT_POLYNOMIAL = 400
MAX_EXACT_DERIVATIVE = 2_000  # characters of a derivative whose exact value is sought


@dataclass(frozen=True)
class Coefficient:
    """c_k = f^(k)(a)/k! by the three methods (None: not a finite real)."""

    k: int
    exact: str | None  # SymPy's exact value, when short ("1/6", "sin(1)/2")
    sympy: float | None
    autograd: float | None
    mpmath: float | None
    agree: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Remainder:
    """|f(a±h) − P(a±h)|; None where f is undefined at a±h."""

    h: float
    left: float | None
    right: float | None

    @property
    def largest(self) -> float | None:
        sides = [s for s in (self.left, self.right) if s is not None]
        return max(sides) if sides else None


@dataclass(frozen=True)
class Radius:
    """Where P stays within `tolerance` of f (see the module docstring)."""

    tolerance: float
    radius: float
    capped: bool  # True: within tolerance up to the grid's end (radius is a lower bound)


@dataclass(frozen=True)
class Taylor:
    expression: str
    variable: str
    point: dict[str, float]  # the point; the other variables are held there
    at: float
    order: int
    coefficients: list[Coefficient]
    exact_polynomial: str | None  # SymPy's, when every coefficient is short
    next_coefficient: float | None  # c_(n+1) by mpmath: the remainder's leading term
    remainders: list[Remainder]
    radius: Radius
    status: str
    reason: str
    notes: list[str]

    @property
    def agree(self) -> bool:
        return self.status == Status.AGREE

    def polynomial(self, digits: int | None = None) -> str:
        """P in gradcalc's own grammar (it reads back as an expression):
        repr's digits by default, `digits` significant ones when given."""
        return polynomial_text([c.sympy for c in self.coefficients], self.variable, self.at, digits)

    def evaluate(self, xs: np.ndarray) -> np.ndarray:
        """P at xs (float64, Horner's rule over SymPy's coefficients)."""
        t = np.asarray(xs, dtype=np.float64) - self.at
        total = np.zeros_like(t)
        for c in reversed(self.coefficients):
            total = total * t + (c.sympy if c.sympy is not None else math.nan)
        return total


def polynomial_text(
    coefficients: Sequence[float | None], variable: str, at: float, digits: int | None = None
) -> str:
    """c0 + c1*(x - a) + c2*(x - a)**2 ..., zero terms left out."""

    def number(value: float) -> str:
        if digits is not None:
            return f"{value:.{digits}g}"
        whole = float(value).is_integer() and abs(value) < 2**53
        return str(int(value)) if whole else repr(float(value))

    base = variable if at == 0 else f"({variable} {'-' if at > 0 else '+'} {number(abs(at))})"
    terms: list[str] = []
    for k, c in enumerate(coefficients):
        if c is None or not math.isfinite(c):
            return "undefined"
        if c == 0:
            continue
        power = "" if k == 0 else base if k == 1 else f"{base}**{k}"
        magnitude = number(abs(c))
        body = magnitude if not power else power if magnitude == "1" else f"{magnitude}*{power}"
        sign = "-" if c < 0 else "+"
        terms.append(f"{sign} {body}" if terms else ("-" + body if c < 0 else body))
    return " ".join(terms) if terms else "0"


def expand(
    expression: str | Expression,
    at: Any = None,
    order: int = DEFAULT_ORDER,
    wrt: Sequence[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Taylor:
    """The Taylor polynomial of `expression` of degree `order` around the
    point `at` (anything `atpoint.point` takes), along one variable (`wrt`,
    needed when there are several; the others are held at the point)."""
    expr = as_expression(expression)
    if not 0 <= order <= MAX_ORDER:
        raise UsageError(f"must be from 0 to {MAX_ORDER}, not {order}", option="order")
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise UsageError(f"must be a positive number, not {tolerance:g}", option="tolerance")
    variable = along(expr, wrt)
    point = atpoint.point(at, expr.variables)
    if any(shape is not None for shape in atpoint.shapes(point).values()):
        raise UsageError("expands in scalar variables only (a vector was given)", option="at")
    flat = {name: float(v) for name, v in point.items()}
    a = flat[variable]
    _defined(expr, point)

    exact, references = _sympy(expr, flat, variable, order)
    autograd = _autograd(expr, flat, variable, order)
    series = MpFunction(expr, flat, variable)
    precise = series.taylor(a, order + 2)
    by_mpmath = [None if c is None else float(c) for c in precise]
    coefficients, problems = _weighed(exact, references, autograd, by_mpmath[: order + 1])
    status, reason = _verdict(expr, point, coefficients, problems)
    # The remainder is the polynomial's own: mpmath's 50-digit coefficients
    # (SymPy's floats where mpmath failed, if those are finite).
    usable = precise[: order + 1] if None not in precise[: order + 1] else references
    measured = status in (Status.AGREE, Status.DISAGREE) and None not in usable
    return Taylor(
        expression=expr.source,
        variable=variable,
        point=flat,
        at=a,
        order=order,
        coefficients=coefficients,
        exact_polynomial=_exact_polynomial(exact, variable, a),
        next_coefficient=by_mpmath[-1],
        # Past a kink, or a derivative that is not finite, there is no
        # polynomial to measure: no remainders, radius 0.
        remainders=[series.remainder(usable, h) for h in DISTANCES] if measured else [],
        radius=series.radius(usable, tolerance) if measured else Radius(tolerance, 0.0, False),
        status=status,
        reason=reason,
        notes=[],
    )


def along(expr: Expression, wrt: Sequence[str] | None) -> str:
    """The one variable to expand in."""
    names = [n.strip() for item in wrt or [] for n in str(item).split(",") if n.strip()]
    if not expr.variables:
        raise UsageError(f"{expr.source!r} has no variables: there is nothing to expand")
    if len(names) > 1:
        raise UsageError("names one variable to expand in, not several", option="wrt")
    if names:
        if names[0] not in expr.variables:
            raise UsageError(
                f"{names[0]!r} is not a variable of the expression "
                f"(its variables: {', '.join(expr.variables)})",
                option="wrt",
            )
        return names[0]
    if len(expr.variables) > 1:
        raise UsageError(
            f"the expression has several variables ({', '.join(expr.variables)}): name the "
            "one to expand in with {wrt} (the others are held at the point)",
            option="wrt",
        )
    return str(expr.variables[0])


def _defined(expr: Expression, point: dict) -> None:
    from . import finite

    finite.values_at(expr, point)  # diff's error where f or a part is not finite


def _not_rounded_onto_kink(expr: Expression, point: dict, values: dict) -> None:
    """diff's error where float64 rounded a part onto its kink (abs(x-pi) at
    float64's pi): that is no kink, and no float64 method can expand there."""
    from . import finite
    from .overflow import rounded_onto_kink

    rounded = rounded_onto_kink(expr, point, values, finite.point_text(point))
    if rounded is not None:
        raise rounded


def exact_number(value: float) -> Any:
    """The exact SymPy number a float stands for: 0.25 -> 1/4, 0.785... -> pi/4."""
    import sympy as sp

    guess = sp.nsimplify(sp.Float(repr(value)), [sp.pi, sp.E], rational=False)
    return guess if float(guess) == value else sp.Rational(repr(value))


def _sympy(
    expr: Expression, flat: dict[str, float], variable: str, order: int
) -> tuple[list[Any], list[float | None]]:
    """The computer algebra system's coefficients: each exact (a SymPy
    number, or None when it is long or not finite) and as a float, from k
    derivatives at 30 digits. SymEngine differentiates where it can take
    every function (a derivative of order 6 swells: SymPy took seconds);
    the exact form is SymPy's, for a short derivative."""
    from . import cas

    engine = cas.choose(expr, any_size=True)
    symbols = engine.symbols_for(expr.variables, {})
    f = engine.build(expr, symbols)
    if isinstance(f, list):  # [x, x**2], softmax(x): one polynomial per element is diff's Jacobian
        raise UsageError(
            f"{expr.source!r} is a vector (its derivative is a Jacobian): taylor expands "
            "a number-valued f"
        )
    x = symbols[variable]
    subs = engine.substitutions(symbols, {n: np.float64(v) for n, v in flat.items()})
    exact: list[Any] = []
    floats: list[float | None] = []
    derivative = f
    for k in range(order + 1):
        if k:
            derivative = engine.derivative(derivative, (x,))
        value, _ = engine.value_at(derivative, subs)
        floats.append(None if value is None else value / math.factorial(k))
        exact.append(None if value is None else _exact(derivative, flat, k))
    return exact, floats


def _exact(derivative: Any, flat: dict[str, float], k: int) -> Any:
    """f^(k)(a)/k! exactly, when the derivative is short enough to ask SymPy."""
    import sympy as sp

    if len(str(derivative)) > MAX_EXACT_DERIVATIVE:
        return None
    # A SymEngine expression converts through its own _sympy_ (no text is read).
    formula = sp.sympify(derivative)
    point = {s: exact_number(flat[s.name]) for s in formula.free_symbols}
    try:
        number = formula.xreplace(point) / sp.factorial(k)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if number.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.Float) or short_text(number, MAX_EXACT) is None:
        return None
    return number


def _exact_polynomial(exact: list[Any], variable: str, at: float) -> str | None:
    """SymPy's exact coefficients, term by term in powers of (x - a)."""
    if any(c is None for c in exact):
        return None
    import sympy as sp

    exact_at = exact_number(at)
    base = (
        variable if at == 0 else f"({variable} {'-' if at > 0 else '+'} {sp.sstr(abs(exact_at))})"
    )
    terms: list[str] = []
    for k, c in enumerate(exact):
        if c == 0:
            continue
        power = "" if k == 0 else base if k == 1 else f"{base}**{k}"
        negative = c.could_extract_minus_sign()
        magnitude = sp.sstr(-c if negative else c)
        if magnitude != "1" and power and (c.is_Add or (-c if negative else c).is_Add):
            magnitude = f"({magnitude})"
        body = magnitude if not power else power if magnitude == "1" else f"{magnitude}*{power}"
        terms.append(
            ("- " if negative else "+ ") + body if terms else ("-" if negative else "") + body
        )
    text = " ".join(terms) if terms else "0"
    return text if len(text) <= MAX_EXACT_POLYNOMIAL else None


def _autograd(
    expr: Expression, flat: dict[str, float], variable: str, order: int
) -> list[float | None]:
    """torch's coefficients, float64: autograd.grad of the previous
    derivative, each kept in the graph (create_graph) for the next. Its cost
    grows fast with the order (a graph of graphs: exp(sin(x))*atan(x**2)/
    (1+x**2) takes 1.5 s at order 8, 30 s at 10), hence MAX_ORDER; nested
    torch.func.jvp measured slower still (50 s at order 10)."""
    import torch

    from . import autograd

    leaves = autograd.leaves_for(flat, "float64")
    derivative = autograd.scalar_output(autograd.build(expr, leaves, "float64"))
    values = [float(derivative.detach())]
    for _ in range(order):
        if derivative.requires_grad:
            (grad,) = torch.autograd.grad(
                derivative, leaves[variable], create_graph=True, allow_unused=True
            )
            derivative = torch.zeros(()) if grad is None else torch.sum(grad)
        else:  # a constant's derivative: no graph left
            derivative = torch.zeros(())
        values.append(float(derivative.detach()))
    return [v / math.factorial(k) if math.isfinite(v) else None for k, v in enumerate(values)]


class MpFunction:
    """f along one variable in mpmath at MP_DIGITS digits, by the function
    table's mpmath column: t -> f(a + t), the others held at the point."""

    def __init__(self, expr: Expression, flat: dict[str, float], variable: str) -> None:
        import mpmath

        self.mp = mpmath.mp
        self.expr, self.flat, self.variable = expr, flat, variable

    def __call__(self, x: Any) -> Any:
        mp = self.mp
        values: dict[int, Any] = {}
        for node in self.expr.nodes:
            if node.op == "var":
                value = x if node.value == self.variable else mp.mpf(self.flat[node.value])
            elif node.op == "num":
                value = mp.mpf(str(node.value))
            elif node.op == "const":
                value = mp.pi if node.value == "pi" else mp.e
            else:
                value = TABLE[node.op].mpmath(mp, *[values[id(a)] for a in node.args])
            if not isinstance(value, mp.mpf):
                value = mp.mpf(value)  # a builder's plain 0 (relu); a complex one raises
            values[id(node)] = value
        return values[id(self.expr.root)]

    def _at(self, x: Any) -> Any:
        try:
            with self.mp.workdps(MP_DIGITS):
                value = self(x)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return None
        return value if self.mp.isfinite(value) else None

    def taylor(self, a: float, count: int) -> list[Any]:
        """mpmath.taylor's first `count` coefficients, in MP_DIGITS digits
        (None: not a finite real)."""
        mp = self.mp
        try:
            with mp.workdps(MP_DIGITS):
                found = mp.taylor(self, mp.mpf(a), count - 1)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return [None] * count
        return [c if mp.isfinite(c) else None for c in found]

    def error(self, coefficients: Sequence[Any], t: Any) -> Any:
        """|f(a+t) − P(a+t)| in MP_DIGITS digits; None where f is undefined."""
        mp = self.mp
        with mp.workdps(MP_DIGITS):
            t = mp.mpf(t)
            value = self._at(mp.mpf(self.flat[self.variable]) + t)
            if value is None:
                return None
            p = mp.mpf(0)
            for c in reversed(coefficients):
                p = p * t + mp.mpf(c)
            return abs(value - p)

    def remainder(self, coefficients: Sequence[Any], h: float) -> Remainder:
        def side(t: float) -> float | None:
            found = self.error(coefficients, t)
            return None if found is None else float(found)

        return Remainder(h=h, left=side(-h), right=side(h))

    def radius(self, coefficients: Sequence[Any], tolerance: float) -> Radius:
        grid = radius_grid(self.flat[self.variable])
        reached = 0.0
        for r in grid:
            for t in (r, -r):
                found = self.error(coefficients, t)
                if found is None or not found <= tolerance:
                    return Radius(tolerance, reached, capped=False)
            reached = float(r)
        return Radius(tolerance, reached, capped=True)


def radius_grid(at: float) -> np.ndarray:
    scale = max(1.0, abs(at))
    decades = math.log10(GRID_HIGH / GRID_LOW)
    return scale * np.geomspace(GRID_LOW, GRID_HIGH, int(decades * GRID_PER_DECADE) + 1)


def _weighed(
    exact: list[Any],
    references: list[float | None],
    autograd: list[float | None],
    by_mpmath: list[float | None],
) -> tuple[list[Coefficient], list[str]]:
    """Each coefficient's methods against SymPy's, with named tolerances."""
    import sympy as sp

    coefficients, problems = [], []
    for k, (reference, ad, mpv) in enumerate(zip(references, autograd, by_mpmath)):
        found = list(_problems(k, reference, ad, mpv))
        problems.extend(found)
        text = None if exact[k] is None else sp.sstr(exact[k])
        coefficients.append(
            Coefficient(k, text, reference, ad, mpv, agree=not found, problems=tuple(found))
        )
    return coefficients, problems


def _problems(k: int, reference: float | None, ad: float | None, mpv: float | None) -> list[str]:
    label = f"c{k}"
    if reference is None:
        return [f"{label}: SymPy's derivative of order {k} is not a finite real here"]
    found = []
    checks: list[tuple[str, float | None, Tolerance]] = [
        ("autograd", ad, AUTOGRAD_TOLERANCE),
        ("mpmath", mpv, MPMATH_TOLERANCE),
    ]
    for name, value, tolerance in checks:
        if value is None:
            found.append(f"{label}: {name} gives no finite value")
        elif not tolerance.allows(value, reference):
            found.append(
                f"{label}: {name} {value:.12g} differs from SymPy {reference:.12g} "
                f"by {abs(value - reference):.3g}"
            )
    return found


def _verdict(
    expr: Expression, point: dict, coefficients: list[Coefficient], problems: list[str]
) -> tuple[str, str]:
    """diff's statuses: undefined, then a kink, then disagree, then agree."""
    if len(coefficients) > 1:
        _, values = numeric.first_undefined(expr, numeric.as_batch(point))
        on_kink = [node.brief for node, _ in numeric.nodes_at_kink(expr, values)]
        if on_kink:
            _not_rounded_onto_kink(expr, point, values)
            return Status.KINK, (
                f"not differentiable here ({', '.join(on_kink)} sits on its kink): f has no "
                "Taylor polynomial of degree 1 or more at this point; the coefficients shown "
                "are each method's convention"
            )
    if any(c.sympy is None for c in coefficients):
        nonfinite = [
            f"c{c.k}: SymPy's derivative of order {c.k} is not a finite real here"
            for c in coefficients
            if c.sympy is None
        ]
        return Status.UNDEFINED, "a derivative is not finite here: " + "; ".join(nonfinite)
    if problems:
        return Status.DISAGREE, "the methods disagree: " + "; ".join(problems)
    return Status.AGREE, "SymPy, autograd and mpmath agree"


__all__ = ["Coefficient", "Radius", "Remainder", "Taylor", "expand"]
