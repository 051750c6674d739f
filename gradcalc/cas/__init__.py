"""The computer algebra systems behind the symbolic method, behind one interface.

Two engines meet `Engine`: SymPy (`sympy_engine`, 30-digit values, every
function of the table) and SymEngine (`symengine_engine`, SymPy's C++ core:
milliseconds where SymPy takes seconds on large trees, float64 values, and
only the functions whose table row says `symengine=True`). `choose` picks one
for an expression; `tree` walks the parsed tree into either. Nothing here
imports SymPy or SymEngine until an engine is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..parsing import Expression


# How value_at says a derivative is a finite number that float64 cannot hold
# (-1/x**2 at 1e-160): not a divergence, and no limit is looked for.
OVERFLOWS = "finite but beyond float64's range"


class Engine(Protocol):
    """What `check`, `batch`, `chainrule`, `backward` and `graph` use of a CAS."""

    NAME: str  # for people: "SymPy"
    ENGINE: str  # for Result.engine and JSON: "sympy"
    WIDE_FACTORS: int  # products wider than this are not expanded (see chainrule)

    def symbols_for(self, variables: list, shapes: dict) -> dict: ...
    def build(self, expr: Any, symbols: dict) -> Any: ...
    def derivative(self, f: Any, symbols: tuple) -> Any: ...
    def substitutions(self, symbols: dict, point: dict) -> dict: ...
    def value_at(self, f: Any, substitutions: dict) -> tuple[float | None, str | None]: ...
    def text(self, f: Any) -> str: ...
    def printer(self) -> Any: ...  # a `text` that prints what its calls share once
    def number(self, value: float) -> Any: ...
    def operation(self, op: str, args: list) -> Any: ...
    def placeholders(self, names: list) -> list: ...
    def leaf(self, node: Any) -> Any: ...


def sympy() -> Engine:
    from . import sympy_engine

    return sympy_engine.ENGINE_INSTANCE


def symengine() -> Engine:
    from . import symengine_engine

    return symengine_engine.ENGINE_INSTANCE


def choose(expr: Expression, any_size: bool = False) -> Engine:
    """SymEngine when it can differentiate every function of `expr` and the
    tree is large (or, with `any_size`, whatever its size: the symbolic-only
    mode wants speed); SymPy otherwise."""
    from . import symengine_engine

    if symengine_engine.suits(expr, any_size):
        return symengine()
    return sympy()
