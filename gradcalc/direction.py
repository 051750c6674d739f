"""`diff --direction`: the rate of change of f along a direction u at a point,
D_u f = ∇f · u, three ways: SymPy's gradient dotted with u (the reference),
autograd's gradient dotted with u, and finite differences of g(t) = f(a + t·u)
along the line itself (which never look at the gradient). u is normalized to
length 1 unless asked not to be (then D_u f is ∇f · v for v as given). The
verdict is diff's (verdict.weigh, judge and reason), over this one number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import verdict
from .errors import UsageError
from .evaluation import evaluate

# Steps of the line's 5-point stencil (times max(1, |a|)); the estimate kept
# is where two successive steps agree best, and their gap is its error.
STEPS = tuple(10.0**-k for k in range(1, 7))


@dataclass(frozen=True)
class Directional:
    variables: list[str]
    given: list[float]
    unit: list[float]  # the direction used: given / |given|, or given as is
    normalized: bool
    sympy: float | None
    autograd: float | None
    finite_difference: float
    finite_difference_error: float
    status: str
    reason: str

    @property
    def agree(self) -> bool:
        return self.status == verdict.Status.AGREE


def parse(text: str) -> list[float]:
    """ "[1,1]", "1,1" or "(1, -2)" -> the components, each a finite number."""
    inner = text.strip()
    if inner[:1] in "[(" and inner[-1:] in "])":
        inner = inner[1:-1]
    parts = [p.strip() for p in inner.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise UsageError(
            f"must be a list of numbers such as [1,1], not {text!r}", option="direction"
        ) from None
    if not values or not all(math.isfinite(v) for v in values):
        raise UsageError(f"must hold finite numbers, not {text!r}", option="direction")
    return values


def along(result: Any, text: str, normalize: bool = True) -> Directional:
    """D_u f at the point of a first-order `pointcheck.Result` (scalar variables)."""
    names = list(getattr(result, "wrt", []))
    if (
        getattr(result, "partials", None) is None
        or result.order != 1
        or any(np.ndim(v) != 0 for v in result.point.values())
    ):
        raise UsageError("takes first derivatives of scalar variables", option="direction")
    given = parse(text)
    if len(given) != len(names):
        raise UsageError(
            f"has {len(given)} components; the gradient has {len(names)} "
            f"({', '.join(names)}), in that order",
            option="direction",
        )
    largest = max(abs(v) for v in given)
    if largest == 0:
        raise UsageError("is the zero vector: it has no direction", option="direction")
    # Scaled by its largest component first, so that neither 1e200 nor 1e-200
    # leaves float64's range when squared.
    scaled = [v / largest for v in given]
    length = math.hypot(*scaled)
    unit = [v / length for v in scaled] if normalize else list(given)
    sympy = _dot([p.sympy for p in result.partials], unit)
    autograd = _dot([p.autograd for p in result.partials], unit)
    fd, error = _along_line(result, names, unit)
    methods = verdict.Methods(
        labels=["D_u f"],
        sympy=np.array([[np.nan if sympy is None else sympy]]),
        autograd=None if autograd is None else np.array([[autograd]]),
        finite_difference=np.array([[fd]]),
        finite_difference_error=np.array([[error]]),
    )
    checks = verdict.weigh(methods, result.dtype, 1)
    kinked = np.array([bool(result.kinks)])
    code = int(verdict.judge([checks], kinked, np.array([False]))[0])
    words = verdict.reason(code, 0, [methods], [checks], result.kinks, autograd is not None)
    return Directional(
        variables=names,
        given=given,
        unit=unit,
        normalized=normalize,
        sympy=sympy,
        autograd=autograd,
        finite_difference=fd,
        finite_difference_error=error,
        status=verdict.STATUSES[code],
        reason=words,
    )


def _dot(gradient: list[Any], unit: list[float]) -> float | None:
    if any(g is None or isinstance(g, list) for g in gradient):
        return None
    return float(sum(g * u for g, u in zip(gradient, unit)))


def _along_line(result: Any, names: list[str], unit: list[float]) -> tuple[float, float]:
    """d/dt f(a + t·u) at t = 0 by the 5-point stencil over STEPS; (value,
    error estimate). Variables not in `names` are held at the point."""
    scale = max(1.0, *(abs(float(result.point[n])) for n in names))
    steps = np.array(STEPS) * scale
    offsets = np.array([-2.0, -1.0, 1.0, 2.0])
    ts = (steps[:, None] * offsets[None, :]).reshape(-1)
    batch = {
        name: np.full((ts.size, 1), float(value), dtype=np.float64)
        for name, value in result.point.items()
    }
    for name, u in zip(names, unit):
        batch[name] = batch[name] + (ts * u).reshape(-1, 1)
    f = evaluate(result.tree, batch).sum(axis=-1).reshape(steps.size, 4)
    estimates = (f[:, 0] - 8 * f[:, 1] + 8 * f[:, 2] - f[:, 3]) / (12 * steps)
    gaps = np.abs(np.diff(estimates))
    if not np.isfinite(gaps).any():
        return float(estimates[0]), math.inf
    best = int(np.nanargmin(np.where(np.isfinite(gaps), gaps, np.inf)))
    return float(estimates[best + 1]), float(gaps[best])
