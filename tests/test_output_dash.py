"""`--output -` is standard output for every command that has --output (diff
--points, emit, plot), never a file named `-`: text forms as without
--output, binary forms (Parquet, PNG, PDF) only when stdout is not a
terminal; --force does not matter."""

import io
import os
import pty
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from conftest import HANG_GUARD_SECONDS

POINTS = "x,y\n1.5,2\n0,1\n-2,-1\n3,0.5\n"
EXPRESSION = "abs(x)*y + log(y)"  # agree, a kink, undefined: exit 3


def _gradcalc(*args, stdout=subprocess.PIPE):
    """A real run (bytes out) in the current directory (a test's own)."""
    return subprocess.run(
        [sys.executable, "-m", "gradcalc", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=HANG_GUARD_SECONDS,
    )


def _on_a_terminal(*args):
    """A real run whose stdout is a terminal (a pseudo-terminal): its exit
    code, stderr, and what reached the terminal."""
    leader, follower = pty.openpty()
    try:
        process = _gradcalc(*args, stdout=follower)
    finally:
        os.close(follower)
    shown = b""
    try:
        while chunk := os.read(leader, 1 << 16):
            shown += chunk
    except OSError:  # EIO: the terminal's other end is closed
        pass
    os.close(leader)
    return process.returncode, process.stderr.decode(), shown


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A working directory of its own, holding points.csv, so that a file
    named '-' written by mistake would show."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "points.csv").write_text(POINTS)
    return tmp_path


@pytest.mark.parametrize("form", [["--format", "csv"], ["--json"]])
def test_diff_points_text_forms_go_to_stdout(cli, here, form):
    plain = cli("diff", EXPRESSION, "--points", "points.csv", *form)
    dash = cli("diff", EXPRESSION, "--points", "points.csv", *form, "--output", "-")
    assert dash.exit_code == plain.exit_code == 3
    assert dash.stdout == plain.stdout != ""
    assert sorted(os.listdir(here)) == ["points.csv"]  # no file named '-'


def test_an_existing_file_named_dash_is_left_alone_without_force(cli, here):
    (here / "-").write_text("keep me\n")
    for args in (
        ["diff", EXPRESSION, "--points", "points.csv", "--format", "csv", "-o", "-"],
        ["emit", "x**2", "--to", "numpy", "-o", "-"],
    ):
        run = cli(*args)
        assert run.exit_code in (0, 3), run.stderr
        assert run.stdout != "" and "exists" not in run.stderr
    assert (here / "-").read_text() == "keep me\n"


def test_emit_code_goes_to_stdout(cli, here):
    plain = cli("emit", "sin(x)*y", "--to", "numpy")
    dash = cli("emit", "sin(x)*y", "--to", "numpy", "--output", "-", "--force")
    assert dash.exit_code == plain.exit_code == 0
    assert dash.stdout == plain.stdout
    assert "def value_and_grad" in dash.stdout
    assert sorted(os.listdir(here)) == ["points.csv"]


def test_diff_parquet_to_a_pipe_is_the_files_table(here):
    file = _gradcalc(
        "diff", EXPRESSION, "--points", str(here / "points.csv"), "--format", "parquet",
        "-o", str(here / "answers.parquet"),
    )  # fmt: skip
    piped = _gradcalc(
        "diff", EXPRESSION, "--points", str(here / "points.csv"), "--format", "parquet", "-o", "-"
    )
    assert piped.returncode == file.returncode == 3, piped.stderr
    assert piped.stderr == file.stderr
    assert piped.stdout == (here / "answers.parquet").read_bytes()  # byte for byte
    from_pipe = pq.read_table(io.BytesIO(piped.stdout))
    assert from_pipe.column("status").to_pylist() == [
        "agree", "not_differentiable", "undefined", "agree",
    ]  # fmt: skip
    assert sorted(os.listdir(here)) == ["answers.parquet", "points.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["diff", "x**2", "--points", "{points}", "--format", "parquet", "-o", "-"],
            "--format parquet is a binary file, never written to a terminal: give --output "
            "FILE, or --output - with stdout redirected",
        ),
        (
            ["diff", "x**2", "--points", "{points}", "--format", "parquet"],
            "--format parquet is a binary file, never written to a terminal: give --output "
            "FILE, or --output - with stdout redirected",
        ),
        (
            ["plot", "x**2", "--at", "1", "-o", "png:-"],
            "a PNG image is a binary file, never written to a terminal: give --output FILE, "
            "or --output png:- with stdout redirected",
        ),
    ],
)
def test_binary_forms_are_refused_on_a_terminal(here, args, message):
    code, stderr, shown = _on_a_terminal(*[a.format(points="points.csv") for a in args])
    assert code == 2
    assert stderr == f"gradcalc: error: {message}\n"
    assert shown == b""
    assert sorted(os.listdir(here)) == ["points.csv"]


def test_parquet_without_output_on_a_pipe_says_how(cli):
    run = cli("diff", "x**2", "--points", "-", "--format", "parquet", input="x\n1\n")
    assert run.exit_code == 2
    assert run.stderr == (
        "gradcalc: error: --format parquet is a binary file: give --output FILE, "
        "or --output - for stdout\n"
    )


@pytest.mark.parametrize("kind", ["svg", "png", "pdf"])
def test_plot_image_on_stdout_is_the_files_bytes(here, kind):
    target = here / f"plot.{kind}"
    to_file = _gradcalc("plot", "abs(x)", "--at", "0", "--range", "-1:1", "-o", str(target))
    dash = "-" if kind == "svg" else f"{kind}:-"
    piped = _gradcalc("plot", "abs(x)", "--at", "0", "--range", "-1:1", "-o", dash)
    assert piped.returncode == to_file.returncode == 1  # a kink: not differentiable
    # The verdict a picture cannot show, on stderr (its exit code's reason).
    assert piped.stderr == to_file.stderr
    assert piped.stderr.startswith(b"gradcalc: not differentiable: ")
    assert piped.stderr.count(b"\n") == 1
    assert piped.stdout == target.read_bytes()  # the images are deterministic
    assert piped.stdout.startswith({"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[kind])
    assert sorted(os.listdir(here)) == sorted(["points.csv", target.name])


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["plot", "x**2", "--at", "1", "-o", "png:-"],
        ["plot", "x**2", "--at", "1", "-o", "-"],
        ["diff", "x*y", "--points", "points.csv", "--format", "parquet", "-o", "-"],
        ["emit", "x**2", "--to", "numpy", "-o", "-"],
    ],
)
def test_a_full_disk_on_stdout_is_an_output_error(here, args):
    with open("/dev/full", "wb") as full:
        process = _gradcalc(*args, stdout=full)
    assert process.returncode == 74  # ExitCode.OUTPUT, not an internal error
    assert process.stderr == b"gradcalc: error: cannot write the output: No space left on device\n"


def test_parquet_on_stdout_stops_at_a_bad_point_after_the_rows_before_it(here):
    import pyarrow as pa

    pq.write_table(pa.table({"x": [1.0, 2.0, None, 4.0]}), here / "bad.parquet")
    piped = _gradcalc("diff", "x**2", "--points", "bad.parquet", "--format", "parquet", "-o", "-")
    assert piped.returncode == 2
    assert (
        piped.stderr
        == b"gradcalc: error: bad.parquet row 3 (row group 1): x=null is not a number\n"
    )
    answered = pq.read_table(io.BytesIO(piped.stdout)).to_pydict()
    assert answered["line"] == [1, 2] and answered["sympy:x"] == [2.0, 4.0]  # 2x, exact
