"""A view as HTML for Jupyter: the same Rich renderables a terminal prints,
written as HTML elements rather than as characters in a `<pre>`.

A Rich `Table` becomes a `<table>` (Jupyter styles it as it does pandas'),
a `Tree` nested lists, a `Text` a paragraph with its colours, a `Fit` its
first (widest) layout, since a browser folds a table itself. A `Typeset` text (a
derivative's line) is typeset: its LaTeX between `$...$`, which Jupyter's
MathJax renders inside HTML. (Jupyter shows only the HTML when a result also
offers `text/latex`, so the LaTeX has to be in the HTML.) Every piece of
text is escaped: an expression, a name or a message is never markup.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from . import UNBOUNDED, Fit

# Jupyter's table style reads `text-align` per cell; everything else is its own.
_ALIGN = {"right": "right", "center": "center"}


class Typeset(Text):
    """Text that HTML shows typeset: `latex()` is its LaTeX, or None to show
    the text (a derivative's line, `render.diff.Formula`)."""

    def latex(self) -> str | None:  # pragma: no cover - each kind defines it
        return None


def derivative_latex(wrt: Sequence[str]) -> str:
    """\\frac{\\partial f}{\\partial x}, \\frac{\\partial^{2} f}{\\partial x \\partial y}."""
    import sympy

    names = list(wrt)
    top = r"\partial f" if len(names) == 1 else rf"\partial^{{{len(names)}}} f"
    below = []
    for name in dict.fromkeys(names):
        count = names.count(name)
        power = f"^{{{count}}}" if count > 1 else ""
        below.append(rf"\partial {sympy.latex(sympy.Symbol(name))}{power}")
    return rf"\frac{{{top}}}{{{' '.join(below)}}}"


def formula_latex(symbolic: str | list[str] | None, shapes: Mapping[str, int]) -> str | None:
    """A derivative formula in LaTeX (a list as a bracketed vector); None
    when it is not gradcalc's grammar (a formula cut short with `…`)."""
    if symbolic is None:
        return None
    if isinstance(symbolic, list):
        from .numbers import MAX_SHOWN

        items = [formula_latex(s, shapes) for s in symbolic[:MAX_SHOWN]]
        if any(item is None for item in items):
            return None
        more = len(symbolic) - MAX_SHOWN
        tail = [rf"\ldots\ \text{{{more} more}}"] if more > 0 else []
        return r"\left[" + ", ".join([str(i) for i in items] + tail) + r"\right]"
    import sympy

    from ..cas import sympy_engine
    from ..errors import GradcalcError
    from ..parsing import parse

    try:
        expr = parse(symbolic)
        symbols = sympy_engine.symbols_for(expr.variables, {})
        for name, length in shapes.items():
            if name in symbols:  # x[0] typeset x_{0}
                symbols[name] = [sympy.Symbol(f"{name}_{{{i}}}", real=True) for i in range(length)]
        return str(sympy.latex(sympy_engine.build(expr, symbols)))
    except GradcalcError:
        return None


def to_html(renderable: RenderableType) -> str:
    """`renderable` as one HTML `<div>`."""
    # No highlighter: the view's own styles only, as the terminal's Text has them.
    console = Console(
        width=UNBOUNDED, force_terminal=True, color_system="truecolor", highlight=False
    )
    return '<div class="gradcalc">' + _block(console, renderable) + "</div>"


def _block(console: Console, renderable: RenderableType) -> str:
    if isinstance(renderable, Group):
        return "".join(_block(console, r) for r in renderable.renderables)
    if isinstance(renderable, Fit):
        return _block(console, renderable.layouts[0])
    if isinstance(renderable, (Padding, Panel)):
        return _block(console, renderable.renderable)
    if isinstance(renderable, Table):
        return _table(console, renderable)
    if isinstance(renderable, Tree):
        return "<ul>" + _tree(console, renderable) + "</ul>"
    return f'<p style="margin: 0.2em 0">{_inline(console, renderable)}</p>'


def _tree(console: Console, tree: Tree) -> str:
    children = "".join(_tree(console, child) for child in tree.children)
    inner = f"<ul>{children}</ul>" if children else ""
    return f"<li>{_inline(console, tree.label)}{inner}</li>"


def _table(console: Console, table: Table) -> str:
    head = "".join(
        f'<th style="text-align: {_ALIGN.get(c.justify, "left")}">{_inline(console, c.header)}</th>'
        for c in table.columns
    )
    rows = []
    for k in range(table.row_count):
        cells = "".join(
            f'<td style="text-align: {_ALIGN.get(c.justify, "left")}">'
            f"{_inline(console, c._cells[k])}</td>"
            for c in table.columns
        )
        rows.append(f"<tr>{cells}</tr>")
    caption = f"<caption>{_inline(console, table.title)}</caption>" if table.title else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _inline(console: Console, renderable: Any) -> str:
    """Text (or a table's cell) as escaped HTML with its colours and bold.
    A line break inside a cell (a vector broken between elements, a
    two-line heading) is a space: the browser folds the cell itself."""
    if isinstance(renderable, Typeset):
        latex = renderable.latex()
        if latex is not None:
            return f"${html.escape(latex)}$"
    if isinstance(renderable, str):
        renderable = console.render_str(renderable)
    if not isinstance(renderable, Text):
        return _block(console, renderable)
    out = []
    for segment in Segment.simplify(renderable.render(console)):
        text = html.escape(segment.text).replace("\n", " ")
        css = _css(segment)
        out.append(f'<span style="{css}">{text}</span>' if css and text.strip() else text)
    return "".join(out)


def _css(segment: Segment) -> str:
    style = segment.style
    if style is None:
        return ""
    rules = []
    if style.bold:
        rules.append("font-weight: bold")
    if style.italic:
        rules.append("font-style: italic")
    if style.dim:
        rules.append("opacity: 0.7")
    if style.color is not None and not style.color.is_default:
        rules.append(f"color: {style.color.get_truecolor().hex}")
    return "; ".join(rules)
