"""gradcalc check: a KeyboardInterrupt the user's code raises is reported as
its other exceptions are (its file and line; exit 130), while a real Ctrl-C
still ends the run with 130; --shape given twice for one parameter is exit 2
with one line; --seed without --random seeds the random directions of a long
output."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import HANG_GUARD_SECONDS, ROOT, validate

DATA = ROOT / "tests" / "data" / "user_functions.py"

RAISES = """import torch


def f(x):
    y = x * 2
    raise KeyboardInterrupt
"""


@pytest.fixture
def raising(tmp_path):
    source = tmp_path / "stops.py"
    source.write_text(RAISES)
    return source


def test_a_keyboard_interrupt_from_the_users_code_names_its_line(cli, raising):
    """It exited 130 without a word: now the one line names the user's file
    and line (6, `raise KeyboardInterrupt`), the user's frames follow."""
    run = cli("check", f"{raising}:f", "--at", "x=1")
    assert run.exit_code == 130
    first, *frames = run.stderr.splitlines()
    assert first == f"gradcalc: error: calling the function: KeyboardInterrupt ({raising}:6)"
    assert frames == [
        "  Traceback (your code only):",
        f'    File "{raising}", line 6, in f',
        "      raise KeyboardInterrupt",
    ]
    run = cli("check", f"{raising}:f", "--at", "x=1", "--json")
    assert run.exit_code == 130
    validate(run.json, "error.schema.json")
    assert run.json["error"] == {
        "kind": "interrupted",
        "message": f"calling the function: KeyboardInterrupt ({raising}:6)",
    }


def test_a_keyboard_interrupt_at_import_names_its_line(cli, tmp_path):
    source = tmp_path / "top.py"
    source.write_text("x = 1\nraise KeyboardInterrupt\n")
    run = cli("check", f"{source}:f", "--at", "x=1")
    assert run.exit_code == 130
    assert run.stderr.splitlines()[0] == (
        f"gradcalc: error: importing {source}: KeyboardInterrupt ({source}:2)"
    )


def test_a_real_process_says_it_too(raising):
    """The CLI's real path: the computation in its budgeted child."""
    run = subprocess.run(
        [sys.executable, "-m", "gradcalc", "check", f"{raising}:f", "--at", "x=1"],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert run.returncode == 130
    assert run.stderr.splitlines()[0] == (
        f"gradcalc: error: calling the function: KeyboardInterrupt ({raising}:6)"
    )


def test_a_real_ctrl_c_still_exits_130(tmp_path):
    """SIGINT to the process while the user's function runs: exit 130 and
    gradcalc's own line, not a report about the user's code."""
    started = tmp_path / "started"
    source = tmp_path / "waits.py"
    source.write_text(
        "import time\n\n\n"
        "def f(x):\n"
        f"    open({str(started)!r}, 'w').close()\n"
        "    time.sleep(600)\n"
        "    return x.sum()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gradcalc", "check", f"{source}:f", "--at", "x=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + HANG_GUARD_SECONDS  # a hang guard, not a timing
        while not started.exists() and process.poll() is None:
            assert time.monotonic() < deadline, "the function never started"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=HANG_GUARD_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert stderr.splitlines() == ["gradcalc: interrupted"]


def test_a_shape_given_twice_is_exit_2(cli):
    """--shape x=3 --shape x=4 checked x of shape (4,) without a word."""
    args = ["check", f"{DATA}:elementwise", "--random", "2", "--shape", "x=3", "--shape", "x=4"]
    run = cli(*args)
    assert run.exit_code == 2
    assert run.stderr == "gradcalc: error: --shape: x is given twice\n"
    run = cli(*args, "--json")
    assert run.exit_code == 2
    assert run.json["error"] == {"kind": "usage", "message": "--shape: x is given twice"}


def test_seed_alone_seeds_the_directions_of_a_long_output(cli):
    """--seed without --random is not dropped: past 64 output elements it picks the
    random directions (the JSON's jacobian.directions), one point's check the same
    every run with the same seed."""
    at = "x=[" + ",".join(str(0.01 * k) for k in range(1, 101)) + "]"
    runs = {
        seed: cli("check", f"{DATA}:elementwise", "--at", at, "--json", *seed)
        for seed in ((), ("--seed", "0"), ("--seed", "3"))
    }
    for run in runs.values():
        assert run.exit_code == 0
    assert runs[()].json == runs[("--seed", "0")].json
    assert runs[("--seed", "3")].json != runs[()].json


RECURSES = """import torch


def f(x):
    return g(x)


def g(x):
    return f(x) * 2


def h(x):
    return h(x + 1)
"""


@pytest.mark.parametrize(("name", "line", "period"), [("f", 5, 2), ("h", 13, 1)])
def test_the_users_own_recursion_is_their_error_with_a_short_traceback(
    cli, tmp_path, name, line, period
):
    """It was 'ran out of stack: the expression nests too deeply' (exit 3,
    the budget's words) with no line of the user's. Now it is their error
    (exit 2, user_code) naming where it recursed, and the traceback shows a
    repeated frame three times and, past twenty lines, the first and last few."""
    source = tmp_path / "deep.py"
    source.write_text(RECURSES)
    run = cli("check", f"{source}:{name}", "--at", "x=1", "--json")
    assert run.exit_code == 2
    validate(run.json, "error.schema.json")
    message = "calling the function: RecursionError: maximum recursion depth exceeded"
    assert run.json["error"]["kind"] == "user_code"
    assert run.json["error"]["message"].startswith(message)
    assert run.json["error"]["message"].endswith(f"({source}:{line})")
    run = cli("check", f"{source}:{name}", "--at", "x=1")
    first, header, *frames = run.stderr.splitlines()
    assert first.startswith(f"gradcalc: error: {message}")
    assert header == "  Traceback (your code only):"
    assert frames[:2] == [f'    File "{source}", line {line}, in {name}', frames[1]]
    assert len(frames) <= 2 * 20 + 1  # (a frame is two lines)
    left_out = [f for f in frames if f.startswith("    [")]
    assert len(left_out) == 1
    if period == 1:
        assert frames[:6] == frames[0:2] * 3
        assert left_out[0].startswith("    [the frame above repeated ")
    else:
        assert left_out[0].endswith(" more frames of your code left out]")
