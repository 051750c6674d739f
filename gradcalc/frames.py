"""`gradcalc.points(expr, data, wrt=...)`: many points from a table, answered
as `diff --points` answers them, returned as the same kind of table with the
CSV's columns (csvout.py): a pandas or Polars DataFrame, a PyArrow Table or
RecordBatch, or a dict of arrays. The table libraries are never imported
here unless the data is one of theirs (the type says which).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import PointError
from .pointsfile import Points, check_finite, check_names


def points(
    expression: str,
    data: Any,
    wrt: Sequence[str] | None = None,
    order: int = 1,
    dtype: str = "float64",
) -> Any:
    """Each row of `data` (one column per variable) answered three ways with
    its verdict, as `diff EXPR --points FILE --format csv`: a table of the
    same kind as `data` with the columns line (the row's number, from 1), the
    point, f, sympy:x, autograd:x, finite_difference:x (each partial) and
    status. A pandas result keeps the input's index; no rows give an empty
    table with the same columns (an empty partition, Dask's meta). A column that is not
    numbers, a missing or non-finite value, or a column that is not a
    variable raises a PointError naming it (and its row)."""
    from .batch import differentiate_many
    from .csvout import columns

    kind = _kind(data)
    names, arrays = _columns(data, kind)
    many = differentiate_many(expression, _points(names, arrays), wrt, order, dtype)
    return _table(columns(many, codes=kind != "dict"), kind, data)


def _kind(data: Any) -> str:
    """Which library's table `data` is: by its type's module, not by import."""
    module = type(data).__module__.split(".")[0]
    name = type(data).__name__
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "polars" and name == "DataFrame":
        return "polars"
    if module == "pyarrow" and name in ("Table", "RecordBatch"):
        return "arrow"
    if isinstance(data, Mapping):
        return "dict"
    raise PointError(
        f"points: a pandas or Polars DataFrame, a PyArrow Table or a dict of arrays, "
        f"not {type(data).__name__}"
    )


def _columns(data: Any, kind: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """The column names and each column as float64, or a PointError naming
    the column that is not numbers."""
    if kind == "arrow":
        names = [str(n) for n in data.schema.names]
        raw = {n: data.column(n) for n in names}
    elif kind == "dict":
        names = [str(n) for n in data]
        raw = {str(n): v for n, v in data.items()}
    else:
        names = [str(n) for n in data.columns]
        raw = {str(n): data[n] for n in data.columns}
    check_names(names, "points column names")
    arrays = {}
    for name in names:
        arrays[name] = _floats(raw[name], name, kind)
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        raise PointError(f"points: columns of different lengths ({sorted(lengths)})")
    return names, arrays


def _floats(column: Any, name: str, kind: str) -> np.ndarray:
    if kind == "arrow" and column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0]) + 1
        raise PointError(f"points row {row}: {name} is missing (null)")
    if kind == "polars" and column.null_count():
        row = int(column.is_null().arg_true()[0]) + 1
        raise PointError(f"points row {row}: {name} is missing (null)")
    if kind == "pandas" and column.dtype.kind in "fiu":  # NA of Int64 and Float64 as NaN
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    elif kind == "dict":
        values = column
    else:
        values = column.to_numpy()
    array = np.asarray(values)
    if array.dtype.kind not in "fiu" or array.ndim != 1:
        what = _WHAT.get(array.dtype.kind, str(array.dtype))
        shape = "" if array.ndim == 1 else f" of shape {array.shape}"
        raise PointError(f"points: column {name} holds {what}{shape}, not numbers")
    return array.astype(np.float64, copy=False)


_WHAT = {"b": "booleans", "U": "text", "S": "bytes", "O": "objects", "M": "dates", "m": "times"}


def _points(names: list[str], arrays: dict[str, np.ndarray]) -> Points:
    count = len(next(iter(arrays.values()))) if arrays else 0
    numbers = np.arange(1, count + 1, dtype=np.int64)
    table = np.column_stack([arrays[n] for n in names]) if names else np.empty((count, 0))
    check_finite(table, numbers, names, "points", unit="row")
    return Points(names, arrays, numbers)


def _table(columns: dict[str, np.ndarray], kind: str, data: Any) -> Any:
    """The answers as the kind of table `data` is (`columns`' status as its
    codes, csvout.columns(codes=True), except for a dict)."""
    if kind == "dict":
        return columns
    table = None
    if importlib.util.find_spec("pyarrow") is not None:
        from .tableout import from_columns

        table = from_columns(columns)  # the status text from its codes, by Arrow
    else:  # pandas or Polars without PyArrow: the text by numpy
        from .verdict import STATUSES

        columns = {**columns, "status": np.asarray(STATUSES, dtype=object)[columns["status"]]}
    if kind == "pandas":
        import pandas as pd

        if table is None:
            return pd.DataFrame(columns, index=data.index)
        frame = pd.DataFrame({n: columns[n] for n in columns if n != "status"}, index=data.index)
        status = table.column("status").to_pandas()  # pandas' own kind of text column
        frame["status"] = status.set_axis(data.index)
        return frame
    if kind == "polars":
        import polars as pl

        return pl.DataFrame(columns) if table is None else pl.from_arrow(table)
    return table


__all__ = ["points"]
