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

from .errors import BudgetError, PointError
from .pointsfile import Points, check_names


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
    from .csvout import columns, header

    kind = _kind(data)
    names, arrays, nulls = _columns(data, kind)
    try:
        many = differentiate_many(expression, _points(names, arrays, nulls), wrt, order, dtype)
    except RecursionError:
        # The parser's depth limit (400) is the CLI's, but the CLI works on a
        # deep stack of its own (cli/stack.py); this is the caller's thread.
        raise BudgetError(OUT_OF_STACK) from None
    point = header(many)[1 : 1 + len(many.variables)]  # the point's columns
    return _table(columns(many, codes=kind != "dict"), kind, data, point)


# What the CLI says when an expression outgrows its stack (cli/group.py).
OUT_OF_STACK = "ran out of stack: the expression nests too deeply for this machine"


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


Nulls = dict[str, np.ndarray | None]  # where each column is missing (None: nowhere)


def _columns(data: Any, kind: str) -> tuple[list[str], dict[str, np.ndarray], Nulls]:
    """The column names, each column as float64 and where it is missing, or
    a PointError naming the column that is not numbers."""
    if kind == "arrow":
        from .columnar import pandas_index  # a DataFrame's index, as pandas' own is not read

        index = pandas_index(data.schema)
        names = [str(n) for n in data.schema.names if n not in index]
        raw = {n: data.column(n) for n in names}
    elif kind == "dict":
        names = [str(n) for n in data]
        raw = {str(n): v for n, v in data.items()}
    else:
        names = [str(n) for n in data.columns]
        raw = {str(n): data[n] for n in data.columns}
    check_names(names, "points column names")
    arrays, nulls = {}, {}
    for name in names:
        arrays[name], nulls[name] = _floats(raw[name], name, kind)
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        raise PointError(f"points: columns of different lengths ({sorted(lengths)})")
    return names, arrays, nulls


def _floats(column: Any, name: str, kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A column as float64, and where it is missing (null, pandas' NA;
    None: nowhere), or a PointError: the column is not numbers."""
    if kind == "arrow":
        from .columnar import floats

        return floats(column, name, "points")
    null = None
    if kind == "polars" and column.null_count():
        null = column.is_null().to_numpy()
    if kind == "pandas" and column.dtype.kind in "fiu":
        if not isinstance(column.dtype, np.dtype):  # Int64, Float64: NA, apart from NaN
            null = column.isna().to_numpy() & ~np.isnan(column.to_numpy(np.float64, na_value=0))
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    elif kind == "dict":
        values = column
        if np.ma.isMaskedArray(column) and np.ma.is_masked(column):  # masked: missing
            null, values = np.ma.getmaskarray(column), np.ma.getdata(column)
    else:
        values = column.to_numpy()
    array = np.asarray(values)
    if array.dtype.kind not in "fiu" or array.ndim != 1:
        what = _WHAT.get(array.dtype.kind, str(array.dtype))
        shape = "" if array.ndim == 1 else f" of shape {array.shape}"
        raise PointError(f"points: column {name} holds {what}{shape}, not numbers")
    return array.astype(np.float64, copy=False), null


_WHAT = {"b": "booleans", "U": "text", "S": "bytes", "O": "objects", "M": "dates", "m": "times"}


def _points(names: list[str], arrays: dict[str, np.ndarray], nulls: Nulls) -> Points:
    from .columnar import first_bad

    count = len(next(iter(arrays.values()))) if arrays else 0
    bad = first_bad(arrays, nulls)
    if bad is not None:
        raise PointError(f"points row {bad[0] + 1}: {bad[1]}")
    return Points(names, arrays, np.arange(1, count + 1, dtype=np.int64))


def _table(columns: dict[str, np.ndarray], kind: str, data: Any, point: list[str]) -> Any:
    """The answers as the kind of table `data` is (`columns`' status as its
    codes, csvout.columns(codes=True), except for a dict); `point`: the
    names of the point's columns."""
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

        # The arrays are this call's own (csvout.columns), but the point's may be
        # views of the caller's table: those are copied, the rest taken as they
        # are (pandas' default copy of a million rows' columns took 0.14 s of a
        # first call's 0.5, touching fresh memory).
        columns = {n: a.copy() if n in point else a for n, a in columns.items()}
        if table is None:
            return pd.DataFrame(columns, index=data.index, copy=False)
        numbers = {n: columns[n] for n in columns if n != "status"}
        frame = pd.DataFrame(numbers, index=data.index, copy=False)
        status = table.column("status").to_pandas()  # pandas' own kind of text column
        frame["status"] = status.set_axis(data.index)
        return frame
    if kind == "polars":
        import polars as pl

        return pl.DataFrame(columns) if table is None else pl.from_arrow(table)
    return table


__all__ = ["points"]
