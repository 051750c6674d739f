"""The accumulate view: .grad after each backward pass, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from . import fit_table, numbers, titled

if TYPE_CHECKING:
    from ..accumulation import Accumulation


def _table(result: Accumulation, digits: int | None) -> Table:
    table = Table()
    table.add_column("pass", justify="right", no_wrap=True)
    for name in result.variables:
        table.add_column(f"{name}.grad", justify="right", no_wrap=True)
    table.add_column("expected", justify="right", no_wrap=True)
    for k, got in enumerate(result.grads, start=1):
        factor = "1 ×" if result.zero_grad else f"{k} ×"
        expected = ", ".join(
            f"{factor} {numbers.fmt(result.gradient[n], digits)}" for n in result.variables
        )
        table.add_row(str(k), *[numbers.cell(got[n], digits) for n in result.variables], expected)
    return table


def view(result: Accumulation, digits: int | None = None) -> Group:

    how = "zeroing .grad before each pass" if result.zero_grad else "without zeroing .grad"
    mark, style = ("✓", "green") if result.agree else ("✗", "red")
    return Group(
        titled(
            f"{result.expression}: backward() {result.passes} times, {how}",
            fit_table(lambda d: _table(result, d), digits),
        ),
        *[Text(f"note: {note}", style="dim") for note in result.notes],
        Text(f"{mark} {result.disagreement or result.explanation}", style=style),
    )
