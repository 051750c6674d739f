"""`diff --points --format parquet --output FILE`: the CSV's columns (same
names, same order; see csvout.py) as a Parquet file, one row group per
chunk of points, written with PyArrow (imported here only) to a temporary
file renamed over FILE at the end (outfile.replacing); `--output -`: to
standard output as it is answered, when that is not a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .columnar import pyarrow
from .csvout import columns
from .outfile import binary_stdout, is_stdout, replacing

if TYPE_CHECKING:
    from .batch import Many


def arrow_table(many: Many) -> Any:
    """A `batch.Many` as a pyarrow.Table with the CSV's columns: line int64,
    the numbers float64, status a string."""
    return from_columns(columns(many))


def from_columns(arrays: dict[str, Any]) -> Any:
    """csvout.columns' arrays as a pyarrow.Table."""
    pa = pyarrow()
    fields = [
        pa.field(name, pa.string() if name == "status" else _kind(name, pa), nullable=False)
        for name in arrays
    ]
    return pa.Table.from_arrays(
        [pa.array(a, type=f.type) for a, f in zip(arrays.values(), fields)],
        schema=pa.schema(fields),
    )


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
            where = binary_stdout("--format parquet") if is_stdout(self.path) else self.path
            self.writer = pq.ParquetWriter(where, table.schema, compression="zstd")
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
