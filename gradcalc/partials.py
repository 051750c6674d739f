"""One derivative as `differentiate` reports it, and as its methods measured it.

Both paths that take derivatives at one point build these: `check` (scalar
variables and short vectors) and `vectors` (long vectors). The types live
here, below both, so that neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .verdict import Methods

# A vector's components a table shows before eliding: `vectors` computes
# (and samples) those exactly, and render/numbers.py shows that many.
MAX_SHOWN = 8


@dataclass(frozen=True)
class Partial:
    """One derivative: d^order f / d wrt[0] ... d wrt[-1]. For a vector
    variable (order 1) each value is a list over its components."""

    wrt: tuple[str, ...]
    symbolic: str | list[str]
    sympy: float | list[float | None] | None  # None: not a finite real (see problems)
    autograd: float | list[float | None] | None  # None: not run (--no-autograd)
    finite_difference: float | list[float]
    finite_difference_error: float | list[float]
    agree: bool
    problems: list[str] = field(default_factory=list)  # words, when not agree
    truncated: bool = False  # `symbolic` shows only the leading terms
    finite_difference_checked: bool = True  # False: no clean step (see numeric)

    @property
    def order(self) -> int:
        return len(self.wrt)


# A named tuple: defined at start-up in a quarter of a dataclass's time.
class Measured(NamedTuple):
    """One derivative by the three methods, before they are compared: the
    values to show (`partial`, whose `agree` and `problems` the verdict
    replaces), the arrays the verdict weighs (`methods`, shape (1,
    components)), and what measuring it found worth a note."""

    partial: Partial
    methods: Methods
    notes: tuple[str, ...] = ()


def shaped(items: list[Any], vector: bool) -> Any:
    """A vector variable's values as a list; a scalar's as its one value."""
    return list(items) if vector else items[0]


__all__ = ["Measured", "Partial", "shaped"]
