"""Evaluating the tree in float64, and how far rounding moves the result.

`evaluate` is the one numpy evaluation every finite difference, kink probe
and plot sample goes through; `rounding_noise` bounds float64's own error in
it (a running error bound, carried up the tree).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import PointError, UsageError
from .functions import CONSTANTS, TABLE
from .parsing import Expression, Node

EPS = np.finfo(np.float64).eps


def evaluate(
    expr: Expression,
    point: dict,
    frozen: dict | None = None,
    keep: bool = False,
    sides: dict | None = None,
    jitter: np.random.Generator | None = None,
    singular: dict | None = None,
) -> Any:
    """Evaluate at a batch of points.

    `point` maps variable names to arrays of shape (batch, k). `frozen` maps
    id(node) to a value used instead of evaluating that node (detach).
    Returns the root's array, or with `keep` a dict id(node) -> array. With
    `sides` (a dict), also records for every non-smooth node (abs, max...)
    which smooth piece its arguments are on (the table's `side`). With
    `jitter` (a numpy Generator), every operation's value is multiplied by
    1 + u·eps, u uniform in [-1, 1]: one more rounding error each, as float64
    might have made, to measure how far rounding can move a result. With
    `singular` (a dict), also records for every node the table knows a
    singular place of (a pole, a branch point) the quantity that is 0 there.
    """
    values: dict = {}
    with np.errstate(all="ignore"):
        for node in expr.nodes:
            values[id(node)] = evaluate_node(node, point, values, frozen)
            if jitter is not None and node.args:
                value = values[id(node)]
                values[id(node)] = value * (1 + EPS * jitter.uniform(-1, 1, np.shape(value)))
            func = TABLE.get(node.op)
            if sides is not None and func is not None and func.side is not None:
                sides[id(node)] = func.side(np, *[values[id(a)] for a in node.args])
            if singular is not None and func is not None and func.singular is not None:
                singular[id(node)] = func.singular(np, *[values[id(a)] for a in node.args])
    return values if keep else values[id(expr.root)]


def evaluate_node(node: Node, point: dict, values: dict, frozen: dict | None) -> np.ndarray:
    if frozen is not None and id(node) in frozen:
        return frozen[id(node)]
    if node.op == "num":
        return np.array([[float(node.value)]])
    if node.op == "const":
        return np.array([[CONSTANTS[node.value][1]]])
    if node.op == "var":
        return point[node.value]
    args = [values[id(a)] for a in node.args]
    try:
        return np.asarray(TABLE[node.op].numpy(np, *args), dtype=np.float64)
    except ValueError:  # numpy's broadcast: [a, b] against a vector of 3
        lengths = sorted({np.shape(a)[-1] for a in args if np.ndim(a) and np.shape(a)[-1] > 1})
        if len(lengths) < 2:
            raise
        raise PointError(f"vectors of different lengths {lengths} meet in {node.brief}") from None
    except UsageError as error:  # x[i] past the end: which x[i] (one of several, perhaps)
        if node.op != "index":
            raise
        raise UsageError(f"{node.brief}: {error}") from None


def first_undefined(expr: Expression, point: dict) -> tuple[Node | None, dict]:
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


# The rounding bound below counts this many times over (it is a first-order
# estimate, each operation's error at its worst sign).
NOISE_FACTOR = 2.0
_LINEAR = ("add", "sub", "neg", "mul", "div")


def beyond_rounding(sides: dict, x: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Where numeric.one_sided's slopes (its default step, along x) differ
    by more than f's float64 rounding can make them differ: its stencils
    weigh f by 3 + 4 + 1 over 2h, each f off by up to EPS·|f|; ten times
    that. At f ~ 1e202 (norm(x) of 10^4 elements near 1e200) a step along
    an element 1e3 times smaller than f moves f by less than its rounding."""
    h = (step * np.maximum(1.0, np.abs(x))).reshape(-1, *([1] * (np.ndim(sides["left"]) - 1)))
    noise = 4 * EPS * np.abs(sides["value"]) / h
    return np.abs(sides["left"] - sides["right"]) > 10 * noise


def rounding_noise(
    expr: Expression,
    point: dict,
    frozen: dict | None,
    row: int | None = None,
    known: dict | None = None,
) -> np.ndarray:
    """How far float64's rounding can move f at each point of the batch
    (shape (batch,)): a running error bound, NOISE_FACTOR times the
    first-order sum of every operation's rounding (eps·|value|) carried up
    the tree (|b|·e(a) + |a|·e(b) for a product, the operation's own slope
    times e(arg) for the rest). Far more than eps·|f| where f is a difference
    of large terms: exp(x) - exp(x - 1e-10), (x + 1)**2 - x**2 at 1e11.
    `known`: every node's value at `point` already (evaluate's `keep`), not
    evaluated again."""
    values: dict = {}
    errors: dict = {}
    with np.errstate(all="ignore"):
        for node in expr.nodes:
            if known is None or (frozen is not None and id(node) in frozen):
                value = evaluate_node(node, point, values, frozen)
            else:
                value = known[id(node)]
            values[id(node)] = value
            own = EPS * np.abs(value)
            if node.op == "var" or (frozen is not None and id(node) in frozen):
                errors[id(node)] = np.zeros(np.shape(value))
            elif not node.args:  # a literal or constant: rounded once, unless whole
                errors[id(node)] = np.where(value == np.round(value), 0.0, own)
            else:
                errors[id(node)] = _own(node, values, own) + _carried(node, values, errors)
        change = np.broadcast_to(errors[id(expr.root)], np.shape(values[id(expr.root)]))
        change = change.sum(axis=-1) if row is None else change[:, row]
    return np.where(np.isfinite(change), NOISE_FACTOR * change, np.inf)


def _own(node: Node, values: dict, own: Any) -> Any:
    """The operation's own rounding: eps·|value|, or eps·max|argument| for a
    function whose numpy form cancels terms that large (log_softmax(x)[1] at
    [-750, -700] is -1.9e-22, left from -700 minus -700)."""
    func = TABLE.get(node.op)
    if func is None or not func.cancels:
        return own
    largest = np.max(np.abs(values[id(node.args[0])]), axis=-1, keepdims=True)
    return own + EPS * largest


def _carried(node: Node, values: dict, errors: dict) -> Any:
    """The arguments' rounding errors as they reach `node`'s value."""
    args = [values[id(a)] for a in node.args]
    errs = [errors[id(a)] for a in node.args]
    if node.op in ("add", "sub"):
        return errs[0] + errs[1]
    if node.op == "neg":
        return errs[0]
    if node.op == "mul":
        return np.abs(args[1]) * errs[0] + np.abs(args[0]) * errs[1]
    if node.op == "div":
        return (errs[0] + np.abs(values[id(node)]) * errs[1]) / np.abs(args[1])
    total: Any = 0.0
    func = TABLE[node.op]
    for i, (arg, err) in enumerate(zip(args, errs)):
        if i in func.constants or not np.any(err):  # norm's p, x[i]'s i: not moved
            continue
        # The operation's own slope along this argument, over a step no
        # shorter than float64 resolves: |Δf| / step, times the error.
        step = np.maximum(err, 1e-8 * np.maximum(np.abs(arg), 1e-300))
        moved = list(args)
        moved[i] = arg + step
        change = np.abs(np.asarray(func.numpy(np, *moved)) - values[id(node)])
        if np.shape(change)[-1:] == np.shape(err)[-1:]:
            carried = change / step * err
        else:  # a function of whole vectors: the step moved every element at once
            carried = change * np.max(err / step, axis=-1, keepdims=True)
        total = total + np.nan_to_num(carried, nan=0.0, posinf=0.0)
    return total


__all__ = [
    "EPS",
    "detached_values",
    "evaluate",
    "evaluate_node",
    "first_undefined",
    "rounding_noise",
]
