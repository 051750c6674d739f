"""Typed errors raised by the library, and the exit codes they map to.

Nothing here knows about the CLI: `cli/group.py` maps `GradcalcError.exit_code`
to the process exit status in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit statuses, one meaning each (docs/exit-codes.md lists them)."""

    OK = 0  # computed, every method agrees
    DISAGREE = 1  # computed, but methods disagree or the point is a kink
    INPUT = 2  # usage, parse error, unknown name, malformed point, past a documented limit
    UNDEFINED = 3  # the math is undefined or not finite at the point, or past the budget
    INTERNAL = 70  # a bug escaped: one line, never a traceback
    # The answer could not be written (full disk, closed stdout), or the repl's
    # input read (EIO): sysexits' EX_IOERR.
    OUTPUT = 74
    INTERRUPTED = 130  # Ctrl-C, SIGTERM, SIGHUP
    CLOSED_PIPE = 141  # the reader closed the pipe: killed by SIGPIPE, as `yes | head -1`


class GradcalcError(Exception):
    """Base of every error the library raises on purpose."""

    kind = "error"
    exit_code = ExitCode.INPUT

    def __init__(self, message: str, option: str | tuple[str, ...] | None = None):
        # `option` names the library parameter(s) the message is about: the
        # library says "order must be ...", the CLI "--order must be ...". A
        # message that names them elsewhere writes "{order}" where each goes.
        self.options = (option,) if isinstance(option, str) else tuple(option or ())
        self.detail = message
        self.message = self.worded(str)
        super().__init__(self.message)

    def worded(self, spell: Callable[[str], str]) -> str:
        """The message with each parameter spelled by `spell` (the CLI passes
        one that writes a flag: "order" -> "--order")."""
        text = self.detail
        placed = False
        for name in self.options:
            if "{" + name + "}" in text:
                text, placed = text.replace("{" + name + "}", spell(name)), True
        if self.options and not placed:
            return f"{spell(self.options[0])} {text}"
        return text


class UsageError(GradcalcError):
    kind = "usage"


class ParseError(GradcalcError):
    """The expression is outside the grammar; `column` is 1-based."""

    kind = "parse"

    def __init__(self, message: str, column: int | None = None, text: str | None = None):
        where = f" at column {column}" if column is not None else ""
        super().__init__(f"{message}{where}")
        self.column = column
        self.text = text


class UnknownNameError(ParseError):
    kind = "unknown_name"


class PointError(GradcalcError):
    """A malformed or incomplete point (`--at`, `--points`)."""

    kind = "point"


class DomainError(GradcalcError):
    """The math is undefined or not finite at the point."""

    kind = "domain"
    exit_code = ExitCode.UNDEFINED


class NotDifferentiableError(GradcalcError):
    """What was asked needs the derivative at a point where f has none (a
    kink, a jump): the verdict `diff` gives there, `not_differentiable`."""

    kind = "not_differentiable"
    exit_code = ExitCode.DISAGREE


class Float64RangeError(GradcalcError):
    """f is finite at the point (in 30 digits), but a part of it is past
    float64's range there, so no float64 method can evaluate it: a limit of
    the computation, like the budget, not undefined math."""

    kind = "overflow"
    exit_code = ExitCode.UNDEFINED


class Float64RoundingError(GradcalcError):
    """f is finite at the point (in 30 digits), but float64's rounding makes
    a part of it not finite there (x - pi is 0 in float64 at float64's pi,
    so 1/(x - pi) divides by zero): no float64 method can evaluate it, though
    the function is defined there. Also where float64's rounding puts a part
    onto its kink though the point is off it (abs(x - pi) there): no float64
    method can differentiate it."""

    kind = "rounding"
    exit_code = ExitCode.UNDEFINED


class TooLargeError(GradcalcError):
    """The input is past a documented limit (length, nesting depth, digits,
    exact power): wrong input, like a parse error."""

    kind = "too_large"
    exit_code = ExitCode.INPUT


class BudgetError(GradcalcError):
    """The work ran past its time or memory budget (the message says which):
    the input was acceptable, the computation too costly."""

    kind = "budget"
    exit_code = ExitCode.UNDEFINED


class OutputError(GradcalcError):
    """The answer could not be written to stdout (full disk, closed stream):
    reported on stderr only, since stdout is what failed."""

    kind = "output"
    exit_code = ExitCode.OUTPUT


class InputStreamError(GradcalcError):
    """A session's input stream failed to read (EIO: its terminal went away):
    the session cannot go on, and that is no success."""

    kind = "input"
    exit_code = ExitCode.OUTPUT
