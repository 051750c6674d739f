"""Errors as the user reads them: one line on stderr (folded at spaces on a
terminal), the input echoed safely, a caret under the column, and the error
document under a machine format."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterable

from ..errors import GradcalcError, OutputError

MAX_MESSAGE = 1_000  # characters of an error message: input echoed in it is cut


def printable(message: str) -> str:
    """One line, at most MAX_MESSAGE characters, control characters escaped:
    a message echoes input (an expression, a file name), which must neither
    flood the terminal nor drive it (ESC sequences)."""
    message = " ".join(str(message).split())
    message = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in message
    )
    if len(message) > MAX_MESSAGE:
        half = MAX_MESSAGE // 2 - 20
        cut = len(message) - 2 * half
        message = f"{message[:half]} …[{cut} characters cut]… {message[-half:]}"
    return message


def report(
    error_kind: str,
    message: str,
    code: int,
    machine: bool,
    column: int | None = None,
    context: str = "",
) -> int:
    """One line on stderr (then `context`, e.g. a caret under the column);
    under a machine format (--json, --format json) also the error document
    on stdout (not when stdout itself is what failed)."""
    from ..folding import fold, width_of
    from ..jsonout import dumps, error

    message = printable(message)
    if machine and error_kind != OutputError.kind:
        with contextlib.suppress(OSError, ValueError):  # stdout may be what failed
            sys.stdout.write(dumps(error(error_kind, message, column)) + "\n")
    # On a terminal the line is folded at spaces, never mid-word (folding.py).
    line = fold(f"gradcalc: error: {echoed(message)}", width_of(sys.stderr))
    with contextlib.suppress(OSError, ValueError):  # unsaid, the code still tells
        sys.stderr.write(f"{line}\n{context}")
        sys.stderr.flush()
    return code


def verdict(status: str, reason: str) -> None:
    """A verdict other than agreement said in one line on stderr
    (`gradcalc: undefined: ...`, folded as errors are), by the views that
    do not show it themselves (an image, Graphviz or Mermaid text, LaTeX):
    their exit code alone would leave the reason unsaid."""
    from ..folding import fold, width_of

    if status == "agree":
        return
    words = status.replace("_", " ")
    line = fold(f"gradcalc: {words}: {printable(reason)}", width_of(sys.stderr))
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"{line}\n")
        sys.stderr.flush()


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def echoed(text: str, stream: object = None) -> str:
    """`text` as stderr (or `stream`) can show it: a character its encoding
    cannot hold is escaped (\\u00d7), never transliterated. An error echoes
    the user's input, and the ASCII fallback's '×' -> 'x' would name another
    character than the one at fault."""
    encoding = getattr(stream if stream is not None else sys.stderr, "encoding", None)
    encoding = (encoding or "utf-8").lower().replace("-", "").replace("_", "")
    if encoding in ("utf8", "utf16", "utf32"):
        return text
    out = []
    for char in text:
        try:
            char.encode(encoding)
            out.append(char)
        except (UnicodeEncodeError, LookupError):
            out.append(_escape(char))
    return "".join(out)


def caret(error: GradcalcError) -> str:
    """The expression and a caret under the error's column (for a reader;
    JSON has `column`). A character that is not printable (a no-break space,
    a control character), or that stderr cannot encode, is shown escaped
    (\\u00a0), and the caret points at its escape. Nothing for a long
    expression."""
    column, text = getattr(error, "column", None), getattr(error, "text", None)
    if column is None or not text or len(text) > 200 or column > len(text) + 1:
        return ""
    # Escaped as the message escapes them (printable, above): '\xa0' in both.
    shown = [
        echoed(c) if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    ]
    before = sum(len(piece) for piece in shown[: column - 1])
    return f"  {''.join(shown)}\n  {' ' * before}^\n"


def usage_hint(message: str, commands: Iterable[str]) -> str:
    """Click's message, with what to type instead when the mistake is a known one."""
    match = re.search(r"No such command '(.*?)'\.(?: Did you mean '(.*?)'\?)?", message)
    if match:
        word, close = match.groups()
        known = " (commands: " + ", ".join(sorted(commands)) + ")"
        if close:  # a typo of a command
            return f"no command {word!r}; did you mean {close!r}?{known}"
        import shlex  # (only for this hint: not at every start-up)

        return (
            f"no command {word!r}; to differentiate an expression, write: "
            f"gradcalc diff {shlex.quote(word)} --at ...{known}"
        )
    return message
