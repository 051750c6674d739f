"""A part of f on a flat piece near the point, held at its value: SymPy's
formula for sqrt(relu(x)) + abs(x) is Heaviside(x)/(2*sqrt(Max(0, x))) +
sign(x), 0·∞ at -1 and at every x < 0, though f is 1 - x there. It was
"undefined"; the reference is now the derivative with relu(x) held at 0,
checked here against the hand derivative of f's piece near the point."""

import math

import pytest

SLOPE_TOLERANCE = 1e-12  # the hand derivative against SymPy's 30 digits, as float64

CASES = [
    # (expression, point, {variable: hand derivative on the point's piece}, held part)
    ("sqrt(relu(x))+abs(x)", "-1", {"x": -1.0}, "relu(x)"),  # 1 - x near -1
    ("sqrt(relu(x))*x**2+sin(x)", "-2", {"x": math.cos(-2.0)}, "relu(x)"),  # sin(x) near -2
    ("sqrt(clamp(x,0,1))+x", "-0.5", {"x": 1.0}, "clamp(x,0,1)"),
    ("x*sqrt(max(x,0))+abs(x)", "-3", {"x": -1.0}, "max(x,0)"),
    ("sqrt(relu(x))*y+abs(x*y)", "x=-1,y=2", {"x": -2.0, "y": 1.0}, "relu(x)"),  # -x*y
    ("sqrt(relu(-x))+x**3", "2", {"x": 12.0}, "relu(-x)"),
]


@pytest.mark.parametrize(("expression", "at", "slopes", "part"), CASES)
def test_a_part_constant_near_the_point_is_held(cli, expression, at, slopes, part):
    run = cli("diff", expression, "--at", at, "--json")
    assert (run.exit_code, run.json["status"]) == (0, "agree")
    for name, slope in slopes.items():
        assert abs(run.json["gradient"][name]["sympy"] - slope) <= SLOPE_TOLERANCE * max(
            1, abs(slope)
        )
    assert any(f"but {part} is constant near it (on a flat piece)" in n for n in run.json["notes"])


@pytest.mark.parametrize(
    ("expression", "at"),
    [
        # Held, relu(x) leaves 1/(2*sqrt(x+1)): infinite at -1, truly.
        ("sqrt(relu(x))+sqrt(x+1)", "-1"),
        # On its kink, relu(x) is not flat around 0: nothing is held.
        ("sqrt(relu(x))+abs(x)", "0"),
    ],
)
def test_nothing_held_makes_an_infinite_derivative_finite(cli, expression, at):
    run = cli("diff", expression, "--at", at, "--json")
    assert run.exit_code == 3 and run.json["status"] == "undefined"
