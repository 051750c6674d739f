"""`diff --explain`: a derivative derived the way a textbook does, every step checked.

`explain` builds the SymPy expression of the parsed one, has `derivation.walk`
derive each derivative asked for, one rule per kind of node (rulebook.py names
the rules), and checks every step, an identity `d/dv before = after`, against
SymPy's own derivative of `before` (equivalence.py: the difference is 0,
"symbolic", or it is 0 at several random 30-digit points, "numeric"). With a
point, each derivative's exact value there. gradcalc's own functions are built
by the function table as SymPy formulas; the ones a student names (sigmoid,
softplus, relu) are recognised by their shape.

`answer.py` grades a hand-written derivative against an `Explanation`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .derivation import Section, Step, walk, wanted_derivatives
from .equivalence import CHECK_TRIES, SPANS, equal, in_domain, sample_points, value
from .errors import DomainError, UsageError
from .exact import short_text
from .parsing import Expression, as_expression
from .rulebook import RULE_NAMES


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


def _sp() -> ModuleType:
    import sympy

    return sympy


def check_step(step: Step, rng: random.Random | None = None, domain: Any = None) -> None:
    """Set step.checked / step.check against SymPy's derivative of `before`,
    compared where `domain` (by default `before`) is real, every part of it:
    for a step by a variable of the expression, the expression itself (its
    derivatives, SymPy's, may hold re() and im() of parts that are real there)."""
    sp = _sp()
    truth = sp.diff(step.before, step.var)
    method = equal(step.after, truth, rng, domain=step.before if domain is None else domain)
    step.checked = method in ("symbolic", "numeric")
    step.check = method


def explain(
    expression: str | Expression,
    wrt: str | Sequence[str] | None = None,
    order: int = 1,
    at: dict | str | list[str] | None = None,
    check: bool = True,
) -> Explanation:
    """Explain the derivative(s) of `expression` (text or a parsed Expression)
    by `wrt` (every variable when None) to `order` (1 or 2): every step checked.

    `at`: a point (anything `atpoint.point` takes) for the exact value at
    the end. Raises ParseError/UsageError/PointError for bad input; never
    imports torch."""
    from .pointcheck import validate

    sp = _sp()
    expr = as_expression(expression)
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
    if at is not None and not (isinstance(at, (list, tuple, dict)) and not at):
        point = exact_point(symbols, at, expr)
        explanation.point = {symbol.name: number for symbol, number in point.items()}
        explanation.exact = [exact_value(s.derivative, point) for s in sections]
    return explanation


def build(expr: Expression) -> tuple[Any, dict]:
    """The SymPy expression of a parsed one, over real symbols."""
    from .cas import sympy_engine

    symbols = sympy_engine.symbols_for(expr.variables, {})
    f = sympy_engine.build(expr, symbols)
    if isinstance(f, list):
        raise UsageError("--explain takes a scalar expression (no vector values)")
    return f, symbols


MAX_EXACT = 40  # characters of an exact value shown beside its float


def exact_point(symbols: dict, at: Any, expr: Expression) -> dict:
    """name -> exact SymPy number for the point: 3 -> 3, 0.25 -> 1/4,
    0.7853981633974483 -> pi/4 (when that is what the float is)."""
    import numpy as np

    from . import atpoint

    sp = _sp()
    point = atpoint.point(at, expr.variables)
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


def exact_value(derivative: Any, point: dict) -> tuple[Any, float | None]:
    """(exact value at `point` (Symbol -> exact number) when it is short, or
    None; its float, or None when it is not a finite real)."""
    sp = _sp()
    number = value(derivative, {s: sp.Float(v.evalf(30), 30) for s, v in point.items()})
    try:
        exact = derivative.xreplace(point)
        exact = sp.nsimplify(exact) if exact.is_Float else exact
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None, number
    if short_text(exact, MAX_EXACT) is None or exact.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
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


@dataclass
class TaylorExplanation:
    """`taylor --explain`: f's derivatives by one variable, each derived
    step by step (the sections of `explanation`, one an order), and each
    coefficient c_k = f^(k)(a)/k! from the exact value at a."""

    explanation: Explanation
    variable: str
    at: Any  # the exact SymPy number a
    coefficients: list  # per k: (exact c_k or None, float or None)

    @property
    def checked(self) -> bool:
        return self.explanation.checked


def explain_taylor(
    expression: str | Expression, at: Any, order: int, wrt: Sequence[str] | None = None
) -> TaylorExplanation:
    """The Taylor coefficients of `expression` at `at`, up to `order`, as
    f^(k)(a)/k!: derivative k is derivation.walk's derivative of SymPy's
    derivative k − 1 (as `diff --explain --order 2` takes the second), each
    step checked against SymPy."""
    import math

    from .taylor import MAX_ORDER, along

    sp = _sp()
    expr = as_expression(expression)
    if not 0 <= order <= MAX_ORDER:
        raise UsageError(f"must be from 0 to {MAX_ORDER}, not {order}", option="order")
    variable = along(expr, wrt)
    from . import budget

    budget.computing()
    f, symbols = build(expr)
    wanted = [(variable,) * order] if order else []
    walker, sections = walk(f, symbols, wanted, taken=set(expr.variables))
    explanation = Explanation(
        expression=expr.source,
        variables=list(expr.variables),
        wrt=[variable],
        order=order,
        function=f,
        symbols=symbols,
        steps=walker.steps,
        sections=sections,
    )
    rng = random.Random(0)
    for step in explanation.steps:
        check_step(step, rng, f if step.var in set(symbols.values()) else None)
    point = exact_point(symbols, at, expr)
    explanation.point = {symbol.name: number for symbol, number in point.items()}
    explanation.exact = [exact_value(s.derivative, point) for s in sections]
    values = [exact_value(f, point)] + explanation.exact
    coefficients = [
        (
            None if exact is None else sp.nsimplify(exact / math.factorial(k)),
            None if number is None else number / math.factorial(k),
        )
        for k, (exact, number) in enumerate(values)
    ]
    return TaylorExplanation(explanation, variable, point[symbols[variable]], coefficients)
