"""The process's standard streams: closed ones reopened on /dev/null, and
readable ASCII for a terminal that cannot show Unicode."""

from __future__ import annotations

import codecs
import os
import sys

ASCII_FALLBACK = {
    "∂": "d",
    "✓": "ok",
    "✗": "x",
    "·": "*",
    "×": "x",
    "…": "...",
    "−": "-",
    "–": "-",
    "—": "--",
    "²": "^2",
    "³": "^3",
    "⁴": "^4",
    "′": "'",
    "ŷ": "y_hat",
    "ε": "eps",
    "π": "pi",
    "→": "->",
    "←": "<-",
    "≤": "<=",
    "≥": ">=",
    "≈": "~",
    "∞": "inf",
    "•": "*",
    "▁": "_",
    "█": "#",
}


def _ascii_fallback(error: UnicodeEncodeError) -> tuple[str, int]:
    """codecs error handler: readable ASCII for the characters gradcalc prints,
    JSON's \\uXXXX (a surrogate pair past U+FFFF) for anything else, so that
    JSON stays the same JSON."""
    text = error.object[error.start : error.end]
    out = []
    for char in text:
        if char in ASCII_FALLBACK:
            out.append(ASCII_FALLBACK[char])
        elif ord(char) > 0xFFFF:
            high, low = divmod(ord(char) - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out), error.end


codecs.register_error("gradcalc-ascii", _ascii_fallback)  # type: ignore[arg-type]


def standard_streams() -> set:
    """Make the process safe to run with closed standard streams (`<&-`,
    `>&-`, `2>&-`): each closed descriptor is reopened on /dev/null, so that no
    pipe or file opened later takes its number; stderr then writes there.
    Returns the names of the streams that were closed. A terminal that
    cannot encode Unicode gets ASCII fallbacks instead of an encoding error."""
    closed = set()
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(name)
            os.open(os.devnull, os.O_RDWR)  # takes the lowest free number: fd
    if "stderr" in closed or sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
        if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="gradcalc-ascii")
    return closed
