"""The `diff --points` view: a table of points (first and last rows when
long) and a summary of the verdicts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..verdict import Status
from . import Fit, numbers
from .diff import derivative_label

if TYPE_CHECKING:
    from ..batch import Many, PartialColumns

HEAD = 10  # rows shown at each end of a long table
_SHORT = {
    Status.AGREE: "✓",
    Status.DISAGREE: "✗ disagree",
    Status.KINK: "✗ kink",
    Status.UNDEFINED: "✗ undefined",
}


def _shown_rows(count: int) -> list[int | None]:
    """Row indices, with None where the middle of a long table is elided."""
    if count <= 2 * HEAD + 1:
        return list(range(count))
    return list(range(HEAD)) + [None] + list(range(count - HEAD, count))


def _methods(
    partial: PartialColumns, index: int, digits: int | None, all_methods: bool
) -> list[str]:
    values = [partial.sympy[index]]
    if all_methods:
        values += [partial.autograd[index], partial.finite_difference[index]]
    return [numbers.fmt(v, digits) for v in values]


def _table(many: Many, digits: int | None, all_methods: bool) -> RenderableType:
    table = Table()
    table.add_column("line", justify="right", no_wrap=True)
    for name in many.variables:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("f", justify="right", no_wrap=True)
    for partial in many.partials:
        label = derivative_label(partial.wrt)
        if all_methods:
            table.add_column(f"{label}\nSymPy", justify="right", no_wrap=True)
            table.add_column("\nautograd", justify="right", no_wrap=True)
            table.add_column("\nFD", justify="right", no_wrap=True)
        else:
            table.add_column(label, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for index in _shown_rows(len(many.points)):
        if index is None:
            table.add_row("…", *[""] * (len(table.columns) - 1))
            continue
        cells = [str(many.points.lines[index])]
        cells += [numbers.fmt(many.points.columns[n][index], digits) for n in many.variables]
        cells.append(numbers.fmt(many.value[index], digits))
        for partial in many.partials:
            cells += _methods(partial, index, digits, all_methods)
        cells.append(_SHORT[many.status(index)])
        table.add_row(*cells)
    if all_methods:
        return table
    return Group(
        table,
        Text(
            "(the SymPy value of each derivative; autograd and finite differences are "
            "left out to fit the width, --json has them; the verdict compares all three)",
            style="dim",
        ),
    )


def _lines(many: Many, digits: int | None) -> Group:
    """The narrowest layout: one line a point, wrapping between values."""
    lines = []
    for index in _shown_rows(len(many.points)):
        if index is None:
            lines.append(Text("…"))
            continue
        words = [f"line {many.points.lines[index]}:"]
        words += [
            f"{n} = {numbers.fmt(many.points.columns[n][index], digits)}," for n in many.variables
        ]
        words.append(f"f = {numbers.fmt(many.value[index], digits)};")
        for partial in many.partials:
            label = derivative_label(partial.wrt)
            sympy, autograd, fd = _methods(partial, index, digits, True)
            words.append(f"{label}: SymPy {sympy}, autograd {autograd}, FD {fd};")
        words.append(_SHORT[many.status(index)])
        lines.append(Text(" ".join(words)))
    return Group(*lines)


def view(many: Many, digits: int | None = None) -> Group:

    fewer = [numbers.FIT_DIGITS] if digits is None else []
    layouts: list[RenderableType] = [_table(many, d, True) for d in [digits, *fewer]]
    layouts += [_table(many, d, False) for d in [digits, *fewer]]
    layouts.append(_lines(many, digits))
    count = len(many.points)
    counts = many.counts()
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(counts.items()))
    noun = "point" if count == 1 else "points"
    parts: list[RenderableType] = [Text(f"f = {many.expression}", style="italic"), Fit(*layouts)]
    parts.append(Text(f"{count} {noun}: {summary}"))
    for index in sorted(many.reasons)[:HEAD]:
        parts.append(Text(f"line {many.points.lines[index]}: {many.reasons[index]}", style="dim"))
    return Group(*parts)
