"""Expression text -> a small tree of `Node`s, without eval.

The grammar (Python/SymPy syntax, `^` as power, implicit multiplication after
a number or ')'; docs/expressions.md) is parsed by our own tokenizer and
an iterative shunting-yard parser, so no user text ever reaches Python's or SymPy's
evaluator, and deep nesting cannot exhaust Python's stack.

The tree is the *original* expression: SymPy (which rewrites `x*x` as
`x**2`), torch and numpy are all built from it, so the three methods and
the graph view see the same operations the user wrote.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ParseError, TooLargeError, UnknownNameError
from .functions import BY_NAME, CONSTANTS, TABLE, Function
from .tokenizer import MAX_DIGITS, MAX_EXPONENT, MAX_LENGTH, Token, tokenize

MAX_DEPTH = 400  # nesting of the parsed tree (parentheses, calls, operators)

# Names a reader (or SymPy's own printer, whose output we show) would take for
# something else. Variables become plain `Symbol(name)`s and no text is ever
# evaluated, so names SymPy or Python use elsewhere (gamma, beta, lambda,
# zeta: everyday ML names) are ordinary variables.
RESERVED = {
    "I": "the imaginary unit in SymPy; gradcalc works over the reals",
    "S": "SymPy's singleton registry",
    "N": "SymPy's numeric evaluation function",
    "Q": "SymPy's assumptions namespace",
    "O": "SymPy's big-O order term",
    "oo": "SymPy's infinity",
    "zoo": "SymPy's complex infinity",
    "nan": "not a number",
    "NaN": "not a number",
    "inf": "infinity",
    "Inf": "infinity",
    "infinity": "infinity",
    "factorial": "a SymPy function",
    "Symbol": "a SymPy class",
    "True": "a truth value, not a number; write 1",
    "False": "a truth value, not a number; write 0",
    "None": "not a number",
}


@dataclass(eq=False)
class Node:
    """One operation of the expression. Compared by identity: a variable is
    one shared leaf however often it appears."""

    op: str  # "num", "var", "const", or a key of functions.TABLE
    args: tuple = ()
    value: Any = None  # num: literal text; var/const: the name
    start: int = 0  # 0-based span in the source text
    end: int = 0
    source: str = field(default="", repr=False)  # the whole text, shared by every node

    @property
    def text(self) -> str:
        """The sub-expression as written. Sliced when asked for: stored, the
        links of a long chain would hold quadratic text (a + b, a + b + c, ...)."""
        return self.source[self.start : self.end]

    @property
    def is_leaf(self) -> bool:
        return not self.args

    @property
    def brief(self) -> str:
        """The sub-expression's text, cut in the middle past 60 characters
        (for one-line messages)."""
        text = self.text
        return text if len(text) <= 60 else f"{text[:28]}…{text[-28:]}"


@dataclass
class Expression:
    source: str
    root: Node
    variables: list  # sorted names of free variables
    nodes: list = field(default_factory=list)  # children before parents, each once
    # How an implicit product next to '/' or '^' was read, when a reader might
    # have meant otherwise: "1/2x is read as (1/2)*x; for 1/(2*x) write that".
    readings: list = field(default_factory=list)
    # Read from LaTeX (latex.py): the LaTeX as written, `source` being what it
    # reads as; and the derivative it asked for, \frac{d}{dx}: (variable, order).
    latex: str | None = None
    derivative: tuple[str, int] | None = None

    @property
    def read_as(self) -> str | None:
        """What LaTeX input reads as (`read as: sin(x**2)/(1 + x)`), or None."""
        if self.latex is None:
            return None
        if self.derivative is None:
            return self.source
        name, order = self.derivative
        power = "" if order == 1 else f"^{order}"
        return f"d{power}/d{name}{power} ({self.source})"

    def __str__(self) -> str:
        return self.source


# Binary operators: precedence and right-associativity. Implicit
# multiplication is "*" with the same precedence.
_BINARY = {
    "+": ("add", 1, False),
    "-": ("sub", 1, False),
    "*": ("mul", 2, False),
    "/": ("div", 2, False),
    "**": ("pow", 4, True),
    "^": ("pow", 4, True),
}
_PREFIX_PRECEDENCE = 3  # -x**2 is -(x**2); -x*y is (-x)*y
_CHAINS = {
    "add": ("add", "sub"),
    "sub": ("add", "sub"),
    "mul": ("mul", "div"),
    "div": ("mul", "div"),
}


@dataclass
class _Pending:
    """An entry of the operator stack."""

    kind: str  # "binary", "prefix", "paren", "call"
    token: Token
    op: str = ""
    precedence: int = 0
    right: bool = False
    argc: int = 0
    func: Function | None = None  # a call's
    implicit: bool = False  # a product written without '*' (2x, (a)(b))


# An entry of the output stack: (node, depth, start, end), the span with
# any parentheses around the node.
Entry = tuple[Node, int, int, int]


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.output: list[Entry] = []
        self.stack: list[_Pending] = []
        self.variables: dict[str, Node] = {}
        self.readings: list[str] = []

    # -- building nodes -------------------------------------------------
    def _node(self, op: str, args: Sequence[Entry], value: Any, start: int, end: int) -> Entry:
        depth = 1 + max((entry[1] for entry in args), default=0)
        if op in _CHAINS and args[0][0].op in _CHAINS[op]:
            # a + b + c + ... is a chain, not nesting: it costs no stack anywhere.
            depth = max(args[0][1], 1 + args[1][1])
        if depth > MAX_DEPTH:
            raise TooLargeError(
                f"expression nests {depth} levels deep at column {start + 1}; "
                f"the limit is {MAX_DEPTH}"
            )
        node = Node(op, tuple(entry[0] for entry in args), value, start, end, self.source)
        return node, depth, start, end

    def _leaf(self, token: Token) -> Entry:
        name = token.text
        if token.kind == "num":
            return self._node("num", (), name, token.start, token.start + len(name))
        if name in CONSTANTS:
            return self._node("const", (), name, token.start, token.start + len(name))
        end = token.start + len(name)
        if name not in self.variables:
            self._check_variable_name(token)
            self.variables[name] = Node(
                "var", (), name, token.start, token.start + len(name), self.source
            )
        return self.variables[name], 1, token.start, end

    def _check_variable_name(self, token: Token) -> None:
        name = token.text
        if name in BY_NAME:
            raise ParseError(f"{name} is a function: write {name}(...)", token.column)
        if name in RESERVED:
            raise ParseError(
                f"{name!r} is reserved ({RESERVED[name]}); use another name", token.column
            )

    def _reduce(self, pending: _Pending) -> None:
        """Pop one operator's operands off the output and push its node."""
        if pending.kind == "paren":
            raise ParseError("unclosed '('", pending.token.column)
        if pending.func is not None and pending.func.name == "vector":
            raise ParseError("unclosed '['", pending.token.column)
        if pending.func is not None:
            raise ParseError(f"unclosed '(' of {pending.func.name}", pending.token.column)
        count = 1 if pending.kind == "prefix" else 2
        operands = self.output[-count:]
        del self.output[-count:]
        start = pending.token.start if pending.kind == "prefix" else operands[0][2]
        end = operands[-1][3]
        op = "neg" if pending.kind == "prefix" else pending.op
        if pending.kind == "prefix" and pending.token.text == "+":
            node, depth, _, _ = operands[0]
            self.output.append((node, depth, start, end))
            return
        self.output.append(self._node(op, operands, None, start, end))
        if pending.implicit and operands[0][0].op in ("div", "pow"):
            self._note_reading(operands[0][0], operands[1][0], start, end)

    def _note_reading(self, left: Node, right: Node, start: int, end: int) -> None:
        """'1/2x' is (1/2)*x, as in Python; say so, and how to write 1/(2*x)."""
        a, b = (self.source[n.start : n.end] for n in left.args)
        operator = self.source[left.args[0].end : left.args[1].start].strip(" ()")
        other = f"{a}{operator}({b}*{right.text})"
        self.readings.append(
            f"{self.source[start:end]} is read as ({left.text})*{right.text}; "
            f"for {other}, write that"
        )

    def _call(self, pending: _Pending, close: Token) -> None:
        func = pending.func
        assert func is not None  # a call's entry holds its function
        low, high = func.arity
        argc = pending.argc
        if argc < low or (high is not None and argc > high):
            want = f"{low}" if low == high else (f"{low} or {high}" if high else f"at least {low}")
            raise ParseError(
                f"{func.name}() takes {want} argument{'s' if want != '1' else ''}, got {argc}",
                pending.token.column,
            )
        operands = self.output[-argc:]
        del self.output[-argc:]
        for position in func.constants:
            if position < argc and any(n.op == "var" for n in _postorder(operands[position][0])):
                raise ParseError(
                    f"{func.name}()'s argument {position + 1} is a number, not an expression "
                    "of the variables",
                    operands[position][0].start + 1,
                )
        self.output.append(
            self._node(func.name, operands, None, pending.token.start, close.start + 1)
        )

    # -- the shunting-yard loop -----------------------------------------
    def parse(self) -> Expression:
        tokens = self.tokens
        expect_operand = True
        previous = tokens[0]  # the token before the current one (a value comes first)
        i = 0
        while True:
            token = tokens[i]
            if expect_operand:
                i, expect_operand = self._operand(token, tokens, i)
            else:
                i, expect_operand = self._after_operand(token, previous, i)
                if token.kind == "end":
                    break
            previous = tokens[i - 1]
        while self.stack:
            self._reduce(self.stack.pop())
        ((root, *_),) = self.output
        # Surrounding blanks are not part of the expression (the CLI adds one
        # in front of '-x' so that it is not taken for an option).
        return Expression(
            self.source.strip(), root, sorted(self.variables), _postorder(root), self.readings
        )

    def _operand(self, token: Token, tokens: list[Token], i: int) -> tuple[int, bool]:
        """In a place where a value must start: (the next token's index,
        whether a value must start there too)."""
        if token.kind == "num":
            self.output.append(self._leaf(token))
            return i + 1, False
        if token.kind == "name":
            return self._name(token, tokens, i)
        if token.text == "(":
            if tokens[i + 1].text == ")":
                raise ParseError("empty parentheses", token.column)
            self.stack.append(_Pending("paren", token))
            return i + 1, True
        if token.text == "[":  # a vector: [a, b, ...]
            if tokens[i + 1].text == "]":
                raise ParseError("an empty vector '[]'", token.column)
            self.stack.append(_Pending("call", token, func=TABLE["vector"]))
            return i + 1, True
        if token.text in ("-", "+"):
            self.stack.append(_Pending("prefix", token, precedence=_PREFIX_PRECEDENCE))
            return i + 1, True
        if token.kind == "end":
            raise ParseError(
                "expression is empty" if not self.source.strip() else "expression ends too early",
                token.column,
            )
        raise ParseError(f"expected a value before {token.text!r}", token.column)

    def _name(self, token: Token, tokens: list[Token], i: int) -> tuple[int, bool]:
        """A name where a value must start: a function's call opens, or a
        constant or variable is a value."""
        func = BY_NAME.get(token.text)
        following = tokens[i + 1]
        if following.text == "(" and func is None and token.text not in CONSTANTS:
            raise _unknown_function(token, self.source, following)
        if func is None:
            self.output.append(self._leaf(token))
            return i + 1, False
        if following.text in ("^", "**"):
            raise ParseError(
                f"{token.text}{following.text}N(...) is not part of the grammar: "
                f"write {_power_of_call(self.source, tokens, i)}",
                following.column,
            )
        if following.text != "(":
            raise ParseError(f"{token.text} is a function: write {token.text}(...)", token.column)
        if tokens[i + 2].text == ")":
            raise ParseError(f"{func.name}() needs an argument", following.column)
        self.stack.append(_Pending("call", token, func=func))
        return i + 2, True

    def _after_operand(self, token: Token, previous: Token, i: int) -> tuple[int, bool]:
        """After a complete value: an operator, ')' or ',' or the end."""
        if token.kind == "end":
            return i, False
        if token.kind == "op" and token.text in _BINARY:
            self._push_binary(token, token.text)
            return i + 1, True
        if token.text == "//":
            raise ParseError("floor division '//' is not supported", token.column)
        if token.text in (")", "]"):
            self._close(token)
            return i + 1, False
        if token.text == "[":
            return self._index(token, self.tokens, i), False
        if token.text == ",":
            self._comma(token)
            return i + 1, True
        # Two values side by side: implicit multiplication after a number or ')'.
        if previous.kind == "num" or previous.text == ")":
            if previous.kind == "num" and token.kind == "num":
                raise ParseError("missing operator between two numbers", token.column)
            self._push_binary(token, "*", implicit=True)
            return i, True
        if previous.kind == "name" and token.text == "(":
            raise ParseError(
                f"{previous.text} is a variable, not a function; write {previous.text}*(...) "
                "to multiply",
                token.column,
            )
        raise ParseError(
            f"missing operator before {token.text!r} (implicit multiplication only "
            "follows a number or ')')",
            token.column,
        )

    def _push_binary(self, token: Token, spelling: str, implicit: bool = False) -> None:
        op, precedence, right = _BINARY[spelling]
        while self.stack:
            top = self.stack[-1]
            if top.kind not in ("binary", "prefix"):
                break
            if top.precedence > precedence or (top.precedence == precedence and not right):
                self._reduce(self.stack.pop())
            else:
                break
        self.stack.append(
            _Pending("binary", token, op=op, precedence=precedence, right=right, implicit=implicit)
        )

    def _close(self, token: Token) -> None:
        while self.stack and self.stack[-1].kind in ("binary", "prefix"):
            self._reduce(self.stack.pop())
        if not self.stack:
            raise ParseError(f"unmatched '{token.text}'", token.column)
        pending = self.stack.pop()
        opened = "[" if pending.func is not None and pending.func.name == "vector" else "("
        if (opened == "[") != (token.text == "]"):
            raise ParseError(
                f"'{pending.token.text}' at column {pending.token.column} is closed by "
                f"'{token.text}'",
                token.column,
            )
        if pending.kind == "call":
            pending.argc += 1
            self._call(pending, token)
        else:
            # A parenthesised group keeps its node; its span takes the parentheses.
            node, depth, _, _ = self.output.pop()
            self.output.append((node, depth, pending.token.start, token.start + 1))

    def _index(self, token: Token, tokens: list[Token], i: int) -> int:
        """x[i] right after a value: element i (an integer literal, from 0;
        negative from the end) of the vector before it."""

        def at(k: int) -> Token:  # the token k places on, or the end
            return tokens[min(i + k, len(tokens) - 1)]

        number, close = at(1), at(2)
        sign = ""
        if number.text == "-":
            sign, number, close = "-", at(2), at(3)
        if number.kind != "num" or not number.text.isdigit() or close.text != "]":
            raise ParseError(
                "an index is a whole number in brackets right after a vector: x[0], x[-1]",
                token.column,
            )
        leaf = self._node("num", (), sign + number.text, number.start, close.start)
        operand = self.output.pop()
        self.output.append(self._node("index", (operand, leaf), None, operand[2], close.start + 1))
        return i + (4 if sign else 3)

    def _comma(self, token: Token) -> None:
        while self.stack and self.stack[-1].kind in ("binary", "prefix"):
            self._reduce(self.stack.pop())
        if not self.stack or self.stack[-1].kind != "call":
            raise ParseError("',' outside a function's argument list", token.column)
        self.stack[-1].argc += 1


def _group(source: str, open_at: int) -> str:
    """The parenthesised group that opens at `open_at`, parentheses included
    (to the end of the text when unclosed)."""
    depth = 0
    for end in range(open_at, len(source)):
        depth += {"(": 1, ")": -1}.get(source[end], 0)
        if depth == 0:
            return source[open_at : end + 1]
    return source[open_at:]


def _power_of_call(source: str, tokens: list[Token], i: int) -> str:
    """sin^2(x) -> sin(x)^2: the power goes after the call."""
    name, power, exponent = tokens[i], tokens[i + 1], tokens[i + 2]
    after = tokens[i + 3] if exponent.kind != "end" else exponent
    if exponent.kind == "num" and after.text == "(":
        call = name.text + _group(source, after.start)
        return f"{call}{power.text}{exponent.text} for the power of {call}"
    return f"{name.text}(...){power.text}N for a power of {name.text}(...)"


def _unknown_function(token: Token, source: str, paren: Token) -> UnknownNameError:
    close = difflib.get_close_matches(token.text, list(BY_NAME), n=1)
    product = f"{token.text}*{_group(source, paren.start)}"
    if close:
        hint = f"; did you mean {close[0]}? (to multiply, write {product})"
    else:
        hint = f"; to multiply, write {product} (functions: see 'gradcalc functions')"
    return UnknownNameError(f"unknown function {token.text!r}{hint}", token.column)


def _postorder(root: Node) -> list[Node]:
    """Nodes with children before parents, each once (iterative)."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded or node.is_leaf:
            seen.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        for child in reversed(node.args):
            if id(child) not in seen:
                stack.append((child, False))
    return order


def as_expression(expression: str | Expression) -> Expression:
    """What every library function taking an expression reads it with: an
    Expression (already parsed, e.g. by the command line) as it is, text parsed."""
    return expression if isinstance(expression, Expression) else parse(expression)


def parse(source: str, latex: bool | None = None) -> Expression:
    """Parse expression text into an `Expression` (raises `ParseError`).

    LaTeX (a backslash or a brace in the text, neither part of the grammar;
    always with `latex=True`, never with False) is first translated into the
    grammar (latex.py, imported only then), its errors placed under the LaTeX."""
    if not isinstance(source, str):
        raise ParseError("expression must be text")
    if latex or (latex is None and looks_like_latex(source)):
        return _parse_latex(source)
    try:
        expr = _Parser(source).parse()
    except ParseError as error:
        error.text = source if error.text is None else error.text  # for the caret
        raise
    return expr


def looks_like_latex(source: str) -> bool:
    """LaTeX rather than the grammar: a backslash or a brace, neither of which
    the grammar has."""
    return "\\" in source or "{" in source


def _parse_latex(source: str) -> Expression:
    from .latex import translate

    translation = translate(source)
    try:
        expr = _Parser(translation.text).parse()
    except ParseError as error:
        raise translation.located(error) from None
    expr.latex = source.strip()
    expr.derivative = translation.derivative
    return expr


def to_text(root: Node) -> str:
    """Print a tree back as expression text that parses to the same tree."""
    text = {}
    for node in _postorder(root):
        if node.op in ("num", "var", "const"):
            text[id(node)] = str(node.value)
            continue
        args = [text[id(a)] for a in node.args]
        func = TABLE[node.op]
        if func.operator is None:
            text[id(node)] = f"{node.op}({', '.join(args)})"
        elif node.op == "index":
            text[id(node)] = f"{args[0]}[{args[1]}]"
        elif node.op == "vector":
            text[id(node)] = f"[{', '.join(args)}]"
        elif node.op == "neg":
            text[id(node)] = f"(-{args[0]})"
        else:
            text[id(node)] = f"({args[0]} {func.operator} {args[1]})"
    return text[id(root)]


# MAX_LENGTH, MAX_DIGITS and MAX_EXPONENT are the tokenizer's; points.py and
# tests still import them from here.
__all__ = [
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "RESERVED",
    "Expression",
    "Node",
    "parse",
    "to_text",
    "tokenize",
]
