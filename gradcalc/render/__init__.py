"""Views: functions that take library results and *return* Rich renderables.
The CLI prints them once."""

from rich.console import Group
from rich.table import Table
from rich.text import Text


def titled(title, table: Table) -> Group:
    """A table under its title line. (Rich pads a table's own title out to
    the table's width: trailing spaces on every line of piped output.)"""
    return Group(title if isinstance(title, Text) else Text(title, style="italic"), table)
