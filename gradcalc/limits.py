"""How a derivative behaves as the point is approached from each side.

The symbolic derivative is a formula; at unusual points its value at the
point itself can mislead: 0/0 or 0·∞ where the true derivative is finite
(`x**y` at x = 0, `sqrt(relu(x))` at -1), or a finite number where a
higher-order derivative does not exist (`x*abs(x)` at 0, order 2). So the
formula is evaluated by the computer algebra system (SymPy at 30 digits, or
SymEngine) at shrinking distances on each side, along each variable, and
each side is classified: it converges (to a limit), diverges, is undefined
(outside the domain), or does not settle.

`verdict` decides with what this finds; nothing here decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import numpy as np

# Distances tried, relative to max(1, |x|): each 100 times closer; the first
# three that stay on the point's own piece (see `approach`).
CANDIDATES = (1e-3, 1e-5, 1e-7, 1e-9, 1e-11, 1e-13)
STEPS = CANDIDATES[:3]
CLOSEST = (1e-9, 1e-11, 1e-13)  # to tell a kink at the point from one nearby
# Successive differences shrinking at least this much converge (a limit
# approached like h, √h or even h^(1/3) does).
SHRINK = 0.3
SAME = 1e-9  # relative: values this close are equal
LIMITS_AGREE = 1e-7  # relative: two sides' limits this close are one limit
# Two limits closer than this fraction of the extrapolation that found them
# are not told apart (higher-order terms stay in the extrapolated value).
UNSURE = 0.1


# A named tuple: defined at start-up in a quarter of a dataclass's time.
class Side(NamedTuple):
    """The derivative approached along one variable (component) from one side."""

    wrt: str  # "x", "x[1]"
    direction: int  # -1 from the left, +1 from the right
    values: list  # the formula's values at STEPS (None where not a finite real)

    @property
    def kind(self) -> str:
        if any(v is None for v in self.values):
            return "undefined"
        a, b, c = self.values
        first, second = abs(b - a), abs(c - b)
        if second <= SHRINK * first + SAME * max(1.0, abs(c)):
            return "converges"
        if abs(c) > abs(b) > abs(a) and second >= (1 - SHRINK) * first:
            return "diverges"  # like 1/h, 1/√h or log(h): growing, not settling
        return "unsettled"

    @property
    def limit(self) -> float | None:
        """Where the values are heading: the last one, plus the rest of a
        geometric approach (v = L + a·h^p, whose differences shrink by a
        fixed ratio), so 2·h gives 0, not 2e-7."""
        if self.kind != "converges":
            return None
        a, b, c = self.values
        if b == a or c == b:
            return c
        if abs(c) <= SHRINK * abs(b) <= SHRINK**2 * abs(a):
            return 0.0  # the values themselves shrink geometrically (like h·log h): to 0
        ratio = (c - b) / (b - a)
        if not 0 < ratio <= SHRINK:
            return c
        return c + (c - b) * ratio / (1 - ratio)


class Evaluator(Protocol):
    """What `approach` uses of a cas.Engine."""

    def substitutions(self, symbols: dict, point: dict) -> dict: ...
    def value_at(self, f: Any, substitutions: dict) -> tuple[float | None, str | None]: ...


class Tolerance(Protocol):
    """What `corners` uses of a verdict.Tolerance."""

    def allows(self, value: Any, reference: Any, slack: Any = ...) -> Any: ...


def approach(
    engine: Evaluator,
    formula: Any,
    symbols: dict,
    point: dict,
    along: list,
    clean: Callable[[str, int, np.ndarray], np.ndarray] | None = None,
    candidates: tuple[float, ...] = CANDIDATES,
    own_scale: bool = False,
) -> list[Side]:
    """The formula's behaviour near `point` ({name: array}) from both sides
    along each (name, component) in `along`, at distances `candidates` times
    max(1, |x|), or with `own_scale` times |x| where 0 < |x| < 1 (1e-13 from
    x = 1e-14 is past 0). `clean(name, comp, offsets)`,
    when given, says which offsets stay on the point's own smooth piece of
    every non-smooth sub-expression: the three largest such distances are
    used (a kink nearby must not be mistaken for the point's behaviour)."""
    sides = []
    for name, comp, label in along:
        x = float(np.reshape(point[name], -1)[comp])
        scale = abs(x) if own_scale and 0 < abs(x) < 1 else max(1.0, abs(x))
        for direction in (-1, 1):
            offsets = np.array([direction * step * scale for step in candidates])
            if clean is not None:
                kept = offsets[clean(name, comp, offsets)]
                offsets = kept[: len(STEPS)] if len(kept) >= len(STEPS) else offsets[-len(STEPS) :]
            else:
                offsets = offsets[: len(STEPS)]
            values = []
            for offset in offsets:
                moved = {k: np.array(v, dtype=np.float64, copy=True) for k, v in point.items()}
                flat = moved[name].reshape(-1)
                flat[comp] += offset
                number, _ = engine.value_at(formula, engine.substitutions(symbols, moved))
                values.append(number)
            sides.append(Side(label, direction, values))
    return sides


def common_limit(sides: list[Side]) -> float | None:
    """The one limit every side that converges reaches, when at least one
    does, none diverges, and they all agree; else None."""
    if any(side.kind == "diverges" for side in sides):
        return None
    limits = [side.limit for side in sides if side.limit is not None]
    if not limits:
        return None
    first = limits[0]
    unsure = UNSURE * max(abs(s.values[-1] - s.limit) for s in sides if s.limit is not None)
    if all(abs(v - first) <= LIMITS_AGREE * max(1.0, abs(first)) + unsure for v in limits):
        return first
    return None


def corners(sides: list[Side], tolerance: Tolerance) -> list[tuple[str, float, float]]:
    """(wrt, left limit, right limit) for each variable along which both
    sides converge to limits `tolerance` does not call equal."""
    found = []
    by_wrt: dict = {}
    for side in sides:
        by_wrt.setdefault(side.wrt, {})[side.direction] = side
    for wrt, pair in by_wrt.items():
        left, right = pair[-1].limit, pair[1].limit
        if left is None or right is None:
            continue
        # The extrapolation's own size bounds how well each limit is known.
        unsure = UNSURE * sum(abs(side.values[-1] - side.limit) for side in pair.values())
        if not tolerance.allows(left, right, unsure):
            found.append((wrt, left, right))
    return found


def diverging(sides: list[Side]) -> list[Side]:
    return [side for side in sides if side.kind == "diverges"]
