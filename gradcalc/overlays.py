"""What a plot may draw besides f, its tangent and f′: the tangent plane of a
function of two variables, and a Taylor polynomial (plot --taylor N). Each is
computed by the library that owns it (`check` for the gradient, `taylor` for
the polynomial); `plotting.build` attaches them to its Plot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import DomainError
from .parsing import Expression

if TYPE_CHECKING:
    from .pointcheck import Result


@dataclass(frozen=True)
class TangentPlane:
    """z = value + Σ gradient[v]·(v − point[v]): a function of two variables
    at the point (SymPy's gradient, as diff gives it)."""

    point: dict[str, float]
    value: float
    gradient: dict[str, float]

    def equation(self, digits: int | None = 10) -> str:
        def number(v: float) -> str:
            if digits is not None:
                return f"{v:.{digits}g}"
            return str(int(v)) if float(v).is_integer() and abs(v) < 2**53 else repr(float(v))

        text = f"z = {number(self.value)}"
        for name, slope in self.gradient.items():
            at = self.point[name]
            shift = name if at == 0 else f"({name} {'-' if at > 0 else '+'} {number(abs(at))})"
            size = number(abs(slope))
            text += f" {'-' if slope < 0 else '+'} " + (shift if size == "1" else f"{size}*{shift}")
        return text


@dataclass(frozen=True)
class TaylorCurve:
    """The Taylor polynomial of degree `order` drawn over the window."""

    order: int
    polynomial: str  # every float64 digit (it reads back as an expression)
    shown: str  # with 10 significant digits
    status: str
    reason: str
    x: np.ndarray  # the window's samples
    y: np.ndarray  # P there


def tangent_plane(result: Result, flat: dict[str, float], value: float) -> TangentPlane | None:
    """The tangent plane of a function of two variables, where both partials
    are finite and no kink stands at the point."""
    slopes = {p.wrt[0]: p.sympy for p in result.partials if p.order == 1}
    if len(flat) != 2 or set(slopes) != set(flat) or result.kinks:
        return None
    if not all(isinstance(s, float) and np.isfinite(s) for s in slopes.values()):
        return None
    gradient = {name: float(slopes[name]) for name in flat}  # type: ignore[arg-type]
    return TangentPlane(dict(flat), value, gradient)


def taylor_curve(
    expr: Expression,
    flat: dict[str, float],
    variable: str,
    order: int,
    xs: np.ndarray,
) -> TaylorCurve | str:
    """The Taylor polynomial along the slice; where f is undefined at the
    point (the plot still draws), the note that says so instead."""
    from . import taylor

    try:
        expanded = taylor.expand(expr, flat, order=order, wrt=[variable])
    except DomainError as error:
        return f"no Taylor polynomial: {error}"
    return TaylorCurve(
        order=order,
        polynomial=expanded.polynomial(),
        shown=expanded.polynomial(10),
        status=expanded.status,
        reason=expanded.reason,
        x=xs,
        y=expanded.evaluate(xs),
    )
