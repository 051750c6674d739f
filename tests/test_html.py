"""Jupyter's display of a result: HTML elements (a real <table>, the
derivative typeset as $...$ LaTeX), parsed with html.parser, every piece of
text escaped."""

from __future__ import annotations

import math
from html.parser import HTMLParser

from rich.console import Group
from rich.table import Table
from rich.text import Text

import gradcalc
from gradcalc.render.html import to_html

REL = 1e-9  # a 10-digit number read back from a table cell


class Page(HTMLParser):
    """The tags in order, the tables as lists of rows of cell text, and the
    text outside tables, as a browser would read them."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.paragraphs: list[str] = []
        self.open: list[str] = []
        self._cell: list[str] | None = None
        self._paragraph: list[str] | None = None
        self.feed(markup)
        self.close()
        assert not self.open, f"unclosed: {self.open}"

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.open.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "p":
            self._paragraph = []

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open}"
        self.open.pop()
        if tag in ("td", "th"):
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "p":
            self.paragraphs.append("".join(self._paragraph))
            self._paragraph = None

    def handle_data(self, data):
        for part in (self._cell, self._paragraph):
            if part is not None:
                part.append(data)


def test_a_derivative_is_a_table_of_methods_and_its_formula_typeset():
    result = gradcalc.diff("sin(x**2)", at={"x": 3})
    page = Page(result._repr_html_())
    assert "pre" not in page.tags
    assert page.tags.count("table") == 1
    (table,) = page.tables
    assert table[0] == ["method", "value", "|error| vs SymPy"]
    assert [row[0] for row in table[1:]] == [
        "SymPy (symbolic, 30 digits)",
        "autograd (torch float64)",
        "finite differences (float64)",
    ]
    by_hand = 2 * 3 * math.cos(9)  # d/dx sin(x**2) = 2x cos(x**2)
    for row in table[1:]:
        assert math.isclose(float(row[1]), by_hand, rel_tol=REL)
    formula = (
        r"$\frac{\partial f}{\partial x} = 2 x \cos{\left(x^{2} \right)}"
        r" = 6 \cos{\left(9 \right)} \text{ at the point}$"
    )
    assert formula in page.paragraphs
    assert page.paragraphs[-1] == "✓ SymPy, autograd and finite differences agree"


def test_a_gradient_is_one_row_a_variable_with_each_formula_typeset():
    result = gradcalc.diff("x**2*y", at={"x": 3, "y": 2})
    (table,) = Page(result._repr_html_()).tables
    headings = ["derivative", "symbolic", "SymPy", "autograd float64", "finite diff.", "agree"]
    assert table[0] == headings
    assert [row[:2] for row in table[1:]] == [["∂f/∂x", "$2 x y$"], ["∂f/∂y", "$x^{2}$"]]
    assert [float(row[2]) for row in table[1:]] == [2 * 3 * 2, 3**2]


def test_a_vector_derivative_is_typeset_element_by_element_and_its_value_whole():
    result = gradcalc.diff("mean(x^2)", at={"x": [1, 2, 3]})
    page = Page(result._repr_html_())
    assert (
        r"$\frac{\partial f}{\partial x} = \left[\frac{2 x_{0}}{3}, \frac{2 x_{1}}{3}, "
        r"\frac{2 x_{2}}{3}\right]$" in page.paragraphs
    )
    (table,) = page.tables
    # One cell, the whole vector (the terminal's line break is only a space).
    assert table[1][1] == "[0.6666666667, 1.333333333, 2]"


def test_the_latex_bundle_and_the_html_typeset_the_same_formula():
    bundle = gradcalc.diff("x**3", at={"x": 2}, order=2)._repr_mimebundle_()
    assert bundle["text/latex"] == r"$\frac{\partial^{2} f}{\partial x^{2}} = 6 x$"
    assert bundle["text/latex"] in Page(bundle["text/html"]).paragraphs


def test_graph_perceptron_and_accumulate_are_tables_and_lists_not_pre():
    shown = [
        gradcalc.graph("sin(x**2)", at={"x": 3}),
        gradcalc.perceptron(x=6.7, y=0),
        gradcalc.accumulate("x**2", at={"x": 2}, passes=2),
    ]
    pages = [Page(result._repr_html_()) for result in shown]
    assert all("pre" not in page.tags for page in pages)
    assert pages[0].tags.count("li") == 4  # sin, x**2, x, the constant 2
    assert len(pages[1].tables) == 3
    assert pages[2].tables[0][1:] == [["1", "4", "1 × 4"], ["2", "8", "2 × 4"]]


def test_every_piece_of_text_is_escaped():
    hostile = "<script>alert(1)</script> & [bold]x[/bold] \"'"
    table = Table()
    table.add_column(Text(hostile))
    table.add_row(Text(hostile))
    page = Page(to_html(Group(Text(hostile), table)))
    assert "script" not in page.tags
    assert page.paragraphs == [hostile]
    assert page.tables == [[[" ".join(hostile.split())], [" ".join(hostile.split())]]]
