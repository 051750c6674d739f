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
    from rich.table import Table

    table = Table("function", "arguments", "domain", "description")
    for f in functions:
        table.add_row("/".join((f.name,) + f.aliases), arity_text(f.arity), f.domain, f.doc)
    table.add_row("pi, e/E", "", "", "constants")
    return table
