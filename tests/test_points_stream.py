"""--points reads and answers as it goes: the first answer comes before the
input ends, memory stays bounded, and a points file reads as an editor shows
it (lines end at \\n, numbers are plain ASCII)."""

import json
import os
import select
import subprocess
import sys
import time

import pytest
from conftest import HANG_GUARD_SECONDS, ROOT, run_subprocess

from gradcalc import budget
from gradcalc.errors import PointError
from gradcalc.pointsfile import CHUNK, read


def test_the_first_answer_comes_before_the_input_ends():
    process = subprocess.Popen(
        [sys.executable, "-m", "gradcalc", "diff", "x**2", "--points", "-", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        process.stdin.write(b"x\n3\n")
        process.stdin.flush()  # and the input stays open: more may come
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "no answer while the input is still open"
        assert json.loads(process.stdout.readline())["gradient"]["x"]["sympy"] == 6.0
        process.stdin.write(b"4\n")
        process.stdin.close()
        rest = process.stdout.read()
        assert json.loads(rest)["gradient"]["x"]["sympy"] == 8.0
        assert process.wait(timeout=HANG_GUARD_SECONDS) == 0
    finally:
        process.kill()
        process.wait()


def test_an_input_that_pauses_after_a_full_chunk_gets_its_answers_first():
    """Exactly CHUNK points, then the input stays open: all of them are
    answered before more comes (the chunk was full, yet the input paused
    after it; the answers were held until more input came while the
    helper process imported torch)."""
    import threading

    process = subprocess.Popen(
        [sys.executable, "-m", "gradcalc", "diff", "x**2", "--points", "-", "--format", "csv"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    more = threading.Event()

    def feed() -> None:
        process.stdin.write(b"x\n" + b"".join(b"%d\n" % k for k in range(CHUNK)))
        process.stdin.flush()  # and the input stays open: more may come
        more.wait(HANG_GUARD_SECONDS)
        process.stdin.write(b"-3\n")
        process.stdin.close()

    feeding = threading.Thread(target=feed)
    feeding.start()
    try:
        timer = threading.Timer(60, process.kill)  # answers held: ended, and the test fails
        timer.start()
        rows = [process.stdout.readline() for _ in range(CHUNK + 1)]
        answered_first = not more.is_set()
        more.set()
        rest = process.stdout.read()
        timer.cancel()
        assert answered_first
        assert (
            rows[-1]
            == f"{CHUNK + 1},{CHUNK - 1}.0,{(CHUNK - 1) ** 2}.0,".encode()
            + rows[-1].split(b",", 3)[3]
        )
        assert rest.startswith(f"{CHUNK + 2},-3.0,9.0,-6.0,-6.0,".encode())
        assert process.wait(timeout=HANG_GUARD_SECONDS) == 0
    finally:
        more.set()
        process.kill()
        process.wait()
        feeding.join()


def _peak_megabytes(points: int) -> tuple:
    """Feed `points` points through gradcalc in a fresh process that reports
    its children's peak resident memory (the worker's included)."""
    producer = (
        "import sys\nw = sys.stdout.write\nw('x\\n')\n"
        f"for k in range({points}): w(f'{{k / {points}}}\\n')"
    )
    probe = f"""
import resource, subprocess, sys
producer = subprocess.Popen([sys.executable, "-c", {producer!r}], stdout=subprocess.PIPE)
gradcalc = subprocess.Popen([sys.executable, "-m", "gradcalc", "diff", "sin(x**2)", "--points",
    "-", "--json"], stdin=producer.stdout, stdout=subprocess.PIPE)
producer.stdout.close()
lines = sum(block.count(b"\\n") for block in iter(lambda: gradcalc.stdout.read(1 << 20), b""))
print(gradcalc.wait(), lines, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=1800
    )
    code, lines, megabytes = map(int, output.stdout.split())
    return code, lines, megabytes


BOUND_MB = 430  # torch, SymPy and one chunk; reading it all at once took 496 MB for 10**6


def test_memory_stays_bounded_for_a_million_points():
    code, lines, megabytes = _peak_megabytes(10**6)
    assert (code, lines) == (0, 10**6)
    assert megabytes < BOUND_MB


@pytest.mark.heavy
def test_memory_stays_bounded_for_ten_million_points():
    code, lines, megabytes = _peak_megabytes(10**7)
    assert (code, lines) == (0, 10**7)
    assert megabytes < BOUND_MB


@pytest.mark.parametrize(
    "text, message",
    [
        ("x\n1\x0c\n2\n", "stdin line 2: x='1\\x0c' is not a number"),
        ("x\n1\r2\n3\n", "stdin line 2: x='1\\r2' is not a number"),
        ("x\n1\u20282\n3\n", "stdin line 2: x='1\\u20282' is not a number"),
        ("x\n1_000\n", "stdin line 2: x='1_000' is not a number"),
        ("x\n\u09ea\n", "stdin line 2: x='৪' is not a number"),
        ("x\n\uff11\n", "stdin line 2: x='１' is not a number"),
        ("x\n\u30001\n", "stdin line 2: x='\\u30001' is not a number"),
        ("x\n1\xa0\n", "stdin line 2: x='1\\xa0' is not a number"),
    ],
)
def test_points_files_read_as_an_editor_shows_them(cli, text, message):
    run = cli("diff", "x", "--points", "-", input=text.encode())
    assert run.exit_code == 2
    assert run.stderr == (f"gradcalc: error: {message} (plain ASCII decimals: 1000, -2.5, 1e-3)\n")


def test_an_invisible_character_in_a_real_process():
    process = run_subprocess("diff", "x", "--points", "-", input="x\n1\xa0\n")
    assert process.returncode == 2
    assert process.stderr == (
        "gradcalc: error: stdin line 2: x='1\\xa0' is not a number "
        "(plain ASCII decimals: 1000, -2.5, 1e-3)\n"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"x": 1}\n{"x": 1' + "0" * 400 + "}\n", "line 2: an integer of 401 digits"),
        ('{"x": ' + "9" * 5000 + "}\n", "line 1: an integer of 5000 digits"),
    ],
)
def test_huge_json_integers_are_input_errors(cli, text, message):
    run = cli("diff", "x", "--points", "-", input=text.encode())
    assert run.exit_code == 2
    assert run.stderr == (f"gradcalc: error: stdin {message} is beyond float64's range\n")


def test_a_deeply_nested_json_line_is_an_input_error():
    # A real process: its stack is the one a user's run has.
    process = run_subprocess("diff", "x", "--points", "-", input='{"x": ' + "[" * 100_000 + "\n")
    assert process.returncode == 2
    assert process.stderr == (
        'gradcalc: error: stdin line 1: nested too deeply; a point is a flat object like {"x": 1}\n'
    )


@pytest.mark.parametrize(
    "text", ["\ufeffx\n1\n2\n", "\ufeff" + '{"x": 1}\n{"x": 2}\n', "x\r\n1\r\n2\r\n"]
)
def test_a_byte_order_mark_and_crlf_lines_are_read(text):
    points = read(text, "points")
    assert points.names == ["x"]
    assert points.columns["x"].tolist() == [1.0, 2.0]
    assert points.lines.tolist() == [2, 3] if "{" not in text else [1, 2]


def test_blank_lines_keep_line_numbers():
    points = read("x\n1\n\n \t\n2\n")
    assert points.lines.tolist() == [2, 5]


def test_a_bad_line_after_answers_stops_with_its_error_last(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x\n" + "1\n" * (CHUNK + 10) + "oops\n")
    process = run_subprocess("diff", "x**2", "--points", str(path), "--json")
    lines = process.stdout.splitlines()
    assert process.returncode == 2
    # Every line before the bad one answered (those of its own chunk too), then the error.
    assert len(lines) == CHUNK + 10 + 1
    assert json.loads(lines[-1])["error"]["message"] == (
        f"{path} line {CHUNK + 12}: x='oops' is not a number "
        "(plain ASCII decimals: 1000, -2.5, 1e-3)"
    )


def test_read_names_a_non_utf8_line():
    import io

    from gradcalc.pointsfile import read_chunks

    with pytest.raises(PointError, match=r"^points line 3: not UTF-8 text$"):
        list(read_chunks(io.BytesIO(b"x\n1\n\xff\n"), "points"))


def test_the_table_of_many_points_counts_every_chunk(cli, tmp_path):
    count = CHUNK * 2 + 7
    path = tmp_path / "points.csv"
    path.write_text("x\n" + "\n".join(str(k - 5) for k in range(count)) + "\n")
    started = time.process_time()
    run = cli("diff", "abs(x)", "--points", str(path), env={"NO_COLOR": "1", "COLUMNS": "200"})
    # Within the CPU budget the real CLI gives each of its 3 chunks (not the wall clock).
    assert time.process_time() - started < 3 * budget.DEFAULT_SECONDS
    assert run.exit_code == 1
    out = run.stdout.splitlines()
    assert f"{count} points: {count - 1} agree, 1 not differentiable" in out
    rows = [line for line in out if line.startswith("│")]
    first = rows[0].split("│")[1:-1]
    last = rows[-1].split("│")[1:-1]
    assert first[0].strip() == "2" and first[1].strip() == "-5"
    assert last[0].strip() == str(count + 1) and last[1].strip() == str(count - 6)
    assert run.stderr == f"gradcalc: 1 not differentiable of {count} points\n"
    assert os.path.getsize(path) > 0


@pytest.mark.parametrize(
    ("expression", "text", "line"),
    [
        ("x**2", '{"x": 1, "x": 2}\n', 1),
        ("x*y", '{"x": 0, "y": 0}\n{"x": 1, "y": 2, "x": 3}\n', 2),
        ("x**2", "x,x\n1,2\n", 1),
    ],
)
def test_a_name_given_twice_is_refused_in_either_format(cli, expression, text, line):
    """A JSON Lines point naming x twice is refused as a CSV header naming it
    twice is (json would keep the last value silently)."""
    run = cli("diff", expression, "--points", "-", input=text)
    assert run.exit_code == 2
    assert f"stdin line {line}: x appears twice" in run.stderr


@pytest.mark.parametrize(
    "text, answered, message",
    [
        # CSV: a value that is not finite before a line that does not read: the first is named.
        ("x\n1\n2\nnan\noops\n", 2, "stdin line 4: x=nan is not a finite number"),
        ("x\n1\n\n2\n3,4\n", 2, "stdin line 5: 2 values, but the header names 1"),
        ('{"x": 1}\n{"x": 2}\n{"x": Infinity}\n', 2, "stdin line 3: x=inf is not a finite number"),
        ('{"x": 1}\n{"y": 2}\n', 1, "stdin line 2: names ['y'] differ from the first line's ['x']"),
        (
            "x\noops\n",
            0,
            "stdin line 2: x='oops' is not a number (plain ASCII decimals: 1000, -2.5, 1e-3)",
        ),
    ],
)
def test_the_lines_before_a_bad_one_in_its_chunk_are_answered_first(cli, text, answered, message):
    """As a Parquet file's rows before a bad value are: every good line before
    the first bad one is answered, then that line's error (exit 2)."""
    run = cli("diff", "x**2", "--points", "-", "--format", "csv", input=text)
    assert run.exit_code == 2
    rows = run.stdout.splitlines()[1:]
    assert [float(row.split(",")[1]) for row in rows] == [float(k) for k in range(1, answered + 1)]
    assert run.stderr == f"gradcalc: error: {message}\n"


@pytest.mark.parametrize("ending, comma", [("\n", ","), ("\r\n", ", "), ("\n", " ,\t")])
def test_rows_read_at_once_or_line_by_line_give_the_same_answers(cli, ending, comma):
    """x*y at 2,000 points: rows of plain numbers only (their block read at
    once, as a table) and the same rows with a blank line and a line of
    spaces among them (that block read line by line) give each point its
    exact x and y, f = x*y and the gradient (y, x) by hand, and its line
    number as an editor counts it."""
    import random

    rng = random.Random(3)
    points = [(rng.uniform(-9, 9), rng.uniform(-9, 9)) for _ in range(2000)]
    rows = [f"{x!r}{comma}{y!r}" for x, y in points]
    for blanks in ([], [700, 1501]):
        lines = ["x,y", *rows]
        for at in blanks:
            lines.insert(at, "  " if at % 2 else "")
        text = ending.join(lines) + ending
        run = cli("diff", "x*y", "--points", "-", "--format", "csv", input=text)
        assert run.exit_code == 0, run.stderr
        out = [row.split(",") for row in run.stdout.splitlines()[1:]]
        numbers = [n for n, line in enumerate(lines, start=1) if n > 1 and line.strip()]
        assert [int(row[0]) for row in out] == numbers
        got = [tuple(float(row[k]) for k in (1, 2, 3, 4, 7)) for row in out]
        assert got == [(x, y, x * y, y, x) for x, y in points]
