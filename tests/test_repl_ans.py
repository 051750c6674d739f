"""The REPL's `ans` is the derivative shown, in its own shape, or a message
that says why not; a bare expression's hints speak the session's `at`; Tab
after an option offers its values; an I/O error reading the session's input
ends it with exit 74. Values are checked against hand derivatives."""

from __future__ import annotations

import errno
import io
import json
import math
import os
import sys
import time

import pytest
import typer

from gradcalc.cli import app
from gradcalc.session import Session

GROUP = typer.main.get_command(app)
REL = 1e-9  # float64 values of a 10-term formula against the same formula by hand


def _ask(session: Session, line: str) -> dict:
    answer = session.handle(line)
    assert answer is not None
    return json.loads(answer.stdout)


def _close(got: list[float], want: list[float]) -> bool:
    return len(got) == len(want) and all(math.isclose(g, w, rel_tol=REL) for g, w in zip(got, want))


def test_ans_after_a_vector_mean_is_the_vector_shown_with_its_factor():
    session = Session(command=GROUP, json=True)
    _ask(session, "at x=[1,2,3]")
    shown = _ask(session, "mean(x^2)")["gradient"]["x"]["symbolic"]
    assert shown == ["2*x[0]/3", "2*x[1]/3", "2*x[2]/3"]
    again = _ask(session, "ans")
    assert again["expression"] == "([2*x[0]/3, 2*x[1]/3, 2*x[2]/3])"
    assert _close(again["value"], [2 * k / 3 for k in (1, 2, 3)])  # d/dx_k mean(x²) = 2x_k/3


def test_ans_with_spaces_stays_one_word_of_a_command_line():
    """The second derivative of sin(x**2) is shown with spaces
    (-4*x**2*sin(x**2) + 2*cos(x**2)): `diff ans*2 --at 2` split it into three
    words (Typer: unexpected extra arguments). By hand at x = 2:
    d/dx 2(-4x²sin(x²) + 2cos(x²)) = 2(-8x³cos(x²) - 12x sin(x²))."""
    session = Session(command=GROUP, json=True)
    _ask(session, "at x=3")
    _ask(session, "sin(x**2)")
    _ask(session, "diff ans --at 2")  # ans: 2*x*cos(x**2); shown: its derivative
    assert session.ans == "-4*x**2*sin(x**2) + 2*cos(x**2)"
    for line in ("diff ans*2 --at 2", "diff '2 * ans' --at 2", "diff 2*(ans) --at x=2"):
        answer = _ask(session, line)
        assert answer["exit_code"] == 0, line
        x = 2.0
        by_hand = 2 * (-8 * x**3 * math.cos(x**2) - 12 * x * math.sin(x**2))
        assert _close([answer["gradient"]["x"]["sympy"]], [by_hand]), line
        session.ans = "-4*x**2*sin(x**2) + 2*cos(x**2)"  # as before the line


def test_ans_after_log_sum_exp_is_softmax():
    session = Session(command=GROUP, json=True)
    _ask(session, "at x=[1,2,3]")
    assert _ask(session, "log(sum(exp(x)))")["exit_code"] == 0
    again = _ask(session, "ans")
    assert again["exit_code"] == 0
    total = sum(math.exp(k) for k in (1, 2, 3))
    assert _close(again["value"], [math.exp(k) / total for k in (1, 2, 3)])


def test_ans_with_several_variables_is_the_gradient_in_the_order_shown():
    session = Session(command=GROUP, json=True)
    _ask(session, "at x=3,y=2")
    assert [d["symbolic"] for d in _ask(session, "x**2*y")["derivatives"]] == ["2*x*y", "x**2"]
    again = _ask(session, "ans")
    assert again["expression"] == "([2*x*y, x**2])"
    assert again["value"] == [2 * 3 * 2, 3**2]


@pytest.mark.parametrize(
    ("first", "words"),
    [
        ("diff 'softmax(x)' --at x=[1,2]", "2×2 Jacobian"),
        ("diff x**2*y --at x=3,y=2 --order 2", "choose one"),
    ],
)
def test_ans_that_no_expression_can_hold_says_why(first, words):
    session = Session(command=GROUP, json=True)
    assert _ask(session, first)["exit_code"] == 0
    refused = _ask(session, "ans + 1")
    assert refused["exit_code"] == 2
    assert refused["error"]["message"].startswith("ans: ")
    assert words in refused["error"]["message"]


def test_ans_before_any_derivative_says_so():
    session = Session(command=GROUP)
    answer = session.handle("ans")
    assert answer.code == 2
    assert answer.stderr == (
        "gradcalc: error: ans: no derivative yet (ans is the last diff's derivative)\n"
    )


def test_a_bare_expressions_point_takes_its_own_variables_and_hints_speak_at():
    session = Session(command=GROUP, json=True)
    _ask(session, "at x=1,y=2")
    assert _ask(session, "sin(x)")["point"] == {"x": 1.0}  # y is no error here
    _ask(session, "at x=0.5")  # sets x, keeps y
    assert _ask(session, "x*y")["point"] == {"x": 0.5, "y": 2.0}
    _ask(session, "at")
    _ask(session, "at x=1")
    missing = _ask(session, "x*y*z")["error"]["message"]
    assert missing == "no value for y, z: add at y=...,z=..."
    # A command line the user typed keeps its own --at.
    typed = _ask(session, "diff x*y --at x=1")["error"]["message"]
    assert typed == "no value for y: add --at y=..."


def test_an_io_error_reading_the_sessions_input_is_exit_74(monkeypatch, capsys):
    class Failing(io.TextIOBase):
        """A terminal that went away after one line: read() fails with EIO."""

        def __init__(self) -> None:
            self.lines = ["diff x^2 --at 1\n"]

        def isatty(self) -> bool:
            return False

        def readline(self, size: int = -1) -> str:
            if self.lines:
                return self.lines.pop()
            raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(sys, "stdin", Failing())
    code = GROUP.main(args=["repl"], prog_name="gradcalc", standalone_mode=False)
    assert code == 74
    captured = capsys.readouterr()
    assert "∂f/∂x = 2*x" in captured.out  # the line read before answered
    assert captured.err == "gradcalc: error: cannot read the session's input: Input/output error\n"


pexpect = pytest.importorskip("pexpect")


@pytest.mark.slow
def test_tab_after_an_option_offers_its_values(tmp_path):
    env = dict(
        os.environ,
        XDG_DATA_HOME=str(tmp_path),
        NO_COLOR="1",
        COLUMNS="100",
        TERM="xterm",
        PROMPT_TOOLKIT_NO_CPR="1",
    )
    child = pexpect.spawn(
        sys.executable, ["-m", "gradcalc", "repl"], env=env, encoding="utf-8", timeout=120
    )
    child.expect("gradcalc>")

    def type_(text: str) -> None:  # as a person does: after the prompt has drawn
        time.sleep(0.05)
        child.send(text)

    type_("diff x^2 --at 1 --dtype float3")
    type_("\t")
    child.expect("2")
    type_(" --format lat")
    type_("\t")
    child.expect("ex")
    type_("\r")
    child.expect(r"\\frac\{d\}\{dx\}")  # --format latex answered in float32
    child.expect("gradcalc>")
    type_("perceptron --x 1 --y 0 --loss ms")
    type_("\t")
    child.expect("e")
    type_("\r")
    child.expect("L = \\(ŷ - y\\)²")
    child.expect("gradcalc>")
    time.sleep(0.1)
    child.sendeof()
    child.expect(pexpect.EOF)
