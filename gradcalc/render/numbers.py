"""Number formatting shared by the views."""

from __future__ import annotations

import math

MAX_SHOWN = 8  # vector elements shown before eliding


def number(value) -> str:
    """Full precision (repr) for scalars, so the shown digits are the real ones."""
    if value is None:
        return "undefined"
    if isinstance(value, (list, tuple)):
        return vector(value)
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def short(value, digits: int = 6) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, (list, tuple)):
        return vector(value, digits)
    return f"{float(value):.{digits}g}"


def vector(values, digits: int = 10) -> str:
    shown = [short(v, digits) for v in list(values)[:MAX_SHOWN]]
    more = len(values) - MAX_SHOWN
    tail = f", … {more} more" if more > 0 else ""
    return "[" + ", ".join(shown) + tail + "]"


def error(value, reference) -> str:
    """|value - reference|, elementwise maximum for vectors."""
    if isinstance(value, (list, tuple)):
        pairs = list(zip(value, reference))
        if any(v is None or r is None for v, r in pairs):
            return "—"
        return short(max(abs(v - r) for v, r in pairs), 2)
    if value is None or reference is None:
        return "—"
    difference = abs(float(value) - float(reference))
    if math.isnan(difference):
        return "—"
    return short(difference, 2)
