"""diff --points: many points read from CSV or JSON Lines, answered vectorized."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import HANG_GUARD_SECONDS, ROOT, run_subprocess, validate

from gradcalc.batch import differentiate_many
from gradcalc.errors import PointError
from gradcalc.pointsfile import read


def test_stdin_csv_gives_one_json_line_per_point(cli):
    run = cli("diff", "x**2", "--points", "-", "--json", input="x\n1\n2\n3\n")
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert len(lines) == 3
    documents = [json.loads(line) for line in lines]
    assert [d["gradient"]["x"]["sympy"] for d in documents] == [2.0, 4.0, 6.0]
    assert [d["gradient"]["x"]["autograd"] for d in documents] == [2.0, 4.0, 6.0]
    assert [d["line"] for d in documents] == [2, 3, 4]
    for document in documents:
        validate(document, "diff.schema.json")


def test_ndjson_lines_have_the_fields_of_a_single_diff(cli):
    single = cli("diff", "sin(x*y)", "--at", "x=0.5,y=2", "--json").json
    many = cli("diff", "sin(x*y)", "--points", "-", "--json", input="x,y\n0.5,2\n").json
    assert set(many) - {"line"} == set(single)
    for name in ("x", "y"):
        for key in ("sympy", "autograd"):
            assert many["gradient"][name][key] == pytest.approx(
                single["gradient"][name][key], rel=1e-14
            )


def test_json_lines_input(cli):
    run = cli(
        "diff", "x*y", "--points", "-", "--json", input='{"x": 1, "y": 2}\n\n{"x": 3, "y": -1}\n'
    )
    documents = [json.loads(line) for line in run.stdout.splitlines()]
    assert [d["line"] for d in documents] == [1, 3]
    assert [d["gradient"]["y"]["sympy"] for d in documents] == [1.0, 3.0]


def test_exit_1_with_a_count_when_a_point_is_a_kink(cli):
    run = cli("diff", "abs(x)", "--points", "-", "--json", input="x\n1\n0\n-2\n")
    assert run.exit_code == 1
    documents = [json.loads(line) for line in run.stdout.splitlines()]
    assert [d["status"] for d in documents] == ["agree", "not_differentiable", "agree"]
    (kink,) = documents[1]["kinks"]
    assert kink["left_derivative"] == pytest.approx(-1.0, abs=1e-6)
    assert kink["right_derivative"] == pytest.approx(1.0, abs=1e-6)
    assert documents[1]["differentiable"] is False
    assert "1 not differentiable of 3 points" in run.stderr
    for line in run.stdout.splitlines():
        validate(json.loads(line), "diff.schema.json")


def test_undefined_point_is_strict_json_and_exit_3(cli):
    run = cli("diff", "log(x)", "--points", "-", "--json", input="x\n1\n0\n")
    assert run.exit_code == 3
    assert "Infinity" not in run.stdout and "NaN" not in run.stdout
    second = json.loads(run.stdout.splitlines()[1])
    assert second["status"] == "undefined" and second["value"] is None
    assert second["value_nonfinite"] == "-inf"
    validate(second, "diff.schema.json")


@pytest.mark.parametrize(
    "text, words",
    [
        ("x\n1\nfoo\n", "line 3: x='foo' is not a number"),
        ("x,y\n1,2\n3\n", "line 3: 1 values, but the header names 2"),
        ("x\n1\nnan\n", "line 3: x=nan is not a finite number"),
        ('{"x": 1}\n{"x": "a"}\n', 'line 2: x="a" is not a number'),
        ('{"x": 1}\n{"y": 2}\n', "line 2: names"),
        ('{"x": 1}\n[1]\n', "line 2: expected an object"),
        ("x\n", "a header but no points"),
        ("", "no points"),
        ("1x\n2\n", "is not a variable name"),
    ],
)
def test_bad_lines_are_named(text, words):
    with pytest.raises(PointError) as caught:
        read(text)
    assert words in caught.value.message


def test_bad_input_file_exits_2(cli, tmp_path):
    run = cli("diff", "x", "--points", str(tmp_path / "missing.csv"), "--json")
    assert run.exit_code == 2
    validate(run.json, "error.schema.json")
    wrong = cli("diff", "x", "--points", "-", input="y\n1\n")
    assert wrong.exit_code == 2 and "no column for x" in wrong.stderr
    both = cli("diff", "x", "--points", "-", "--at", "1", input="x\n1\n")
    assert both.exit_code == 2


def test_many_points_match_single_points():
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(0.1, 3, 200), rng.uniform(-2, 2, 200)
    text = "x,y\n" + "\n".join(f"{a!r},{b!r}" for a, b in zip(xs.tolist(), ys.tolist()))
    many = differentiate_many("sin(x**2)*y + log(x)*exp(y/3)", read(text))
    assert many.counts() == {"agree": 200}
    dx = 2 * xs * np.cos(xs**2) * ys + np.exp(ys / 3) / xs
    dy = np.sin(xs**2) + np.log(xs) * np.exp(ys / 3) / 3
    for partial, expected in zip(many.partials, (dx, dy)):
        np.testing.assert_allclose(partial.sympy, expected, rtol=1e-12)
        np.testing.assert_allclose(partial.autograd, expected, rtol=1e-12)
        np.testing.assert_allclose(partial.finite_difference, expected, rtol=1e-7, atol=1e-9)


def test_chunks_do_not_change_the_answer(monkeypatch):
    import gradcalc.batch as batch

    text = "x\n" + "\n".join(str(v) for v in np.linspace(-2, 2, 101))
    whole = differentiate_many("x**3 - relu(x)", read(text))
    monkeypatch.setattr(batch, "CHUNK", 7)
    chunked = differentiate_many("x**3 - relu(x)", read(text))
    np.testing.assert_array_equal(whole.partials[0].autograd, chunked.partials[0].autograd)
    assert list(whole.codes) == list(chunked.codes)


def test_reductions_are_per_point_and_detach_holds():
    many = differentiate_many("mean(x**2) + x*detach(x)", read("x\n1\n2\n3\n"))
    np.testing.assert_array_equal(many.partials[0].autograd, [3.0, 6.0, 9.0])
    np.testing.assert_allclose(many.partials[0].finite_difference, [3.0, 6.0, 9.0], rtol=1e-9)


def test_table_output_summarises(cli):
    text = "x\n" + "\n".join(str(v) for v in range(1, 41))
    run = cli("diff", "x**2", "--points", "-", input=text)
    assert run.exit_code == 0
    assert "40 points: 40 agree" in run.stdout
    assert "…" in run.stdout
    assert "\x1b[" not in run.stdout


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_readme_jq_pipeline():
    """The README's pipeline, run for real."""
    readme = (ROOT / "README.md").read_text()
    command = next(
        line[2:] for line in readme.splitlines() if line.startswith("$ printf") and "| jq" in line
    )
    gradcalc = f"{sys.executable} -m gradcalc"
    process = subprocess.run(
        command.replace("gradcalc", gradcalc, 1).replace("| gradcalc", f"| {gradcalc}"),
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=HANG_GUARD_SECONDS,
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.split() == ["2", "4", "6"]


def test_piped_output_has_no_escape_codes(cli):
    # In-process, its output is a pipe as well (a real one: test_cli's
    # test_subprocess_no_colour_when_piped); no NO_COLOR here.
    run = cli("diff", "x**2", "--points", "-", input="x\n1\n2\n", env={"TERM": "xterm-256color"})
    assert "\x1b[" not in run.stdout
    assert run.exit_code == 0, run.stderr
    assert run.stdout.count("✓") == 2  # one verdict mark per point


@pytest.mark.parametrize("chunk", [7, 1000])  # 7: several chunks
def test_ndjson_fast_lines_equal_full_documents(chunk):
    """The template writer (orjson numbers) against the full dict writer
    (json.dumps), point by point, in order, with a kink among them."""
    from gradcalc.jsonout import diff_lines, point_document

    values = [-1.5, -1e-05, 0.0, 1e-05, 2.5e16, 3.0] + np.linspace(-2, 2, 37).tolist()
    many = differentiate_many("x**3 - relu(x)", read("x\n" + "\n".join(map(repr, values))))
    lines = b"".join(diff_lines(many, chunk=chunk)).decode().splitlines()
    assert len(lines) == len(values)
    for index, line in enumerate(lines):
        document = json.loads(line)
        assert document == json.loads(json.dumps(point_document(many, index)))
        assert document["point"]["x"] == values[index]
    assert json.loads(lines[2])["status"] == "not_differentiable"  # relu at 0: full writer


def test_points_with_a_timeout_stream_every_line():
    """--points is not held back in memory under --timeout (budget.computed)."""
    process = run_subprocess(
        "diff", "x**2", "--points", "-", "--json", "--timeout", "60", input="x\n1\n2\n3\n"
    )
    assert process.returncode == 0, process.stderr
    assert [json.loads(line)["gradient"]["x"]["sympy"] for line in process.stdout.splitlines()] == [
        2.0,
        4.0,
        6.0,
    ]


def test_plain_numbers_read_exactly_as_float_reads_them():
    """The fast path (orjson's parser) against float(), bit for bit: random
    doubles as repr and as 25 digits, long integers, and the forms JSON does
    not take (left to numpy), -0 among them."""
    import random
    import struct

    rng = random.Random(7)
    texts = [
        "-0",
        "-0.0",
        "1.",
        ".5",
        "+1",
        "007",
        " 2 ",
        "1e-400",
        "123456789012345678901234567890",
    ]
    while len(texts) < 30_000:
        x = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        if np.isfinite(x):
            texts += [repr(x), f"{x:.25e}", str(rng.randint(-(10**30), 10**30))]
    json_only = texts[9:]
    json_only[100:100] = ["-0", "0", "-0e0", "-0.0"]  # -0 is JSON, read as 0 without the check
    for lines in (texts, json_only):  # with the odd forms, and JSON's syntax alone
        got = read("x\n" + "\n".join(lines) + "\n", "points").columns["x"]
        want = np.array([float(t) for t in lines])
        assert got.view(np.int64).tolist() == want.view(np.int64).tolist()


# Rows whose finite differences could not check the agreement are decided by
# the one-point driver: a row's verdict is the single point's (its SymPy value
# the 30-digit one, not float64's, which cancellation spoils like autograd's).
FLOAT64_ROUNDING = 1e-15  # a formula evaluated in float64 against its 30-digit value
CANCELLING = [
    ("(x+0.1)**3 - x**3", [1e10, 1.0, -3e9]),
    ("(x+1)**2 - x**2", [1e12, 2.0]),
    ("sin(x**2)", [3.0, 0.5]),
]


@pytest.mark.parametrize(("expression", "xs"), CANCELLING)
def test_a_rows_verdict_is_the_single_points(cli, expression, xs):
    text = "x\n" + "".join(f"{x!r}\n" for x in xs)
    rows = [
        json.loads(line)
        for line in cli(
            "diff", expression, "--points", "-", "--json", input=text
        ).stdout.splitlines()
    ]
    for x, row in zip(xs, rows):
        single = cli("diff", expression, "--at", f"x={x!r}", "--json").json
        assert row["status"] == single["status"], x
        mine, theirs = row["gradient"]["x"], single["gradient"]["x"]
        if mine["finite_difference_checked"]:  # vectorized: SymPy's formula in float64
            assert mine["sympy"] == pytest.approx(theirs["sympy"], rel=FLOAT64_ROUNDING)
        else:  # decided one by one: the single point's 30-digit value itself
            assert mine["sympy"] == theirs["sympy"], x
