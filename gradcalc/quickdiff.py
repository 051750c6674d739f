"""The quick first pass of finite differences over many points (`--points`,
`gradcalc.points`): the base step's 5-point stencils at h and at h/2, from six
evaluations of f a point, to settle the points where they confirm the
reference tightly (`verdict.confirms_alone`); numeric.finite_difference takes
the rest, with its kink, pole and second-step tests.
"""

from __future__ import annotations

import numpy as np

from .evaluation import EPS, detached_values, evaluate, rounding_noise
from .numeric import FORCED_STEP, WEIGHTS, step_limits
from .parsing import Expression

# The base step's 5-point stencils at h and at h/2 share their points at ±h,
# so 6 evaluations of f give both estimates (numeric's general stencil takes
# 8 per step size).
OFFSETS = np.array([-4.0, -2.0, -1.0, 1.0, 2.0, 4.0])  # in units of h/2
# f's rounding bound past this share of |f| (about 4,500 rounding errors: far
# more than its operations make unless it cancels) leaves a point to the full
# stencil: (1 - cos(x*y))/x at x = -2.6e-6 loses six digits to 1 - cos, and its
# SymPy and autograd derivatives share an error of 5.6e-7 there.
CANCELLING = 1e-12


def quick_difference(
    expr: Expression, point: dict, name: str, frozen: dict, known: dict | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """d/d`name` of a scalar expression at every point of a batch, from the
    base step alone: (Richardson estimates, their error estimates, which count
    f's own rounding as the full stencil's do), each of shape (batch,).
    Nothing here looks for kinks or poles, and no second step size
    cross-examines the first, so the estimate is fit only to *confirm* a
    reference that it matches well within the finite differences' tolerance
    (`verdict.confirms_alone`); every other point is for
    `numeric.finite_difference`. The error is infinite where the estimate
    is not finite, float64 forces a longer step, or f cancels (CANCELLING).
    `known`: every node's value at the points (evaluate's `keep`), if at hand."""
    x = point[name][:, 0]
    batch = x.shape[0]
    asked, floor = step_limits(x, 1)
    half = (x + np.maximum(asked, floor) * 0.5) - x  # exact: x + half is a float
    moved = {
        key: np.tile(value, (len(OFFSETS), 1)) if value.shape[0] == batch else value
        for key, value in point.items()
    }
    moved[name] = (x[None, :] + OFFSETS[:, None] * half[None, :]).reshape(-1, 1)
    held = {
        key: np.tile(value, (len(OFFSETS),) + (1,) * (value.ndim - 1))
        if np.ndim(value) and np.shape(value)[0] == batch
        else value
        for key, value in frozen.items()
    }
    with np.errstate(all="ignore"):
        f = evaluate(expr, moved, held)
        f = np.broadcast_to(f, (len(OFFSETS) * batch, f.shape[-1]))
        f = (f[:, 0] if f.shape[-1] == 1 else f.sum(axis=-1)).reshape(len(OFFSETS), batch)
        m4, m2, m1, p1, p2, p4 = f
        fine = (m2 - p2 + 8.0 * (p1 - m1)) / (12.0 * half)  # step h/2: ±h/2, ±h
        coarse = (m4 - p4 + 8.0 * (p2 - m2)) / (24.0 * half)  # step h: ±h, ±2h
        largest = np.maximum(np.maximum(np.abs(m1), np.abs(p1)), np.abs(m2))
        largest = np.maximum(largest, np.abs(p2))
        bound = rounding_noise(expr, point, frozen, known=known)
        noise = np.maximum(EPS * largest, bound)
        rounding = noise * np.sum(np.abs(WEIGHTS)) / half
        # f cancels here: its float64 value has lost digits, and so, likely,
        # have SymPy's and autograd's float64 derivatives alike, an error the
        # base step alone cannot see; the full stencil (its second step, and
        # the one-point driver's 30 digits) decides.
        cancels = bound > CANCELLING * largest
        error = np.abs(fine - coarse) * (16.0 / 15.0) + rounding
        estimate = fine + (fine - coarse) / 15.0
        usable = np.isfinite(error) & np.isfinite(estimate) & ~(floor > FORCED_STEP * asked)
        usable &= ~cancels
    return estimate, np.where(usable, error, np.inf)


def quick_differences(
    expr: Expression,
    point: dict,
    names: list[str],
    frozen: dict | None = None,
    known: dict | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`quick_difference` for each of `names`, at every point of a batch;
    the detached values (`frozen`) and every node's values (`known`) are
    computed here unless given: the helper process is asked this with the
    points alone (helper.Later), and computes the same numbers."""
    if frozen is None:
        frozen = detached_values(expr, point)
    if known is None:
        known = evaluate(expr, point, keep=True)
    return [quick_difference(expr, point, name, frozen, known) for name in names]
