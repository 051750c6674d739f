"""Number formatting shared by every view: one precision rule.

A number is shown with `digits` significant digits (`--digits`, default
DEFAULT_DIGITS) in its shortest form: trailing zeros dropped (4, 0.1,
-0.9092974268), an exponent past 1e16 or below 1e-4 (1.5e-07), and with
MAX_DIGITS the shortest text that reads back as the same float64. The
|error| columns are magnitudes of differences: ERROR_DIGITS digits. Tables,
the chain-rule steps, the graph tree, DOT and Mermaid all use this rule; JSON
always carries every digit.

A number is never wrapped or cut: it is one word (no spaces), vectors break
between elements, and views fall back to fewer digits or another layout
(`Fit`, in render/__init__.py) rather than fold a number.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator, Sequence
from typing import Any

from ..partials import MAX_SHOWN  # vector elements shown before eliding

DEFAULT_DIGITS = 10
MAX_DIGITS = 17  # float64 round-trips at 17 significant digits
FIT_DIGITS = 6  # the fewest digits a table drops to, to fit, when --digits is not given
ERROR_DIGITS = 2
VECTOR_LINE = 40  # characters of a vector per line before it breaks between elements

# Set while a view builds its widest layout: vectors on one line (`Fit` tries
# that layout first, so a vector is broken only where it does not fit).
_WHOLE_VECTORS = contextvars.ContextVar("whole_vectors", default=False)


@contextlib.contextmanager
def whole_vectors() -> Iterator[None]:
    """Within it, `cell` writes a vector on one line."""
    token = _WHOLE_VECTORS.set(True)
    try:
        yield
    finally:
        _WHOLE_VECTORS.reset(token)


def fmt(value: Any, digits: int | None = None) -> str:
    """`value` under the precision rule (a list as a vector)."""
    digits = DEFAULT_DIGITS if digits is None else digits
    if value is None:
        return "undefined"
    if isinstance(value, (list, tuple)):
        return vector(value, digits)
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if digits >= MAX_DIGITS:
        return repr(value)
    return f"{value:.{digits}g}"


def vector(values: Sequence[Any], digits: int | None = None, width: int | None = None) -> str:
    """[a, b, c, … n more]; with `width`, broken into lines between elements."""
    shown = [fmt(v, digits) for v in list(values)[:MAX_SHOWN]]
    more = len(values) - MAX_SHOWN
    items = shown + ([f"… {more} more"] if more > 0 else [])
    if width is None:
        return "[" + ", ".join(items) + "]"
    lines, current = [], "["
    for k, item in enumerate(items):
        piece = item + ("]" if k == len(items) - 1 else ",")
        if len(current) > 1 and len(current) + 1 + len(piece) > width:
            lines.append(current)
            current = " " + piece
        else:
            current += ("" if current == "[" else " ") + piece
    lines.append(current)
    return "\n".join(lines)


def cell(value: Any, digits: int | None = None) -> str:
    """A table cell: a number, or a vector broken between elements (whole
    within `whole_vectors`)."""
    if isinstance(value, (list, tuple)):
        return vector(value, digits, None if _WHOLE_VECTORS.get() else VECTOR_LINE)
    return fmt(value, digits)


def error(value: Any, reference: Any) -> str:
    """|value - reference|, elementwise maximum for vectors."""
    if isinstance(value, (list, tuple)):
        # A method's own None is a component it did not compute (a long
        # vector's finite differences outside their sample): left out.
        pairs = [(v, r) for v, r in zip(value, reference) if v is not None]
        if not pairs:
            return "—"
        if any(v is None or r is None for v, r in pairs):
            return "—"
        return fmt(max(abs(v - r) for v, r in pairs), ERROR_DIGITS)
    if value is None or reference is None:
        return "—"
    difference = abs(float(value) - float(reference))
    if math.isnan(difference):
        return "—"
    return fmt(difference, ERROR_DIGITS)
