"""Hostile input through the real CLI: the right exit code, one line, strict
JSON, no file written, and an answer from the input's own checks, not from the
time budget (which a test may count on; the wall clock, which a loaded machine
stretches, it may not)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import HANG_GUARD_SECONDS, children_cpu_seconds, run_subprocess

from gradcalc import budget, session
from gradcalc.cli import app
from gradcalc.errors import TooLargeError

GROUP = typer.main.get_command(app)  # the app the repl command hands its session

LIMIT = int(TooLargeError.exit_code)  # an input past a size limit (issue 13 makes it 2)

# A real process answers within gradcalc's own CPU budgets: start-up's and
# one computation's (the budget's message would say which ran out).
ANSWER_WITHIN_CPU_SECONDS = budget.STARTUP_CPU_SECONDS + budget.DEFAULT_SECONDS


def _strict(text):
    def refuse(constant):
        raise AssertionError(f"non-strict JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


CASES = [
    # resource bombs
    ("9**9**9", "1", 2),  # no variables: nothing to differentiate
    ("9**9**9*x", "1", 3),
    ("factorial(10**9)", "1", 2),
    ("x**(10**10)", "3", 3),
    ("(10**50)**(10**50)*x", "1", 3),
    ("exp(exp(exp(exp(x))))", "10", 3),
    # past a documented input limit: wrong input (exit 2), not a budget overrun
    ("sin(" * 500 + "x" + ")" * 500, "1", 2),  # past the nesting limit
    ("x" + "+x" * 60000, "1", 2),  # past the length limit
    ("1" * 100 + "*x", "1", 2),  # past the digits limit
    # exact numbers too large to build, refused before they are built
    ("(1/9)**(9**9)*x", "1", LIMIT),
    ("0.1**5000*x", "1", LIMIT),
    ("1e-5000*x", "1", LIMIT),
    ("1e-99999999999999999999*x", "1", LIMIT),
    # ordinary inputs that once were "bugs" (exit 70) or leaked warnings
    ("max(" + ",".join(["x"] * 66) + ")", "1", 0),  # past numpy's 64 operands
    ("x**(10**59)", "1", 0),  # numpy's RuntimeWarning stays off stderr
    # code-execution payloads and confusables
    ("__import__('os').system('touch /tmp/gradcalc-hostile')", "1", 2),
    ("x.__class__", "1", 2),
    ("[x for x in ()]", "1", 2),
    ("lambda: x", "1", 2),
    ("sin(x=1)", "1", 2),
    ("0x10*x", "1", 2),
    ("0o17*x", "1", 2),
    ("0b1*x", "1", 2),
    ("2j*x", "1", 2),
    ("\u0445**2", "1", 2),  # Cyrillic ha
    ("x\u2212 1", "1", 2),  # Unicode minus
    ("I*x", "1", 2),
    ("S(1)*x", "1", 2),
    ("N(x)", "1", 2),
    ("Q*x", "1", 2),
    ("zoo*x", "1", 2),
    ("x['a']", "1", 2),
    ("'x'", "1", 2),
    ("x*\u09ea", "1", 2),  # Bengali four, which looks like 8
    ("x*\U0001d7d7", "1", 2),
    ("x*\uff11", "1", 2),
    ("x*\u30002", "1", 2),
    ("x\xa0+1", "1", 2),
    ("x", "\u09ea", 2),
    ("x", "\u30003", 2),
    ("x", "1_000", 2),
    # non-finite and out-of-domain points
    ("x", "nan", 2),
    ("x", "inf", 2),
    ("x", "-inf", 2),
    ("x", "1e999", 2),
    ("log(x)", "-1", 3),
    ("sqrt(x)", "-1", 3),
    ("x**-1", "0", 3),
    ("x**x", "0", 3),
    ("x**0.5", "-2", 3),
]


def _checked(code, stdout, stderr, expected, tmp_path):
    assert code == expected, stderr
    assert "CPU time" not in stderr + stdout  # answered by the checks, not the budget
    assert "Traceback" not in stderr
    assert stderr.count("\n") <= 1  # an error line, or none for a result
    document = _strict(stdout)
    if expected in (2, 3) and "error" in document:
        assert document["error"]["message"]
    assert not (tmp_path.parent / "gradcalc-hostile").exists()
    return document


@pytest.fixture(scope="module")
def warm():
    from gradcalc.repl import warm_up

    warm_up()  # as the repl does: each answer's child starts with torch imported


@pytest.mark.parametrize("expression, at, code", CASES)
def test_hostile_input(expression, at, code, tmp_path, warm):
    # Each answered as the command line answers it, in a forked child with the
    # same time and memory budget (session.run), without paying for a fresh
    # interpreter per case; the cases below run as real processes too.
    answer = session.run(GROUP, ["diff", expression, "--at", at, "--json"], as_json=True)
    document = _checked(answer.code, answer.stdout, answer.stderr, code, tmp_path)
    assert document.pop("exit_code") == code  # what the session adds to each document


# One of each kind, as a real process: a size limit, an exact number refused,
# a payload, a confusable, a non-finite point, a domain error, a success.
# As real processes too: a size limit, a code payload, a domain error.
IN_A_PROCESS = [
    case
    for case in CASES
    if case[0]
    in (
        "sin(" * 500 + "x" + ")" * 500,
        "__import__('os').system('touch /tmp/gradcalc-hostile')",
        "x**x",
    )
]


@pytest.mark.parametrize("expression, at, code", IN_A_PROCESS)
def test_hostile_input_in_a_real_process(expression, at, code, tmp_path):
    before = children_cpu_seconds()
    process = run_subprocess("diff", expression, "--at", at, "--json")
    assert children_cpu_seconds() - before < ANSWER_WITHIN_CPU_SECONDS
    _checked(process.returncode, process.stdout, process.stderr, code, tmp_path)


DEEP = "sin(" * 399 + "x" + ")" * 399  # its fourth derivative takes minutes


def test_time_budget_ends_a_long_run_with_exit_3_and_json():
    process = run_subprocess(
        "diff", DEEP, "--at", "0.5", "--order", "4", "--json", "--timeout", "0.5"
    )
    assert process.returncode == 3
    error = _strict(process.stdout)["error"]  # one document: the error, nothing else
    assert error["kind"] == "budget" and error["message"] == (
        "computing used more than 0.5 s of CPU time (the time budget; "
        "raise it with --timeout SECONDS, 0 for none)"
    )


def test_timeout_also_bounds_many_points(tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x\n" + "\n".join(str(k / 1000) for k in range(300_000)) + "\n")
    process = run_subprocess(
        "diff", "sin(x**2)", "--points", str(points), "--json", "--timeout", "0.1"
    )
    assert process.returncode == 3
    # The error follows the answers written before the budget ran out.
    last = _strict(process.stdout.splitlines()[-1])
    assert last["error"]["message"].startswith("computing used more than 0.1 s of CPU time")


@pytest.mark.parametrize(
    ("stdin", "words"),
    [
        (" " * 1_000_000 + "x\n", "more than 100000 characters"),  # blanks count
        ("x+" * 60_000 + "x\n", "120002 characters long"),  # the newline too
    ],
)
def test_an_expression_on_stdin_is_bounded_before_it_is_stripped(cli, stdin, words):
    run = cli("diff", "-", "--at", "1", "--json", input=stdin)
    assert run.exit_code == 2
    error = run.json["error"]
    assert error["kind"] == "too_large" and words in error["message"]


def test_an_endless_stdin_is_refused_without_reading_it_all():
    """/dev/zero as the expression: refused after reading what the limit
    allows (a budget-free bound: the run ends by itself, whatever the load)."""
    with open("/dev/zero", "rb") as zero:
        run = subprocess.run(
            [sys.executable, "-m", "gradcalc", "diff", "-", "--at", "1"],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
        )
    assert run.returncode == 2
    assert "more than 100000 characters" in run.stderr


def _shell(command: str) -> subprocess.CompletedProcess:
    """A real process under a shell (for its redirections), the package first on the path."""
    return subprocess.run(
        ["bash", "-c", command.replace("gradcalc", f"{sys.executable} -m gradcalc")],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent)),
    )


@pytest.mark.parametrize(
    ("command", "code", "words"),
    [
        # A file that cannot be read is the input's fault: exit 2, named.
        ("gradcalc diff 'x**2' --points /proc/self/mem", 2, "/proc/self/mem: cannot read it"),
        # The repl's answers that cannot be written: exit 74, as any command's.
        ("printf 'diff x --at 1\\n' | gradcalc repl > /dev/full", 74, "cannot write the output"),
        # An error that cannot be said on stderr still ends with its own code.
        ("gradcalc diff 'log(x)' --at 0 2>/dev/full", 3, ""),
    ],
)
def test_failing_files_and_streams_get_their_documented_code(command, code, words):
    run = _shell(command)
    assert run.returncode == code, run.stderr
    assert words in run.stderr
    assert "internal error" not in run.stderr


def test_points_without_line_ends_are_refused_at_once():
    """--points /dev/zero (no line ever ends): refused past MAX_LINE bytes,
    not read for minutes."""
    from gradcalc.pointsfile import MAX_LINE

    run = _shell("gradcalc diff 'x**2' --points /dev/zero")
    assert run.returncode == 2
    assert f"/dev/zero line 1: longer than {MAX_LINE:,} bytes" in run.stderr


# --- left alone before: stdin's wait, odd characters, a repeated --points ------


def test_timeout_bounds_the_wait_for_an_expression_on_stdin(tmp_path):
    """`diff -` with a stdin that never closes: --timeout bounds the wait (it
    was counted as computing, and ended only by the 60 s wall-clock ceiling)."""
    fifo = tmp_path / "expression"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR)  # holds it open: it never ends
    try:
        with open(fifo, "rb") as stdin:
            before = children_cpu_seconds()
            process = subprocess.run(
                [sys.executable, "-m", "gradcalc", "diff", "-", "--at", "1", "--timeout", "1"],
                stdin=stdin,
                capture_output=True,
                text=True,
                timeout=HANG_GUARD_SECONDS,
            )
    finally:
        os.close(writer)
    assert process.returncode == 3
    assert process.stderr == "gradcalc: error: waited longer than 1 s for input (--timeout)\n"
    assert children_cpu_seconds() - before < ANSWER_WITHIN_CPU_SECONDS


def test_a_no_break_space_gets_a_caret_under_its_escape(cli):
    run = cli("diff", "x\xa0+1", "--at", "1")
    assert run.exit_code == 2
    assert run.stderr == (
        "gradcalc: error: unexpected character '\\xa0' (U+00A0 NO-BREAK SPACE); expressions "
        "are plain ASCII at column 2\n"
        "  x\\xa0+1\n"
        "   ^\n"
    )


@pytest.mark.parametrize("character", ["\u00d7", "\u2212", "\U0001d7d7"])
def test_an_ascii_terminal_is_told_the_real_character(character):
    """Under PYTHONIOENCODING=ascii the ASCII fallback wrote '×' as 'x': the
    error named a character the expression does not hold."""
    import unicodedata

    code = f"U+{ord(character):04X}"
    escape = f"\\u{ord(character):04x}" if ord(character) <= 0xFFFF else f"\\U{ord(character):08x}"
    environment = {"PYTHONIOENCODING": "ascii"}
    text = run_subprocess("diff", f"2{character}x", "--at", "1", env=environment)
    assert text.returncode == 2
    assert text.stderr == (
        f"gradcalc: error: unexpected character '{escape}' ({code} "
        f"{unicodedata.name(character)}); expressions are plain ASCII at column 2\n"
        f"  2{escape}x\n"
        "   ^\n"
    )
    machine = run_subprocess("diff", f"2{character}x", "--at", "1", "--json", env=environment)
    assert machine.stdout.isascii()
    message = json.loads(machine.stdout)["error"]["message"]  # the very character, escaped
    assert message.startswith(f"unexpected character '{character}' ({code} ")


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "x", "--points", "a.csv", "--points", "b.csv"],
        ["diff", "x", "--points=a.csv", "--json", "--points", "-"],
        ["plot", "x", "--points", "a.csv", "--points", "a.csv"],
    ],
)
def test_a_repeated_points_is_refused_not_silently_replaced(cli, args):
    run = cli(*args)
    assert run.exit_code == 2
    line = (
        "--points is given more than once; it reads one source of points (a second would "
        "silently replace the first)"
    )
    if "--json" in args:
        assert run.json["error"] == {"kind": "usage", "message": line}
    assert run.stderr == f"gradcalc: error: {line}\n"


def test_points_once_and_a_value_that_looks_like_points_are_fine(cli, tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("x\n1\n2\n")
    run = cli("diff", "x**2", "--points", str(points), "--json")
    assert run.exit_code == 0
    assert [json.loads(line)["gradient"]["x"]["sympy"] for line in run.stdout.splitlines()] == [
        2.0,
        4.0,
    ]
    # "--points" as the value of another option is not a second --points.
    run = cli("diff", "x", "--at", "--points", "--points", str(points))
    assert run.exit_code == 2 and "more than once" not in run.stderr
