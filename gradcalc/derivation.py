"""The textbook walk of `diff --explain`: a derivative derived one rule per
kind of node, each rule applied recorded as a `Step`.

The walk is over the SymPy tree of the expression (what `diff`
differentiates): sum, constant multiple, power, product, quotient,
exponential, general power, and for a function f(u) its own rule followed by
the chain rule when u is not the variable itself (rulebook.py names the rules
and the families of functions). A sub-derivative that occurs again is not
derived again: its step is named and reused.

`Walk`'s `mutation` makes one step slip (answer.py's "where does the
answer depart"); `Walk.slips` lists every slip the walk could make.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .errors import TooLargeError
from .rulebook import FAMILY, NOTES, relu_argument, sigmoid_argument, softplus_argument

FRESH = ["u", "v", "w", "p", "q", "s", "t", "g", "h"]  # names for an inner function
SHORT = 80  # characters of a part or sub-derivative written out in a step's `how`
MAX_STEPS = 400  # steps of one explanation; past it the expression is too large to explain

# A derivative as the walk finds it: (the derivative, the number of the step
# that gives it, or None for a variable or a constant: no rule was needed).
Derived = tuple[Any, int | None]


@dataclass
class Step:
    """One rule applied: d/d`var` of `before` is `after`."""

    number: int
    rule: str  # one of RULE_NAMES
    before: Any  # SymPy expression differentiated
    var: Any  # the Symbol differentiated by (an inner-function step: a fresh one)
    after: Any  # its derivative
    how: str  # the rule as applied here, in its parts
    note: str = ""  # the identity used, the kink, what a symbol means
    uses: list[int] = field(default_factory=list)  # earlier steps whose results enter
    section: int = 0  # which derivative of Explanation.sections it belongs to
    checked: bool = False
    check: str = ""  # "symbolic", "numeric", or why it failed ("failed", "unverifiable")
    inner: Any = None  # a chain step's u, by the name `let`: (Symbol, expression)
    inner_derivative: Any = None  # a chain step's du/dx


@dataclass
class Section:
    """One derivative explained: d/d`wrt[-1]` of `function` (the derivative
    before it, for the second of --order 2)."""

    wrt: tuple[str, ...]
    function: Any
    derivative: Any  # SymPy's own derivative (sympy.diff), the reference
    result: Any  # the last step's `after` (or the derivative, when no step was needed)
    steps: list[int]  # numbers of its steps
    last: int | None  # the step whose `after` is the result


def _sp() -> ModuleType:
    import sympy

    return sympy


def _short(text: str) -> str:
    """A part of an expression, cut in the middle past SHORT characters."""
    if len(text) <= SHORT:
        return text
    half = SHORT // 2 - 2
    return f"{text[:half]} … {text[-half:]}"


# -- the walk --------------------------------------------------------------


class Walk:
    """Derives one expression's derivatives, recording a Step per rule applied.

    `mutation` (step number, slip) makes that step return a wrong derivative
    (answer.py's "where does the student's answer depart"); the steps are
    numbered the same with or without it."""

    def __init__(
        self, sp: ModuleType, taken: set[str], mutation: tuple[int, str] | None = None
    ) -> None:
        self.sp = sp
        self.steps: list[Step] = []
        self.done: dict[tuple[Any, Any], Derived] = {}  # (f, var) -> its Derived
        self.section = 0
        self.mutation = mutation
        self.fresh = [n for n in FRESH if n not in taken] + [
            f"u{i}" for i in range(1, 100) if f"u{i}" not in taken
        ]
        self.slips: list[tuple[int, str]] = []  # every (step, slip) a mutation could make

    def d(self, f: Any, x: Any) -> Derived:
        """(derivative, step number or None) of f by x."""
        key = (f, x)
        if key in self.done:
            return self.done[key]
        result = self._derive(f, x)
        self.done[key] = result
        return result

    def _record(
        self,
        rule: str,
        before: Any,
        var: Any,
        after: Any,
        how: str,
        uses: Iterable[int] = (),
        slips: Iterable[str] = (),
    ) -> Step:
        """Step `rule`: d/d`var` `before` = `after`, told by `how` (and the
        rule's note); `uses` the earlier steps it builds on, `slips` the
        mistakes answer.py may make at it."""
        if len(self.steps) >= MAX_STEPS:
            raise TooLargeError(
                f"the expression needs more than {MAX_STEPS} steps to explain "
                "(explanations are limited to that many: they are for a person to read)"
            )
        number = len(self.steps) + 1
        note = NOTES.get(rule, "")
        step = Step(number, rule, before, var, after, how, note, sorted(set(uses)), self.section)
        self.steps.append(step)
        for slip in slips:
            self.slips.append((number, slip))
        return step

    def leaf(self, f: Any, x: Any, derivative: Any) -> int:
        """The step of a section that is a variable or a constant (no rule
        below it): d/dx x = 1, d/dx c = 0."""
        if f == x:
            how = f"d/d{x}({x}) = 1"
            return self._record("variable", f, x, derivative, how).number
        how = f"a constant (it does not depend on {x}) has derivative 0"
        return self._record("constant", f, x, derivative, how).number

    def _slipped(self, number: int, slip: str) -> bool:
        return self.mutation == (number, slip)

    def _ref(self, name: str, part: Any, derivative: Any, number: int | None) -> str:
        """u = ..., u' = ... (step n): a long derivative is named by its step
        only, so that a large expression's steps stay readable."""
        sp = self.sp
        text = sp.sstr(derivative)
        if number and len(text) > SHORT:
            return f"{name} = {_short(sp.sstr(part))}, {name}' from step {number}"
        where = f" (step {number})" if number else ""
        return f"{name} = {_short(sp.sstr(part))}, {name}' = {text}{where}"

    def _derive(self, f: Any, x: Any) -> Derived:
        sp = self.sp
        if f == x:
            return sp.S.One, None
        if not f.has(x):
            return sp.S.Zero, None
        named = self._named_shape(f, x)
        if named is not None:
            return named
        if f.is_Add:
            return self._sum(f, x)
        if f.is_Mul:
            return self._mul(f, x)
        if f.is_Pow:
            return self._pow(f, x)
        if isinstance(f, (sp.Min, sp.Max)):
            return self._several(f, x, "min/max")
        if isinstance(f, sp.Function):
            return self._call(f, x)
        # Anything else SymPy can differentiate (a Derivative, Piecewise): one
        # step, named by what it is.
        after = sp.diff(f, x)
        step = self._record("function", f, x, after, f"SymPy's derivative of {type(f).__name__}")
        return after, step.number

    def _named_shape(self, f: Any, x: Any) -> Derived | None:
        """sigmoid, softplus, relu: functions a student names, which SymPy
        spells out (1/(1 + exp(-u)), ...), derived by their own rule."""
        sp = self.sp
        shapes: list[tuple[str, Callable[[Any, Any], Any], Callable[[Any], Any]]] = [
            ("sigmoid", sigmoid_argument, lambda u: 1 / (1 + sp.exp(-u))),
            ("softplus", softplus_argument, lambda u: sp.log(1 + sp.exp(u))),
            ("relu", relu_argument, lambda u: sp.Max(0, u)),
        ]
        for rule, argument, build in shapes:
            inner = argument(sp, f)
            if inner is not None:
                return self._function(f, x, rule, [inner], build)
        return None

    def _call(self, f: Any, x: Any) -> Derived:
        """F(g1, ...): its family's rule and the chain rule (detach: 0)."""
        family = FAMILY.get(type(f).__name__, "function")
        if family == "detach":
            return self._detach(f, x)
        if len(f.args) == 1:
            return self._function(f, x, family, list(f.args), lambda u: f.func(u))
        return self._several(f, x, family)

    def _sum(self, f: Any, x: Any) -> Derived:
        sp = self.sp
        parts, pieces, uses = [], [], []
        for term in f.args:
            derivative, number = self.d(term, x)
            parts.append(derivative)
            if term.has(x):
                where = f" (step {number})" if number else ""
                pieces.append(f"d/d{x}({sp.sstr(term)}) = {sp.sstr(derivative)}{where}")
                if number:
                    uses.append(number)
        number = len(self.steps) + 1
        varying = [i for i, t in enumerate(f.args) if t.has(x)]
        after = sp.Add(*parts)
        if self._slipped(number, "drop term") and len(varying) > 1:
            after = sp.Add(*[p for i, p in enumerate(parts) if i != varying[-1]])
        how = "the derivative of each term: " + "; ".join(pieces)
        if len(f.args) > len(varying):
            how += "; constant terms give 0"
        slips = ["drop term"] if len(varying) > 1 else []
        self._record("sum", f, x, sp.Add(*parts), how, uses=uses, slips=slips)
        return after, number

    def _mul(self, f: Any, x: Any) -> Derived:
        sp = self.sp
        constants = [a for a in f.args if not a.has(x)]
        if constants:
            c = sp.Mul(*constants)
            g = sp.Mul(*[a for a in f.args if a.has(x)])
            dg, used = self.d(g, x)
            number = len(self.steps) + 1
            after = dg if self._slipped(number, "drop constant") else c * dg
            how = f"c·u' with c = {sp.sstr(c)}, " + self._ref("u", g, dg, used)
            self._record(
                "constant multiple",
                f,
                x,
                c * dg,
                how,
                uses=[used] if used else [],
                slips=["drop constant"],
            )
            return after, number
        numerator = [a for a in f.args if not self._is_reciprocal(a)]
        denominator = [1 / a for a in f.args if self._is_reciprocal(a)]
        if numerator and denominator:
            return self._quotient(f, x, sp.Mul(*numerator), sp.Mul(*denominator))
        return self._product(f, x, list(f.args))

    def _is_reciprocal(self, a: Any) -> bool:
        sp = self.sp
        return (
            a.is_Pow
            and a.exp.is_Number
            and a.exp.is_negative
            and sigmoid_argument(sp, a) is None  # a sigmoid is a factor of its own
        )

    def _quotient(self, f: Any, x: Any, u: Any, v: Any) -> Derived:
        du, nu = self.d(u, x)
        dv, nv = self.d(v, x)
        number = len(self.steps) + 1
        true = (du * v - u * dv) / v**2
        after = true
        if self._slipped(number, "quotient sign"):
            after = (du * v + u * dv) / v**2
        elif self._slipped(number, "order"):
            after = (u * dv - du * v) / v**2
        elif self._slipped(number, "square"):
            after = (du * v - u * dv) / v
        how = (
            "(u'·v - u·v')/v**2 with "
            + self._ref("u", u, du, nu)
            + "; "
            + self._ref("v", v, dv, nv)
        )
        self._record(
            "quotient",
            f,
            x,
            true,
            how,
            uses=[n for n in (nu, nv) if n],
            slips=["quotient sign", "order", "square"],
        )
        return after, number

    def _product(self, f: Any, x: Any, factors: list) -> Derived:
        sp = self.sp
        derived = [self.d(a, x) for a in factors]
        number = len(self.steps) + 1
        terms = []
        for i, (da, _) in enumerate(derived):
            others = [b for j, b in enumerate(factors) if j != i]
            terms.append(da * sp.Mul(*others))
        true = sp.Add(*terms)
        after = true
        if self._slipped(number, "product of derivatives"):
            after = sp.Mul(*[da for da, _ in derived])
        elif self._slipped(number, "product term missing"):
            after = sp.Add(*terms[:-1])
        names = FRESH[: len(factors)] if len(factors) <= len(FRESH) else None
        if names and len(factors) == 2:
            formula = "u'·v + u·v'"
        else:
            formula = "the sum over the factors of that factor's derivative times the others"
        refs = []
        for i, (a, (da, n)) in enumerate(zip(factors, derived)):
            name = names[i] if names else f"f{i + 1}"
            refs.append(self._ref(name, a, da, n))
        self._record(
            "product",
            f,
            x,
            true,
            f"{formula} with " + "; ".join(refs),
            uses=[n for _, n in derived if n],
            slips=["product of derivatives", "product term missing"],
        )
        return after, number

    def _pow(self, f: Any, x: Any) -> Derived:
        sp = self.sp
        base, exponent = f.args
        if not exponent.has(x):
            return self._function(
                f,
                x,
                "power",
                [base],
                lambda u: u**exponent,
            )
        if not base.has(x):
            return self._function(f, x, "exponential", [exponent], lambda u: base**u)
        # u**v, both varying: u**v = exp(v·log(u)).
        du, nu = self.d(base, x)
        dv, nv = self.d(exponent, x)
        after = f * (dv * sp.log(base) + exponent * du / base)
        how = (
            "u**v = exp(v·log(u)), so (u**v)' = u**v·(v'·log(u) + v·u'/u) with "
            + self._ref("u", base, du, nu)
            + "; "
            + self._ref("v", exponent, dv, nv)
        )
        step = self._record("general power", f, x, after, how, uses=[n for n in (nu, nv) if n])
        return after, step.number

    def _detach(self, f: Any, x: Any) -> Derived:
        sp = self.sp
        step = self._record("detach", f, x, sp.S.Zero, "detach(u)' = 0")
        return sp.S.Zero, step.number

    def _function(
        self, f: Any, x: Any, rule: str, args: list, build: Callable[[Any], Any]
    ) -> Derived:
        """f = F(g) for a one-argument F: F's own rule in a fresh variable u
        (or in x itself when g is x), then the chain rule."""
        sp = self.sp
        (g,) = args
        u = x if g == x else sp.Symbol(self._fresh_name(f), real=True)
        outer = build(u)
        outer_d = sp.diff(outer, u)
        number = len(self.steps) + 1
        slipped_outer = -outer_d if self._slipped(number, "sign") else outer_d
        if rule == "power":
            exponent = f.args[1]
            how = f"n·{u}**(n - 1) with n = {sp.sstr(exponent)}"
            if self._slipped(number, "exponent not lowered"):
                slipped_outer = exponent * u**exponent
            elif self._slipped(number, "coefficient missing"):
                slipped_outer = u ** (exponent - 1)
            slips = ["exponent not lowered", "coefficient missing", "sign"]
        elif rule == "exponential":
            how = f"a**{u}·log(a) with a = {sp.sstr(f.args[0])}"
            if self._slipped(number, "log factor"):
                slipped_outer = outer
            slips = ["log factor"]
        else:
            how = f"d/d{u}({sp.sstr(outer)}) = {sp.sstr(outer_d)}"
            slips = ["sign"]
        self._record(rule, outer, u, outer_d, how, slips=slips)
        if g == x:
            return slipped_outer, number
        dg, ng = self.d(g, x)
        at_g = outer_d.xreplace({u: g})
        slipped_at_g = slipped_outer.xreplace({u: g})
        chain_number = len(self.steps) + 1
        after = slipped_at_g * dg
        if self._slipped(chain_number, "inner derivative missing"):
            after = slipped_at_g
        elif self._slipped(chain_number, "outer not differentiated"):
            after = f * dg
        how = (
            f"let {u} = {sp.sstr(g)}: d/d{x} F({u}) = F'({u})·d{u}/d{x}, F'({u}) = "
            f"{sp.sstr(outer_d)} (step {number}), d{u}/d{x} = {sp.sstr(dg)}"
            + (f" (step {ng})" if ng else "")
        )
        step = self._record(
            "chain",
            f,
            x,
            at_g * dg,
            how,
            uses=[number] + ([ng] if ng else []),
            slips=["inner derivative missing", "outer not differentiated"],
        )
        step.inner, step.inner_derivative = (u, g), dg
        return after, chain_number

    def _several(self, f: Any, x: Any, family: str) -> Derived:
        """F(g1, g2, ...): the chain rule through each argument."""
        sp = self.sp
        terms, refs, uses = [], [], []
        for i, g in enumerate(f.args):
            dg, ng = self.d(g, x)
            if dg == 0:
                continue
            terms.append(f.fdiff(i + 1) * dg)
            refs.append(f"∂F/∂a{i + 1} = {sp.sstr(f.fdiff(i + 1))}, a{i + 1}' = {sp.sstr(dg)}")
            if ng:
                uses.append(ng)
        after = sp.Add(*terms)
        how = "F'(a1, a2, ...) = Σ ∂F/∂ai·ai' with " + "; ".join(refs)
        step = self._record(family, f, x, after, how, uses=uses)
        return after, step.number

    def _fresh_name(self, f: Any) -> str:
        sp = self.sp
        used = {s.name for s in f.free_symbols}
        for name in self.fresh:
            if name not in used and sp.Symbol(name, real=True) not in f.free_symbols:
                return name
        return "u_"


def walk(
    f: Any,
    symbols: dict,
    wanted: list[tuple],
    mutation: tuple[int, str] | None = None,
    taken: set[str] | frozenset[str] = frozenset(),
) -> tuple[Walk, list[Section]]:
    """The walk over each wanted derivative (a tuple of names, by order)."""
    sp = _sp()
    walker = Walk(sp, set(taken), mutation)
    sections: list[Section] = []
    for wrt in wanted:
        function = f
        for k, name in enumerate(wrt):
            x = symbols[name]
            walker.section = len(sections)
            before = len(walker.steps)
            result, last = walker.d(function, x)
            if last is None:  # x itself, or a constant: its one-line rule
                last = walker.leaf(function, x, result)
            # SymPy's own derivative of that order is the reference; the
            # next order differentiates SymPy's derivative of this one.
            derivative = sp.diff(f, *[symbols[n] for n in wrt[: k + 1]])
            numbers = [s.number for s in walker.steps[before:]]
            sections.append(Section(wrt[: k + 1], function, derivative, result, numbers, last))
            function = sp.diff(function, x)
    return walker, sections


def wanted_derivatives(names: list[str], order: int) -> list[tuple]:
    if order == 1:
        return [(name,) for name in names]
    return list(itertools.combinations_with_replacement(names, order))
