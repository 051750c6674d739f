"""Numpy evaluation of the tree, finite differences and one-sided checks.

This is the third, independent method: it only ever evaluates the function
(never a derivative rule), always in float64, on batches shaped
``(batch, k)`` with ``k`` = 1 for scalars and the vector length otherwise.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .evaluation import EPS, detached_values, evaluate, first_undefined, rounding_noise
from .functions import TABLE
from .parsing import Expression, Node

# Central 5-point stencil for a first derivative: O(h^4) truncation error.
_OFFSETS = np.array([-2.0, -1.0, 1.0, 2.0])
WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0
# Steps tried, as fractions of the base step; the one with the smallest
# Richardson error estimate wins (a kink near the point spoils large steps).
STEP_FACTORS = tuple(10.0**-k for k in range(9))  # 1 down to 1e-8
# Two step sizes, not nine, where a check is repeated at scale (each --points
# point; each sampled component of a long vector): 4 times less work, and the
# error estimate still says how far to trust the one chosen.
FEW_STEP_FACTORS = (1.0, 1e-3)


def base_steps(point: dict, order: int) -> dict:
    """The largest step tried: eps^(1/(4+order)) balances truncation (h^4)
    against rounding (eps/h^order); it grows only logarithmically with |x|
    (as numdifftools does), so sin(x) at 1e6 is not stepped over whole periods,
    but never below what float64 can resolve at x."""
    return {name: np.maximum(*step_limits(value, order)) for name, value in point.items()}


def step_limits(value: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """(the step asked for, the shortest step float64 resolves at `value`)."""
    scale = EPS ** (1.0 / (4 + order))
    return scale * np.maximum(1.0, np.log1p(np.abs(value))), 1e3 * np.spacing(np.abs(value))


# Where float64 forces a step this many times longer than the one asked for
# (|x| past 2^40, about 1.1e12), the stencil may step over what f does between its
# points (sin(x) at 1e16: a step of 2,000, whole periods): its error estimate
# cannot be trusted, and is reported as unbounded (see `finite_difference`).
FORCED_STEP = 10.0


def finite_difference(
    expr: Expression,
    point: dict,
    partials: list,
    frozen: dict | None = None,
    step_factors: tuple[float, ...] = STEP_FACTORS,
    jitter: np.random.Generator | None = None,
    row: int | None = None,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Central differences for each partial, at every point of a batch.

    `point` maps names to arrays of shape (batch, k). Each partial is a tuple
    of (name, component) pairs, one per differentiation. Returns a list of
    (estimates, error_estimates, clean) triples of arrays of shape (batch,);
    `clean` is False where no step could be taken without its stencil
    crossing a kink of some sub-expression (or leaving the domain): the
    estimate is then not a check of anything. The
    output is summed when it is a vector, matching `backward(ones)`, unless
    `row` picks one of its elements (a row of the Jacobian).
    `jitter` (a numpy Generator) perturbs every operation's value by about
    one rounding error, to measure float64's reach (see `evaluate`).
    """
    if frozen is None:
        frozen = detached_values(expr, point)
    with np.errstate(all="ignore"):
        return [
            _one_partial(expr, point, partial, frozen, step_factors, jitter, row)
            for partial in partials
        ]


def _moved(point: dict, frozen: dict, shifts: dict, rows: int) -> tuple[dict, dict]:
    """Every point of the batch repeated `rows` times and moved by `shifts`
    ({(name, comp): offsets of shape (batch * rows,)}): arrays of (batch * rows, k)."""
    moved = {name: np.repeat(value, rows, axis=0) for name, value in point.items()}
    for (name, comp), offsets in shifts.items():
        moved[name][:, comp] += offsets
    held = {key: np.repeat(value, rows, axis=0) for key, value in frozen.items()}
    return moved, held


def _one_partial(
    expr: Expression,
    point: dict,
    partial: tuple,
    frozen: dict,
    step_factors: tuple[float, ...],
    jitter: np.random.Generator | None = None,
    row: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = len(partial)
    batch = next(iter(point.values())).shape[0]
    steps = base_steps(point, order)
    combos = np.array(list(itertools.product(range(len(_OFFSETS)), repeat=order)))
    weights = np.prod(WEIGHTS[combos], axis=1)
    scales = np.array([f * s for f in step_factors for s in (1.0, 0.5)])
    # Exact steps: h such that x + h is a float, so the step taken is the step
    # divided by (x + h - x would otherwise differ from h by rounding).
    exact = {}
    for name, comp in set(partial):
        x = point[name][:, comp][:, None]  # (batch, 1)
        exact[(name, comp)] = (x + steps[name][:, comp][:, None] * scales[None, :]) - x
    # Offsets along each differentiation, for every (point, scale, combo).
    shifts: dict[tuple[str, int], Any] = {}
    for position, (name, comp) in enumerate(partial):
        h = exact[(name, comp)]  # (batch, scales)
        # h[:, :, None] * offsets[None, None, :], as two flat arrays of the
        # same products: numpy broadcasts slowly over an inner axis of 4.
        along = _OFFSETS[combos[:, position]]
        offsets = np.repeat(h.reshape(-1), len(along)) * np.tile(along, h.size)
        key = (name, comp)
        shifts[key] = shifts.get(key, 0.0) + offsets.reshape(batch, -1)
    moved, held = _moved(
        point, frozen, {k: v.reshape(-1) for k, v in shifts.items()}, len(scales) * len(combos)
    )
    pieces: dict = {}
    poles: dict = {}
    f = evaluate(expr, moved, held, sides=pieces, jitter=jitter, singular=poles)
    if row is None:
        # A scalar's value itself (its sum would turn -0.0 into 0.0; the
        # weighted stencil below comes out the same either way).
        f = f[:, 0] if f.shape[-1] == 1 else f.sum(axis=-1)
    else:
        f = f[:, row]
    f = f.reshape(batch, len(scales), len(combos))
    denominators = np.ones((batch, len(scales)))
    for name, comp in partial:
        denominators = denominators * exact[(name, comp)]
    estimates = (f @ weights) / denominators  # (batch, scales)
    estimates = estimates.reshape(batch, len(step_factors), 2)
    # Richardson: the O(h^4) error of D(h) is about 16/15 |D(h) - D(h/2)|.
    errors = np.abs(estimates[..., 0] - estimates[..., 1]) * (16.0 / 15.0)
    # Rounding: eps*|f| or the bound on f's own rounding, amplified by sum|w| / h^order.
    noise = np.maximum(EPS * _largest(np.abs(f)), rounding_noise(expr, point, frozen, row)[:, None])
    rounding = (noise * np.sum(np.abs(weights)) / denominators).reshape(
        batch, len(step_factors), 2
    )[..., 1]
    errors = errors + rounding
    errors = np.where(np.isfinite(errors), errors, np.inf)
    # A stencil reaching toward a pole or branch point: its Taylor series, and
    # so its error estimate, no longer hold. Not taken.
    near = near_singular(expr, point, frozen, poles, len(scales), len(combos))
    errors = np.where(np.any(near.reshape(batch, len(step_factors), 2), axis=2), np.inf, errors)
    # A node on its kink at the point counts too: every stencil straddles it,
    # so no step is clean there (the kink check speaks for the point).
    crossing = crosses_piece(expr, point, frozen, pieces, len(scales), len(combos), at_kink=True)
    crossing = np.any(crossing.reshape(batch, len(step_factors), 2), axis=2)
    clean = ~np.all(crossing, axis=1) & np.any(np.isfinite(errors), axis=1)

    # A step whose stencil crosses a kink measures both pieces at once: it is
    # not taken while a clean one exists.
    errors = np.where(crossing & clean[:, None], np.inf, errors)
    best = np.argmin(errors, axis=1)
    rows = np.arange(batch)
    fine, coarse = estimates[rows, best, 1], estimates[rows, best, 0]
    error = errors[rows, best]
    error = np.where(_consistent(estimates, errors, best), error, np.inf)
    for name, comp in set(partial):
        asked, floor = step_limits(point[name][:, comp], order)
        error = np.where(floor > FORCED_STEP * asked, np.inf, error)
    return fine + (fine - coarse) / 15.0, error, clean


# Two steps' estimates differing by more than this many times their summed
# error estimates contradict one of those estimates.
CONSISTENT = 4.0


def _consistent(estimates: np.ndarray, errors: np.ndarray, best: np.ndarray) -> np.ndarray:
    """(batch,): whether the chosen step's estimate lies within the error
    estimates of every other step taken (finite error). Where it does not,
    its own estimate is not honest: the function varies faster than the
    step resolves (sin(1/x) at 1e-6 turns over every 1e-12; sin(x*y) at
    x = 1e8 along y samples whole periods and aliases to a steady wrong
    slope), or f's values round flat at the short steps (a stencil of equal
    values gives 0 with no error while longer steps see the slope)."""
    extrapolated = estimates[..., 1] + (estimates[..., 1] - estimates[..., 0]) / 15.0
    rows = np.arange(len(best))
    chosen, chosen_error = extrapolated[rows, best][:, None], errors[rows, best][:, None]
    gap = np.abs(extrapolated - chosen)
    within = gap <= CONSISTENT * (errors + chosen_error) + EPS * np.abs(chosen)
    return np.all(within | ~np.isfinite(errors), axis=1)


# A stencil may move a quantity that is 0 at a singular place by at most this
# fraction of its value at the point (about its step over its distance to it).
NEAR_SINGULAR = 0.1


def near_singular(
    expr: Expression, point: dict, frozen: dict | None, moved: dict, scales: int, combos: int
) -> np.ndarray:
    """(batch, scales): whether each step's stencil moves some node's
    singular quantity (`Function.singular`: the denominator of a / b, the
    argument of log or sqrt, cos(x) of tan(x)) by more than NEAR_SINGULAR of
    its value at the point: it reaches toward a pole across a distance
    comparable to its own, as 1/x**2 at 1e-7 with a step of 1e-4 does (an
    even pole has no sign change for `crosses_piece` to see)."""
    batch = next(iter(point.values())).shape[0]
    near = np.zeros((batch, scales), dtype=bool)
    if not moved:
        return near
    here: dict = {}
    evaluate(expr, point, frozen, singular=here)
    with np.errstate(all="ignore"):
        for key, value in moved.items():
            base = np.asarray(here[key], dtype=np.float64)
            value = np.asarray(value, dtype=np.float64)
            if value.ndim < 2 or value.shape[0] != batch * scales * combos:  # constant
                continue
            value = value.reshape(batch, scales, combos, -1)
            base = np.broadcast_to(base, (batch, value.shape[-1]))[:, None, None, :]
            reach = np.abs(value - base) > NEAR_SINGULAR * np.abs(base)
            near |= reach.any(axis=(2, 3))
    return near


def _largest(a: np.ndarray) -> np.ndarray:
    """np.max over the last, short axis (a stencil's values), as elementwise
    maxima of its slices: the same numbers, about 3 times faster than numpy's
    reduction over an inner axis of 4 (8 -> 3 ms on 50,000 points)."""
    largest = a[..., 0]
    for k in range(1, a.shape[-1]):
        largest = np.maximum(largest, a[..., k])
    return largest


def crosses_piece(
    expr: Expression,
    point: dict,
    frozen: dict | None,
    pieces: dict,
    scales: int,
    combos: int,
    at_kink: bool = False,
) -> np.ndarray:
    """(batch, scales): whether
    the stencil of each step puts some non-smooth
       node (abs, relu, max...) on another smooth piece than the point's own.
       A node sitting on its kink at the point is left out unless `at_kink`
       (moving off a kink is what one-sided probes do)."""
    batch = next(iter(point.values())).shape[0]
    crossing = np.zeros((batch, scales), dtype=bool)
    # One piece for the point and every step (x**2's exponent has no pole):
    # nothing to cross.
    pieces = {key: value for key, value in pieces.items() if np.size(value) > 1}
    if not pieces:
        return crossing
    here: dict = {}
    values = evaluate(expr, point, frozen, keep=True, sides=here)
    for node in expr.nodes:
        if id(node) not in pieces:
            continue
        args = [values[id(a)] for a in node.args]
        shape = np.broadcast_shapes(*[np.shape(a) for a in args])
        at_kink_test = TABLE[node.op].at_kink
        assert at_kink_test is not None  # every node with a `side` has a kink
        on_kink = np.broadcast_to(at_kink_test(np, *args), shape)
        base = np.broadcast_to(here[id(node)], shape)
        moved = np.asarray(pieces[id(node)])
        if moved.ndim < 2 or moved.shape[0] != batch * scales * combos:  # a constant sub-tree
            moved = np.broadcast_to(moved, (batch * scales * combos, np.shape(base)[-1]))
        moved = moved.reshape(batch, scales, combos, -1)
        changed = moved != base[:, None, None, :]
        if not at_kink:
            changed &= ~on_kink[:, None, None, :]
        crossing |= changed.any(axis=(2, 3))
    return crossing


def one_sided(
    expr: Expression,
    point: dict,
    name: str,
    comp: int,
    frozen: dict | None = None,
    step: float = 1e-6,
    per_output: bool = False,
    relative: bool = False,
) -> dict[str, np.ndarray]:
    """Left and right derivative estimates, and left and right limits of the
    value, along one variable component, at every point of the batch: arrays
    of shape (batch,), of the sum of a vector-valued expression's elements,
    or with `per_output` (batch, elements), of each element.
    Second-order one-sided stencils with step `step` times max(1, |x|), or
    with `relative` times |x| itself (x != 0)."""
    if frozen is None:
        frozen = detached_values(expr, point)
    x = point[name][:, comp]
    scale = np.abs(x) if relative else np.maximum(1.0, np.abs(x))
    h = step * scale
    # Continuity is probed this close, inside the point's own piece even when
    # another kink is 1e-12 away (relu(x) at 1e-12 in one component).
    tiny = 1e-13 * scale
    offsets = np.stack([0 * h, h, 2 * h, -h, -2 * h, tiny, -tiny, tiny / 10, -tiny / 10], axis=1)
    moved, held = _moved(point, frozen, {(name, comp): offsets.reshape(-1)}, 9)
    f = evaluate(expr, moved, held)
    if not per_output:
        return {key: value[:, 0] for key, value in _sides(f.sum(axis=-1)[:, None], x, h).items()}
    return _sides(f, x, h)


def _corner(sides: dict, finer: dict) -> np.ndarray:
    """Where the one-sided slopes at two step sizes settle and stay apart.
    A corner's two slopes stay apart as the step shrinks; slopes that differ
    only by a term that vanishes with the step (abs(x)**1.5 at 0: ±0.6·√h)
    meet at the point."""
    from .verdict import KINK_TOLERANCE

    settled = np.ones(sides["left"].shape, dtype=bool)
    for key in ("left", "right"):
        settled &= np.isfinite(sides[key]) & np.isfinite(finer[key])
        settled &= np.abs(sides[key] - finer[key]) <= SETTLED * np.maximum(1.0, np.abs(sides[key]))
    apart = np.abs(sides["left"] - sides["right"])
    stays = np.abs(finer["left"] - finer["right"]) >= 0.5 * apart
    return settled & stays & ~KINK_TOLERANCE.allows(sides["left"], sides["right"])


def _smooth(sides: dict, finer: dict) -> np.ndarray:
    """Where the one-sided slopes at two step sizes settle and are equal."""
    from .verdict import KINK_TOLERANCE

    settled = np.ones(sides["left"].shape, dtype=bool)
    for key in ("left", "right"):
        settled &= np.isfinite(sides[key]) & np.isfinite(finer[key])
        settled &= np.abs(sides[key] - finer[key]) <= SETTLED * np.maximum(1.0, np.abs(sides[key]))
    return settled & KINK_TOLERANCE.allows(sides["left"], sides["right"])


def _sides(f: np.ndarray, x: np.ndarray, h: np.ndarray) -> dict[str, np.ndarray]:
    """one_sided's estimates from f at the 9 offsets of each point: f of
    shape (batch * 9, k), the results (batch, k)."""
    f = f.reshape(len(x), 9, -1).transpose(1, 0, 2)  # (offset, point, element)
    h = h[:, None]
    with np.errstate(all="ignore"):  # inf - inf is nan, and the verdict says so
        right = (-3 * f[0] + 4 * f[1] - f[2]) / (2 * h)
        left = (3 * f[0] - 4 * f[3] + f[4]) / (2 * h)
    scale = np.maximum(1.0, np.abs(f[0]))
    # Continuity: both one-sided limits equal the value. A jump (sign at 0)
    # or a removable discontinuity (sign(x)**2 at 0) keeps its size as the
    # step shrinks; a continuous function's change shrinks with it.
    jump = np.zeros(f[0].shape, dtype=bool)
    for a, b, a_small, b_small in ((5, 6, 7, 8), (5, 0, 7, 0), (6, 0, 8, 0)):
        gap, gap_small = np.abs(f[a] - f[b]), np.abs(f[a_small] - f[b_small])
        jump |= (gap > 1e-7 * scale) & (gap_small > 0.5 * gap)
    return {
        "left": left,
        "right": right,
        "jump": jump,
        "left_value": f[6],
        "right_value": f[5],
        "value": f[0],
    }


def same_piece(
    expr: Expression,
    point: dict,
    name: str,
    comp: int,
    offsets: Any,
    frozen: dict | None = None,
) -> np.ndarray:
    """For a one-point batch: whether moving that variable component by each
    of `offsets` keeps every non-smooth sub-expression (abs, relu, max...) on
    the point's own smooth piece (one bool per offset). A node sitting on its
    kink at the point is left out, as in the finite differences."""
    offsets = np.asarray(offsets, dtype=np.float64)
    frozen = frozen or {}
    moved, held = _moved(point, frozen, {(name, comp): offsets}, len(offsets))
    pieces: dict = {}
    evaluate(expr, moved, held, sides=pieces)
    return ~crosses_piece(expr, point, frozen, pieces, len(offsets), 1)[0]


NEAR = tuple(10.0**-k for k in range(3, 16))  # 1e-3 ... 1e-15, relative to max(1, |x|)


def locally_constant(
    expr: Expression, point: dict, name: str, comp: int, frozen: dict | None = None
) -> bool:
    """Whether f keeps exactly its value at the point (a one-point batch)
    when that variable component moves a little either way, on the point's
    own piece: a piece clipped flat, as relu(x) for x < 0. The derivative
    along it is then 0, whatever 0·∞ a formula meets there."""
    x = float(point[name][0, comp])
    offsets = np.array([s * d * max(1.0, abs(x)) for d in NEAR for s in (-1, 1)])
    kept = offsets[same_piece(expr, point, name, comp, offsets, frozen)]
    if (kept < 0).sum() < 2 or (kept > 0).sum() < 2:
        return False
    kept = np.concatenate([[0.0], kept])
    moved, held = _moved(point, frozen or {}, {(name, comp): kept}, len(kept))
    f = evaluate(expr, moved, held).sum(axis=-1)
    return bool(np.all(np.isfinite(f)) and np.all(f == f[0]))


def nodes_at_kink(expr: Expression, values: dict) -> list:
    """(node, mask) for nodes of non-smooth functions (abs, relu, max, sign...)
    sitting exactly on their kink at some points of the batch; mask has shape
    (batch,). A tie that holds all around the point is no kink: `min(x, x)`,
    `abs(x - x)`, `min(relu(x), x)` at x = 1 are smooth there (`_tied_around`)."""
    found = []
    nearby: list[dict] | None = None
    for node in expr.nodes:
        func = TABLE.get(node.op)
        if func is None or func.at_kink is None:
            continue
        mask = _on_kink(func, node, values)
        if np.any(mask) and nearby is None:
            nearby = _nearby_values(expr, values)
        if np.any(mask):
            for moved in nearby or []:
                mask = mask & ~_on_kink(func, node, moved)
        if np.any(mask):
            found.append((node, mask))
    return found


def _on_kink(func: Any, node: Node, values: dict) -> np.ndarray:
    args = [values[id(a)] for a in node.args]
    # broadcast_shapes, unlike np.broadcast, takes more than 64 arrays: max(x, ...).
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    return np.asarray(np.any(np.broadcast_to(func.at_kink(np, *args), shape), axis=-1))


# Where a tie is tested for holding all around the point: every variable
# component moved at once, by these fractions of max(1, |x|), in random
# directions (seeded: the same answer every run).
AROUND = (1e-3, 1e-6)


def _nearby_values(expr: Expression, values: dict) -> list[dict]:
    """Every node's values at points moved a little from the batch's own,
    all variables at once; none where a detach(...) holds a value fixed
    (its tie with the live sub-expression is a real one)."""
    if any(node.op == "detach" for node in expr.nodes):
        return []
    variables = {n.value: values[id(n)] for n in expr.nodes if n.op == "var"}
    rng = np.random.default_rng(0)
    moved = []
    for fraction in AROUND:
        point = {}
        for name, x in variables.items():
            x = np.asarray(x, dtype=np.float64)
            sign = rng.choice((-1.0, 1.0), size=x.shape)
            point[name] = x + sign * rng.uniform(0.5, 1.0, x.shape) * fraction * np.maximum(
                1, abs(x)
            )
        moved.append(evaluate(expr, point, keep=True))
    return moved


SETTLED = 1e-3  # one-sided slopes at two steps closer than this (relative) have settled


def find_kinks(
    expr: Expression,
    point: dict,
    values: dict,
    frozen: dict,
    names: list,
    shapes: dict,
    anywhere: bool = False,
    per_output: bool = False,
) -> dict:
    """Kinks and jumps at every point of a batch: {row: [Kink, ...]}. Of the
    sum of a vector-valued expression's elements, or with `per_output` of
    each element (a Jacobian's rows: kinks of two elements may cancel in
    their sum, as in [abs(x), -abs(x)]).

    Probed where a non-smooth function (abs, relu, max...) sits on its kink,
    or, with `anywhere`, at every row (for kinks the table cannot see, like
    sqrt(x**2) at 0), along every variable component in `names`. A corner is
    reported only when both one-sided slopes are finite and settle as the
    step shrinks (a diverging slope, as abs(x)**0.5 at 0, is no corner)."""
    from .verdict import Kink

    suspects = nodes_at_kink(expr, values)
    rows = next(iter(point.values())).shape[0]
    mask = np.ones(rows, dtype=bool) if anywhere else np.zeros(rows, dtype=bool)
    for _, node_mask in suspects:
        mask |= node_mask
    probed = np.flatnonzero(mask)
    found: dict = {}
    if probed.size == 0:
        return found
    sub = {n: v[probed] for n, v in point.items()}
    held = {k: v[probed] if np.ndim(v) and np.shape(v)[0] == rows else v for k, v in frozen.items()}
    probes = _kink_components(suspects, values, probed, shapes, point if anywhere else None)
    with np.errstate(all="ignore"):
        for name in names:
            for comp in probes if shapes.get(name) else [0]:
                sides = one_sided(expr, sub, name, comp, held, per_output=per_output)
                corner = _corner(sides, one_sided(expr, sub, name, comp, held, 1e-8, per_output))
                if anywhere:  # not f's own rounding (norm(x) at 1e200 of 10^4 elements)
                    from .evaluation import beyond_rounding

                    corner &= beyond_rounding(sides, sub[name][:, comp])
                # Steps of 1e-6 reach past a kink closer than that to a small
                # x (sqrt(x**2) at 1e-14 has its kink at 0): there a kink must
                # hold with steps shorter than |x| too, or it is not at x.
                x = sub[name][:, comp]
                small = (x != 0) & (np.abs(x) < 1)
                if np.any(small) and np.any(sides["jump"] | corner):
                    closer = [
                        one_sided(expr, sub, name, comp, held, s, per_output, relative=True)
                        for s in (1e-6, 1e-8)
                    ]
                    small = small.reshape(-1, *([1] * (corner.ndim - 1)))
                    corner &= ~small | ~_smooth(*closer)  # noise there drops nothing
                    sides["jump"] = sides["jump"] & (~small | closer[0]["jump"])
                label = name if shapes.get(name) is None else f"{name}[{comp}]"
                for i in zip(*np.nonzero(sides["jump"] | corner)):
                    row = int(probed[i[0]])
                    briefs = dict.fromkeys(n.brief for n, m in suspects if m[row])
                    at = ", ".join(briefs) or "the expression"
                    jump = bool(sides["jump"][i])
                    found.setdefault(row, []).append(
                        Kink(
                            f"{at} in f[{i[1]}]" if per_output else at,
                            label,
                            None if jump else float(sides["left"][i]),
                            None if jump else float(sides["right"][i]),
                            jump,
                            float(sides["left_value"][i]),
                            float(sides["right_value"][i]),
                            float(sides["value"][i]),
                        )
                    )
    return found


MAX_PROBED = 64  # vector components probed for kinks, at most (each probe costs O(n))


def _kink_components(
    suspects: list, values: dict, rows: np.ndarray, shapes: dict, point: dict | None = None
) -> list[int]:
    """The vector components to probe for kinks. Up to MAX_PROBED elements,
    all of them; past that (one probe per component would be quadratic),
    those where an elementwise non-smooth node sits on its kink, or all when
    a reduced one does (abs(mean(x))), the first MAX_PROBED of them. With no
    such node and `point` (a kink no table entry announces: sqrt(sum(x**2))
    at 0), the MAX_PROBED components nearest 0, where such kinks sit."""
    length = max((n for n in shapes.values() if n is not None), default=1)
    if length <= MAX_PROBED:
        return list(range(length))
    if not suspects and point is not None:
        vectors = [v[rows] for v in point.values() if v.shape[-1] == length]
        nearest = np.min([np.abs(v).min(axis=0) for v in vectors], axis=0)
        return sorted(int(i) for i in np.argsort(nearest, kind="stable")[:MAX_PROBED])
    on = np.zeros(length, dtype=bool)
    for node, _ in suspects:
        args = [values[id(a)] for a in node.args]
        shape = np.broadcast(*args).shape
        at_kink = TABLE[node.op].at_kink
        assert at_kink is not None  # nodes_at_kink found it on its kink
        at = np.broadcast_to(at_kink(np, *args), shape)[rows]
        if shape[-1] == length:
            on |= at.any(axis=0)
        else:
            on[:] = True
    return [int(i) for i in np.flatnonzero(on)[:MAX_PROBED]]


def as_batch(point: dict) -> dict:
    """Point values (0-d or 1-d) as (1, k) arrays."""
    return {
        name: np.atleast_1d(np.asarray(v, dtype=np.float64)).reshape(1, -1)
        for name, v in point.items()
    }


__all__ = [
    "as_batch",
    "detached_values",
    "evaluate",
    "find_kinks",
    "finite_difference",
    "first_undefined",
    "nodes_at_kink",
    "one_sided",
]
