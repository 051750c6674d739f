"""`diff --implicit y`: dy/dx of a curve F(x, y) = 0 given as `lhs = rhs`.

Two methods that share no rule. SymPy: the implicit function theorem,
dy/dx = -F_x/F_y, and each higher order by differentiating the one before
with y a function of x (d/dx g(x, y) = g_x + g_y·y′). Numeric: y solved
near the point for x's close to it (mpmath `findroot`, DIGITS digits, from
the point's y), and that function of x differentiated (mpmath `diff`).
Before either, the point must lie on the curve: |lhs - rhs| at most
ON_CURVE × (1 + max(|lhs|, |rhs|)) there, else it is refused (exit 2). The
verdict: the two agree to AGREE relative, in diff's words and exit codes.

Other variables than x and y are parameters, held at the point's values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import DomainError, ParseError, PointError, UsageError
from .parsing import Expression, looks_like_latex, parse
from .verdict import Status

ON_CURVE = 1e-9  # |lhs - rhs| at the point, relative to 1 + max(|lhs|, |rhs|)
AGREE = 1e-10  # |symbolic - numeric| relative to max(1, |symbolic|)
SINGULAR = 1e-12  # |F_y| at the point, relative to 1 + |F_x|: no y(x) there
DIGITS = 40  # mpmath's working digits for the numeric cross-check
MAX_ORDER = 4


@dataclass(frozen=True)
class Equation:
    """`lhs = rhs`, each side parsed as an expression."""

    text: str
    lhs: Expression
    rhs: Expression
    read_as: str | None  # LaTeX (or letters side by side) read as the grammar, or None

    @property
    def latex(self) -> str | None:
        """The equation as given when it was read otherwise (LaTeX), else None."""
        return self.text if self.read_as is not None else None

    @property
    def variables(self) -> list[str]:
        return sorted(set(self.lhs.variables) | set(self.rhs.variables))


@dataclass(frozen=True)
class Implicit:
    """One implicit derivative at one point, both ways, and the verdict."""

    equation: Equation
    x: str
    y: str
    order: int
    point: dict[str, float]
    lhs_value: float
    rhs_value: float
    on_curve_tolerance: float
    formula: str  # d^n y/dx^n as SymPy writes it, in x and y
    symbolic: float | None
    numeric: float | None
    y_solved: float | None  # y at the point's x, as the numeric solve found it
    status: str
    reason: str
    derivatives: tuple = ()  # SymPy expressions of y′, y″, ... (for --explain)
    sides: tuple = ()  # (lhs, rhs) as SymPy expressions
    symbols: dict | None = None

    @property
    def residual(self) -> float:
        return self.lhs_value - self.rhs_value

    @property
    def difference(self) -> float | None:
        if self.symbolic is None or self.numeric is None:
            return None
        return self.numeric - self.symbolic

    @property
    def name(self) -> str:
        """dy/dx, d²y/dx² ..."""
        power = {1: "", 2: "²", 3: "³", 4: "⁴"}[self.order]
        return f"d{power}{self.y}/d{self.x}{power}"


def equation(text: str, latex: bool | None = None, known: list[str] | None = None) -> Equation:
    """`lhs = rhs` read side by side (LaTeX too). Letters side by side (6xy)
    are read as a product, as in LaTeX, when the grammar's reading would name
    a variable that is not among `known` (the point's) and LaTeX's does not."""
    equals = [m.start() for m in re.finditer("=", text)]
    if not equals:
        raise UsageError(
            "--implicit needs an equation lhs = rhs, e.g. 'x^2 + y^2 = 25' (no '=' in "
            f"{text.strip()!r})"
        )
    if len(equals) > 1:
        raise ParseError("an equation has one '='", equals[1] + 1, text)
    at = equals[0]
    try:
        sides = _sides(text, at, latex)
    except ParseError:
        if latex or known is None:
            raise
        sides = _as_products(text, at, known, None)
    if known is not None and not latex:
        sides = _as_products(text, at, known, sides)
    lhs, rhs = sides
    read_as = None
    if lhs.latex is not None or rhs.latex is not None:
        read_as = f"{lhs.source} = {rhs.source}"
    return Equation(text.strip(), lhs, rhs, read_as)


def _as_products(
    text: str, at: int, known: list[str], sides: tuple[Expression, Expression] | None
) -> tuple[Expression, Expression]:
    """The sides read as LaTeX (xy, x y: products) when the grammar's reading
    names a variable the point does not give, or does not read (`sides`
    None), and LaTeX's reading names only the point's variables."""
    if sides is not None and all(set(side.variables) <= set(known) for side in sides):
        return sides
    try:
        product = _sides(text, at, True)
    except ParseError:
        product = None
    if product is not None and all(set(side.variables) <= set(known) for side in product):
        return product
    if sides is None:
        return _sides(text, at, None)  # raises the grammar's own error
    return sides


def _sides(text: str, at: int, latex: bool | None) -> tuple[Expression, Expression]:
    if looks_like_latex(text) and latex is None:
        latex = True  # a brace on one side makes the other LaTeX too (6xy)
    return _side(text, 0, at, latex), _side(text, at + 1, len(text), latex)


def _side(text: str, start: int, end: int, latex: bool | None) -> Expression:
    """One side, an error's column placed in the whole equation."""
    try:
        return parse(text[start:end], latex=latex)
    except ParseError as error:
        where = "left" if start == 0 else "right"
        if not text[start:end].strip():
            raise ParseError(f"the {where} side of '=' is empty", start + 1, text) from None
        detail = re.sub(r" at column \d+$", "", error.detail)
        column = None if error.column is None else error.column + start
        raise type(error)(detail, column, text) from None


def names(equation: Equation, y: str, wrt: list[str] | None) -> tuple[str, str]:
    """(x, y): y given by --implicit, x by --wrt or the only other variable."""
    variables = equation.variables
    if y not in variables:
        raise UsageError(
            f"{y!r} is not a variable of the equation (its variables: {', '.join(variables)})",
            option="implicit",
        )
    others = [name for name in variables if name != y]
    named = [n.strip() for item in (wrt or []) for n in str(item).split(",") if n.strip()]
    if len(named) > 1:
        raise UsageError("takes one variable with --implicit: dy/dx is by one x", option="wrt")
    if named:
        if named[0] not in others:
            raise UsageError(
                f"{named[0]!r} is not another variable of the equation "
                f"(its variables: {', '.join(variables)})",
                option="wrt",
            )
        return named[0], y
    if len(others) != 1:
        what = "no other variable" if not others else f"{', '.join(others)}"
        raise UsageError(
            f"dy/dx needs one x beside {y}: the equation has {what}; name x with --wrt"
        )
    return others[0], y


def differentiate(
    text: str | Equation,
    y: str,
    at: Any,
    order: int = 1,
    wrt: list[str] | None = None,
    latex: bool | None = None,
) -> Implicit:
    """d^order y / dx^order of the curve `text` (lhs = rhs) at the point `at`
    (anything `atpoint.point` takes), both ways, with the verdict. Raises
    PointError when the point is off the curve, DomainError when y is not a
    function of x there (F_y = 0)."""
    from . import budget

    if not 1 <= order <= MAX_ORDER:
        raise UsageError(f"must be between 1 and {MAX_ORDER}, not {order}", option="order")
    known = point_names(at)
    eq = text if isinstance(text, Equation) else equation(text, latex, known)
    x, y = names(eq, y, wrt)
    point = _point(at, eq.variables)
    import sympy as sp

    budget.computing()  # SymPy is imported: from here the time budget runs
    symbols, lhs, rhs = build(eq)
    values = {symbols[n]: sp.Float(repr(v), 30) for n, v in point.items()}
    lhs_value, rhs_value, tolerance = _on_curve(eq, lhs, rhs, values, point)
    f = lhs - rhs
    derivatives = implicit_derivatives(f, symbols[x], symbols[y], order)
    _check_regular(f, symbols[x], symbols[y], values, point)
    formula = derivatives[-1]
    symbolic = _float(formula.xreplace(values).evalf(30))
    from . import cas
    from .formula_text import derivative_text

    shown, _ = derivative_text(cas.sympy(), formula, full=False)
    numeric, y_solved, failure = _numeric(eq, x, y, point, order)
    status, reason = _verdict(symbolic, numeric, failure)
    return Implicit(
        equation=eq,
        x=x,
        y=y,
        order=order,
        point=point,
        lhs_value=lhs_value,
        rhs_value=rhs_value,
        on_curve_tolerance=tolerance,
        formula=shown,
        symbolic=symbolic,
        numeric=numeric,
        y_solved=y_solved,
        status=status,
        reason=reason,
        derivatives=tuple(derivatives),
        sides=(lhs, rhs),
        symbols=symbols,
    )


def point_names(at: Any) -> list[str] | None:
    """The names a point gives, read off its text (for reading 6xy)."""
    specs = [at] if isinstance(at, str) else at
    if isinstance(specs, dict):
        return list(specs)
    if not isinstance(specs, list | tuple):
        return None
    names = []
    for spec in specs:
        for part in str(spec).split(","):
            if "=" in part:
                names.append(part.split("=")[0].strip())
    return names or None


def _point(at: Any, variables: list[str]) -> dict[str, float]:
    import numpy as np

    from . import atpoint

    resolved = atpoint.point(at, variables)
    out = {}
    for name, value in resolved.items():
        if np.ndim(value) != 0:
            raise PointError(f"--implicit takes numbers, not vectors: {name} is a vector")
        out[name] = float(value)
    return out


def build(eq: Equation) -> tuple[dict, Any, Any]:
    from .cas import sympy_engine

    symbols = sympy_engine.symbols_for(eq.variables, {})
    sides = []
    for side in (eq.lhs, eq.rhs):
        built = sympy_engine.build(side, {n: symbols[n] for n in side.variables})
        if isinstance(built, list):
            raise UsageError("each side of the equation is a number, not a vector")
        sides.append(built)
    return symbols, sides[0], sides[1]


def _float(value: Any) -> float | None:
    try:
        number = complex(value)
    except (TypeError, ValueError):
        return None
    if number.imag != 0 or number.real != number.real or abs(number.real) == float("inf"):
        return None
    return number.real


def _on_curve(
    eq: Equation, lhs: Any, rhs: Any, values: dict, point: dict
) -> tuple[float, float, float]:
    """Both sides' values (30 digits); refused when the point is off the curve."""
    left = _float(lhs.xreplace(values).evalf(30))
    right = _float(rhs.xreplace(values).evalf(30))
    where = _point_text(point)
    if left is None or right is None:
        raise DomainError(f"{eq.text} is not a finite real number on both sides at {where}")
    tolerance = ON_CURVE * (1 + max(abs(left), abs(right)))
    residual = _float((lhs - rhs).xreplace(values).evalf(30))
    assert residual is not None  # both sides are finite
    if abs(residual) > tolerance:
        raise PointError(
            f"the point {where} is not on the curve {eq.text}: lhs - rhs = {residual:.6g} "
            f"there, past the tolerance {tolerance:.2g} (= {ON_CURVE:g} × (1 + "
            "max(|lhs|, |rhs|)))"
        )
    return left, right, tolerance


def _point_text(point: dict) -> str:
    return ", ".join(f"{name} = {value:.17g}" for name, value in point.items())


def implicit_derivatives(f: Any, x: Any, y: Any, order: int) -> list:
    """[y′, y″, ...] of F(x, y) = 0 to `order`, each in x and y: y′ = -F_x/F_y,
    then y⁽ⁿ⁺¹⁾ = d/dx y⁽ⁿ⁾ with y a function of x."""
    import sympy as sp

    first = -sp.diff(f, x) / sp.diff(f, y)
    found = [_tidy(first)]
    for _ in range(order - 1):
        last = found[-1]
        found.append(_tidy(sp.diff(last, x) + sp.diff(last, y) * found[0]))
    return found


def _tidy(expression: Any) -> Any:
    import sympy as sp

    if sp.count_ops(expression) > 120:
        return expression
    return sp.factor(sp.cancel(sp.together(expression)))


def _check_regular(f: Any, x: Any, y: Any, values: dict, point: dict) -> None:
    """y is a function of x near the point only where F_y ≠ 0."""
    import sympy as sp

    fy = _float(sp.diff(f, y).xreplace(values).evalf(30))
    fx = _float(sp.diff(f, x).xreplace(values).evalf(30))
    if fy is None or fx is None:
        raise DomainError(f"∂F/∂{y} or ∂F/∂{x} is not finite at {_point_text(point)}")
    if abs(fy) <= SINGULAR * (1 + abs(fx)):
        raise DomainError(
            f"∂F/∂{y} = 0 at {_point_text(point)}: {y} is not a function of {x} near it "
            f"(a vertical tangent or a singular point of the curve)"
        )


def _numeric(
    eq: Equation, x: str, y: str, point: dict, order: int
) -> tuple[float | None, float | None, str | None]:
    """(the derivative, y at the point's x, why it failed): y solved by
    findroot from the point's y, for x's near the point, differentiated by
    mpmath.diff. F is evaluated from the parsed sides by the function table's
    mpmath builders: nothing of SymPy's."""
    import mpmath

    start = point[y]

    def solved(xv: Any) -> Any:
        args = {n: mpmath.mpf(v) for n, v in point.items()}
        args[x] = xv

        def residual(yv: Any) -> Any:
            args[y] = yv
            return mp_value(eq.lhs, args) - mp_value(eq.rhs, args)

        return mpmath.findroot(residual, mpmath.mpf(start))

    try:
        with mpmath.workdps(DIGITS):
            y_there = solved(mpmath.mpf(point[x]))
            value = mpmath.diff(solved, mpmath.mpf(point[x]), order)
    except (ValueError, ZeroDivisionError, TypeError, OverflowError) as error:
        return None, None, f"findroot could not solve for {y} near the point ({error})"
    return _float(value), _float(y_there), None


def mp_value(expr: Expression, point: dict) -> Any:
    """The expression at `point` (name -> mpf) in mpmath, by the function
    table's mpmath builders (ValueError where it is not a real number)."""
    import mpmath

    from .functions import TABLE

    values: dict[int, Any] = {}
    for node in expr.nodes:
        if node.op == "num":
            result = mpmath.mpf(node.value)
        elif node.op == "const":
            result = mpmath.pi if node.value == "pi" else mpmath.e
        elif node.op == "var":
            result = point[node.value]
        else:
            result = TABLE[node.op].mpmath(mpmath, *[values[id(a)] for a in node.args])
        if isinstance(result, mpmath.mpc):
            if abs(result.imag) > mpmath.eps * (1 + abs(result.real)) * 100:
                raise ValueError(f"{node.brief} is not real there")
            result = result.real
        values[id(node)] = result
    return values[id(expr.root)]


def _verdict(symbolic: float | None, numeric: float | None, failure: str | None) -> tuple:
    if symbolic is None:
        return Status.UNDEFINED, "the implicit derivative is not a finite real number here"
    if numeric is None:
        return Status.DISAGREE, f"no numeric cross-check: {failure}"
    gap = abs(numeric - symbolic)
    bound = AGREE * max(1.0, abs(symbolic))
    if gap <= bound:
        return Status.AGREE, "the implicit derivative (-F_x/F_y) and y solved numerically agree"
    return (
        Status.DISAGREE,
        f"the implicit derivative and y solved numerically differ by {gap:.3g} "
        f"(more than {bound:.2g})",
    )
