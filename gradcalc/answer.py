"""`diff --answer EXPR`: check a derivative written by hand.

The answer is parsed by gradcalc's own grammar (never evaluated as code) and
compared with SymPy's derivative: symbolically first (the difference is 0
after a cheap rewrite, or `simplify` on a small difference), then at
ANSWER_POINTS points where both are defined. A wrong answer gets the first
point found where they differ, both values there, and the step of the
explanation where it departs: the walk is redone with one slip made at one
step at a time (derivation.Walk's `mutation`), and the first slip that gives
the answer names the step.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from . import derivation, equivalence
from .derivation import Section, Step
from .equivalence import Found
from .errors import ParseError, UsageError
from .explain import Explanation

ANSWER_POINTS = 24  # points where a numerically equivalent answer must agree
ANSWER_TRIES = 200  # points drawn to find them
ANSWER_RELATIVE = 1e-10  # agreement at a point, relative to the larger value
MAX_SLIPS = 80  # slips tried to say where a wrong answer departs

SLIP_WORDS = {
    "inner derivative missing": "the chain rule's inner derivative is missing: F'(u) = {outer} "
    "must be multiplied by du/d{x} = {inner}",
    "outer not differentiated": "the chain rule's outer function was not differentiated: "
    "F'(u) = {outer}, not F(u), multiplies du/d{x}",
    "product of derivatives": "the product rule is u'·v + u·v', not u'·v'",
    "product term missing": "a term of the product rule is missing: it is the sum, over the "
    "factors, of each one's derivative times the others",
    "coefficient missing": "the power rule brings the exponent down as a factor: "
    "d/d{var}({before}) = {after}",
    "sign": "the derivative of {before} has the wrong sign: it is {after}",
    "quotient sign": "the quotient rule subtracts: (u'·v - u·v')/v**2, not (u'·v + u·v')/v**2",
    "order": "the quotient rule's numerator is u'·v - u·v', not u·v' - u'·v",
    "square": "the quotient rule divides by v**2, not by v",
    "exponent not lowered": "the power rule lowers the exponent by one: d/d{var}({before}) = "
    "{after}",
    "log factor": "d/du a**u = a**u·log(a): the factor log(a) is missing",
    "drop term": "a term of the sum is missing (the sum rule differentiates every term)",
    "drop constant": "the constant factor is missing (constant multiple rule: (c·u)' = c·u')",
}


@dataclass
class Grade:
    """What --answer found."""

    answer: str
    right: bool
    method: str  # "symbolic" or "numeric" (how it was found right, or wrong)
    point: dict | None = None  # name -> float where it differs
    answer_value: float | None = None
    derivative_value: float | None = None
    step: int | None = None  # the step of the explanation it departs from
    rule: str | None = None
    slip: str | None = None
    message: str = ""
    read_as: str | None = None  # a LaTeX answer, as gradcalc's grammar reads it

    @property
    def difference(self) -> float | None:
        if self.answer_value is None or self.derivative_value is None:
            return None
        return self.answer_value - self.derivative_value


def parse_answer(text: str, explanation: Explanation, latex: bool | None = None) -> Any:
    """The answer as a SymPy expression over the explanation's symbols, and
    what a LaTeX answer reads as (None for the grammar's own text)."""
    from .cas import sympy_engine
    from .parsing import parse

    try:
        parsed = parse(text, latex=latex)
    except ParseError as error:
        raise UsageError(f"is not an expression: {error.message}", option="answer") from None
    unknown = [name for name in parsed.variables if name not in explanation.symbols]
    if unknown:
        raise UsageError(
            f"names {', '.join(unknown)}, not a variable of the expression "
            f"(its variables: {', '.join(explanation.variables)})",
            option="answer",
        )
    built = sympy_engine.build(parsed, {n: explanation.symbols[n] for n in parsed.variables})
    if isinstance(built, list):
        raise UsageError("must be a scalar expression", option="answer")
    return built, parsed.read_as


def target(explanation: Explanation) -> Section:
    """The one derivative an answer is compared with: the last asked for."""
    finals = [s for s in explanation.sections if len(s.wrt) == explanation.order]
    if len(finals) != 1:
        raise UsageError(
            "checks one derivative: give --wrt with one variable "
            f"(the expression has {', '.join(explanation.variables)})",
            option="answer",
        )
    return finals[0]


def grade(explanation: Explanation, text: str, latex: bool | None = None) -> Grade:
    """Grade a hand-written derivative `text` against the explanation's
    (`latex`: as parse takes it; LaTeX is read as such anyway)."""
    answer, read_as = parse_answer(text, explanation, latex)
    graded = _graded(explanation, text, answer)
    graded.read_as = read_as
    return graded


def _graded(explanation: Explanation, text: str, answer: Any) -> Grade:
    section = target(explanation)
    truth = section.derivative
    symbolic = equivalence.symbolically_zero(answer - truth)
    if symbolic:
        return Grade(text, True, "symbolic", message="right: it equals the derivative")
    found = _compare(answer, truth, ANSWER_POINTS, domain=explanation.function)
    if found is None:
        return Grade(
            text,
            True,
            "numeric",
            message=f"right: it equals the derivative at {ANSWER_POINTS} points where both "
            "are defined",
        )
    if found == "none":
        return Grade(
            text,
            False,
            "numeric",
            message="wrong: there is no point where both it and the derivative are defined",
        )
    point, mine, theirs = found
    wrong = Grade(
        text,
        False,
        "numeric",
        point={s.name: float(v) for s, v in point.items()},
        answer_value=mine,
        derivative_value=theirs,
    )
    _departure(explanation, section, answer, wrong)
    return wrong


def _points(symbols: list, rng: random.Random) -> Iterator[dict]:
    """Readable points (two decimals) spread over the usual domains."""
    import sympy as sp

    spans = [(-3.0, 3.0), (0.05, 0.95), (1.05, 4.0), (-0.95, -0.05), (-10.0, 10.0)]
    for i in range(ANSWER_TRIES):
        low, high = spans[i % len(spans)]
        point = {}
        for s in symbols:
            number = round(rng.uniform(low, high), 2) or 0.01
            point[s] = sp.Float(repr(number), 30)
        yield point


def _compare(
    answer: Any, truth: Any, wanted: int, symbols: list | None = None, domain: Any = None
) -> Found:
    """None: equal at `wanted` points where both are defined (and the
    function, `domain`, is a finite real); 'none': no such point; else
    (point, answer there, derivative there)."""
    free = answer.free_symbols | truth.free_symbols
    if domain is not None:
        free |= domain.free_symbols
    symbols = symbols or sorted(free, key=lambda s: s.name)
    points: Iterable = list(_points(symbols, random.Random(0)))
    if domain is not None:
        points = equivalence.in_domain(domain, list(points))
    return equivalence.first_difference(answer, truth, points, wanted, ANSWER_RELATIVE)


def _departure(explanation: Explanation, section: Section, answer: Any, wrong: Grade) -> None:
    """Name the first step whose slip gives the answer; else the section's
    last step."""
    import sympy as sp

    wanted = [s.wrt for s in explanation.sections if len(s.wrt) == explanation.order]
    taken = set(explanation.variables)
    walker, _ = derivation.walk(explanation.function, explanation.symbols, wanted, taken=taken)
    mine = set(section.steps)
    slips = [(n, slip) for n, slip in walker.slips if n in mine][:MAX_SLIPS]
    free = answer.free_symbols | section.derivative.free_symbols | explanation.function.free_symbols
    symbols = sorted(free, key=lambda s: s.name)
    for number, slip in slips:
        _, sections = derivation.walk(
            explanation.function, explanation.symbols, wanted, (number, slip), taken
        )
        slipped = next(s for s in sections if s.wrt == section.wrt)
        if _compare(answer, slipped.result, 6, symbols, explanation.function) is None:
            step = explanation.steps[number - 1]
            wrong.step, wrong.rule, wrong.slip = number, step.rule, slip
            wrong.message = f"wrong: it departs at step {number} ({step.rule} rule): " + _words(
                slip, step, explanation
            )
            return
    last = section.last
    if last is None:
        wrong.message = f"wrong: the derivative is {sp.sstr(section.derivative)}"
        return
    step = explanation.steps[last - 1]
    wrong.step, wrong.rule = last, step.rule
    wrong.message = (
        f"wrong: it matches no single slip of one step; step {last} ({step.rule} rule) "
        f"gives {sp.sstr(step.after)}"
    )


def _words(slip: str, step: Step, explanation: Explanation) -> str:
    import sympy as sp

    fields = {
        "before": sp.sstr(step.before),
        "after": sp.sstr(step.after),
        "var": str(step.var),
        "x": str(step.var),
        "outer": "",
        "inner": "",
    }
    if step.rule == "chain" and step.inner is not None:
        outer = explanation.steps[step.uses[0] - 1]
        fields["outer"] = sp.sstr(outer.after.xreplace({outer.var: step.inner[1]}))
        fields["inner"] = sp.sstr(step.inner_derivative)
    return SLIP_WORDS[slip].format(**fields)


__all__ = ["Grade", "grade"]
