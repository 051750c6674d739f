"""The Python API: results whose to_dict() is the CLI's --json document,
that print through Rich and display in Jupyter."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import HANG_GUARD_SECONDS

import gradcalc


def _cli_json(cli, *args):
    return json.loads(cli(*args, "--json").stdout)


def test_diff_to_dict_is_the_cli_document(cli):
    result = gradcalc.diff("sin(x**2)", at={"x": 3})
    assert result.to_dict() == _cli_json(cli, "diff", "sin(x**2)", "--at", "3")
    assert result.status == "agree"  # the library result's own fields
    assert result.to_dict()["gradient"]["x"]["sympy"] == pytest.approx(-5.466781571308062)


def test_graph_perceptron_and_accumulate_to_dict_are_the_cli_documents(cli):
    assert gradcalc.graph("x*x", at={"x": 3}).to_dict() == _cli_json(
        cli, "graph", "x*x", "--at", "3"
    )
    assert gradcalc.perceptron(x=6.7, y=0).to_dict() == _cli_json(
        cli, "perceptron", "--x", "6.7", "--y", "0"
    )
    assert gradcalc.accumulate("x**2", at={"x": 2}, passes=2).to_dict() == _cli_json(
        cli, "accumulate", "x**2", "--at", "2", "--passes", "2"
    )


def test_jupyter_display_has_a_table_and_latex():
    bundle = gradcalc.diff("sin(x**2)", at={"x": 3})._repr_mimebundle_()
    assert (
        bundle["text/latex"] == r"$\frac{\partial f}{\partial x} = 2 x \cos{\left(x^{2} \right)}$"
    )
    assert "<table>" in bundle["text/html"] and "-5.466781571" in bundle["text/html"]
    assert "SymPy, autograd and finite differences agree" in bundle["text/plain"]


def test_rich_prints_the_same_view_as_the_cli(cli):
    from rich.console import Console

    console = Console(record=True, width=100, force_terminal=False)
    console.print(gradcalc.diff("sin(x**2)", at={"x": 3}))
    text = console.export_text()
    assert (
        text
        == cli("diff", "sin(x**2)", "--at", "3", env={"NO_COLOR": "1", "COLUMNS": "100"}).stdout
    )


def test_the_package_docstring_example_runs():
    result = gradcalc.diff("sin(x**2)", at={"x": 3})
    assert result.status == "agree"
    assert gradcalc.graph("x*x", at={"x": 3}).to_dict()["nodes"][0]["grad_fn"] == "MulBackward0"
    assert gradcalc.perceptron(x=6.7, y=0).first.manual_w == [6.691763029237442]


@pytest.mark.parametrize(
    "at, library, flag",
    [
        ("x=1", "no value for y: add at y=...", "no value for y: add --at y=..."),
        (
            "3",
            "at '3' gives no name, but the expression has variables x, y; write at name=value,...",
            None,
        ),
        ("x=1,x=2,y=1", "at: x is given twice", "--at: x is given twice"),
        ("x=1,y=nan", "at y: 'nan' is not a finite number", "--at y: 'nan' is not a finite number"),
    ],
)
def test_point_errors_name_the_parameter_and_the_cli_its_flag(cli, at, library, flag):
    with pytest.raises(gradcalc.GradcalcError) as error:
        gradcalc.diff("x*y", at=at)
    assert str(error.value) == library
    run = cli("diff", "x*y", "--at", at, "--no-autograd")
    expected = flag or library.replace("at ", "--at ")
    assert run.exit_code == 2 and run.stderr == f"gradcalc: error: {expected}\n"


# The point, in every form the API takes: each resolves once to the same
# numbers as the CLI's --at text (an independent spelling of the same point).
SIN_X2_AT_3 = -5.466781571308062  # 6*cos(9), as mpmath gives it to float64
POINT_TOLERANCE = 1e-15


@pytest.mark.parametrize("at", [3, 3.0, {"x": 3}, "x=3", "3", ["x=3"], {"x": np.float64(3)}])
def test_every_form_of_a_point(at):
    document = gradcalc.diff("sin(x**2)", at=at).to_dict()
    assert document["point"] == {"x": 3.0}
    assert document["gradient"]["x"]["sympy"] == pytest.approx(SIN_X2_AT_3, rel=POINT_TOLERANCE)


@pytest.mark.parametrize("vector", [[1, 2, 3], (1, 2, 3), np.array([1.0, 2.0, 3.0])])
def test_a_vector_point_from_a_list_or_an_array(vector):
    document = gradcalc.diff("mean(x**2)", at={"x": vector}).to_dict()
    assert document["point"] == {"x": [1.0, 2.0, 3.0]}
    assert document["gradient"]["x"]["sympy"] == pytest.approx([2 / 3, 4 / 3, 2.0])


def test_a_dict_point_is_not_turned_into_text():
    """A float that text would round (0.1 + 0.2) reaches the engines exactly."""
    value = 0.1 + 0.2
    document = gradcalc.diff("x**2", at={"x": value}).to_dict()
    assert document["point"]["x"] == value
    assert document["gradient"]["x"]["autograd"] == 2 * value


@pytest.mark.parametrize("at", [object(), 3j, True, b"x=3", {"x": "a"}, {"x": [[1, 2]]}])
def test_a_wrong_type_names_at_and_what_it_accepts(at):
    with pytest.raises((TypeError, gradcalc.GradcalcError)) as raised:
        gradcalc.diff("sin(x)", at=at)
    assert "at" in str(raised.value)
    if isinstance(raised.value, TypeError) and not isinstance(at, dict):
        assert "a dict of numbers" in str(raised.value)


def test_a_bare_number_for_several_variables_is_refused():
    with pytest.raises(gradcalc.GradcalcError, match="gives no name"):
        gradcalc.diff("x*y", at=3)


def test_graph_and_accumulate_take_the_same_points():
    assert gradcalc.graph("x*y", at={"x": 2, "y": 3}).to_dict()["point"] == {"x": 2.0, "y": 3.0}
    assert gradcalc.accumulate("x**2", at=2).to_dict()["point"] == {"x": 2.0}


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ({"x": "3"}, "not str"),  # text is not converted to a number
        ({"x": True}, "not bool"),
        ({"x": [1, "a"]}, "not list of text"),
        ({"x": None}, "not NoneType"),
        ([3], "a vector goes in a dict"),
    ],
)
def test_values_that_are_not_numbers_are_refused_not_converted(at, words):
    with pytest.raises(TypeError, match="at") as raised:
        gradcalc.diff("sum(x)", at=at)
    assert words in str(raised.value)


def test_a_zero_dimensional_array_is_a_number():
    document = gradcalc.diff("sin(x**2)", at=np.array(3.0)).to_dict()
    assert document["gradient"]["x"]["sympy"] == pytest.approx(SIN_X2_AT_3, rel=POINT_TOLERANCE)


def test_an_explanation_reads_its_point_as_diff_does():
    """explain's exact value takes the same point forms, and names a wrong one."""
    from gradcalc import explain
    from gradcalc.errors import PointError

    assert explain.explain("x**2", at={"x": 0}).point == {"x": 0}  # 0 is a point, not none
    with pytest.raises(PointError, match="'y' is not a variable"):
        explain.explain("x**2", at={"y": 3})


def test_a_point_is_built_once_on_the_command_line(monkeypatch):
    """diff, graph and diff --steps resolve --at once (before torch is imported);
    the library takes that Point as it is."""
    from typer.testing import CliRunner

    from gradcalc import atpoint as points
    from gradcalc.cli import app

    calls = []
    resolve = points.resolve
    monkeypatch.setattr(points, "resolve", lambda *a: calls.append(a) or resolve(*a))
    for args in (
        ["diff", "sin(x)", "--at", "3"],
        ["diff", "sin(x)", "--at", "3", "--steps"],
        ["graph", "x*x", "--at", "3"],
        ["accumulate", "x*x", "--at", "3"],
    ):
        calls.clear()
        result = CliRunner().invoke(app, args, env={"NO_COLOR": "1"})
        assert result.exit_code == 0, result.output
        assert len(calls) == 1, args


def test_printing_a_result_shows_the_table_a_terminal_shows(cli):
    shown = str(gradcalc.diff("sin(x**2)", at=3))
    run = cli("diff", "sin(x**2)", "--at", "3", env={"NO_COLOR": "1", "COLUMNS": "100"})
    assert [line.rstrip() for line in shown.splitlines()] == run.stdout.splitlines()
    assert repr(gradcalc.diff("sin(x**2)", at=3)) == "<gradcalc Diff agree>"


def test_dir_lists_the_public_api():
    public = [name for name in dir(gradcalc) if not name.startswith("_")]
    assert public == sorted(n for n in gradcalc.__all__ if not n.startswith("_"))
    assert {"diff", "graph", "perceptron", "accumulate"} <= set(public)


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ({"x": [[1, 2], [3, 4]]}, "vectors are one-dimensional"),  # never flattened
        ({"x=5,y": 2}, "'x=5,y' is not a variable"),  # a key is a name, never --at text
    ],
)
def test_a_dict_point_is_names_and_vectors_only(at, words):
    with pytest.raises(gradcalc.GradcalcError, match=words):
        gradcalc.diff("sum(x*y)", at=at)


# --- the budget: the CLI's, on by default ------------------------------------

HARD = "sin(" * 399 + "x" + ")" * 399  # order 4: minutes of SymPy (field report)


def test_the_api_has_the_clis_budget_on_by_default(monkeypatch):
    from conftest import children_cpu_seconds

    from gradcalc import api, budget, budgeted

    assert api.DEFAULT_TIMEOUT == budget.DEFAULT_SECONDS  # the CLI's --timeout default
    gradcalc.diff("x", at=1)  # the imports, in this process, before the clock
    before = children_cpu_seconds()
    with pytest.raises(gradcalc.BudgetError) as raised:
        gradcalc.diff(HARD, at={"x": 0.5}, order=4, timeout=0.5)
    spent = children_cpu_seconds() - before
    assert str(raised.value) == (
        "computing used more than 0.5 s of CPU time (the time budget; raise it with "
        "timeout=SECONDS, None for none)"
    )
    assert raised.value.kind == "budget" and raised.value.exit_code == 3
    # Ended by the budget the program enforces: the child spent its 0.5 s of
    # CPU, and not much more (the watch looks every 20 ms), however loaded the
    # machine (the wall clock, which load stretches, is not asserted on).
    assert 0.5 <= spent < 0.5 + 1.5
    # The default is a budget too: the call is made in a budgeted child.
    calls = []
    monkeypatch.setattr(budgeted, "call", lambda work, seconds, *a, **k: calls.append(seconds))
    gradcalc.diff("x", at=1)
    assert calls == [budget.DEFAULT_SECONDS]


def test_a_budgeted_call_answers_as_an_unbudgeted_one():
    budgeted = gradcalc.diff("sin(x**2)", at={"x": 3})
    assert budgeted.to_dict() == gradcalc.diff("sin(x**2)", at={"x": 3}, timeout=None).to_dict()
    # 2x cos(x^2) at 3, by hand.
    assert budgeted.to_dict()["gradient"]["x"]["sympy"] == pytest.approx(6 * np.cos(9), rel=1e-14)
    for timeout in (None, 5):
        with pytest.raises(gradcalc.GradcalcError) as raised:
            gradcalc.diff("x+", at=1, timeout=timeout)
        assert (raised.value.kind, raised.value.column) == ("parse", 3)  # its fields come back
        assert str(raised.value) == "expression ends too early at column 3"
        with pytest.raises(TypeError, match=r"^at must be a number .*; not object$"):
            gradcalc.diff("x", at=object(), timeout=timeout)


@pytest.mark.parametrize(
    "timeout, error, words",
    [
        (0, ValueError, "timeout must be a positive number of seconds, or None, not 0"),
        (-1.0, ValueError, "timeout must be a positive number of seconds, or None, not -1.0"),
        (float("inf"), ValueError, "timeout must be a positive number of seconds"),
        ("5", TypeError, "timeout takes seconds (a number) or None, not '5'"),
        (True, TypeError, "timeout takes seconds (a number) or None, not True"),
    ],
)
def test_a_timeout_that_is_not_seconds_is_refused(timeout, error, words):
    with pytest.raises(error) as raised:
        gradcalc.diff("x", at=1, timeout=timeout)
    assert str(raised.value).startswith(words)


def test_the_deepest_expression_comes_back_from_the_budgeted_child():
    """A 399-deep sin(...) (the parser's limit is 400) was answered in the
    budgeted child, then its pickle ran past Python's default recursion limit:
    a raw RecursionError. A real process, as this suite raises the limit
    (conftest); the caller's limit is as it was after the call."""
    script = (
        "import sys, gradcalc\n"
        "r = gradcalc.diff('sin(' * 399 + 'x' + ')' * 399, at=0.5)\n"
        "print(r.status, r.value == r.value, sys.getrecursionlimit())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "agree True 1000\n"


@pytest.mark.parametrize("order", [1.5, "2", True, 2.0])
def test_an_order_that_is_not_a_whole_number_is_a_usage_error(order):
    from gradcalc.errors import UsageError

    with pytest.raises(
        UsageError, match=rf"^order must be a whole number, not {re.escape(repr(order))}$"
    ):
        gradcalc.diff("x**3", at={"x": 1.0}, order=order)
    with pytest.raises(UsageError, match=r"^order must be a whole number"):
        gradcalc.points("x**3", {"x": np.array([1.0])}, order=order)


def test_a_numpy_integer_order_is_an_order():
    result = gradcalc.diff("x**3", at={"x": 1.0}, order=np.int64(2))
    assert result.partials[0].sympy == 6.0  # d2/dx2 x**3 = 6x, exactly
