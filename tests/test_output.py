"""No output ever lost: a failed write is an error with one line and exit 74,
a closed pipe ends the run as SIGPIPE ends `yes | head -1`, closed standard
streams are survived, and a terminal that cannot show Unicode gets ASCII."""

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import HANG_GUARD_SECONDS, ROOT, validate

from gradcalc.errors import ExitCode

DEV_FULL = "/dev/full"
FULL_LINE = "gradcalc: error: cannot write the output: No space left on device\n"


def _run(args, stdout=None, stdin=subprocess.DEVNULL, env=None, **extra):
    return subprocess.run(
        [sys.executable, "-m", "gradcalc", *args],
        stdin=stdin,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, **(env or {})),
        timeout=HANG_GUARD_SECONDS,
        **extra,
    )


@pytest.mark.skipif(not os.path.exists(DEV_FULL), reason="no /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["diff", "sin(x**2)", "--at", "3"],
        ["diff", "sin(x**2)", "--at", "3", "--json", "--no-autograd"],  # the JSON writer
        ["graph", "sin(x**2)", "--at", "3", "-f", "dot"],
        ["functions"],
        ["--version"],
        ["--help"],
        ["diff", "--help"],
    ],
)
def test_a_full_disk_is_an_error_not_a_silent_success(args):
    with open(DEV_FULL, "w") as full:
        process = _run(args, stdout=full)
    assert process.returncode == ExitCode.OUTPUT == 74
    assert process.stderr == FULL_LINE


@pytest.mark.skipif(not os.path.exists(DEV_FULL), reason="no /dev/full")
def test_many_points_to_a_full_disk_is_one_line_not_a_traceback():
    with open(DEV_FULL, "w") as full:
        process = _run(
            ["diff", "x**2", "--points", "-", "--json"],
            stdout=full,
            stdin=None,
            input="x\n" + "\n".join(str(k) for k in range(20_000)) + "\n",
        )
    assert process.returncode == 74
    assert process.stderr == FULL_LINE


def _closed(fd: int, args: list, input_text=None):
    """Run gradcalc from a shell with descriptor `fd` closed."""
    redirect = {0: "<&-", 1: ">&-", 2: "2>&-"}[fd]
    words = " ".join(f"'{a}'" for a in args)
    return subprocess.run(
        ["sh", "-c", f"{sys.executable} -m gradcalc {words} {redirect}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=HANG_GUARD_SECONDS,
    )


def test_closed_stdout_is_one_line_and_74():
    process = _closed(1, ["diff", "x**2", "--points", "-", "--json"])
    assert process.returncode == 74
    assert process.stderr == (
        "gradcalc: error: cannot write the output: standard output is closed\n"
    )


def test_closed_stderr_does_not_spoil_a_success():
    # --no-autograd: the streams are the point, not torch's second of importing
    process = _closed(2, ["diff", "sin(x**2)", "--at", "3", "--json", "--no-autograd"])
    assert process.returncode == 0
    assert json.loads(process.stdout)["agree"] is True


def test_closed_stdin_for_points_is_an_input_error():
    process = _closed(0, ["diff", "x**2", "--points", "-"])
    assert process.returncode == 2
    assert process.stderr == "gradcalc: error: --points -: standard input is closed\n"


def _piped_to_head(args, input_text=None):
    """gradcalc | head -1: gradcalc's own status, stderr and the line head saw."""
    producer = subprocess.Popen(
        [sys.executable, "-m", "gradcalc", *args],
        stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    head = subprocess.Popen(["head", "-1"], stdin=producer.stdout, stdout=subprocess.PIPE)
    producer.stdout.close()  # head holds the only reader
    if input_text is not None:
        try:
            producer.stdin.write(input_text.encode())
            producer.stdin.close()
        except BrokenPipeError:
            pass  # gradcalc ended before reading it all: the point of the test
    line = head.communicate(timeout=HANG_GUARD_SECONDS)[0]
    stderr = producer.stderr.read()
    return producer.wait(timeout=HANG_GUARD_SECONDS), stderr, line


def test_a_closed_pipe_ends_quietly_as_sigpipe_does():
    points = "x\n" + "\n".join(str(k / 7) for k in range(200_000)) + "\n"
    code, stderr, line = _piped_to_head(["diff", "x**2", "--points", "-", "--json"], points)
    assert json.loads(line)["line"] == 2
    assert code == -signal.SIGPIPE  # as `yes | head -1`: shells show 141, never 1
    assert stderr == b""


def test_an_ascii_terminal_gets_ascii_not_silence():
    process = _run(["diff", "sin(x**2)", "--at", "3"], env={"PYTHONIOENCODING": "ascii"})
    assert process.returncode == 0
    lines = process.stdout.splitlines()
    assert lines[2] == "df/dx = 2*x*cos(x**2) = 6*cos(9) at the point"
    assert lines[-1] == "ok SymPy, autograd and finite differences agree"
    assert all(line.isascii() for line in lines)


def test_ascii_json_stays_the_same_json(cli):
    args = ["diff", "sum(x)", "--at", "x=[1,2]", "--json"]
    process = _run(args, env={"PYTHONIOENCODING": "ascii"})
    assert process.stdout.isascii()
    assert json.loads(process.stdout) == cli(*args).json  # in-process, in UTF-8


def test_ascii_fallback_escapes_what_it_cannot_spell():
    import gradcalc.cli  # noqa: F401 - registers the error handler

    encoded = "∂ ✓ 𝟗 é".encode("ascii", errors="gradcalc-ascii")
    assert encoded == b"d ok \\ud835\\udfd7 \\u00e9"
    assert json.loads(b'"' + encoded.split(b" ", 2)[2] + b'"') == "𝟗 é"


def test_errors_echo_a_capped_line_with_control_characters_escaped():
    from gradcalc.cli import MAX_MESSAGE

    process = _run(["diff", "x", "--at", "\x1b[31m" + "9" * 50_000])
    assert process.returncode == 2
    (line,) = process.stderr.splitlines()
    assert "\x1b" not in line and "\\x1b[31m" in line
    assert len(line) <= len("gradcalc: error: ") + MAX_MESSAGE
    assert "characters cut" in line


def test_a_numpy_warning_never_reaches_stderr():
    process = _run(["diff", "x**(10**59)", "--at", "1"])
    assert process.returncode == 0  # finite differences overflow: not checked
    assert process.stderr == ""


@pytest.mark.parametrize("columns", ["80", "200"])
def test_every_description_shows_whole_in_the_functions_table(cli, columns):
    """Brackets are text, not Rich markup ('x clipped to [lo, hi]',
    'softmax(logits)[k]'), and a long word folds instead of being cut."""
    from gradcalc.functions import FUNCTIONS

    run = cli("functions", env={"NO_COLOR": "1", "COLUMNS": columns})
    assert run.exit_code == 0
    cells = {"domain": [], "description": []}
    for line in run.stdout.splitlines():
        parts = line.split("│")
        if len(parts) == 6:  # │ function │ arguments │ domain │ description │
            cells["domain"].append(parts[3])
            cells["description"].append(parts[4])
    shown = {key: "".join("".join(values).split()) for key, values in cells.items()}
    for f in FUNCTIONS:
        assert "".join(f.doc.split()) in shown["description"], f.name
        assert "".join(f.domain.split()) in shown["domain"], f.name
    assert "…" not in run.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("graph", "x", "--at", "1", "--json", "-f", "bogus"),
        ("graph", "x", "--at", "1", "-f", "bogus", "--json"),
        ("diff", "x", "--at", "1", "--json", "--format", "bogus"),
    ],
)
def test_a_bad_choice_under_json_is_reported_as_json(cli, args):
    """--json asked for the error as JSON, whichever option comes after it."""
    run = cli(*args)
    assert run.exit_code == 2
    document = json.loads(run.stdout)
    assert document["error"]["kind"] == "usage"
    assert "'bogus' is not one of" in document["error"]["message"]
    validate(document, "error.schema.json")
