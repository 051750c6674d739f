"""Emitted Python kept within 99 columns (pycodestyle's E501 at ruff's and
black's common limits): a long statement's value is put in parentheses and
broken between tokens, where Python joins the lines again; a long comment is
wrapped at words."""

from __future__ import annotations

import textwrap

WIDTH = 99
CONTINUATION = "    "


def wrap(text: str, width: int = WIDTH) -> str:
    return "\n".join(_line(line, width) for line in text.split("\n"))


def _line(line: str, width: int) -> str:
    if len(line) <= width:
        return line
    indent = line[: len(line) - len(line.lstrip())]
    body = line.strip()
    if body.startswith("#"):
        words = textwrap.wrap(
            body.lstrip("# "), width - len(indent) - 2, break_long_words=False,
            break_on_hyphens=False,
        )  # fmt: skip
        return "\n".join(f"{indent}# {w}" for w in words)
    head, value = _split(body)
    if head is None:
        return line
    inner = indent + CONTINUATION
    pieces = _pieces(value, width - len(inner))
    return "\n".join([f"{indent}{head}(", *(inner + p for p in pieces), f"{indent})"])


def _split(body: str) -> tuple[str | None, str]:
    """('name = ', value) of an assignment, ('return ', value) of a return."""
    if body.startswith("return "):
        return "return ", body[len("return ") :]
    if " = " in body and not body.startswith(("def ", "class ", "@")):
        name, value = body.split(" = ", 1)
        return f"{name} = ", value
    return None, body


def _pieces(value: str, width: int) -> list[str]:
    """`value` cut into lines of at most `width` between tokens: after a blank
    (dropped), a ',' or a lone '*' or '/' (never inside '**')."""
    pieces = []
    while len(value) > width:
        cut = _last_break(value, width)
        if cut is None:
            break
        pieces.append(value[:cut].rstrip())
        value = value[cut:].lstrip()
    pieces.append(value)
    return pieces


def _last_break(value: str, width: int) -> int | None:
    for i in range(min(width, len(value) - 1), 0, -1):
        before, after = value[i - 1], value[i]
        if after == " " or before == ",":
            return i
        if before in "*/" and after != "*" and (i < 2 or value[i - 2] != "*"):
            return i
    return None
