"""diff --certify: the Arb ball holds mpmath's 50-digit value of each
derivative, tightly; which methods fall inside; what Arb cannot evaluate."""

import sys

import mpmath
import pytest
from conftest import validate

mp = mpmath.mp

# A well-conditioned derivative's float ball: at most this wide, relative.
RELATIVE_RADIUS = 1e-15

# (expression, point, the derivative written by hand in mpmath)
CASES = [
    ("sin(x**2)", "3", lambda x: 2 * x * mp.cos(x**2)),
    ("exp(x)*cos(x)", "0.7", lambda x: mp.exp(x) * (mp.cos(x) - mp.sin(x))),
    ("log(1+x**2)", "2", lambda x: 2 * x / (1 + x**2)),
    ("atan(x)", "0.5", lambda x: 1 / (1 + x**2)),
    (
        "sqrt(x)*tanh(x)",
        "1.5",
        lambda x: mp.tanh(x) / (2 * mp.sqrt(x)) + mp.sqrt(x) / mp.cosh(x) ** 2,
    ),
    ("sigmoid(x)", "0.3", lambda x: mp.exp(-x) / (1 + mp.exp(-x)) ** 2),
    ("x**x", "2.5", lambda x: x**x * (mp.log(x) + 1)),
    ("asin(x)", "0.25", lambda x: 1 / mp.sqrt(1 - x**2)),
    ("erf(x)", "1", lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-(x**2))),
    ("cbrt(x)", "-8", lambda x: 1 / (3 * mp.cbrt(x) ** 2) if x > 0 else 1 / (3 * mp.cbrt(-x) ** 2)),
    ("1/(1-x)", "0.9", lambda x: 1 / (1 - x) ** 2),
    ("cosh(x)/x", "pi/4", lambda x: mp.sinh(x) / x - mp.cosh(x) / x**2),
]


@pytest.mark.parametrize(("expression", "at", "hand"), CASES)
def test_ball_holds_mpmath_50_digit_value(cli, expression, at, hand):
    run = cli("diff", expression, "--at", at, "--certify", "--json")
    assert run.exit_code == 0, run.stdout
    document = run.json
    validate(document, "diff.schema.json")
    (certificate,) = document["certificates"]
    ball = certificate["ball"]
    with mp.workdps(50):
        x = mp.mpf(document["point"]["x"])  # the float64 point, exactly
        exact = hand(x)
        assert abs(exact - mp.mpf(ball["midpoint"])) <= mp.mpf(ball["radius"])
    assert ball["radius"] <= RELATIVE_RADIUS * abs(ball["midpoint"])
    assert certificate["sympy_inside"] is True


# Slack on a distance gradcalc computes in float64: a few ulps of the distance.
DISTANCE_ULPS = 4 * 2**-52


def test_inside_flags_and_distances(cli):
    """Each method's distance outside the ball, against mpmath's 50-digit
    d/dx sin(x²) at 3, 6·cos 9 (the ball holds it, so the distance to the
    ball is the distance to it, give or take the ball's width 2r)."""
    document = cli("diff", "sin(x**2)", "--at", "3", "--certify", "--json").json
    (certificate,) = document["certificates"]
    ball = certificate["ball"]
    radius = ball["radius"]
    with mp.workdps(50):
        exact = 6 * mp.cos(9)
        middle, _, width = ball["arb"].strip("[]").partition(" +/- ")
        assert abs(mp.mpf(middle) - exact) <= mp.mpf(width)  # the 128-bit ball, to 30 digits
        assert mp.mpf(width) <= mp.mpf("1e-29")
        for method in ("sympy", "autograd", "finite_difference"):
            value = document["gradient"]["x"][method]
            off = abs(mp.mpf(value) - exact)
            outside = certificate[f"{method}_outside_by"]
            slack = DISTANCE_ULPS * off  # (value and midpoint are close: exact subtraction)
            assert max(0, off - 2 * radius) - slack <= outside <= off + slack, method
            assert certificate[f"{method}_inside"] is (outside == 0.0), method
            if off > 2 * radius + slack:  # past any point of the ball: outside for sure
                assert certificate[f"{method}_inside"] is False, method
    # finite differences are ~1e-12 off: far outside a ball of width ~1e-15.
    fd_off = float(abs(mp.mpf(document["gradient"]["x"]["finite_difference"]) - exact))
    assert fd_off > 100 * radius
    assert certificate["finite_difference_inside"] is False
    assert certificate["sympy_inside"] is True


def test_every_partial_of_a_gradient_and_hessian(cli):
    document = cli("diff", "x*y**2", "--at", "x=1,y=3", "--order", "2", "--certify", "--json").json
    balls = {tuple(c["wrt"]): c["ball"] for c in document["certificates"]}
    assert balls[("x", "x")]["midpoint"] == 0.0 and balls[("x", "x")]["radius"] <= 5e-324
    assert balls[("x", "y")]["midpoint"] == 6.0
    assert balls[("y", "y")]["midpoint"] == 2.0


ONE_SIDED_STEP = mp.mpf("1e-30")  # one-sided difference quotients, at 50 digits


def test_a_function_arb_cannot_evaluate_is_named(cli):
    """relu's derivative is Heaviside(x): at 0 its ball straddles the step,
    and the certificate says so. f = x·relu(x) + x is differentiable at 0
    (x² + x on the right, x on the left: both one-sided derivatives are 1,
    checked here in mpmath), so diff's verdict is agree, exit 0: the
    certificate that could not be made changes nothing."""

    def f(x):
        return x * max(x, 0) + x

    with mp.workdps(50):
        h = ONE_SIDED_STEP
        right, left = (f(h) - f(0)) / h, (f(0) - f(-h)) / h
        assert abs(right - 1) <= 2 * h and left == 1
    run = cli("diff", "x*relu(x) + x", "--at", "0", "--certify", "--json")
    assert run.exit_code == 0
    (certificate,) = run.json["certificates"]
    assert certificate["ball"] is None
    assert certificate["unsupported"] == (
        "Heaviside's ball straddles 0 (the step itself): Arb cannot decide it"
    )
    assert run.json["status"] == "agree" and run.json["differentiable"] is True
    assert (
        run.json["gradient"]["x"]["sympy"] == 1.0 and run.json["gradient"]["x"]["autograd"] == 1.0
    )


def test_text_table(cli):
    run = cli("diff", "exp(x)", "--at", "1", "--certify")
    assert run.exit_code == 0
    assert "Certified by Arb ball arithmetic" in run.stdout
    assert "2.718281828 ±" in run.stdout


def test_without_python_flint_it_is_one_line_naming_the_extra(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "flint", None)  # import flint raises ImportError
    run = cli("diff", "sin(x)", "--at", "1", "--certify")
    assert run.exit_code == 2
    assert "pip install 'gradcalc[certify]'" in run.stderr
    assert len(run.stderr.strip().splitlines()) <= 2
    run = cli("diff", "sin(x)", "--at", "1", "--certify", "--json")
    assert run.exit_code == 2 and "gradcalc[certify]" in run.json["error"]["message"]


@pytest.mark.parametrize("extra", [("--points", "-"), ("--explain",), ("--steps",)])
def test_refused_combinations(cli, extra):
    run = cli("diff", "x**2", "--certify", *extra, input='{"x": 1}\n')
    assert run.exit_code == 2


@pytest.mark.parametrize(
    ("expression", "at", "exact_point", "hand"),
    [
        (
            "exp(x)*cos(x)",
            "0.7",
            lambda: mp.mpf("0.7"),
            lambda x: mp.exp(x) * (mp.cos(x) - mp.sin(x)),
        ),
        ("1/(1-x)", "0.9", lambda: mp.mpf(9) / 10, lambda x: 1 / (1 - x) ** 2),
        ("sin(x**2)", "pi/4", lambda: mp.pi / 4, lambda x: 2 * x * mp.cos(x**2)),
        ("atan(x)", "0.1", lambda: mp.mpf(1) / 10, lambda x: 1 / (1 + x**2)),
    ],
)
def test_ball_holds_the_value_at_what_was_typed_too(cli, expression, at, exact_point, hand):
    """0.7 typed is 7/10, not its float64 neighbour: the ball holds the
    derivative at both, and stays tight."""
    (certificate,) = cli("diff", expression, "--at", at, "--certify", "--json").json["certificates"]
    ball = certificate["ball"]
    with mp.workdps(50):
        for x in (exact_point(), mp.mpf(float(exact_point()))):
            assert abs(hand(x) - mp.mpf(ball["midpoint"])) <= mp.mpf(ball["radius"])
    assert ball["radius"] <= RELATIVE_RADIUS * abs(ball["midpoint"])
