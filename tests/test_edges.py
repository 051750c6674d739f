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

import json
import math
import os
import random
from fractions import Fraction

import mpmath
import pytest
import reference

from gradcalc.errors import DomainError
from gradcalc.pointcheck import differentiate
from gradcalc.verdict import FD_ERROR_SLACK

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
        count=int(os.environ.get("GRADCALC_EDGE_CASES", "80")),
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


# Found by an independent fuzz run (2,000 expressions against 50-digit mpmath):
# each class once, with the verdict and the reference mpmath gives.
FOUND = [
    # A smooth function of non-smooth parts, at the parts' kink: sign(0) = 0
    # must not leak into the reference.
    ("cos(abs(sin(x+2)))", {"x": -2.0}, 2, "differentiable", -1.0),
    ("sign(x)*abs(x)", {"x": 0.0}, 1, "differentiable", 1.0),
    ("cosh(abs(x^2-4))", {"x": -2.0}, 2, "differentiable", 16.0),
    # Smooth points near a kink (1e-12) or at a tiny value are smooth.
    ("max(x,y)", {"x": 1.25 + 1e-12, "y": 1.25}, 1, "differentiable", 1.0),
    ("abs(x)", {"x": 1e-300}, 1, "differentiable", 1.0),
    ("sign(x)", {"x": 1e-300}, 1, "differentiable", 0.0),
    ("sqrt((x-0.125)^2)", {"x": 0.125 + 2**-40}, 1, "differentiable", 1.0),
    # A flat piece 1e-12 from its edge.
    ("sqrt(relu(exp(x)-1))", {"x": -9.09e-13}, 1, "differentiable", 0.0),
    # atan2 jumps across the negative x axis.
    ("atan2(y,x)", {"x": -1.0, "y": 0.0}, 1, "not_differentiable", None),
    # Finite differences must not step across the pole: not checked.
    ("1/x", {"x": 1e-100}, 1, "differentiable", -1e200),
    # A removable singularity's limit that tends to 0 like h·log h.
    ("x**y", {"x": 0.0, "y": 2.0}, 2, "differentiable", None),
]


@pytest.mark.parametrize("expression, point, order, expected, derivative", FOUND)
def test_fuzz_findings(expression, point, order, expected, derivative):
    result = differentiate(expression, point, order=order)
    if expected == "not_differentiable":
        assert result.status == "not_differentiable", result.reason
        return
    assert result.differentiable, result.reason
    first = result.partials[0]
    if derivative is not None:
        assert first.sympy == pytest.approx(derivative, rel=1e-7, abs=1e-12), result.reason
    if expression == "x**y":  # every second partial at (0, 2): 2, 0, 0
        assert [p.sympy for p in result.partials] == pytest.approx([2.0, 0.0, 0.0], abs=1e-12)


def test_an_overflow_inside_evalf_is_an_answer_not_a_crash(cli):
    run = cli("diff", "erfc(x)", "--at", "-1e300")
    assert run.exit_code in (0, 1, 3)
    assert "internal error" not in run.stderr


@pytest.mark.parametrize(
    "expression, x, reference",
    [
        # cos(x)/x - sin(x)/x**2: two terms of 1e300 whose difference is -x/3
        ("sin(x)/x", 1e-300, lambda mp, x: mp.diff(lambda t: mp.sin(t) / t, x)),
        ("sin(x)/x", 1e-10, lambda mp, x: mp.diff(lambda t: mp.sin(t) / t, x)),
        ("(exp(x)-1)/x", 1e-200, lambda mp, x: mp.diff(lambda t: mp.expm1(t) / t, x)),
        # SymPy's own evaluation of erfc overflows here; mpmath's does not.
        ("erfc(x)", -1e300, lambda mp, x: mp.diff(mp.erfc, x)),
    ],
)
def test_the_symbolic_reference_survives_cancellation(expression, x, reference):
    import mpmath

    result = differentiate(expression, {"x": x})
    with mpmath.workdps(1300):
        expected = float(reference(mpmath, mpmath.mpf(x)))
    assert result.partials[0].sympy == pytest.approx(expected, rel=1e-13, abs=1e-320)


# Far from 0, float64 cannot take the short steps finite differences need: at
# 1e12 f's values (about 1e12) round by 1e-4 over a step of 0.12, and past
# 1e13 float64 forces steps of thousands (sin(x) at 1e16 is stepped over
# whole periods). The derivative is exact by hand or by mpmath; the finite
# differences must then neither confirm nor refute it: "agree" (SymPy and
# autograd), finite differences not checked, exit 0.
FAR = [
    ("x", "1e12", lambda x: 1),
    ("x", "-1e12", lambda x: 1),
    ("x", "123456789012.5", lambda x: 1),
    ("3*x+1", "1e11", lambda x: 3),
    ("x**2", "1e12", lambda x: 2 * x),
    ("sin(x)", "1e16", mpmath.cos),
    ("sin(x)", "1e22", mpmath.cos),
    ("cos(x)", "1e22", lambda x: -mpmath.sin(x)),
    ("sin(x)", "1e300", mpmath.cos),
]


@pytest.mark.parametrize("expression, at, derivative", FAR)
def test_finite_differences_that_cannot_resolve_far_points_are_not_checked(
    expression, at, derivative, cli
):
    run = cli("diff", expression, "--at", at, "--json")
    assert run.exit_code == 0, run.output
    (d,) = run.json["derivatives"]
    with mpmath.workdps(60):
        exact = float(derivative(mpmath.mpf(float(at))))
    assert d["sympy"] == pytest.approx(exact, rel=1e-15)
    assert d["autograd"] == pytest.approx(exact, rel=1e-12)
    assert run.json["status"] == "agree" and not d["finite_difference_checked"]
    assert "finite differences not checked" in run.json["reason"]


def test_finite_differences_still_confirm_what_they_can_far_away(cli):
    # x at 1e16: float64 forces a step of 2,000, but x's differences are exact.
    run = cli("diff", "x", "--at", "1e16", "--json")
    (d,) = run.json["derivatives"]
    assert (run.exit_code, d["finite_difference"], d["finite_difference_checked"]) == (0, 1, True)
    # and their error estimate stays honest where f cancels: (exp(x) - 1)/x at
    # 1e-7 loses half its digits in float64, so no step resolves the
    # derivative (0.5 + x/6); the estimate says so (it covers the gap), and
    # the finite differences are not checked, never a refutation of SymPy.
    run = cli("diff", "(exp(x)-1)/x", "--at", "1e-7", "--json", "--no-autograd")
    (d,) = run.json["derivatives"]
    assert abs(d["finite_difference"] - d["sympy"]) <= FD_ERROR_SLACK * d["finite_difference_error"]
    assert run.json["status"] == "agree" and run.exit_code == 0
    assert not d["finite_difference_checked"]


# The float next to a pole of tan, sec, cot or csc: the derivative is finite
# there (mpmath, at the float itself), and every finite-difference step crosses
# the pole (tan at pi/2 - 1e-13 too, since the shortest step is 7e-12): not
# checked, never "disagree".
NEAR_POLES = [
    ("tan(x)", math.pi / 2, lambda x: mpmath.sec(x) ** 2),
    ("tan(x)", 1.5707963267948, lambda x: mpmath.sec(x) ** 2),
    ("tan(x)", 3 * math.pi / 2, lambda x: mpmath.sec(x) ** 2),
    ("sec(x)", math.pi / 2, lambda x: mpmath.sec(x) * mpmath.tan(x)),
    ("cot(x)", math.pi, lambda x: -(mpmath.csc(x) ** 2)),
    ("csc(x)", math.pi, lambda x: -mpmath.csc(x) * mpmath.cot(x)),
    ("csc(x)", -2 * math.pi, lambda x: -mpmath.csc(x) * mpmath.cot(x)),
]


@pytest.mark.parametrize("expression, x, derivative", NEAR_POLES)
def test_finite_differences_do_not_step_across_a_trigonometric_pole(expression, x, derivative, cli):
    run = cli("diff", expression, "--at", repr(x), "--json")
    assert run.exit_code == 0, run.output
    (d,) = run.json["derivatives"]
    with mpmath.workdps(60):
        exact = float(derivative(mpmath.mpf(x)))
    assert d["sympy"] == pytest.approx(exact, rel=1e-12)
    assert run.json["status"] == "agree" and not d["finite_difference_checked"]
    # Away from the poles the finite differences still check.
    far = cli("diff", expression, "--at", repr(x + 0.5), "--json")
    assert far.json["derivatives"][0]["finite_difference_checked"] and far.exit_code == 0


@pytest.mark.parametrize("command", ["diff", "graph"])
def test_clamp_past_its_domain_is_undefined_in_every_command(command, cli):
    # lo > hi: SymPy's Max(lo, Min(hi, x)) is lo, torch's clamp hi; the table
    # says clamp is defined for lo <= hi, and every command says so alike.
    run = cli(command, "clamp(x, 1, 0)", "--at", "0.5", "--json")
    assert run.exit_code == 3
    assert run.json["error"]["kind"] == "domain"
    assert cli(command, "clamp(x, 0, 1)", "--at", "0.5", "--json").exit_code == 0


# A kink a little way from a small x: the probes and limits step past it
# (1e-13 from 1e-14 is past 0) unless they shrink with |x|. mpmath decides,
# with steps far shorter than |x| (its default ones would step past 0 too).
NEAR_SMALL = [
    ("sqrt(x^2)", 1e-14, 1),
    ("sqrt(x^2)", -1e-14, 1),
    ("sqrt(x^2)", 1e-17, 1),
    ("x*sqrt(x^2)", 1e-14, 2),
]
AT_SMALL = [  # the kink is at the point: still found
    ("sqrt((x - 2^-40)^2)", 2.0**-40, 1),
    ("abs(x - 2^-46)", 2.0**-46, 1),
    ("sqrt(x^2)", 0.0, 1),
]


@pytest.mark.parametrize("expression, x0, order", NEAR_SMALL)
def test_a_kink_near_a_small_point_is_not_at_it(expression, x0, order):
    with mpmath.workdps(60):
        exact = mpmath.diff(
            lambda t: reference.value(expression, {"x": t}),
            mpmath.mpf(x0),
            order,
            h=abs(mpmath.mpf(x0)) * mpmath.mpf(10) ** -20,
        )
    result = differentiate(expression, {"x": x0}, order=order)
    assert result.status == "agree", result.reason
    assert result.partials[0].sympy == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize("expression, x0, order", AT_SMALL)
def test_a_kink_at_a_small_point_is_still_found(expression, x0, order):
    assert reference.one_variable_verdict(expression, "x", x0, order)[0] == "not_differentiable"
    assert differentiate(expression, {"x": x0}, order=order).status == "not_differentiable"


@pytest.mark.parametrize(
    "expression, at, derivative",
    [
        ("1/x", "1e-160", lambda x: -1 / x**2),
        ("exp(x)/x", "1e-160", lambda x: mpmath.exp(x) * (x - 1) / x**2),
    ],
)
def test_a_derivative_past_float64s_range_is_named_so_not_a_divergence(
    expression, at, derivative, cli
):
    # About -1e320 at 1e-160: finite (mpmath), beyond float64's 1.8e308. The
    # derivative does not diverge there; float64 cannot hold it.
    with mpmath.workdps(40):
        exact = derivative(mpmath.mpf(at))
    assert mpmath.isfinite(exact) and abs(exact) > 1e308
    run = cli("diff", expression, "--at", at, "--json")
    assert run.exit_code == 3 and run.json["status"] == "undefined"
    reason = run.json["reason"]
    assert "beyond float64's range (" in reason and "diverges" not in reason
    shown = mpmath.mpf(reason.split("beyond float64's range (")[1].split(")")[0])
    assert abs(shown - exact) <= 1e-3 * abs(exact)


@pytest.mark.parametrize(
    "expression, at, derivative", [("exp(x)", "100", mpmath.exp), ("x**2", "1e39", lambda x: 2 * x)]
)
def test_float32_overflow_is_named_as_such(expression, at, derivative, cli):
    # The derivative (mpmath) is past float32's largest number: torch's inf
    # there is an overflow, not 0·∞ inside the backward pass.
    with mpmath.workdps(30):
        exact = derivative(mpmath.mpf(at))
    assert abs(exact) > 3.4028234663852886e38
    run = cli("diff", expression, "--at", at, "--dtype", "float32", "--json")
    assert run.exit_code == 1 and run.json["status"] == "disagree"
    assert "beyond float32's range" in run.json["reason"] and "0·∞" not in run.json["reason"]


@pytest.mark.parametrize(
    "expression, at",
    [
        ("sin(x)^2/x^2", "x=1e-200"),
        ("x*y/(x^2 + y^2)", "x=1e-200,y=1e-200"),
        ("log(x*x)", "x=1e-200"),
    ],
)
def test_an_underflow_is_named_not_called_a_domain_error(expression, at, cli):
    # mpmath: the function is finite there; float64 rounds a product to 0.
    point = {k: mpmath.mpf(v) for k, v in (p.split("=") for p in at.split(","))}
    with mpmath.workdps(40):
        assert mpmath.isfinite(reference.value(expression, point))
    run = cli("diff", expression, "--at", at)
    assert run.exit_code == 3
    assert "cannot be evaluated in float64" in run.stderr and "rounds to 0" in run.stderr
    assert "defined for" not in run.stderr and "division by zero" not in run.stderr
    assert "division by zero" in cli("diff", "1/x", "--at", "0").stderr  # a true 0 stays one


@pytest.mark.parametrize(
    "expression", ["exp(abs(x - 2^-20))", "abs(x - 2^-20) + 1", "1 + min(x, 2^-20)"]
)
def test_a_kink_at_a_small_point_is_found_where_f_is_not_small(expression):
    # f near 1 there: probes shorter than |x| drown in rounding and must not drop it.
    assert reference.one_variable_verdict(expression, "x", 2.0**-20)[0] == "not_differentiable"
    assert differentiate(expression, {"x": 2.0**-20}).status == "not_differentiable"


@pytest.mark.parametrize("at", ["x=2,b=0", "x=0.5,b=0", "x=2,b=-1"])
def test_log_to_a_base_outside_its_domain_is_undefined(cli, at):
    """log(x, b) needs b > 0 and b != 1: at b = 0 log(x)/log(0) is a finite 0
    in float64, which is no value of the function (exit 3, not agree)."""
    run = cli("diff", "log(x, b)", "--at", at, "--json")
    assert run.exit_code == 3
    assert run.json["error"]["kind"] == "domain"
    many = cli(
        "diff",
        "log(x, b)",
        "--points",
        "-",
        "--json",
        input=f"x,b\n{at.replace('x=', '').replace('b=', '')}\n",
    )
    assert json.loads(many.stdout.splitlines()[0])["status"] == "undefined"
