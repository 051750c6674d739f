"""One warm process, many answers: the engine behind `gradcalc repl`.

Torch, SymPy and numpy are imported once. Each request is a gradcalc command
line without the program name (`diff "sin(x**2)" --at 3`), answered by the
same Click app as the one-shot CLI, in a child forked from the warm process
(a fork costs milliseconds; imports cost a second) under the same time and
memory budget (`budget.run`) — so a request that runs away is ended alone and
the session goes on. The child's output is captured and handed back whole.

Shortcuts a calculator user expects, rewritten here into command lines:
a bare expression means `diff EXPR --at <the last point>`; `at x=3` sets that
point; `ans` in an expression is the last derivative computed.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import threading
from dataclasses import dataclass, field

from .errors import ExitCode

QUIT = ("quit", "exit")
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
    json: bool = False  # every request answers with --json (one document a line)
    point: list[str] = field(default_factory=list)  # --at specs for bare expressions
    ans: str | None = None  # the last derivative's text
    worst: int = 0  # the worst exit status so far

    def words_for(self, line: str) -> list[str] | None:
        """The command line a session line stands for; None for a line that
        is handled here (at, help) or empty."""
        from .cli import app

        text = line.strip()
        if not text or text.startswith("#"):
            return None
        if self.ans is not None:
            text = re.sub(r"\bans\b", f"({self.ans})", text)
        words = shlex.split(text)
        commands = set(typer_commands(app))
        if words[0] not in commands and words[0] not in SHORTCUTS:
            # A bare expression: the whole line is the expression.
            words = ["diff", text] + [w for spec in self.point for w in ("--at", spec)]
        if self.json and words[0] in commands and "--json" not in words:
            words.append("--json")
        return words

    def handle(self, line: str) -> Answer | None:
        """Answer one session line (None for blank lines and comments)."""
        text = line.strip()
        if not text or text.startswith("#"):
            return None
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
        answer = run(words, self.json)
        answer.line = line
        self.worst = max(self.worst, answer.code) if answer.code != 130 else self.worst
        if words[0] == "diff" and answer.code in (0, 1):
            self._remember(words)
        return answer

    def _refused(self, line, message) -> Answer:
        self.worst = max(self.worst, ExitCode.INPUT)
        if self.json:
            from .jsonout import dumps, error

            document = error("usage", message)
            document["exit_code"] = int(ExitCode.INPUT)
            return Answer(line, [], ExitCode.INPUT, dumps(document) + "\n", "")
        return Answer(line, [], ExitCode.INPUT, "", f"gradcalc: error: {message}\n")

    def _remember(self, words: list[str]) -> None:
        """`ans` becomes the first derivative of the last diff's expression."""
        try:
            from .check import differentiate

            at = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--at", "-a")]
            result = differentiate(words[1], at, autograd=False)
            symbolic = result.partials[0].symbolic
            if isinstance(symbolic, str) and not result.partials[0].truncated:
                self.ans = symbolic
        except Exception:
            pass


def _said(text: str, as_json: bool) -> str:
    if as_json:
        return json.dumps({"schema_version": 1, "message": text, "exit_code": 0}) + "\n"
    return text + "\n"


def typer_commands(app) -> list[str]:
    import typer

    return list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def run(words: list[str], as_json: bool = False) -> Answer:
    """One command line, answered in a budgeted child of this warm process;
    its stdout and stderr captured. Under `as_json`, every JSON document it
    printed gets its exit status (`exit_code`), and an overrun of the budget
    is a JSON error document too."""
    from . import budget
    from .cli import app

    overrun: list[str] = []

    def on_overrun(message: str) -> int:
        overrun.append(message)
        return ExitCode.UNDEFINED

    def on_signal(message: str, code: int) -> int:
        if code != ExitCode.INTERRUPTED:
            overrun.append(message)
        return code

    def work() -> int:
        import typer

        command = typer.main.get_command(app)
        return int(command.main(args=list(words), prog_name="gradcalc", standalone_mode=False))

    with _Captured() as captured:
        code = budget.run(work, on_overrun=on_overrun, on_signal=on_signal)
    stdout, stderr = captured.stdout, captured.stderr
    if overrun:
        message = overrun[0]
        stderr += f"gradcalc: error: {message}\n"
        if as_json:
            from .jsonout import dumps, error

            stdout += dumps(error("budget", message)) + "\n"
    if as_json:
        stdout = _with_exit_code(stdout, code)
    return Answer(" ".join(words), words, code, stdout, stderr)


def _with_exit_code(text: str, code: int) -> str:
    lines = []
    for line in text.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        if isinstance(document, dict):
            document["exit_code"] = code
            line = json.dumps(document, ensure_ascii=False, allow_nan=False)
        lines.append(line)
    return "".join(line + "\n" for line in lines)


class _Captured:
    """fd 1 and 2 redirected into pipes drained by threads, so that what a
    forked child writes is collected here (the child writes to its fds)."""

    def __enter__(self):
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = (os.dup(1), os.dup(2))
        self._chunks: dict = {1: [], 2: []}
        self._threads = []
        for fd in (1, 2):
            read, write = os.pipe()
            os.dup2(write, fd)
            os.close(write)
            thread = threading.Thread(target=self._drain, args=(read, fd), daemon=True)
            thread.start()
            self._threads.append(thread)
        # The child writes through sys.stdout and sys.stderr: make them the fds,
        # whatever stood there (a test runner's capture, a notebook's stream).
        self._streams = (sys.stdout, sys.stderr)
        sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), encoding="utf-8")
        sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), encoding="utf-8")
        return self

    def _drain(self, read: int, fd: int) -> None:
        while True:
            chunk = os.read(read, 65536)
            if not chunk:
                break
            self._chunks[fd].append(chunk)
        os.close(read)

    def __exit__(self, *exc):
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = self._streams
        for fd, saved in zip((1, 2), self._saved):
            os.dup2(saved, fd)  # closes the pipe's write end: the drains end
            os.close(saved)
        for thread in self._threads:
            thread.join()
        self.stdout = b"".join(self._chunks[1]).decode("utf-8", "replace")
        self.stderr = b"".join(self._chunks[2]).decode("utf-8", "replace")
        return False
