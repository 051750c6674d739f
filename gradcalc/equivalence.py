"""Whether two SymPy expressions are equal, as `diff --explain` checks each
step and `diff --answer` grades an answer: symbolically (the difference is 0,
exactly or after a cheap rewrite, or `simplify` on a small difference), else
numerically, at random 30-digit points where both are finite reals, inside
the real domain of the function they derive from (where torch and numpy
compute it).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any, Literal

SIMPLIFY_OPS = 60  # differences with more operations than this are not simplified
EXPAND_OPS = 150  # ... nor expanded or cancelled: they are checked numerically
CHECK_POINTS = 4  # random points a numeric check needs, each agreeing
CHECK_TRIES = 60  # points drawn before a numeric check gives up
RELATIVE = 1e-15  # agreement of two 30-digit values, relative to the larger

# What comparing two expressions at points finds: None (they agree), "none" (no
# point has both defined), or the first point where they differ, both values there.
Found = tuple[dict, float, float] | Literal["none"] | None


def _sp() -> ModuleType:
    import sympy

    return sympy


def equal(a: Any, b: Any, rng: random.Random | None = None, domain: Any = None) -> str:
    """'symbolic' when a - b is 0 once rewritten, 'numeric' when it is 0 at
    CHECK_POINTS random points (30 digits), 'failed' when it is not, and
    'unverifiable' when no point has both defined."""
    if a == b or symbolically_zero(a - b):  # the same tree (even one SymPy cannot evaluate)
        return "symbolic"
    found = differing_point(a, b, rng, domain=domain)
    if found is None:
        return "numeric"
    return "unverifiable" if found == "none" else "failed"


def symbolically_zero(difference: Any) -> bool:
    """0 as built, after expand or cancel, or after simplify when it is small
    (simplify on a large difference can take minutes)."""
    sp = _sp()
    if difference == 0:
        return True
    size = sp.count_ops(difference)
    rewrites = [sp.expand, sp.cancel] if size <= EXPAND_OPS else []
    if size <= SIMPLIFY_OPS:
        rewrites.append(sp.simplify)
    for rewrite in rewrites:
        try:
            if rewrite(difference) == 0:
                return True
        except (TypeError, ValueError, NotImplementedError, RecursionError):
            continue
    return False


# Where points are drawn, in turn: the first and last spans bound the search.
SPANS = [(-20.0, 20.0), (-3.0, 3.0), (0.05, 0.95), (1.05, 4.0), (-0.95, -0.05), (4.0, 100.0)]


def sample_points(symbols: list, rng: random.Random, count: int = CHECK_TRIES) -> list[dict]:
    """Points where expressions over `symbols` are tried: most within
    [-3, 3] (and some in (0, 1), where inverse trig lives, past 1, where acosh
    does, and far out, for a domain far from 0), at 30-digit Floats."""
    sp = _sp()
    return [
        {s: sp.Float(rng.uniform(*SPANS[i % len(SPANS)]), 30) for s in symbols}
        for i in range(count)
    ]


def in_domain(f: Any, points: list[dict]) -> Iterable[dict]:
    """The points where f is real, every part of it included (real_at). All
    points at once in float64 with numpy (each shared part evaluated once:
    NaN, from a part outside its real domain, spreads to the whole); where
    numpy cannot evaluate one of its heads, point by point, lazily."""
    import numpy as np

    from .cas import sympy_engine

    if not points:
        return []
    arrays = {s: np.array([float(p[s]) for p in points]) for s in points[0]}
    try:
        with np.errstate(all="ignore"):
            values = sympy_engine.evaluate_numpy(f, arrays)
        finite = np.broadcast_to(np.isfinite(values), (len(points),))
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        return _LazyDomain(f, points)
    # float64 can overflow where 30 digits do not: those points are left out;
    # and underflow (log(gelu(-9)) is log(-0.0) in float64, of a negative
    # number at 30 digits): the points numpy keeps are confirmed at 30 digits.
    return (p for p, ok in zip(points, finite) if ok and value(f, p) is not None)


class _LazyDomain:
    """The points where real_at(f) holds, found as they are asked for."""

    def __init__(self, f: Any, points: list[dict]) -> None:
        self.f, self.points = f, points

    def __iter__(self) -> Iterator[dict]:
        return (p for p in self.points if real_at(self.f, p))


def value(f: Any, point: dict) -> float | None:
    """f at `point` as a 30-digit value, or None where it is not a finite real."""
    from .cas import sympy_engine

    number, _ = sympy_engine.value_at(f, point)
    return number


DOMAIN_PARTS = 40  # sub-expressions of a function checked to be real at a point


def real_at(f: Any, point: dict) -> bool:
    """f and its function calls and powers are finite reals at `point`: the
    real domain, where torch and numpy compute it (abs(acosh(y)) at y = 0.5 is
    real in SymPy, through a complex acosh, but outside that domain)."""
    sp = _sp()
    if value(f, point) is None:
        return False
    parts = [
        e
        for e in sp.preorder_traversal(f)
        if (isinstance(e, sp.Function) or e.is_Pow) and e.free_symbols
    ]
    return all(value(e, point) is not None for e in parts[:DOMAIN_PARTS])


def close(a: float, b: float, relative: float = RELATIVE) -> bool:
    return abs(a - b) <= relative * max(1.0, abs(a), abs(b))


def differing_point(a: Any, b: Any, rng: random.Random | None = None, domain: Any = None) -> Found:
    """None when a and b agree at CHECK_POINTS points where both are defined
    (and `domain`, the function they are derivatives of, is a finite real);
    'none' when no such points were found; else (point, value a, value b)."""
    rng = rng or random.Random(0)
    free = a.free_symbols | b.free_symbols
    if domain is not None:
        free |= domain.free_symbols
    symbols = sorted(free, key=lambda s: s.name)
    points: Iterable = sample_points(symbols, rng)
    if domain is not None:
        points = in_domain(domain, list(points))
    return first_difference(a, b, points, CHECK_POINTS, RELATIVE)


def first_difference(a: Any, b: Any, points: Iterable, wanted: int, relative: float) -> Found:
    """Of `points`, those where a and b are both finite reals, in turn: None
    once `wanted` of them agree within `relative`; (point, value a, value b)
    at the first that does not; 'none' when no point has both defined."""
    agreeing = 0
    for point in points:
        va, vb = value(a, point), value(b, point)
        if va is None or vb is None:
            continue
        if not close(va, vb, relative):
            return point, va, vb
        agreeing += 1
        if agreeing >= wanted:
            return None
    return None if agreeing else "none"
