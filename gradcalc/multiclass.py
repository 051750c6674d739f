"""The perceptron grown to K classes: a linear layer, softmax and cross-entropy,
by hand and by autograd (`gradcalc perceptron --loss ce --classes K`).

z = W·x + b (W is K×n), ŷ = softmax(z), L = −log ŷ_y for the class index y.
The manual chain rule, as the notebook does it for one neuron:

    dL/dz = ŷ − onehot(y)           (softmax and cross-entropy together)
    dL/dW = (ŷ − onehot(y)) · xᵀ    (an outer product: K×n)
    dL/db = ŷ − onehot(y)

Autograd: torch's `cross_entropy` on the same logits, in the same dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import UsageError
from .neuron import MAX_EPOCHS, parted
from .verdict import AUTOGRAD_TOLERANCE, checked_dtype

MAX_CLASSES = 1000


@dataclass
class SoftmaxPass:
    z: list[float]
    y_hat: list[float]
    loss: float
    dloss_dz: list[float]  # ŷ − onehot(y)
    manual_w: list[list[float]]  # K×n
    manual_b: list[float]
    autograd_w: list[list[float]]
    autograd_b: list[float]


@dataclass
class SoftmaxLayer:
    x: list[float]
    y: int  # the true class
    w: list[list[float]]
    b: list[float]
    dtype: str
    first: SoftmaxPass
    agree: bool
    reason: str
    largest_difference: float
    lr: float = 0.0
    history: list = field(default_factory=list)  # (epoch, autograd loss, manual loss)
    trajectories_agree: bool = True

    @property
    def classes(self) -> int:
        return len(self.b)


def train(
    x: list[float],
    y: float,
    classes: int,
    w: list[list[float]] | None = None,
    b: list[float] | None = None,
    dtype: str = "float64",
    epochs: int = 0,
    lr: float = 0.1,
) -> SoftmaxLayer:
    """The layer at (W, b) (zeros by default), and optionally `epochs` of
    gradient descent with the manual and the autograd gradients side by side."""
    if not 2 <= classes <= MAX_CLASSES:
        raise UsageError(f"must be between 2 and {MAX_CLASSES}, not {classes}", option="classes")
    if float(y) != int(y) or not 0 <= int(y) < classes:
        raise UsageError(
            f"{y:g} is not a class: cross-entropy needs a class index 0 to {classes - 1}",
            option="y",
        )
    x = [float(v) for v in x]
    w = [[0.0] * len(x) for _ in range(classes)] if w is None else [list(r) for r in w]
    if len(w) != classes or any(len(row) != len(x) for row in w):
        raise UsageError(
            f"needs {classes} rows of {len(x)} weights (one row per class, rows separated "
            f"by ';'), not rows of {' and '.join(str(len(r)) for r in w)} weights",
            option="w",
        )
    b = [0.0] * classes if b is None else list(b)
    if len(b) != classes:
        raise UsageError(f"needs {classes} values (one per class), not {len(b)}", option="b")
    if not 0 <= epochs <= MAX_EPOCHS:
        raise UsageError(f"must be between 0 and {MAX_EPOCHS}, not {epochs}", option="epochs")
    if not math.isfinite(lr):
        raise UsageError(f"must be a finite number, not {lr}", option="lr")
    checked_dtype(dtype)
    first = _pass(x, int(y), w, b, dtype)
    agree, worst = _compare(first, dtype)
    reason = (
        "the manual chain rule (ŷ − onehot(y))·xᵀ and autograd agree"
        if agree
        else f"the manual chain rule and autograd differ by up to {worst:.3g}"
    )
    layer = SoftmaxLayer(x, int(y), w, b, dtype, first, agree, reason, worst, lr)
    if epochs:
        layer.history, layer.trajectories_agree = _descend(layer, epochs, lr)
        if not layer.trajectories_agree:
            layer.reason = f"{layer.reason} on the first pass; {parted(layer.history, dtype)}"
    return layer


def _pass(x: list[float], y: int, w: list[list[float]], b: list[float], dtype: str) -> SoftmaxPass:
    import torch

    from .autograd import DTYPES

    kind = DTYPES[dtype]
    xs = torch.tensor(x, dtype=kind)
    weights = torch.tensor(w, dtype=kind, requires_grad=True)
    bias = torch.tensor(b, dtype=kind, requires_grad=True)
    z = weights @ xs + bias
    loss = torch.nn.functional.cross_entropy(z.unsqueeze(0), torch.tensor([y]))
    loss.backward()
    with torch.no_grad():  # the manual chain rule, same dtype
        y_hat = torch.softmax(z, dim=0)
        onehot = torch.zeros_like(y_hat)
        onehot[y] = 1
        dloss_dz = y_hat - onehot
        manual_w = torch.outer(dloss_dz, xs)
    assert weights.grad is not None and bias.grad is not None
    return SoftmaxPass(
        z=z.detach().tolist(),
        y_hat=y_hat.tolist(),
        loss=loss.item(),
        dloss_dz=dloss_dz.tolist(),
        manual_w=manual_w.tolist(),
        manual_b=dloss_dz.tolist(),
        autograd_w=weights.grad.tolist(),
        autograd_b=bias.grad.tolist(),
    )


def _compare(result: SoftmaxPass, dtype: str) -> tuple[bool, float]:
    tolerance = AUTOGRAD_TOLERANCE[dtype]
    pairs = [
        (m, a) for mrow, arow in zip(result.manual_w, result.autograd_w) for m, a in zip(mrow, arow)
    ] + list(zip(result.manual_b, result.autograd_b))
    worst = max(abs(a - m) for m, a in pairs)
    return all(bool(tolerance.allows(a, m)) for m, a in pairs), worst


def _descend(
    layer: SoftmaxLayer, epochs: int, lr: float
) -> tuple[list[tuple[int, float, float]], bool]:

    tolerance = AUTOGRAD_TOLERANCE[layer.dtype]
    state = {"autograd": (layer.w, layer.b), "manual": (layer.w, layer.b)}
    history, agree = [], True
    for epoch in range(epochs + 1):
        losses, updates = {}, {}
        for name, (w, b) in state.items():
            result = _pass(layer.x, layer.y, w, b, layer.dtype)
            losses[name] = result.loss
            grad_w, grad_b = (
                (result.autograd_w, result.autograd_b)
                if name == "autograd"
                else (result.manual_w, result.manual_b)
            )
            updates[name] = (
                [[wi - lr * gi for wi, gi in zip(row, grow)] for row, grow in zip(w, grad_w)],
                [bi - lr * gi for bi, gi in zip(b, grad_b)],
            )
        history.append((epoch, losses["autograd"], losses["manual"]))
        agree = agree and bool(tolerance.allows(losses["autograd"], losses["manual"]))
        state = updates
    return history, agree
