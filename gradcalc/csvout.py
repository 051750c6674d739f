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
rules are in docs/many-points.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from .verdict import STATUSES

if TYPE_CHECKING:
    from .batch import Many

METHODS = ("sympy", "autograd", "finite_difference")
FIXED = ("line", "f", "status")  # columns whose names a variable must not take


def header(many: Many) -> list[str]:
    """The column names for a `batch.Many` (the same for every chunk)."""
    names = ["line"]
    names += [f"point:{n}" if n in FIXED else n for n in many.variables]
    names.append("f")
    for partial in many.partials:
        names += [f"{method}:{':'.join(partial.wrt)}" for method in METHODS]
    names.append("status")
    return names


def columns(
    many: Many, start: int = 0, stop: int | None = None, codes: bool = False
) -> dict[str, np.ndarray]:
    """The table of a `batch.Many` (its rows start to stop) as arrays by
    header name, in the header's order: line as int64, the numbers as
    float64, status as str (what Parquet and the DataFrame API are given),
    or with `codes` as uint8 indices into verdict.STATUSES (a table library
    makes its strings from them many times faster than from Python's)."""
    where = slice(start, len(many.points) if stop is None else stop)
    arrays = [np.asarray(many.points.lines[where], dtype=np.int64)]
    arrays += [np.asarray(many.points.columns[n][where], dtype=np.float64) for n in many.variables]
    arrays.append(np.asarray(many.value[where], dtype=np.float64))
    for partial in many.partials:
        arrays += [np.asarray(getattr(partial, m)[where], dtype=np.float64) for m in METHODS]
    status = np.asarray(many.codes[where])
    arrays.append(status if codes else np.asarray(STATUSES, dtype=object)[status])
    return dict(zip(header(many), arrays))


def header_line(many: Many) -> bytes:
    return (",".join(header(many)) + "\n").encode()


# Rows made at a time: a million rows of sin(x**2) took 0.26 s of CPU in
# pieces of 1,024 rows, 0.29 s of 4,096 and 0.35 s of 16,384 (the smaller
# pieces' text stays in the processor's cache).
PIECE = 1024


def rows(many: Many, chunk: int = PIECE) -> Iterator[bytes]:
    """The rows of a `batch.Many` as UTF-8 bytes, up to `chunk` rows at a
    time (memory stays bounded by them); no header (see `header_line`)."""
    count = len(many.points)
    for start in range(0, count, chunk):
        yield _rows(many, start, min(count, start + chunk))


def _rows(many: Many, start: int, stop: int) -> bytes:
    import orjson

    count = stop - start
    if count <= 0:
        return b""
    where = slice(start, stop)
    floats = [many.points.columns[n][where] for n in many.variables]
    floats.append(many.value[where])
    for partial in many.partials:
        floats += [getattr(partial, method)[where] for method in METHODS]
    # The numbers between line and status, row by row: one orjson call over
    # the whole table ("[[a,b],[c,d]]"), cut at each "[" (one byte, found by
    # memchr: a cut at "],[" took twice as long) into "a,b],", "c,d],", ...
    # The "]" left in each piece goes in one pass over the joined text. orjson
    # writes a number that is not finite as null: those rows are written again.
    table = np.column_stack([np.asarray(c, dtype=np.float64) for c in floats])
    middles = orjson.dumps(table, option=orjson.OPT_SERIALIZE_NUMPY).split(b"[")
    del middles[:2]
    middles[-1] = middles[-1][:-1] + b","  # the last row's "]]" as the others' "],"
    for i in np.flatnonzero(~np.isfinite(table).all(axis=1)).tolist():
        middles[i] = b",".join(numbers(table[i])) + b"],"
    statuses = [status.encode() + b"\n" for status in STATUSES]
    codes = many.codes[where]
    # Interleaved by slice assignment, not a join per row: line, ",", the
    # middle and "status\n" at places 0 to 3 of every 4.
    cells = [b","] * (4 * count)
    cells[0::4] = _integers(many.points.lines[where])
    cells[2::4] = middles
    if (codes == codes[0]).all():  # one verdict for the whole chunk, most often
        cells[3::4] = [statuses[int(codes[0])]] * count
    else:
        cells[3::4] = [statuses[code] for code in codes.tolist()]
    return b"".join(cells).replace(b"]", b"")


def _integers(array: np.ndarray) -> list[bytes]:
    import orjson

    array = np.ascontiguousarray(array, dtype=np.int64)
    return orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")


_NONFINITE = {"nan": b"nan", "inf": b"inf", "-inf": b"-inf"}


def numbers(array: np.ndarray) -> list[bytes]:
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


__all__ = ["columns", "header", "header_line", "numbers", "rows"]
