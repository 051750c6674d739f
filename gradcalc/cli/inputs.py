"""Input the commands read themselves: an expression from stdin ('-'), the
--points stream, and the numbers of perceptron's options."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import PointError, TooLargeError, UsageError

if TYPE_CHECKING:
    from ..atpoint import Point
    from ..parsing import Expression


def expression_text(text: str) -> str:
    """'-' reads the expression from stdin (one line, surrounding blanks dropped)."""
    if text != "-":
        return unprotected(text)
    text = _stdin_text().strip()
    if not text:
        raise UsageError("no expression on stdin (EXPR '-' reads it from there)")
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1:  # two expressions would read as their product
        raise UsageError(
            f"stdin holds {len(lines)} lines; EXPR '-' reads one expression "
            "(gradcalc repl answers one a line)"
        )
    return text


def _stdin_text() -> str:
    """stdin as text, at most MAX_LENGTH characters (blanks count: the limit
    bounds what is read, not what is left after stripping)."""
    from ..parsing import MAX_LENGTH  # (not at import: --help reads no expression)

    # UTF-8 takes at most 4 bytes a character: reading this much decides the
    # limit without reading an endless stdin (/dev/zero) to its end.
    most_bytes = 4 * MAX_LENGTH + 1
    if sys.stdin is None:
        raise UsageError("no expression on stdin: standard input is closed")
    from .. import budget

    buffer = getattr(sys.stdin, "buffer", None)
    # Waiting for the writer is not computing: unbounded, unless --timeout
    # is given, which then bounds the wait too (as for --points).
    with budget.waiting():
        data = buffer.read(most_bytes) if buffer is not None else sys.stdin.read(most_bytes)
    if isinstance(data, bytes):
        if len(data) >= most_bytes:
            raise _too_long(None)
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UsageError(
                f"the expression on stdin is not UTF-8 text (byte {error.start + 1})"
            ) from None
    if len(data) > MAX_LENGTH:
        raise _too_long(len(data))
    return data


def _too_long(characters: int | None) -> TooLargeError:
    """None: more than could be read."""
    from ..parsing import MAX_LENGTH

    size = f"more than {MAX_LENGTH}" if characters is None else str(characters)
    return TooLargeError(
        f"the expression on stdin is {size} characters long; the limit is {MAX_LENGTH}"
    )


def unprotected(text: str) -> str:
    """The expression without the blank argv.protect_negative_expressions
    put before a leading minus."""
    return text[1:] if text.startswith(" -") else text


def expression_and_point(ctx: Any, expression: str, at: list[str] | None) -> tuple[Any, Any]:
    """The expression and the point, as read before the imports (see
    startup.read_ahead) when they read: an Expression and a Point, never
    read again. Otherwise the text and the --at specifications as given, for
    the library to read once, and to raise on in its own order."""
    from .output import read_as

    text = expression_text(expression)
    ahead = ctx.meta.get(INPUT)
    if ahead is None or ahead.text != text:
        from ..parsing import looks_like_latex, parse

        forced = bool(ctx.params.get("latex"))
        if not (forced or looks_like_latex(text)):
            return text, list(at or [])
        ahead = ReadAhead(text, parse(text, latex=forced or None), None)
    read_as(ahead.expression)
    return ahead.expression, ahead.point if ahead.point is not None else list(at or [])


def derivative_asked(expr: Any, wrt: list[str] | None, order: int) -> tuple[Any, int]:
    """--wrt and --order, or what LaTeX's \\frac{d^n}{dx^n} asked for when they
    are not given (the options win)."""
    asked = getattr(expr, "derivative", None)
    if asked is None:
        return wrt, order
    return (wrt or [asked[0]]), (order if order != 1 else asked[1])


def window(text: str) -> tuple[float, float]:
    """plot --range 'a:b' -> (a, b), a < b, each a number or a constant
    expression (pi/2) as --at reads one."""
    import math

    from ..atpoint import number
    from ..errors import GradcalcError

    parts = text.split(":")
    if len(parts) != 2:
        raise UsageError(f"'{text}' is not a range a:b (e.g. -2:2)", option="range")
    try:
        a, b = (number(part, "range") for part in parts)
    except GradcalcError:
        raise UsageError(f"'{text}' is not a range a:b of numbers", option="range") from None
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise UsageError(f"'{text}': needs finite a < b", option="range")
    return a, b


def open_points(source: str) -> tuple[Any, str]:
    """The binary stream of --points (stdin for '-'), and the name for messages."""
    if source == "-":
        if sys.stdin is None:
            raise PointError("--points -: standard input is closed")
        return sys.stdin.buffer, "stdin"
    try:
        return open(source, "rb"), source
    except OSError as error:
        raise PointError(f"--points {source}: {error.strerror or error}") from None


def numbers(text: str, option: str) -> list:
    from ..atpoint import number

    return [number(part, option) for part in text.split(",")]


def one_number(text: str, option: str) -> float:
    """One number (a list of several is refused, not cut to its first)."""
    values = numbers(text, option)
    if len(values) != 1:
        raise UsageError(f"{option} takes one number, not {len(values)}")
    return values[0]


INPUT = "gradcalc.input"  # key of Click's context meta: the input read ahead


# A named tuple: immutable, and defined at start-up in a quarter of a frozen dataclass's time.
class ReadAhead(NamedTuple):
    """The command's expression and point, read once before the imports."""

    text: str  # the expression as the command reads it
    expression: Expression
    point: Point | None  # None: no --at


def given_text(params: dict) -> str | None:
    """The expression's text on the command line (None: none, or stdin's)."""
    text = params.get("expression")
    if not isinstance(text, str) or text.strip() == "-":
        return None
    return unprotected(text)


def read_ahead(params: dict) -> ReadAhead | None:
    """The expression parsed and its --at points resolved, or None when
    there is no expression on the command line or it (or a point) does not
    read: the command then reads them itself and raises, in its own order."""
    from .. import atpoint
    from ..errors import GradcalcError
    from ..parsing import parse

    text = given_text(params)
    if text is None:
        return None
    try:
        expression = parse(text, latex=True if params.get("latex") else None)
        at = params.get("at")
        point = atpoint.point(list(at), expression.variables) if at else None
    except GradcalcError:
        return None
    return ReadAhead(text, expression, point)
