"""The LaTeX reader behind latex.py: tokens, and a recursive-descent parser
over them into a tree of `Node`s (latex.py prints it as gradcalc's grammar).
Each method of `Reader` reads one kind of part; errors carry the LaTeX's column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ParseError, TooLargeError
from .functions import BY_NAME
from .latex_words import (
    DIVIDE,
    FUNCTIONS,
    GREEK,
    INVERSES,
    MULTIPLY,
    OF_RECIPROCAL,
    OPEN,
    RECIPROCALS,
    SILENT,
    TEXT,
    UNSUPPORTED,
    VARIANTS,
)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<command>\\(?:[A-Za-z]+|.))
  | (?P<num>\d+\.?\d*|\.\d+)
  | (?P<word>[A-Za-z]+)
  | (?P<op>[-+*/^_{}()\[\]=,|!'])
    """,
    re.VERBOSE | re.ASCII | re.DOTALL,
)

MAX_NESTING = 400  # values inside values, as the grammar's own MAX_DEPTH


@dataclass
class _Token:
    kind: str  # command, num, word, op, end
    text: str
    start: int

    @property
    def column(self) -> int:
        return self.start + 1


# A tree node: (kind, payload, children, start). Kinds: num, var, const,
# call (payload: the function), neg, add, sub, mul, div, pow, eq, deriv
# (payload: (variable, order)).
@dataclass
class Node:
    kind: str
    payload: object = None
    args: tuple = ()
    start: int = 0


def tokens(latex: str) -> list[_Token]:
    tokens = []
    pos = 0
    stripped = latex.strip()
    if len(stripped) > 1 and stripped[0] == "$" and stripped[-1] == "$":
        latex = latex.replace("$", " ")  # $...$ or $$...$$ as pasted from a document
    while pos < len(latex):
        match = _TOKEN.match(latex, pos)
        if match is None:
            raise ParseError(f"unexpected {latex[pos]!r} in the LaTeX", pos + 1)
        kind, text = str(match.lastgroup), match.group()
        if kind == "word":
            tokens += _word(text, pos)
        elif kind != "space" and text not in SILENT:
            tokens.append(_Token(kind, text, pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(latex)))
    return tokens


def _word(text: str, start: int) -> list[_Token]:
    """Letters side by side: a function's name spelled without '\\' (sin), or
    one variable a letter (xy is x*y)."""
    if text in FUNCTIONS or text == "sqrt":
        return [_Token("command", "\\" + text, start)]
    return [_Token("word", letter, start + i) for i, letter in enumerate(text)]


class Reader:
    """Recursive descent over the tokens; each method reads one kind of part."""

    def __init__(self, latex: str) -> None:
        self.tokens = tokens(latex)
        self.i = 0
        self.bars = 0  # |...| open around the current place
        self.fractions = 0  # \\frac's arguments open around it (where \\partial may be)
        self.depth = 0  # values open around the current place (value())

    # -- tokens --------------------------------------------------------------
    @property
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str, opened: _Token | None = None) -> _Token:
        token = self.peek
        if token.text != text:
            if opened is not None:
                raise ParseError(
                    f"'{opened.text}' at column {opened.column} is not closed: expected "
                    f"'{text}', found {_shown(token)}",
                    token.column,
                )
            raise ParseError(f"expected '{text}', found {_shown(token)}", token.column)
        return self.take()

    # -- the grammar ---------------------------------------------------------
    def read(self) -> Node:
        left = self.expression()
        if self.peek.text == "=":
            equals = self.take()
            right = self.expression()
            # f(x) = ... names the function it defines: read what it is.
            left = (
                right if _names_a_function(left) else Node("eq", None, (left, right), equals.start)
            )
        if self.peek.kind != "end":
            token = self.peek
            closing = token.text in (")", "]", "}", "\\right") or token.text in OPEN.values()
            what = f"unmatched {_shown(token)}" if closing else f"unexpected {_shown(token)}"
            raise ParseError(what, token.column)
        _no_inner_derivative(left)
        return left

    def expression(self) -> Node:
        """Terms joined by + and -, with an optional sign in front."""
        token = self.peek
        if token.text in ("+", "-"):
            self.take()
            node = self.term()
            if token.text == "-":
                node = Node("neg", None, (node,), token.start)
        else:
            node = self.term()
        while self.peek.text in ("+", "-"):
            op = self.take()
            node = Node("add" if op.text == "+" else "sub", None, (node, self.term()), op.start)
        return node

    def term(self) -> Node:
        """Factors joined by \\cdot, \\times, *, /, \\div or side by side."""
        node = self.factor()
        while True:
            token = self.peek
            if token.text in MULTIPLY or token.text in DIVIDE:
                self.take()
                kind = "mul" if token.text in MULTIPLY else "div"
                node = Node(kind, None, (node, self.signed_factor()), token.start)
            elif self.starts_value(token):
                if node.kind == "num" and token.kind == "num":
                    raise ParseError("two numbers side by side: write an operator", token.column)
                node = Node("mul", None, (node, self.factor()), token.start)
            else:
                return node

    def signed_factor(self) -> Node:
        token = self.peek
        if token.text in ("-", "+"):
            self.take()
            node = self.signed_factor()
            return Node("neg", None, (node,), token.start) if token.text == "-" else node
        return self.factor()

    def starts_value(self, token: _Token) -> bool:
        if token.kind in ("num", "word"):
            return True
        if token.text == "|":
            return self.bars == 0
        if token.kind == "command":
            return token.text not in MULTIPLY + DIVIDE and not token.text.startswith("\\right")
        return token.text in ("(", "[", "{")

    def factor(self) -> Node:
        """A value and its power: x^2, e^{x}, (a+b)^{n}."""
        base = self.value()
        if self.peek.text == "^":
            caret = self.take()
            exponent = self.script()
            if self.peek.text == "^":
                raise ParseError("double superscript: write x^{a^{b}}", self.peek.column)
            base = Node("pow", None, (base, exponent), caret.start)
        if self.peek.text in ("!", "'"):
            token = self.peek
            what = "factorial '!'" if token.text == "!" else "a prime (f')"
            hint = "" if token.text == "!" else "; write \\frac{d}{dx}(...)"
            raise ParseError(f"{what} is not supported{hint}", token.column)
        return base

    def script(self) -> Node:
        """What follows ^ or _: a {group}, one digit, one letter, or a command."""
        token = self.peek
        if token.text == "{":
            return self.group()
        if token.kind == "num":
            return self._first_digit(token)
        if token.text == "-":  # x^-1, friendlier than LaTeX itself
            self.take()
            return Node("neg", None, (self.script(),), token.start)
        if token.kind in ("word", "command"):
            return self.value()
        raise ParseError(f"expected an exponent after '^', found {_shown(token)}", token.column)

    def _first_digit(self, token: _Token) -> Node:
        """x^23 is x^2 times 3 in LaTeX: a script without braces is one character."""
        if len(token.text) > 1:
            self.tokens[self.i] = _Token("num", token.text[1:], token.start + 1)
        else:
            self.take()
        return Node("num", token.text[0], (), token.start)

    def group(self) -> Node:
        opened = self.expect("{")
        if self.peek.text == "}":
            raise ParseError("empty braces {}", self.peek.column)
        node = self.expression()
        self.expect("}", opened)
        return node

    def value(self) -> Node:
        """One value, each nested one read by a call: MAX_NESTING of them at most."""
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise TooLargeError(
                    f"the LaTeX nests more than {MAX_NESTING} levels deep at column "
                    f"{self.peek.column}"
                )
            return self._value()
        finally:
            self.depth -= 1

    def _value(self) -> Node:
        token = self.peek
        if token.kind == "num":
            self.take()
            return Node("num", token.text, (), token.start)
        if token.kind == "word":
            return self.letter()
        if token.text in ("(", "[", "{") or token.text in OPEN:
            return self.bracketed()
        if token.text == "|":
            return self.bars_around()
        if token.kind == "command":
            return self.command()
        if token.kind == "end":
            raise ParseError("the LaTeX ends too early", token.column)
        raise ParseError(f"expected a value, found {_shown(token)}", token.column)

    def letter(self) -> Node:
        token = self.take()
        name = token.text
        if self.peek.text == "_":
            name += "_" + self.subscript()
        elif name == "e":
            return Node("const", "e", (), token.start)
        return Node("var", name, (), token.start)

    def subscript(self) -> str:
        """x_1, x_{12}, x_{ij}: part of a variable's name."""
        self.expect("_")
        token = self.peek
        if token.text == "{":
            opened = self.take()
            parts = []
            while self.peek.kind in ("num", "word"):
                parts.append(self.take().text)
            if not parts or self.peek.text != "}":
                raise ParseError(
                    "a subscript is part of a name: letters and digits, as x_1 or x_{ij}",
                    self.peek.column,
                )
            self.expect("}", opened)
            return "".join(parts)
        if token.kind == "num":
            return str(self._first_digit(token).payload)
        if token.kind == "word":
            return self.take().text
        raise ParseError("a subscript is letters and digits, as x_1 or x_{ij}", token.column)

    def bracketed(self) -> Node:
        opened = self.take()
        close = OPEN.get(opened.text, "}")
        if self.peek.text == close:
            raise ParseError(f"empty {opened.text}{close}", self.peek.column)
        node = self.expression()
        self.expect(close, opened)
        return node

    def bars_around(self) -> Node:
        opened = self.take()
        self.bars += 1
        node = self.expression()
        self.bars -= 1
        self.expect("|", opened)
        return Node("call", "abs", (node,), opened.start)

    def command(self) -> Node:
        token = self.peek
        name = token.text[1:]
        if name in ("frac", "dfrac", "tfrac"):
            return self.fraction()
        if name == "sqrt":
            return self.root()
        if name in ("left", "bigl", "Bigl"):
            return self.left()
        if name in FUNCTIONS:
            self.take()
            return self.function(FUNCTIONS[name], name, token)
        if token.text in TEXT:
            return self.text_command()
        if token.text in OPEN:
            return self.bracketed()
        return self.symbol()

    def symbol(self) -> Node:
        """\\pi, \\theta, \\lvert...: a command that is a value by itself."""
        token = self.take()
        name = token.text[1:]
        if name == "pi":
            return Node("const", "pi", (), token.start)
        if name == "partial" and self.fractions:
            return Node("var", "∂", (), token.start)  # \\frac{\\partial}{\\partial x}
        if name in ("lvert", "vert"):
            node = self.expression()
            self.expect("\\rvert" if name == "lvert" else "\\vert", token)
            return Node("call", "abs", (node,), token.start)
        if name in GREEK or name in VARIANTS:
            spelled = VARIANTS.get(name, name)
            if self.peek.text == "_":
                spelled += "_" + self.subscript()
            return Node("var", spelled, (), token.start)
        if name in UNSUPPORTED:
            raise ParseError(f"\\{name}: {UNSUPPORTED[name]}", token.column)
        raise ParseError(f"unknown LaTeX command \\{name}", token.column)

    def left(self) -> Node:
        """\\left( ... \\right), \\left| ... \\right|, \\left[ ... \\right]."""
        token = self.take()
        opened = self.take()
        right = "\\right" if token.text == "\\left" else "\\" + token.text[1:-1] + "r"
        close = {"(": ")", "[": "]", "|": "|", "\\{": "\\}", "\\lvert": "\\rvert"}.get(opened.text)
        if close is None:
            raise ParseError(f"\\left takes (, [, | or \\{{, not {_shown(opened)}", opened.column)
        bars = self.bars
        self.bars = 0  # inside \left| ... \right| a '|' opens another
        node = self.expression()
        self.bars = bars
        if self.peek.text != right:
            raise ParseError(
                f"{token.text}{opened.text} at column {token.column} is not closed by "
                f"{right}{close}, found {_shown(self.peek)}",
                self.peek.column,
            )
        self.take()
        self.expect(close, opened)
        return Node("call", "abs", (node,), token.start) if close in ("|", "\\rvert") else node

    def fraction(self) -> Node:
        token = self.take()
        self.fractions += 1
        top = self.argument()
        bottom = self.argument()
        self.fractions -= 1
        derivative = _derivative_operator(top, bottom)
        if derivative is not None:
            return Node("deriv", derivative, (self.operand(),), token.start)
        if _has_partial(top) or _has_partial(bottom) or _leibniz(top, bottom):
            raise ParseError(
                "a derivative is written \\frac{d}{dx}(...), what it differentiates after it "
                "(for dy/dx of an equation: diff --implicit y)",
                token.column,
            )
        return Node("div", None, (top, bottom), token.start)

    def operand(self) -> Node:
        """What \\frac{d}{dx} differentiates: a bracketed group, else the rest."""
        token = self.peek
        if token.kind == "end":
            raise ParseError("\\frac{d}{dx} of nothing: write what to differentiate", token.column)
        if token.text in ("(", "[", "\\left") or token.text in OPEN:
            return self.factor()
        return self.expression()

    def argument(self) -> Node:
        """A command's argument: {group}, or one character (\\frac12)."""
        token = self.peek
        if token.text == "{":
            return self.group()
        if token.kind == "num":
            return self._first_digit(token)
        if token.kind in ("word", "command"):
            return self.value()
        raise ParseError(f"expected {{...}}, found {_shown(token)}", token.column)

    def root(self) -> Node:
        token = self.take()
        index = None
        if self.peek.text == "[":
            opened = self.take()
            index = self.expression()
            self.expect("]", opened)
        radicand = self.argument()
        if index is None:
            return Node("call", "sqrt", (radicand,), token.start)
        if index.kind == "num" and index.payload == "3":
            return Node("call", "cbrt", (radicand,), token.start)
        one_over = Node("div", None, (Node("num", "1", (), token.start), index), token.start)
        return Node("pow", None, (radicand, one_over), token.start)

    def text_command(self) -> Node:
        """\\mathrm{e}, \\operatorname{sech}, \\text{rate}: letters read as a name."""
        token = self.take()
        opened = self.expect("{")
        letters = []
        while self.peek.kind == "word" or self.peek.text[1:] in FUNCTIONS:
            letters.append(self.take().text.lstrip("\\"))  # (sin, spelled as a word)
        self.expect("}", opened)
        word = "".join(letters)
        if word in FUNCTIONS or word == "sqrt":
            return self.function(FUNCTIONS.get(word, word), word, token)
        if not word:
            raise ParseError(f"{token.text}{{}} names nothing", opened.column)
        if word in BY_NAME or word in RECIPROCALS or word in OF_RECIPROCAL:
            return self.function(word, word, token)
        if token.text == "\\operatorname":
            if word not in BY_NAME:
                raise ParseError(
                    f"unknown function {word!r} (functions: see 'gradcalc functions')",
                    opened.column + 1,
                )
            return self.function(word, word, token)
        if word == "e":
            return Node("const", "e", (), token.start)
        return Node("var", word, (), token.start)

    def function(self, function: str, name: str, token: _Token) -> Node:
        """\\sin x, \\sin^2 x, \\sin^{-1} x, \\log_2 x, \\max(a, b)."""
        power = base = None
        if self.peek.text == "^":
            self.take()
            power = self.script()
        if self.peek.text == "_" and name in ("log", "lg", "ln"):
            self.take()
            base = self.script()
        if power is not None and _is_minus_one(power) and name in INVERSES:
            function, power = INVERSES[name], None
        args = self.arguments(name)
        if base is not None:
            args = (args[0], base)
        call = _call(function, args, token.start)
        return call if power is None else Node("pow", None, (call, power), token.start)

    def arguments(self, name: str) -> tuple:
        token = self.peek
        if token.text in ("(", "\\left", "[", "{"):
            if token.text != "(":
                return (self.value(),)
            opened = self.take()
            args = [self.expression()]
            while self.peek.text == ",":
                self.take()
                args.append(self.expression())
            self.expect(")", opened)
            return tuple(args)
        if token.kind == "end" or not (self.starts_value(token) or token.text in "+-"):
            raise ParseError(f"\\{name} needs an argument", token.column)
        return (self.bare_argument(),)

    def bare_argument(self) -> Node:
        """\\sin 2x, \\ln x^2: the product after a function, up to an operator,
        a parenthesis or the next function."""
        node = self.signed_factor()
        while self.starts_value(self.peek) and not self._stops_argument(self.peek):
            node = Node("mul", None, (node, self.factor()), self.peek.start)
        return node

    def _stops_argument(self, token: _Token) -> bool:
        """A bare argument ends before a parenthesis, a bar or another function."""
        return token.text in ("(", "|", "\\left", "\\sqrt") or token.text[1:] in FUNCTIONS


def _call(function: str, args: tuple, start: int) -> Node:
    """function(args), or what it is made of (sech x: 1/cosh(x); acot x: atan(1/x))."""
    one = Node("num", "1", (), start)
    if function in RECIPROCALS:
        inner = Node("call", RECIPROCALS[function], args, start)
        return Node("div", None, (one, inner), start)
    if function in OF_RECIPROCAL:
        over = Node("div", None, (one, args[0]), start)
        return Node("call", OF_RECIPROCAL[function], (over,), start)
    return Node("call", function, args, start)


def _shown(token: _Token) -> str:
    return "the end" if token.kind == "end" else repr(token.text)


def _names_a_function(node: Node) -> bool:
    """f(x), g(t): one letter applied to one variable, as a definition starts."""
    return (
        node.kind == "mul"
        and node.args[0].kind == "var"
        and len(str(node.args[0].payload)) == 1
        and node.args[1].kind == "var"
        and node.args[1].start > node.args[0].start + 1  # f(x), not fx
    )


def _is_minus_one(node: Node) -> bool:
    return node.kind == "neg" and node.args[0].kind == "num" and node.args[0].payload == "1"


def _derivative_operator(top: Node, bottom: Node) -> tuple[str, int] | None:
    """\\frac{d}{dx} -> ("x", 1), \\frac{d^2}{dx^2} -> ("x", 2); else None."""
    order = _d_power(top)
    if order is None or bottom.kind != "mul" or _d_power(bottom.args[0]) != 1:
        return None
    variable = bottom.args[1]
    exponent = 1
    if variable.kind == "pow" and variable.args[1].kind == "num":
        variable, exponent = variable.args[0], int(str(variable.args[1].payload))
    if variable.kind != "var" or exponent != order:
        return None
    return str(variable.payload), order


def _has_partial(node: Node) -> bool:
    stack = [node]
    while stack:
        part = stack.pop()
        if part.kind == "var" and part.payload == "∂":
            return True
        stack.extend(part.args)
    return False


def _leibniz(top: Node, bottom: Node) -> bool:
    """dy/dx written as a fraction: d times something over d times a variable."""
    return (
        all(part.kind == "mul" and _d_power(part.args[0]) == 1 for part in (top, bottom))
        and bottom.args[1].kind == "var"
    )


def _d_power(node: Node) -> int | None:
    if node.kind == "var" and node.payload in ("d", "∂"):
        return 1
    if node.kind == "pow" and _d_power(node.args[0]) == 1 and node.args[1].kind == "num":
        text = str(node.args[1].payload)
        return int(text) if text.isdigit() and 1 <= int(text) <= 4 else None
    return None


def _no_inner_derivative(root: Node) -> None:
    """\\frac{d}{dx} applies to the whole expression: gradcalc differentiates it.
    (Walked with a stack: a sum of 20,000 terms is a chain that deep.)"""
    stack = [(root, True)]
    while stack:
        node, top = stack.pop()
        if node.kind == "deriv" and not top:
            raise ParseError(
                "\\frac{d}{dx} applies to the whole expression here (gradcalc differentiates "
                "it): write it first, or differentiate the parts apart",
                node.start + 1,
            )
        stack.extend((arg, False) for arg in node.args)
