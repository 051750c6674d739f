"""Plain text folded to a terminal's width at spaces, never inside a word.

Text that gradcalc writes itself (an error on stderr, the REPL's help)
would otherwise be folded by the terminal at its last column, mid-word
("c/ompletion"). Only a terminal gets folded lines: piped, a message stays
one line for whoever reads it by machine."""

from __future__ import annotations

import os
import re
import textwrap
from typing import TextIO


def width_of(stream: TextIO) -> int | None:
    """The columns of the terminal `stream` writes to (COLUMNS first, as
    Rich and shutil read it), or None when it is no terminal."""
    try:
        if not stream.isatty():
            return None
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return None
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(fd).columns
    except OSError:
        return None


NO_BREAK = "\u00a0"  # textwrap breaks at ASCII whitespace only: this joins a unit


def keep_together(text: str, pattern: str) -> str:
    """`text` with the spaces inside each match of `pattern` (a unit such
    as "(step 2)") made unbreakable for `fold`, which restores them."""
    return re.sub(pattern, lambda m: m.group(0).replace(" ", NO_BREAK), text)


def fold(line: str, width: int | None, indent: int | None = 2) -> str:
    """`line` broken at spaces into lines of at most `width` columns, the
    ones after the first indented by `indent` more than it (None: under its
    second column, the text after its first run of two spaces); a word longer than a line is
    left whole (the terminal folds it: nothing shorter could). Unchanged
    when `width` is None or the line fits."""
    if width is None or len(line) <= width:
        return line.replace(NO_BREAK, " ")
    lead = len(line) - len(line.lstrip(" "))
    if indent is None:
        column = re.match(r" *\S.*?  +(?=\S)", line)
        hang = len(column.group(0)) if column else lead + 2
    else:
        hang = lead + indent
    wrapped = textwrap.wrap(
        line,
        width=width,
        subsequent_indent=" " * hang,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(wrapped).replace(NO_BREAK, " ") or line


def fold_text(text: str, width: int | None, indent: int | None = None) -> str:
    """Each line of `text` folded (`fold`; by default a two-column line goes
    on under its second column)."""
    return "\n".join(fold(line, width, indent) for line in text.split("\n"))
