"""`gradcalc repl`: the warm session (session.py) at a prompt or on a pipe.

On a terminal: prompt_toolkit, with history across sessions in the user's
data directory, completion of commands, options (from the Click command
tree) and function names (from the function table), multi-line input (a line
ending in a backslash continues), Ctrl-C cancelling the running answer while
the session goes on, and Ctrl-D leaving. On a pipe: one command line per
line, answered in order; the exit status is the worst of them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputStreamError, OutputError
from .folding import fold_text, width_of
from .session import HELP, QUIT, Session, command_names, prepare

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import CompleteEvent, Completer, Completion
    from prompt_toolkit.document import Document


def history_path() -> Path:
    """$XDG_DATA_HOME/gradcalc/history (~/.local/share/gradcalc/history)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "gradcalc" / "history"


def main(command: Any, as_json: bool = False) -> int:
    """The session: `command` is the app's Click group, which answers each line."""
    warm_up()
    prepare(command)
    session = Session(command=command, json=as_json)
    if sys.stdin.isatty() and sys.stdout.isatty():
        return _interactive(session)
    return _piped(session)


def warm_up() -> None:
    """The imports every answer needs, once, before the first request."""
    import numpy  # noqa: F401
    import sympy  # noqa: F401
    import torch  # noqa: F401

    from . import computation, jsonout, pointcheck  # noqa: F401
    from .cas import sympy_engine  # noqa: F401
    from .render import diff  # noqa: F401

    # Every object imported so far lives as long as the session: keep the
    # collector from walking them in each answer's child.
    gc.collect()
    gc.freeze()


def _lines() -> Iterator[str]:
    """stdin's lines; a failed read (EIO) ends the session as an I/O error
    (exit 74), never as a quiet end of input."""
    while True:
        try:
            line = sys.stdin.readline()
        except OSError as error:
            raise _unreadable(error) from None
        if not line:
            return
        yield line


def _unreadable(error: OSError) -> InputStreamError:
    return InputStreamError(f"cannot read the session's input: {error.strerror or error}")


def _piped(session: Session) -> int:
    for line in _lines():
        if line.strip() in QUIT:  # the session ends here, as at the prompt
            break
        answer = session.handle(line)
        if answer is None:
            continue
        _show(answer.stdout, answer.stderr)
    return session.worst


def _show(out: str, err: str) -> None:
    """An answer's output and messages. stdout that cannot be written ends the
    session as any command's failed write does (exit 74; a reader that went
    away ends it quietly); messages that cannot be written are lost alone."""
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"cannot write the output: {error.strerror or error}") from None
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(err)
        sys.stderr.flush()


def _interactive(session: Session) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    prompt: PromptSession[str] = PromptSession(
        history=FileHistory(str(path)),
        completer=_completer(session.command),
        complete_while_typing=False,
    )
    sys.stdout.write("gradcalc repl: type help for the shortcuts, Ctrl-D to leave\n")
    while True:
        try:
            line = _read(prompt)
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt clears the line
        except EOFError:
            return session.worst
        except OSError as error:  # the terminal went away (EIO): not a quiet end
            raise _unreadable(error) from None
        if line.strip() in QUIT:
            return session.worst
        if line.strip() == "help":
            sys.stdout.write(fold_text(HELP, width_of(sys.stdout)) + "\n")
            continue
        answer = session.handle(line)
        if answer is None:
            continue
        cancelled = "gradcalc: cancelled; the session goes on\n" if answer.code == 130 else ""
        # The worker wrote its errors to a pipe, as one line: folded here at
        # spaces for this terminal, as a one-shot run's are.
        _show(answer.stdout, fold_text(answer.stderr + cancelled, width_of(sys.stderr), 2))


def _read(prompt: PromptSession[str]) -> str:
    """One entry: lines ending in a backslash continue on the next."""
    lines = [prompt.prompt("gradcalc> ")]
    while lines[-1].endswith("\\"):
        lines[-1] = lines[-1][:-1]
        lines.append(prompt.prompt("........> "))
    return " ".join(lines)


def _completer(group: Any) -> Completer:
    """Commands, each command's options, and function names."""
    from prompt_toolkit.completion import Completer, Completion

    from .functions import BY_NAME, CONSTANTS

    options = {
        name: sorted(
            opt
            for param in command.params
            for opt in getattr(param, "opts", [])
            if opt.startswith("-")
        )
        for name, command in group.commands.items()
    }
    commands = sorted(command_names(group)) + ["at", "help", "quit"]
    names = sorted(set(BY_NAME) | set(CONSTANTS))
    choices = {name: _choices(command) for name, command in group.commands.items()}

    class Words(Completer):
        def get_completions(
            self, document: Document, complete_event: CompleteEvent
        ) -> Iterator[Completion]:
            text = document.text_before_cursor
            word = document.get_word_before_cursor(WORD=True)
            before = text[: len(text) - len(word)].split()
            if not before:
                candidates = commands + names
            elif before[-1] in choices.get(before[0], {}):  # `--format <Tab>`: its choices
                candidates = choices[before[0]][before[-1]]
            elif word.startswith("-"):
                candidates = options.get(before[0], [])
            else:
                # Inside an expression: the function names (after "(" or an operator too).
                word = _tail(word)
                candidates = names
            for candidate in candidates:
                if candidate.startswith(word):
                    yield Completion(candidate, start_position=-len(word))

    return Words()


def _choices(command: Any) -> dict[str, list[str]]:
    """Each spelling of an option with a fixed set of values -> those values
    (the same the shells' completion scripts offer)."""
    out = {}
    for param in command.params:
        descriptor = getattr(param, "type_descriptor", None)
        values = getattr(descriptor, "choices", None) or getattr(
            getattr(param, "type", None), "choices", None
        )
        if values:
            for spelling in param.opts:
                out[spelling] = [str(getattr(v, "value", v)) for v in values]
    return out


def _tail(word: str) -> str:
    """The name being typed at the end of an expression: `sin(co` -> `co`."""
    end = len(word)
    start = end
    while start > 0 and (word[start - 1].isalnum() or word[start - 1] == "_"):
        start -= 1
    return word[start:end]
