"""LaTeX -> gradcalc's own expression text, without eval.

A student's homework reads `\\frac{\\sin(x^2)}{1+x}`; gradcalc's grammar reads
`sin(x**2)/(1 + x)`. `translate` turns the first into the second: a small
tokenizer and a recursive-descent parser over the LaTeX a calculus textbook
writes (docs/latex.md lists it), into a tree that is printed back as
gradcalc's grammar. Nothing is evaluated: the text printed is then parsed by
`parsing.parse` like any other, which is why an error found there (a name
gradcalc reserves) can still be placed under the LaTeX (`Translation.located`).

The textbook's conventions, where LaTeX itself says nothing: letters side by
side are a product (`xy`, `2x`); a function's argument without parentheses
runs over the product that follows it (`\\sin 2x` is sin(2*x), `\\sin x \\cos x`
is sin(x)*cos(x)); `\\sin^2 x` is sin(x)**2 and `\\sin^{-1} x` is asin(x);
`\\log` is the natural logarithm (`\\log_b` another base); `e` is Euler's number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ParseError
from .latex_reader import Node, Reader

MAX_LATEX = 100_000  # characters, as for an expression


@dataclass
class Translation:
    """The LaTeX read as gradcalc's grammar: `text`, with where each of its
    columns came from in `latex`; `derivative` is (variable, order) when the
    LaTeX asked for one (`\\frac{d}{dx}(...)`), `text` then being what is
    differentiated."""

    latex: str
    text: str
    derivative: tuple[str, int] | None = None
    places: list[tuple[int, int]] = field(default_factory=list)  # (text offset, latex offset)

    def latex_column(self, column: int | None) -> int | None:
        """A 1-based column of `text` -> the column of the LaTeX it came from."""
        if column is None:
            return None
        found = None
        for offset, origin in self.places:
            if offset <= column - 1:
                found = origin
        return None if found is None else found + 1

    def located(self, error: ParseError) -> ParseError:
        """An error in the translated text, placed under the LaTeX."""
        detail = re.sub(r" at column \d+$", "", error.detail)
        moved = type(error)(f"{detail} (the LaTeX reads as {self.text})",
                            self.latex_column(error.column), self.latex)  # fmt: skip
        return moved


def translate(latex: str) -> Translation:
    """LaTeX text -> a `Translation` (raises ParseError with the column in `latex`)."""
    if len(latex) > MAX_LATEX:
        raise ParseError(f"the LaTeX is {len(latex)} characters long; the limit is {MAX_LATEX}")
    try:
        tree = Reader(latex).read()
        derivative = None
        if tree.kind == "deriv":
            derivative = tree.payload
            tree = tree.args[0]
        printer = _Printer()
        text = printer.text(tree)
    except ParseError as error:
        error.text = latex
        raise
    except RecursionError:
        raise ParseError("the LaTeX nests too deeply", None, latex) from None
    return Translation(latex, text, derivative, printer.places)  # type: ignore[arg-type]


# -- printing the tree as gradcalc's grammar -----------------------------------

_PRECEDENCE = {"eq": 0, "add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_SYMBOL = {"add": " + ", "sub": " - ", "mul": "*", "div": "/", "pow": "**", "eq": " = "}


class _Printer:
    """The tree as text, parenthesised only where gradcalc's grammar needs it;
    `places` maps each printed part back to its LaTeX column."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.places: list[tuple[int, int]] = []

    def text(self, node: Node) -> str:
        self.emit(node)
        return "".join(self.parts)

    def put(self, text: str, origin: int | None = None) -> None:
        if origin is not None:
            self.places.append((self.length, origin))
        self.parts.append(text)
        self.length += len(text)

    def emit(self, node: Node) -> None:
        kind = node.kind
        if kind in ("num", "var", "const"):
            self.put(str(node.payload), node.start)
        elif kind == "call":
            self.put(f"{node.payload}(", node.start)
            for i, arg in enumerate(node.args):
                if i:
                    self.put(", ")
                self.emit(arg)
            self.put(")")
        elif kind == "neg":
            self.put("-", node.start)
            self.wrapped(node.args[0], node.args[0].kind in ("add", "sub", "neg", "eq"))
        elif kind == "pow" and node.args[0].kind == "const" and node.args[0].payload == "e":
            self.put("exp(", node.start)
            self.emit(node.args[1])
            self.put(")")
        else:
            self.binary(node)

    def binary(self, node: Node) -> None:
        mine = _PRECEDENCE[node.kind]
        if node.kind == "pow":
            left, right = node.args
            self.wrapped(left, left.kind not in ("var", "const", "call") and not _plain_num(left))
            self.put("**", node.start)
            self.wrapped(
                right, right.kind not in ("var", "const", "call") and not _plain_num(right)
            )
            return
        # A chain (a + b - c, a*b/c) is printed along its left spine, not
        # recursed into: a sum of 20,000 terms is a chain that deep.
        links = []
        while node.kind not in ("pow", "neg") and _PRECEDENCE.get(node.kind) == mine:
            links.append(node)
            node = node.args[0]
        self.wrapped(
            node, _PRECEDENCE.get(node.kind, 9) < mine or (node.kind == "neg" and mine > 1)
        )
        for link in reversed(links):
            right = link.args[1]
            self.put(_SYMBOL[link.kind], link.start)
            tighter = _PRECEDENCE.get(right.kind, 9)
            needs = tighter < mine or (tighter == mine and link.kind in ("sub", "div", "mul"))
            self.wrapped(right, needs or right.kind == "neg")

    def wrapped(self, node: Node, parentheses: bool) -> None:
        if parentheses:
            self.put("(")
        self.emit(node)
        if parentheses:
            self.put(")")


def _plain_num(node: Node) -> bool:
    return node.kind == "num"
