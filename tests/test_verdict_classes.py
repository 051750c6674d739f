"""Field reports' verdict classes, each decided by mpmath alone (tests/reference.py):

- a tie whose two sides are the same function near the point (min(x, x),
  abs(x - x), min(relu(x), x) at 1) is no kink: the derivative is mpmath's;
- finite differences whose stencil reaches toward a pole, or whose steps
  float64's rounding of f's terms swamps, never refute a right derivative:
  the verdict is agree, and wherever they are counted they are right;
- a tiny derivative's finite difference is judged against its own scale;
- --points, accumulate and --no-autograd say what the one-point diff says.
"""

from __future__ import annotations

import math
import sys

import mpmath
import numpy as np
import pytest
import reference

from gradcalc import verdict
from gradcalc.pointcheck import differentiate

SYMPY_AGREES = 1e-9  # relative: SymPy's 30-digit value against mpmath's 50


def _close(value, exact, rel):
    return abs(value - exact) <= rel * abs(exact)


# (expression, x): the tie holds all around the point, so f is smooth there.
SAME_SIDES = [
    ("sin(min(x, x)**(-2)) * (exp(3)**-1.5 * 1)", 0.052734375),
    ("abs(x - x) + sin(x)", 0.7),
    ("max(x, x)**3", -1.25),
    ("min(relu(x), x) * x", 1.0),
    ("exp(min(x, x)) * max(x*x, x**2)", 0.3),
]


@pytest.mark.parametrize(("expression", "x"), SAME_SIDES)
def test_a_tie_of_a_function_with_itself_is_no_kink(expression, x):
    kind, exact = reference.one_variable_verdict(expression, "x", x)
    assert kind == "differentiable"
    result = differentiate(expression, {"x": x})
    (partial,) = result.partials
    assert result.status == "agree", result.reason
    assert _close(partial.sympy, exact, SYMPY_AGREES)
    assert _close(partial.autograd, exact, SYMPY_AGREES)


# A real tie (abs and max at their corners, f smooth) where the derivative
# oscillates faster than the first limit probe's distance: no limit is read
# from probes longer than the formula's own scale.
OSCILLATING = [
    "sin(x**(-2)) + abs(x - 0.052734375)**2",
    "sin(x**(-2)) + max(x, 0.052734375)**2 - max(x, 0.052734375)**2",
    "cos(3/x**2) * exp(-1) + relu(x - 0.052734375)**2",
]


@pytest.mark.parametrize("expression", OSCILLATING)
def test_no_limit_is_taken_from_probes_past_the_formulas_scale(expression):
    x = 0.052734375
    kind, exact = reference.one_variable_verdict(expression, "x", x)
    assert kind == "differentiable"
    result = differentiate(expression, {"x": x})
    (partial,) = result.partials
    assert _close(partial.sympy, exact, SYMPY_AGREES), result.notes
    assert result.status == "agree", result.reason


def test_a_real_tie_is_still_a_kink():
    # min(x, 2x - 1) at 1: two different functions meet; mpmath's one-sided
    # derivatives are 2 and 1.
    assert reference.one_variable_verdict("min(x, 2*x - 1)", "x", 1.0)[0] == "not_differentiable"
    assert differentiate("min(x, 2*x - 1)", {"x": 1.0}).status == "not_differentiable"


# Points 1e-7 (or less) from a pole of f or of its derivative, and differences
# of two large terms: the derivative is finite and SymPy and autograd are right.
HARD_FOR_STENCILS = [
    ("1/x**2", 1e-7),
    ("x**-2", 1e-7),
    ("log(x**2)", 1e-7),
    ("1/cos(x)**2", math.pi / 2 - 1e-7),
    ("tan(x)**2", math.pi / 2 + 1e-7),
    ("1/x**2", 1e-14),
    ("sqrt(x)", 1e-12),
    ("(x+1)**2 - x**2", 1e11),
    ("(x+0.1)**3 - x**3", 1e7),
    ("exp(x) - exp(x - 1e-10)", 1.0),
    ("(exp(x)-1)/x", 1e-7),
]


@pytest.mark.parametrize(("expression", "x"), HARD_FOR_STENCILS)
@pytest.mark.parametrize("order", [1, 2])
def test_finite_differences_that_cannot_decide_do_not_refute(expression, x, order):
    result = differentiate(expression, {"x": x}, order=order)
    exact = reference.derivative(expression, {"x": x}, ("x",) * order)
    (partial,) = [p for p in result.partials if len(p.wrt) == order]
    assert _close(partial.sympy, exact, SYMPY_AGREES)
    # Autograd computes in float64 and may itself be off where f cancels
    # ((x+0.1)**3 - x**3 at 1e7: 6000000 for 6000000.03): that is its
    # disagreement to report; finite differences never refute SymPy here.
    assert not [words for p in result.partials for words in p.problems if "finite diff" in words]
    if _close(partial.autograd, exact, verdict.AUTOGRAD_TOLERANCE["float64"].rtol):
        assert result.status == "agree", result.reason
    if partial.finite_difference_checked:
        # Counted, so right: within its tolerance of the true value.
        tolerance = verdict.finite_difference_tolerance(order)
        slack = verdict.fd_slack(partial.finite_difference_error, exact)
        assert tolerance.allows(partial.finite_difference, exact, slack)
    else:  # not counted: its own error estimate admits the gap
        gap = abs(partial.finite_difference - exact)
        error = partial.finite_difference_error
        assert error is None or not math.isfinite(error) or gap <= verdict.FD_ERROR_SLACK * error


def test_the_jacobian_path_near_poles(cli):
    run = cli("diff", "[1/x**2, log(x**2), 1/cos(y)**2]", "--at", f"x=1e-7,y={math.pi / 2 - 1e-7}")
    assert run.exit_code == 0, run.stdout


def test_a_tiny_derivative_is_judged_on_its_own_scale():
    # d/dx (exp(x) - exp(x - 1e-10)) at 1 is 2.718e-10 (mpmath); a finite
    # difference of 0 with a small error estimate is 100% wrong: never close.
    exact = reference.derivative("exp(x) - exp(x - 1e-10)", {"x": 1.0}, ("x",))
    assert _close(exact, 2.718281828323131e-10, 1e-9)
    methods = verdict.Methods(
        labels=["d/dx"],
        sympy=np.array([[exact]]),
        autograd=np.array([[exact]]),
        finite_difference=np.array([[0.0]]),
        finite_difference_error=np.array([[2.4e-17]]),
    )
    checks = verdict.weigh(methods, "float64", 1)
    assert not checks.fd_close[0, 0] and checks.fd_counted[0, 0]
    # while a derivative of exactly 0 keeps the absolute tolerance
    zero = verdict.Methods(
        labels=["d/dx"],
        sympy=np.array([[0.0]]),
        autograd=np.array([[0.0]]),
        finite_difference=np.array([[3e-11]]),
        finite_difference_error=np.array([[1e-11]]),
    )
    assert verdict.weigh(zero, "float64", 1).fd_close[0, 0]
    # and the real run finds 2.718e-10, checked
    (partial,) = differentiate("exp(x) - exp(x - 1e-10)", {"x": 1.0}).partials
    assert partial.finite_difference_checked
    assert _close(partial.finite_difference, exact, 0.05)


POINTS_CASES = [
    ("1/x**2", [1e-14, 1e-7, 2.0]),
    ("(x+0.1)**3 - x**3", [1e10, 3.0]),
    ("sin(min(x, x)**(-2))", [0.052734375, 0.5]),
    ("log(x**2)", [1e-7, -3.0]),
    ("(x+1)**2 - x**2", [1e11, 1.0]),
]


@pytest.mark.parametrize(("expression", "xs"), POINTS_CASES)
def test_a_batch_row_says_what_the_one_point_diff_says(cli, tmp_path, expression, xs):
    path = tmp_path / "points.csv"
    path.write_text("x\n" + "\n".join(repr(x) for x in xs) + "\n")
    run = cli("diff", expression, "--points", str(path), "--json")
    rows = [__import__("json").loads(line) for line in run.stdout.splitlines()]
    for x, row in zip(xs, rows):
        single = differentiate(expression, {"x": x})
        assert (row["status"], row["reason"]) == (single.status, single.reason), x


def test_accumulate_says_what_diff_says(cli):
    # sqrt(x**4) at 0: the derivative is 0 (mpmath), autograd's is NaN: disagree.
    assert reference.one_variable_verdict("sqrt(x**4)", "x", 0.0) == ("differentiable", 0.0)
    diff = cli("diff", "sqrt(x**4)", "--at", "0", "--json")
    run = cli("accumulate", "sqrt(x**4)", "--at", "0", "--json")
    assert (run.exit_code, diff.exit_code) == (1, 1)
    assert run.json["status"] == diff.json["status"] == "disagree"
    assert run.json["reason"] == diff.json["reason"]
    assert run.json["grads"] == [None, None, None]
    # sqrt(x) at 0: the derivative itself is infinite: undefined, exit 3 both.
    assert reference.one_variable_verdict("sqrt(x)", "x", 0.0)[0] == "undefined"
    assert cli("accumulate", "sqrt(x)", "--at", "0").exit_code == 3
    assert cli("diff", "sqrt(x)", "--at", "0").exit_code == 3


def test_no_autograd_names_what_finite_differences_did_check(cli):
    run = cli("diff", "x*y + 1/z**2", "--at", "x=1,y=2,z=1e-14", "--no-autograd", "--json")
    checked = [d["wrt"] for d in run.json["derivatives"] if d["finite_difference_checked"]]
    if checked:
        assert run.json["reason"].startswith(
            "the symbolic derivative and finite differences agree where finite differences "
            f"were taken ({len(checked)})"
        )
    run = cli("diff", "x*y + 1/z**2", "--at", "x=1,y=2,z=1e-7", "--no-autograd", "--json")
    counted = sum(d["finite_difference_checked"] for d in run.json["derivatives"])
    assert 0 < counted < 3, run.json
    assert "nothing checked" not in run.json["reason"]
    assert run.json["reason"].startswith("the symbolic derivative and finite differences agree")


@pytest.mark.parametrize(
    "values", [[1e200, 1e200, 1e-300], [1e-200, 1e-200, 1e300], [1e300, 1e300, 1e-300, 1e-300]]
)
def test_prod_does_not_overflow_partway(cli, values):
    # The product is in range; its partial products are not (mpmath: exact).
    text = "[" + ",".join(repr(v) for v in values) + "]"
    run = cli("diff", "prod(x)", "--at", f"x={text}", "--json")
    with mpmath.workdps(50):
        exact = mpmath.fprod(mpmath.mpf(v) for v in values)
        partials = [exact / mpmath.mpf(v) for v in values]
    assert run.json["value"] == pytest.approx(float(exact), rel=1e-15)
    in_range = [abs(p) < sys.float_info.max for p in partials]
    gradient = run.json["gradient"]["x"]
    for k, ok in enumerate(in_range):
        if ok:
            assert gradient["autograd"][k] == pytest.approx(float(partials[k]), rel=1e-12)
    # a partial past float64's largest number is said to be (undefined), not wrong
    assert run.json["status"] == ("agree" if all(in_range) else "undefined")


def test_norm_names_torchs_own_forms(cli):
    run = cli("diff", "norm(x)", "--at", "x=[1e200,1e200]", "--json")
    assert run.json["status"] == "disagree"
    assert any("torch's float64 overflows at norm(x)" in note for note in run.json["notes"])
    run = cli("diff", "norm(x)", "--at", "x=[0,0]", "--json")
    (note,) = run.json["notes"]
    assert (
        "as sqrt(sum(x*x))" in note and "torch.linalg.vector_norm answers the subgradient 0" in note
    )


# Views that do not show the verdict themselves: a picture, Graphviz or
# Mermaid text, LaTeX. (The tree, the tables, markdown and JSON say it.)
SILENT_VIEWS = [
    ("graph", "--format", "dot"),
    ("graph", "--format", "mermaid"),
    ("plot",),
    ("plot", "--output", "{tmp}/f.svg"),
    ("diff", "--format", "latex"),
]


@pytest.mark.parametrize("view", SILENT_VIEWS, ids=lambda v: " ".join(v))
@pytest.mark.parametrize(
    ("expression", "x", "words"),
    [
        ("sqrt(x)", 0.0, "undefined"),  # f'(0) infinite (mpmath, below)
        ("abs(x - 1)", 1.0, "not differentiable"),  # one-sided slopes -1 and 1
        ("sin(x)", 1.0, None),  # agree: nothing on stderr
    ],
)
def test_a_view_that_cannot_show_the_verdict_says_it_on_stderr(
    cli, tmp_path, view, expression, x, words
):
    """Their exit code is diff's; its reason, once only on a terminal's
    last line, is one line on stderr, as diff --json words it."""
    expected = reference.one_variable_verdict(expression, "x", x)[0]
    by_mpmath = {"undefined": "undefined", "not differentiable": "not_differentiable"}
    assert expected == by_mpmath.get(words, "differentiable")
    command, *options = view
    options = [o.format(tmp=tmp_path) for o in options]
    run = cli(command, expression, "--at", repr(x), *options)
    diff = cli("diff", expression, "--at", repr(x), "--json")
    exits = {"undefined": 3, "not differentiable": 1}
    assert run.exit_code == diff.exit_code == exits.get(words, 0)
    if words is None:
        assert run.stderr == ""
    else:
        assert run.stderr == f"gradcalc: {words}: {diff.json['reason']}\n"
    silent = cli(command, expression, "--at", repr(x), "--json") if command != "diff" else diff
    assert silent.stderr == ""  # JSON says it in its own fields
