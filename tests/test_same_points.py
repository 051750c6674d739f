"""The same points give the same numbers and statuses whichever way they come
in: CSV, JSON Lines, Parquet and Arrow IPC through `diff --points`, Parquet
out (`--format parquet`), and `gradcalc.points` on pandas, Polars, PyArrow and
a dict; at ordinary points, kinks, undefined points and a disagreement.

Formats are compared with one another number for number (exactly: they must
run the same arithmetic, whatever its speed), and the SymPy column and f
against mpmath at 30 digits with a named tolerance, never against digits
written down from a run."""

import csv
import io
import json
import math

import mpmath
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_frames import dict_of
from test_points_same import arrow_inputs

import gradcalc

SYMPY_VS_MPMATH = 4e-16  # relative: a float64 formula against the 30-digit value, 2 ulps
FD_VS_MPMATH = 1e-6  # relative: central differences on these smooth pieces


def _mp_abs(x):
    return abs(x)


def _mp_log(x):
    return mpmath.log(x)


def _mp_sqrt(x):
    return mpmath.sqrt(x)


def _mp_sqrt4(x):
    return mpmath.sqrt(x**4)


# (expression, its mpmath twin, the points, the statuses a reader expects)
CASES = [
    # A corner at 0: one-sided slopes -1 and 1.
    ("abs(x)", _mp_abs, [-2.0, 0.0, 0.5, 3.0], ["agree", "not_differentiable", "agree", "agree"]),
    # log is undefined at -1 and at 0.
    ("log(x)", _mp_log, [-1.0, 0.5, 2.0, 0.0], ["undefined", "agree", "agree", "undefined"]),
    # sqrt's slope is infinite at 0, and sqrt is undefined at -1.
    ("sqrt(x)", _mp_sqrt, [0.0, 0.25, 4.0, -1.0], ["undefined", "agree", "agree", "undefined"]),
    # torch's sqrt' at 0 times 4x³ = 0 is inf·0 = NaN, SymPy's 2x is 0: a disagreement.
    ("sqrt(x**4)", _mp_sqrt4, [0.0, 1.5, -2.0], ["disagree", "agree", "agree"]),
]
IDS = [case[0] for case in CASES]


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def _from_csv(text):
    header, *rows = list(csv.reader(io.StringIO(text)))
    return {
        name: [row[j] if name == "status" else float(row[j]) for row in rows]
        for j, name in enumerate(header)
    }


def _inputs(tmp_path, xs):
    """The points as each file format the CLI reads: {name: (path, extra args)}."""
    table = pa.table({"x": pa.array(xs, pa.float64())})
    files = {}
    path = tmp_path / "points.csv"
    path.write_text("x\n" + "".join(f"{x!r}\n" for x in xs))
    files["csv"] = (path, [])
    path = tmp_path / "points.jsonl"
    path.write_text("".join(json.dumps({"x": x}) + "\n" for x in xs))
    files["jsonl"] = (path, [])
    files.update(arrow_inputs(tmp_path, table))
    return files


def _frames(xs):
    return {
        "pandas": pd.DataFrame({"x": xs}),
        "polars": pl.DataFrame({"x": xs}),
        "arrow-table": pa.table({"x": xs}),
        "dict": {"x": np.array(xs)},
    }


@pytest.mark.parametrize(("expression", "twin", "xs", "statuses"), CASES, ids=IDS)
def test_every_way_in_gives_the_same_answers(cli, tmp_path, expression, twin, xs, statuses):
    answers = {}
    expected_exit = 3 if "undefined" in statuses else 1 if set(statuses) != {"agree"} else 0
    for name, (path, extra) in _inputs(tmp_path, xs).items():
        run = cli("diff", expression, "--points", str(path), "--format", "csv", *extra)
        assert run.exit_code == expected_exit, (name, run.stderr)
        answers[name] = _from_csv(run.stdout)
    target = tmp_path / "answers.parquet"
    source = str(tmp_path / "points.parquet")
    run = cli("diff", expression, "--points", source, "--format", "parquet", "-o", str(target))
    assert run.exit_code == expected_exit, run.stderr
    answers["parquet-out"] = pq.read_table(target).to_pydict()
    for name, data in _frames(xs).items():
        answers[name] = dict_of(gradcalc.points(expression, data))

    reference = answers.pop("csv")
    assert reference["status"] == statuses
    # The CSV's line numbers are the file's (the header is line 1); a
    # table's are its rows, from 1.
    assert reference["line"] == [n + 2 for n in range(len(xs))]
    for name, got in answers.items():
        assert list(got) == list(reference), name
        # JSON Lines has no header: its lines count as a table's rows do.
        assert [int(n) for n in got["line"]] == [n + 1 for n in range(len(xs))], name
        assert list(got["status"]) == statuses, name
        for column in list(reference)[1:-1]:
            pairs = zip(got[column], reference[column])
            assert all(_same(float(a), b) for a, b in pairs), (name, column)

    # Independently, where f is defined: f and SymPy's derivative against mpmath.
    mpmath.mp.dps = 30
    for i, x in enumerate(xs):
        if statuses[i] == "undefined":
            continue
        assert reference["f"][i] == pytest.approx(float(twin(mpmath.mpf(x))), rel=SYMPY_VS_MPMATH)
        if statuses[i] == "not_differentiable":
            continue  # a corner: no one derivative to compare
        slope = float(mpmath.diff(twin, mpmath.mpf(x)))
        assert reference["sympy:x"][i] == pytest.approx(slope, rel=SYMPY_VS_MPMATH, abs=1e-300)
        if statuses[i] == "agree":
            fd = reference["finite_difference:x"][i]
            assert fd == pytest.approx(slope, rel=FD_VS_MPMATH, abs=FD_VS_MPMATH)
