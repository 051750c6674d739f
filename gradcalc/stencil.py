"""Finite differences of f along a direction v over whole vectors: the
5-point stencil with Richardson extrapolation of numeric.finite_difference,
its f evaluated once for every step (as JAX's check_grads does): the
long-vector path's check of ∇f·v (vectors), and of a Jacobian's columns and
its product J·v, one estimate per element of f (vecjacobian)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import numeric

if TYPE_CHECKING:
    from .parsing import Expression

_OFFSETS = np.array([-2.0, -1.0, 1.0, 2.0])
_WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0


def directional(
    expr: Expression, batch: dict, frozen: dict, name: str, direction: np.ndarray
) -> tuple[float, float, bool]:
    """(estimate, error estimate, clean) of d/dt f(x + t·v) at t = 0: the
    5-point stencil with Richardson extrapolation of numeric.finite_difference,
    over the same step factors, never taking a step that crosses a kink (of
    the sum of f's elements, for a vector-valued f)."""
    f, scales, crossing = _along(expr, batch, frozen, name, direction)
    estimate, error, clean = _extrapolated(f.sum(axis=-1, keepdims=True), scales, crossing)
    return float(estimate[0]), float(error[0]), bool(clean[0])


def directional_rows(
    expr: Expression, batch: dict, frozen: dict, name: str, direction: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`directional` for each element of a vector-valued f: arrays of
    (estimate, error estimate, clean), one entry per element (a column of
    the Jacobian for a unit vector v, its product J·v for any other)."""
    f, scales, crossing = _along(expr, batch, frozen, name, direction)
    return _extrapolated(f, scales, crossing)


def _along(
    expr: Expression, batch: dict, frozen: dict, name: str, direction: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f at x + t·v over the stencil's steps, (steps·4, f's elements); the
    step scales; whether each pair of scales crosses a kink."""
    x = batch[name]
    base = numeric.EPS ** (1 / 5) * max(1.0, float(np.log1p(np.max(np.abs(x)))))
    scales = np.array([base * f * s for f in numeric.STEP_FACTORS for s in (1.0, 0.5)])
    t = (scales[:, None] * _OFFSETS[None, :]).reshape(-1)  # (scales * 4,)
    rows = t.size
    moved = {k: np.repeat(v, rows, axis=0) for k, v in batch.items()}
    moved[name] = moved[name] + t[:, None] * direction[None, :]
    held = {k: np.repeat(v, rows, axis=0) for k, v in frozen.items()}
    pieces: dict = {}
    with np.errstate(all="ignore"):
        f = numeric.evaluate(expr, moved, held, sides=pieces)
    f = np.asarray(f, dtype=np.float64).reshape(rows, -1)
    crosses = numeric.crosses_piece(expr, batch, frozen, pieces, scales.size, 4, at_kink=True)
    crossing = np.asarray(np.asarray(crosses).reshape(-1, 2).any(axis=1))
    return f, scales, crossing


def _extrapolated(
    f: np.ndarray, scales: np.ndarray, crossing: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each column of f (steps·4, k): the stencil's estimate at each scale,
    the pair of scales whose difference (with f's rounding) is smallest,
    extrapolated; (estimate, error, clean), each (k,)."""
    with np.errstate(all="ignore"):
        stencil = np.moveaxis(f.reshape(scales.size, 4, -1), 1, 2)  # (scales, k, 4)
        estimates = (stencil @ _WEIGHTS) / scales[:, None]  # (scales, k)
        pairs = estimates.reshape(-1, 2, estimates.shape[-1])
        errors = np.abs(pairs[:, 0] - pairs[:, 1]) * (16.0 / 15.0)
        largest = np.max(np.abs(stencil), axis=2)
        rounding = numeric.EPS * largest * np.sum(np.abs(_WEIGHTS)) / scales[:, None]
        errors = errors + rounding.reshape(-1, 2, rounding.shape[-1])[:, 1]
        errors = np.where(np.isfinite(errors), errors, np.inf)
    clean = np.asarray(~crossing.all() & np.isfinite(errors).any(axis=0))
    errors = np.where(crossing[:, None] & clean[None, :], np.inf, errors)
    best = np.argmin(errors, axis=0)
    columns = np.arange(errors.shape[-1])
    fine, coarse = pairs[best, 1, columns], pairs[best, 0, columns]
    return fine + (fine - coarse) / 15.0, errors[best, columns], clean


__all__ = ["directional", "directional_rows"]
