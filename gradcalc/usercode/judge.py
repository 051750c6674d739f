"""The verdict on a user's function, from the methods' numbers: the same
statuses and words as `diff` (verdict.Status), and for each disagreement
which input, which element, the two values and the relative error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..verdict import Tolerance

# The user's function in float64: autograd and forward mode against finite
# differences. atol_share is of the Jacobian's own scale (its largest entry),
# so an entry wrong by 0.1% is caught even when it is small.
TOLERANCE = {
    "float64": Tolerance(rtol=1e-6, atol=1e-8, atol_share=1e-8),
    # float32 differences resolve an entry only to about eps^(2/3) of the
    # largest one: a small entry beside a large one is judged on that scale.
    "float32": Tolerance(rtol=1e-3, atol=1e-3, atol_share=1e-4),
}
FD_ERROR_SLACK = 4.0  # times the differences' own error estimate ...
FD_SLACK_CAP = 1e-4  # ... but never more than this, relative: a wild estimate hides nothing


@dataclass(frozen=True)
class Mismatch:
    input: str
    element: tuple[int, ...]
    output: tuple[int, ...] | None  # the Jacobian's row (None: a scalar output or a direction)
    method: str
    value: float
    finite_difference: float
    relative_error: float


def allowed(reference: np.ndarray, error: np.ndarray, scale: float, dtype: str) -> np.ndarray:
    """How far a method may be from finite differences, entry by entry."""
    tol = TOLERANCE[dtype]
    share = tol.atol_share or 0.0
    atol = min(tol.atol, share * scale) if scale > 0 else tol.atol
    slack = np.minimum(FD_ERROR_SLACK * error, FD_SLACK_CAP * np.maximum(np.abs(reference), atol))
    return atol + tol.rtol * np.abs(reference) + np.where(np.isfinite(slack), slack, 0.0)


def agrees(
    values: np.ndarray, reference: np.ndarray, error: np.ndarray, scale: float, dtype: str
) -> np.ndarray:
    """Entry by entry: a finite value within the allowance of a finite reference."""
    with np.errstate(invalid="ignore"):
        close = np.abs(values - reference) <= allowed(reference, error, scale, dtype)
    return np.isfinite(values) & np.isfinite(reference) & close


def scale_of(references: list[np.ndarray]) -> float:
    finite = [np.abs(r[np.isfinite(r)]).max() for r in references if np.isfinite(r).any()]
    return float(max(finite, default=0.0))


def relative_error(value: float, reference: float) -> float:
    if not np.isfinite(value):
        return float("inf")
    return abs(value - reference) / abs(reference) if reference != 0 else float(abs(value))


@dataclass(frozen=True)
class Findings:
    """What the comparison found, for the verdict and its words."""

    inputs: list[Any]  # checking.InputCheck, input by input
    mismatches: list[Mismatch]
    kinks: list[dict[str, Any]]
    nan: dict[str, Any] | None
    customs: list[dict[str, Any]]

    @property
    def undefined(self) -> list[tuple[str, int]]:
        """(input, flat entry) where finite differences are not finite (no kink)."""
        found = []
        for item in self.inputs:
            d = item.differences
            bad = np.argwhere(~np.isfinite(d.estimate) & ~d.kink)
            if len(bad):
                found.append((item.name, int(bad[0][1])))
        return found


@dataclass(frozen=True)
class Place:
    """Where a (rows, elements) array's entries are: the input and its
    shape, and the output's shape when each row is one of its elements."""

    input: str
    shape: tuple[int, ...]
    output: tuple[int, ...] | None  # None: a scalar output, or random directions


def mismatches(
    place: Place, method: str, values: np.ndarray, reference: np.ndarray, ok: np.ndarray
) -> list[Mismatch]:
    """Each entry of (rows, elements) that does not agree, worst first."""
    found = []
    for row, col in np.argwhere(~ok):
        found.append(
            Mismatch(
                input=place.input,
                element=_index(col, place.shape),
                output=_index(row, place.output) if place.output else None,
                method=method,
                value=float(values[row, col]),
                finite_difference=float(reference[row, col]),
                relative_error=relative_error(float(values[row, col]), float(reference[row, col])),
            )
        )
    return sorted(found, key=lambda m: -np.nan_to_num(m.relative_error, nan=np.inf))


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()
