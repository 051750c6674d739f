"""Views: functions that take library results and *return* Rich renderables.
The CLI prints them once."""

from collections.abc import Callable, Iterator

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

UNBOUNDED = 100_000  # columns: to measure what a layout needs, unconstrained


def titled(title: str | Text, table: RenderableType) -> Group:
    """A table under its title line. (Rich pads a table's own title out to
    the table's width: trailing spaces on every line of piped output.)"""
    return Group(title if isinstance(title, Text) else Text(title, style="italic"), table)


def needed(console: Console, options: ConsoleOptions, renderable: RenderableType) -> int:
    """The width `renderable` needs with nothing cut: a table's no-wrap
    columns (its numbers) at their widest cell, the others at their longest
    word. (Rich's own minimum counts words in no-wrap columns too, and then
    truncates them.)"""
    if isinstance(renderable, Group):
        return max((needed(console, options, r) for r in renderable.renderables), default=0)
    if isinstance(renderable, Fit):
        return needed(console, options, renderable.choose(console, options))
    if isinstance(renderable, Table):
        total = renderable._extra_width
        for column in renderable.columns:
            measured = renderable._measure_column(console, options, column)
            total += measured.maximum if column.no_wrap else measured.minimum
        return total
    return Measurement.get(console, options, renderable).minimum


class Fit:
    """The first of several layouts that fits the width it is printed in,
    chosen when printed (so the terminal's width decides): a table whose
    numbers sit whole in their columns, then narrower ones, and last a
    layout that fits anything. The last is used when none fits."""

    def __init__(self, *layouts: RenderableType) -> None:
        self.layouts = layouts

    def choose(self, console: Console, options: ConsoleOptions) -> RenderableType:
        wide = options.update_width(UNBOUNDED)
        for layout in self.layouts[:-1]:
            if needed(console, wide, layout) <= options.max_width:
                return layout
        return self.layouts[-1]

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        yield self.choose(console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.choose(console, options))


class Prose:
    """A line of words folded at spaces to the width it is printed in, the
    lines after the first indented by `hang` (so a step's explanation stays
    under its step), units matching `keep` ("(step 2)") never split, and a
    word is folded only when it is longer than a line."""

    def __init__(self, text: str, hang: int, style: str = "", keep: str = r"\(step \d+\)") -> None:
        self.text = text
        self.hang = hang
        self.style = style
        self.keep = keep

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        from ..folding import fold, keep_together

        lead = len(self.text) - len(self.text.lstrip(" "))
        folded = fold(keep_together(self.text, self.keep), options.max_width, self.hang - lead)
        for line in folded.split("\n"):
            yield Text(line, style=self.style, overflow="fold")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        longest = max((len(w) for w in self.text.split()), default=0)
        return Measurement(min(self.hang + longest, len(self.text)), len(self.text))


def table_lines(table: Table) -> Group:
    """A table as one line a row ("label: heading value, heading value"),
    for a terminal too narrow for its columns: lines wrap only between
    values, so no number is cut."""
    columns = table.columns
    lines = []
    for row in range(table.row_count):
        cells = [" ".join(str(c._cells[row]).split()) for c in columns]
        headings = [" ".join(str(c.header).split()) for c in columns]
        parts = [f"{h} {v}".strip() for h, v in zip(headings[1:], cells[1:]) if v]
        lines.append(Text(f"{cells[0]}: " + ", ".join(parts)))
    return Group(*lines)


def fit_table(make: Callable[[int | None], Table], digits: int | None) -> Fit:
    """`make(digits)` (a Table) as it fits: its vectors each on one line,
    then broken between elements, at fewer digits when the user did not
    choose, else one line a row."""
    from .numbers import FIT_DIGITS, whole_vectors

    with whole_vectors():
        layouts: list[RenderableType] = [make(digits)]
    layouts.append(make(digits))
    if digits is None:
        layouts.append(make(FIT_DIGITS))
    layouts.append(table_lines(make(digits)))
    return Fit(*layouts)
