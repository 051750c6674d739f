"""Numpy evaluation of the tree, finite differences and one-sided checks.

This is the third, independent method: it only ever evaluates the function
(never a derivative rule), always in float64, on batches shaped
``(batch, k)`` with ``k`` = 1 for scalars and the vector length otherwise.
"""

from __future__ import annotations

import itertools

import numpy as np

from .functions import CONSTANTS, TABLE
from .parsing import Expression, Node

EPS = np.finfo(np.float64).eps

# Central 5-point stencil for a first derivative: O(h^4) truncation error.
_OFFSETS = np.array([-2.0, -1.0, 1.0, 2.0])
_WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0
# Steps tried, as fractions of the base step; the one with the smallest
# Richardson error estimate wins (a kink near the point spoils large steps).
_STEP_FACTORS = (1.0, 1e-1, 1e-2, 1e-3)


def evaluate(expr: Expression, point: dict, frozen: dict | None = None,
             keep: bool = False):
    """Evaluate at a batch of points.

    `point` maps variable names to arrays of shape (batch, k). `frozen` maps
    id(node) to a value used instead of evaluating that node (detach).
    Returns the root's array, or with `keep` a dict id(node) -> array.
    """
    values = {}
    with np.errstate(all="ignore"):
        for node in expr.nodes:
            values[id(node)] = _evaluate_node(node, point, values, frozen)
    return values if keep else values[id(expr.root)]


def _evaluate_node(node: Node, point, values, frozen):
    if frozen is not None and id(node) in frozen:
        return frozen[id(node)]
    if node.op == "num":
        return np.array([[float(node.value)]])
    if node.op == "const":
        return np.array([[CONSTANTS[node.value][1]]])
    if node.op == "var":
        return point[node.value]
    args = [values[id(a)] for a in node.args]
    return np.asarray(TABLE[node.op].numpy(np, *args), dtype=np.float64)


def first_undefined(expr: Expression, point: dict):
    """The first node (children first) whose value is not finite, or None."""
    values = evaluate(expr, point, keep=True)
    for node in expr.nodes:
        if not np.all(np.isfinite(values[id(node)])):
            return node, values
    return None, values


def detached_values(expr: Expression, point: dict) -> dict:
    """Values of every detach(...) node at the base point: held fixed while
    finite differences move the variables."""
    if not any(node.op == "detach" for node in expr.nodes):
        return {}
    values = evaluate(expr, point, keep=True)
    return {id(n): values[id(n)] for n in expr.nodes if n.op == "detach"}


def _base_steps(point: dict, order: int) -> dict:
    # Balance truncation (h^4) against rounding (eps/h^order).
    scale = EPS ** (1.0 / (4 + order))
    return {name: scale * np.maximum(1.0, np.abs(value)) for name, value in point.items()}


def finite_difference(expr: Expression, point: dict, partials: list, frozen=None):
    """Central differences for each partial.

    `point` maps names to arrays of shape (1, k). Each partial is a tuple of
    (name, component) pairs, one per differentiation. Returns a list of
    (estimate, error_estimate) pairs of floats. The output is summed when it
    is a vector, matching `backward(ones)`.
    """
    if frozen is None:
        frozen = detached_values(expr, point)
    results = []
    for partial in partials:
        results.append(_one_partial(expr, point, partial, frozen))
    return results


def _one_partial(expr, point, partial, frozen):
    order = len(partial)
    base_steps = _base_steps(point, order)
    combos = list(itertools.product(range(len(_OFFSETS)), repeat=order))
    weights = np.array([np.prod(_WEIGHTS[list(c)]) for c in combos])
    # Steps h and h/2 for every factor: 2 * len(factors) * 4**order points.
    scales = [f * s for f in _STEP_FACTORS for s in (1.0, 0.5)]
    batch = len(scales) * len(combos)
    moved = {name: np.repeat(value, batch, axis=0).astype(np.float64)
             for name, value in point.items()}
    row = 0
    for scale in scales:
        for combo in combos:
            for (name, comp), index in zip(partial, combo):
                moved[name][row, comp] += _OFFSETS[index] * scale * base_steps[name][0, comp]
            row += 1
    f = evaluate(expr, moved, frozen).sum(axis=-1).reshape(len(scales), len(combos))
    denominators = np.array([
        np.prod([scale * base_steps[name][0, comp] for name, comp in partial])
        for scale in scales
    ])
    estimates = (f @ weights) / denominators  # one per scale
    estimates = estimates.reshape(len(_STEP_FACTORS), 2)
    # Richardson: the O(h^4) error of D(h) is about 16/15 |D(h) - D(h/2)|.
    errors = np.abs(estimates[:, 0] - estimates[:, 1]) * (16.0 / 15.0)
    # Rounding: each value carries ~eps*|f|, amplified by sum|w| / h^order.
    rounding = (EPS * np.max(np.abs(f), axis=1) * np.sum(np.abs(weights))
                / denominators).reshape(len(_STEP_FACTORS), 2)[:, 1]
    errors = errors + rounding
    errors = np.where(np.isfinite(errors), errors, np.inf)
    best = int(np.argmin(errors))
    h_best = estimates[best, 1] + (estimates[best, 1] - estimates[best, 0]) / 15.0
    return float(h_best), float(errors[best])


def one_sided(expr: Expression, point: dict, name: str, comp: int, frozen=None):
    """Left and right derivative estimates, and left and right limits of the
    value, along one variable component. Second-order one-sided stencils."""
    if frozen is None:
        frozen = detached_values(expr, point)
    x = point[name][0, comp]
    h = 1e-6 * max(1.0, abs(float(x)))
    tiny = 1e-10 * max(1.0, abs(float(x)))
    offsets = np.array([0.0, h, 2 * h, -h, -2 * h, tiny, -tiny, tiny / 10, -tiny / 10])
    moved = {n: np.repeat(v, len(offsets), axis=0).astype(np.float64) for n, v in point.items()}
    moved[name][:, comp] += offsets
    f = evaluate(expr, moved, frozen).sum(axis=-1)
    right = (-3 * f[0] + 4 * f[1] - f[2]) / (2 * h)
    left = (3 * f[0] - 4 * f[3] + f[4]) / (2 * h)
    gap, gap_small = abs(f[5] - f[6]), abs(f[7] - f[8])
    scale = max(1.0, abs(float(f[0])))
    # A jump keeps its size as the step shrinks; a continuous function's
    # change shrinks with it.
    jump = bool(gap > 1e-7 * scale and gap_small > 0.5 * gap)
    return {"left": float(left), "right": float(right), "jump": jump,
            "left_value": float(f[6]), "right_value": float(f[5])}


def nodes_at_kink(expr: Expression, values: dict) -> list:
    """Nodes of non-smooth functions (abs, relu, max, sign...) sitting exactly
    on their kink at the evaluated point."""
    found = []
    for node in expr.nodes:
        func = TABLE.get(node.op)
        if func is None or func.at_kink is None:
            continue
        args = [values[id(a)] for a in node.args]
        if np.any(func.at_kink(np, *args)):
            found.append(node)
    return found


def as_batch(point: dict) -> dict:
    """Point values (0-d or 1-d) as (1, k) arrays."""
    return {name: np.atleast_1d(np.asarray(v, dtype=np.float64)).reshape(1, -1)
            for name, v in point.items()}


def is_finite(value) -> bool:
    return bool(np.all(np.isfinite(value)))


__all__ = ["evaluate", "finite_difference", "one_sided", "nodes_at_kink",
           "first_undefined", "detached_values", "as_batch", "is_finite"]
