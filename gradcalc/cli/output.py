"""Writing to stdout: JSON documents, Rich views (plain when piped or under
NO_COLOR), raw bytes; a failed write is an error, a closed pipe a quiet end."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, BinaryIO

from ..errors import ExitCode, GradcalcError, OutputError


def finish_output(code: int) -> int:
    """Write out what stdout holds and flush it: a write that fails is an
    error (one line, ExitCode.OUTPUT), never a silent success; a reader that
    went away ends the run quietly (ExitCode.CLOSED_PIPE)."""
    from .. import budget

    try:
        budget.release()
    except BrokenPipeError:
        return ExitCode.CLOSED_PIPE
    except (OSError, ValueError) as failure:  # ValueError: a closed or unencodable stream
        sys.stderr.write(f"gradcalc: error: {output_failure(failure).message}\n")
        return ExitCode.OUTPUT
    return code


def output_failure(failure: Exception) -> GradcalcError:
    reason = getattr(failure, "strerror", None) or str(failure)
    return OutputError(f"cannot write the output: {reason}")


class ClosedPipe(Exception):
    """The reader of stdout went away (raised instead of BrokenPipeError, an
    OSError that Click would turn into exit 1)."""


class Writing:
    """Around a write to stdout: a failed write becomes OutputError, a closed
    pipe ClosedPipe."""

    def __enter__(self) -> Writing:
        return self

    def __exit__(self, kind: Any, failure: BaseException | None, trace: Any) -> None:
        if isinstance(failure, BrokenPipeError):
            raise ClosedPipe() from None
        if isinstance(failure, OSError):
            raise output_failure(failure) from None


# What this run's LaTeX expression reads as: (the LaTeX, the reading), said
# once with the output (`read_as`), and reset as each command starts.
_READING: list[tuple[str, str]] = []


def read_as(expression: Any) -> None:
    """Remember what a LaTeX expression reads as (nothing for the grammar's
    own text): the first Rich view says `read as: ...`, the first JSON
    document has `read_as` (--points' NDJSON lines and graph's DOT/Mermaid,
    written otherwise, do not)."""
    latex = getattr(expression, "latex", None)
    _READING[:] = [(latex, expression.read_as)] if latex is not None else []


def reading_line() -> str:
    """`read as: ...` and a newline, once, for a view written as plain text."""
    return f"read as: {_READING.pop()[1]}\n" if _READING else ""


def emit(document: dict) -> None:
    from ..jsonout import dumps

    if _READING:
        latex, reading = _READING.pop()
        document = {**document, "read_as": {"latex": latex, "text": reading}}
    with Writing():
        sys.stdout.write(dumps(document) + "\n")


def write_bytes(chunks: Iterable[bytes], file: BinaryIO | None = None) -> None:
    """UTF-8 chunks to `file`, or to stdout: to its byte buffer when it has
    one (not a held-back StringIO, see budget.py)."""
    if file is not None:
        with Writing():
            for chunk in chunks:
                file.write(chunk)
        return
    with Writing():
        buffer = getattr(sys.stdout, "buffer", None)
        sys.stdout.flush()
        for chunk in chunks:
            if buffer is not None:
                buffer.write(chunk)
            else:
                sys.stdout.write(chunk.decode())


def show(renderable: Any) -> None:
    if _READING:
        from rich.console import Group
        from rich.text import Text

        renderable = Group(Text(f"read as: {_READING.pop()[1]}", style="cyan"), renderable)
    with Writing():
        _print(renderable)


def _print(renderable: Any) -> None:
    from rich.console import Console

    if os.environ.get("NO_COLOR"):
        # NO_COLOR: no colour and no other markup (bold, dim) either, even on a
        # terminal, whose width is still used.
        import shutil

        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        console = Console(highlight=False, emoji=False, force_terminal=False, width=width)
    else:
        # emoji=False: ":name:" in an expression or note is text, never an emoji.
        console = Console(highlight=False, emoji=False)
    if console.is_terminal:
        console.print(renderable)
        return
    # Piped: plain text, without the blanks Rich leaves where it wraps a line.
    with console.capture() as captured:
        console.print(renderable)
    sys.stdout.write("\n".join(line.rstrip() for line in captured.get().split("\n")))


def terminal() -> tuple[int, bool]:
    """The width to draw in (COLUMNS, else the terminal's, else 80) and
    whether to colour: a terminal, and NO_COLOR unset."""
    import shutil

    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    return shutil.get_terminal_size().columns, color


def draw_tangent(result: Any) -> str:
    """diff --plot: f, its tangent at the point and f′, drawn as text for this
    terminal from diff's own result (nothing differentiated again)."""
    from ..plotting import build
    from ..render.plot import function

    width, color = terminal()
    drawn = build(result.tree, result.point, result.wrt, None, True, result)
    return function(drawn, width, color)
