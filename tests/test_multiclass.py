"""perceptron --loss ce: softmax and cross-entropy over K classes, the manual
chain rule (ŷ − onehot(y))·xᵀ against autograd and a hand computation."""

import mpmath
import pytest
from conftest import validate

X, Y = [1.0, 2.0], 1
W = [[0.5, -1.0], [0.25, 0.75], [-0.5, 0.5]]
B = [0.1, 0.0, -0.1]
ARGS = [
    "perceptron",
    "--loss",
    "ce",
    "--x",
    "1,2",
    "--y",
    "1",
    "--w",
    "0.5,-1;0.25,0.75;-0.5,0.5",
    "--b",
    "0.1,0,-0.1",
]


def _by_hand():
    """z, softmax, loss and dL/dW at 40 digits, written out."""
    with mpmath.workdps(40):
        z = [sum(mpmath.mpf(w) * x for w, x in zip(row, X)) + b for row, b in zip(W, B)]
        total = sum(mpmath.exp(v) for v in z)
        y_hat = [mpmath.exp(v) / total for v in z]
        loss = -mpmath.log(y_hat[Y])
        delta = [p - (1 if k == Y else 0) for k, p in enumerate(y_hat)]
        return (
            [float(v) for v in z],
            [float(v) for v in y_hat],
            float(loss),
            [[float(d * x) for x in X] for d in delta],
            [float(d) for d in delta],
        )


def test_manual_autograd_and_hand_computation_agree(cli):
    run = cli(*ARGS, "--json")
    assert run.exit_code == 0, run.stderr
    document = run.json
    validate(document, "perceptron-ce.schema.json")
    z, y_hat, loss, dw, db = _by_hand()
    assert document["z"] == pytest.approx(z, rel=1e-15)
    assert document["y_hat"] == pytest.approx(y_hat, rel=1e-14)
    assert document["loss"] == pytest.approx(loss, rel=1e-14)
    for method in ("manual", "autograd"):
        for got, want in zip(document["gradients"]["w"][method], dw):
            assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert document["gradients"]["b"][method] == pytest.approx(db, rel=1e-12, abs=1e-15)
    assert document["largest_difference"] <= 1e-12
    # dL/db sums to 0: softmax's probabilities sum to 1.
    assert sum(document["gradients"]["b"]["manual"]) == pytest.approx(0.0, abs=1e-15)


def test_training_lowers_the_loss_the_same_way(cli):
    run = cli(*ARGS, "--epochs", "20", "--json")
    history = run.json["history"]
    assert run.json["trajectories_agree"] is True
    losses = [step["autograd_loss"] for step in history]
    assert losses == sorted(losses, reverse=True)
    assert [s["manual_loss"] for s in history] == pytest.approx(losses, rel=1e-12)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--y", "3"], "--y 3 is not a class"),
        (["--y", "0.5"], "--y 0.5 is not a class"),
        (["--w", "1,2;3,4"], "--w needs 3 rows of 2 weights"),
        (["--b", "1,2"], "--b needs 3 values"),
    ],
)
def test_bad_input_names_the_option(cli, extra, message):
    args = ARGS + ["--classes", "3"]
    for option, value in zip(extra[::2], extra[1::2]):
        args[args.index(option) + 1] = value
    run = cli(*args)
    assert run.exit_code == 2
    assert message in run.stderr


def test_the_table_shows_both_columns(cli):
    run = cli(*ARGS, env={"NO_COLOR": "1", "COLUMNS": "120"})
    assert "dL/dW = (ŷ − onehot(y))·xᵀ" in run.stdout
    assert "✓ the manual chain rule (ŷ − onehot(y))·xᵀ and autograd agree" in run.stdout
