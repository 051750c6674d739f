"""The certificate: the emitted code is run, at random points inside the
expression's domain and at the user's point, and its f, gradient and
Hessian compared with SymPy's (gradcalc's own tree, differentiated by
SymPy, evaluated at 30 digits with mpmath). Nothing is printed unless it passes.

A point is inside the domain when SymPy's f and every derivative are finite
real numbers there. The torch Function also passes torch.autograd.gradcheck;
C is compiled with the system's cc (-std=c99 -Wall -Werror) and called
through ctypes, or, with no compiler, not run (said in the certificate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np

from ..errors import DomainError
from . import runners
from .code import Code
from .reference import DIGITS, evaluate
from .symbolic import Program

RANDOM_POINTS = 8  # inside the domain
MAX_TRIES = 200  # random draws to find them
TOLERANCE = 1e-10  # largest relative error that passes
# An entry far smaller than the point's largest is measured against this
# share of the largest: 1e-17 off a 1e-300 entry is not an error of 1e283.
FLOOR = 1e-6
SEED = 20261207  # the same points every run: the same certificate for the same code


@dataclass
class Certificate:
    points: int  # where the code ran and was compared
    random_points: int  # of them, drawn inside the domain
    at_point: bool  # the user's --at was one of them
    largest_error: float  # relative, see FLOOR
    tolerance: float
    passed: bool
    ran: bool  # False: C without a compiler
    note: str  # how it ran (compiled with ..., gradcheck ...) or why it did not
    gradcheck: bool | None = None  # torch --function only


@dataclass(frozen=True)
class Sample:
    inputs: dict[str, np.ndarray]  # argument -> float64 value (0-d or 1-d)
    expected: list[float]  # f, gradient, Hessian upper triangle, as Program.reference


def samples(program: Program, at: dict[str, np.ndarray] | None) -> tuple[list[Sample], bool]:
    """Up to RANDOM_POINTS random points inside the domain, and `at` first
    when given (a DomainError when f or a derivative is undefined there)."""
    found: list[Sample] = []
    if at is not None:
        sample = _sample(program, at)
        if sample is None:
            raise DomainError(
                "f or one of its derivatives is not a finite real number at {at}: "
                "the code cannot be checked there",
                option="at",
            )
        found.append(sample)
    rng = np.random.default_rng(SEED)
    for attempt in range(MAX_TRIES):
        if len(found) >= RANDOM_POINTS + (at is not None):
            break
        inputs = {name: _draw(rng, attempt, program.shapes[name]) for name in program.arguments}
        sample = _sample(program, inputs)
        if sample is not None:
            found.append(sample)
    return found, at is not None


def _draw(rng: np.random.Generator, attempt: int, length: int | None) -> np.ndarray:
    """Around 0 first; then positive numbers; then wider (a domain like x > 3)."""
    size = () if length is None else (length,)
    if attempt < MAX_TRIES // 3:
        return rng.uniform(-2.0, 2.0, size)
    if attempt < 2 * MAX_TRIES // 3:
        return rng.uniform(0.05, 2.0, size)
    return rng.uniform(-10.0, 10.0, size)


def _sample(program: Program, inputs: dict[str, np.ndarray]) -> Sample | None:
    with mpmath.workdps(DIGITS):
        values = {}
        for name in program.arguments:
            symbol = program.symbols[name]
            array = np.asarray(inputs[name], dtype=float)
            if isinstance(symbol, list):
                values.update({s: mpmath.mpf(float(v)) for s, v in zip(symbol, array)})
            else:
                values[symbol] = mpmath.mpf(float(array))
        results = evaluate(program.reference, values)
    if results is None or not all(math.isfinite(float(r)) for r in results):
        return None
    return Sample(
        {k: np.asarray(v, dtype=float) for k, v in inputs.items()}, [float(r) for r in results]
    )


def error(got: list[float], expected: list[float]) -> float:
    """The largest relative error of `got` (see FLOOR)."""
    scale = max((abs(e) for e in expected), default=0.0)
    worst = 0.0
    for g, e in zip(got, expected):
        if not math.isfinite(g):
            return math.inf
        worst = max(worst, abs(g - e) / max(abs(e), FLOOR * scale, 1e-300))
    return worst


def certify(
    program: Program, code: Code, target: str, at: dict[str, np.ndarray] | None
) -> Certificate:
    found, at_given = samples(program, at)
    if not found:
        raise DomainError(
            f"no point inside the domain among {MAX_TRIES} random ones: give one with {{at}}",
            option="at",
        )
    run = runners.RUNNERS[target]
    results = run(program, code, [s.inputs for s in found])
    worst = max(
        (error(got, s.expected) for got, s in zip(results.outputs, found)), default=math.inf
    )
    passed = results.ran and worst <= TOLERANCE and results.gradcheck is not False
    if not results.ran:
        passed, worst = True, math.nan
    return Certificate(
        points=len(found),
        random_points=len(found) - at_given,
        at_point=at_given,
        largest_error=worst,
        tolerance=TOLERANCE,
        passed=passed,
        ran=results.ran,
        note=results.note,
        gradcheck=results.gradcheck,
    )
