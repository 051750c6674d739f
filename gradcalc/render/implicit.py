"""The `diff --implicit` view: the curve and the point on it, dy/dx by both
methods, the verdict; with --explain, the steps above it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from . import numbers
from .diff import _MARK

if TYPE_CHECKING:
    from ..implicit import Implicit
    from ..implicit_explain import ImplicitExplanation


def view(
    result: Implicit | None,
    explained: ImplicitExplanation | None = None,
    digits: int | None = None,
) -> Group:
    parts: list[RenderableType] = []
    if explained is not None:
        parts.append(steps(explained))
    if result is not None:
        parts.append(table(result, digits))
    return Group(*parts)


def steps(explained: ImplicitExplanation) -> Group:
    """Each step: its rule and check, then before → after and how."""
    power = "" if explained.order == 1 else "²"
    named = f"d{power}{explained.y}/d{explained.x}{power}"
    head = Text(f"{named} of {explained.equation}, step by step", style="bold")
    lines: list[RenderableType] = [head]
    for step in explained.steps:
        mark = (
            Text(f"✓ {step.check}", style="green")
            if step.checked
            else Text(f"✗ {step.check}", style="bold red")
        )
        lines.append(Text(f"  {step.number}. {step.rule}   ") + mark)
        lines.append(Text(f"       {step.before}  →  {step.after}"))
        uses = f" (uses step {', '.join(map(str, step.uses))})" if step.uses else ""
        lines.append(Text(f"       {step.how}{uses}", style="dim"))
    primes = ["′", "″"]
    for i, result in enumerate(explained.results):
        lines.append(Text(f"  {explained.y}{primes[i]} = {result}", style="bold"))
    checked = sum(step.checked for step in explained.steps)
    lines.append(
        Text(
            f"{checked} of {len(explained.steps)} steps checked against SymPy "
            "(y as a function y(x); sympy.idiff)"
        )
    )
    return Group(*lines)


def table(result: Implicit, digits: int | None = None) -> Group:
    eq = result.equation
    where = ", ".join(f"{k} = {numbers.fmt(v, digits)}" for k, v in result.point.items())
    header = Text("curve: ", style="bold") + Text(f"{eq.lhs.source} = {eq.rhs.source}")
    header += Text(f"  at {where}, {result.y} a function of {result.x}")
    on_curve = Text(
        f"on the curve: lhs - rhs = {numbers.fmt(result.residual, digits)} "
        f"(tolerance {result.on_curve_tolerance:.2g})"
    )
    formula = Text(f"{result.name} = ", style="bold") + Text(result.formula)
    rows = Table()
    rows.add_column("method", no_wrap=True)
    rows.add_column("value", justify="right", no_wrap=True)
    rows.add_column("|error| vs SymPy", justify="right", no_wrap=True)
    rows.add_row("SymPy (-F_x/F_y, 30 digits)", numbers.fmt(result.symbolic, digits), "—")
    gap = result.difference
    rows.add_row(
        "numeric (findroot, mpmath.diff)",
        numbers.fmt(result.numeric, digits),
        "—" if gap is None else f"{abs(gap):.2g}",
    )
    mark, style = _MARK[result.status]
    verdict = Text(f"{mark} ", style=f"bold {style}") + Text(result.reason)
    return Group(header, on_curve, formula, rows, verdict)
