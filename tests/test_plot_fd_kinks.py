"""plot --fd-error where f has no derivative says what diff says there (not
differentiable, exit 1, one line), where diff's answer is undefined it stays
exit 3; and a curve along one of several variables is drawn (it was exit 70)."""

import math

import numpy as np
import pytest
from conftest import validate

NO_COLOR = {"NO_COLOR": "1", "COLUMNS": "80"}
ROUNDING_RTOL = 1e-6  # the curve's errors against the stencil computed here in numpy


@pytest.mark.parametrize(
    ("expression", "at", "words"),
    [
        (
            "abs(x)",
            "0",
            "not differentiable here (at abs(x)): along x the left derivative is -1 "
            "and the right 1",
        ),
        ("sign(x)", "0", "the value jumps here along x (at sign(x): from -1 to 1)"),
        (
            "abs(x-1)+y",
            "x=1,y=2",
            "not differentiable here (at abs(x-1)): along x the left derivative is -1 "
            "and the right 1",
        ),
    ],
)
def test_fd_error_at_a_kink_says_what_diff_says(cli, expression, at, words):
    """It was exit 3, "the derivative there is not one finite number", where
    diff says not_differentiable and exits 1."""
    said = cli("diff", expression, "--at", at, "--json", env=NO_COLOR)
    assert said.exit_code == 1 and said.json["status"] == "not_differentiable"
    assert said.json["reason"].startswith(words)
    where = "x=1" if "=" in at else "x=0"
    message = (
        f"no error curve at {where}: {words}, so there is no derivative for finite "
        "differences to approach"
    )
    wrt = ["--wrt", "x"] if "y" in expression else []
    run = cli("plot", expression, "--at", at, *wrt, "--fd-error", env=NO_COLOR)
    assert run.exit_code == 1
    assert run.stdout == "" and run.stderr == f"gradcalc: error: {message}\n"
    run = cli("plot", expression, "--at", at, *wrt, "--fd-error", "--json", env=NO_COLOR)
    assert run.exit_code == 1
    assert run.json["error"] == {"kind": "not_differentiable", "message": message}
    validate(run.json, "error.schema.json")


def test_an_infinite_derivative_stays_undefined(cli):
    """sqrt at 0: diff says undefined (exit 3), and so does the curve."""
    assert cli("diff", "sqrt(x)", "--at", "0", env=NO_COLOR).exit_code == 3
    run = cli("plot", "sqrt(x)", "--at", "0", "--fd-error", "--json", env=NO_COLOR)
    assert run.exit_code == 3 and run.json["error"]["kind"] == "domain"


@pytest.mark.parametrize("along", ["x", "y"])
def test_fd_error_along_one_of_two_variables(cli, along):
    """sin(x)*y at (1, 2) along x (f' = 2 cos 1) or y (f' = sin 1): every
    multi-variable curve was an internal error (exit 70), f evaluated with
    the shape of the first variable's scalar, not the steps'."""
    run = cli(
        "plot",
        "sin(x)*y",
        "--at",
        "x=1,y=2",
        "--wrt",
        along,
        "--fd-error",
        "--json",
        env=NO_COLOR,
    )
    assert run.exit_code == 0, run.stderr
    validate(run.json, "fd_error.schema.json")
    h = np.array(run.json["steps"])
    if along == "x":
        exact = 2 * math.cos(1)
        central = (2 * np.sin(1 + h) - 2 * np.sin(1 - h)) / (2 * h)
    else:
        exact = math.sin(1)
        central = (math.sin(1) * (2 + h) - math.sin(1) * (2 - h)) / (2 * h)
    assert run.json["derivative"] == pytest.approx(exact, rel=1e-15)
    (series,) = [
        s for s in run.json["series"] if (s["dtype"], s["stencil"]) == ("float64", "central")
    ]
    np.testing.assert_allclose(
        series["error"], np.abs(central - exact), rtol=ROUNDING_RTOL, atol=1e-17
    )
