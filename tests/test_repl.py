"""gradcalc repl: on a pipe (output key for key equal to the one-shot CLI's
JSON, bad lines answered and the stream going on, the worst status) and in a
real terminal (pexpect: typing, completion, history, Ctrl-C during a long
answer, Ctrl-D)."""

import errno
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import typer
from conftest import HANG_GUARD_SECONDS, Tmux

from gradcalc.cli import app
from gradcalc.session import Session

GROUP = typer.main.get_command(app)  # the app the repl command hands its session

LINES = [
    'diff "x^2" --at 1',
    "diff 'sin(x**2)' --at 3",
    "graph x*x --at 3",
    "perceptron --x 6.7 --y 0",
    "diff 'log(x)' --at 0",  # undefined: exit 3
    "diff 'sin(' --at 1",  # a parse error: exit 2
    "accumulate x**2 --at 2 --passes 2",
]


def _repl(*args, input, env=None):
    return subprocess.run(
        [sys.executable, "-m", "gradcalc", "repl", *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        env=dict(os.environ, **(env or {})),
    )


@pytest.mark.slow
def test_piped_json_equals_the_one_shot_cli_key_for_key(cli):
    run = _repl("--json", input="\n".join(LINES) + "\n")
    documents = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(documents) == len(LINES)  # one document per line, errors included
    import shlex

    for line, document in zip(LINES, documents):
        once = cli(*shlex.split(line), "--json")
        code = document.pop("exit_code")
        assert code == once.exit_code, line
        assert document == json.loads(once.stdout), line
    assert run.returncode == 3  # the worst status of the stream


def test_a_bad_line_never_ends_the_stream():
    session = Session(command=GROUP, json=True)
    answers = [session.handle(line) for line in ['diff "x^2 --at 1', "diff x^2 --at 2"]]
    first, second = (json.loads(a.stdout) for a in answers)
    assert first["error"]["kind"] == "usage" and first["exit_code"] == 2
    assert second["gradient"]["x"]["sympy"] == 4.0 and second["exit_code"] == 0
    assert session.worst == 2


def test_shortcuts_bare_expression_at_and_ans():
    session = Session(command=GROUP, json=True)
    assert json.loads(session.handle("at x=3").stdout)["message"] == "point: x=3"
    bare = json.loads(session.handle("sin(x**2)").stdout)
    assert bare["point"] == {"x": 3.0}
    assert bare["gradient"]["x"]["symbolic"] == "2*x*cos(x**2)"
    # ans is the last derivative: d/dx of 2*x*cos(x**2) at 3.
    again = json.loads(session.handle("ans").stdout)
    assert again["expression"] == "(2*x*cos(x**2))"
    assert again["gradient"]["x"]["symbolic"] == "-4*x**2*sin(x**2) + 2*cos(x**2)"


def test_budget_per_request_overrun_is_one_error_document():
    session = Session(command=GROUP, json=True)
    answer = session.handle("diff '(1/9)**(9**9)*x' --at 1 --timeout 0.5")
    (document,) = [json.loads(line) for line in answer.stdout.splitlines()]
    assert document["exit_code"] in (2, 3)
    assert "error" in document
    follow = json.loads(session.handle("diff x^2 --at 1").stdout)
    assert follow["exit_code"] == 0


def test_piped_json_is_one_document_a_line_whatever_the_line():
    session = Session(command=GROUP, json=True)
    # --json goes right after the command: at the end it would be --at's value.
    missing = json.loads(session.handle("diff x --at").stdout)
    assert missing["error"]["message"] == "Option '--at' requires an argument."
    assert missing["exit_code"] == 2
    # A command without --json: its output, inside a document.
    script = json.loads(session.handle("completion bash").stdout)
    assert script["exit_code"] == 0 and script["output"].startswith("# bash completion")
    # `ans` is worked out by the worker, from the expression Click reads.
    session.handle("diff --json 'sin(x**2)' --at 3")
    assert session.ans == "2*x*cos(x**2)"


pexpect = pytest.importorskip("pexpect")


def _writer_once_read(fifo, seconds=HANG_GUARD_SECONDS):
    """A writing end of `fifo`, opened once a reader has it open (until then
    a non-blocking open fails with ENXIO)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            if error.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@pytest.mark.slow
def test_interactive_session_in_a_terminal(tmp_path):
    env = dict(
        os.environ,
        XDG_DATA_HOME=str(tmp_path),
        NO_COLOR="1",
        COLUMNS="100",
        TERM="xterm",
        PROMPT_TOOLKIT_NO_CPR="1",
    )
    # An answer that cannot finish on its own: its points come from a FIFO that
    # no one writes (reading input has no time limit without --timeout).
    points = tmp_path / "points.fifo"
    os.mkfifo(points)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "gradcalc", "repl"],
        env=env,
        encoding="utf-8",
        timeout=HANG_GUARD_SECONDS,
    )
    child.expect("gradcalc>")

    def type_(text):  # as a person does: after the prompt has drawn
        time.sleep(0.05)
        child.send(text)

    # Typing a command line: the same answer as the one-shot CLI.
    type_('diff "sin(x**2)" --at 3\r')
    child.expect("SymPy, autograd and finite differences agree")
    child.expect("gradcalc>")
    # Completion with Tab: an option (--ord -> --order), then a function name.
    type_("diff x^2 --at 1 --ord")
    type_("\t")
    child.expect("er")
    type_(" 2\r")
    child.expect("∂²f/∂x²")
    child.expect("gradcalc>")
    type_("at 0.5\r")
    child.expect("point: 0.5")
    child.expect("gradcalc>")
    type_("softp")
    type_("\t")
    child.expect("lus")
    type_("(x)\r")
    child.expect("f = softplus\\(x\\)")
    child.expect("gradcalc>")
    # Ctrl-C during a long answer cancels it; the session goes on.
    type_(f"diff 'sin(x)*exp(x)' --points {points}\r")
    writer = _writer_once_read(points)  # the answer has opened its points: it is under way
    child.sendintr()
    child.expect("cancelled; the session goes on")
    os.close(writer)
    child.expect("gradcalc>")
    type_("diff x*x --at 3\r")
    child.expect("AccumulateGrad|agree")
    child.expect("gradcalc>")
    # Ctrl-D leaves.
    time.sleep(0.1)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    # History across sessions: the lines typed are in the user's data directory,
    # and Up recalls the last one in a new session.
    history = (tmp_path / "gradcalc" / "history").read_text()
    assert "diff x*x --at 3" in history
    again = pexpect.spawn(
        sys.executable,
        ["-m", "gradcalc", "repl"],
        env=env,
        encoding="utf-8",
        timeout=HANG_GUARD_SECONDS,
    )
    again.expect("gradcalc>")
    time.sleep(0.1)
    again.send("\x1b[A")  # Up
    again.expect("diff x\\*x --at 3")
    again.send("\r")
    again.expect("AccumulateGrad|agree")  # its answer, then the next prompt
    again.expect("gradcalc>")
    time.sleep(0.1)
    again.sendeof()
    again.expect(pexpect.EOF)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.slow
def test_the_screen_in_tmux(tmp_path):
    """What a person sees: the prompt, an answer, the next prompt."""
    env = f"XDG_DATA_HOME={tmp_path} NO_COLOR=1"
    with Tmux(f"env {env} {sys.executable} -m gradcalc repl", 100, 40) as tmux:
        deadline = time.time() + HANG_GUARD_SECONDS
        while "gradcalc>" not in tmux.screen() and time.time() < deadline:
            time.sleep(0.2)
        tmux.send("diff x^2 --at 2", "Enter")
        deadline = time.time() + HANG_GUARD_SECONDS
        while tmux.screen().count("gradcalc>") < 2 and time.time() < deadline:
            time.sleep(0.2)
        text = tmux.screen()
        assert "│ SymPy (symbolic, 30 digits)  │     4 │" in text
        assert text.count("gradcalc>") == 2


@pytest.mark.parametrize("word", ["quit", "exit"])
def test_quit_ends_a_piped_session_as_it_ends_one_at_the_prompt(word):
    # The lines after it are not run: 'log(x)' at 0 would make the status 3.
    run = _repl("--json", input=f"diff x^2 --at 2\n{word}\ndiff 'log(x)' --at 0\n")
    (document,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert document["exit_code"] == 0 and run.returncode == 0, run.stderr
    assert run.stderr == ""


def test_help_in_a_session_is_printed_once_and_is_a_document_under_json(capsys):
    # Reading the line for `ans` once parsed --help again and printed it.
    session = Session(command=GROUP)
    answer = session.handle("diff --help")
    assert answer.stdout.count("Usage: gradcalc diff") == 1
    assert capsys.readouterr().out == ""
    document = json.loads(Session(command=GROUP, json=True).handle("diff --help").stdout)
    assert document["exit_code"] == 0 and "Usage: gradcalc diff" in document["output"]


def test_the_sessions_own_documents_follow_their_schema():
    """`at` and `help` answer with a message, a command without --json with its
    text as `output`; each one document, valid against repl.schema.json."""
    from conftest import validate

    session = Session(command=GROUP, json=True)
    said = json.loads(session.handle("at x=3").stdout)
    assert said == {"schema_version": 1, "message": "point: x=3", "exit_code": 0}
    validate(said, "repl.schema.json")
    printed = json.loads(session.handle("completion bash").stdout)
    assert printed["exit_code"] == 0 and printed["output"].startswith("#")
    validate(printed, "repl.schema.json")


def test_blank_lines_and_comments_answer_nothing_under_json():
    """One document per line that asks something, as --help and docs/repl.md say."""
    session = Session(command=GROUP, json=True)
    assert session.handle("") is None and session.handle("   ") is None
    assert session.handle("# a note to self") is None
    answered = session.handle("diff x^2 --at 1")
    assert answered is not None and len(answered.stdout.splitlines()) == 1


def test_a_line_past_the_limit_is_refused_before_it_is_split():
    """A 2 MB line spent 74 s in shlex in the session, outside every budget."""
    from gradcalc.session import MAX_LINE

    session = Session(command=GROUP, json=True)
    answer = session.handle("diff " + "x+" * 1_000_000 + "x --at 1")
    document = json.loads(answer.stdout)
    assert document["error"]["kind"] == "too_large" and document["exit_code"] == 2
    assert f"the limit is {MAX_LINE}" in document["error"]["message"]
    assert session.worst == 2 and answer.words == []  # never split into words
