"""`diff --points --format csv`: one header line, then one row per point.

A compact form of what the NDJSON lines say (those repeat the expression,
the symbolic derivatives and the tolerances on every line, and the gradient
twice): the input line, the point, f, each method's derivative for each
partial, and the verdict. Columns, in order:

    line, <each variable>, f, sympy:<wrt>, autograd:<wrt>, finite_difference:<wrt>
    (for each partial, in the order of --wrt), status

`<wrt>` is the variable (`sympy:x`), or the variables of a higher derivative
joined by ':' (`sympy:x:y`). A variable named `line`, `f` or `status` is
headed `point:NAME`, so every header is unique. Numbers are the shortest text
that reads back as the same float64 (what `float()` and `repr()` agree on);
a number that is not finite is `nan`, `inf` or `-inf`. The header and the
rules are in README's "Many points" section.
"""

from __future__ import annotations

import numpy as np

from .verdict import STATUSES

METHODS = ("sympy", "autograd", "finite_difference")
FIXED = ("line", "f", "status")  # columns whose names a variable must not take


def header(many) -> list[str]:
    """The column names for a `batch.Many` (the same for every chunk)."""
    names = ["line"]
    names += [f"point:{n}" if n in FIXED else n for n in many.variables]
    names.append("f")
    for partial in many.partials:
        names += [f"{method}:{':'.join(partial.wrt)}" for method in METHODS]
    names.append("status")
    return names


def header_line(many) -> bytes:
    return (",".join(header(many)) + "\n").encode()


def rows(many, chunk: int = 50_000):
    """The rows of a `batch.Many` as UTF-8 bytes, up to `chunk` rows at a
    time (memory stays bounded by them); no header (see `header_line`)."""
    count = len(many.points)
    for start in range(0, count, chunk):
        yield _rows(many, start, min(count, start + chunk))


def _rows(many, start: int, stop: int) -> bytes:
    where = slice(start, stop)
    columns = [_integers(many.points.lines[where])]
    columns += [numbers(many.points.columns[n][where]) for n in many.variables]
    columns.append(numbers(many.value[where]))
    for partial in many.partials:
        columns += [numbers(getattr(partial, method)[where]) for method in METHODS]
    statuses = [status.encode() for status in STATUSES]
    columns.append([statuses[code] for code in many.codes[where].tolist()])
    if stop <= start:
        return b""
    return b"\n".join([b",".join(row) for row in zip(*columns)]) + b"\n"


def _integers(array) -> list[bytes]:
    import orjson

    array = np.ascontiguousarray(array, dtype=np.int64)
    return orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")


_NONFINITE = {"nan": b"nan", "inf": b"inf", "-inf": b"-inf"}


def numbers(array) -> list[bytes]:
    """Each float64 of a 1-d array as its shortest round-trip text (orjson's
    Ryu formatting: about 18 times faster than repr() over a million points);
    non-finite ones as nan, inf, -inf (orjson writes them as null)."""
    import orjson

    array = np.ascontiguousarray(array, dtype=np.float64)
    if not len(array):
        return []
    text = orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")
    bad = np.flatnonzero(~np.isfinite(array))
    for i in bad.tolist():
        text[i] = _NONFINITE[repr(float(array[i]))]
    return text


__all__ = ["header", "header_line", "numbers", "rows"]
