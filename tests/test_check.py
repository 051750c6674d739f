"""differentiate(): the notebook's numbers, vectors, kinks, domains, detach."""

import math

import mpmath
import pytest

from gradcalc.errors import DomainError, PointError, TooLargeError, UsageError
from gradcalc.pointcheck import differentiate

# The autograd notebook gradcalc grew from prints these.
NOTEBOOK_SIN_SQUARE_AT_2 = -2.6145744834544478
NOTEBOOK_SIN_SQUARE_AT_3 = -5.466781571308061
NOTEBOOK_PRINTED_DIGITS = 1e-4  # the notebook's tensors print 4 decimals
FLOAT64_ULPS = 4e-15  # relative: the same float64 computation, a few ulps


def only(result):
    (partial,) = result.partials
    return partial


def test_square_at_2_is_4():
    result = differentiate("x**2", {"x": 2})
    partial = only(result)
    assert partial.symbolic == "2*x"
    assert partial.sympy == 4.0 and partial.autograd == 4.0
    assert partial.finite_difference == pytest.approx(4.0, rel=1e-10)
    assert result.status == "agree"


@pytest.mark.parametrize(
    "at, printed", [(2, NOTEBOOK_SIN_SQUARE_AT_2), (3, NOTEBOOK_SIN_SQUARE_AT_3)]
)
def test_sin_of_square_matches_the_notebook(at, printed):
    partial = only(differentiate("sin(x**2)", [str(at)]))
    assert partial.symbolic == "2*x*cos(x**2)"
    for value in (partial.sympy, partial.autograd):
        assert value == pytest.approx(printed, rel=FLOAT64_ULPS)
    assert partial.finite_difference == pytest.approx(printed, rel=1e-9)


def test_sin_of_square_value_at_3_is_the_notebooks_0_4121():
    result = differentiate("sin(x**2)", {"x": 3.0})
    assert result.value == pytest.approx(math.sin(9.0), rel=1e-15)
    assert abs(result.value - 0.4121) < NOTEBOOK_PRINTED_DIGITS


def test_integer_point_is_taken_as_float():
    # The notebook's torch.tensor(3, requires_grad=True) error never reaches a user.
    result = differentiate("x**2", ["3"])
    assert only(result).autograd == 6.0
    assert isinstance(result.point["x"].item(), float)


def test_vector_mean_matches_the_notebook():
    result = differentiate("mean(x**2)", ["x=[1,2,3]"])
    partial = only(result)
    assert result.value == pytest.approx(14 / 3, rel=1e-15)  # tensor(4.6667)
    for values in (partial.sympy, partial.autograd, partial.finite_difference):
        assert values == pytest.approx([2 / 3, 4 / 3, 2.0], rel=1e-9)
    assert partial.symbolic == ["2*x[0]/3", "2*x[1]/3", "2*x[2]/3"]
    assert result.status == "agree"


def test_vector_valued_expression_is_differentiated_as_a_jacobian():
    result = differentiate("x**2", ["x=[1,2,3]"])
    assert result.value == [1.0, 4.0, 9.0]
    diagonal = [[2.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 6.0]]
    assert result.sympy.tolist() == result.autograd_reverse.tolist() == diagonal
    assert result.autograd_forward.tolist() == diagonal
    # The sum stays available, written out: torch's y.backward(torch.ones_like(y)).
    assert only(differentiate("sum(x**2)", ["x=[1,2,3]"])).autograd == [2.0, 4.0, 6.0]


def test_gradient_over_several_variables_and_wrt():
    result = differentiate("x*y + sin(y)", ["x=1,y=2"])
    x, y = result.partials
    assert x.wrt == ("x",) and x.sympy == 2.0
    assert y.sympy == pytest.approx(1 + math.cos(2), rel=1e-15)
    assert [p.wrt for p in differentiate("x*y", ["x=1,y=2"], wrt=["y"]).partials] == [("y",)]


def test_hessian_matches_mpmath():
    f = lambda x, y: mpmath.sin(x * y) + x**3 * y  # noqa: E731
    result = differentiate("sin(x*y) + x^3*y", ["x=0.5", "y=-1.25"], order=2)
    assert [p.wrt for p in result.partials] == [("x", "x"), ("x", "y"), ("y", "y")]
    with mpmath.workdps(40):
        for partial, orders in zip(result.partials, [(2, 0), (1, 1), (0, 2)]):
            reference = float(mpmath.diff(f, (mpmath.mpf(0.5), mpmath.mpf(-1.25)), orders))
            assert partial.sympy == pytest.approx(reference, rel=1e-13)
            assert partial.autograd == pytest.approx(reference, rel=1e-12)
            assert partial.finite_difference == pytest.approx(reference, rel=1e-6)
    assert result.status == "agree"


@pytest.mark.parametrize(
    "expression, x", [("abs(log(x))", 0.5), ("abs(asin(x))", 0.3), ("relu(tan(x))**2", 0.4)]
)
def test_second_derivative_through_a_non_smooth_function_of_a_function(expression, x):
    # SymPy leaves d/dx sign(g(x)) unevaluated; away from g = 0 it is 0.
    f = {
        "abs(log(x))": lambda t: abs(mpmath.log(t)),
        "abs(asin(x))": lambda t: abs(mpmath.asin(t)),
        "relu(tan(x))**2": lambda t: max(mpmath.tan(t), 0) ** 2,
    }[expression]
    result = differentiate(expression, {"x": x}, order=2)
    assert result.status == "agree", result.reason
    with mpmath.workdps(40):
        reference = float(mpmath.diff(f, mpmath.mpf(x), 2))
    assert only(result).sympy == pytest.approx(reference, rel=1e-12)
    assert only(result).autograd == pytest.approx(reference, rel=1e-10)


def test_third_order():
    partial = only(differentiate("sin(x)", {"x": 0.3}, order=3))
    assert partial.sympy == pytest.approx(-math.cos(0.3), rel=1e-14)
    assert partial.autograd == pytest.approx(-math.cos(0.3), rel=1e-12)


@pytest.mark.parametrize(
    "expression, at, left, right",
    [
        ("abs(x)", 0, -1.0, 1.0),
        ("relu(x)", 0, 0.0, 1.0),
        ("max(x, 1)", 1, 0.0, 1.0),
        ("min(x, 1)", 1, 1.0, 0.0),
        ("abs(x - 0.5)*3", 0.5, -3.0, 3.0),
    ],
)
def test_kinks_are_diagnosed_with_one_sided_derivatives(expression, at, left, right):
    result = differentiate(expression, {"x": at})
    assert result.status == "not_differentiable"
    assert not result.differentiable
    (kink,) = result.kinks
    assert kink.left == pytest.approx(left, abs=1e-6)
    assert kink.right == pytest.approx(right, abs=1e-6)
    assert "left derivative" in result.reason


def test_abs_at_zero_reports_each_methods_convention():
    result = differentiate("abs(x)", {"x": 0})
    partial = only(result)
    assert partial.autograd == 0.0  # torch's subgradient
    assert partial.symbolic == "sign(x)"


def test_sign_jump_is_not_differentiable():
    result = differentiate("sign(x)", {"x": 0})
    assert result.status == "not_differentiable"
    assert result.kinks[0].jump
    assert "jumps" in result.reason


def test_smooth_through_a_kink_function_is_differentiable():
    result = differentiate("abs(x)**2", {"x": 0})
    assert result.status == "agree" and result.kinks == []


def test_near_a_kink_finite_differences_shrink_their_step():
    result = differentiate("abs(x)", {"x": 1e-5})
    assert result.status == "agree"
    assert only(result).finite_difference == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize(
    "expression, at, words",
    [
        ("log(x)", 0, "logarithm of 0"),
        ("log(x)", -1, "log is defined for x > 0"),
        ("1/x", 0, "division by zero"),
        ("sqrt(x)", -4, "sqrt is defined for x >= 0"),
        ("x**-2", 0, "0 to a negative power"),
        ("exp(x)", 1000, "beyond float64"),
        ("(-x)**0.5", 2, "a**b is defined for a > 0, or a < 0 with integer b, "),
        ("(-x)**0.5", 2, "here a = -x, b = 0.5"),
        ("sqrt(x - 3)", 2, "sqrt is defined for x - 3 >= 0"),  # the argument, not x
        ("asin(2*x)", 1, "asin is defined for -1 <= 2*x <= 1"),
    ],
)
def test_undefined_function_is_a_domain_error(expression, at, words):
    with pytest.raises(DomainError) as caught:
        differentiate(expression, {"x": at})
    assert words in caught.value.message
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(
    "expression, at", [("sqrt(x)", 0), ("acos(x)", 1), ("cbrt(x)", 0), ("x**x", 0)]
)
def test_infinite_derivative_is_undefined(expression, at):
    result = differentiate(expression, {"x": at})
    assert result.status == "undefined"
    assert only(result).sympy is None


def test_detach_holds_its_argument_constant_in_all_three_methods():
    partial = only(differentiate("x**2*detach(x)", {"x": 3}))
    assert partial.symbolic == "2*x*detach(x)"
    assert partial.sympy == 18.0 and partial.autograd == 18.0
    assert partial.finite_difference == pytest.approx(18.0, rel=1e-9)


def test_float32_is_what_pytorch_users_see():
    result = differentiate("sin(x**2)", {"x": 3}, dtype="float32")
    autograd = only(result).autograd
    assert autograd != only(result).sympy  # float32 rounding is visible...
    assert autograd == pytest.approx(NOTEBOOK_SIN_SQUARE_AT_3, abs=1e-5)  # ...tensor(-5.4668)
    assert result.status == "agree"


def test_input_errors():
    with pytest.raises(PointError, match="no value for y"):
        differentiate("x*y", ["x=1"])
    with pytest.raises(PointError, match="not a variable"):
        differentiate("x", ["x=1,z=2"])
    with pytest.raises(PointError, match="given twice"):
        differentiate("x", ["x=1", "x=2"])
    with pytest.raises(PointError, match="gives no name"):
        differentiate("x*y", ["3"])
    with pytest.raises(PointError, match="not a finite number"):
        differentiate("x", ["nan"])
    with pytest.raises(PointError, match="not a finite number"):
        differentiate("x", ["1e999"])
    with pytest.raises(UsageError, match="not a variable"):
        differentiate("x", ["1"], wrt=["y"])
    with pytest.raises(UsageError, match="no variables"):
        differentiate("2+3", [])
    with pytest.raises(UsageError, match="scalar variables"):
        differentiate("sum(x)", ["x=[1,2]"], order=2)
    with pytest.raises(PointError, match="different lengths"):
        differentiate("x*y", ["x=[1,2],y=[1,2,3]"])


def test_point_values_may_be_constant_expressions():
    partial = only(differentiate("sin(x)", ["pi/3"]))
    assert partial.sympy == pytest.approx(0.5, rel=1e-15)


def test_huge_exact_powers_are_refused_quickly():
    with pytest.raises((DomainError, TooLargeError)):
        differentiate("9**9**9*x", ["1"])
    with pytest.raises(DomainError):  # float evaluation, never exact substitution
        differentiate("x**(10**10)", ["3"])


# With --no-autograd (SymEngine) the symbolic value is the 30-digit one too:
# float64 would cancel 3(x + 1/10)^2 - 3x^2 at 1e10 to 6000017408.
@pytest.mark.parametrize(
    ("expression", "x", "derivative"),
    [
        ("(x+0.1)**3 - x**3", 1e10, lambda mp, x: 3 * (x + mp.mpf(1) / 10) ** 2 - 3 * x**2),
        ("sin(x**2)", 3.0, lambda mp, x: 2 * x * mp.cos(x**2)),
        ("exp(x) - exp(x - 1e-10)", 5.0, lambda mp, x: mp.exp(x) - mp.exp(x - mp.mpf("1e-10"))),
    ],
)
def test_the_symbolic_value_is_30_digits_without_autograd(cli, expression, x, derivative):
    import mpmath

    mpmath.mp.dps = 50
    truth = float(derivative(mpmath, mpmath.mpf(x)))  # the point's exact binary value
    document = cli("diff", expression, "--at", f"x={x!r}", "--no-autograd", "--json").json
    assert document["gradient"]["x"]["sympy"] == truth
    with_autograd = cli("diff", expression, "--at", f"x={x!r}", "--json").json
    assert with_autograd["gradient"]["x"]["sympy"] == truth


@pytest.mark.parametrize(
    "args",
    [
        ("(x+0.1)**3 - x**3", "--at", "1e10", "--order", "2"),
        ("sin(x*y) + x**2", "--at", "x=0.3,y=2", "--order", "2"),
        ("mean((x+0.1)**3 - x**3)", "--at", "x=[1e10,1]"),
        ("exp(x) - exp(x - 1e-10)", "--at", "5", "--order", "3"),
    ],
)
def test_symengine_and_sympy_give_one_symbolic_value_on_every_path(cli, args):
    """Other orders, several variables, a vector: SymEngine's 30 digits are
    SymPy's (its evalf at 30 digits on the path with autograd)."""
    symbolic = [
        [d["sympy"] for d in cli("diff", *args, *extra, "--json").json["derivatives"]]
        for extra in ((), ("--no-autograd",))
    ]
    assert symbolic[0] == symbolic[1]
