"""The `diff --points` view: a table of points (first and last rows when
long) and a summary of the verdicts."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..verdict import Status
from . import numbers, titled

HEAD = 10  # rows shown at each end of a long table
_SHORT = {
    Status.AGREE: "✓",
    Status.DISAGREE: "✗ disagree",
    Status.KINK: "✗ kink",
    Status.UNDEFINED: "✗ undefined",
}


def view(many) -> Group:
    table = Table()
    table.add_column("line", justify="right")
    for name in many.variables:
        table.add_column(name, justify="right", overflow="fold")
    table.add_column("f", justify="right", overflow="fold")
    for partial in many.partials:
        label = "∂f/" + "".join(f"∂{n}" for n in partial.wrt)
        table.add_column(f"{label} SymPy", justify="right", overflow="fold")
        table.add_column("autograd", justify="right", overflow="fold")
        table.add_column("FD", justify="right", overflow="fold")
    table.add_column("verdict", no_wrap=True)
    count = len(many.points)
    rows = (
        list(range(count))
        if count <= 2 * HEAD + 1
        else (list(range(HEAD)) + [None] + list(range(count - HEAD, count)))
    )
    for index in rows:
        if index is None:
            table.add_row("…", *[""] * (len(table.columns) - 1))
            continue
        cells = [str(many.points.lines[index])]
        cells += [numbers.short(many.points.columns[n][index], 8) for n in many.variables]
        cells.append(numbers.short(many.value[index], 8))
        for partial in many.partials:
            cells += [
                numbers.short(partial.sympy[index], 8),
                numbers.short(partial.autograd[index], 8),
                numbers.short(partial.finite_difference[index], 8),
            ]
        cells.append(_SHORT[many.status(index)])
        table.add_row(*cells)
    counts = many.counts()
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(counts.items()))
    parts = [titled(f"f = {many.expression}", table), Text(f"{count} points: {summary}")]
    for index in sorted(many.reasons)[:HEAD]:
        parts.append(Text(f"line {many.points.lines[index]}: {many.reasons[index]}", style="dim"))
    return Group(*parts)
