"""`diff --implicit y --explain`: an implicit derivative derived as a
textbook does, each step checked.

The steps, each named by its rule: the chain rule on y, on each side (y is a
function of x: d/dx L(x, y) = L_x + L_y·y′); differentiate both sides (the
two are equal); solve for y′; and for a second order, differentiate y′
again (the chain rule on y) and put y′ in. Each is checked against another
of SymPy's routines than the one the step used: a side differentiated with
y as an undefined function y(x), and `sympy.idiff` for the solved
derivatives (equivalence.py: symbolically, else at random points).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .equivalence import equal

IMPLICIT_RULES = (
    "chain rule on y",
    "differentiate both sides",
    "solve for y′",
    "put y′ in",
)


@dataclass
class ImplicitStep:
    """One rule applied: `before` becomes `after` (an equation is a pair)."""

    number: int
    rule: str  # one of IMPLICIT_RULES
    before: str
    after: str
    how: str
    uses: list[int] = field(default_factory=list)
    checked: bool = False
    check: str = ""  # "symbolic", "numeric", or why it failed


@dataclass
class ImplicitExplanation:
    equation: str
    x: str
    y: str
    order: int
    steps: list[ImplicitStep]
    results: list[str]  # y′, y″ ... as SymPy writes them

    @property
    def checked(self) -> bool:
        return all(step.checked for step in self.steps)

    def failure(self) -> str | None:
        for step in self.steps:
            if not step.checked:
                return (
                    f"step {step.number} ({step.rule}) failed its check: {step.after} "
                    f"({step.check}; a bug in gradcalc's rule)"
                )
        return None


def explain(lhs: Any, rhs: Any, x: Any, y: Any, order: int, text: str) -> ImplicitExplanation:
    """The steps for d^order y/dx^order of lhs = rhs (SymPy expressions over
    the Symbols x and y), order 1 or 2."""
    import sympy as sp

    from .implicit import implicit_derivatives

    prime = sp.Symbol(f"{y.name}′")
    rng = random.Random(0)
    steps: list[ImplicitStep] = []
    sides = []
    for side in (lhs, rhs):
        chained = sp.diff(side, x) + sp.diff(side, y) * prime
        truth = _with_function(side, x, y, prime)
        steps.append(
            _step(
                steps,
                "chain rule on y",
                f"d/d{x} ({sp.sstr(side)})",
                chained,
                truth,
                f"∂/∂{x} + ∂/∂{y}·{prime}, {y} being a function of {x}",
                rng,
            )
        )
        sides.append(chained)
    both = sides[0] - sides[1]
    truth = _with_function(lhs - rhs, x, y, prime)
    steps.append(
        _step(
            steps,
            "differentiate both sides",
            f"d/d{x} ({sp.sstr(lhs)}) = d/d{x} ({sp.sstr(rhs)})",
            both,
            truth,
            f"{sp.sstr(sides[0])} = {sp.sstr(sides[1])}, as one side minus the other",
            rng,
            uses=[1, 2],
        )
    )
    solved = sp.solve(both, prime)
    first = implicit_derivatives(lhs - rhs, x, y, 1)[0]
    found = solved[0] if len(solved) == 1 else first
    steps.append(
        _step(
            steps,
            "solve for y′",
            f"{sp.sstr(both)} = 0",
            found,
            sp.idiff(lhs - rhs, y, x),
            f"{prime} alone on one side",
            rng,
            uses=[3],
        )
    )
    results = [sp.sstr(found)]
    if order == 2:
        results.append(_second(lhs - rhs, x, y, prime, found, steps, rng))
    return ImplicitExplanation(text, x.name, y.name, order, steps, results)


def _second(f: Any, x: Any, y: Any, prime: Any, found: Any, steps: list, rng: random.Random) -> str:
    """y″: y′ (`found`, step 4) differentiated again by the chain rule on y,
    then y′ put in; the steps appended."""
    import sympy as sp

    again = sp.diff(found, x) + sp.diff(found, y) * prime
    truth = _with_function(found, x, y, prime)
    how = f"{y}″ = d/d{x} {prime}: ∂/∂{x} + ∂/∂{y}·{prime}"
    steps.append(
        _step(steps, "chain rule on y", f"d/d{x} ({sp.sstr(found)})", again, truth, how, rng, [4])
    )
    second = sp.factor(sp.cancel(sp.together(again.subs(prime, found))))
    how = f"{prime} = {sp.sstr(found)}"
    idiff = sp.idiff(f, y, x, 2)
    steps.append(_step(steps, "put y′ in", sp.sstr(again), second, idiff, how, rng, [4, 5]))
    return str(sp.sstr(second))


def _with_function(side: Any, x: Any, y: Any, prime: Any) -> Any:
    """d/dx of `side` with y an undefined function y(x), y′ written as `prime`."""
    import sympy as sp

    function = sp.Function(y.name)(x)
    derived = sp.diff(side.subs(y, function), x)
    return derived.subs(sp.Derivative(function, x), prime).subs(function, y)


def _step(
    steps: list[ImplicitStep],
    rule: str,
    before: str,
    after: Any,
    truth: Any,
    how: str,
    rng: random.Random,
    uses: list[int] | None = None,
) -> ImplicitStep:
    import sympy as sp

    method = equal(after, truth, rng)
    step = ImplicitStep(len(steps) + 1, rule, before, sp.sstr(after), how, list(uses or []))
    step.checked = method in ("symbolic", "numeric")
    step.check = method
    return step
