"""Expression text -> tokens (numbers, names, operators), plain ASCII only.

The first line of defence against hostile input: text past MAX_LENGTH,
literals past MAX_DIGITS digits or an exponent past ±MAX_EXPONENT, and any
character outside the grammar (with what it would have meant, where a reader
might expect it to work: attribute access, strings, '=', '%') are refused
here, with the column, before anything is built.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple, NoReturn

from .errors import ParseError, TooLargeError

MAX_LENGTH = 100_000  # characters of expression text
MAX_DIGITS = 60  # digits in one numeric literal
MAX_EXPONENT = 1000  # size of a literal's exponent, net of its decimal places

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<op>\*\*|//|[-+*/^(),\[\]])
    """,
    # ASCII: \d and \s would take Bengali, full-width and mathematical digits
    # and Unicode spaces (x*৪ read as x*4).
    re.VERBOSE | re.ASCII,
)

_BAD_CHARS = {
    ".": "attribute access is not part of the grammar",
    "{": "braces are not part of the grammar",
    "}": "braces are not part of the grammar",
    "'": "strings are not part of the grammar",
    '"': "strings are not part of the grammar",
    "=": "'=' is not part of an expression (an equation lhs = rhs is read by diff --implicit NAME)",
    "_": "names start with a letter",
    ":": "':' is not part of the grammar",
    ";": "';' is not part of the grammar",
    "%": "'%' (modulo) is not supported",
    "@": "'@' is not part of the grammar",
    "!": "'!' (factorial) is not supported",
    "<": "comparisons are not part of the grammar",
    ">": "comparisons are not part of the grammar",
    "&": "'&' is not part of the grammar",
    "|": "'|' is not part of the grammar; write abs(x)",
    "~": "'~' is not part of the grammar",
    "\\": "'\\' is not part of the grammar",
    "#": "comments are not part of the grammar",
    "$": "'$' is not part of the grammar",
    "`": "'`' is not part of the grammar",
}


# A named tuple: defined at start-up in a quarter of a dataclass's time.
class Token(NamedTuple):
    kind: str  # num, name, op, end
    text: str
    start: int

    @property
    def column(self) -> int:
        return self.start + 1


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_LENGTH:
        raise TooLargeError(
            f"expression is {len(source)} characters long; the limit is {MAX_LENGTH}"
        )
    tokens = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            _bad_character(source, pos)
        kind = str(match.lastgroup)
        text = match.group()
        if kind == "num":
            _check_number(source, text, pos, match.end())
        if kind != "space":
            tokens.append(Token(kind, text, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


def _bad_character(source: str, pos: int) -> NoReturn:
    char = source[pos]
    if char == "." and pos > 0 and (source[pos - 1].isalnum() or source[pos - 1] in ")]"):
        raise ParseError("attribute access '.' is not part of the grammar", pos + 1)
    if char in _BAD_CHARS:
        raise ParseError(f"unexpected {char!r}: {_BAD_CHARS[char]}", pos + 1)
    if not char.isascii():
        import unicodedata  # (only to name a bad character: not at every start-up)

        name = unicodedata.name(char, "unnamed character")
        raise ParseError(
            f"unexpected character {char!r} (U+{ord(char):04X} {name}); "
            "expressions are plain ASCII",
            pos + 1,
        )
    raise ParseError(f"unexpected character {char!r}", pos + 1)


def _check_number(source: str, text: str, start: int, end: int) -> None:
    following = source[end : end + 1]
    if text == "0" and following in ("x", "X", "o", "O", "b", "B"):
        raise ParseError(
            "hexadecimal, octal and binary literals are not supported; write decimal numbers",
            start + 1,
        )
    if following in ("j", "J") and not source[end + 1 : end + 2].isalnum():
        raise ParseError(
            f"complex literal {text}{following} is not supported (real numbers only); "
            f"for a variable named {following}, write {text}*{following}",
            start + 1,
        )
    mantissa, _, exponent = text.lower().partition("e")
    digits = sum(c.isdigit() for c in mantissa)
    if digits > MAX_DIGITS:
        raise TooLargeError(
            f"number at column {start + 1} has {digits} digits; the limit is {MAX_DIGITS}"
        )
    _check_exponent(mantissa, exponent, start)
    if math.isinf(float(text)):  # exact for SymPy, but no method can evaluate it
        raise TooLargeError(
            f"number at column {start + 1} ({text}) is past float64's range "
            "(about 1.8e308): autograd and finite differences cannot take it"
        )


def _check_exponent(mantissa: str, exponent: str, start: int) -> None:
    """A literal is built exactly (1e-300 is 1/10**300), so its exponent is
    bounded like its digits, and read only when short enough to read
    (1e-99999999999999999999 is refused, not computed)."""
    if not exponent:
        return
    short = len(exponent.lstrip("+-").lstrip("0")) <= 6
    scale = int(exponent) - len(mantissa.partition(".")[2]) if short else None
    if scale is None or abs(scale) > MAX_EXPONENT:
        shown = exponent if len(exponent) <= 20 else exponent[:20] + "…"
        raise TooLargeError(
            f"number at column {start + 1} has the exponent {shown}; the limit is "
            f"±{MAX_EXPONENT} (numbers are exact: 1e-5000 would be 1/10**5000)"
        )
