"""Long vector variables (gradcalc/vectors.py): one symbol per vector,
evaluated over arrays. Checked against an mpmath reference of the expanded
expression (every component its own number, reductions as plain sums), and
against gradcalc's own per-component path, an independent method."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from conftest import validate

from gradcalc import atpoint, jsonout, numeric, pointcheck, stencil, vectors
from gradcalc.functions import TABLE
from gradcalc.parsing import parse

LENGTH = vectors.SMALL + 16  # just past the per-component path


def _mp_value(expression: str, point: dict):
    """f in mpmath at 50 digits, every element its own number."""
    expr = parse(expression)
    values: dict = {}
    for node in expr.nodes:
        if node.op == "num":
            result = mpmath.mpf(node.value)
        elif node.op == "var":
            result = point[node.value]
        elif node.op in ("mean", "sum"):
            arg = values[id(node.args[0])]
            if isinstance(arg, list):
                result = mpmath.fsum(arg) / (len(arg) if node.op == "mean" else 1)
            else:
                result = arg
        else:
            args = [values[id(a)] for a in node.args]
            length = max((len(a) for a in args if isinstance(a, list)), default=None)
            function = TABLE[node.op].mpmath
            if length is None:
                result = function(mpmath, *args)
            else:
                result = [
                    function(mpmath, *(a[i] if isinstance(a, list) else a for a in args))
                    for i in range(length)
                ]
        values[id(node)] = result
    root = values[id(expr.root)]
    return mpmath.fsum(root) if isinstance(root, list) else root


def _mp_gradient(expression: str, point: dict, name: str) -> list[float]:
    with mpmath.workdps(50):
        exact = {
            k: [mpmath.mpf(float(v)) for v in value] if np.ndim(value) else mpmath.mpf(float(value))
            for k, value in point.items()
        }

        def along(index):
            def f(t):
                moved = dict(exact)
                if index is None:
                    moved[name] = t
                    return _mp_value(expression, moved)
                moved[name] = list(exact[name])
                moved[name][index] = t
                return _mp_value(expression, moved)

            return f

        if np.ndim(point[name]) == 0:
            return [float(mpmath.diff(along(None), exact[name]))]
        return [float(mpmath.diff(along(i), v)) for i, v in enumerate(exact[name])]


def _point(names, length=LENGTH) -> dict:
    rng = np.random.default_rng(7)
    point = {
        "x": np.round(rng.uniform(-2, 3, length), 3),
        "y": np.round(rng.uniform(-1, 1, length), 3),
        "a": 0.8,
    }
    return {k: v for k, v in point.items() if k in names}


EXPRESSIONS = [
    "mean(x**2)",
    "sum((x - mean(x))**2)",  # cross terms: every element moves the mean
    "mean(sin(a*x)*exp(-x/10)) + log(sum(x**2))",  # a scalar variable mixed in
    "x*mean(x)",  # vector-valued: the sum of its elements
    "mean(x)*mean(x**2)/sum(abs(x))",
    "sigmoid(sum(x*y))*cbrt(mean(x - 4))",  # two vectors, nested reductions
    "mean(max(x, a)) + sum(x*abs(x))",
]
# detach(x) holds its value while x moves: the mpmath reference above does not.
COMPARED = [*EXPRESSIONS, "sum(detach(x)*x) + mean(detach(x)**2)"]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_gradient_matches_mpmath_past_the_per_component_path(expression):
    names = parse(expression).variables
    point = _point(names)
    result = pointcheck.differentiate(expression, at=point)
    assert result.elementwise and result.status == "agree", result.reason
    assert float(np.sum(result.value)) == pytest.approx(
        float(_mp_value(expression, {k: _mp(v) for k, v in point.items()})), rel=1e-13
    )
    for partial in result.partials:
        reference = _mp_gradient(expression, point, partial.wrt[0])
        sympy = np.atleast_1d(np.array(partial.sympy, dtype=float))
        autograd = np.atleast_1d(np.array(partial.autograd, dtype=float))
        np.testing.assert_allclose(sympy, reference, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(autograd, reference, rtol=1e-9, atol=1e-12)


def _mp(value):
    with mpmath.workdps(50):
        if np.ndim(value):
            return [mpmath.mpf(float(v)) for v in value]
        return mpmath.mpf(float(value))


@pytest.mark.parametrize("expression", COMPARED)
def test_elementwise_path_matches_the_per_component_path(expression, monkeypatch):
    # The per-component path (one SymPy derivative per component, 30 digits)
    # is an independent method: short vectors forced through vectors.py agree.
    point = _point(parse(expression).variables, length=5)
    expanded = pointcheck.differentiate(expression, at=point)
    summed = hasattr(expanded, "columns")  # vector-valued: a Jacobian when short
    if summed:  # a long vector's path differentiates the sum, as torch's backward(ones)
        expanded = pointcheck.differentiate(f"sum({expression})", at=point)
    monkeypatch.setattr(vectors, "SMALL", 0)
    elementwise = pointcheck.differentiate(expression, at=point)
    assert not expanded.elementwise and elementwise.elementwise
    assert elementwise.status == expanded.status == "agree"
    value = np.sum(elementwise.value) if summed else elementwise.value
    np.testing.assert_allclose(value, expanded.value, rtol=1e-14)
    for new, old in zip(elementwise.partials, expanded.partials):
        np.testing.assert_allclose(
            np.array(new.sympy, dtype=float), np.array(old.sympy, dtype=float), rtol=1e-13
        )


def test_short_vectors_keep_the_per_component_path():
    result = pointcheck.differentiate("mean(x**2)", at={"x": [1, 2, 3]})
    assert not result.elementwise
    assert result.partials[0].symbolic == ["2*x[0]/3", "2*x[1]/3", "2*x[2]/3"]


def test_the_formula_is_elementwise_and_exact():
    point = _point(["x"])
    result = pointcheck.differentiate("mean(x**2)", at=point)
    assert result.partials[0].symbolic == f"x/{LENGTH // 2}"
    assert any("one formula for every element" in note for note in result.notes)
    result = pointcheck.differentiate("sum((x - mean(x))**2)", at=point)
    assert result.partials[0].symbolic == "2*x - 2*mean(x) + sum(-2*x + 2*mean(x))/80"


def test_finite_differences_are_sampled_and_the_rest_not_checked():
    point = _point(["x"])
    result = pointcheck.differentiate("mean(x**3)", at=point)
    partial = result.partials[0]
    chosen = vectors.sample(LENGTH)
    assert len(chosen) == vectors.SAMPLED and chosen[:8] == list(range(8))
    checked = [i for i, v in enumerate(partial.finite_difference) if v is not None]
    assert checked == chosen
    assert partial.finite_difference_checked is False
    assert result.status == "agree"
    assert result.reason.startswith(
        "SymPy and autograd agree; finite differences not checked here (d/dx["
    )
    assert "and 40 more): finite differences were taken on a sample" in result.reason
    assert any("32 of the 80 components of x" in note for note in result.notes)
    document = jsonout.diff(result)
    validate(document, "diff.schema.json")
    entry = document["gradient"]["x"]
    assert isinstance(entry["symbolic"], str)
    assert entry["finite_difference_checked"] is False
    assert sum(v is None for v in entry["finite_difference"]) == LENGTH - vectors.SAMPLED


def test_directional_derivative_matches_the_gradient():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 200)
    v = rng.standard_normal(200)
    expr = parse("sum(x**3) + mean(x)**2")
    batch = numeric.as_batch({"x": x})
    estimate, error, clean = stencil.directional(expr, batch, {}, "x", v)
    exact = float(np.dot(3 * x**2 + 2 * np.mean(x) / 200, v))
    assert clean and estimate == pytest.approx(exact, rel=1e-9) and error < 1e-6


def test_a_kink_in_one_component_is_found_there_only():
    point = _point(["x"])
    point["x"][37] = 1.0
    result = pointcheck.differentiate("sum(relu(x - 1)) + mean(x**2)", at=point)
    assert result.status == "not_differentiable"
    assert [k.wrt for k in result.kinks] == ["x[37]"]
    assert (result.kinks[0].left, result.kinks[0].right) == pytest.approx((2 / 80, 1 + 2 / 80))
    # every other component is exact
    reference = [2 * v / LENGTH + (1.0 if v > 1 else 0.0) for v in point["x"]]
    got = result.partials[0].sympy
    assert [g for i, g in enumerate(got) if i != 37] == pytest.approx(
        [r for i, r in enumerate(reference) if i != 37], rel=1e-14
    )


@pytest.fixture
def probed(monkeypatch):
    """The components numeric.one_sided is asked to probe, in order."""
    components: list = []
    one_sided = numeric.one_sided
    monkeypatch.setattr(
        numeric,
        "one_sided",
        lambda expr, point, name, comp, *rest, **named: (
            components.append(comp) or one_sided(expr, point, name, comp, *rest, **named)
        ),
    )
    return components


def test_kinks_are_probed_only_where_a_node_sits_on_its_kink(probed):
    # 10,000 elements, one on abs's kink: probed along that one, not 10,000
    # (each probe evaluates f over every element: all would be quadratic).
    x = np.linspace(-3, 3, 10_000)
    x[4321] = 0.0
    batch = numeric.as_batch({"x": x})
    expr = parse("mean(abs(x))")
    values = numeric.evaluate(expr, batch, keep=True)
    kinks = numeric.find_kinks(expr, batch, values, {}, ["x"], {"x": 10_000})
    assert [k.wrt for k in kinks[0]] == ["x[4321]"]
    assert set(probed) == {4321}


def test_a_reduced_node_on_its_kink_is_probed_along_a_bounded_number_of_components(probed):
    x = np.linspace(-3, 3, 1_000)  # its mean is 0: abs(mean(x)) sits on its kink
    batch = numeric.as_batch({"x": x})
    expr = parse("abs(mean(x))")
    values = numeric.evaluate(expr, batch, keep=True)
    kinks = numeric.find_kinks(expr, batch, values, {}, ["x"], {"x": 1_000})
    assert set(probed) == set(range(numeric.MAX_PROBED))
    assert kinks[0][0].wrt == "x[0]"


def test_plain_vector_elements_read_as_the_parser_reads_them():
    texts = ["1", "-2.5", "+.5", "3.", "1e-3", "-7E+2", "0.1", "123456789.123456789", "-0"]
    fast = atpoint.value("[" + ",".join(texts) + "]", "{at} x")
    slow = [atpoint.number(t, "{at} x") for t in texts]
    assert [repr(v) for v in fast.tolist()] == [repr(v) for v in slow]
    for bad in ("[1e999]", "[1_000]", "[nan]", "[1, ]"):
        with pytest.raises(Exception) as fast_error:
            atpoint.value(bad, "{at} x")
        assert str(fast_error.value).startswith("at x[")
        assert fast_error.value.worded(lambda name: "--" + name).startswith("--at x[")


@pytest.mark.slow
def test_ten_thousand_elements_through_the_cli(cli):
    x = np.round(np.linspace(-5, 5, 10_000), 3)
    spec = "x=[" + ",".join(repr(float(v)) for v in x) + "]"
    run = cli("diff", "sum((x - mean(x))**2) + mean(sin(x))", "--at", spec, "--json")
    assert run.exit_code == 0, run.stderr
    document = run.json
    validate(document, "diff.schema.json")
    reference = 2 * (x - x.mean()) + np.cos(x) / x.size
    np.testing.assert_allclose(
        document["gradient"]["x"]["sympy"], reference, rtol=1e-12, atol=1e-13
    )
    np.testing.assert_allclose(
        document["gradient"]["x"]["autograd"], reference, rtol=1e-9, atol=1e-12
    )
    assert document["status"] == "agree"


def test_a_long_vectors_sampled_components_take_two_step_sizes(monkeypatch):
    # Each sampled component's differences evaluate f over the whole vector:
    # two step sizes there (as --points), all nine for the one direction and
    # for a short vector's components.
    seen = []
    real = numeric.finite_difference

    def spy(expr, point, partials, frozen=None, step_factors=numeric.STEP_FACTORS, **kwargs):
        seen.append((len(partials), tuple(step_factors)))
        return real(expr, point, partials, frozen, step_factors, **kwargs)

    monkeypatch.setattr(numeric, "finite_difference", spy)
    result = pointcheck.differentiate("mean(x**2)", {"x": [1 + k / 7 for k in range(100)]})
    assert result.status == "agree"
    assert seen == [(vectors.SAMPLED, numeric.FEW_STEP_FACTORS)]
    seen.clear()
    pointcheck.differentiate("mean(x**2)", {"x": [1.0, 2.0, 3.0]})
    assert seen and all(steps == numeric.STEP_FACTORS for _, steps in seen)


def test_unsampled_finite_differences_are_not_checked_not_undefined(cli):
    at = "x=[" + ",".join(str(1 + k / 7) for k in range(100)) + "]"
    (d,) = cli("diff", "mean(x**2)", "--at", at, "--json").json["derivatives"]
    assert d["finite_difference"].count(None) == 100 - vectors.SAMPLED
    assert d["finite_difference_nonfinite"] == "not checked"


@pytest.mark.parametrize(
    "expression, values",
    [("sqrt(sum(x**2))", [0.0] * 65), ("sum(sqrt(x**2))", [float(k) for k in range(65)])],
)
def test_a_long_vector_with_a_kink_no_table_entry_announces(expression, values):
    # Past 64 elements (the elementwise path) the hidden kink was never probed:
    # "undefined" and "disagree". Along x[0] at 0 both one-sided slopes of f
    # are -1 and 1 (|x[0]| near 0), by hand.
    result = pointcheck.differentiate(expression, {"x": values})
    assert result.status == "not_differentiable", result.reason
    first = next(k for k in result.kinks if k.wrt == "x[0]")
    assert (first.left, first.right) == pytest.approx((-1.0, 1.0), abs=1e-6)
