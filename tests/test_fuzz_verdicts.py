"""Wrong verdicts a random fuzz against 50-digit mpmath found, by class; each
decided by mpmath (tests/reference.py), never by gradcalc's own engines:

- finite differences whose error estimate is not honest (the function turns
  over faster than the step resolves, f's values round flat at short steps,
  f's terms round by far more than f itself) never refute a right derivative;
- the float64 forms of sigmoid, silu, gelu and gelu_tanh keep their tails,
  so f is finite where it truly is; where float64 cannot hold an intermediate,
  the error says it is float64's range;
- a --points row where f has a pole gets its own row, the one-point verdict;
- SymEngine's value of erf of a composite argument (--no-autograd).
"""

from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest
import reference

from gradcalc.errors import DomainError
from gradcalc.functions import TABLE
from gradcalc.pointcheck import differentiate

SYMPY_AGREES = 1e-9  # relative: SymPy's 30-digit value against mpmath's 50
FD_AGREES = 1e-5  # relative: a finite difference that is counted, against mpmath
TAIL_FORM = 1e-10  # relative: a float64 form of the table against mpmath in its tails


def _close(value, exact, rel):
    return abs(value - exact) <= rel * abs(exact)


# (expression, --at text, point, wrt, order): SymPy and autograd are right
# (mpmath), finite differences cannot resolve the derivative.
UNRESOLVED = [
    ("sigmoid(x)", "-20", {"x": -20.0}, ("x",), 1),
    ("sigmoid(x)", "-40", {"x": -40.0}, ("x",), 1),
    ("sigmoid(x)", "-100", {"x": -100.0}, ("x",), 1),
    ("silu(x)", "-30", {"x": -30.0}, ("x",), 1),
    ("log(sigmoid(x))", "-36", {"x": -36.0}, ("x",), 1),
    ("gelu_tanh(x)", "-10", {"x": -10.0}, ("x",), 1),
    ("sin(1/x)", "1e-6", {"x": 1e-6}, ("x",), 1),
    ("x**2*sin(1/x)", "1e-6", {"x": 1e-6}, ("x",), 1),
    ("cos(1/x)*x", "-1e-6", {"x": -1e-6}, ("x",), 1),
    ("cos(1/x)*x", "1e-6", {"x": 1e-6}, ("x",), 1),
    ("sin(1/x)", "1e-6", {"x": 1e-6}, ("x", "x"), 2),
    ("sin(x*y)", "x=1e8,y=2", {"x": 1e8, "y": 2.0}, ("y",), 1),
]


@pytest.mark.parametrize(("expression", "at", "point", "wrt", "order"), UNRESOLVED)
def test_finite_differences_that_cannot_decide_do_not_refute(
    cli, expression, at, point, wrt, order
):
    exact = reference.derivative(expression, point, wrt)
    run = cli("diff", expression, "--at", at, "--wrt", wrt[0], "--order", str(order), "--json")
    assert run.exit_code == 0, run.stdout
    assert run.json["status"] == "agree"
    (derivative,) = [d for d in run.json["derivatives"] if tuple(d["wrt"]) == wrt]
    assert _close(derivative["sympy"], exact, SYMPY_AGREES)
    if derivative["finite_difference_checked"]:
        assert _close(derivative["finite_difference"], exact, FD_AGREES)


def _softmax(xs):
    with mpmath.workdps(reference.DIGITS):
        top = max(mpmath.mpf(x) for x in xs)
        exps = [mpmath.exp(mpmath.mpf(x) - top) for x in xs]
        return [e / mpmath.fsum(exps) for e in exps]


# (expression, x, k): d/dx of log softmax(x)[k] (or -log softmax(x)[k]) is
# ±(e_k - softmax(x)), by hand; the value is ~1e-22, left from terms ~800.
CANCELLING = [
    ("log_softmax(x)[1]", [-750.0, -700.0], 1, 1),
    ("cross_entropy(x,2)", [-700.0, 750.0, 800.5], 2, -1),
]


@pytest.mark.parametrize(("expression", "xs", "k", "sign"), CANCELLING)
def test_a_value_left_from_cancelling_terms_is_not_refuted_by_its_rounding(
    cli, expression, xs, k, sign
):
    soft = _softmax(xs)
    exact = [float(sign * ((i == k) - s)) for i, s in enumerate(soft)]
    run = cli("diff", expression, "--at", f"x={xs}".replace(" ", ""), "--json")
    assert run.exit_code == 0, run.stdout
    (derivative,) = run.json["derivatives"]
    for value, want in zip(derivative["sympy"], exact):
        assert _close(value, want, SYMPY_AGREES)
    if derivative["finite_difference_checked"]:
        for value, want, error in zip(
            derivative["finite_difference"], exact, derivative["finite_difference_error"]
        ):
            assert abs(value - want) <= 4 * error  # within its own (honest) estimate


@pytest.mark.parametrize("name", ["sigmoid", "silu", "gelu", "gelu_tanh"])
@pytest.mark.parametrize("x", [-708.0, -700.0, -100.0, -40.0, -10.0, -1.5, 0.5, 30.0])
def test_float64_forms_keep_the_tails(name, x):
    with mpmath.workdps(reference.DIGITS):
        exact = float(TABLE[name].mpmath(mpmath, mpmath.mpf(x)))
    if abs(exact) < np.finfo(np.float64).tiny:  # subnormal or 0: no relative digits
        pytest.skip("below float64's normal numbers")
    import torch

    numpy_value = float(TABLE[name].numpy(np, np.array([x]))[0])
    torch_value = float(TABLE[name].torch(torch, torch.tensor([x], dtype=torch.float64))[0])
    assert _close(numpy_value, exact, TAIL_FORM), numpy_value
    assert _close(torch_value, exact, TAIL_FORM), torch_value


# f and f' are finite (mpmath); float64's old forms rounded a tail to 0.
FINITE_TAILS = [
    ("log(sigmoid(x))", -38.0),
    ("log(sigmoid(x))", -40.0),
    ("log(sigmoid(x))", -50.0),
    ("1/sigmoid(x)", -700.0),
    ("sigmoid(x)/sigmoid(x)", -40.0),
    ("log(-gelu(x))", -10.0),
    ("log(-gelu_tanh(x))", -10.0),
    ("log(-silu(x))", -40.0),
]


@pytest.mark.parametrize(("expression", "x"), FINITE_TAILS)
def test_f_is_finite_where_it_truly_is(cli, expression, x):
    value = reference.value(expression, {"x": x})
    exact = reference.derivative(expression, {"x": x}, ("x",))
    assert value is not None and exact is not None
    run = cli("diff", expression, "--at", repr(x), "--json")
    assert run.exit_code != 3, run.stdout
    assert _close(run.json["value"], float(value), SYMPY_AGREES)
    (derivative,) = run.json["derivatives"]
    assert _close(derivative["sympy"], exact, SYMPY_AGREES)


@pytest.mark.parametrize(
    ("expression", "x", "part"),
    [("log(sigmoid(x))", -1e20, "sigmoid(x)"), ("log(-silu(x))", -1e20, "-silu(x)")],
)
def test_an_underflow_is_named_as_float64s_range(cli, expression, x, part):
    assert reference.value(expression, {"x": x}) is not None  # finite in mpmath
    run = cli("diff", expression, "--at", repr(x), "--json")
    assert run.exit_code == 3
    message = run.json["error"]["message"]
    assert f"{part} is not 0 there, but below float64's smallest number" in message


POLE_ROWS = [
    ("cot(pi*x)", [0.5, 1.0]),
    ("tan(x-pi/2)", [0.0, 1.0]),
    ("cot(x-pi)", [0.0, 2.0]),
    ("sqrt(x-pi)", [math.pi, 4.0]),
    ("cot(x)", [0.0, 1.0]),
    ("1/x", [0.0, 1.0]),
]


@pytest.mark.parametrize(("expression", "xs"), POLE_ROWS)
def test_a_pole_row_gets_its_own_verdict(cli, tmp_path, expression, xs):
    path = tmp_path / "points.csv"
    path.write_text("x\n" + "\n".join(repr(x) for x in xs) + "\n")
    run = cli("diff", expression, "--points", str(path), "--json")
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(rows) == len(xs)
    for x, row in zip(xs, rows):
        try:
            single = differentiate(expression, {"x": x})
            status, why = single.status, single.reason
        except DomainError as error:
            status, why = "undefined", str(error)
        assert row["status"] == status, x
        if status == "agree":
            assert row["reason"] == why
        if expression not in ("cot(x)", "1/x"):  # poles float64 itself meets: its own words
            assert row["reason"] == why
        if reference.value(expression, {"x": x}) is None:  # a pole by mpmath
            assert status == "undefined"


@pytest.mark.parametrize(
    ("expression", "x"),
    [
        ("erf(gelu_tanh(x))", 0.5),
        ("erfc(gelu_tanh(x))", -0.64),
        ("erf(silu(gelu_tanh(x)))", -2.0),
        ("erf(silu(gelu_tanh(x)))", 0.5),
    ],
)
def test_no_autograd_evaluates_erf_of_a_composite(cli, expression, x):
    exact = reference.derivative(expression, {"x": x}, ("x",))
    run = cli("diff", expression, "--at", repr(x), "--no-autograd", "--json")
    assert run.exit_code == 0, run.stdout
    assert _close(run.json["value"], float(reference.value(expression, {"x": x})), SYMPY_AGREES)
    (derivative,) = run.json["derivatives"]
    assert _close(derivative["sympy"], exact, SYMPY_AGREES)
