"""diff --implicit: dy/dx (and d²y/dx²) of curves at points on them, against
the derivative worked out by hand and the numeric cross-check; a point off
the curve refused with exit 2; --explain's steps each checked."""

import json
import math

import mpmath
import pytest
from conftest import run_subprocess, validate

CROSS_CHECK = 1e-10  # |SymPy - numeric|, relative to max(1, |SymPy|): the bound
BY_HAND = 1e-12  # SymPy's value against the closed form worked out by hand

S = math.asin(0.5) - 0.5  # sin(x + y) = y at y = 1/2: x + y = pi/6
R3 = math.sqrt(3) / 2  # cos(pi/6)

# (equation, point, order, the derivative by hand at the point).
CURVES = [
    ("x^2 + y^2 = 25", "x=3,y=4", 1, -3 / 4),  # -x/y
    ("x^2 + y^2 = 25", "x=3,y=4", 2, -25 / 4**3),  # -25/y^3
    ("x^2 + y^2 = 25", "x=-4,y=-3", 1, -4 / 3),
    ("x^3 + y^3 = 6xy", "x=3,y=3", 1, -1.0),  # (2y - x^2)/(y^2 - 2x)
    ("x^3 + y^3 = 6*x*y", "x=3,y=3", 2, -16 / 3),
    ("x^2/4 + y^2/9 = 1", f"x=1,y={1.5 * math.sqrt(3)!r}", 1, -9 / (4 * 1.5 * math.sqrt(3))),
    # y'' = -(36 y^2 + 81 x^2)/(16 y^3) = -81/(4 y^3) on the ellipse
    (
        "x^2/4 + y^2/9 = 1",
        f"x=1,y={1.5 * math.sqrt(3)!r}",
        2,
        -81 / (4 * (1.5 * math.sqrt(3)) ** 3),
    ),
    ("exp(y) + x*y = e", "x=0,y=1", 1, -1 / math.e),  # -y/(x + e^y)
    (
        r"e^{y} + xy = e",
        "x=0,y=1",
        2,
        2 / math.e**2 - 1 / math.e**2,
    ),  # y(2x - y e^y + 2e^y)/(x+e^y)^3
    ("sin(x + y) = y", f"x={S!r},y=0.5", 1, R3 / (1 - R3)),  # cos(x+y)/(1 - cos(x+y))
    ("sin(x + y) = y", f"x={S!r},y=0.5", 2, 0.5 / (R3 - 1) ** 3),  # sin(x+y)/(cos(x+y) - 1)^3
    (
        r"\frac{x^2}{4} + \frac{y^2}{9} = 1",
        "x=1,y=-2.598076211353316",
        1,
        9 / (4 * 2.598076211353316),
    ),
]


@pytest.mark.parametrize(("equation", "at", "order", "by_hand"), CURVES)
def test_a_curve_at_a_point_on_it(cli, equation, at, order, by_hand):
    run = cli("diff", equation, "--implicit", "y", "--at", at, "--order", str(order), "--json")
    assert run.exit_code == 0, run.stdout + run.stderr
    document = run.json
    validate(document, "implicit.schema.json")
    derivative = document["derivative"]
    assert document["status"] == "agree" and document["agree"] is True
    assert abs(derivative["sympy"] - by_hand) <= BY_HAND * max(1.0, abs(by_hand))
    gap = abs(derivative["numeric"] - derivative["sympy"])
    assert gap <= CROSS_CHECK * max(1.0, abs(derivative["sympy"]))
    assert document["order"] == order and document["function"] == "y"
    assert document["variable"] == "x"


def test_the_cross_check_is_independent_of_the_formula():
    """The library's numeric derivative against one made here: y solved by
    mpmath's bisection-safe solver anew, differentiated by a 5-point stencil."""
    from gradcalc import implicit

    result = implicit.differentiate("x^3 + y^3 = 6xy", "y", "x=3,y=3", order=1)
    mpmath.mp.dps = 40

    def y_of(xv):
        return mpmath.findroot(
            lambda yv: xv**3 + yv**3 - 6 * xv * yv, (2.9, 3.1), solver="anderson"
        )

    h = mpmath.mpf("1e-8")
    stencil = (-y_of(3 + 2 * h) + 8 * y_of(3 + h) - 8 * y_of(3 - h) + y_of(3 - 2 * h)) / (12 * h)
    mpmath.mp.dps = 15
    assert abs(result.numeric - float(stencil)) < 1e-12
    assert abs(result.symbolic - float(stencil)) < 1e-12


def test_a_point_off_the_curve_is_refused(cli):
    run = cli("diff", "x^2 + y^2 = 25", "--implicit", "y", "--at", "x=3,y=5")
    assert run.exit_code == 2
    (line,) = run.stderr.splitlines()
    assert "not on the curve" in line and "lhs - rhs = 9 " in line
    assert "tolerance 3.5e-08" in line  # 1e-9 × (1 + 34)
    document = cli("diff", "x^2 + y^2 = 25", "--implicit", "y", "--at", "x=3,y=5", "--json").json
    validate(document, "error.schema.json")
    assert document["error"]["kind"] == "point"


def test_a_point_a_rounding_away_from_the_curve_is_on_it(cli):
    y = math.sqrt(24)  # x = 1 on the circle, y rounded to float64
    run = cli("diff", "x^2 + y^2 = 25", "--implicit", "y", "--at", f"x=1,y={y!r}", "--json")
    assert run.exit_code == 0
    assert abs(run.json["derivative"]["sympy"] - -1 / y) < 1e-15
    assert abs(run.json["on_curve"]["residual"]) < 1e-14


def test_where_y_is_no_function_of_x_it_says_so(cli):
    run = cli("diff", "x^2 + y^2 = 25", "--implicit", "y", "--at", "x=5,y=0")
    assert run.exit_code == 3
    assert "∂F/∂y = 0" in run.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["x^2 + y^2", "--implicit", "y", "--at", "x=3,y=4"], "needs an equation lhs = rhs"),
        (["x^2 + y^2 = 25", "--implicit", "z", "--at", "x=3,y=4"], "'z' is not a variable"),
        (["x^2 + y^2 = 25", "--implicit", "y"], "needs the point on the curve"),
        (["x^2 + y^2 = 25", "--implicit", "y", "--at", "x=3"], "no value for y"),
        (["x + y + z = 1", "--implicit", "y", "--at", "x=0,y=0,z=1"], "name x with --wrt"),
        (["x^2 + y^2 = 25", "--implicit", "y", "--at", "x=3,y=4", "--steps"], "--implicit"),
        (["x^2 + y^2 = 25 = 5", "--implicit", "y", "--at", "x=3,y=4"], "one '='"),
        (["x^2 + y^2 = 25", "--implicit", "y", "--at", "x=3,y=4", "--certify"], "--certify"),
        (["x^2+y^2=25", "--implicit", "y", "--at", "x=3,y=4", "--direction", "[1]"], "--direction"),
        (["x^2+y^2=25", "--implicit", "y", "--at", "x=3,y=4", "--unnormalized"], "--unnormalized"),
    ],
)
def test_what_implicit_refuses(cli, args, words):
    run = cli("diff", *args)
    assert run.exit_code == 2
    assert words in run.stderr.splitlines()[0]


def test_other_variables_are_parameters_and_wrt_names_x(cli):
    # x^2 + y^2 = r^2: dy/dx = -x/y whatever r is; by --wrt r, dy/dr = r/y.
    at = ["--at", "x=3,y=4,r=5"]
    by_x = cli("diff", "x^2 + y^2 = r^2", "--implicit", "y", "--wrt", "x", *at, "--json")
    assert abs(by_x.json["derivative"]["sympy"] - -0.75) < 1e-15
    by_r = cli("diff", "x^2 + y^2 = r^2", "--implicit", "y", "--wrt", "r", *at, "--json")
    assert abs(by_r.json["derivative"]["sympy"] - 1.25) < 1e-15
    assert by_r.json["status"] == "agree"


def test_explain_names_each_rule_and_checks_each_step(cli):
    run = cli("diff", "x^2 + y^2 = 25", "--implicit", "y", "--explain", "--order", "2", "--json")
    assert run.exit_code == 0
    document = run.json
    validate(document, "implicit.schema.json")
    steps = document["explanation"]["steps"]
    assert [s["rule"] for s in steps] == [
        "chain rule on y",
        "chain rule on y",
        "differentiate both sides",
        "solve for y′",
        "chain rule on y",
        "put y′ in",
    ]
    assert all(s["checked"] and s["check"] in ("symbolic", "numeric") for s in steps)
    assert steps[0]["after"] == "2*x + 2*y*y′"
    assert document["explanation"]["results"] == ["-x/y", "-(x**2 + y**2)/y**3"]
    text = cli("diff", "x^3 + y^3 = 6xy", "--implicit", "y", "--at", "x=3,y=3", "--explain")
    assert text.exit_code == 0
    assert "solve for y′" in text.stdout and "6 of 6" not in text.stdout
    assert "4 of 4 steps checked" in text.stdout


def test_letters_side_by_side_read_as_a_product_and_said(cli):
    run = cli("diff", "x^3 + y^3 = 6xy", "--implicit", "y", "--at", "x=3,y=3", "--json")
    assert run.json["rhs"] == "6*x*y"
    assert run.json["read_as"] == {"latex": "x^3 + y^3 = 6xy", "text": "x**3 + y**3 = 6*x*y"}
    text = cli("diff", "x^3 + y^3 = 6xy", "--implicit", "y", "--at", "x=3,y=3")
    assert text.stdout.startswith("read as: x**3 + y**3 = 6*x*y\n")
    spaced = cli("diff", "log(x y) = x - y", "--implicit", "y", "--at", "x=1,y=1", "--json")
    assert spaced.json["lhs"] == "log(x*y)"
    # y' = y(x - 1)/(x(y + 1)) ... at (1, 1): (1 - 1/x)/(1 + 1/y) = 0
    assert abs(spaced.json["derivative"]["sympy"]) < 1e-15


def test_a_latex_error_on_the_right_side_has_its_caret_there(cli):
    run = cli("diff", r"x^2 = \frac{1}{y", "--implicit", "y", "--at", "x=1,y=1")
    assert run.exit_code == 2
    lines = run.stderr.splitlines()
    assert lines[1] == r"  x^2 = \frac{1}{y"
    assert lines[2] == "  " + " " * 16 + "^"


@pytest.mark.slow
def test_a_real_process():
    run = run_subprocess("diff", "x^2 + y^2 = 25", "--implicit", "y", "--at", "x=3,y=4", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["derivative"]["sympy"] == -0.75
    off = run_subprocess("diff", "x^2 + y^2 = 25", "--implicit", "y", "--at", "x=3,y=4.1")
    assert off.returncode == 2 and "not on the curve" in off.stderr


def test_a_step_that_fails_its_check_exits_70(cli, monkeypatch):
    from gradcalc import implicit_explain

    real = implicit_explain._with_function

    def wrong(side, x, y, prime):
        return real(side, x, y, prime) + 1  # a broken reference: every chain step fails

    monkeypatch.setattr(implicit_explain, "_with_function", wrong)
    run = cli("diff", "x^2 + y^2 = 25", "--implicit", "y", "--explain")
    assert run.exit_code == 70
    assert "step 1 (chain rule on y) failed its check" in run.stderr
