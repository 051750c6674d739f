"""The notebook's perceptron, gradient accumulation and detach, with its own numbers."""

import itertools

import pytest
from conftest import run_subprocess, validate

from gradcalc.accumulation import accumulate
from gradcalc.errors import UsageError
from gradcalc.neuron import train

FLOAT64_EXACT = 1e-9  # the bar for float64 figures
# The float32 figures the autograd notebook gradcalc grew from printed.
NOTEBOOK_MANUAL_DW = 6.691762447357178
NOTEBOOK_MANUAL_DB = 0.998770534992218
NOTEBOOK_PRINTED = {"loss": 6.7012, "w.grad": 6.6918, "b.grad": 0.9988}


def test_perceptron_float64_figures():
    neuron = train(6.7, 0)
    first = neuron.first
    assert first.loss == pytest.approx(6.701230154951767, abs=FLOAT64_EXACT)
    assert first.manual_w[0] == pytest.approx(6.691763029237442, abs=FLOAT64_EXACT)
    assert first.autograd_w[0] == pytest.approx(6.691763029237442, abs=FLOAT64_EXACT)
    assert first.manual_b == pytest.approx(0.9987706013787226, abs=FLOAT64_EXACT)
    assert first.autograd_b == pytest.approx(0.9987706013787226, abs=FLOAT64_EXACT)
    assert neuron.agree


def test_perceptron_float32_reproduces_the_notebook():
    first = train(6.7, 0, dtype="float32").first
    assert first.manual_w[0] == NOTEBOOK_MANUAL_DW  # printed as a Python float: exact
    assert first.manual_b == NOTEBOOK_MANUAL_DB
    assert round(first.loss, 4) == NOTEBOOK_PRINTED["loss"]
    assert round(first.autograd_w[0], 4) == NOTEBOOK_PRINTED["w.grad"]
    assert round(first.autograd_b, 4) == NOTEBOOK_PRINTED["b.grad"]
    assert round(first.y_hat, 4) == 0.9988  # tensor(0.9988, grad_fn=<SigmoidBackward0>)


def test_several_features_give_prediction_error_times_x():
    x, w, b, y = [1.0, 2.0, 3.0], [0.1, 0.2, 0.3], 0.25, 1.0
    neuron = train(x, y, w=w, b=b)
    import math

    z = sum(wi * xi for wi, xi in zip(w, x)) + b
    error = 1 / (1 + math.exp(-z)) - y  # (ŷ - y)
    for got_manual, got_auto, xi in zip(neuron.first.manual_w, neuron.first.autograd_w, x):
        assert got_manual == pytest.approx(error * xi, rel=1e-12)
        assert got_auto == pytest.approx(error * xi, rel=1e-12)
    assert neuron.first.autograd_b == pytest.approx(error, rel=1e-12)


def test_training_loss_falls_and_trajectories_stay_equal():
    neuron = train(6.7, 0, steps=20, lr=0.1)
    losses = [step.autograd["loss"] for step in neuron.history]
    assert len(losses) == 21
    assert all(later < earlier for earlier, later in itertools.pairwise(losses))
    for step in neuron.history:
        assert step.manual["loss"] == pytest.approx(step.autograd["loss"], rel=1e-12)
        assert step.manual["w"] == pytest.approx(step.autograd["w"], rel=1e-12)
    assert neuron.trajectories_agree


def test_mse_loss():
    first = train(2.0, 0.5, w=[0.3], b=0.1, loss="mse").first
    import math

    y_hat = 1 / (1 + math.exp(-0.7))
    assert first.loss == pytest.approx((y_hat - 0.5) ** 2, rel=1e-14)
    assert first.autograd_w[0] == pytest.approx(
        2 * (y_hat - 0.5) * y_hat * (1 - y_hat) * 2.0, rel=1e-12
    )


def test_active_clamp_is_explained():
    neuron = train(100.0, 0)
    assert not neuron.agree and neuron.first.clamped
    assert neuron.first.autograd_b == 0.0


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(x=1.0, y=2.0), "^y 2 is not a probability: .* \\(use loss mse for other targets\\)$"),
        (dict(x=[1.0, 2.0], y=1.0, w=[1.0]), "^w has 1 weight but x has 2 features"),
        (dict(x=1.0, y=1.0, loss="hinge"), "^loss must be one of bce, mse, not 'hinge'$"),
        (dict(x=1.0, y=1.0, steps=-1), "^steps must be between 0 and "),
        (
            dict(x=1.0, y=1.0, dtype="float16"),
            "^dtype must be one of float64, float32, not 'float16'$",
        ),
    ],
)
def test_perceptron_input_errors_name_the_parameters(kwargs, words):
    # The library names its parameters; the CLI spells them as flags (below).
    with pytest.raises(UsageError, match=words):
        train(**kwargs)


@pytest.mark.parametrize(
    "args, line",
    [
        (["--x", "1", "--y", "2"], "--y 2 is not a probability"),
        (["--x", "1", "--y", "2"], "(use --loss mse for other targets)"),
        (["--x", "1,2", "--w", "1", "--y", "1"], "--w has 1 weight but --x has 2 features"),
        (["--x", "1", "--y", "1", "--epsilon", "0.7"], "--epsilon must be between 0 and 0.5"),
    ],
)
def test_perceptron_cli_spells_the_parameters_as_flags(cli, args, line):
    run = cli("perceptron", *args)
    assert run.exit_code == 2 and line in run.stderr and run.stderr.count("\n") == 1


def test_perceptron_cli_json(cli):
    run = cli("perceptron", "--x", "6.7", "--y", "0", "--json")
    assert run.exit_code == 0
    document = run.json
    validate(document, "perceptron.schema.json")
    assert document["loss"] == pytest.approx(6.701230154951767, abs=FLOAT64_EXACT)
    assert document["gradients"]["w"]["manual"] == pytest.approx(
        6.691763029237442, abs=FLOAT64_EXACT
    )
    assert document["gradients"]["b"]["autograd"] == pytest.approx(
        0.9987706013787226, abs=FLOAT64_EXACT
    )
    assert document["agree"] is True


def test_perceptron_cli_vector_and_history(cli):
    run = cli(
        "perceptron", "--x", "1,2,3", "--w", "0.1,0.2,0.3", "--y", "1", "--steps", "3", "--json"
    )
    document = run.json
    validate(document, "perceptron.schema.json")
    assert len(document["gradients"]["w"]["manual"]) == 3
    assert [h["step"] for h in document["history"]] == [0, 1, 2, 3]
    assert set(document["history"][1]) >= {"loss", "w", "b"}


def test_perceptron_cli_bad_label_exits_2(cli):
    run = cli("perceptron", "--x", "1", "--y", "3", "--json")
    assert run.exit_code == 2
    validate(run.json, "error.schema.json")


def test_perceptron_table_shows_the_notebooks_chain(cli):
    run = cli("perceptron", "--x", "6.7", "--y", "0", "--epochs", "3", "--digits", "17")
    assert run.exit_code == 0
    for words in (
        "dL/dŷ",
        "(ŷ - y)/(ŷ(1 - ŷ))",
        "6.691763029237442",
        "0.9987706013787226",
        "gradient descent",
    ):
        assert words in run.stdout


def test_accumulation_without_and_with_zeroing():
    assert [g["x"] for g in accumulate("x**2", ["2"], 3).grads] == [4.0, 8.0, 12.0]
    assert [g["x"] for g in accumulate("x**2", ["2"], 3, zero_grad=True).grads] == [4.0, 4.0, 4.0]


def test_accumulate_cli_json(cli):
    run = cli("accumulate", "x**2", "--at", "2", "--passes", "3", "--json")
    assert run.exit_code == 0
    validate(run.json, "accumulate.schema.json")
    assert run.json["grads"] == [4.0, 8.0, 12.0]
    zeroed = cli("accumulate", "x**2", "--at", "2", "--passes", "3", "--zero-grad", "--json")
    assert zeroed.json["grads"] == [4.0, 4.0, 4.0]


@pytest.mark.parametrize(
    ("expression", "at", "gradient"),
    [
        ("[x, x**2]", "3", 7.0),  # d/dx (x + x**2) = 1 + 2x, by hand
        ("[x*y, y]", "x=2,y=5", {"x": 5.0, "y": 3.0}),  # d(xy + y) = (y, x + 1)
    ],
)
def test_accumulating_a_vector_valued_f_says_it_sums_its_elements(cli, expression, at, gradient):
    """backward() on a vector needs a starting gradient: accumulate, like
    diff past the first order, starts from the sum of the elements, and says
    so (it once said nothing)."""
    run = cli("accumulate", expression, "--at", at, "--passes", "2", "--json")
    assert run.exit_code == 0
    validate(run.json, "accumulate.schema.json")
    by_variable = gradient if isinstance(gradient, dict) else {"x": gradient}
    assert run.json["grads_by_variable"] == {n: [g, 2 * g] for n, g in by_variable.items()}
    note = (
        "the expression is vector-valued; backward() starts from the sum of its elements, "
        "as torch's y.backward(torch.ones_like(y))"
    )
    assert run.json["notes"] == [note]
    text = cli("accumulate", expression, "--at", at, env={"NO_COLOR": "1", "COLUMNS": "300"})
    assert f"note: {note}" in text.stdout
    assert cli("accumulate", "x**2", "--at", "3", "--json").json["notes"] == []


def test_accumulate_several_variables(cli):
    run = cli("accumulate", "x*y", "--at", "x=1,y=2", "--passes", "2", "--json")
    validate(run.json, "accumulate.schema.json")
    assert run.json["grads_by_variable"] == {"x": [2.0, 4.0], "y": [1.0, 2.0]}


def test_accumulate_explains_why(cli):
    run = cli("accumulate", "x**2", "--at", "2", "--passes", "3")
    assert "adds into .grad" in run.stdout


def test_detach_gives_18_in_all_three_methods(cli):
    gradient = cli("diff", "x**2*detach(x)", "--at", "3", "--json").json["gradient"]["x"]
    assert gradient["sympy"] == 18.0 and gradient["autograd"] == 18.0
    assert gradient["finite_difference"] == pytest.approx(18.0, rel=1e-9)


def test_integer_inputs_are_floats_everywhere(cli):
    assert cli("perceptron", "--x", "7", "--y", "0", "--w", "1", "--b", "0").exit_code == 0
    assert cli("accumulate", "x**2", "--at", "3", "--passes", "1", "--json").json["grads"] == [6.0]


def test_perceptron_subprocess():
    process = run_subprocess("perceptron", "--x", "6.7", "--y", "0", "--dtype", "float32", "--json")
    assert process.returncode == 0
    import json

    document = json.loads(process.stdout)
    assert document["gradients"]["w"]["manual"] == NOTEBOOK_MANUAL_DW


@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--lr", "nan", "--epochs", "2"], "--lr must be a finite number, not nan"),
        (["--lr", "inf"], "--lr must be a finite number, not inf"),
        (["--b", "1,2"], "--b takes one number, not 2"),
        (["--y", "0,1"], "--y takes one number, not 2"),
        (["--epochs", "100001"], "--epochs must be between 0 and 100,000, not 100,001"),
    ],
)
def test_perceptron_refuses_what_it_cannot_take_with_exit_2(arguments, words, cli):
    run = cli(
        "perceptron", "--x", "1", *(["--y", "0"] if "--y" not in arguments else []), *arguments
    )
    assert run.exit_code == 2 and words in run.stderr, run.stderr


def test_training_that_parts_says_where_and_exits_1(cli):
    from gradcalc.neuron import MAX_EPOCHS

    shown = cli("perceptron", "--help").stdout.replace("│", " ")  # the words, not the box
    assert f"(at most {MAX_EPOCHS:,})" in " ".join(shown.split())
    # lr 1e300: the manual updates overflow to nan at epoch 2, autograd's loss
    # is clamped at epsilon: the first pass agrees, training does not.
    run = cli("perceptron", "--x", "1", "--y", "0", "--lr", "1e300", "--epochs", "3", "--json")
    assert run.exit_code == 1
    assert run.json["agree"] is False and run.json["trajectories_agree"] is False
    assert "on the first pass; training parts from epoch " in run.json["reason"]


def test_accumulating_a_gradient_that_is_not_finite_says_what_diff_says(cli):
    # sqrt(x) at 0: the derivative is infinite: undefined, exit 3, as diff.
    run = cli("accumulate", "sqrt(x)", "--at", "0", "--json")
    assert run.exit_code == 3
    assert run.json["error"]["kind"] == "domain"
    assert "along x is inf at this point" in run.json["error"]["message"]
    # sqrt(x**4) at 0: the derivative is 0 and autograd's NaN is its own:
    # disagree, exit 1, as diff (tests/test_verdict_classes.py).
    run = cli("accumulate", "sqrt(x**4)", "--at", "0", "--json")
    assert (run.exit_code, run.json["status"]) == (1, "disagree")
    for expression in ("sqrt(x)", "sqrt(x**4)"):
        assert cli("accumulate", expression, "--at", "1").exit_code == 0
