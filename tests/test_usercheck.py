"""gradcalc check PATH.py:NAME: the user's own PyTorch code, checked.

Fixtures are in tests/data/user_functions.py; derivatives are checked
against hand-derived formulas (numpy), exit codes and JSON fields exactly."""

import json
import math
import os

import numpy as np
import pytest
from conftest import ROOT, run_subprocess, validate

DATA = ROOT / "tests" / "data" / "user_functions.py"
SOURCE = DATA.read_text().splitlines()
HAND_RTOL = 1e-9  # finite differences (Richardson, float64) against a hand derivative
AUTOGRAD_RTOL = 1e-12  # float64 autograd against a hand derivative


def target(name):
    return f"{DATA}:{name}"


def line_of(text):
    """The 1-based line of the fixture file that holds `text`."""
    return next(i for i, line in enumerate(SOURCE, start=1) if text in line)


@pytest.fixture
def check(cli):
    def run(name, *at, extra=()):
        args = ["check", target(name)]
        for spec in at:
            args += ["--at", spec]
        result = cli(*args, *extra, "--json")
        if result.exit_code in (0, 1, 3):
            validate(result.json, "check.schema.json")
        return result

    return run


CORRECT = [
    ("smooth", "x=[1,2,-0.5],w=[3,-1,0.25]"),
    ("logsumexp", "x=[1,2,3]"),
    ("cross_entropy", "logits=[[1,2,0.5],[0,-1,2]],target=[[0,1,0],[1,0,0]]"),
    ("variance", "x=[1,2,4]"),
    ("elementwise", "x=[0.5,-1,2]"),
    ("matrix", "x=[[1,2],[3,4]],w=[[0.1,0.2],[0.3,-0.4]]"),
    ("cube", "x=[1,-2]"),
    ("product", "x=[1,2],y=[0.5,3]"),
    ("layer", "x=[0.1,0.2,-0.3]"),
    ("float32_code", "x=[1,2]"),
    ("double_where", "x=[-1,4]"),
    ("float32_only", "x=[1,2,3,0.5]"),
]


@pytest.mark.parametrize(("name", "at"), CORRECT)
def test_correct_functions_agree(check, name, at):
    run = check(name, at)
    assert run.exit_code == 0, run.stdout
    document = run.json
    assert document["status"] == "agree" and document["agree"] is True
    assert document["mismatches"] == [] and document["kinks"] == []
    assert all(entry["agree"] for entry in document["gradient"].values())


def test_smooth_matches_the_hand_derivative(check):
    x, w = np.array([1.0, 2.0, -0.5]), np.array([3.0, -1.0, 0.25])
    document = check("smooth", "x=[1,2,-0.5],w=[3,-1,0.25]").json
    hand_x = np.cos(x) * w - 2 * x * np.exp(-(x**2)) / 3
    gradient = document["gradient"]
    np.testing.assert_allclose(gradient["x"]["autograd"], hand_x, rtol=AUTOGRAD_RTOL)
    np.testing.assert_allclose(gradient["x"]["forward"], hand_x, rtol=AUTOGRAD_RTOL)
    np.testing.assert_allclose(gradient["x"]["finite_difference"], hand_x, rtol=HAND_RTOL)
    np.testing.assert_allclose(gradient["w"]["finite_difference"], np.sin(x), rtol=HAND_RTOL)
    assert document["value"] == pytest.approx(
        float(np.sum(np.sin(x) * w) + np.mean(np.exp(-(x**2)))), rel=1e-15
    )
    assert document["methods"]["forward"] == "torch.func.jacfwd"


def test_a_tensor_output_checks_the_whole_jacobian(check):
    x = np.array([0.5, -1.0, 2.0])
    document = check("elementwise", "x=[0.5,-1,2]").json
    hand = np.diag(np.tanh(x) + x / np.cosh(x) ** 2)
    assert document["output_shape"] == [3] and document["jacobian"] == {
        "mode": "full",
        "directions": 0,
    }
    np.testing.assert_allclose(document["gradient"]["x"]["autograd"], hand, atol=1e-15)
    np.testing.assert_allclose(
        document["gradient"]["x"]["finite_difference"], hand, rtol=HAND_RTOL, atol=1e-9
    )


def test_a_large_output_is_checked_along_random_directions(check):
    values = ",".join(str(0.01 * k) for k in range(80))
    document = check("elementwise", f"x=[{values}]").json
    assert document["status"] == "agree"
    assert document["jacobian"] == {"mode": "directions", "directions": 16}
    assert np.array(document["gradient"]["x"]["autograd"]).shape == (16, 80)


WRONG = [
    # name, point, which inputs agree, {(input, element): relative error} of every mismatch
    ("missing_factor", "x=[1,2]", {"x": False}, {("x", 0): 0.5, ("x", 1): 0.5}),
    ("wrong_sign", "x=[1,2]", {"x": False}, {("x", 0): 2.0, ("x", 1): 2.0}),
    ("wrong_input", "x=[1,2],y=[3,4]", {"x": False, "y": True}, {("x", 0): 2 / 3, ("x", 1): 0.5}),
    ("slip", "x=[0.1,0.2,0.3,0.4]", {"x": False}, {("x", 2): 1e-3}),
]


@pytest.mark.parametrize(("name", "at", "agree", "errors"), WRONG)
def test_wrong_backward_passes_disagree(check, name, at, agree, errors):
    run = check(name, at)
    assert run.exit_code == 1
    document = run.json
    assert document["status"] == "disagree"
    assert {k: v["agree"] for k, v in document["gradient"].items()} == agree
    found = {(m["input"], m["element"][0]): m["relative_error"] for m in document["mismatches"]}
    assert found.keys() == errors.keys()
    for key, error in errors.items():
        assert found[key] == pytest.approx(error, rel=1e-6)
    assert {m["method"] for m in document["mismatches"]} == {"autograd"}
    assert (
        document["custom_functions"][0]["name"]
        == {
            "missing_factor": "MissingFactor",
            "wrong_sign": "WrongSign",
            "wrong_input": "WrongInput",
            "slip": "Slip",
        }[name]
    )
    assert document["custom_functions"][0]["line"] == line_of(
        f"class {document['custom_functions'][0]['name']}("
    )


def test_the_slip_is_one_element_only(check):
    document = check("slip", "x=[0.1,0.2,0.3,0.4]").json
    assert document["mismatch_count"] == 1
    first = document["mismatches"][0]
    assert first["value"] == pytest.approx(1.001 * math.exp(0.3), rel=1e-15)
    assert first["finite_difference"] == pytest.approx(math.exp(0.3), rel=HAND_RTOL)


KINKS = [
    ("maximum", "x=[1,2],y=[1,0]", ("x", [0], 0.0, 1.0)),
    ("relu", "x=[0,1]", ("x", [0], 0.0, 1.0)),
    ("absolute", "x=[0,1]", ("x", [0], -1.0, 1.0)),
    ("clamp", "x=[1,0]", ("x", [0], 1.0, 0.0)),
]


@pytest.mark.parametrize(("name", "at", "kink"), KINKS)
def test_kinks_are_not_differentiable(check, name, at, kink):
    run = check(name, at)
    assert run.exit_code == 1
    document = run.json
    assert document["status"] == "not_differentiable" and document["differentiable"] is False
    first = document["kinks"][0]
    assert (first["input"], first["element"]) == kink[:2]
    assert first["left"] == pytest.approx(kink[2], abs=1e-6)
    assert first["right"] == pytest.approx(kink[3], abs=1e-6)
    # Only the entry at the corner is one: the others are smooth.
    assert all(k["element"] == [0] for k in document["kinks"])


def test_a_tie_of_maximum_names_both_inputs(check):
    document = check("maximum", "x=[1,2],y=[1,0]").json
    assert sorted(k["input"] for k in document["kinks"]) == ["x", "y"]


@pytest.mark.parametrize(
    ("name", "at", "status", "text"),
    [
        ("where_trap", "x=[-1,4]", "disagree", "torch.sqrt(x)"),
        ("norm", "x=[0,0]", "not_differentiable", "torch.sqrt((x**2).sum())"),
    ],
)
def test_nan_gradients_are_traced_to_the_line(check, name, at, status, text):
    run = check(name, at)
    assert run.exit_code == 1
    trace = run.json["nan_trace"]
    assert run.json["status"] == status
    assert trace["operation"] == "sqrt" and trace["node"] == "SqrtBackward0"
    assert trace["file"] == str(DATA) and trace["line"] == line_of(text)
    assert text in trace["text"]


def test_the_where_trap_says_why_and_the_rewrite(check):
    trace = check("where_trap", "x=[-1,4]").json["nan_trace"]
    assert trace["element"] == [0] and trace["incoming"] == 0.0 and trace["input_value"] == -1.0
    assert "branch not taken" in trace["why"]
    assert "double where" in trace["rewrite"]


def test_float32_code_is_judged_in_float64_where_it_can_be(check):
    document = check("float32_code", "x=[1,2]").json
    assert (document["dtype"], document["judged_in"]) == ("float32", "float64")
    assert document["precision"]["float32_within_tolerance"] is True
    x = np.array([1.0, 2.0])
    hand = np.exp(x / 3) * (np.cos(x) + np.sin(x) / 3)
    np.testing.assert_allclose(document["gradient"]["x"]["autograd_float64"], hand, rtol=1e-12)
    np.testing.assert_allclose(document["gradient"]["x"]["autograd"], hand, rtol=1e-6)


def test_a_layer_of_float32_weights_runs_in_float32(check):
    document = check("layer", "x=[0.1,0.2,-0.3]").json
    assert document["dtype"] == "float32" and document["status"] == "agree"


@pytest.mark.parametrize(
    ("spec", "at", "kind", "words"),
    [
        ("tests/data/nowhere.py:f", "x=1", "usage", "no such file"),
        (f"{DATA}:nowhere", "x=1", "usage", "has no 'nowhere'"),
        (f"{DATA}:NOT_CALLABLE", "x=1", "usage", "not a function"),
        (f"{DATA}:smooth", "x=[1,2]", "point", "no value for parameter w"),
        (f"{DATA}:smooth", "x=1,w=2,z=3", "point", "'z' is not a parameter"),
        (f"{DATA}:returns_number", "x=1", "usage", "returned a float, not a tensor"),
        ("no_such_package.module:f", "x=1", "usage", "no module named"),
        (f"{DATA}", "x=1", "usage", "expected PATH.py:NAME"),
    ],
)
def test_bad_use_exits_2_with_one_line(cli, spec, at, kind, words):
    run = cli("check", spec, "--at", at, "--json")
    assert run.exit_code == 2
    validate(run.json, "error.schema.json")
    assert run.json["error"]["kind"] == kind
    assert words in run.json["error"]["message"]


def test_an_exception_shows_the_users_frames_only(cli):
    run = cli("check", target("raises"), "--at", "x=[1,2]")
    assert run.exit_code == 2
    first, *frames = run.stderr.splitlines()
    assert first.startswith("gradcalc: error: calling the function: ")
    assert f"user_functions.py:{line_of('torch.linalg.inv(x)')}" in first
    text = "\n".join(frames)
    assert "in raises" in text and "in helper" in text
    assert "gradcalc/" not in text and "torch/" not in text


def test_an_exception_under_json_is_a_valid_error_document(cli):
    run = cli("check", target("raises"), "--at", "x=[1,2]", "--json")
    assert run.exit_code == 2
    assert run.json["error"]["kind"] == "user_code"
    validate(run.json, "error.schema.json")


def test_what_the_users_code_prints_leaves_the_json_document_whole(cli, tmp_path):
    source = tmp_path / "chatty.py"
    source.write_text(
        "import torch\nprint('hello from import')\n\n"
        "def f(x):\n    print('in f')\n    return (x**2).sum()\n"
    )
    run = cli("check", f"{source}:f", "--at", "x=[1,2]", "--json", "--no-symbolic")
    assert run.exit_code == 0
    document = json.loads(run.stdout)  # stdout is the document alone
    validate(document, "check.schema.json")
    assert document["gradient"]["x"]["autograd"] == [2.0, 4.0]  # 2x by hand
    assert "hello from import" in run.stderr and "in f" in run.stderr


def test_a_shape_that_contradicts_the_point_is_exit_2(cli):
    args = ["--at", "x=[1,2],w=[3,4]", "--random", "2", "--shape", "x=3"]
    run = cli("check", target("smooth"), *args, "--json")
    assert run.exit_code == 2
    assert run.json["error"]["kind"] == "usage"
    assert "gives x the shape (3,), but --at gives it (2,)" in run.stderr


def test_package_module_name(cli, tmp_path, monkeypatch):
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "ops.py").write_text("import torch\n\ndef square(x):\n    return (x * x).sum()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    run = cli("check", "mypkg.ops:square", "--at", "x=[1.5,-2]", "--json")
    assert run.exit_code == 0
    np.testing.assert_allclose(
        run.json["gradient"]["x"]["finite_difference"], [3.0, -4.0], rtol=HAND_RTOL
    )


def test_random_points_report_the_worst(check):
    run = check("wrong_sign", extra=("--random", "5", "--seed", "3", "--shape", "x=2,2"))
    assert run.exit_code == 1
    document = run.json
    assert document["random"]["points"] == 5 and document["random"]["seed"] == 3
    assert document["random"]["statuses"]["disagree"] == 5
    assert np.array(document["point"]["x"]).shape == (2, 2)
    again = check("wrong_sign", extra=("--random", "5", "--seed", "3", "--shape", "x=2,2"))
    assert again.json == document


def test_random_points_of_a_correct_function_agree(check):
    run = check("smooth", extra=("--random", "4", "--shape", "x=3", "--shape", "w=3"))
    assert run.exit_code == 0 and run.json["random"]["statuses"]["agree"] == 4


def test_the_api_result_is_the_cli_document(cli):
    import sys

    import gradcalc

    sys.path.insert(0, str(DATA.parent))
    try:
        import user_functions
    finally:
        sys.path.remove(str(DATA.parent))
    result = gradcalc.check(user_functions.slip, x=[0.1, 0.2, 0.3, 0.4])
    document = json.loads(json.dumps(result.to_dict()))
    run = cli("check", target("slip"), "--at", "x=[0.1,0.2,0.3,0.4]", "--json")
    expected = run.json
    for key in ("target", "function"):
        document.pop(key), expected.pop(key)
    document["custom_functions"][0].pop("file"), expected["custom_functions"][0].pop("file")
    assert document.keys() == expected.keys()
    assert document["mismatches"] == expected["mismatches"]
    assert document["status"] == "disagree"
    assert "Slip" in result._repr_html_()


def test_assert_gradients_raises_with_the_table():
    import sys

    from gradcalc.testing import assert_gradients

    sys.path.insert(0, str(DATA.parent))
    try:
        import user_functions
    finally:
        sys.path.remove(str(DATA.parent))
    assert_gradients(user_functions.product, x=[1.0, 2.0], y=[0.5, 3.0])
    with pytest.raises(AssertionError) as raised:
        assert_gradients(user_functions.wrong_input, x=[1.0, 2.0], y=[3.0, 4.0])
    message = str(raised.value)
    assert "input" in message and "relative error" in message
    lines = message.splitlines()
    assert lines[2].split()[:4] == ["x", "x[0]", "1", "3"]


def test_help_says_it_runs_the_file(cli):
    run = cli("check", "--help")
    assert run.exit_code == 0
    assert "imports and runs PATH.py" in " ".join(run.stdout.split())


def test_a_real_process(tmp_path):
    result = run_subprocess("check", target("wrong_sign"), "--at", "x=[1,2]", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["status"] == "disagree"
    assert os.path.exists(DATA)


def test_a_custom_function_is_checked_alone(check):
    document = check("wrong_input", "x=[1,2],y=[3,4]").json
    alone = document["custom_functions"][0]["check"]
    assert alone["status"] == "disagree" and alone["inputs"] == {"x": False, "y": True}
    assert document["reason"].endswith("WrongInput.backward is wrong for its input x")
    assert document["methods"]["forward"] is None
    assert document["methods"]["forward_unsupported"].startswith("RuntimeError: ")


def test_a_correct_custom_function_is_not_checked_again(check):
    document = check("product", "x=[1,2],y=[0.5,3]").json
    assert document["custom_functions"] == [
        {"name": "Product", "file": str(DATA), "line": line_of("class Product(")}
    ]


def test_a_traced_function_gets_sympys_derivative(check):
    x, w = np.array([1.0, 2.0, -0.5]), np.array([3.0, -1.0, 0.25])
    document = check("smooth", "x=[1,2,-0.5],w=[3,-1,0.25]").json
    symbolic = document["symbolic"]
    assert symbolic["formula"] == "(sum((sin(x)*w)) + mean(exp((-(x)**((2.0))))))"
    assert symbolic["agree"] is True and symbolic["derivatives"]["w"][0] == "sin(x[0])"
    hand_x = np.cos(x) * w - 2 * x * np.exp(-(x**2)) / 3
    np.testing.assert_allclose(document["gradient"]["x"]["sympy"], hand_x, rtol=1e-14)
    assert document["reason"] == "SymPy, autograd, forward mode and finite differences agree"


def test_an_operation_outside_the_table_stops_the_tracing(check):
    document = check("logsumexp", "x=[1,2,3]").json
    assert document["symbolic"]["formula"] is None
    assert "logsumexp" in document["symbolic"]["reason"]
    assert "sympy" not in document["gradient"]["x"]


def test_no_symbolic(check):
    document = check("smooth", "x=[1,2],w=[3,4]", extra=("--no-symbolic",)).json
    assert document["symbolic"] is None and "sympy" not in document["gradient"]["x"]


def test_a_module_is_called_by_its_forwards_parameters(check):
    document = check("MODULE", "input=[0.5,-1,2]").json
    assert (document["status"], document["dtype"], document["output_shape"]) == (
        "agree",
        "float32",
        [2],
    )


def test_a_value_that_is_not_finite_is_undefined(check):
    run = check("log_of", "x=[-1,2]")
    assert run.exit_code == 3
    assert run.json["status"] == "undefined"
    assert run.json["reason"] == "the function's value is not finite at the point"


def test_the_time_budget_applies():
    result = run_subprocess("check", target("endless"), "--at", "x=1", "--timeout", "1")
    assert result.returncode == 3
    assert "CPU time" in result.stderr


def test_float32_code_that_cannot_be_widened_is_judged_in_float32(check):
    document = check("float32_only", "x=[1,2,3,0.5]").json
    assert (document["dtype"], document["judged_in"]) == ("float32", "float32")
    assert document["precision"] is None and "autograd_float64" not in document["gradient"]["x"]
    assert document["tolerance"]["rtol"] == 1e-3
