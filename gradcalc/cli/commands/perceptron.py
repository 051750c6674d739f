"""`gradcalc perceptron`: one neuron's gradients by hand beside autograd's,
or (--loss ce) a softmax layer's; optional training epochs."""

from __future__ import annotations

import sys
from typing import Any

from ...budget import DEFAULT_SECONDS as DEFAULT_TIMEOUT
from ...errors import ExitCode, UsageError
from ..inputs import numbers, one_number
from ..options import (
    Bias,
    Classes,
    ComputeTimeout,
    Digits,
    DType,
    Epochs,
    Epsilon,
    Features,
    Json,
    Label,
    LearningRate,
    Loss,
    LossOption,
    NeuronDType,
    OldSteps,
    Weights,
    examples,
)
from ..output import emit, show

ENGINES = ("torch",)  # what it computes with, imported before its budget starts
SETTINGS = {
    "short_help": "One neuron: the manual chain rule beside autograd, and training.",
    "epilog": examples(
        "gradcalc perceptron --x 6.7 --y 0",
        "gradcalc perceptron --x 1,2,3 --w 0.1,0.2,0.3 --y 1 --epochs 20 --lr 0.5",
        "gradcalc perceptron --x 6.7 --y 0 --dtype float32 --json",
    ),
}


def perceptron(
    x: Features,
    y: Label,
    w: Weights = None,
    b: Bias = "0",
    loss: LossOption = Loss.bce,
    epsilon: Epsilon = 1e-8,
    epochs: Epochs = 0,
    old_steps: OldSteps = None,
    lr: LearningRate = 0.1,
    dtype: NeuronDType = DType.float64,
    classes: Classes = None,
    digits: Digits = None,
    timeout: ComputeTimeout = DEFAULT_TIMEOUT,
    json: Json = False,
) -> int:
    """One neuron (sigmoid + loss): the notebook's hand-derived chain-rule gradients beside
    torch autograd's, and optional training epochs. With --loss ce, K neurons: softmax and
    cross-entropy, (ŷ − onehot(y))·xᵀ by hand beside autograd."""
    epochs = _epochs(epochs, old_steps)
    features = numbers(x, "--x")
    if loss is Loss.ce:
        layer = _softmax_layer(features, y, w, b, classes, dtype.value, epochs, lr)
        if json:
            from ...jsonout import softmax_layer

            emit(softmax_layer(layer))
        else:
            from ...render.perceptron import softmax_view

            show(softmax_view(layer, digits))
        return ExitCode.OK if layer.agree and layer.trajectories_agree else ExitCode.DISAGREE
    if classes is not None:
        raise UsageError("--classes goes with --loss ce")
    from ...neuron import shaped, train

    neuron = train(
        features if len(features) > 1 else features[0],
        one_number(y, "--y"),
        None if w is None else numbers(w, "--w"),
        one_number(b, "--b"),
        loss.value,
        epsilon,
        dtype.value,
        epochs,
        lr,
    )
    if json:
        from ...jsonout import perceptron as document

        emit(document(neuron))
    else:
        from ...render.perceptron import view

        show(view(neuron, shaped, digits))
    return ExitCode.OK if neuron.agree and neuron.trajectories_agree else ExitCode.DISAGREE


def _epochs(epochs: int, old_steps: int | None) -> int:
    """--epochs, or its deprecated spelling --steps (with a note), within the limit."""
    from ...neuron import MAX_EPOCHS

    if old_steps is not None:
        sys.stderr.write(
            "gradcalc: note: perceptron --steps is deprecated; write --epochs "
            f"{old_steps} (diff --steps means the chain rule)\n"
        )
        epochs = old_steps if epochs == 0 else epochs
    if epochs > MAX_EPOCHS:
        raise UsageError(f"must be between 0 and {MAX_EPOCHS:,}, not {epochs:,}", option="epochs")
    return epochs


def _softmax_layer(
    features: list, y: str, w: str | None, b: str, classes: int | None, *training: Any
) -> Any:
    from ...multiclass import train

    rows = None if w is None else [numbers(row, "--w") for row in w.split(";")]
    biases = None if b in (None, "0") else numbers(b, "--b")
    count = classes or (len(rows) if rows else 2)
    return train(features, one_number(y, "--y"), count, rows, biases, *training)
