"""`diff --explain`: a derivative derived the way a textbook does, every step checked.

The walk is over the SymPy tree of the expression (what `diff` differentiates),
one rule per kind of node, in a table (`RULES` for the operators, `FAMILIES` for
functions): sum, constant multiple, power, product, quotient, exponential,
general power, and for a function f(u) its own rule (trig, log, abs, ...)
followed by the chain rule when u is not the variable itself. gradcalc's own
functions are built by the function table as SymPy formulas; the ones a student
names (sigmoid, softplus, relu) are recognised by their shape.

Every step is an identity `d/dv before = after`, checked against SymPy's own
derivative of `before`: the difference is 0 (exactly, or after a cheap rewrite,
or `simplify` on a small difference: "symbolic"), else it is evaluated at
several random points at 30 digits ("numeric"). A sub-derivative that occurs
again is not derived again: its step is named and reused.

`answer.py` asks this module for the derivative with one slip made at one
step (`mutation`), to say where a wrong answer departs.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import DomainError, TooLargeError, UsageError

FRESH = ["u", "v", "w", "p", "q", "s", "t", "g", "h"]  # names for an inner function
SIMPLIFY_OPS = 60  # differences with more operations than this are not simplified
EXPAND_OPS = 150  # ... nor expanded or cancelled: they are checked numerically
CHECK_POINTS = 4  # random points a numeric check needs, each agreeing
CHECK_TRIES = 60  # points drawn before a numeric check gives up
RELATIVE = 1e-15  # agreement of two 30-digit values, relative to the larger
SHORT = 80  # characters of a part or sub-derivative written out in a step's `how`
MAX_STEPS = 400  # steps of one explanation; past it the expression is too large to explain


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


RULE_NAMES = (
    "variable",
    "constant",
    "sum",
    "constant multiple",
    "power",
    "product",
    "quotient",
    "chain",
    "exponential",
    "general power",
    "exp",
    "log",
    "trig",
    "inverse trig",
    "hyperbolic",
    "inverse hyperbolic",
    "abs",
    "sign",
    "min/max",
    "relu",
    "sigmoid",
    "softplus",
    "erf",
    "root",
    "step function",
    "detach",
    "function",
)


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


@dataclass
class Explanation:
    expression: str
    variables: list[str]
    wrt: list[str]
    order: int
    function: Any
    symbols: dict
    steps: list[Step]
    sections: list[Section]
    exact: list = field(default_factory=list)  # per section: (exact or None, float or None)
    point: dict = field(default_factory=dict)  # name -> exact SymPy number, with `at`

    @property
    def checked(self) -> bool:
        return all(step.checked for step in self.steps)

    def failed(self) -> list[Step]:
        return [step for step in self.steps if not step.checked]


def _sp():
    import sympy

    return sympy


# -- families of functions -------------------------------------------------

FAMILY_NAMES = {
    "trig": ("sin", "cos", "tan", "sec", "csc", "cot"),
    "inverse trig": ("asin", "acos", "atan", "acot", "asec", "acsc", "atan2"),
    "hyperbolic": ("sinh", "cosh", "tanh", "coth", "sech", "csch"),
    "inverse hyperbolic": ("asinh", "acosh", "atanh", "acoth", "asech", "acsch"),
    "exp": ("exp",),
    "log": ("log",),
    "abs": ("Abs",),
    "sign": ("sign",),
    "min/max": ("Min", "Max"),
    "erf": ("erf", "erfc"),
    "root": ("cbrt",),
    "step function": ("Heaviside", "DiracDelta"),
    "detach": ("detach",),
}
FAMILY = {name: family for family, names in FAMILY_NAMES.items() for name in names}

NOTES = {
    "abs": "d|u|/du = sign(u): -1 for u < 0, 1 for u > 0; a kink at u = 0, where the "
    "one-sided derivatives -1 and 1 differ (SymPy's sign(0) = 0)",
    "sign": "sign(u) is constant on each side of its jump at u = 0: the derivative is 0 "
    "there; SymPy writes it 2*DiracDelta(u), which is 0 wherever u != 0",
    "relu": "relu(u) = max(0, u): its derivative is Heaviside(u), 1 for u > 0 and 0 for "
    "u < 0; a kink at u = 0",
    "min/max": "each argument counts where it is the one picked (Heaviside of the "
    "difference); a kink where arguments tie",
    "sigmoid": "the identity σ'(u) = σ(u)·(1 - σ(u)), σ(u) = 1/(1 + exp(-u)); "
    "written out: exp(-u)/(1 + exp(-u))**2",
    "softplus": "the identity softplus'(u) = σ(u): d/du log(1 + exp(u)) = "
    "exp(u)/(1 + exp(u)) = 1/(1 + exp(-u))",
    "detach": "detach(u) carries no gradient (torch .detach()): its derivative is 0, "
    "though its value counts",
    "step function": "Heaviside(u) is constant on each side of u = 0: 0 wherever u != 0 "
    "(SymPy writes DiracDelta)",
    "exp": "exp is its own derivative",
    "log": "d/du log(u) = 1/u",
    "root": "cbrt(u) = u**(1/3) for u > 0 (the real root below): derivative 1/(3*cbrt(u)**2), "
    "infinite at u = 0",
}


def _short(text: str) -> str:
    """A part of an expression, cut in the middle past SHORT characters."""
    if len(text) <= SHORT:
        return text
    half = SHORT // 2 - 2
    return f"{text[:half]} … {text[-half:]}"


def _is_sigmoid(sp, f):
    """1/(1 + exp(-u)) -> u, else None."""
    if not (f.is_Pow and f.exp == -1 and f.base.is_Add and len(f.base.args) == 2):
        return None
    one, other = sorted(f.base.args, key=lambda a: not a.is_Number)
    if one == 1 and isinstance(other, sp.exp):
        return -other.args[0]
    return None


def _is_softplus(sp, f):
    """log(1 + exp(u)) -> u, else None."""
    if not (isinstance(f, sp.log) and f.args[0].is_Add and len(f.args[0].args) == 2):
        return None
    one, other = sorted(f.args[0].args, key=lambda a: not a.is_Number)
    if one == 1 and isinstance(other, sp.exp):
        return other.args[0]
    return None


def _is_relu(sp, f):
    """Max(0, u) -> u, else None."""
    if isinstance(f, sp.Max) and len(f.args) == 2 and sp.S.Zero in f.args:
        return next(a for a in f.args if a != 0)
    return None


# -- the walk --------------------------------------------------------------


class _Walk:
    """Derives one expression's derivatives, recording a Step per rule applied.

    `mutation` (step number, slip) makes that step return a wrong derivative
    (answer.py's "where does the student's answer depart"); the steps are
    numbered the same with or without it."""

    def __init__(self, sp, taken: set, mutation: tuple[int, str] | None = None):
        self.sp = sp
        self.steps: list[Step] = []
        self.done: dict = {}  # (f, var) -> (derivative, step number or None)
        self.section = 0
        self.mutation = mutation
        self.fresh = [n for n in FRESH if n not in taken] + [
            f"u{i}" for i in range(1, 100) if f"u{i}" not in taken
        ]
        self.slips: list[tuple[int, str]] = []  # every (step, slip) a mutation could make

    def d(self, f, x):
        """(derivative, step number or None) of f by x."""
        key = (f, x)
        if key in self.done:
            return self.done[key]
        result = self._derive(f, x)
        self.done[key] = result
        return result

    def _record(self, rule, before, var, after, how, note="", uses=(), slips=()):
        if len(self.steps) >= MAX_STEPS:
            raise TooLargeError(
                f"the expression needs more than {MAX_STEPS} steps to explain "
                "(explanations are limited to that many: they are for a person to read)"
            )
        number = len(self.steps) + 1
        step = Step(number, rule, before, var, after, how, note, sorted(set(uses)), self.section)
        self.steps.append(step)
        for slip in slips:
            self.slips.append((number, slip))
        return step

    def leaf(self, f, x, derivative) -> int:
        """The step of a section that is a variable or a constant (no rule
        below it): d/dx x = 1, d/dx c = 0."""
        if f == x:
            how = f"d/d{x}({x}) = 1"
            return self._record("variable", f, x, derivative, how).number
        how = f"a constant (it does not depend on {x}) has derivative 0"
        return self._record("constant", f, x, derivative, how).number

    def _slipped(self, number: int, slip: str) -> bool:
        return self.mutation == (number, slip)

    def _ref(self, name: str, part, derivative, number) -> str:
        """u = ..., u' = ... (step n): a long derivative is named by its step
        only, so that a large expression's steps stay readable."""
        sp = self.sp
        text = sp.sstr(derivative)
        if number and len(text) > SHORT:
            return f"{name} = {_short(sp.sstr(part))}, {name}' from step {number}"
        where = f" (step {number})" if number else ""
        return f"{name} = {_short(sp.sstr(part))}, {name}' = {text}{where}"

    def _derive(self, f, x):
        sp = self.sp
        if f == x:
            return sp.S.One, None
        if not f.has(x):
            return sp.S.Zero, None
        inner = _is_sigmoid(sp, f)
        if inner is not None:
            return self._function(f, x, "sigmoid", [inner], lambda u: 1 / (1 + sp.exp(-u)))
        inner = _is_softplus(sp, f)
        if inner is not None:
            return self._function(f, x, "softplus", [inner], lambda u: sp.log(1 + sp.exp(u)))
        inner = _is_relu(sp, f)
        if inner is not None:
            return self._function(f, x, "relu", [inner], lambda u: sp.Max(0, u))
        if f.is_Add:
            return self._sum(f, x)
        if f.is_Mul:
            return self._mul(f, x)
        if f.is_Pow:
            return self._pow(f, x)
        if isinstance(f, (sp.Min, sp.Max)):
            return self._several(f, x, "min/max")
        if isinstance(f, sp.Function):
            name = type(f).__name__
            family = FAMILY.get(name, "function")
            if family == "detach":
                return self._detach(f, x)
            if len(f.args) == 1:
                return self._function(f, x, family, list(f.args), lambda u: f.func(u))
            return self._several(f, x, family)
        # Anything else SymPy can differentiate (a Derivative, Piecewise): one
        # step, named by what it is.
        after = sp.diff(f, x)
        step = self._record("function", f, x, after, f"SymPy's derivative of {type(f).__name__}")
        return after, step.number

    def _sum(self, f, x):
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

    def _mul(self, f, x):
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

    def _is_reciprocal(self, a) -> bool:
        sp = self.sp
        return (
            a.is_Pow
            and a.exp.is_Number
            and a.exp.is_negative
            and _is_sigmoid(sp, a) is None  # a sigmoid is a factor of its own
        )

    def _quotient(self, f, x, u, v):
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

    def _product(self, f, x, factors):
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

    def _pow(self, f, x):
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

    def _detach(self, f, x):
        sp = self.sp
        step = self._record("detach", f, x, sp.S.Zero, "detach(u)' = 0", NOTES["detach"])
        return sp.S.Zero, step.number

    def _function(self, f, x, rule, args, build):
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
        self._record(rule, outer, u, outer_d, how, NOTES.get(rule, ""), slips=slips)
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

    def _several(self, f, x, family):
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
        step = self._record(family, f, x, after, how, NOTES.get(family, ""), uses=uses)
        return after, step.number

    def _fresh_name(self, f) -> str:
        sp = self.sp
        used = {s.name for s in f.free_symbols}
        for name in self.fresh:
            if name not in used and sp.Symbol(name, real=True) not in f.free_symbols:
                return name
        return "u_"


# -- checking ----------------------------------------------------------------


def check_step(step: Step, rng: random.Random | None = None, domain=None) -> None:
    """Set step.checked / step.check against SymPy's derivative of `before`,
    compared where `domain` (by default `before`) is real, every part of it:
    for a step by a variable of the expression, the expression itself (its
    derivatives, SymPy's, may hold re() and im() of parts that are real there)."""
    sp = _sp()
    truth = sp.diff(step.before, step.var)
    method = equal(step.after, truth, rng, domain=step.before if domain is None else domain)
    step.checked = method in ("symbolic", "numeric")
    step.check = method


def equal(a, b, rng: random.Random | None = None, domain=None) -> str:
    """'symbolic' when a - b is 0 once rewritten, 'numeric' when it is 0 at
    CHECK_POINTS random points (30 digits), 'failed' when it is not, and
    'unverifiable' when no point has both defined."""
    if a == b or symbolically_zero(a - b):  # the same tree (even one SymPy cannot evaluate)
        return "symbolic"
    found = differing_point(a, b, rng, domain=domain)
    if found is None:
        return "numeric"
    return "unverifiable" if found == "none" else "failed"


def symbolically_zero(difference) -> bool:
    """0 as built, after expand or cancel, or after simplify when it is small
    (simplify on a large difference can take minutes)."""
    sp = _sp()
    if difference == 0:
        return True
    size = sp.count_ops(difference)
    rewrites = [sp.expand, sp.cancel] if size <= EXPAND_OPS else []
    if size <= SIMPLIFY_OPS:
        rewrites.append(sp.simplify)
    for rewrite in rewrites:
        try:
            if rewrite(difference) == 0:
                return True
        except (TypeError, ValueError, NotImplementedError, RecursionError):
            continue
    return False


# Where points are drawn, in turn: the first and last spans bound the search.
SPANS = [(-20.0, 20.0), (-3.0, 3.0), (0.05, 0.95), (1.05, 4.0), (-0.95, -0.05), (4.0, 100.0)]


def sample_points(symbols: list, rng: random.Random, count: int = CHECK_TRIES) -> list:
    """Points where expressions over `symbols` are tried: most within
    [-3, 3] (and some in (0, 1), where inverse trig lives, past 1, where acosh
    does, and far out, for a domain far from 0), at 30-digit Floats."""
    sp = _sp()
    return [
        {s: sp.Float(rng.uniform(*SPANS[i % len(SPANS)]), 30) for s in symbols}
        for i in range(count)
    ]


def in_domain(f, points: list) -> Iterable:
    """The points where f is real, every part of it included (real_at). All
    points at once in float64 with numpy (each shared part evaluated once:
    NaN, from a part outside its real domain, spreads to the whole); where
    numpy cannot evaluate one of its heads, point by point, lazily."""
    import numpy as np

    from .cas import sympy_engine

    if not points:
        return []
    arrays = {s: np.array([float(p[s]) for p in points]) for s in points[0]}
    try:
        with np.errstate(all="ignore"):
            values = sympy_engine.evaluate_numpy(f, arrays)
        finite = np.broadcast_to(np.isfinite(values), (len(points),))
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        return _LazyDomain(f, points)
    # float64 can overflow where 30 digits do not: those points are left out;
    # and underflow (log(gelu(-9)) is log(-0.0) in float64, of a negative
    # number at 30 digits): the points numpy keeps are confirmed at 30 digits.
    return (p for p, ok in zip(points, finite) if ok and value(f, p) is not None)


class _LazyDomain:
    """The points where real_at(f) holds, found as they are asked for."""

    def __init__(self, f, points):
        self.f, self.points = f, points

    def __iter__(self):
        return (p for p in self.points if real_at(self.f, p))


def value(f, point: dict):
    """f at `point` as a 30-digit value, or None where it is not a finite real."""
    from .cas import sympy_engine

    number, _ = sympy_engine.value_at(f, point)
    return number


DOMAIN_PARTS = 40  # sub-expressions of a function checked to be real at a point


def real_at(f, point: dict) -> bool:
    """f and its function calls and powers are finite reals at `point`: the
    real domain, where torch and numpy compute it (abs(acosh(y)) at y = 0.5 is
    real in SymPy, through a complex acosh, but outside that domain)."""
    sp = _sp()
    if value(f, point) is None:
        return False
    parts = [
        e
        for e in sp.preorder_traversal(f)
        if (isinstance(e, sp.Function) or e.is_Pow) and e.free_symbols
    ]
    return all(value(e, point) is not None for e in parts[:DOMAIN_PARTS])


def close(a: float, b: float, relative: float = RELATIVE) -> bool:
    return abs(a - b) <= relative * max(1.0, abs(a), abs(b))


def differing_point(
    a, b, rng: random.Random | None = None, relative: float = RELATIVE, domain=None
):
    """None when a and b agree at CHECK_POINTS points where both are defined
    (and `domain`, the function they are derivatives of, is a finite real);
    'none' when no such points were found; else (point, value a, value b)."""
    rng = rng or random.Random(0)
    free = a.free_symbols | b.free_symbols
    if domain is not None:
        free |= domain.free_symbols
    symbols = sorted(free, key=lambda s: s.name)
    points: Iterable = sample_points(symbols, rng)
    if domain is not None:
        points = in_domain(domain, list(points))
    agreeing = 0
    for point in points:
        va, vb = value(a, point), value(b, point)
        if va is None or vb is None:
            continue
        if not close(va, vb, relative):
            return point, va, vb
        agreeing += 1
        if agreeing >= CHECK_POINTS:
            return None
    return None if agreeing else "none"


# -- the driver --------------------------------------------------------------


def walk(
    f, symbols: dict, wanted: list[tuple], mutation=None, taken: set | frozenset = frozenset()
):
    """The walk over each wanted derivative (a tuple of names, by order)."""
    sp = _sp()
    walker = _Walk(sp, set(taken), mutation)
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


def explain(
    expression,
    wrt=None,
    order: int = 1,
    at=None,
    check: bool = True,
) -> Explanation:
    """Explain the derivative(s) of `expression` (text or a parsed Expression)
    by `wrt` (every variable when None) to `order` (1 or 2): every step checked.

    `at`: a point (dict name -> number, or --at strings) for the exact value at
    the end. Raises ParseError/UsageError/PointError for bad input; never
    imports torch."""
    from .check import validate
    from .parsing import Expression as Parsed
    from .parsing import parse

    _sp()
    sp = _sp()
    expr = expression if isinstance(expression, Parsed) else parse(expression)
    names = validate(expr, wrt, order, "float64")
    if order > 2:
        raise UsageError(f"with --explain must be 1 or 2, not {order}", option="order")
    from . import budget

    budget.computing()  # SymPy is imported: from here the time budget runs
    try:
        f, symbols = build(expr)
    except (ValueError, TypeError, ZeroDivisionError) as error:
        # SymPy refuses Max(zoo, ...) and the like as it builds them.
        raise DomainError(f"{expr.source} is not finite anywhere ({error})") from None
    if f.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise DomainError(f"{expr.source} is not finite anywhere: it reads as {sp.sstr(f)}")
    if check and not any(
        True
        for _ in in_domain(
            f, sample_points(sorted(f.free_symbols, key=lambda s: s.name), random.Random(0))
        )
    ):
        raise DomainError(
            f"{expr.source} is not a finite real number at any of the {CHECK_TRIES} points "
            f"tried in [{SPANS[0][0]:g}, {SPANS[-1][1]:g}], where the steps would be checked"
        )
    wanted = wanted_derivatives(names, order)
    walker, sections = walk(f, symbols, wanted, taken=set(expr.variables))
    explanation = Explanation(
        expression=expr.source,
        variables=list(expr.variables),
        wrt=names,
        order=order,
        function=f,
        symbols=symbols,
        steps=walker.steps,
        sections=sections,
    )
    if check:
        rng = random.Random(0)
        variables = set(symbols.values())
        for step in explanation.steps:
            check_step(step, rng, f if step.var in variables else None)
    if at:
        point = exact_point(symbols, at, expr)
        explanation.point = {symbol.name: number for symbol, number in point.items()}
        explanation.exact = [exact_value(s.derivative, point) for s in sections]
    return explanation


def build(expr):
    """The SymPy expression of a parsed one, over real symbols."""
    from .cas import sympy_engine

    symbols = sympy_engine.symbols_for(expr.variables, {})
    f = sympy_engine.build(expr, symbols)
    if isinstance(f, list):
        raise UsageError("--explain takes a scalar expression (no vector values)")
    return f, symbols


MAX_EXACT = 40  # characters of an exact value shown beside its float


def exact_point(symbols: dict, at, expr) -> dict:
    """name -> exact SymPy number for the point: 3 -> 3, 0.25 -> 1/4,
    0.7853981633974483 -> pi/4 (when that is what the float is)."""
    import numpy as np

    from . import points

    sp = _sp()
    if isinstance(at, dict):
        point = {k: np.asarray(v, dtype=float) for k, v in at.items()}
    else:
        point = points.point(at, expr.variables)
    exact = {}
    for name, symbol in symbols.items():
        if np.ndim(point[name]) != 0:
            raise UsageError(
                "takes scalar values with --explain (a vector has no exact value)", option="at"
            )
        number = float(point[name])
        guess = sp.nsimplify(sp.Float(repr(number)), [sp.pi, sp.E], rational=False)
        if float(guess) != number:
            guess = sp.Rational(repr(number))
        exact[symbol] = guess
    return exact


def exact_value(derivative, point: dict) -> tuple:
    """(exact value at `point` (Symbol -> exact number) when it is short, or
    None; its float, or None when it is not a finite real)."""
    sp = _sp()
    number = value(derivative, {s: sp.Float(v.evalf(30), 30) for s, v in point.items()})
    try:
        exact = derivative.xreplace(point)
        exact = sp.nsimplify(exact) if exact.is_Float else exact
    except (TypeError, ValueError, ZeroDivisionError):
        return None, number
    text = sp.sstr(exact)
    if len(text) > MAX_EXACT or exact.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return None, number
    return exact, number


def failure_message(explanation: Explanation) -> str | None:
    """One line naming the first step that failed its check, or None."""
    for step in explanation.failed():
        sp = _sp()
        return (
            f"step {step.number} ({step.rule} rule) failed its check: "
            f"d/d{step.var}({sp.sstr(step.before)}) is not {sp.sstr(step.after)} "
            f"({step.check}; a bug in gradcalc's rule)"
        )
    return None


__all__ = ["RULE_NAMES", "Explanation", "Section", "Step", "explain"]
