"""`gradcalc.points(expr, data)`: a pandas or Polars DataFrame, an Arrow table
or a dict of arrays in, the same kind of table out, with the numbers and
statuses the CLI's CSV and Parquet give for the same points."""

import csv
import io
import math

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gradcalc
from gradcalc.errors import PointError

# A kink of abs at x = 0, log(y) undefined at y = -1 and y = 0: every status.
EXPRESSION = "abs(x)*y + log(y)"
X = [1.5, 0.0, -2.0, 3.0, 0.25, -0.75]
Y = [2.0, 1.0, -1.0, 0.5, 4.0, 0.0]
STATUSES = ["agree", "not_differentiable", "undefined", "agree", "agree", "undefined"]
FD_TOLERANCE = 1e-6  # finite differences of these smooth pieces, relative
ROUNDING = 1e-15  # a float64 formula against the same formula by hand


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def dict_of(table):
    """Any of the kinds as {column: list}."""
    if isinstance(table, pd.DataFrame):
        return {c: table[c].tolist() for c in table.columns}
    if isinstance(table, pl.DataFrame):
        return table.to_dict(as_series=False)
    if isinstance(table, pa.Table):
        return table.to_pydict()
    return {c: list(v) for c, v in table.items()}


def _cli_tables(cli, tmp_path):
    source = tmp_path / "points.csv"
    source.write_text("x,y\n" + "".join(f"{x!r},{y!r}\n" for x, y in zip(X, Y)))
    text = cli("diff", EXPRESSION, "--points", str(source), "--format", "csv").stdout
    header, *rows = list(csv.reader(io.StringIO(text)))
    from_csv = {
        name: [row[j] if name == "status" else float(row[j]) for row in rows]
        for j, name in enumerate(header)
    }
    target = tmp_path / "answers.parquet"
    cli("diff", EXPRESSION, "--points", str(source), "--format", "parquet", "-o", str(target))
    return from_csv, pq.read_table(target).to_pydict()


@pytest.mark.parametrize(
    "make",
    [
        lambda: pd.DataFrame({"x": X, "y": Y}),
        lambda: pl.DataFrame({"x": X, "y": Y}),
        lambda: pa.table({"x": X, "y": Y}),
        lambda: {"x": np.array(X), "y": np.array(Y)},
    ],
    ids=["pandas", "polars", "arrow", "dict"],
)
def test_csv_parquet_and_the_api_agree_number_for_number(cli, tmp_path, make):
    data = make()
    answers = gradcalc.points(EXPRESSION, data)
    assert type(answers) is type(data)
    got = dict_of(answers)
    from_csv, from_parquet = _cli_tables(cli, tmp_path)
    assert list(got) == list(from_csv) == list(from_parquet)
    # The CSV's line numbers are the file's (the header is line 1); the
    # API's, like Parquet input's, are rows counted from 1.
    assert got["line"] == list(range(1, len(X) + 1))
    assert from_csv["line"] == [n + 1 for n in got["line"]]
    for name in list(got)[1:]:
        for i in range(len(X)):
            if name == "status":
                assert got[name][i] == from_csv[name][i] == from_parquet[name][i]
            else:
                assert _same(float(got[name][i]), from_csv[name][i]), (name, i)
                assert _same(float(got[name][i]), from_parquet[name][i]), (name, i)
    assert got["status"] == STATUSES
    # Independently: ∂/∂x = sign(x)·y and ∂/∂y = |x| + 1/y, by hand, where defined.
    for i, (x, y) in enumerate(zip(X, Y)):
        if STATUSES[i] == "agree":
            assert got["sympy:x"][i] == pytest.approx(math.copysign(y, x), rel=ROUNDING)
            assert got["sympy:y"][i] == pytest.approx(abs(x) + 1 / y, rel=ROUNDING)
            assert got["finite_difference:y"][i] == pytest.approx(abs(x) + 1 / y, rel=FD_TOLERANCE)


def test_pandas_keeps_the_index_and_reads_integer_and_nullable_columns():
    frame = pd.DataFrame(
        {"x": pd.array([1, 2, 3], dtype="Int64"), "y": np.array([2, 3, 4], dtype=np.int32)},
        index=["a", "b", "c"],
    )
    answers = gradcalc.points("x**2*y", frame, wrt=["x"])
    assert list(answers.index) == ["a", "b", "c"]
    assert list(answers.columns) == [
        "line", "x", "y", "f", "sympy:x", "autograd:x", "finite_difference:x", "status",
    ]  # fmt: skip
    assert answers["sympy:x"].tolist() == [4.0, 12.0, 24.0]  # 2xy
    assert answers["f"].tolist() == [2.0, 12.0, 36.0]


def test_higher_order_columns_match_the_csvs_names():
    answers = gradcalc.points("x**3*y", {"x": [2.0], "y": [5.0]}, order=2)
    assert [k for k in answers if k.startswith("sympy:")] == ["sympy:x:x", "sympy:x:y", "sympy:y:y"]
    assert answers["sympy:x:x"][0] == 60.0  # 6xy
    assert answers["sympy:x:y"][0] == 12.0  # 3x²
    assert answers["sympy:y:y"][0] == 0.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pd.DataFrame({"x": [1.0, math.nan]}), "points row 2: x=nan is not a finite number"),
        (pd.DataFrame({"x": ["1", "2"]}), "points: column x holds objects, not numbers"),
        (pl.DataFrame({"x": [1.0, None]}), "points row 2: x=null is not a number"),
        (pl.DataFrame({"x": [True]}), "points: column x holds booleans, not numbers"),
        (pa.table({"x": [1.0, None, 3.0]}), "points row 2: x=null is not a number"),
        ({"x": [[1.0, 2.0]]}, "points: column x holds float64 of shape (1, 2), not numbers"),
        ({"x": [1.0], "y": [1.0, 2.0]}, "points: columns of different lengths ([1, 2])"),
        ({"x": [1.0], "z": [2.0]}, "the points name z, not variables of the expression"),
        ({"x y": [1.0]}, "points column names: 'x y' is not a variable name"),
        ([1.0, 2.0], "points: a pandas or Polars DataFrame, a PyArrow Table or a dict of"),
    ],
)
def test_bad_data_is_a_point_error_naming_it(data, message):
    with pytest.raises(PointError) as error:
        gradcalc.points("x**2", data)
    assert message in str(error.value)


def test_gradcalc_points_is_the_dataframe_api():
    from gradcalc import points

    assert points is gradcalc.points and points.__module__ == "gradcalc.frames"


def test_no_rows_give_an_empty_table_with_the_columns():
    answers = gradcalc.points("x**2*y", pd.DataFrame({"x": [], "y": []}, dtype=float))
    assert len(answers) == 0
    assert list(answers.columns)[-4:] == ["sympy:y", "autograd:y", "finite_difference:y", "status"]


DEEP_CALL = """
import sys
import gradcalc
from gradcalc.parsing import MAX_DEPTH
deep = "sin(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1)
try:
    gradcalc.points(deep, {"x": [1.0]})
except gradcalc.errors.GradcalcError as error:
    print(type(error).__name__, error.kind, int(error.exit_code), error, sep="|")
"""


def test_an_expression_deeper_than_the_stack_is_gradcalcs_budget_error():
    # 399 nested calls are inside the parser's limit (400); the CLI answers
    # them on a deep stack of its own, a caller's thread (Python's default
    # recursion limit: a real process, not this one, whose limit conftest
    # raises) runs out of stack: the CLI's own error for that, never a raw
    # RecursionError.
    import subprocess
    import sys

    process = subprocess.run(
        [sys.executable, "-c", DEEP_CALL], capture_output=True, text=True, timeout=600
    )
    assert process.stderr == ""
    message = "ran out of stack: the expression nests too deeply for this machine"
    assert process.stdout == f"BudgetError|budget|3|{message}\n"


def test_an_expression_past_the_depth_limit_is_a_parse_error():
    from gradcalc.parsing import MAX_DEPTH

    too_deep = "sin(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    with pytest.raises(gradcalc.errors.TooLargeError, match=f"the limit is {MAX_DEPTH}"):
        gradcalc.points(too_deep, {"x": [1.0]})


@pytest.mark.parametrize(
    ("expression", "data", "wrt", "kind", "message"),
    [
        ("x**2", pd.DataFrame(), None, PointError, "the points give no column for x"),
        ("x**2", pl.DataFrame(), None, PointError, "the points give no column for x"),
        ("x**2", pa.table({}), None, PointError, "the points give no column for x"),
        ("x**2", {}, None, PointError, "the points give no column for x"),
        (
            "sin(x)",
            {"sin": [1.0], "x": [1.0]},
            None,
            PointError,
            "the points name sin, not variables of the expression (its variables: x)",
        ),
        ("x", {"sin": [1.0]}, None, PointError, "the points give no column for x"),
        (
            "x",
            pa.table({"x": ["a"]}),
            None,
            PointError,
            "points: column x holds string, not numbers",
        ),
        ("x", pd.DataFrame({"x": ["a"]}), None, PointError, "points: column x holds objects, not"),
        (
            "x",
            pd.DataFrame({"x": pd.array([1, None], dtype="Int64")}),
            None,
            PointError,
            "points row 2: x=null is not a number",
        ),
        (
            "x+y",
            pd.DataFrame({"x": pd.array([1.0, None], dtype="Float64"), "y": [2.0, math.nan]}),
            None,
            PointError,
            "points row 2: x=null is not a number",  # row by row, then column by column
        ),
        (
            "x**2",
            {"x": [1.0]},
            ["y"],
            gradcalc.errors.UsageError,
            "wrt 'y' is not a variable of the expression (its variables: x)",
        ),
    ],
)
def test_hostile_data_is_a_gradcalc_error_never_a_library_exception(
    expression, data, wrt, kind, message
):
    with pytest.raises(kind) as error:
        gradcalc.points(expression, data, wrt=wrt)
    assert type(error.value) is kind
    assert message in str(error.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda v: {"x": np.array(v, dtype=np.int64)},
        lambda v: pd.DataFrame({"x": np.array(v, dtype=np.int64)}),
        lambda v: pl.DataFrame({"x": v}, schema={"x": pl.Int64}),
        lambda v: pa.table({"x": pa.array(v, pa.int64())}),
    ],
    ids=["dict", "pandas", "polars", "arrow"],
)
def test_integers_past_2_53_are_the_nearest_float64_as_a_csvs_text(cli, tmp_path, make):
    # The documented answer: an integer becomes the nearest float64, as the
    # same digits in a CSV file do, so both give the same numbers.
    values = [2**53 + 1, -(2**62) - 1, 2**63 - 1]
    source = tmp_path / "points.csv"
    source.write_text("x\n" + "".join(f"{v}\n" for v in values))
    text = cli("diff", "x**2", "--points", str(source), "--format", "csv").stdout
    header, *rows = list(csv.reader(io.StringIO(text)))
    got = dict_of(gradcalc.points("x**2", make(values)))
    assert list(got) == header
    assert got["x"] == [float(v) for v in values] == [float(row[1]) for row in rows]
    for j, name in enumerate(header[2:-1], start=2):
        assert [float(v) for v in got[name]] == [float(row[j]) for row in rows], name
    assert list(got["status"]) == [row[-1] for row in rows]


def test_without_pyarrow_a_pandas_answer_has_the_same_columns(monkeypatch):
    """The status text is made by Arrow from its codes when PyArrow is there,
    by numpy when it is not: the same words either way."""
    import importlib.util

    frame = pd.DataFrame({"x": [1.0, 0.0, -2.0]})
    with_arrow = gradcalc.points("abs(x)", frame)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "pyarrow" else real(name, *args),
    )
    without = gradcalc.points("abs(x)", frame)
    assert without["status"].tolist() == ["agree", "not_differentiable", "agree"]
    assert dict_of(without) == dict_of(with_arrow)


def test_the_answers_share_no_memory_with_the_callers_frame():
    """The answers' columns are taken without pandas' copy, but the point's
    columns are copied: writing into the answers leaves the caller's frame
    as it was, and the other way round."""
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [4.0, 5.0, 6.0]})
    answers = gradcalc.points("x*y", frame)
    for name in ("x", "y"):
        assert not np.shares_memory(answers[name].to_numpy(), frame[name].to_numpy())
    answers.loc[0, "x"] = 99.0
    frame.loc[1, "y"] = -1.0
    assert frame["x"].tolist() == [1.0, 2.0, 3.0]
    assert answers["y"].tolist() == [4.0, 5.0, 6.0]
    assert answers["sympy:x"].tolist() == [4.0, 5.0, 6.0]  # d(xy)/dx = y, by hand
