"""The data of a plot: f around a point, its tangent there, and f′.

Everything a view draws is computed here, as plain arrays, so the terminal
and the image draw the same thing and a test can read the series back. The
curve is sampled in float64 with `numeric.evaluate` and broken where f is
undefined (a non-finite sample, or a pole between two samples) and where a
non-smooth function changes piece (the table's `side`): no line is ever
drawn across `1/x` at 0 or `sign(x)` at 0. The point's value and derivative
come from `pointcheck.differentiate`, so the plot and `diff` agree; at a corner
the two one-sided tangents are drawn. f′ is the symbolic derivative
(SymPy) evaluated with numpy over the same samples.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import numeric
from .errors import DomainError, TooLargeError, UsageError
from .functions import TABLE
from .jacobian import Jacobian
from .overlays import TangentPlane, TaylorCurve, tangent_plane, taylor_curve
from .parsing import Expression, as_expression

if TYPE_CHECKING:
    from .pointcheck import Result
    from .pointsfile import Points

SAMPLES = 801  # odd: a centred window samples the point itself
BISECTIONS = 60  # halvings to pin a piece boundary down to a few ulps
POLE_MARGIN = 0.05  # of the y range: a midpoint this far outside its ends is a pole
FINE = 64  # samples inside a segment whose ends are both far off the chart
POLE_GROWTH = 4.0  # f that far past both ends inside a segment: a pole

Along = Callable[[np.ndarray], np.ndarray]  # f (or f′) along the slice: xs -> values


@dataclass
class Piece:
    """One unbroken run of the curve."""

    x: np.ndarray
    y: np.ndarray


@dataclass
class Tangent:
    """y = value + slope·(x − at) drawn over [start, stop]; `side` is
    "both" for a derivative, "left"/"right" for a one-sided one at a corner."""

    at: float
    value: float
    slope: float
    side: str
    start: float
    stop: float

    def line(self) -> tuple[np.ndarray, np.ndarray]:
        x = np.array([self.start, self.stop])
        return x, self.value + self.slope * (x - self.at)


@dataclass
class Mark:
    """Where the curve is not smooth: kind is "corner", "jump" or
    "undefined"; an undefined stretch runs from x to stop."""

    kind: str
    x: float
    stop: float | None = None


@dataclass
class Plot:
    expression: str
    variable: str
    point: dict[str, float]  # the point; the other variables are held there
    at: float  # the plotted variable's value at the point
    value: float | None  # f at the point (None: undefined there)
    window: tuple[float, float]
    y_limits: tuple[float, float]
    curve: list[Piece]
    derivative: list[Piece] | None  # None: not asked for, or not computable
    derivative_text: str | None
    tangents: list[Tangent]
    marks: list[Mark]
    status: str  # the point's verdict (verdict.STATUSES), "undefined" if f is
    reason: str
    notes: list[str] = field(default_factory=list)
    plane: TangentPlane | None = None  # f of two variables, differentiable at the point
    taylor: TaylorCurve | None = None  # asked for (plot --taylor N)

    def label(self) -> str:
        held = [f"{n}={v:g}" for n, v in self.point.items() if n != self.variable]
        return self.expression + (f" (with {', '.join(held)})" if held else "")


def window_around(at: float) -> tuple[float, float]:
    """Two units either side, wider for a point far from 0."""
    half = max(2.0, 0.5 * abs(at))
    return at - half, at + half


class _Slice:
    """f along one variable, the others held at the point."""

    def __init__(self, expr: Expression, point: dict[str, float], variable: str) -> None:
        self.expr, self.point, self.variable = expr, point, variable

    def batch(self, xs: np.ndarray) -> dict[str, np.ndarray]:
        n = xs.size
        held = {
            name: np.repeat(np.atleast_1d(v).reshape(1, -1), n, axis=0)
            for name, v in self.point.items()
            if name != self.variable
        }
        held[self.variable] = xs.reshape(-1, 1).astype(np.float64)
        return held

    def values(self, xs: np.ndarray) -> np.ndarray:
        return numeric.evaluate(self.expr, self.batch(xs)).sum(axis=-1).reshape(-1)

    def pieces(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per sample: which smooth piece every non-smooth node is on (rows
        compare equal on one piece), and whether some node sits on its kink."""
        sides: dict = {}
        values = numeric.evaluate(self.expr, self.batch(xs), keep=True, sides=sides)
        # Kinks only: a pole's sides (a/b, negative powers) are found as poles.
        kinked = {id(n) for n in self.expr.nodes if n.op in TABLE and TABLE[n.op].kink}
        columns = [
            np.broadcast_to(np.asarray(s, dtype=float), (xs.size, np.shape(s)[-1])).reshape(
                xs.size, -1
            )
            for key, s in sides.items()
            if key in kinked
        ]
        signature = np.hstack(columns) if columns else np.zeros((xs.size, 0))
        on_kink = np.zeros(xs.size, dtype=bool)
        for _, mask in numeric.nodes_at_kink(self.expr, values):
            on_kink |= mask
        return np.nan_to_num(signature, nan=-7.0), on_kink


def _boundaries(piece_of: _Slice, xs: np.ndarray) -> list[tuple[float, float]]:
    """(lo, hi) pairs: the curve is cut between lo and hi, which sit a few
    ulps either side of where a non-smooth node changes piece."""
    signature, on_kink = piece_of.pieces(xs)
    cuts = [(float(np.nextafter(x, -np.inf)), float(np.nextafter(x, np.inf))) for x in xs[on_kink]]
    differ = np.any(signature[:-1] != signature[1:], axis=1) & ~on_kink[:-1] & ~on_kink[1:]
    index = np.flatnonzero(differ)
    if index.size:
        lo, hi = xs[index].copy(), xs[index + 1].copy()
        left = signature[index]
        for _ in range(BISECTIONS):
            mid = 0.5 * (lo + hi)
            sig, kink = piece_of.pieces(mid)
            same = np.all(sig == left, axis=1) & ~kink
            lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
        _, kink = piece_of.pieces(hi)
        hi = np.where(kink, np.nextafter(hi, np.inf), hi)
        cuts += list(zip(lo.tolist(), hi.tolist()))
    return sorted(cuts)


@dataclass
class _Sampling:
    """Where f is sampled along the slice, where its curve is cut (see
    _boundaries), and which samples sit on a kink (left out of the line)."""

    xs: np.ndarray
    cuts: list[tuple[float, float]]
    on_kink: np.ndarray


def _sampling(along: _Slice, xs: np.ndarray) -> _Sampling:
    _, on_kink = along.pieces(xs)
    return _Sampling(xs, _boundaries(along, xs), on_kink)


def _trace(fn: Along, sampled: _Sampling, limits: tuple[float, float]) -> list[Piece]:
    """Sample `fn` at the samples (less those on a kink) and at both ends of
    every cut, and split the line where it is cut, not finite, or has a
    pole between two samples."""
    xs, cuts, drop = sampled.xs, sampled.cuts, sampled.on_kink
    ends = np.array([x for cut in cuts for x in cut])
    x = np.concatenate([xs[~drop], ends])
    cut_after = np.concatenate([np.zeros((~drop).sum(), bool), np.tile([True, False], len(cuts))])
    order = np.argsort(x, kind="stable")
    x, cut_after = x[order], cut_after[order]
    with np.errstate(all="ignore"):
        y = fn(x)
    finite = np.isfinite(y)
    broken = cut_after[:-1] | ~finite[:-1] | ~finite[1:] | _poles(fn, x, y, limits)
    pieces, start = [], 0
    for stop in [*(np.flatnonzero(broken) + 1).tolist(), x.size]:
        keep = finite[start:stop]
        if keep.any():
            pieces.append(Piece(x[start:stop][keep], y[start:stop][keep]))
        start = stop
    return pieces


def _poles(fn: Along, x: np.ndarray, y: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    """Per segment: does f blow up between its two samples?

    Past an odd pole (1/x) the midpoint lands on the other branch, far
    outside the two values (a smooth f only bulges by h²·f″/8 there). An
    even pole (1/x²) keeps the midpoint between them, so a segment whose
    ends are both far off the chart on one side is sampled finely: near a
    pole f grows far past both ends."""
    span = limits[1] - limits[0]
    centre = 0.5 * (limits[0] + limits[1])
    with np.errstate(all="ignore"):
        mid = fn(0.5 * (x[:-1] + x[1:]))
        lo, hi = np.minimum(y[:-1], y[1:]), np.maximum(y[:-1], y[1:])
        outside = (mid < lo - POLE_MARGIN * span) | (mid > hi + POLE_MARGIN * span)
        # ... and off the chart: a fast oscillation (sin(1/x) near 0) that
        # the samples cannot follow stays on it, and is drawn as sampled.
        off_chart = (mid < limits[0]) | (mid > limits[1])
        pole = ~np.isfinite(mid) | (outside & off_chart)
        left, right = y[:-1] - centre, y[1:] - centre
        out = (left * right > 0) & (np.minimum(np.abs(left), np.abs(right)) > span)
        suspects = np.flatnonzero(out & ~pole)
        if suspects.size:
            t = np.linspace(0.0, 1.0, FINE + 2)[1:-1]
            fine = x[suspects, None] + t * (x[suspects + 1] - x[suspects])[:, None]
            values = np.abs(fn(fine.ravel()).reshape(fine.shape) - centre)
            peak = np.max(np.where(np.isfinite(values), values, np.inf), axis=1)
            ends = np.maximum(np.abs(left[suspects]), np.abs(right[suspects]))
            pole[suspects] = peak > POLE_GROWTH * ends
    return pole


def _undefined(fn: Along, sampled: _Sampling, ys: np.ndarray, pieces: list[Piece]) -> list[Mark]:
    """Stretches of non-finite samples, and poles between two pieces."""
    xs, cuts = sampled.xs, sampled.cuts
    marks = []
    bad = ~np.isfinite(ys)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], bad.astype(int), [0]])))
    for start, stop in zip(edges[::2], edges[1::2]):
        marks.append(Mark("undefined", float(xs[start]), float(xs[stop - 1])))
    for left, right in itertools.pairwise(pieces):
        gap = (float(left.x[-1]), float(right.x[0]))
        inside = any(m.x <= gap[1] and (m.stop or m.x) >= gap[0] for m in marks)
        inside = inside or any(lo >= gap[0] and hi <= gap[1] for lo, hi in cuts)
        near = 0 < gap[1] - gap[0] < 10 * (xs[1] - xs[0])
        if not inside and near:
            marks.append(Mark("undefined", _pole_in(fn, *gap)))
    return marks


def _pole_in(fn: Along, low: float, high: float) -> float:
    """Where |f| is largest between two samples: the pole, to a few
    hundredths of their distance."""
    fine = np.linspace(low, high, 257)
    with np.errstate(all="ignore"):
        size = np.abs(fn(fine))
    return float(fine[np.argmax(np.where(np.isfinite(size), size, np.inf))])


def _y_limits(ys: np.ndarray, value: float | None) -> tuple[float, float]:
    """The bulk of the curve (2nd to 98th percentile, so a pole does not
    flatten everything else), and the point, with a margin."""
    finite = ys[np.isfinite(ys)]
    if finite.size == 0:
        return -1.0, 1.0
    lo, hi = np.percentile(finite, [2, 98])
    if value is not None and np.isfinite(value):
        lo, hi = min(lo, value), max(hi, value)
    with np.errstate(over="ignore"):
        pad = 0.1 * (hi - lo) if hi > lo else max(1.0, abs(lo))
        bottom, top = lo - pad, hi + pad
    # Near float64's largest the margin would overflow: the bulk itself, then.
    return float(bottom if np.isfinite(bottom) else lo), float(top if np.isfinite(top) else hi)


def _drawable(what: str, low: float, high: float) -> None:
    """A plot's axis is a float64 span: one wider than float64 holds cannot be
    drawn (its scale overflows)."""
    with np.errstate(over="ignore"):
        span = high - low
    if not np.isfinite(span):
        raise TooLargeError(
            f"{what} span {low:g} to {high:g}, wider than float64 can draw "
            "(about 1.8e308): choose a narrower --range"
        )


def build(
    expression: str | Expression,
    at: Any = None,
    wrt: Sequence[str] | None = None,
    window: tuple[float, float] | None = None,
    derivative: bool = True,
    result: Result | None = None,
    samples: int = SAMPLES,
    taylor: int | None = None,
) -> Plot:
    """The plot of `expression` along one variable around the point `at`.

    `wrt` names the variable (needed when there are several); `result`, a
    `pointcheck.Result` already computed at the point (diff --plot), saves
    computing it again. Raises UsageError for a vector variable or a bad
    choice of variable; a point where f is undefined is drawn, with no
    tangent (status "undefined"). `taylor`: the degree of a Taylor
    polynomial to draw too. A function of two variables carries its
    tangent plane at the point."""
    from . import atpoint, verdict

    expr = as_expression(expression)
    variable = variable_along(expr, wrt)
    point = atpoint.point(at, expr.variables)
    shapes = atpoint.shapes(point)
    if any(shape is not None for shape in shapes.values()):
        raise UsageError("plots scalar variables only (a vector variable was given)", option="at")
    flat = {name: float(v) for name, v in point.items()}
    x0 = flat[variable]
    checked = _differentiated(expr, flat, variable) if result is None else result
    a, b = _holding(window or window_around(x0), variable, x0)
    value: float | None
    tangents: list[Tangent] = []
    plane = None
    if isinstance(checked, DomainError):
        value, status, reason = None, verdict.Status.UNDEFINED, str(checked)
    else:
        value, status, reason = float(np.sum(checked.value)), checked.status, checked.reason
        tangents = _tangents(checked, variable, x0, value, (a, b))
        plane = tangent_plane(checked, flat, value)

    xs = np.linspace(a, b, samples)
    if a < x0 < b and not np.any(xs == x0):
        xs = np.sort(np.append(xs, x0))
    along = _Slice(expr, flat, variable)
    ys = along.values(xs)
    y_limits = _y_limits(ys, value)
    _drawable("f's values across the window", *y_limits)
    sampled = _sampling(along, xs)
    curve = _trace(along.values, sampled, y_limits)
    overlay = None if taylor is None else taylor_curve(expr, flat, variable, taylor, xs)
    slopes, slope_text, notes = (
        _derivative_pieces(along, sampled) if derivative else (None, None, [])
    )
    notes = notes + ([overlay] if isinstance(overlay, str) else [])
    return Plot(
        expression=expr.source,
        variable=variable,
        point=flat,
        at=x0,
        value=value,
        window=(float(a), float(b)),
        y_limits=y_limits,
        curve=curve,
        derivative=slopes,
        derivative_text=slope_text,
        tangents=tangents,
        marks=_marks(along, sampled, ys, curve, y_limits),
        status=str(status),
        reason=reason,
        notes=notes,
        plane=plane,
        taylor=overlay if isinstance(overlay, TaylorCurve) else None,
    )


def _holding(window: tuple[float, float], variable: str, x0: float) -> tuple[float, float]:
    """The window, when it holds the point and can be drawn; else a UsageError."""
    a, b = window
    if not a <= x0 <= b:
        # Widening the window silently would draw what was not asked for.
        raise UsageError(
            f"{a:g}:{b:g} leaves out the point {variable}={x0:g}: "
            "a window must hold the point (widen it, or move --at)",
            option="range",
        )
    _drawable("the window", a, b)
    return a, b


def _differentiated(
    expr: Expression, point: dict[str, float], variable: str
) -> Result | DomainError:
    """The point's `pointcheck.Result` along `variable`, or the DomainError that
    says f is undefined there."""
    from . import pointcheck

    try:
        # Two variables: both partials, for the tangent plane.
        wrt = list(expr.variables) if len(expr.variables) == 2 else [variable]
        result = pointcheck.differentiate(expr, point, wrt=wrt, autograd=False)
    except DomainError as error:
        return error
    if isinstance(result, Jacobian):
        raise UsageError("plots a function with one value; this one is vector-valued")
    return result


def _marks(
    along: _Slice,
    sampled: _Sampling,
    ys: np.ndarray,
    curve: list[Piece],
    y_limits: tuple[float, float],
) -> list[Mark]:
    """Where the curve is undefined, jumps or has a corner, left to right."""
    span = y_limits[1] - y_limits[0]
    marks = _undefined(along.values, sampled, ys, curve)
    for lo, hi in sampled.cuts:
        left, right = along.values(np.array([lo, hi]))
        jump = not np.isclose(left, right, rtol=1e-6, atol=1e-9 * max(1.0, span))
        marks.append(Mark("jump" if jump else "corner", 0.5 * (lo + hi)))
    marks.sort(key=lambda m: m.x)
    return marks


def _tangents(
    result: Result, variable: str, x0: float, value: float, window: tuple[float, float]
) -> list[Tangent]:
    """The tangent at the point over the window; at a corner, the two
    one-sided ones, each on its side."""
    a, b = window
    corner = [k for k in result.kinks if k.wrt == variable and not k.jump and k.order == 1]
    if corner:
        kink = corner[0]
        assert kink.left is not None and kink.right is not None  # a corner, not a jump
        at_value = kink.value if kink.value is not None else value
        return [
            Tangent(x0, at_value, float(kink.left), "left", a, x0),
            Tangent(x0, at_value, float(kink.right), "right", x0, b),
        ]
    along = [p for p in result.partials if p.wrt == (variable,)]
    slope = along[0].sympy if along else None  # a scalar variable's: a number, or None
    if slope is None or isinstance(slope, list) or not np.isfinite(slope):
        return []
    return [Tangent(x0, value, float(slope), "both", a, b)]


def _derivative_pieces(
    along: _Slice, sampled: _Sampling
) -> tuple[list[Piece] | None, str | None, list[str]]:
    """f′ along the slice: SymPy's derivative, evaluated with numpy; not
    drawn where f itself is undefined. (pieces, f′'s text, notes)."""
    from .cas import sympy_engine as engine

    expr, point, variable = along.expr, along.point, along.variable
    symbols = engine.symbols_for(expr.variables, {n: None for n in expr.variables})
    f = engine.build(expr, symbols)
    d = engine.derivative(f, (symbols[variable],))
    held = {symbols[n]: v for n, v in point.items() if n != variable}

    def slope(x: np.ndarray) -> np.ndarray:
        arrays = {**held, symbols[variable]: x}
        slopes = np.broadcast_to(engine.evaluate_numpy(d, arrays), x.shape).astype(np.float64)
        return np.where(np.isfinite(along.values(x)), slopes, np.nan)

    try:
        ys = slope(sampled.xs)
    except (ValueError, TypeError):
        return None, None, [f"f′ = {engine.text(d)} has no numpy evaluation: not drawn"]
    return _trace(slope, sampled, _y_limits(ys, None)), engine.text(d), []


def derivative_limits(plot: Plot) -> tuple[float, float]:
    ys = np.concatenate([p.y for p in plot.derivative or []] or [np.zeros(1)])
    return _y_limits(ys, None)


@dataclass
class PointsPlot:
    """`plot --points`: the derivative at each point of a file, over f′'s
    curve when f has one variable."""

    expression: str
    variable: str
    x: np.ndarray
    derivative: np.ndarray  # SymPy's value per point; NaN where not finite
    statuses: list[str]
    window: tuple[float, float]
    y_limits: tuple[float, float]
    curve: list[Piece] | None
    derivative_text: str
    outside: int = 0  # points outside the window (--range): not drawn


def over_points(
    expression: str | Expression,
    points: Points,
    wrt: Sequence[str] | None = None,
    progress: Callable[[int], object] | None = None,
    window: tuple[float, float] | None = None,
) -> PointsPlot:
    """The derivative along one variable at every point of `points`
    (a `pointsfile.Points`), as `diff --points` computes it, over `window`
    (--range; default: the points' own span). Points outside it are counted
    in `outside`, not drawn."""
    from . import batch

    expr = as_expression(expression)
    variable = variable_along(expr, wrt)
    many = batch.differentiate_many(expr, points, [variable], 1, "float64", progress)
    column = many.partials[0]
    x = np.asarray(points.columns[variable], dtype=np.float64).reshape(-1)
    slopes = np.asarray(column.sympy, dtype=np.float64).reshape(x.size, -1).sum(axis=-1)
    a, b = window or (float(np.min(x)), float(np.max(x)))
    if a == b:
        a, b = window_around(a)
    inside = (x >= a) & (x <= b)
    outside = int(np.count_nonzero(~inside))
    x, slopes = x[inside], slopes[inside]
    statuses = [many.status(i) for i in np.flatnonzero(inside).tolist()]
    curve = None
    if len(expr.variables) == 1:
        xs = np.linspace(a, b, SAMPLES)
        along = _Slice(expr, {variable: 0.0}, variable)
        curve, _, _ = _derivative_pieces(along, _sampling(along, xs))
    shown = np.concatenate([slopes[np.isfinite(slopes)]] + [p.y for p in curve or []])
    return PointsPlot(
        expression=expr.source,
        variable=variable,
        x=x,
        derivative=slopes,
        statuses=statuses,
        window=(a, b),
        y_limits=_y_limits(shown, None),
        curve=curve,
        derivative_text=str(column.symbolic),
        outside=outside,
    )


__all__ = [
    "Mark",
    "Piece",
    "Plot",
    "PointsPlot",
    "Tangent",
    "build",
    "over_points",
    "window_around",
]


def variable_along(expr: Expression, wrt: Sequence[str] | None) -> str:
    """The one variable a plot (or an error curve) is drawn along."""
    from . import pointcheck

    names = pointcheck.validate(expr, wrt, 1, "float64")
    if len(names) != 1:
        raise UsageError(
            f"must name the one variable to draw along: one of {', '.join(names)}",
            option="wrt",
        )
    return names[0]
