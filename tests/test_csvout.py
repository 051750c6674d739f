"""`diff --points --format csv`: one header, one row per point, exact."""

import csv
import io
import json
import math

import numpy as np
import pytest
from conftest import run_subprocess

from gradcalc import batch, csvout

POINTS = "x,y\n1,2\n\n0,0\n3,-1\n"  # a blank line: rows keep the input's line numbers


def _table(text):
    return list(csv.reader(io.StringIO(text)))


def test_csv_rows_are_exact_through_the_real_cli(tmp_path):
    source = tmp_path / "points.csv"
    source.write_text(POINTS)
    process = run_subprocess("diff", "x**2*y", "--points", str(source), "--format", "csv")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    table = _table(process.stdout)
    assert table[0] == [
        "line",
        "x",
        "y",
        "f",
        "sympy:x",
        "autograd:x",
        "finite_difference:x",
        "sympy:y",
        "autograd:y",
        "finite_difference:y",
        "status",
    ]
    assert len(table) == 4
    # d/dx x**2*y = 2*x*y, d/dy = x**2: exact in float64 for SymPy and autograd.
    for row, (line, x, y) in zip(table[1:], [(2, 1.0, 2.0), (4, 0.0, 0.0), (5, 3.0, -1.0)]):
        assert row[:4] == [str(line), repr(x), repr(y), repr(x * x * y)]
        assert row[4:6] == [repr(2 * x * y)] * 2
        assert float(row[6]) == pytest.approx(2 * x * y, abs=1e-8)
        assert row[7:9] == [repr(x * x)] * 2
        assert float(row[9]) == pytest.approx(x * x, abs=1e-8)
        assert row[10] == "agree"


def test_csv_says_nan_and_inf_and_each_rows_status(cli, tmp_path):
    source = tmp_path / "points.csv"
    source.write_text("x,y\n1,2\n0,0\n3,-1\n")
    run = cli("diff", "abs(x)*y+log(y)", "--points", str(source), "--format", "csv")
    assert run.exit_code == 3
    table = _table(run.stdout)
    assert table[1] == [
        "2",
        "1.0",
        "2.0",
        repr(2 + math.log(2)),
        "2.0",
        "2.0",
        table[1][6],
        "1.5",
        "1.5",
        table[1][9],
        "agree",
    ]
    assert table[2][3] == "-inf" and table[2][7:9] == ["inf", "inf"]
    assert table[3][3] == "nan" and table[3][-1] == "undefined"
    assert [row[-1] for row in table[1:]] == ["agree", "undefined", "undefined"]


def test_csv_carries_the_same_numbers_as_the_ndjson(cli, tmp_path):
    source = tmp_path / "points.csv"
    rng = np.random.default_rng(1)
    rows = rng.uniform(-3, 3, size=(40, 2)).tolist()
    source.write_text("a,b\n" + "".join(f"{a!r},{b!r}\n" for a, b in rows))
    expression = "sin(a*b) + exp(b)/(1+a**2)"
    table = _table(cli("diff", expression, "--points", str(source), "--format", "csv").stdout)
    documents = [
        json.loads(line)
        for line in cli("diff", expression, "--points", str(source), "--json").stdout.splitlines()
    ]
    assert len(table) == 41 and len(documents) == 40
    for row, document in zip(table[1:], documents):
        record = dict(zip(table[0], row))
        assert int(record["line"]) == document["line"]
        assert float(record["a"]) == document["point"]["a"]
        assert float(record["f"]) == document["value"]
        for name in ("a", "b"):
            for method in csvout.METHODS:
                assert float(record[f"{method}:{name}"]) == document["gradient"][name][method]
        assert record["status"] == document["status"]


def test_csv_headers_higher_derivatives_and_clashing_names(cli, tmp_path):
    source = tmp_path / "points.csv"
    source.write_text("f,x\n1,2\n")
    run = cli("diff", "x*f", "--points", str(source), "--format", "csv", "--order", "2")
    assert run.exit_code == 0, run.stderr
    header = _table(run.stdout)[0]
    assert header[:4] == ["line", "point:f", "x", "f"]
    assert header[4:7] == ["sympy:f:f", "autograd:f:f", "finite_difference:f:f"]
    assert header[7:10] == ["sympy:f:x", "autograd:f:x", "finite_difference:f:x"]
    assert len(set(header)) == len(header)


def test_csv_header_comes_once_across_chunks(monkeypatch, cli, tmp_path):
    from gradcalc import batch

    monkeypatch.setattr(batch, "CHUNK", 3)
    source = tmp_path / "points.csv"
    source.write_text("x\n" + "".join(f"{i}\n" for i in range(10)))
    table = _table(cli("diff", "x**3", "--points", str(source), "--format", "csv").stdout)
    assert [row[0] for row in table] == ["line", *[str(i) for i in range(2, 12)]]
    assert [row[2] for row in table[1:]] == [repr(float(i**3)) for i in range(10)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "1", "--format", "csv"], "--format csv writes one row per point: give --points"),
        (["--points", "-", "--format", "csv", "--json"], "--format csv and --json are two forms"),
        (["--points", "-", "--format", "xml"], "xml"),
    ],
)
def test_csv_misuse_is_a_usage_error(cli, args, message):
    run = cli("diff", "x**2", *args, input="x\n1\n")
    assert run.exit_code == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_numbers_round_trip_and_name_non_finite_values():
    values = np.array([0.1, -2.5e-300, 1e300, np.nan, np.inf, -np.inf, 3.0])
    text = [t.decode() for t in csvout.numbers(values)]
    assert text[3:6] == ["nan", "inf", "-inf"]
    assert [float(t) for t in text[:3] + text[6:]] == [0.1, -2.5e-300, 1e300, 3.0]


def _many(lines, table, codes):
    """A stand-in for batch.Many with one variable x and one partial: the
    columns csvout.rows reads (x, f, then sympy, autograd, finite_difference)."""
    from types import SimpleNamespace

    partial = SimpleNamespace(
        wrt=("x",), sympy=table[:, 2], autograd=table[:, 3], finite_difference=table[:, 4]
    )
    points = batch.Points(["x"], {"x": table[:, 0]}, lines)
    return SimpleNamespace(
        variables=["x"], points=points, value=table[:, 1], partials=[partial], codes=codes
    )


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("seed", range(4))
def test_rows_are_each_row_s_cells_joined_whatever_the_pieces(chunk, seed):
    """rows() cuts one orjson text of the whole table into rows: each row must
    be its line, its numbers one by one (numbers(), the documented form) and
    its status, with non-finite values in the first, a middle and the last
    row, one verdict or several in a piece, and pieces of any size."""
    from gradcalc.verdict import STATUSES

    generator = np.random.default_rng(seed)
    count = 11
    table = generator.standard_normal((count, 5)) * 10.0 ** generator.integers(-30, 30, (count, 5))
    table[0, 1], table[5, 4], table[count - 1, 2] = np.nan, np.inf, -np.inf
    lines = np.arange(2, 2 + count) * (1 + seed)  # gaps between lines, as blank lines make
    codes = np.zeros(count, dtype=np.uint8)
    if seed % 2:
        codes[generator.integers(0, count, 3)] = generator.integers(1, len(STATUSES), 3)
    text = b"".join(csvout.rows(_many(lines, table, codes), chunk=chunk)).decode()
    expected = "".join(
        ",".join([str(line), *(t.decode() for t in csvout.numbers(row)), STATUSES[code]]) + "\n"
        for line, row, code in zip(lines, table, codes)
    )
    assert text == expected
    cells = [row[1:-1] for row in _table(text)]
    read = np.array([[float(c) for c in row] for row in cells])
    assert np.array_equal(read, table, equal_nan=True)  # every bit back
