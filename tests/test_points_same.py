"""A differential harness: the same points, every way in and every way out,
give the same answers. Hypothesis draws an expression (smooth, with kinks,
poles, domain edges, overflow; one or two variables; a --wrt subset; --order
2) and points (exact kinks, 0, -0.0, subnormals, huge values, integers, values
where f is not finite), and checks that

- `diff --points` from CSV, JSON Lines, Parquet, Arrow IPC (file and stream)
  and stdin, written as `--format csv`, `--json` (NDJSON), `--format parquet`
  and the text table, and `gradcalc.points` on pandas, Polars, an Arrow table
  and a dict of arrays give IDENTICAL numbers (the float64s bit for bit, NaN
  equal to NaN, -0.0 apart from 0.0) and statuses, row by row;
- the exit code is the worst status's;
- each of the first five rows as one point, `diff EXPR --at POINT --json`,
  gives the same status (its numbers differ by design: docs/many-points.md,
  "One point and many").

GRADCALC_SAME_EXAMPLES=1500 hunts longer. A grid of special values in two
variables (every pair: kinks, poles and overflow meeting) goes every way too.

The bad-input side: a bad cell gives exit 2 and one line naming the file, the
line (row, row group) and the column, the rows before it answered, worded
alike across CSV, JSON Lines, Parquet and Arrow.

Each discrepancy found is pinned as a test of its own below the harness.
Most runs are in-process (the `cli` fixture); a few are real processes.
"""

import csv
import io
import json
import math
import os
import re
import struct
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from conftest import run_subprocess
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradcalc
from gradcalc.errors import PointError
from gradcalc.render.many import HEAD

# (expression, its variables): smooth, kinks, poles, domain edges, overflow.
EXPRESSIONS = [
    ("sin(x**2)", "x"),
    ("abs(x)", "x"),
    ("relu(x)", "x"),
    ("max(x, 0)", "x"),
    ("1/x", "x"),
    ("log(x)", "x"),
    ("sqrt(x)", "x"),
    ("exp(x)", "x"),
    ("exp(x)*exp(-x)", "x"),
    ("sqrt(x**4)", "x"),
    ("x**2*y", "xy"),
    ("abs(x)*y + log(y)", "xy"),
    ("max(x, y)", "xy"),
    ("x/y", "xy"),
    ("exp(x*y)", "xy"),
    ("sqrt(x*y) + relu(y)", "xy"),
    ("sqrt(relu(x))", "x"),
    ("x**y", "xy"),
    ("sin(x)/x", "x"),
    ("tan(x)", "x"),
]

# Points a bug likes: kinks and poles (0, -0.0), subnormals, huge values,
# integers, where exp overflows (800), below a domain's edge.
SPECIAL = [
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1e-300,
    1.0,
    -1.0,
    2.0,
    3.0,
    0.5,
    -2.5,
    800.0,
    -800.0,
    1e16,
    1e308,
    -1.7976931348623157e308,
    0.1,
]

WORST = {"agree": 0, "not_differentiable": 1, "disagree": 1, "undefined": 3}


def bits(value):
    """A float64's bits: equal for equal floats, NaN for NaN, -0.0 apart from 0.0."""
    value = float(value)
    return "nan" if math.isnan(value) else struct.pack("<d", value).hex()


@pytest.fixture(autouse=True, scope="module")
def _torch_imported():
    """torch imported in this process, as after any gradcalc.points call: the
    in-process CLI then starts no helper process for each run (its torch
    import, seconds a run on a loaded machine). The real processes below
    take the helper's path."""
    import torch  # noqa: F401


# Integers a float64 cannot hold exactly: past 2**53 each becomes the nearest
# float64, as its digits in a CSV file do.
BIG_INTEGERS = [2**53 + 1, -(2**53 + 1), 2**63 - 1, -(2**63), 10**18 + 1, 3]


@st.composite
def cases(draw):
    """(expression, its variables in the files' column order, wrt, order,
    dtype, {variable: values}, the integer columns, each CSV cell's spelling)."""
    expression, names = draw(st.sampled_from(EXPRESSIONS))
    names = draw(st.permutations(list(names)))
    wrt = (
        draw(st.sampled_from([None, names[:1], names[-1:], names[::-1]]))
        if len(names) > 1
        else None
    )
    order = draw(st.sampled_from([1, 1, 2]))
    dtype = draw(st.sampled_from(["float64"] * 5 + ["float32"]))
    # A few points, or more than the text table shows (its first and last
    # HEAD rows, and the first reasons, wherever their rows are).
    count = draw(st.one_of(st.integers(1, 5), st.integers(2 * HEAD + 1, 2 * HEAD + 6)))
    value = st.one_of(
        st.sampled_from(SPECIAL),
        st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
        st.integers(-5, 5).map(float),
    )
    integer = st.one_of(st.integers(-5, 5), st.sampled_from(BIG_INTEGERS))
    # A column of integers stays integers in every format (int64, CSV "3").
    integral = {n for n in names if draw(st.integers(0, 3)) == 0}
    columns = {
        n: draw(st.lists(integer if n in integral else value, min_size=count, max_size=count))
        for n in names
    }
    spellings = draw(st.lists(st.integers(0, len(SPELLINGS) - 1), min_size=count * len(names)))
    return expression, names, wrt, order, dtype, columns, integral, spellings


# Other spellings of the same number in a CSV file (float() reads each as
# it reads repr()): the fast reader and the line-by-line one must agree.
SPELLINGS = [
    repr,
    lambda v: f"{v:.25e}",
    lambda v: f" {v!r}\t",
    lambda v: repr(v) if repr(v).startswith("-") else "+" + repr(v),
    lambda v: repr(v).upper(),
]


def _options(wrt, order, dtype="float64"):
    options = [] if wrt is None else ["--wrt", ",".join(wrt)]
    options += ["--order", str(order)] if order != 1 else []
    return options + (["--dtype", dtype] if dtype != "float64" else [])


def _text(value, spelling=0):
    return str(value) if isinstance(value, int) else SPELLINGS[spelling](float(value))


def _arrow_table(names, columns, integral):
    arrays = {n: pa.array(columns[n], pa.int64() if n in integral else pa.float64()) for n in names}
    return pa.table(arrays)


def write_inputs(tmp_path, names, columns, integral, spellings=()):
    """The points as every file format `--points` reads: {name: (path, args)};
    `spellings` (one a cell, row by row) writes a second CSV, "csv-spelled"."""
    count = len(columns[names[0]])
    rows = [[_text(columns[n][i]) for n in names] for i in range(count)]
    files = {}
    path = tmp_path / "points.csv"
    path.write_text(",".join(names) + "\n" + "".join(",".join(r) + "\n" for r in rows))
    files["csv"] = (path, [])
    if spellings:
        cells = iter(spellings)
        spelled = [[_text(columns[n][i], next(cells)) for n in names] for i in range(count)]
        path = tmp_path / "spelled.csv"
        path.write_text(",".join(names) + "\n" + "".join(",".join(r) + "\n" for r in spelled))
        files["csv-spelled"] = (path, [])
    path = tmp_path / "points.jsonl"
    # Each line names the variables in another order: a point is an object.
    objects = [
        "{" + ", ".join(f'"{n}": {t}' for n, t in list(zip(names, r))[:: 1 - 2 * (i % 2)]) + "}\n"
        for i, r in enumerate(rows)
    ]
    path.write_text("".join(objects))
    files["jsonl"] = (path, [])
    files.update(arrow_inputs(tmp_path, _arrow_table(names, columns, integral)))
    return files


def arrow_inputs(tmp_path, table, rows=2):
    """An Arrow table as the columnar files `--points` reads: Parquet in row
    groups of `rows`, an Arrow file, an Arrow stream in batches of `rows`."""
    files = {}
    path = tmp_path / "points.parquet"
    pq.write_table(table, path, row_group_size=rows)  # several row groups
    files["parquet"] = (path, [])
    path = tmp_path / "points.feather"
    feather.write_feather(table, path)
    files["arrow-file"] = (path, [])
    path = tmp_path / "points.stream"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=rows)
    files["arrow-stream"] = (path, ["--input-format", "arrow"])
    return files


def frames(names, columns, integral):
    """The points as every kind of table `gradcalc.points` takes."""
    typed = {
        n: np.array(columns[n], dtype=np.int64 if n in integral else np.float64) for n in names
    }
    return {
        "pandas": pd.DataFrame(typed),
        "polars": pl.DataFrame(typed),
        "arrow-table": _arrow_table(names, columns, integral),
        "dict": typed,
    }


def from_csv(text):
    """`--format csv` as {header: [values]}: numbers as float bits, status as text."""
    header, *rows = list(csv.reader(io.StringIO(text)))
    return {
        name: [row[j] if name == "status" else bits(float(row[j])) for row in rows]
        for j, name in enumerate(header)
    }


def from_table(table):
    """A table of answers (any kind) as from_csv gives it; `line` apart."""
    if isinstance(table, pd.DataFrame):
        raw = {c: table[c].tolist() for c in table.columns}
    elif isinstance(table, pl.DataFrame):
        raw = table.to_dict(as_series=False)
    elif isinstance(table, pa.Table):
        raw = table.to_pydict()
    else:
        raw = {c: list(v) for c, v in table.items()}
    return {c: [str(v) if c == "status" else bits(v) for v in vs] for c, vs in raw.items()}


def from_ndjson(text, header):
    """NDJSON lines as from_csv's columns (header: the CSV's)."""
    lines = [json.loads(line) for line in text.splitlines()]
    answers = {name: [] for name in header}
    for line in lines:
        answers["line"].append(bits(line["line"]))
        for name, value in line["point"].items():
            answers[name if name not in ("line", "f", "status") else f"point:{name}"].append(
                bits(value)
            )
        answers["f"].append(bits(_number(line, "value")))
        for partial in line["derivatives"]:
            wrt = ":".join(partial["wrt"])
            for method in ("sympy", "autograd", "finite_difference"):
                answers[f"{method}:{wrt}"].append(bits(_number(partial, method)))
        answers["status"].append(line["status"])
    return answers


def _number(document, key):
    """A JSON number, or one that is not finite: null and KEY_nonfinite."""
    value = document[key]
    if value is None:
        return float(document.get(f"{key}_nonfinite", "nan"))
    return float(value)


def expected_exit(statuses):
    return max(WORST[s] for s in statuses) if statuses else 0


def _compare(reference, got, name, lines_differ=False):
    assert list(got) == list(reference), name
    for column in reference:
        if column == "line" and lines_differ:
            continue
        assert got[column] == reference[column], (name, column, got[column], reference[column])


@dataclass
class Case:
    expression: str
    names: list  # in the files' column order
    wrt: list | None
    order: int
    dtype: str
    columns: dict  # variable -> values (ints in an integer column)
    integral: set  # the integer columns
    spellings: list = field(default_factory=list)  # each CSV cell's, "csv-spelled"

    def options(self):
        return _options(self.wrt, self.order, self.dtype)


def answers_every_way(cli, tmp_path, case):
    """{way: answers} from every input format and output form, and the exit codes."""
    expression, options = case.expression, case.options()
    answers, codes = {}, {}
    files = write_inputs(tmp_path, case.names, case.columns, case.integral, case.spellings)
    for name, (path, extra) in files.items():
        run = cli("diff", expression, "--points", str(path), "--format", "csv", *extra, *options)
        assert run.exit_code in (0, 1, 3), (name, run.stdout, run.stderr)
        answers[name], codes[name] = from_csv(run.stdout), run.exit_code
    header = list(answers["csv"])
    csv_path, parquet_path = str(files["csv"][0]), str(files["parquet"][0])
    stdin = {
        "stdin-csv": (files["csv"][0], []),
        "stdin-jsonl": (files["jsonl"][0], []),
        "stdin-arrow": (files["arrow-stream"][0], ["--input-format", "arrow"]),
        "stdin-parquet": (files["parquet"][0], ["--input-format", "parquet"]),
    }
    for name, (path, extra) in stdin.items():
        given = ("diff", expression, "--points", "-", "--format", "csv", *extra, *options)
        run = cli(*given, input=path.read_bytes())
        answers[name], codes[name] = from_csv(run.stdout), run.exit_code
    run = cli("diff", expression, "--points", csv_path, "--json", *options)
    answers["ndjson"], codes["ndjson"] = from_ndjson(run.stdout, header), run.exit_code
    target = tmp_path / "answers.parquet"
    given = ("--format", "parquet", "-o", str(target), *options)
    run = cli("diff", expression, "--points", parquet_path, *given)
    answers["parquet-out"], codes["parquet-out"] = from_table(pq.read_table(target)), run.exit_code
    run = cli("diff", expression, "--points", csv_path, *options, env=WIDE)
    codes["table"] = run.exit_code
    answers["table-counts"] = run.stderr
    answers["table-statuses"] = table_statuses(run.stdout)
    for name, data in frames(case.names, case.columns, case.integral).items():
        table = gradcalc.points(expression, data, wrt=case.wrt, order=case.order, dtype=case.dtype)
        answers[name] = from_table(table)
        if name == "arrow-table":  # the schema --format parquet writes
            assert table.schema.equals(pq.read_schema(target), check_metadata=False)
    return answers, codes


WIDE = {"NO_COLOR": "1", "COLUMNS": "250"}  # the whole table, a row a line
VERDICTS = {"✓": "agree", "✗ kink": "not_differentiable", "✗ disagree": "disagree"}


def table_statuses(text):
    """The verdict column of the text table of many points, as statuses
    ("" for the row "…" between the first and last HEAD rows)."""
    cells = [line.strip("│").split("│") for line in text.splitlines() if line.startswith("│")]
    verdicts = [row[-1].strip() for row in cells]
    return [VERDICTS.get(v, v.removeprefix("✗ ").replace(" ", "_")) for v in verdicts]


def shown(statuses):
    """The statuses of the rows the text table shows."""
    if len(statuses) <= 2 * HEAD + 1:
        return statuses
    return [*statuses[:HEAD], "", *statuses[-HEAD:]]


def check_same(answers, codes):
    reference = answers["csv"]
    statuses = reference["status"]
    assert answers.pop("table-statuses") == shown(statuses), "table"
    for name, code in codes.items():
        assert code == expected_exit(statuses), (name, code, statuses)
    counts = answers.pop("table-counts")
    for status in set(statuses):
        word = status.replace("_", " ")
        if status != "agree":
            assert f"{statuses.count(status)} {word}" in counts, (counts, statuses)
    for name, got in answers.items():
        if name == "csv":
            continue
        # A CSV's and NDJSON's line numbers are the file's (the header is
        # line 1); JSON Lines' and a table's count rows from 1.
        _compare(reference, got, name, lines_differ=name not in ("ndjson", "stdin-csv"))


SETTINGS = settings(
    # A few dozen in CI; GRADCALC_SAME_EXAMPLES=2000 for a long hunt.
    max_examples=int(os.environ.get("GRADCALC_SAME_EXAMPLES", "30")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(drawn=cases())
def test_every_way_gives_the_same_answers(cli, tmp_path_factory, drawn):
    case = Case(*drawn)
    answers, codes = answers_every_way(cli, tmp_path_factory.mktemp("same"), case)
    check_same(answers, codes)
    # Each row (the first few) as one point, as `--at` takes it: the same status.
    statuses = answers["csv"]["status"]
    for i, status in enumerate(statuses[:5]):
        at = ",".join(f"{n}={_text(case.columns[n][i])}" for n in case.names)
        run = cli("diff", case.expression, "--at", at, "--json", *case.options())
        assert run.exit_code == WORST[status], (at, run.stdout, status)
        if run.exit_code != 3:
            assert run.json["status"] == status, (at, run.stdout)


GRID = [0.0, -0.0, 5e-324, 1.0, -1.0, 0.5, 800.0]


@pytest.mark.parametrize("expression", ["max(x, y)", "x**y"])
def test_a_grid_of_special_values_goes_every_way_alike(cli, tmp_path, expression):
    """Every pair of GRID (49 points, more than the text table shows) every
    way in and out: found the table's KeyError and autograd's last bit that
    followed the chunk's size (both pinned below)."""
    pairs = [(a, b) for a in GRID for b in GRID]
    columns = {"x": [p[0] for p in pairs], "y": [p[1] for p in pairs]}
    case = Case(expression, ["x", "y"], None, 1, "float64", columns, set())
    check_same(*answers_every_way(cli, tmp_path, case))


# The discrepancies the harness (and its hunts) found, each pinned on its own.


def test_the_one_point_drivers_cap_counts_a_whole_run_in_every_format(cli, tmp_path, monkeypatch):
    """MAX_ONE_BY_ONE is a run's: it was counted afresh for each chunk of the
    CLI's stream, so a Parquet file of several row groups (a chunk each) had
    more rows decided one by one than the same rows as CSV or in
    gradcalc.points, and other statuses. sqrt(relu(x)) at -1: SymPy's float64
    formula is 0/0 (undefined), the one-point driver's limit is 0 (agree)."""
    from gradcalc import batch

    monkeypatch.setattr(batch, "MAX_ONE_BY_ONE", 1)
    xs = [-1.0, 1.0, -1.0]
    expected = ["agree", "agree", "undefined"]  # the first decided, the second past the cap
    files = write_inputs(tmp_path, ["x"], {"x": xs}, set())
    for name in ("csv", "parquet", "arrow-stream"):
        path, extra = files[name]
        run = cli("diff", "sqrt(relu(x))", "--points", str(path), "--format", "csv", *extra)
        assert from_csv(run.stdout)["status"] == expected, name
        assert run.exit_code == 3, name
    answers = gradcalc.points("sqrt(relu(x))", pd.DataFrame({"x": xs}))
    assert answers["status"].tolist() == expected


# The bad-input side: a bad cell in the third point (after two good ones) of
# y, in every format. (CSV text, JSON Lines text, a columnar file's values.)
BAD_CELLS = {
    "text": ("abc", '"abc"', pa.array(["1", "2", "abc", "4"])),
    "nan": ("nan", "NaN", pa.array([1.0, 2.0, math.nan, 4.0])),
    "inf": ("inf", "Infinity", pa.array([1.0, 2.0, math.inf, 4.0])),
    "-inf": ("-inf", "-Infinity", pa.array([1.0, 2.0, -math.inf, 4.0])),
    "null": ("", "null", pa.array([1.0, 2.0, None, 4.0])),
    "empty": (" ", '""', pa.array([1.0, 2.0, None, 4.0])),
    "overflow": ("1e999", "1e999", None),
}
# Where the third point is: a CSV's line 4 (the header is line 1), JSON
# Lines' line 3, a table's row 3, in Parquet's second row group of two rows.
WHERE = {
    "csv": "line 4",
    "jsonl": "line 3",
    "parquet": "row 3 (row group 2)",
    "arrow-file": "row 3",
    "arrow-stream": "row 3",
}
SHAPE = re.compile(
    r"gradcalc: error: (?P<file>\S+) (?P<where>(line|row) \d+( \(row group \d+\))?): "
    r"y=(?P<shown>\S+) is not a (finite )?number.*"
)


def _bad_files(tmp_path, kind):
    text, json_text, column = BAD_CELLS[kind]
    good = {"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 4.0]}
    files = write_inputs(tmp_path, ["x", "y"], good, set())
    rows = ["1.0,1.0", "2.0,2.0", f"3.0,{text}", "4.0,4.0"]
    files["csv"][0].write_text("x,y\n" + "\n".join(rows) + "\n")
    lines = [f'{{"x": {i}.0, "y": {json_text if i == 3 else f"{i}.0"}}}' for i in range(1, 5)]
    files["jsonl"][0].write_text("\n".join(lines) + "\n")
    if column is None:  # no such value in a table
        return {name: files[name] for name in ("csv", "jsonl")}
    table = pa.table({"x": pa.array(good["x"]), "y": column})
    pq.write_table(table, files["parquet"][0], row_group_size=2)
    feather.write_feather(table, files["arrow-file"][0])
    stream = pa.OSFile(str(files["arrow-stream"][0]), "wb")
    with stream as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=2)
    return files


@pytest.mark.parametrize("kind", list(BAD_CELLS))
def test_a_bad_cell_is_named_alike_in_every_format(cli, tmp_path, kind):
    """Exit 2, one line naming the file, the line (row, row group) and the
    column, worded alike; the two points before it answered first."""
    shown = set()
    for name, (path, extra) in _bad_files(tmp_path, kind).items():
        run = cli("diff", "x*y", "--points", str(path), "--format", "csv", *extra)
        assert run.exit_code == 2, (name, run.stderr)
        assert len(run.stderr.splitlines()) == 1, (name, run.stderr)
        error = run.stderr.strip()
        if kind == "text" and name not in ("csv", "jsonl"):
            # A column of text in a table is refused by its type, before any
            # row (docs/many-points.md): named by the file and the column.
            assert error == f"gradcalc: error: {path}: column y holds string, not numbers"
            assert run.stdout == ""
            continue
        match = SHAPE.fullmatch(error)
        assert match, (name, error)
        assert (match["file"], match["where"]) == (str(path), WHERE[name]), error
        shown.add(match["shown"])
        assert [row.split(",")[1:3] for row in run.stdout.splitlines()[1:]] == [
            ["1.0", "1.0"],
            ["2.0", "2.0"],
        ], name
        # --json: the same message as an error document, after the same points.
        run = cli("diff", "x*y", "--points", str(path), "--json", *extra)
        *points, last = run.stdout.splitlines()
        assert json.loads(last)["error"] == {"kind": "point", "message": error[17:]}, name
        assert [json.loads(p)["point"] for p in points] == [
            {"x": 1.0, "y": 1.0},
            {"x": 2.0, "y": 2.0},
        ]
    # A value is shown as its format spells it: the same word where they agree.
    if kind in ("nan", "inf", "-inf", "null", "overflow"):
        assert len(shown) == 1 or kind == "null", shown


@pytest.mark.parametrize(
    ("columns", "said"),
    [
        (["x"], "the points give no column for y"),
        (
            ["x", "y", "z"],
            "the points name z, not variables of the expression (its variables: x, y)",
        ),
        (["x", "y", "x"], "x appears twice"),
    ],
    ids=["missing", "extra", "twice"],
)
def test_a_bad_column_is_named_alike_in_every_format(cli, tmp_path, columns, said):
    """A missing, an extra or a repeated column: exit 2, one line naming the
    file and where the names were read, no point answered."""
    text = ",".join(columns) + "\n" + ",".join(["1.0"] * len(columns)) + "\n"
    (tmp_path / "p.csv").write_text(text)
    pairs = ", ".join(f'"{n}": 1.0' for n in columns)
    (tmp_path / "p.jsonl").write_text("{" + pairs + "}\n")
    table = pa.Table.from_arrays([pa.array([1.0])] * len(columns), names=columns)
    pq.write_table(table, tmp_path / "p.parquet")
    feather.write_feather(table, tmp_path / "p.arrow")
    where = {"csv": "line 1", "jsonl": "line 1", "parquet": "column names", "arrow": "column names"}
    for extension, place in where.items():
        path = tmp_path / f"p.{extension}"
        run = cli("diff", "x*y", "--points", str(path), "--format", "csv")
        assert run.exit_code == 2, run.stderr
        assert run.stderr == f"gradcalc: error: {path} {place}: {said}\n"
        assert run.stdout == ""
    run = cli("diff", "x*y", "--points", "-", "--format", "csv", input=text)
    assert run.stderr == f"gradcalc: error: stdin line 1: {said}\n"


def test_a_masked_element_is_a_missing_value_as_a_null_is(tmp_path):
    """A masked element of a numpy masked array in a dict is a missing value,
    refused as a null in any table and in a Parquet file is; its hidden value
    (3.0 here) was answered as if it were there."""
    y = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, False, True])
    x = np.array([1.0, 2.0, 3.0])
    for data in (
        {"x": x, "y": y},
        pa.table({"x": x, "y": pa.array([1.0, 2.0, None])}),
        pd.DataFrame({"x": x, "y": pd.array([1.0, 2.0, None], dtype="Float64")}),
        pl.DataFrame({"x": x, "y": [1.0, 2.0, None]}),
    ):
        with pytest.raises(PointError) as error:
            gradcalc.points("x*y", data)
        assert str(error.value) == "points row 3: y=null is not a number"
    # Masked nowhere: its values, as a plain array's.
    unmasked = {"x": x, "y": np.ma.masked_array([1.0, 2.0, 3.0], mask=False)}
    assert gradcalc.points("x*y", unmasked)["f"].tolist() == [1.0, 4.0, 9.0]


def test_a_dataframes_index_stored_in_parquet_is_not_a_column(cli, tmp_path):
    """A DataFrame filtered (its index no longer a range) and written with
    to_parquet stores its index as a column, `__index_level_0__`, named in the
    pandas metadata: --points refused the file for that column ('is not a
    variable name') where gradcalc.points answers the same DataFrame, whose
    index is no point. Now each reads the points alone, in every format."""
    frame = pd.DataFrame({"x": [-1.0, 0.5, 2.0, -2.0, 3.0], "y": [1.0, 2.0, 0.0, 5.0, -1.0]})
    kept = frame[frame.x > 0]  # index 1, 2, 4: no range
    expected = gradcalc.points("x*y + log(x)", kept)
    parquet, arrow = tmp_path / "kept.parquet", tmp_path / "kept.arrow"
    kept.to_parquet(parquet)
    assert "__index_level_0__" in pq.read_schema(parquet).names
    feather.write_feather(pa.Table.from_pandas(kept), arrow)
    for path in (parquet, arrow):
        run = cli("diff", "x*y + log(x)", "--points", str(path), "--format", "csv")
        assert run.exit_code == 0, run.stderr
        assert from_csv(run.stdout) == from_table(expected.reset_index(drop=True)), path
    got = gradcalc.points("x*y + log(x)", pa.Table.from_pandas(kept))
    assert from_table(got) == from_table(expected.reset_index(drop=True))
    # An index named after a variable is still no column of points.
    indexed = tmp_path / "indexed.parquet"
    kept.set_index("y").to_parquet(indexed)
    run = cli("diff", "x*y", "--points", str(indexed), "--format", "csv")
    said = f"{indexed} column names: the points give no column for y"
    assert run.stderr == f"gradcalc: error: {said}\n"


def _many_points(count):
    """`count` points of x and y: uniform, with exact kinks, -0.0, poles and
    values past exp's range mixed in."""
    rng = np.random.default_rng(28)
    x, y = rng.uniform(-5, 5, count), rng.uniform(-3, 3, count)
    x[::97], y[::89], x[5::101], x[7::131] = 0.0, 0.0, -0.0, 800.0
    x[11::151] = 5e-324
    return x, y


def test_real_processes_give_the_api_s_answers(tmp_path):
    """Real processes (the helper process takes autograd, the quick pass and
    some writing): CSV in, --format csv and --json out, bit for bit
    gradcalc.points' answers in this process, statuses and exit code too."""
    expression = "x*sin(y) + abs(x)*exp(x) + 1/y"
    x, y = _many_points(3000)
    source = tmp_path / "points.csv"
    source.write_text("x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(x.tolist(), y.tolist())))
    expected = from_table(gradcalc.points(expression, {"x": x, "y": y}))
    as_csv = run_subprocess("diff", expression, "--points", str(source), "--format", "csv")
    as_json = run_subprocess("diff", expression, "--points", str(source), "--json")
    statuses = expected["status"]
    assert {"agree", "not_differentiable", "undefined"} <= set(statuses)
    for run, read in ((as_csv, from_csv), (as_json, lambda t: from_ndjson(t, list(expected)))):
        assert run.returncode == expected_exit(statuses), run.stderr
        _compare(expected, read(run.stdout), "real process", lines_differ=True)


def test_a_real_process_answers_the_rows_before_a_bad_one(tmp_path):
    """A bad value in the second row group of a Parquet file, in a real
    process: the rows before it written (those of its own row group too),
    then one line naming file, row, row group and column, exit 2."""
    x, y = _many_points(10)
    y[7] = math.nan
    source = tmp_path / "points.parquet"
    pq.write_table(pa.table({"x": x, "y": y}), source, row_group_size=4)
    run = run_subprocess("diff", "x*y", "--points", str(source), "--format", "csv")
    assert run.returncode == 2
    assert (
        run.stderr
        == f"gradcalc: error: {source} row 8 (row group 2): y=nan is not a finite number\n"
    )
    expected = from_table(gradcalc.points("x*y", {"x": x[:7], "y": y[:7]}))
    assert from_csv(run.stdout) == expected


def test_the_table_names_a_reason_between_its_first_and_last_rows(cli, tmp_path):
    """The text table keeps its first and last rows and the first reasons;
    a point that does not agree between those rows (here the 20th of 40, a
    kink) crashed it (internal error, exit 70, KeyError) where --format csv
    answers it. Now its reason is named by its line, and the exit code is 1."""
    count = 4 * HEAD
    xs = [float(n) for n in range(1, count + 1)]
    xs[count // 2 - 1] = 0.0  # abs's kink, line count // 2 + 1 (the header is line 1)
    files = write_inputs(tmp_path, ["x"], {"x": xs}, set())
    path = str(files["csv"][0])
    run = cli("diff", "abs(x)", "--points", path, env=WIDE)
    assert run.exit_code == 1, run.stderr
    assert f"\nline {count // 2 + 1}: not differentiable here (at abs(x))" in run.stdout
    assert f"{count} points: {count - 1} agree, 1 not differentiable" in run.stdout
    statuses = from_csv(cli("diff", "abs(x)", "--points", path, "--format", "csv").stdout)["status"]
    assert statuses.count("not_differentiable") == 1


def test_autograd_does_not_depend_on_the_chunk_a_point_falls_in(cli, tmp_path):
    """torch computes whole groups of elements in vector registers and the
    rest one by one, with other code for pow (Sleef's against the C
    library's) that can differ in the last bit: x**y's autograd at (2, 0.5)
    was one value in a CSV file of 16 points (a group) and another from a
    Parquet file of row groups of 3 (each one by one), or a Dask partition as
    small. Each chunk's autograd pass is padded to a whole number of groups."""
    points = [(2.0, 0.5), (2.0, -2.5), (0.5, 0.5), (3.0, 1.5)] * 4
    columns = {"x": [p[0] for p in points], "y": [p[1] for p in points]}
    files = write_inputs(tmp_path, ["x", "y"], columns, set())
    pq.write_table(pa.table(columns), files["parquet"][0], row_group_size=3)
    answers = {}
    for name in ("csv", "parquet"):
        run = cli("diff", "x**y", "--points", str(files[name][0]), "--format", "csv")
        assert run.exit_code == 0, run.stderr
        answers[name] = from_csv(run.stdout)
    for size in (16, 3, 1):  # partitions of these sizes, as Dask would hand them
        parts = [
            gradcalc.points("x**y", pd.DataFrame(columns).iloc[start : start + size])
            for start in range(0, 16, size)
        ]
        answers[f"partitions of {size}"] = from_table(pd.concat(parts))
    for name, got in answers.items():
        for column in ("autograd:x", "autograd:y"):
            assert got[column] == answers["csv"][column], (name, column)
        # (the same point, wherever it falls: four copies of each, alike)
        assert len(set(got["autograd:x"][0::4])) == 1, name


def test_a_table_of_one_row_more_than_it_elides_is_shown_whole(cli, tmp_path):
    """2·HEAD + 1 points are shown whole (eliding one row saves none), but the
    table kept the first and last HEAD rows only: the middle one's line was
    not there (internal error, exit 70, KeyError), for any 21 points. Found
    by the harness (21 points of sin(x**2) at 0)."""
    for count in (2 * HEAD, 2 * HEAD + 1, 2 * HEAD + 2):
        files = write_inputs(tmp_path, ["x"], {"x": [float(n) for n in range(count)]}, set())
        run = cli("diff", "sin(x**2)", "--points", str(files["csv"][0]), env=WIDE)
        assert run.exit_code == 0, (count, run.stderr)
        statuses = table_statuses(run.stdout)
        assert statuses == shown(["agree"] * count), count
        assert len(statuses) == min(count, 2 * HEAD + 1), count
