"""Parts of f that sit on a flat piece near the point, held at their value.

`sqrt(relu(x)) + abs(x)` at -1 is 1 there and near it, with slope -1, but
SymPy's derivative is Heaviside(x)/(2*sqrt(Max(0, x))) + sign(x): 0·∞ at
-1, and at every point left of 0, so no limit rescues it either. relu(x)
is 0 on an open interval around -1 (x < 0 there), so sqrt(relu(x)) is the
constant 0 there and contributes nothing: the derivative of f with that
part held at its value (relu(x) → 0) is sign(x) = -1, exact by the chain
rule. `held_reference` is that derivative, asked for only where the formula
fails at the point itself (measure._reference_near).

A part is held where it is a piecewise function with flat pieces (relu,
sign, clamp, hardtanh, max, min) and keeps exactly its float64 value when
each variable of the derivative moves by 1e-3 ... 1e-15 (relative) either
way, on the point's own piece: the same test as `numeric.locally_constant`,
on one part instead of all of f.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import numeric
from .parsing import Expression, Node

# The table's functions with a flat piece (a constant on an open interval).
FLAT = frozenset(["relu", "sign", "clamp", "hardtanh", "max", "min"])


def flat_parts(
    expr: Expression, point: dict, along: list[tuple[str, int]], frozen: dict | None = None
) -> list[Node]:
    """The parts of `expr` with a flat piece that keep their value at
    `point` (a one-point batch) as each variable component in `along`
    moves a little either way; none where a side has too few clean steps."""
    held: list[Node] | None = None
    for name, comp in along:
        x = float(point[name][0, comp])
        offsets = np.array([s * d * max(1.0, abs(x)) for d in numeric.NEAR for s in (-1, 1)])
        kept = offsets[numeric.same_piece(expr, point, name, comp, offsets, frozen)]
        if (kept < 0).sum() < 2 or (kept > 0).sum() < 2:
            return []
        moved = {n: np.repeat(v, len(kept), axis=0) for n, v in point.items()}
        moved[name][:, comp] += kept
        fixed = {k: np.repeat(v, len(kept), axis=0) for k, v in (frozen or {}).items()}
        with np.errstate(all="ignore"):
            here = numeric.evaluate(expr, point, frozen, keep=True)
            near = numeric.evaluate(expr, moved, fixed, keep=True)
        found = [
            node
            for node in expr.nodes
            if node.op in FLAT
            and np.all(np.isfinite(here[id(node)]))
            and np.all(near[id(node)] == here[id(node)])
        ]
        held = found if held is None else [n for n in held if n in found]
    return held or []


def held_reference(
    expr: Expression,
    point: dict[str, np.ndarray],
    shapes: dict[str, int | None],
    along: list[tuple[str, int]],
    parts: list[Node],
) -> float | None:
    """SymPy's derivative along `along` (one (name, component) per order) of
    f with `parts` held at their value at `point`, in 30 digits; None where
    it is not finite there either (or f is vector-valued)."""
    from .cas import sympy_engine as engine

    symbols = engine.symbols_for(expr.variables, shapes)
    tree = engine.build(expr, symbols, keep=True)
    f = tree[id(expr.root)]
    if isinstance(f, list):
        return None
    subs = engine.substitutions(symbols, point)
    held = {tree[id(node)]: tree[id(node)].subs(subs) for node in parts}
    if any(isinstance(value, list) for value in held.values()):
        return None  # (a vector part: relu of a whole vector)
    wrt = tuple(_symbol(symbols[name], comp) for name, comp in along)
    number, _ = engine.value_at(engine.derivative(f.xreplace(held), wrt), subs)
    return number


def _symbol(symbol: Any, comp: int) -> Any:
    return symbol[comp] if isinstance(symbol, list) else symbol


__all__ = ["flat_parts", "held_reference"]
