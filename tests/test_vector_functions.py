"""The functions of whole vectors (dot, norm, logsumexp, softmax, log_softmax,
prod, cross_entropy) against an independent reference: mpmath's 40-digit
numerical derivative of the table's mpmath column, element by element, at
points inside the domain; at their kinks the verdict; and the Jacobians of
the vector-valued ones, by every method (SymPy, torch.func.jacrev and jacfwd,
finite differences)."""

import json

import mpmath
import numpy as np
import pytest

from gradcalc.functions import FUNCTIONS, TABLE
from gradcalc.pointcheck import differentiate

REFERENCE_DIGITS = 40
SYMBOLIC_RTOL = 1e-13  # SymPy at 30 digits, rounded to float64
AUTOGRAD_RTOL = 1e-12  # torch float64: a few ulps through a few operations
FINITE_DIFFERENCE_RTOL = 1e-7
ABS = 1e-14

# name -> (expression, the point's vectors and scalars, the mpmath function of them)
SCALAR_CASES = {
    "dot": ("dot(w, x)", {"w": [1.0, -2.0, 0.5], "x": [3.0, 4.0, -1.5]}),
    "norm": ("norm(x)", {"x": [3.0, -4.0, 1.25]}),
    "logsumexp": ("logsumexp(x)", {"x": [1.0, 2.0, 3.0]}),
    "prod": ("prod(x)", {"x": [2.0, -3.0, 0.5]}),
    "cross_entropy": ("cross_entropy(x, 1)", {"x": [0.3, -1.2, 2.0, 0.7]}),
}
MAP_CASES = {
    "softmax": ("softmax(x)", {"x": [1.0, 2.0, 3.0]}),
    "log_softmax": ("log_softmax(x)", {"x": [0.5, -1.0, 2.5, 0.0]}),
}


def test_every_function_of_whole_vectors_is_checked_here():
    vector = {f.name for f in FUNCTIONS if f.vector}
    assert vector == set(SCALAR_CASES) | set(MAP_CASES)


def _mp_function(name, point):
    """The table's mpmath column as a function of the flattened inputs."""
    names = list(point)
    sizes = [len(point[n]) for n in names]
    extra = {"cross_entropy": (1,), "norm": ()}.get(name, ())

    def f(*flat):
        args, at = [], 0
        for size in sizes:
            args.append(list(flat[at : at + size]))
            at += size
        return TABLE[name].mpmath(mpmath, *args, *extra)

    flat = [mpmath.mpf(v) for n in names for v in point[n]]
    return f, flat, names, sizes


def _reference_gradient(name, point, output=None):
    f, flat, _names, _sizes = _mp_function(name, point)
    g = f if output is None else (lambda *a: f(*a)[output])
    with mpmath.workdps(REFERENCE_DIGITS):
        return [
            float(mpmath.diff(g, flat, [1 if j == i else 0 for j in range(len(flat))]))
            for i in range(len(flat))
        ]


@pytest.mark.parametrize("name", sorted(SCALAR_CASES))
def test_gradient_of_a_vector_function_matches_mpmath(name):
    text, point = SCALAR_CASES[name]
    result = differentiate(text, [",".join(f"{k}={v}" for k, v in point.items())])
    assert result.status == "agree", result.reason
    reference = _reference_gradient(name, point)
    found = {p.wrt[0]: p for p in result.partials}
    at = 0
    for variable, values in point.items():
        partial = found[variable]
        expected = reference[at : at + len(values)]
        at += len(values)
        assert partial.sympy == pytest.approx(expected, rel=SYMBOLIC_RTOL, abs=ABS)
        assert partial.autograd == pytest.approx(expected, rel=AUTOGRAD_RTOL, abs=ABS)
        assert partial.finite_difference == pytest.approx(
            expected, rel=FINITE_DIFFERENCE_RTOL, abs=1e-9
        )


@pytest.mark.parametrize("name", sorted(MAP_CASES))
def test_jacobian_of_a_vector_valued_function_matches_mpmath_by_every_method(name):
    text, point = MAP_CASES[name]
    result = differentiate(text, [",".join(f"{k}={v}" for k, v in point.items())])
    assert result.status == "agree", result.reason
    n = len(point["x"])
    reference = np.array([_reference_gradient(name, point, output=i) for i in range(n)])
    assert result.rows == [f"f[{i}]" for i in range(n)]
    assert result.columns == [f"x[{j}]" for j in range(n)]
    np.testing.assert_allclose(result.sympy, reference, rtol=SYMBOLIC_RTOL, atol=ABS)
    np.testing.assert_allclose(result.autograd_reverse, reference, rtol=AUTOGRAD_RTOL, atol=ABS)
    np.testing.assert_allclose(result.autograd_forward, reference, rtol=AUTOGRAD_RTOL, atol=ABS)
    np.testing.assert_allclose(result.finite_difference, reference, rtol=1e-7, atol=1e-9)


def test_the_gradient_of_logsumexp_is_softmax(cli):
    run = cli("diff", "logsumexp(x)", "--at", "x=[1,2,3]", "--json")
    assert run.exit_code == 0
    x = np.array([1.0, 2.0, 3.0])
    softmax = np.exp(x) / np.exp(x).sum()  # numpy's, independent of the engines
    gradient = run.json["gradient"]["x"]
    for method in ("sympy", "autograd", "finite_difference"):
        np.testing.assert_allclose(gradient[method], softmax, rtol=1e-9, atol=1e-12)


def test_the_jacobian_of_softmax_is_diag_s_minus_s_s_transposed(cli):
    run = cli("diff", "softmax(x)", "--at", "x=[1,2,3]", "--json")
    assert run.exit_code == 0
    document = run.json
    from conftest import validate

    validate(document, "diff.schema.json")
    assert "derivatives" not in document
    jacobian = document["jacobian"]
    # `gradient` is of the sum of the elements (backward(ones)): the column sums.
    for method in ("sympy", "autograd", "finite_difference"):
        column_sums = np.sum(jacobian["autograd_reverse" if method == "autograd" else method], 0)
        np.testing.assert_allclose(document["gradient"]["x"][method], column_sums, atol=1e-15)
    assert jacobian["rows"] == ["f[0]", "f[1]", "f[2]"]
    assert jacobian["columns"] == ["x[0]", "x[1]", "x[2]"]
    x = np.array([1.0, 2.0, 3.0])
    s = np.exp(x) / np.exp(x).sum()
    expected = np.diag(s) - np.outer(s, s)
    for method in ("sympy", "autograd_reverse", "autograd_forward"):
        np.testing.assert_allclose(jacobian[method], expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(jacobian["finite_difference"], expected, rtol=1e-7, atol=1e-9)
    assert jacobian["finite_difference_checked"] == [[True] * 3] * 3
    assert document["status"] == "agree" and document["value"] == pytest.approx(s, rel=1e-15)


def test_dot_gives_each_vector_the_other(cli):
    run = cli("diff", "dot(w,x)", "--at", "w=[1,2],x=[3,4]", "--json")
    assert run.exit_code == 0
    gradient = run.json["gradient"]
    for method in ("sympy", "autograd", "finite_difference"):
        assert gradient["w"][method] == pytest.approx([3, 4], rel=1e-9)
        assert gradient["x"][method] == pytest.approx([1, 2], rel=1e-9)


def test_a_jacobian_over_a_vector_and_a_scalar_has_a_column_each():
    result = differentiate("x*y", ["x=[1,2],y=3"])
    assert result.columns == ["x[0]", "x[1]", "y"]
    assert result.sympy.tolist() == [[3.0, 0.0, 1.0], [0.0, 3.0, 2.0]]
    assert result.autograd_forward.tolist() == [[3.0, 0.0, 1.0], [0.0, 3.0, 2.0]]


@pytest.mark.parametrize(
    "expression, at",
    [("norm(x)", "x=[0,0]"), ("norm(x)", "x=[0,0,0]"), ("norm(w - x)", "w=[1,2],x=[1,2]")],
)
def test_norm_at_zero_is_a_kink_and_its_nan_is_traced(cli, expression, at):
    run = cli("diff", expression, "--at", at, "--json")
    assert run.exit_code == 1
    document = run.json
    assert document["status"] == "not_differentiable" and not document["differentiable"]
    (note,) = [n for n in document["notes"] if n.startswith("autograd's NaN")]
    assert "0·∞ through norm at 0" in note and f"at {expression};" in note
    assert "sqrt(sum((" in note and "^2) + 1e-12)" in note


def test_sqrt_of_a_square_at_its_zero_is_traced(cli):
    run = cli("diff", "sqrt((x-1)^2)", "--at", "1", "--json")
    assert run.exit_code == 1
    (note,) = [n for n in run.json["notes"] if n.startswith("autograd's NaN")]
    assert "sqrt((x-1)^2 + 1e-12)" in note


@pytest.mark.parametrize(
    "expression, at, words",
    [
        ("cross_entropy(x, 3)", "x=[1,2,3]", "k is a class index 0 to 2, not 3"),
        ("cross_entropy(x, 0.5)", "x=[1,2,3]", "k is a class index 0 to 2, not 0.5"),
        (
            "dot(w, x)",
            "w=[1,2],x=[1,2,3]",
            "vector variables have different lengths: w has 2, x has 3",
        ),
        (
            "[x[0], y] - x",
            "x=[1,2,3],y=1",
            "vectors of different lengths [2, 3] meet in [x[0], y] - x",
        ),
        (
            "norm(x, y)",
            "x=[1,2],y=1",
            "norm()'s argument 2 is a number, not an expression of the variables at column 9",
        ),
        (
            "cross_entropy(x, y)",
            "x=[1,2,3],y=[1,2,0]",
            "cross_entropy()'s argument 2 is a number, not an expression of the variables "
            "at column 18",
        ),
        (
            "x[-",
            "x=[1,2]",
            "an index is a whole number in brackets right after a vector: x[0], x[-1] at column 2",
        ),
        ("x^2[0]", "x=[1,2]", "2[0]: [i] picks an element of a vector, and this is a number"),
        (
            "dot(x, y)",
            "x=[1,2],y=3",
            "dot(x, y): dot(a, b) takes two vectors of one length, not 2 and 1",
        ),
        ("norm(x, 1.5)", "x=[1,2]", "norm(x, 1.5): norm(x, p): p is 1 or 2, not 1.5"),
    ],
)
def test_vector_function_misuse_is_one_line_exit_2(cli, expression, at, words):
    run = cli("diff", expression, "--at", at)
    assert run.exit_code == 2 and run.stderr.splitlines()[0].endswith(words), run.stderr


def test_many_points_refuse_functions_of_whole_vectors(cli):
    run = cli("diff", "softmax(x)", "--points", "-", "--json", input=b"x\n1\n")
    assert run.exit_code == 2
    assert json.loads(run.stdout)["error"]["message"] == (
        "softmax(...) takes whole vectors: many points give one number per variable "
        "(a vector goes in --at)"
    )


def test_a_list_of_expressions_is_differentiated_as_a_jacobian(cli):
    run = cli("diff", "[x*y, sin(x)]", "--at", "x=0.5,y=2", "--json")
    assert run.exit_code == 0
    jacobian = run.json["jacobian"]
    assert jacobian["rows"] == ["f[0]", "f[1]"] and jacobian["columns"] == ["x", "y"]
    expected = [[2.0, 0.5], [np.cos(0.5), 0.0]]  # by hand: d(xy) = (y, x), d sin x = (cos x, 0)
    for method in ("sympy", "autograd_reverse", "autograd_forward"):
        np.testing.assert_allclose(jacobian[method], expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(jacobian["finite_difference"], expected, rtol=1e-9, atol=1e-12)


# Each element has a corner at the point, but their sum is smooth there: the
# corners cancel. A Jacobian is differentiable only if every element is.
# (mpmath's one-sided derivatives below decide it, not gradcalc.)
CANCELLING_CORNERS = [
    ("[abs(x), -abs(x)]", {"x": 0.0}, [lambda x: abs(x), lambda x: -abs(x)]),
    ("[relu(x), -relu(x)]", {"x": 0.0}, [lambda x: max(x, 0), lambda x: -max(x, 0)]),
    ("[abs(x) + x, x - abs(x)]", {"x": 0.0}, [lambda x: abs(x) + x, lambda x: x - abs(x)]),
    (
        "[max(x, y), min(x, y)]",
        {"x": 1.5, "y": 1.5},
        [lambda x: max(x, mpmath.mpf(1.5)), lambda x: min(x, mpmath.mpf(1.5))],
    ),
]


@pytest.mark.parametrize("expression, at, elements", CANCELLING_CORNERS)
def test_a_jacobian_is_not_differentiable_where_an_element_has_a_corner(
    expression, at, elements, cli
):
    with mpmath.workdps(60):
        x = mpmath.mpf(at["x"])
        h = mpmath.mpf("1e-30")
        corners = []
        for i, element in enumerate(elements):
            left = (element(x) - element(x - h)) / h
            right = (element(x + h) - element(x)) / h
            if abs(left - right) > 0.5:
                corners.append((f"f[{i}]", float(left), float(right)))
        total = [(sum(e(x) for e in elements) - sum(e(x - h) for e in elements)) / h]
        total.append((sum(e(x + h) for e in elements) - sum(e(x) for e in elements)) / h)
        assert abs(total[0] - total[1]) < 1e-20  # the sum alone has no corner
    assert len(corners) == len(elements)  # every element has its corner
    point = ",".join(f"{k}={v}" for k, v in at.items())
    run = cli("diff", expression, "--at", point, "--json", "--no-autograd")
    assert run.exit_code == 1
    assert run.json["status"] == "not_differentiable"
    along_x = [k for k in run.json["kinks"] if k["wrt"] == "x"]
    found = sorted(
        (k["at"].rsplit(" in ", 1)[1], k["left_derivative"], k["right_derivative"]) for k in along_x
    )
    assert [row for row, _, _ in found] == [row for row, _, _ in sorted(corners)]
    for (_, left, right), (_, want_left, want_right) in zip(found, sorted(corners)):
        assert (left, right) == pytest.approx((want_left, want_right), abs=1e-6)


@pytest.mark.parametrize(
    "expression, at, gradient",
    [
        ("x[0]*x[1]", "x=[3,4]", [4.0, 3.0]),
        ("x[-1]^2", "x=[3,4]", [0.0, 8.0]),
        ("softmax(x)[0]", "x=[0,0]", [0.25, -0.25]),
        ("sum([x, 2*x])", "x=[1,2]", [3.0, 3.0]),
    ],
)
def test_indexing_picks_one_element(expression, at, gradient):
    result = differentiate(expression, [at])
    assert result.status == "agree", result.reason
    (partial,) = result.partials
    assert partial.sympy == pytest.approx(gradient, rel=1e-15, abs=1e-300)
    assert partial.autograd == pytest.approx(gradient, rel=1e-15, abs=1e-300)


def test_an_index_past_the_end_is_one_line_exit_2(cli):
    run = cli("diff", "x[2]", "--at", "x=[1,2]")
    assert run.exit_code == 2
    assert run.stderr == "gradcalc: error: x[2]: index 2 is outside a vector of 2 (0 to 1)\n"


def test_the_graph_writes_logsumexps_local_derivative_as_softmax():
    from gradcalc.computation import build

    graph = build("logsumexp(x)", "x=[1,2,3]")
    (edge,) = graph.edges
    x = np.array([1.0, 2.0, 3.0])
    softmax = np.exp(x) / np.exp(x).sum()
    assert edge.local_generic == "softmax(u)"
    np.testing.assert_allclose(edge.local_value, softmax, rtol=1e-15)
    assert graph.agree and all(node.agree for node in graph.nodes)


def test_the_graph_marks_norm_at_zero_where_the_nan_starts(cli):
    run = cli("graph", "1 + norm(x)", "--at", "x=[0,0]", "--format", "json")
    assert run.exit_code == 1
    marked = [n["expression"] for n in run.json["nodes"] if n.get("nan_source")]
    assert marked == ["norm(x)"]


def test_the_graph_refuses_a_function_whose_derivative_is_a_jacobian(cli):
    run = cli("graph", "sum(softmax(x))", "--at", "x=[1,2]")
    assert run.exit_code == 2
    assert run.stderr.startswith("gradcalc: error: softmax(...) takes whole vectors: the graph")


def test_a_jacobian_says_why_an_entry_is_null_and_traces_autograds_nan(cli):
    run = cli("diff", "[norm(x), x[0]]", "--at", "x=[0,0]", "--json")
    assert run.exit_code == 1
    document = run.json
    from conftest import validate

    validate(document, "diff.schema.json")
    jacobian = document["jacobian"]
    assert jacobian["sympy"] == [[None, None], [1.0, 0.0]]
    assert jacobian["sympy_nonfinite"] == "undefined"
    assert jacobian["autograd_reverse_nonfinite"] == "nan"
    (note,) = [n for n in document["notes"] if n.startswith("autograd's NaN")]
    assert "0·∞ through norm at 0" in note


def test_the_norm_of_one_number_at_zero_is_traced_as_torch_computes_it(cli):
    run = cli("diff", "norm(x)", "--at", "0", "--json")
    assert run.exit_code == 1
    (note,) = [n for n in run.json["notes"] if n.startswith("autograd's NaN")]
    assert note.startswith("autograd's NaN: 0·∞ through norm at 0")


def test_a_jacobian_disagreement_names_each_method_entry_and_value(cli):
    # (exp(x)-1)/x at 1e-7 in float64 loses half its digits to cancellation:
    # torch's value is off; SymPy's is not; finite differences cannot resolve
    # it (their error estimate counts the rounding of f's terms): not checked.
    run = cli("diff", "[(exp(x)-1)/x, x]", "--at", "x=1e-7", "--json")
    assert run.exit_code == 1
    document = run.json
    with mpmath.workdps(50):
        exact = float(mpmath.diff(lambda t: mpmath.expm1(t) / t, mpmath.mpf("1e-7")))
    assert document["jacobian"]["sympy"] == [[pytest.approx(exact, rel=1e-13)], [1.0]]
    assert document["status"] == "disagree" and document["differentiable"]
    reason = document["reason"]
    assert reason.startswith("the methods disagree: autograd (reverse mode): off by up to ")
    assert "row 0, column 0" in reason and "finite differences: off" not in reason


@pytest.mark.parametrize("scale", ["1e200", "1e160", "1e-170"])
def test_norm_is_finite_where_its_squares_are_not(scale, cli):
    # The squares overflow (underflow) in float64; the norm itself does not.
    run = cli("diff", "norm(x)", "--at", f"x=[{scale},{scale}]", "--json")
    assert run.exit_code in (0, 1)  # a value, not "undefined" (exit 3)
    with mpmath.workdps(30):
        exact = mpmath.sqrt(2) * mpmath.mpf(scale)
    assert run.json["value"] == pytest.approx(float(exact), rel=1e-15)
    assert run.json["derivatives"][0]["sympy"] == pytest.approx([2**-0.5, 2**-0.5], rel=1e-15)
