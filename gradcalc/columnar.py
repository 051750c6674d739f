"""Points from a columnar file (`diff --points FILE.parquet`, `.arrow`):
Parquet or Arrow IPC, read with PyArrow a batch at a time, so memory stays
bounded by a batch (a Parquet row group is read in slices of CHUNK rows).

A point's number is its row's, counted from 1 over the whole file (it
stands where a text file's line number stands); a bad value is named by
that row, its column and, in Parquet, its row group. PyArrow is imported
here only, when a columnar file is read.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from .errors import PointError, UsageError
from .pointsfile import CHUNK, Points, check_names

TEXT = ("csv", "jsonl")
COLUMNAR = ("parquet", "arrow")
EXTENSIONS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}
_ARROW_FILE_MAGIC = b"ARROW1"


def kind_of(source: str, given: str | None) -> str | None:
    """The input's format: `given` (--input-format) unless None or "auto",
    else by the file's extension; None: a text file read as CSV or JSON
    Lines by its first line (stdin, or another extension)."""
    if given not in (None, "auto"):
        return given
    return EXTENSIONS.get(os.path.splitext(source)[1].lower()) if source != "-" else None


def pyarrow() -> Any:
    """pyarrow, or a one-line error naming the extra that brings it."""
    try:
        import pyarrow
    except ImportError:
        raise UsageError(
            "Parquet and Arrow files need pyarrow: pip install 'gradcalc[columnar]'"
        ) from None
    return pyarrow


def read_chunks(
    source: str, kind: str, stream: BinaryIO | None = None, size: int | None = None
) -> Iterator[Points]:
    """Points of a Parquet or Arrow IPC file (`kind` "parquet" or "arrow"),
    up to `size` (CHUNK) rows at a time; `stream` when it is not a file by name
    (stdin: a Parquet file is read whole first, its footer being at its end)."""
    try:
        yield from _read(source, kind, stream, size or CHUNK)
    except OSError as error:
        raise PointError(f"{source}: cannot read it: {error.strerror or error}") from None


def read_all(source: str, kind: str | None, stream: BinaryIO, name: str) -> Points:
    """Every point of `--points SOURCE` at once (`plot --points`), read as
    `diff --points` reads it: Parquet or Arrow IPC here, CSV or JSON Lines by
    pointsfile (`kind` from `kind_of`), with the same errors. `stream` is the
    opened input, `name` its name in messages ("stdin" for '-')."""
    from .pointsfile import read_chunks as text_chunks

    if kind in COLUMNAR:
        pyarrow()  # a missing extra, said in one line
        by_name = source != "-"  # a file is read by its name (memory-mapped)
        chunks = list(read_chunks(source if by_name else name, kind, None if by_name else stream))
    else:
        chunks = list(text_chunks(stream, name, kind=kind))
    names = chunks[0].names
    columns = {n: np.concatenate([c.columns[n] for c in chunks]) for n in names}
    return Points(names, columns, np.concatenate([c.lines for c in chunks]), at=chunks[0].at)


def _read(source: str, kind: str, stream: BinaryIO | None, size: int) -> Iterator[Points]:
    pa = pyarrow()

    name = source if stream is None else "stdin"
    rows = 0
    try:
        batches = _parquet(source, stream, size) if kind == "parquet" else _arrow(source, stream)
        for group, batch in batches:
            if batch.num_rows:
                yield from _points(batch, name, rows, group)
                rows += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        what = "a Parquet file" if kind == "parquet" else "an Arrow IPC file or stream"
        raise PointError(f"{name}: not {what} ({_first_line(error)})") from None
    if not rows:
        raise PointError(f"{name}: no points")


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or ["unreadable"])[0]


def _parquet(source: str, stream: BinaryIO | None, size: int) -> Iterator[tuple[int | None, Any]]:
    """(row group, record batch) of a Parquet file, a row group at a time."""
    import pyarrow.parquet as pq

    where: Any = source if stream is None else io.BytesIO(stream.read())
    with pq.ParquetFile(where) as file:
        for group in range(file.num_row_groups):
            for batch in file.iter_batches(batch_size=size, row_groups=[group], use_threads=False):
                yield group + 1, batch


def _arrow(source: str, stream: BinaryIO | None) -> Iterator[tuple[int | None, Any]]:
    """(None, record batch) of an Arrow IPC file (Feather v2) or stream."""
    import pyarrow as pa

    if stream is None:
        with pa.memory_map(source) as mapped:
            if mapped.read(6) == _ARROW_FILE_MAGIC:
                mapped.seek(0)
                reader = pa.ipc.open_file(mapped)
                for index in range(reader.num_record_batches):
                    yield None, reader.get_batch(index)
                return
            mapped.seek(0)
            yield from ((None, batch) for batch in pa.ipc.open_stream(mapped))
        return
    peek = getattr(stream, "peek", None)
    if peek is not None and peek(6)[:6] == _ARROW_FILE_MAGIC:
        reader = pa.ipc.open_file(pa.py_buffer(stream.read()))
        yield from ((None, reader.get_batch(i)) for i in range(reader.num_record_batches))
        return
    yield from ((None, batch) for batch in pa.ipc.open_stream(stream))


def _points(batch: Any, source: str, before: int, group: int | None) -> Iterator[Points]:
    """A record batch as Points, every column a number and every value
    finite; at a bad value, the rows before it (answered first, as a text
    file's lines before a bad one are), then an error naming its row, its
    column and (Parquet) its row group, worded as a text file's bad line is."""
    index = pandas_index(batch.schema)
    names = [name for name in batch.schema.names if name not in index]
    check_names(names, f"{source} column names")
    columns, nulls = {}, {}
    for name in names:
        columns[name], nulls[name] = floats(batch.column(name), name, source)
    bad = first_bad(columns, nulls)
    good = batch.num_rows if bad is None else bad[0]
    if good:
        numbers = np.arange(before + 1, before + good + 1, dtype=np.int64)
        kept = columns if bad is None else {n: v[:good] for n, v in columns.items()}
        yield Points(names, kept, numbers, at=f"{source} column names")
    if bad is not None:
        place = f" (row group {group})" if group is not None else ""
        raise PointError(f"{source} row {before + good + 1}{place}: {bad[1]}")


def pandas_index(schema: Any) -> set[str]:
    """The columns a pandas DataFrame's index was stored in (`to_parquet`,
    `Table.from_pandas` of a DataFrame filtered, sorted or indexed by a
    column), named in the schema's pandas metadata: not points, as
    `gradcalc.points` does not take a DataFrame's index for one."""
    import json

    stored = (schema.metadata or {}).get(b"pandas")
    try:
        index = json.loads(stored).get("index_columns", []) if stored else []
    except (ValueError, AttributeError):  # not pandas' metadata after all
        return set()
    return {name for name in index if isinstance(name, str)}  # (a range is no column)


def floats(column: Any, name: str, source: str) -> tuple[np.ndarray, np.ndarray | None]:
    """An Arrow column of integers or floats as float64 (an integer past
    2**53 becomes the nearest float64, as its text in a CSV would), and where
    it is null (None: nowhere); or an error naming the column and its type."""
    import pyarrow as pa

    kind = column.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
        raise PointError(f"{source}: column {name} holds {kind}, not numbers")
    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    null = column.is_null().to_numpy(zero_copy_only=False) if column.null_count else None
    return values, null


def first_bad(
    columns: dict[str, np.ndarray], nulls: dict[str, np.ndarray | None]
) -> tuple[int, str] | None:
    """The first value that is missing or not finite, row by row and in a
    row column by column (as pointsfile.check_finite finds it): its row's
    index and what is wrong with it, worded as a text file's bad value is
    (`x=nan is not a finite number`; a null as JSON Lines' `x=null is not a
    number`). None: every value is a finite number."""
    row, words = None, ""
    for name, values in columns.items():
        null = nulls.get(name)
        wrong = ~np.isfinite(values[:row])
        if null is not None:
            wrong |= null[:row]
        found = np.flatnonzero(wrong)
        if found.size:
            row = int(found[0])
            if null is not None and null[row]:
                words = f"{name}=null is not a number"
            else:
                words = f"{name}={values[row]} is not a finite number"
    return None if row is None else (row, words)


__all__ = [
    "COLUMNAR",
    "EXTENSIONS",
    "TEXT",
    "first_bad",
    "floats",
    "kind_of",
    "pandas_index",
    "pyarrow",
    "read_all",
    "read_chunks",
]
