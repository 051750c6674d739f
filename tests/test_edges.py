"""Verdicts at unusual points, against an independent reference.

Expressions are generated with known structure: a non-smooth function (abs,
relu, sign, max, min) placed exactly at, near, or away from its kink at the
point, inside smooth functions, raised to powers (kinks of higher
derivatives), clipped flat (locally constant pieces), or jumping. Every point
and constant is dyadic (exact in float64, SymPy and mpmath alike), so "at the
kink" means exactly there. The reference verdict comes from mpmath alone
(`reference.one_variable_verdict`: continuity and one-sided derivatives of
every order up to N at 50 digits); gradcalc must give the same
`differentiable` flag and, where differentiable, the same derivative.
"""

import os
import random
from fractions import Fraction

import pytest
import reference

from gradcalc.check import differentiate
from gradcalc.errors import DomainError

POINTS = [Fraction(0), Fraction(1, 2), Fraction(-3, 4), Fraction(5, 4), Fraction(3, 1)]
INNER = [  # (text with x, exact function)
    ("x", lambda x: x),
    ("2*x", lambda x: 2 * x),
    ("x^3", lambda x: x**3),
    ("x^2 + x", lambda x: x**2 + x),
    ("(1 - x)/2", lambda x: (1 - x) / 2),
]
SMOOTH = ["exp", "sin", "atan", "tanh"]
PLACES = {"at": Fraction(0), "near": Fraction(1, 2**20), "away": Fraction(1, 2)}


def _decimal(q: Fraction) -> str:
    """A dyadic fraction as an exact decimal literal."""
    if q.denominator == 1:
        return str(q.numerator)
    digits = 0
    while (q * 10**digits).denominator != 1:
        digits += 1
    scaled = abs(q.numerator * 10**digits // q.denominator)
    whole, fraction = divmod(scaled, 10**digits)
    return ("-" if q < 0 else "") + f"{whole}.{fraction:0{digits}d}"


def _shifted(inner: str, value: Fraction) -> str:
    return f"({inner} - {_decimal(value)})" if value >= 0 else f"({inner} + {_decimal(-value)})"


def _cases(seed: int, count: int):
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        x0 = rng.choice(POINTS)
        text, g = rng.choice(INNER)
        place = rng.choice(list(PLACES))
        u = _shifted(text, g(x0) + PLACES[place])  # zero at x0 when "at"
        shape = rng.choice(
            ["abs", "relu", "max", "power", "times", "smooth", "jump", "flat", "activation"]
        )
        order = 1
        if shape == "abs":
            expression = f"abs{u}"
        elif shape == "relu":
            expression = f"relu{u}"
        elif shape == "max":
            expression = f"max({text}, {_decimal(g(x0) + PLACES[place])} + {u}/2)"
        elif shape == "power":  # kinks of higher derivatives
            expression = f"abs{u}^{rng.choice(['2', '3', '1.5', '2.5'])}"
            order = rng.choice([1, 2, 3])
        elif shape == "times":
            expression = f"{u}*abs{u}"
            order = rng.choice([1, 2])
        elif shape == "smooth":
            expression = f"{rng.choice(SMOOTH)}(relu{u}) + x/4"
        elif shape == "jump":
            expression = rng.choice([f"sign{u}^2", f"x + sign{u}", f"sign{u}*{u}^2"])
        elif shape == "activation":  # the ML activations' kinks (elu's is in f'')
            expression = rng.choice(
                [
                    f"leaky_relu{u}",
                    f"leaky_relu({u}, 0.25)",
                    f"elu{u}",
                    f"clamp({u}, 0, 1)",
                    f"hardtanh({u} + 1)",
                    f"clamp({u}, -1, 0)",
                ]
            )
            order = rng.choice([1, 2])
        else:  # clipped flat on one side
            expression = rng.choice([f"sqrt(relu{u})", f"relu(-{u})^1.5"])
        cases.append(pytest.param(expression, float(x0), order, id=f"{expression}@{x0}#{order}"))
    return cases


@pytest.mark.parametrize(
    "expression, x0, order",
    _cases(
        seed=int(os.environ.get("GRADCALC_EDGE_SEED", "12")),
        count=int(os.environ.get("GRADCALC_EDGE_CASES", "120")),
    ),
)
def test_verdict_matches_mpmath(expression, x0, order):
    expected, derivative = reference.one_variable_verdict(expression, "x", x0, order)
    try:
        result = differentiate(expression, {"x": x0}, order=order)
    except DomainError:
        assert expected == "undefined", expression
        return
    if expected == "not_differentiable":
        assert result.status == "not_differentiable", result.reason
        assert not result.differentiable
    elif expected == "undefined":
        assert result.status == "undefined", result.reason
    else:
        assert result.differentiable, result.reason
        assert result.status in ("agree", "disagree"), result.reason
        if result.status == "disagree":  # only where float64, or torch's convention, explains it
            explained = ("float64's limit", "subgradient", "autograd's own NaN")
            assert any(words in result.reason for words in explained), result.reason
        (partial,) = [p for p in result.partials]
        # The reference's one-sided steps (1e-20 at 50 digits) leave up to a few
        # 1e-8 where a derivative tends to 0 like √h.
        assert partial.sympy == pytest.approx(derivative, rel=1e-7, abs=1e-7), result.reason
