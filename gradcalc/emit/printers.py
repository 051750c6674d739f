"""SymPy expressions -> code text, one small printer for every target.

SymPy's own code printers write what lambdify needs (`functools.reduce`,
`numpy.select` for Heaviside, fully qualified names, x**(1/3) for cbrt);
this printer knows only the heads gradcalc's trees hold and spells each one
as the target's own stable operation (logaddexp for softplus, a stable
logsumexp, log1p, expm1), from one table a target (`SPELLINGS`).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..errors import UsageError

# Binding strength of what a printed text is: an atom or call binds tightest.
ATOM, POWER, UNARY, PRODUCT, SUM = 5, 4, 3, 2, 1

Spell = Callable[[list[str], Any], str]  # printed arguments, the SymPy node -> text


def _call(name: str) -> Spell:
    return lambda args, node: f"{name}({', '.join(args)})"


def _fold(name: str) -> Spell:
    """max/min of several arguments, two at a time."""

    def spell(args: list[str], node: Any) -> str:
        text = args[0]
        for arg in args[1:]:
            text = f"{name}({text}, {arg})"
        return text

    return spell


def _reciprocal(name: str) -> Spell:
    return lambda args, node: f"(1/{name}({args[0]}))"


@dataclass
class Target:
    """How one target writes numbers, powers, constants and each head."""

    name: str
    functions: dict[str, Spell]
    pi: str
    power: Callable[[str, str], str]
    real: Callable[[float], str] = repr
    rational: Callable[[int, int], str] = lambda p, q: f"{p}/{q}"
    total: str | None = None  # the sum of a whole array ("np.sum({})"); None: term by term
    keywords: frozenset = field(default_factory=frozenset)


def _python_power(base: str, exponent: str) -> str:
    return f"{base}**{exponent}"


def _logsumexp_python(stack: str, reduce: str) -> Spell:
    def spell(args: list[str], node: Any) -> str:
        whole = _whole_vector(node)
        inner = whole if whole is not None else f"{stack}([{', '.join(args)}])"
        return reduce.format(inner)

    return spell


def _whole_vector(node: Any) -> str | None:
    """'x' when the arguments are x[0], x[1], ... x[n-1] in order, else None."""
    names = [str(a) for a in node.args]
    base = names[0].split("[")[0] if names and names[0].endswith("[0]") else None
    if base is None or names != [f"{base}[{i}]" for i in range(len(names))]:
        return None
    return base


def negated(text: str) -> str:
    """-(text), written without a double minus: a printed term that starts
    with '-' and holds no top-level sum is a negated product or atom."""
    depth, top_level_sum = 0, False
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1, "[": 1, "]": -1}.get(char, 0)
        if depth == 0 and text[i : i + 3] in (" + ", " - "):
            top_level_sum = True
    if text.startswith("-") and not top_level_sum:
        return text[1:]
    return f"-({text})" if top_level_sum or not text.isidentifier() else f"-{text}"


def _numeric_python(module: str) -> dict[str, Spell]:
    m = module
    names = {
        "sin": "sin", "cos": "cos", "tan": "tan", "asin": "arcsin", "acos": "arccos",
        "atan": "arctan", "atan2": "arctan2", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
        "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh", "exp": "exp", "log": "log",
        "log1p": "log1p", "expm1": "expm1", "Abs": "abs", "sign": "sign", "cbrt": "cbrt",
    }  # fmt: skip
    table: dict[str, Spell] = {head: _call(f"{m}.{name}") for head, name in names.items()}
    table.update(
        sec=_reciprocal(f"{m}.cos"),
        csc=_reciprocal(f"{m}.sin"),
        cot=_reciprocal(f"{m}.tan"),
        Max=_fold(f"{m}.maximum"),
        Min=_fold(f"{m}.minimum"),
        Heaviside=lambda a, n: f"{m}.heaviside({a[0]}, 0.5)",
        Softplus=lambda a, n: f"{m}.logaddexp({a[0]}, 0.0)",
        detach=lambda a, n: a[0],
    )
    return table


def _numpy() -> dict[str, Spell]:
    table = _numeric_python("np")
    table.update(
        Sigmoid=lambda a, n: f"np.exp(-np.logaddexp(0.0, {negated(a[0])}))",
        LogSumExp=_logsumexp_python("np.array", "np.logaddexp.reduce({})"),
    )
    return table


def _jax() -> dict[str, Spell]:
    table = _numeric_python("jnp")
    table.update(
        Sigmoid=lambda a, n: f"jax.nn.sigmoid({a[0]})",
        LogSumExp=_logsumexp_python("jnp.array", "jax.nn.logsumexp({}, axis=0)"),
        erf=_call("jax.lax.erf"),
        erfc=_call("jax.lax.erfc"),
        detach=lambda a, n: a[0],
    )
    return table


def _torch_extreme(bound: str, pair: str) -> Spell:
    """torch.maximum takes two tensors: a number bounds with clamp instead."""

    def spell(args: list[str], node: Any) -> str:
        numbers = [a for a, arg in zip(args, node.args) if arg.is_number]
        tensors = [a for a, arg in zip(args, node.args) if not arg.is_number]
        text = _fold(pair)(tensors, node)
        for number in numbers:
            text = f"torch.clamp({text}, {bound}={number})"
        return text

    return spell


def _torch() -> dict[str, Spell]:
    names = {
        "sin": "sin", "cos": "cos", "tan": "tan", "asin": "asin", "acos": "acos",
        "atan": "atan", "atan2": "atan2", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
        "asinh": "asinh", "acosh": "acosh", "atanh": "atanh", "exp": "exp", "log": "log",
        "log1p": "log1p", "expm1": "expm1", "Abs": "abs", "sign": "sign", "erf": "erf",
        "erfc": "erfc", "Sigmoid": "sigmoid",
    }  # fmt: skip
    table: dict[str, Spell] = {head: _call(f"torch.{name}") for head, name in names.items()}

    def logsumexp(args: list[str], node: Any) -> str:
        whole = _whole_vector(node)
        inner = whole if whole is not None else f"torch.stack([{', '.join(args)}])"
        return f"torch.logsumexp({inner}, 0)"

    table.update(
        sec=_reciprocal("torch.cos"),
        csc=_reciprocal("torch.sin"),
        cot=_reciprocal("torch.tan"),
        Max=_torch_extreme("min", "torch.maximum"),
        Min=_torch_extreme("max", "torch.minimum"),
        Heaviside=lambda a, n: f"torch.heaviside({a[0]}, torch.full_like({a[0]}, 0.5))",
        Softplus=lambda a, n: f"torch.logaddexp({a[0]}, torch.zeros_like({a[0]}))",
        cbrt=lambda a, n: f"(torch.sign({a[0]})*torch.abs({a[0]})**(1/3))",
        LogSumExp=logsumexp,
        detach=lambda a, n: a[0],
    )
    return table


def _c() -> dict[str, Spell]:
    same = [
        "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh",
        "acosh", "atanh", "exp", "log", "log1p", "expm1", "erf", "erfc", "cbrt",
    ]  # fmt: skip
    table: dict[str, Spell] = {head: _call(head) for head in same}

    def logsumexp(args: list[str], node: Any) -> str:
        whole = _whole_vector(node)
        inner = whole if whole is not None else f"(const double[]){{{', '.join(args)}}}"
        return f"gradcalc_logsumexp({len(args)}, {inner})"

    table.update(
        sec=_reciprocal("cos"),
        csc=_reciprocal("sin"),
        cot=_reciprocal("tan"),
        Abs=_call("fabs"),
        Max=_fold("fmax"),
        Min=_fold("fmin"),
        sign=lambda a, n: f"((double)(({a[0]}) > 0) - (double)(({a[0]}) < 0))",
        Heaviside=lambda a, n: f"(({a[0]}) > 0 ? 1.0 : (({a[0]}) < 0 ? 0.0 : 0.5))",
        Softplus=lambda a, n: f"gradcalc_softplus({a[0]})",
        Sigmoid=lambda a, n: f"(1.0/(1.0 + exp({negated(a[0])})))",
        LogSumExp=logsumexp,
        detach=lambda a, n: a[0],
    )
    return table


PYTHON_KEYWORDS = frozenset(keyword.kwlist) | {"print"}
# (one string split: 40 words read better as a sentence than as a list)
_C_WORDS = (
    "auto break case char const continue default do double else enum extern float for "
    "goto if inline int long register restrict return short signed sizeof static struct "
    "switch typedef union unsigned void volatile while _Bool _Complex _Imaginary bool "
    "true false NAN INFINITY errno"
)
C_KEYWORDS = frozenset(_C_WORDS.split())


def _c_real(value: float) -> str:
    text = repr(float(value))
    return text if any(c in text for c in ".en") else text + ".0"


TARGETS = {
    "numpy": Target(
        "numpy", _numpy(), "np.pi", _python_power, total="np.sum({})", keywords=PYTHON_KEYWORDS
    ),
    "torch": Target(
        "torch",
        _torch(),
        "torch.pi",
        _python_power,
        total="torch.sum({})",
        keywords=PYTHON_KEYWORDS,
    ),
    "jax": Target(
        "jax", _jax(), "jnp.pi", _python_power, total="jnp.sum({})", keywords=PYTHON_KEYWORDS
    ),
    "c": Target(
        "c",
        _c(),
        repr(3.141592653589793),
        lambda base, exponent: f"pow({base}, {exponent})",
        real=_c_real,
        rational=lambda p, q: f"{p}.0/{q}.0",
        keywords=C_KEYWORDS,
    ),
}

WHY_NOT = {("numpy", "erf"): "numpy has no erf", ("numpy", "erfc"): "numpy has no erfc"}


ELEMENT = re.compile(r"^(\w+)\[(\d+)\]$")
ELEMENTWISE_NOT = {"LogSumExp"}  # heads that are not the same function on every element


@dataclass(frozen=True)
class Total:
    """Σ_i template(x[i]) over every element of a vector, `x` in the template
    standing for the whole array (the target's sum of an array expression)."""

    template: Any


def _elements(term: Any) -> dict[str, int]:
    """vector name -> the one index of its elements in `term` (-1: several)."""
    found: dict[str, int] = {}
    for symbol in term.free_symbols:
        match = ELEMENT.match(str(symbol))
        if match:
            name, index = match.group(1), int(match.group(2))
            found[name] = index if found.get(name, index) == index else -1
    return found


def reductions(terms: list) -> list:
    """The terms of a sum, each run of template(x[0]) + ... + template(x[n-1])
    over a whole vector (and vectors beside it: w[i]*x[i]) made one `Total`."""
    lengths: dict[str, int] = {}
    for term in terms:
        for symbol in term.free_symbols:
            match = ELEMENT.match(str(symbol))
            if match:
                name = match.group(1)
                lengths[name] = max(lengths.get(name, 0), int(match.group(2)) + 1)
    remaining, out = list(terms), []
    while remaining:
        term = remaining.pop(0)
        group = _group(term, remaining, lengths)
        if group is None:
            out.append(term)
            continue
        template, members = group
        remaining = [t for t in remaining if not any(t is m for m in members)]
        out.append(Total(template))
    return out


def _group(term: Any, others: list, lengths: dict[str, int]) -> tuple[Any, list] | None:
    elements = _elements(term)
    if not elements or any(i != 0 for i in elements.values()):
        return None
    size = {lengths[name] for name in elements}
    if len(size) != 1 or size == {1}:
        return None
    if any(type(f).__name__ in ELEMENTWISE_NOT for f in term.atoms(sp.Function)):
        return None
    (length,) = size
    whole = {sp.Symbol(f"{name}[0]", real=True): sp.Symbol(name) for name in elements}
    template = term.xreplace(whole)
    members = []
    for i in range(1, length):
        wanted = template.xreplace(
            {sp.Symbol(name): sp.Symbol(f"{name}[{i}]", real=True) for name in elements}
        )
        match = next((t for t in others if t == wanted), None)
        if match is None:
            return None
        members.append(match)
    return template, members


def vector_template(entries: list, length: int) -> Any | None:
    """template(x) when entries[i] (a vector's block) is template(x[i])
    for every i, x any vectors of that length (w[i]*x[i], or x[i] alone in
    w's block of dot(w, x)); else None."""
    first = entries[0]
    elements = _elements(first)
    if not elements or any(i != 0 for i in elements.values()):
        return None
    vectors = [v for v in elements if _length(entries, v) == length]
    if len(vectors) != len(elements):
        return None
    if any(type(f).__name__ in ELEMENTWISE_NOT for f in first.atoms(sp.Function)):
        return None
    template = first.xreplace({sp.Symbol(f"{v}[0]", real=True): sp.Symbol(v) for v in vectors})
    for i, entry in enumerate(entries[1:], start=1):
        element = {sp.Symbol(v): sp.Symbol(f"{v}[{i}]", real=True) for v in vectors}
        if template.xreplace(element) != entry:
            return None
    return template


def _length(entries: list, vector: str) -> int:
    """The length of `vector` as its elements in `entries` show it."""
    indices = [
        int(m.group(2))
        for e in entries
        for s in e.free_symbols
        if (m := ELEMENT.match(str(s))) and m.group(1) == vector
    ]
    return max(indices, default=-1) + 1


class Printer:
    """One target's printer: `text(expr)` is the code for a SymPy expression."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def text(self, expr: Any) -> str:
        return self._print(expr)[0]

    def _print(self, expr: Any) -> tuple[str, int]:
        if expr.is_Symbol:
            return str(expr), ATOM
        if expr.is_Number:
            return self._number(expr)
        if expr is sp.pi:
            return self.target.pi, ATOM
        if expr.is_number and not expr.is_Rational and expr is not sp.E:
            # log(2), sqrt(pi): a number (torch.log takes tensors only)
            value = float(expr.evalf(20))
            return self.target.real(value), (UNARY if value < 0 else ATOM)
        if expr is sp.E:
            return self.target.real(2.718281828459045), ATOM
        if expr.is_Add:
            return self._sum(expr)
        if expr.is_Mul:
            return self._product(expr)
        if expr.is_Pow:
            return self._power(expr.base, expr.exp)
        return self._function(expr), ATOM

    def _number(self, expr: Any) -> tuple[str, int]:
        if expr.is_Integer:
            text = str(int(expr)) if self.target.name != "c" else self.target.real(int(expr))
        elif expr.is_Rational:
            text = self.target.rational(abs(int(expr.p)), int(expr.q))
            return (f"-{text}", UNARY) if expr < 0 else (text, PRODUCT)
        else:
            text = self.target.real(float(expr))
        return (text, UNARY) if expr < 0 else (text, ATOM)

    def _wrapped(self, expr: Any, below: int) -> str:
        text, strength = self._print(expr)
        return f"({text})" if strength <= below else text

    def _sum(self, expr: Any) -> tuple[str, int]:
        text = ""
        terms = expr.as_ordered_terms()
        total = self.target.total
        if total is not None:
            terms = reductions(terms)
        for i, term in enumerate(terms):
            if isinstance(term, Total) and total is not None:
                shown = total.format(self.text(term.template))
                text = shown if i == 0 else f"{text} + {shown}"
                continue
            negative = term.could_extract_minus_sign()
            shown = self._wrapped(-term if negative else term, SUM)
            if i == 0:
                text = f"-{shown}" if negative else shown
            else:
                text += f" - {shown}" if negative else f" + {shown}"
        return text, SUM

    def _product(self, expr: Any) -> tuple[str, int]:
        if expr.could_extract_minus_sign():
            # -a*b is (-a)*b, the same float as -(a*b): negation is exact
            return f"-{self._wrapped(-expr, SUM)}", UNARY
        coefficient, factors = expr.as_coeff_mul()
        top, bottom = [], []
        if coefficient.is_Rational and coefficient != 1:
            if coefficient.p != 1:
                top.append(sp.Integer(coefficient.p))
            if coefficient.q != 1:
                bottom.append(sp.Integer(coefficient.q))
        elif coefficient != 1:
            top.append(coefficient)
        for factor in factors:
            if factor.is_Pow and factor.exp.is_Rational and factor.exp < 0:
                bottom.append(factor.base ** (-factor.exp))
            else:
                top.append(factor)
        if top == [sp.S.One]:
            top = []
        numerator = "*".join(self._wrapped(f, PRODUCT - 1) for f in top) or self._one()
        if not bottom:
            return numerator, PRODUCT
        if len(bottom) == 1:
            denominator = self._wrapped(bottom[0], PRODUCT)
        else:
            denominator = "(" + "*".join(self._wrapped(f, PRODUCT - 1) for f in bottom) + ")"
        return f"{numerator}/{denominator}", PRODUCT

    def _one(self) -> str:
        return "1.0" if self.target.name == "c" else "1"

    def _power(self, base: Any, exponent: Any) -> tuple[str, int]:
        if exponent == sp.S.Half:
            return self._function(sp.sqrt(base), head="sqrt"), ATOM
        if exponent.is_Rational and exponent < 0:
            return f"{self._one()}/{self._wrapped(base ** (-exponent), PRODUCT)}", PRODUCT
        if self.target.name == "c":
            if exponent == 2 and (base.is_Symbol or base.is_Function):
                square = self._wrapped(base, PRODUCT)
                return f"{square}*{square}", PRODUCT  # (pow(x, 2.0) reads worse)
            return self.target.power(self.text(base), self.text(exponent)), ATOM
        return self.target.power(self._wrapped(base, POWER), self._wrapped(exponent, POWER)), POWER

    def _function(self, expr: Any, head: str | None = None) -> str:
        name = head or type(expr).__name__
        if name == "sqrt":
            args = [self.text(expr.base)]
            return {"numpy": "np.sqrt", "torch": "torch.sqrt", "jax": "jnp.sqrt"}.get(
                self.target.name, "sqrt"
            ) + f"({args[0]})"
        spell = self.target.functions.get(name)
        if spell is None:
            why = WHY_NOT.get((self.target.name, name), f"no {self.target.name} spelling")
            raise UsageError(
                f"{name} cannot be written with {{to}} {self.target.name}: {why}; "
                "choose another target",
                option="to",
            )
        return spell([self.text(a) for a in expr.args], expr)


def printer(target: str) -> Printer:
    return Printer(TARGETS[target])


__all__ = ["TARGETS", "Printer", "Target", "printer"]
