"""Parquet and Arrow IPC points in, `--format parquet` out: the same numbers
and statuses as the CSV for the same points, bad rows named, files written
whole or not at all."""

import csv
import io
import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from conftest import run_subprocess

# abs has a kink at x = 0 and log(y) is undefined at y = -1: every status.
EXPRESSION = "abs(x)*y + log(y)"
X = [1.5, 0.0, -2.0, 3.0, 0.25]
Y = [2.0, 1.0, -1.0, 0.5, 4.0]
CSV_TEXT = "x,y\n" + "".join(f"{x!r},{y!r}\n" for x, y in zip(X, Y))
EXACT = 0.0  # the derivatives here are exact in float64: 2 operations at most
FD_TOLERANCE = 1e-6  # finite differences of these smooth pieces, relative
ROUNDING = 4e-16  # two float64 roundings apart (3*x**2 against 3*x*x)


def _csv_table(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def _points_csv(cli, path, *extra):
    run = cli("diff", EXPRESSION, "--points", str(path), "--format", "csv", *extra)
    assert "Traceback" not in run.stderr
    return run


def test_parquet_output_has_the_csvs_columns_numbers_and_statuses(cli, tmp_path):
    source = tmp_path / "points.csv"
    source.write_text(CSV_TEXT)
    text = _points_csv(cli, source)
    target = tmp_path / "answers.parquet"
    run = cli("diff", EXPRESSION, "--points", str(source), "--format", "parquet", "-o", str(target))
    assert run.exit_code == text.exit_code == 3  # one point is undefined
    assert run.stdout == ""
    header, rows = _csv_table(text.stdout)
    table = pq.read_table(target)
    assert table.column_names == header
    assert table.schema.field("line").type == pa.int64()
    assert table.schema.field("status").type == pa.string()
    columns = table.to_pydict()
    for j, name in enumerate(header):
        for i, row in enumerate(rows):
            if name == "status":
                assert columns[name][i] == row[j]
            else:
                assert _same(float(columns[name][i]), float(row[j])), (name, i)
    assert columns["status"] == ["agree", "not_differentiable", "undefined", "agree", "agree"]
    # Independently: d/dx = sign(x)*y and d/dy = |x| + 1/y, by hand.
    for i, (x, y) in enumerate(zip(X, Y)):
        if y > 0 and x != 0:
            assert columns["sympy:x"][i] == pytest.approx(math.copysign(y, x), abs=EXACT)
            assert columns["sympy:y"][i] == pytest.approx(abs(x) + 1 / y, rel=1e-15)
            fd = columns["finite_difference:y"][i]
            assert fd == pytest.approx(abs(x) + 1 / y, rel=FD_TOLERANCE)


@pytest.mark.parametrize("kind", ["parquet", "feather", "arrow-stream"])
def test_columnar_input_gives_the_csv_answers_with_row_numbers(cli, tmp_path, kind):
    source = tmp_path / "points.csv"
    source.write_text(CSV_TEXT)
    header, expected = _csv_table(_points_csv(cli, source).stdout)
    table = pa.table(
        {"x": pa.array(X), "y": pa.array([int(y) if y.is_integer() else y for y in Y])}
    )
    if kind == "parquet":
        path = tmp_path / "points.parquet"
        pq.write_table(table, path, row_group_size=2)  # three row groups, read one by one
    elif kind == "feather":
        path = tmp_path / "points.feather"
        feather.write_feather(table, path)
    else:
        path = tmp_path / "points.stream"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=2)
    extra = ["--input-format", "arrow"] if kind == "arrow-stream" else []
    got_header, got = _csv_table(_points_csv(cli, path, *extra).stdout)
    assert got_header == header
    assert [row[0] for row in got] == ["1", "2", "3", "4", "5"]  # rows, counted from 1
    assert [row[1:] for row in got] == [row[1:] for row in expected]


def test_arrow_stream_from_stdin_is_read_as_it_comes(tmp_path):
    sink = pa.BufferOutputStream()
    table = pa.table({"x": [1.0, 2.0, 3.0]})
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    process = subprocess_bytes(
        ["diff", "x**3", "--points", "-", "--input-format", "arrow", "--format", "csv"],
        sink.getvalue().to_pybytes(),
    )
    assert process.returncode == 0, process.stderr
    _, rows = _csv_table(process.stdout.decode())
    assert [float(row[4]) for row in rows] == [3.0, 12.0, 27.0]  # sympy:x = 3x²


def subprocess_bytes(args, data):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "gradcalc", *args], input=data, capture_output=True, timeout=120
    )


@pytest.mark.parametrize(
    ("table", "groups", "message", "answered"),
    [
        ({"x": [1.0, 2.0, None]}, 2, " row 3 (row group 2): x=null is not a number", 2),
        (
            {"x": [1.0, 2.0, 3.0, math.inf]},
            2,
            " row 4 (row group 2): x=inf is not a finite number",
            3,
        ),
        (
            {"x": [1.0, 2.0, 3.0, -math.inf]},
            9,
            " row 4 (row group 1): x=-inf is not a finite number",
            3,
        ),
        ({"x": [math.nan, 2.0]}, 9, " row 1 (row group 1): x=nan is not a finite number", 0),
        ({"x": ["a", "b"]}, 2, ": column x holds string, not numbers", 0),
        ({"x": [True]}, 2, ": column x holds bool, not numbers", 0),
        ({"x": [1.0], "2y": [1.0]}, 2, " column names: '2y' is not a variable name", 0),
        ({"x": pa.array([], pa.float64())}, 2, ": no points", 0),
    ],
)
def test_a_bad_row_or_column_is_named(cli, tmp_path, table, groups, message, answered):
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table(table), path, row_group_size=groups)
    run = cli("diff", "x**2", "--points", str(path), "--json")
    assert run.exit_code == 2
    # Every row before the bad one is answered first, in its row group too.
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert lines[-1]["error"]["message"] == f"{path}{message}"
    assert [line["point"]["x"] for line in lines[:-1]] == list(table["x"])[:answered]


def _write_arrow(table, path, kind, rows):
    """`table` as an Arrow IPC file (Feather v2) or stream, `rows` rows to a batch."""
    if kind == "file":
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=rows)
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=rows)


@pytest.mark.parametrize(
    ("kind", "bad", "words"),
    [
        ("parquet", None, "y=null is not a number"),
        ("parquet", math.nan, "y=nan is not a finite number"),
        ("file", math.inf, "y=inf is not a finite number"),
        ("stream", None, "y=null is not a number"),
    ],
)
def test_rows_before_a_bad_value_in_the_same_batch_are_answered_first(
    cli, tmp_path, kind, bad, words
):
    # One row group (one record batch) of five rows, the fourth bad in y: the
    # three before it are answered, written, then the one-line error, exit 2,
    # as for a bad line of a CSV file.
    table = pa.table({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": [1.0, 1.0, 1.0, bad, 1.0]})
    if kind == "parquet":
        path = tmp_path / "points.parquet"
        pq.write_table(table, path)
        place = " (row group 1)"
    else:
        path = tmp_path / "points.arrow"
        _write_arrow(table, path, kind, rows=5)
        place = ""
    run = cli("diff", "x**2*y", "--points", str(path), "--format", "csv")
    assert run.exit_code == 2
    _, rows = _csv_table(run.stdout)
    assert [row[0] for row in rows] == ["1", "2", "3"]
    assert [row[-1] for row in rows] == ["agree"] * 3
    assert [float(row[4]) for row in rows] == [2.0, 4.0, 6.0]  # sympy:x = 2xy, exact
    assert run.stderr == f"gradcalc: error: {path} row 4{place}: {words}\n"


def test_a_bad_value_and_a_bad_csv_line_read_alike(cli, tmp_path):
    # The same bad cell in each format: one shape of message, the row (or
    # line) and the column named, the value shown as the text form shows it.
    csv_path = tmp_path / "points.csv"
    csv_path.write_text("x,y\n1,2\n3,nan\n")
    jsonl_path = tmp_path / "points.jsonl"
    jsonl_path.write_text('{"x": 1, "y": 2}\n{"x": 3, "y": null}\n')
    parquet_path = tmp_path / "points.parquet"
    pq.write_table(pa.table({"x": [1.0, 3.0], "y": [2.0, math.nan]}), parquet_path)
    null_path = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"x": [1.0, 3.0], "y": [2.0, None]}), null_path)
    expected = {
        csv_path: f"{csv_path} line 3: y=nan is not a finite number",
        jsonl_path: f"{jsonl_path} line 2: y=null is not a number",
        parquet_path: f"{parquet_path} row 2 (row group 1): y=nan is not a finite number",
        null_path: f"{null_path} row 2 (row group 1): y=null is not a number",
    }
    for path, message in expected.items():
        run = cli("diff", "x*y", "--points", str(path), "--format", "csv")
        assert run.exit_code == 2, path
        assert run.stderr == f"gradcalc: error: {message}\n"


def test_a_file_that_is_not_parquet_says_so(cli, tmp_path):
    path = tmp_path / "points.parquet"
    path.write_text(CSV_TEXT)
    run = cli("diff", EXPRESSION, "--points", str(path))
    assert run.exit_code == 2
    assert run.stderr.startswith(f"gradcalc: error: {path}: not a Parquet file (")


def test_output_file_is_never_replaced_without_force(cli, tmp_path):
    source = tmp_path / "points.csv"
    source.write_text(CSV_TEXT)
    target = tmp_path / "answers.csv"
    target.write_text("keep me\n")
    args = ["diff", EXPRESSION, "--points", str(source), "--format", "csv", "-o", str(target)]
    run = cli(*args)
    assert run.exit_code == 2
    assert f"'{target}' exists: add --force to replace it" in run.stderr
    assert target.read_text() == "keep me\n"
    run = cli(*args, "--force")
    assert run.exit_code == 3
    assert run.stdout == ""
    assert target.read_text() == _points_csv(cli, source).stdout  # the same bytes as stdout's


@pytest.mark.parametrize("force", [(), ("--force",)])
def test_a_fifo_is_written_into_never_replaced(cli, tmp_path, force):
    import os
    import stat
    import threading

    source = tmp_path / "points.csv"
    source.write_text(CSV_TEXT)
    fifo = tmp_path / "answers.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    args = ["diff", EXPRESSION, "--points", str(source), "--format", "csv", "-o", str(fifo)]
    run = cli(*args, *force)
    reader.join(timeout=60)
    assert run.exit_code == 3  # log(y) at y = -1
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the FIFO, not a file put in its place
    assert received == [_points_csv(cli, source).stdout]  # the reader got the same bytes


def test_a_bad_point_past_the_first_chunk_leaves_no_output_file(cli, tmp_path, monkeypatch):
    from gradcalc import columnar

    monkeypatch.setattr(columnar, "CHUNK", 2)
    path = tmp_path / "points.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0, math.nan]}), path)
    target = tmp_path / "answers.parquet"
    run = cli("diff", "x**2", "--points", str(path), "--format", "parquet", "-o", str(target))
    assert run.exit_code == 2
    assert f"{path} row 4 (row group 1): x=nan is not a finite number" in run.stderr
    assert list(tmp_path.iterdir()) == [path]  # no answers, no temporary file


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--points", "-", "--format", "parquet"], "--format parquet is a binary file: give"),
        (["--at", "1", "--format", "parquet", "-o", "a.parquet"], "give --points FILE"),
        (["--at", "1", "-o", "a.csv"], "--output and --input-format go with --points FILE"),
        (["--points", "-", "-o", "a.txt"], "--output writes --format csv, --format parquet or"),
        (["--points", "-", "--format", "parquet", "--json", "-o", "a"], "two forms"),
    ],
)
def test_misuse_is_a_usage_error(cli, tmp_path, args, message):
    run = cli("diff", "x**2", *args, input="x\n1\n")
    assert run.exit_code == 2
    assert message in run.stderr
    assert not list(tmp_path.iterdir())


def test_input_format_overrides_the_extension(cli, tmp_path):
    path = tmp_path / "points.txt"
    path.write_text('{"x": 2}\n{"x": 3}\n')
    run = cli("diff", "x**2", "--points", str(path), "--input-format", "jsonl", "--format", "csv")
    assert run.exit_code == 0
    _, rows = _csv_table(run.stdout)
    assert [float(row[3]) for row in rows] == [4.0, 6.0]
    run = cli("diff", "x**2", "--points", str(path), "--input-format", "csv")
    assert run.exit_code == 2
    assert "is not a variable name" in run.stderr


def test_parquet_through_the_real_cli(tmp_path):
    source = tmp_path / "points.parquet"
    values = np.linspace(-1, 1, 7)
    pq.write_table(pa.table({"x": values}), source)
    target = tmp_path / "out.parquet"
    process = run_subprocess(
        "diff", "x**3", "--points", str(source), "--format", "parquet", "--output", str(target)
    )
    assert process.returncode == 0, process.stderr
    table = pq.read_table(target).to_pydict()
    assert table["sympy:x"] == pytest.approx([3 * v * v for v in values], rel=ROUNDING)
    assert table["status"] == ["agree"] * 7


PLOT_ENV = {"NO_COLOR": "1", "COLUMNS": "80"}
PLOT_X = [-1.5, -0.25, 0.5, 2.0]


def _plot_sources(tmp_path):
    """The same points as CSV, JSON Lines, Parquet (two row groups) and Arrow IPC."""
    csv_path = tmp_path / "points.csv"
    csv_path.write_text("x\n" + "".join(f"{x!r}\n" for x in PLOT_X))
    jsonl_path = tmp_path / "points.jsonl"
    jsonl_path.write_text("".join(json.dumps({"x": x}) + "\n" for x in PLOT_X))
    parquet_path = tmp_path / "points.parquet"
    pq.write_table(pa.table({"x": PLOT_X}), parquet_path, row_group_size=2)
    arrow_path = tmp_path / "points.arrow"
    feather.write_feather(pa.table({"x": PLOT_X}), arrow_path)
    return csv_path, [jsonl_path, parquet_path, arrow_path]


def test_plot_points_reads_parquet_and_arrow_as_diff_does(cli, tmp_path):
    from gradcalc import columnar, plotting

    csv_path, others = _plot_sources(tmp_path)
    text = cli("plot", "x**3", "--points", str(csv_path), env=PLOT_ENV)
    assert text.exit_code == 0, text.stderr
    assert "o  d/dx at 4 points" in text.stdout
    for path in others:
        run = cli("plot", "x**3", "--points", str(path), env=PLOT_ENV)
        assert (run.exit_code, run.stderr) == (0, ""), path
        assert run.stdout == text.stdout, path  # the same drawing, character for character
        # The rows it reads, and the slopes drawn: 3x², by hand.
        with open(path, "rb") as stream:
            points = columnar.read_all(str(path), columnar.kind_of(str(path), None), stream, "p")
        assert points.columns["x"].tolist() == PLOT_X
        drawn = plotting.over_points("x**3", points)
        assert drawn.derivative.tolist() == pytest.approx([3 * x * x for x in PLOT_X], rel=ROUNDING)
        assert drawn.statuses == ["agree"] * 4


def test_plot_points_bad_parquet_is_diffs_error(cli, tmp_path):
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"x": [1.0, None, 3.0]}), path)
    plot = cli("plot", "x**3", "--points", str(path), env=PLOT_ENV)
    diff = cli("diff", "x**3", "--points", str(path), "--format", "csv")
    assert plot.exit_code == diff.exit_code == 2
    assert plot.stdout == ""
    expected = f"gradcalc: error: {path} row 2 (row group 1): x=null is not a number\n"
    assert plot.stderr == diff.stderr == expected
    # Read by the extension, not as text (it was "line 1: not UTF-8 text").
    text = tmp_path / "points.txt"
    text.write_bytes(path.read_bytes())
    run = cli("plot", "x**3", "--points", str(text), "--input-format", "parquet", env=PLOT_ENV)
    assert run.stderr == expected.replace(str(path), str(text))


def test_plot_points_reads_parquet_from_stdin(tmp_path):
    _, others = _plot_sources(tmp_path)
    parquet = others[1].read_bytes()
    args = ["plot", "x**3", "--points", "-", "--input-format", "parquet"]
    process = subprocess_bytes(args, parquet)
    assert process.returncode == 0, process.stderr
    assert b"o  d/dx at 4 points" in process.stdout


def test_plot_input_format_goes_with_points(cli):
    run = cli("plot", "x**2", "--at", "1", "--input-format", "csv", env=PLOT_ENV)
    assert run.exit_code == 2
    assert run.stderr == "gradcalc: error: --input-format goes with --points FILE\n"


def test_parquet_answers_dictionary_encode_the_status_only(cli, tmp_path):
    """Dictionary encoding on a column of distinct floats costs time and bytes:
    only the status column (four words) has it."""
    import pyarrow.parquet as pq

    out = tmp_path / "answers.parquet"
    run = cli(
        "diff", "sin(x)", "--points", "-", "--format", "parquet", "--output", str(out),
        input="x\n" + "\n".join(str(0.01 * k) for k in range(1, 200)) + "\n",
    )  # fmt: skip
    assert run.exit_code == 0
    group = pq.ParquetFile(out).metadata.row_group(0)
    encodings = {
        group.column(i).path_in_schema: set(group.column(i).encodings)
        for i in range(group.num_columns)
    }
    assert any("DICTIONARY" in e for e in encodings.pop("status"))
    for name, used in encodings.items():
        assert not any("DICTIONARY" in e for e in used), name
