"""`diff --points --format parquet --output FILE`: the CSV's columns (same
names, same order; see csvout.py) as a Parquet file, one row group per
chunk of points, written with PyArrow (imported here only) to a temporary
file renamed over FILE at the end (outfile.replacing); `--output -`: to
standard output as it is answered, when that is not a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from .columnar import pyarrow
from .csvout import columns
from .outfile import binary_stdout, is_stdout, replacing

if TYPE_CHECKING:
    from .batch import Many


def arrow_table(many: Many) -> Any:
    """A `batch.Many` as a pyarrow.Table with the CSV's columns: line int64,
    the numbers float64, status a string."""
    return from_columns(columns(many, codes=True))


def from_columns(arrays: dict[str, Any]) -> Any:
    """csvout.columns' arrays as a pyarrow.Table (status as text, or as its
    codes: `status_text`)."""
    pa = pyarrow()
    fields = [
        pa.field(name, pa.string() if name == "status" else _kind(name, pa), nullable=False)
        for name in arrays
    ]
    return pa.Table.from_arrays(
        [
            status_text(a) if f.name == "status" else pa.array(a, type=f.type)
            for a, f in zip(arrays.values(), fields)
        ],
        schema=pa.schema(fields),
    )


def status_text(status: Any) -> Any:
    """The status column as a pyarrow string array, from its text or from its
    codes (uint8 indices into verdict.STATUSES: taken from the four strings
    by Arrow, about 7 times faster than converting a million Python strings)."""
    pa = pyarrow()
    if getattr(status, "dtype", None) != np.uint8:
        return pa.array(status, type=pa.string())
    from .verdict import STATUSES

    words = pa.DictionaryArray.from_arrays(pa.array(status), pa.array(STATUSES))
    return words.cast(pa.string())


def _kind(name: str, pa: Any) -> Any:
    return pa.int64() if name == "line" else pa.float64()


class ParquetSink:
    """Tables written as row groups of one Parquet file."""

    def __init__(self, path: str) -> None:
        self.path = path  # "-": standard output, taken at the first write (see budget.hold)
        self.writer: Any = None

    def write(self, many: Many) -> None:
        table = arrow_table(many)
        import pyarrow.parquet as pq

        if self.writer is None:
            # Dictionary encoding only for the status: Parquet tries it on every
            # column by default, and a column of distinct floats then costs
            # 0.72 s a million rows to write, and 28% more bytes, against 0.13 s.
            where = binary_stdout("--format parquet") if is_stdout(self.path) else self.path
            self.writer = pq.ParquetWriter(
                where, table.schema, compression="zstd", use_dictionary=["status"]
            )
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@contextmanager
def parquet_file(path: str, replace: bool) -> Iterator[ParquetSink]:
    """A ParquetSink whose file becomes `path` when the block ends without
    an error (--force: replacing what is there); `-`: standard output."""
    if is_stdout(path):
        sink = ParquetSink(path)
        try:
            yield sink
        finally:
            sink.close()
        return
    with replacing(path, replace) as temporary:
        sink = ParquetSink(temporary)
        try:
            yield sink
        finally:
            sink.close()


__all__ = ["ParquetSink", "arrow_table", "from_columns", "parquet_file"]
