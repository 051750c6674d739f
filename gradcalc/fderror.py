"""The finite-difference error curve: total error against the step h.

The picture every numerical-methods course draws, for the point at hand:
as h shrinks the truncation error falls (h² for central differences, h for
one-sided ones) until rounding takes over (eps·|f|/h). Each stencil is
evaluated in float64 and in float32 (the whole evaluation in that dtype,
through SymPy's formula evaluated with numpy), against the exact derivative
(SymPy's, from `pointcheck.differentiate`). The slopes of both regimes are
fitted on log–log axes; gradcalc's own step (`numeric.base_steps`, the
largest of the steps its five-point stencil tries) is marked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DomainError, NotDifferentiableError, UsageError
from .jacobian import Jacobian

if TYPE_CHECKING:
    from .parsing import Expression

STEPS = np.logspace(-16, 0, 161)  # 10 a decade
PER_DECADE = 10  # steps a decade over a --range of h
MAX_DECADES = 64  # a log axis past this many decades has no room for its ticks
# Error at or above this fraction of |f′| is no estimate at all (x + h == x):
# left out of the rounding fit.
LOST = 0.5
FIT_GAP = 10.0  # a fitted regime starts this factor away from the minimum

# name: (offsets, weights, truncation order)
STENCILS = {
    "central": ((-1.0, 1.0), (-0.5, 0.5), 2),
    "forward": ((0.0, 1.0), (-1.0, 1.0), 1),
    "five_point": ((-2.0, -1.0, 1.0, 2.0), (1 / 12, -8 / 12, 8 / 12, -1 / 12), 4),
}
DTYPES = ("float64", "float32")


@dataclass
class Fit:
    slope: float | None  # None: too few points in the range
    expected: float
    low: float  # the range of h fitted
    high: float


@dataclass
class Series:
    dtype: str
    stencil: str
    error: np.ndarray  # |estimate − exact| per step; NaN where not finite
    best_step: float
    best_error: float
    truncation: Fit
    rounding: Fit
    # The largest step of the run, from the smallest step up, where the
    # difference is exactly 0 (x ± h rounds to x, or f cannot tell x ± h
    # apart): the error there is |f′| itself, a flat stretch. None: no such run.
    flat_below: float | None = None


@dataclass
class ErrorCurve:
    expression: str
    variable: str
    point: dict[str, float]
    derivative: float
    steps: np.ndarray
    series: list[Series]
    chosen_step: float  # gradcalc's base step (five-point stencil, float64)
    chosen_error: float  # |gradcalc's finite difference − exact|
    notes: list[str] = field(default_factory=list)  # what the curves alone do not say


def _fit(steps: np.ndarray, error: np.ndarray, low: float, high: float, expected: float) -> Fit:
    """The slope of log(error) against log(h) over [low, high]."""
    inside = (steps >= low) & (steps <= high) & np.isfinite(error) & (error > 0)
    if inside.sum() < 3:
        return Fit(None, expected, float(low), float(high))
    slope = np.polyfit(np.log10(steps[inside]), np.log10(error[inside]), 1)[0]
    return Fit(float(slope), expected, float(low), float(high))


def steps_over(window: tuple[float, float] | None) -> np.ndarray:
    """The steps h: ten a decade over `window` (--range), 1e-16 to 1 by default."""
    if window is None:
        return STEPS.copy()
    low, high = window
    if not 0 < low < high:
        raise UsageError(
            f"with --fd-error the range is the step h's: needs 0 < a < b (e.g. 1e-12:1), "
            f"not {low:g}:{high:g}",
            option="range",
        )
    decades = np.log10(high) - np.log10(low)  # (high / low may overflow)
    if decades > MAX_DECADES:
        raise UsageError(
            f"with --fd-error the range of h spans at most {MAX_DECADES} decades "
            f"(the default, 1e-16:1, spans 16), not {decades:.0f}",
            option="range",
        )
    count = max(3, round(PER_DECADE * decades) + 1)
    steps = np.logspace(np.log10(low), np.log10(high), count)
    steps[[0, -1]] = low, high  # exact ends: 10**log10(h) may round past float64's largest
    return steps


def _series(
    f_at: Callable[[np.ndarray], np.ndarray],
    exact: float,
    x0: float,
    which: tuple[str, str],
    steps: np.ndarray = STEPS,
) -> Series:
    """One stencil's error at every step, in a dtype (`which`: dtype,
    stencil), and its two regimes."""
    dtype, stencil = which
    offsets, weights, order = STENCILS[stencil]
    kind = np.dtype(dtype).type
    x = kind(x0)
    h = steps.astype(kind)
    total = np.zeros_like(h)
    with np.errstate(all="ignore"):
        for offset, weight in zip(offsets, weights):
            total = total + kind(weight) * f_at((x + kind(offset) * h).astype(kind))
        estimate = total / h
        error = np.abs(estimate.astype(np.float64) - exact)
    error = np.where(np.isfinite(error), error, np.nan)
    if np.all(np.isnan(error)):  # exp(x) at 100 in float32: f itself overflows
        raise DomainError(
            f"the {stencil.replace('_', '-')} difference is not finite in {dtype} at any step "
            f"at {x0:g} (f or its steps are past {dtype}'s range there): "
            "the error curve cannot be drawn"
        )
    best = int(np.nanargmin(error))
    best_step = float(steps[best])
    eps = float(np.finfo(kind).eps)
    rounding = _fit(
        steps,
        np.where(error < LOST * max(abs(exact), eps), error, np.nan),
        100 * eps * max(1.0, abs(x0)),
        best_step / FIT_GAP,
        -1.0,
    )
    top = min(1.0, max(0.1 * max(1.0, abs(x0)), best_step * FIT_GAP**2))
    truncation = _fit(steps, error, best_step * FIT_GAP, top, float(order))
    zero = np.asarray(estimate == 0)
    run = zero.size if zero.all() else int(np.argmin(zero))  # zeros from the smallest step
    flat = float(steps[run - 1]) if run and exact != 0 else None
    return Series(dtype, stencil, error, best_step, float(error[best]), truncation, rounding, flat)


def _flat_notes(series: list[Series], x0: float, derivative: float) -> list[str]:
    """One note per dtype with a flat stretch: why the error stops falling there."""
    notes = []
    for dtype in DTYPES:
        flat = [s for s in series if s.dtype == dtype and s.flat_below is not None]
        if not flat:
            continue
        bounds = ", ".join(f"{s.flat_below:.3g} ({s.stencil.replace('_', '-')})" for s in flat)
        spacing = float(np.spacing(np.dtype(dtype).type(abs(x0))))
        notes.append(
            f"{dtype}: every difference is exactly 0 at h <= {bounds} "
            f"(a step under {dtype}'s spacing at {x0:g}, {spacing:.3g}, vanishes in x ± h, "
            f"or f rounds to the same value on both sides), so the error there is "
            f"|f'| = {abs(derivative):.3g} itself: the flat stretch"
        )
    return notes


def curve(
    expression: str | Expression,
    at: Any = None,
    wrt: Sequence[str] | None = None,
    window: tuple[float, float] | None = None,
) -> ErrorCurve:
    """The error curves of every stencil in both dtypes at the point `at`,
    along one variable (`wrt`, needed when there are several), over the
    steps h in `window` (--range; default 1e-16 to 1)."""
    from . import numeric, pointcheck
    from .cas import sympy_engine as engine
    from .parsing import as_expression
    from .plotting import variable_along

    steps = steps_over(window)
    expr = as_expression(expression)
    variable = variable_along(expr, wrt)
    result = pointcheck.differentiate(expr, at, wrt=[variable], autograd=False)
    if isinstance(result, Jacobian):
        raise UsageError("plots a function with one value; this one is vector-valued")
    if any(shape is not None for shape in (v.shape or None for v in result.point.values())):
        raise UsageError("plots scalar variables only (a vector variable was given)", option="at")
    point = {n: float(v) for n, v in result.point.items()}
    exact = result.partials[0].sympy
    if result.kinks:  # as diff says there: not differentiable (exit 1)
        from .verdict import kink_phrases

        raise NotDifferentiableError(
            f"no error curve at {variable}={point[variable]:g}: "
            + "; ".join(kink_phrases(result.kinks))
            + ", so there is no derivative for finite differences to approach"
        )
    if not isinstance(exact, float) or not np.isfinite(exact):
        raise DomainError(
            f"no error curve at {variable}={point[variable]:g}: the derivative there is "
            "not one finite number"
        )
    symbols = engine.symbols_for(expr.variables, {n: None for n in expr.variables})
    f = engine.build(expr, symbols)

    def f_at(x: np.ndarray) -> np.ndarray:
        arrays = {symbols[n]: x.dtype.type(v) for n, v in point.items() if n != variable}
        arrays[symbols[variable]] = x
        return _evaluate_as(engine, f, arrays, x)

    x0 = point[variable]
    series = [_series(f_at, exact, x0, (d, s), steps) for d in DTYPES for s in STENCILS]
    base = numeric.base_steps(numeric.as_batch(point), 1)[variable]
    return ErrorCurve(
        expression=expr.source,
        variable=variable,
        point=point,
        derivative=float(exact),
        steps=steps,
        series=series,
        chosen_step=float(np.ravel(base)[0]),
        chosen_error=float(abs(float(np.sum(result.partials[0].finite_difference)) - exact)),
        notes=_flat_notes(series, x0, float(exact)),
    )


def _evaluate_as(
    engine: ModuleType, f: Any, arrays: dict[Any, np.ndarray], steps: np.ndarray
) -> np.ndarray:
    """f at the `steps` (the variable's array; the others are scalars), in
    their dtype throughout: evaluate_numpy keeps the arrays' dtype until its
    final conversion (numpy keeps float32 · Python float in float32)."""
    value = engine.evaluate_numpy(f, arrays)
    return np.broadcast_to(value, steps.shape).astype(steps.dtype)


__all__ = ["ErrorCurve", "Fit", "Series", "curve"]
