"""The function table as the `functions` command shows it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def arity_text(arity: tuple[int, int | None]) -> str:
    """How many arguments: "1", "1–2", "2 or more"."""
    low, high = arity
    if high is None:
        return f"{low} or more"
    return str(low) if low == high else f"{low}–{high}"


def view(functions: Iterable[Any]) -> Any:
    """One row a function. Every cell is Text, never markup: a description
    like "x clipped to [lo, hi]" or "softmax(logits)[k]" is shown whole."""
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for header in ("function", "arguments", "domain", "description"):
        table.add_column(header, overflow="fold")  # a long word folds, never cut
    for f in functions:
        cells = ("/".join((f.name,) + f.aliases), arity_text(f.arity), f.domain, f.doc)
        table.add_row(*(Text(cell) for cell in cells))
    table.add_row("pi, e/E", "", "", "constants")
    return table
