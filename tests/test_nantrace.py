"""autograd's NaN traced to its node, with the safe rewrite and its gradient
(checked against mpmath's derivative of the rewrite)."""

import pytest
import reference


@pytest.mark.parametrize(
    "expression, at, node, rewrite, status",
    [
        ("sqrt(x^4)", "0", "sqrt(x^4)", "sqrt(x^4 + 1e-12)", "disagree"),
        ("sqrt((x-1)^2)", "1", "sqrt((x-1)^2)", "sqrt((x-1)^2 + 1e-12)", "not_differentiable"),
        (
            "2*sqrt(x^2 + y^2)",
            "x=0,y=0",
            "sqrt(x^2 + y^2)",
            "2*sqrt(x^2 + y^2 + 1e-12)",
            "not_differentiable",
        ),
        ("(x^2)^0.75", "0", "(x^2)^0.75", "(x^2 + 1e-12)^0.75", "disagree"),
    ],
)
def test_the_nan_is_traced_and_a_rewrite_offered(cli, expression, at, node, rewrite, status):
    run = cli("diff", expression, "--at", at, "--json")
    assert run.exit_code == 1
    document = run.json
    assert document["status"] == status
    (note,) = [n for n in document["notes"] if n.startswith("autograd's NaN")]
    assert f"at {node};" in note and f"safe form is {rewrite}," in note
    # The rewrite's gradient, as the note gives it, against mpmath.
    point = {k: float(v) for k, v in document["point"].items()}
    for name in point:
        expected = reference.derivative(rewrite, point, (name,))
        assert f"d/d{name} = {expected:.6g}" in note.replace("-0 ", "0 ")


def test_graph_marks_the_node(cli):
    run = cli("graph", "sqrt(x^4)", "--at", "0", "--json")
    marked = [n["expression"] for n in run.json["nodes"] if n["nan_source"]]
    assert marked == ["sqrt(x^4)"]
    tree = cli("graph", "sqrt(x^4)", "--at", "0", env={"NO_COLOR": "1", "COLUMNS": "200"}).stdout
    assert "sqrt(x^4) = 0  ← autograd's NaN starts here (0·∞)" in tree


def test_a_finite_gradient_has_no_trace(cli):
    run = cli("diff", "sqrt(x^4 + 1)", "--at", "0", "--json")
    assert run.exit_code == 0
    assert not [n for n in run.json["notes"] if n.startswith("autograd's NaN")]


@pytest.mark.parametrize(
    "expression, node, rewrite",
    [
        # x is one leaf of the tree, written twice: ε goes under the root, not
        # after the first x (x*cbrt(x) once became x + 1e-12*cbrt(x)).
        ("x*cbrt(x)", "cbrt(x)", "x*cbrt(x + 1e-12)"),
        ("x^2*cbrt(x)", "cbrt(x)", "x^2*cbrt(x + 1e-12)"),
        ("sin(x)*cbrt(x)", "cbrt(x)", "sin(x)*cbrt(x + 1e-12)"),
        ("x*sqrt(x)", "sqrt(x)", "x*sqrt(x + 1e-12)"),
        ("x*x^0.5", "x^0.5", "x*(x + 1e-12)^0.5"),
    ],
)
def test_the_rewrite_puts_epsilon_inside_the_node_that_blows_up(cli, expression, node, rewrite):
    run = cli("diff", expression, "--at", "0", "--json")
    (note,) = [n for n in run.json["notes"] if n.startswith("autograd's NaN")]
    assert f"at {node};" in note and f"safe form is {rewrite}," in note
    # The rewrite is the function moved by ε inside: at 0.3 it differs from it
    # by far less than a millionth (mpmath, both texts).
    gap = reference.value(rewrite, {"x": 0.3}) - reference.value(expression, {"x": 0.3})
    assert abs(gap) < 1e-9
