"""The `taylor` view: the polynomial, a table of its coefficients by the
three methods, the remainder at a few distances, the radius, the verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from . import fit_table, numbers
from .diff import verdict

if TYPE_CHECKING:
    from ..explain import TaylorExplanation
    from ..taylor import Taylor


_UP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def view(expanded: Taylor, digits: int | None = None) -> Group:
    held = [f"{n} = {numbers.fmt(v, digits)}" for n, v in expanded.point.items()]
    name = expanded.variable
    parts: list[RenderableType] = [
        Text("f = ", style="bold")
        + Text(expanded.expression)
        + Text(f"  around {', '.join(held)}  (degree {expanded.order} in {name})"),
        Text(f"P({name}) = ", style="bold") + Text(expanded.polynomial(digits or 10)),
    ]
    if expanded.exact_polynomial is not None:
        parts.append(Text(f"P({name}) = ", style="bold") + Text(expanded.exact_polynomial))
    parts.append(fit_table(lambda shown: _coefficients(expanded, shown), digits))
    if expanded.remainders:
        parts.append(fit_table(lambda shown: _remainders(expanded, shown), digits))
        parts.append(_radius(expanded))
    for note in expanded.notes:
        parts.append(Text(f"note: {note}", style="dim"))
    parts.append(verdict(expanded))  # type: ignore[arg-type]  # status and reason, as diff's
    return Group(*parts)


def _coefficients(expanded: Taylor, digits: int | None) -> Table:
    table = Table(title=None)
    table.add_column("k", justify="right")
    table.add_column("c_k = f⁽ᵏ⁾(a)/k!", no_wrap=True)
    for heading in ("SymPy", "autograd\nfloat64", "mpmath\n50 digits"):
        table.add_column(heading, justify="right", no_wrap=True)
    table.add_column("agree", justify="center")
    for c in expanded.coefficients:
        table.add_row(
            str(c.k),
            Text(c.exact or "—"),
            Text(numbers.fmt(c.sympy, digits)),
            Text(numbers.fmt(c.autograd, digits)),
            Text(numbers.fmt(c.mpmath, digits)),
            "✓" if c.agree else "✗",
        )
    return table


def _remainders(expanded: Taylor, digits: int | None) -> Table:
    name, n = expanded.variable, expanded.order
    table = Table()
    table.add_column("h", justify="right")
    table.add_column(f"|f − P| at {name} = a − h", justify="right", no_wrap=True)
    table.add_column(f"|f − P| at {name} = a + h", justify="right", no_wrap=True)
    table.add_column(f"÷ h^{n + 1}", justify="right", no_wrap=True)
    shown = min(digits or 4, 4)
    for r in expanded.remainders:
        largest = r.largest
        table.add_row(
            numbers.fmt(r.h, shown),
            numbers.fmt(r.left, shown) if r.left is not None else "undefined",
            numbers.fmt(r.right, shown) if r.right is not None else "undefined",
            "—" if largest is None else numbers.fmt(largest / r.h ** (n + 1), shown),
        )
    return table


def _radius(expanded: Taylor) -> Text:
    found = expanded.radius
    following = (
        f"the remainder ÷ h^{expanded.order + 1} tends to |c_{expanded.order + 1}| = "
        f"{numbers.fmt(abs(expanded.next_coefficient), 4)}; "
        if expanded.next_coefficient is not None
        else ""
    )
    if found.capped:
        words = f"at least {numbers.fmt(found.radius, 4)} (the end of the grid)"
    elif found.radius == 0:
        words = "0 (even the nearest distance tried is off by more)"
    else:
        words = numbers.fmt(found.radius, 4)
    return Text(f"{following}|f − P| ≤ {found.tolerance:g} for |{expanded.variable} − a| ≤ {words}")


def explained(taught: TaylorExplanation, digits: int | None = None) -> Group:
    """Each derivative step by step (as diff --explain shows one), then each
    coefficient as f⁽ᵏ⁾(a)/k!."""
    import sympy as sp

    from .explain import text

    name = taught.variable
    a = sp.sstr(taught.at)
    lines: list[RenderableType] = [text(taught.explanation, digits=digits)]
    lines.append(Text(f"Taylor coefficients at {name} = {a}: c_k = f⁽ᵏ⁾({a})/k!", style="bold"))
    for k, (exact, number) in enumerate(taught.coefficients):
        shown = numbers.fmt(number, digits)
        value = shown if exact is None or sp.sstr(exact) == shown else f"{sp.sstr(exact)} ≈ {shown}"
        lines.append(Text(f"  c_{k} = f⁽{str(k).translate(_UP)}⁾({a})/{k}! = {value}"))
    return Group(*lines)
