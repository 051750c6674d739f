"""One warm process, many answers: the engine behind `gradcalc repl`.

Torch, SymPy and numpy are imported once. Each request is a gradcalc command
line without the program name (`diff "sin(x**2)" --at 3`), answered by the
same Click app as the one-shot CLI, in a worker: a child forked once from the
warm process, which answers one request after another, each under the time
and memory budget a one-shot command has (`budget.Worker`). A request that
runs away, or that Ctrl-C cancels, ends the worker alone; the next request
forks a fresh one, and the session goes on. The worker's output is captured
and handed back whole.

Shortcuts a calculator user expects, rewritten here into command lines:
a bare expression means `diff EXPR --at <the last point>`; `at x=3` sets that
point; `ans` in an expression is the last derivative computed.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import BudgetError, ExitCode

if TYPE_CHECKING:
    from .budget import Worker

QUIT = ("quit", "exit")
MAX_LINE = 110_000  # characters of a session line: an expression's limit, and its options
HELP_WORDS = {"--help", "-h"}
SHORTCUTS = ("at", "help", *QUIT)
HELP = """\
Lines are gradcalc command lines without 'gradcalc':
  diff "sin(x**2)" --at 3      graph x*x --at 3      perceptron --x 6.7 --y 0
Shortcuts:
  sin(x**2)        a bare expression: diff at the last point
  at x=3           set the point for bare expressions (at x=1,y=2 for several)
  ans              in an expression: the last derivative computed
  help, quit       this text; leave (Ctrl-D too). Ctrl-C cancels a running answer."""


@dataclass
class Answer:
    """What one request printed, and how it ended."""

    line: str
    words: list[str]
    code: int
    stdout: str
    stderr: str


@dataclass
class Session:
    """A session's state. `command` is the app's Click group, handed down by
    the repl command (the session never imports the CLI): each line is
    answered by it, in the worker."""

    command: Any
    json: bool = False  # every request answers with --json (one document a line)
    point: list[str] = field(default_factory=list)  # --at specs for bare expressions
    ans: str | None = None  # the last derivative's text
    worst: int = 0  # the worst exit status so far

    def words_for(self, line: str) -> list[str] | None:
        """The command line a session line stands for; None for a line that
        is handled here (at, help) or empty."""
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        if self.ans is not None:
            text = re.sub(r"\bans\b", f"({self.ans})", text)
        words = shlex.split(text)
        commands = set(command_names(self.command))
        if words[0] not in commands and words[0] not in SHORTCUTS:
            # A bare expression: the whole line is the expression.
            words = ["diff", text] + [w for spec in self.point for w in ("--at", spec)]
        if self.json and _takes_json(self.command, words[0]) and "--json" not in words:
            # Right after the command: at the end it could be a value (`--at --json`).
            words.insert(1, "--json")
        return words

    def handle(self, line: str) -> Answer | None:
        """Answer one session line (None for blank lines and comments)."""
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        if len(line) > MAX_LINE:  # read here, in the session, outside every budget
            return self._refused(
                line,
                f"the line is {len(line)} characters long; the limit is {MAX_LINE} "
                "(an expression's 100000, and its options)",
                kind="too_large",
            )
        first = text.split()[0]
        if first == "at":
            self.point = [spec for spec in text.split()[1:]]
            said = "point: " + (" ".join(self.point) or "(none)")
            return Answer(line, [], 0, _said(said, self.json), "")
        if first == "help":
            return Answer(line, [], 0, _said(HELP, self.json), "")
        try:
            words = self.words_for(text)
        except ValueError as error:  # shlex: an unclosed quote
            return self._refused(line, f"cannot read the line: {error}")
        assert words is not None
        answer = run(self.command, words, self.json)
        answer.line = line
        printed_json = answer.stdout.lstrip().startswith("{")
        if self.json and not (
            _takes_json(self.command, words[0]) and printed_json
        ):  # one document a line
            from . import jsonout

            answer.stdout = jsonout.dumps(jsonout.repl_output(answer.stdout, answer.code)) + "\n"
        self.worst = max(self.worst, answer.code) if answer.code != 130 else self.worst
        if words[0] == "diff" and answer.code in (0, 1) and not HELP_WORDS & set(words):
            self._remember(words)  # (reading --help would print the help again)
        return answer

    def _refused(self, line: str, message: str, kind: str = "usage") -> Answer:
        self.worst = max(self.worst, ExitCode.INPUT)
        if self.json:
            from . import jsonout

            document = jsonout.with_exit_code(jsonout.error(kind, message), ExitCode.INPUT)
            return Answer(line, [], ExitCode.INPUT, jsonout.dumps(document) + "\n", "")
        return Answer(line, [], ExitCode.INPUT, "", f"gradcalc: error: {message}\n")

    def _remember(self, words: list[str]) -> None:
        """`ans` becomes the first derivative of the last diff's expression,
        worked out by the worker within a budget (a Ctrl-C there leaves `ans`
        as it was)."""
        try:  # the expression, as Click reads the line (options may come first)
            diff = self.command.commands["diff"]
            expression = diff.make_context("diff", list(words[1:])).params["expression"]
        except Exception:
            return
        if expression == "-":
            return
        code, out, _ = _worker(self.command).ask(
            [_ANS, expression], on_signal=lambda message, code: code
        )
        if code == 0 and out:
            self.ans = out.decode("utf-8")


def _said(text: str, as_json: bool) -> str:
    if as_json:
        from . import jsonout

        return jsonout.dumps(jsonout.repl_message(text)) + "\n"
    return text + "\n"


def run(command: Any, words: list[str], as_json: bool = False) -> Answer:
    """One command line, answered by the session's warm worker (a child of
    this process, see budget.Worker) within the one-shot command's budget;
    its stdout and stderr captured. Under `as_json`, every JSON document it
    printed gets its exit status (`exit_code`), and an overrun of the budget
    is a JSON error document too."""
    overrun: list[str] = []

    def on_overrun(message: str) -> int:
        overrun.append(message)
        return BudgetError.exit_code

    def on_signal(message: str, code: int) -> int:
        overrun.append(message)
        return code

    code, out, err = _worker(command).ask(list(words), on_overrun=on_overrun, on_signal=on_signal)
    stdout, stderr = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    if overrun:
        message = overrun[0]
        cancelled = code == ExitCode.INTERRUPTED
        if not cancelled:  # (the prompt says a cancelled answer's line itself)
            stderr += f"gradcalc: error: {message}\n"
        if as_json:  # one document per request, whatever ended it
            from .jsonout import dumps, error

            kind = "interrupted" if cancelled else "budget"
            stdout += dumps(error(kind, "cancelled" if cancelled else message)) + "\n"
    if as_json:
        stdout = _with_exit_code(stdout, code)
    return Answer(" ".join(words), words, code, stdout, stderr)


def prepare(command: Any) -> None:
    """Start the worker ahead of the first request (see budget.Worker.ready)."""
    _worker(command).ready()


@functools.cache
def _worker(command: Any) -> Worker:
    from . import budget

    return budget.Worker(functools.partial(_serve, command))


_ANS = "\0ans"  # a request for `ans`, never a command line (no word holds NUL)


def _serve(command: Any, words: list[str]) -> int:
    """In the worker: one command line, as `gradcalc WORDS` answers it; or
    [_ANS, expression]: the text of its first derivative by its first
    variable (nothing for a vector-valued one or a huge formula)."""
    if words[:1] == [_ANS]:
        return _derivative_text(words[1])
    return int(command.main(args=words, prog_name="gradcalc", standalone_mode=False))


def _derivative_text(expression: str) -> int:
    from . import budget, cas
    from .parsing import parse

    budget.computing()
    expr = parse(expression)
    if not expr.variables:
        return 1
    engine = cas.sympy()
    symbols = engine.symbols_for(expr.variables, {})
    f = engine.build(expr, symbols)
    if isinstance(f, list):
        return 1
    text = engine.text(engine.derivative(f, (symbols[expr.variables[0]],)))
    if len(text) > MAX_ANS:
        return 1
    budget.computed()
    sys.stdout.write(text)
    return 0


MAX_ANS = 2_000  # characters of a derivative `ans` stands for


def _takes_json(command: Any, name: str) -> bool:
    subcommand = command.commands.get(name)
    return subcommand is not None and any(p.name == "json" for p in subcommand.params)


def command_names(command: Any) -> list[str]:
    """The names of the app's commands."""
    return list(command.commands)


def _with_exit_code(text: str, code: int) -> str:
    """Each JSON document a command printed, with its exit status."""
    from . import jsonout

    lines = []
    for line in text.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        if isinstance(document, dict):
            line = jsonout.dumps(jsonout.with_exit_code(document, code))
        lines.append(line)
    return "".join(line + "\n" for line in lines)
