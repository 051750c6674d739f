"""diff --direction: D_u f against a hand derivative, normalized or not; the
verdict of the three ways; the tangent plane of plot."""

import math

import mpmath
import pytest
from conftest import validate

mp = mpmath.mp
DIRECTIONAL_RTOL = 1e-12


def test_unit_direction_against_hand_gradient(cli):
    # f = x**2*y + sin(y); grad = (2xy, x**2 + cos y) at (1, 2) = (4, 1 + cos 2).
    run = cli("diff", "x**2*y + sin(y)", "--at", "x=1,y=2", "--direction", "[1,1]", "--json")
    assert run.exit_code == 0
    document = run.json
    validate(document, "diff.schema.json")
    d = document["directional"]
    want = (4 + 1 + math.cos(2)) / math.sqrt(2)
    assert d["unit"] == [1 / math.sqrt(2), 1 / math.sqrt(2)]
    assert d["normalized"] is True
    assert d["sympy"] == pytest.approx(want, rel=DIRECTIONAL_RTOL)
    assert d["autograd"] == pytest.approx(want, rel=DIRECTIONAL_RTOL)
    assert d["finite_difference"] == pytest.approx(want, rel=1e-8)
    assert d["status"] == "agree"


@pytest.mark.parametrize("size", ["1e308", "1e200", "1e-200", "5e-324"])
def test_a_direction_of_any_size_has_the_same_unit(cli, size):
    # f = x*y at (1, 2): grad = (2, 1), so D_u f along [s, s] is 3/sqrt(2) for any s > 0.
    run = cli("diff", "x*y", "--at", "x=1,y=2", "--direction", f"[{size},{size}]", "--json")
    assert run.exit_code == 0
    d = run.json["directional"]
    assert d["unit"] == pytest.approx([1 / math.sqrt(2)] * 2, rel=1e-15)
    assert d["sympy"] == pytest.approx(3 / math.sqrt(2), rel=DIRECTIONAL_RTOL)
    assert d["status"] == "agree"


def test_unnormalized_against_mpmath_along_the_line(cli):
    # D_v f for v = (3, -4), as given: d/dt f(a + t v) at 0, by mpmath.
    run = cli(
        "diff", "exp(x*y)", "--at", "x=0.5,y=1", "--direction", "3,-4", "--unnormalized", "--json"
    )
    d = run.json["directional"]
    with mp.workdps(40):
        want = mp.diff(lambda t: mp.exp((0.5 + 3 * t) * (1 - 4 * t)), 0)
    assert d["unit"] == [3.0, -4.0] and d["normalized"] is False
    assert d["sympy"] == pytest.approx(float(want), rel=DIRECTIONAL_RTOL)


def test_a_kink_along_the_way_is_not_differentiable(cli):
    run = cli("diff", "abs(x) + y", "--at", "x=0,y=1", "--direction", "[1,0]", "--json")
    assert run.exit_code == 1
    assert run.json["directional"]["status"] == "not_differentiable"


@pytest.mark.parametrize(
    ("direction", "words"),
    [("[1,2,3]", "3 components"), ("[0,0]", "zero vector"), ("[a,1]", "list of numbers")],
)
def test_bad_direction_is_exit_2(cli, direction, words):
    run = cli("diff", "x*y", "--at", "x=1,y=2", "--direction", direction, "--json")
    assert run.exit_code == 2
    assert words in run.json["error"]["message"]


def test_unnormalized_alone_is_refused(cli):
    assert cli("diff", "x*y", "--at", "x=1,y=2", "--unnormalized").exit_code == 2


def test_text(cli):
    run = cli("diff", "x*y", "--at", "x=1,y=2", "--direction", "[1,1]")
    assert run.exit_code == 0
    assert "unit direction u = (0.7071067812," in run.stdout
    assert "finite differences along the line: 2.121320344" in run.stdout
