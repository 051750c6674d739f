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
a bare expression means `diff EXPR --at <the session's point>`, given the
values of the variables it has; `at x=3` sets x in that point (`at` alone
clears it); `ans` in an expression is the last derivative shown, in its own
shape (a vector's derivative a vector, several variables' the gradient), or
a message that says why there is none. Errors about a bare expression's point
speak the session's `at`, not `--at`.
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
  at x=3           set x in the point for bare expressions (at x=1,y=2 for
                   several; at alone clears it)
  ans              in an expression: the last derivative shown (a vector's is
                   a vector; with several variables, the gradient)
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
    # The point for bare expressions: name -> value text ("" -> a value
    # without a name, for an expression of one variable).
    point: dict[str, str] = field(default_factory=dict)
    ans: str | None = None  # the last derivative's text
    no_ans: str = "ans: no derivative yet (ans is the last diff's derivative)"
    worst: int = 0  # the worst exit status so far

    def words_for(self, line: str) -> list[str] | None:
        """The command line a session line stands for; None for a line that
        is handled here (at, help) or empty."""
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        # `ans` is put in each word, after the line is split: its text has
        # spaces (-4*x**2*sin(x**2) + 2*cos(x**2)) that must not split a word.
        words = [self._with_ans(word) for word in shlex.split(text)]
        text = self._with_ans(text)
        commands = set(command_names(self.command))
        if words[0] not in commands and words[0] not in SHORTCUTS:
            # A bare expression: the whole line is the expression, at the
            # session's values of its variables; errors speak `at`.
            spec = self._point_for(text)
            words = [BARE, "diff", text] + (["--at", spec] if spec else [])
        name = 1 if words[0] == BARE else 0
        if self.json and _takes_json(self.command, words[name]) and "--json" not in words:
            # Right after the command: at the end it could be a value (`--at --json`).
            words.insert(name + 1, "--json")
        return words

    def _with_ans(self, text: str) -> str:
        return text if self.ans is None else re.sub(r"\bans\b", f"({self.ans})", text)

    def _point_for(self, expression: str) -> str:
        """The --at text of the session's point for `expression`: the values
        of its own variables (a value left from another expression is no
        error here)."""
        if "" in self.point:
            return self.point[""]
        try:
            from .parsing import parse

            variables = set(parse(expression).variables)
        except Exception:  # the worker reports what does not parse
            variables = set(self.point)
        return ",".join(f"{n}={v}" for n, v in self.point.items() if n in variables)

    def _at(self, line: str, text: str) -> Answer:
        """`at x=1,y=[1,2]`: each name's value set (a value without a name
        replaces the point); `at` alone clears it. A value `--at` would refuse
        is refused here, at once, and the point stays as it was."""
        specs = _top_level_split(re.sub(r"\s*=\s*", "=", text))  # (`at x = 3` too)
        try:
            pairs = [_named(spec, text, len(specs)) for spec in specs]
        except ValueError as error:
            return self._refused(line, str(error), kind="point")
        wrong = _check_values(self.command, pairs)
        if wrong is not None:
            kind, message, code = wrong
            return self._refused(line, message, kind=kind, code=code)
        if not pairs:
            self.point = {}
        for name, value in pairs:
            if name:
                self.point.pop("", None)
                self.point[name] = value
            else:
                self.point = {"": value}
        shown = ",".join(f"{n}={v}" if n else v for n, v in self.point.items())
        return Answer(line, [], 0, _said("point: " + (shown or "(none)"), self.json), "")

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
            return self._at(line, text[2:].strip())
        if first == "help":
            return Answer(line, [], 0, _said(HELP, self.json), "")
        if first in QUIT and text != first:  # (alone, the session ended before this)
            return self._refused(line, f"{first} takes nothing after it: {first} alone leaves")
        if first == "repl":
            return self._refused(line, "this is a session already: its lines are command lines")
        if self.ans is None and re.search(r"\bans\b", text):
            return self._refused(line, self.no_ans)
        try:
            words = self.words_for(text)
        except ValueError as error:  # shlex: an unclosed quote
            return self._refused(line, f"cannot read the line: {error}")
        assert words is not None
        answer = run(self.command, words, self.json)
        answer.line = line
        asked = words[1:] if words[0] == BARE else words
        printed_json = answer.stdout.lstrip().startswith("{")
        if self.json and not (
            _takes_json(self.command, asked[0]) and printed_json
        ):  # one document a line
            from . import jsonout

            answer.stdout = jsonout.dumps(jsonout.repl_output(answer.stdout, answer.code)) + "\n"
        self.worst = max(self.worst, answer.code) if answer.code != 130 else self.worst
        if asked[0] == "diff" and answer.code in (0, 1) and not HELP_WORDS & set(words):
            self._remember(asked)  # (reading --help would print the help again)
        return answer

    def _refused(
        self, line: str, message: str, kind: str = "usage", code: int = ExitCode.INPUT
    ) -> Answer:
        """A line the session answers with an error itself: the one-line
        message on stderr, as every command's error, and under --json the
        error document (with `exit_code`) on stdout too."""
        cancelled = code == ExitCode.INTERRUPTED  # no failure; the prompt says so itself
        self.worst = self.worst if cancelled else max(self.worst, code)
        said = "" if cancelled else f"gradcalc: error: {message}\n"
        if self.json:
            from . import jsonout

            document = jsonout.with_exit_code(jsonout.error(kind, message), code)
            return Answer(line, [], code, jsonout.dumps(document) + "\n", said)
        return Answer(line, [], code, "", said)

    def _remember(self, words: list[str]) -> None:
        """`ans` becomes the derivative the last diff showed, worked out by the
        worker within a budget (a Ctrl-C there leaves `ans` as it was); or,
        when an expression cannot hold it, `ans` says why."""
        code, out, _ = _worker(self.command).ask(
            [_ANS, *words[1:]], on_signal=lambda message, code: code
        )
        if code != 0 or not out:
            return
        said = json.loads(out.decode("utf-8"))
        self.ans = said.get("ans")
        self.no_ans = "ans: " + said.get("why", "") if self.ans is None else self.no_ans


def _named(spec: str, text: str, count: int) -> tuple[str, str]:
    """One spec of `at` as (name, value text); name "" for a value without a
    name, which must stand alone. ValueError: the message, as `--at` words it."""
    if "=" not in spec.split("[")[0]:
        if count > 1:
            raise ValueError(f"at {text!r}: expected name=value, got {spec!r}")
        return "", spec.strip()
    name, _, value = spec.partition("=")
    name = name.strip()
    if not name:
        raise ValueError(f"at {text!r}: expected name=value, got {spec!r}")
    if not name.isidentifier():
        raise ValueError(f"at: {name!r} is not a variable name")
    return name, value.strip()


def _check_values(command: Any, pairs: list[tuple[str, str]]) -> tuple[str, str, int] | None:
    """None when every value reads as `--at` reads it (a number, a constant
    expression, a vector); else the error's (kind, message, exit code). Read
    by the worker, within the budget, as any answer is."""
    if not pairs:
        return None
    stopped: list[str] = []

    def on_overrun(message: str) -> int:
        stopped.append(message)
        return BudgetError.exit_code

    def on_signal(message: str, code: int) -> int:
        stopped.append(message)
        return code

    words = [_AT] + [word for pair in pairs for word in pair]
    code, out, _ = _worker(command).ask(words, on_overrun=on_overrun, on_signal=on_signal)
    if stopped:
        cancelled = code == ExitCode.INTERRUPTED
        return ("interrupted" if cancelled else "budget"), stopped[0], code
    if code != 0:
        return "internal", "internal error: the point's values could not be read", code
    if not out:
        return None
    said = json.loads(out.decode("utf-8"))
    return said["kind"], said["message"], said["code"]


def _top_level_split(text: str) -> list[str]:
    """`x=1,y=[1,2]` -> ["x=1", "y=[1,2]"]: commas outside brackets and
    parentheses (blanks separate specs too)."""
    specs, depth, current = [], 0, ""
    for c in text:
        depth += (c in "([") - (c in ")]")
        if depth == 0 and (c == "," or c.isspace()):
            specs.append(current)
            current = ""
        else:
            current += c
    specs.append(current)
    return [spec for spec in specs if spec.strip()]


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
    from . import budgeted

    return budgeted.Worker(functools.partial(_serve, command))


_ANS = "\0ans"  # a request for `ans`, never a command line (no word holds NUL)
_AT = "\0at"  # a request to read `at`'s values: [_AT, name, value, name, value, ...]
BARE = "\0bare"  # before a bare expression's command line: errors speak `at`


def _serve(command: Any, words: list[str]) -> int:
    """In the worker: one command line, as `gradcalc WORDS` answers it (after
    BARE, with `--at` spelt as the session's `at`); or [_ANS, diff's words]:
    what `ans` becomes (`ans_for`), as JSON."""
    if words[:1] == [_ANS]:
        return _ans(command, words[1:])
    if words[:1] == [_AT]:
        return _read_values(words[1:])
    spelling = {"at": "at"} if words[:1] == [BARE] else {}
    command.option_spelling = spelling  # read by the group when it words an error
    args = words[1:] if spelling else words
    return int(command.main(args=args, prog_name="gradcalc", standalone_mode=False))


def _ans(command: Any, words: list[str]) -> int:
    """The last diff's derivative(s) again, as its line asked for them (the
    options Click reads in it), so the text is the one it showed."""
    from . import budget
    from .errors import GradcalcError
    from .pointcheck import differentiate

    budget.computing()
    try:
        params = command.commands["diff"].make_context("diff", list(words)).params
    except Exception:
        return 1
    if params["expression"] == "-" or not params["at"]:
        said = {"why": "the last diff read its expression or points from a file or stdin"}
    else:
        try:
            result = differentiate(
                params["expression"],
                params["at"],
                wrt=params["wrt"] or None,
                order=params["order"],
                dtype=str(getattr(params["dtype"], "value", params["dtype"])),
                autograd=not params["no_autograd"],  # (which also picks the CAS)
            )
            said = ans_for(result)
        except GradcalcError as error:
            said = {"why": f"the last diff's derivative could not be worked out ({error})"}
    budget.computed()
    sys.stdout.write(json.dumps(said))
    return 0


def _read_values(words: list[str]) -> int:
    """In the worker: each (name, value) of `at` read as `--at` reads a
    value; the first error as JSON {kind, message, code} (spelling `at`),
    nothing when all read."""
    from . import budget
    from .atpoint import value
    from .errors import GradcalcError

    budget.computing()
    said = {}
    try:
        for name, text in zip(words[::2], words[1::2], strict=True):
            value(text, "{at} " + name if name else "{at}")
    except GradcalcError as error:
        message = error.worded(lambda option: option)  # `at`, the session's word
        said = {"kind": error.kind, "message": message, "code": int(error.exit_code)}
    budget.computed()
    if said:
        sys.stdout.write(json.dumps(said))
    return 0


def ans_for(result: Any) -> dict[str, str]:
    """{"ans": text} for the derivative `result` shows, in its own shape: one
    derivative as it is (a vector's a vector, `[a, b, c]`), a gradient as the
    vector of its partials in the order shown (a vector variable's spliced
    in); else {"why": ...}, naming what an expression cannot hold."""
    partials = getattr(result, "partials", None)
    if not partials:
        rows, columns = len(result.rows), len(result.columns)
        return {
            "why": f"the last derivative is a {rows}×{columns} Jacobian: an expression "
            "holds a number or a vector, not a matrix"
        }
    if len(partials) > 1 and any(len(p.wrt) > 1 for p in partials):
        return {
            "why": f"the last diff showed {len(partials)} derivatives of order "
            f"{len(partials[0].wrt)}, not one derivative or a gradient; "
            "diff with --wrt to choose one"
        }
    if any(p.truncated or p.symbolic is None for p in partials):
        return {"why": "the last derivative is too long to write out"}
    items: list[str] = []
    for p in partials:
        items += p.symbolic if isinstance(p.symbolic, list) else [p.symbolic]
    whole = len(partials) > 1 or isinstance(partials[0].symbolic, list)
    text = "[" + ", ".join(items) + "]" if whole else items[0]
    if len(text) > MAX_ANS:
        return {"why": f"the last derivative is {len(text)} characters; ans holds {MAX_ANS}"}
    return {"ans": text}


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
