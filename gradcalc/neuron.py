"""One neuron, by hand and by autograd (the notebook's perceptron).

z = w·x + b, ŷ = sigmoid(z), and a loss: binary cross-entropy with the
notebook's clamp, or squared error. The manual gradients follow the
notebook's chain rule literally, in the same dtype and operation order:

    dL/dŷ = (ŷ - y) / (ŷ (1 - ŷ))     (BCE; MSE: 2 (ŷ - y))
    dŷ/dz = ŷ (1 - ŷ)
    dz/dw = x,  dz/db = 1
    dL/dw = dL/dŷ · dŷ/dz · dz/dw,  dL/db = dL/dŷ · dŷ/dz
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor


from .errors import UsageError
from .verdict import AUTOGRAD_TOLERANCE, checked_dtype

# The most training epochs `perceptron` takes: one cap for the neuron (its
# `steps`) and the softmax layer (its `epochs`).
MAX_EPOCHS = 100_000

LOSSES = ("bce", "mse")
Numbers = float | list[float] | tuple[float, ...]  # one feature, or several


@dataclass
class Pass:
    """One forward and backward pass at given parameters."""

    z: float
    y_hat: float
    loss: float
    dloss_dyhat: float
    dyhat_dz: float
    manual_w: Any  # float or list (one per feature)
    manual_b: float
    autograd_w: Any
    autograd_b: float
    clamped: bool  # the clamp was active, so autograd sees a flat loss


@dataclass
class Step:
    step: int
    autograd: dict  # loss, w, b along the trajectory updated with autograd gradients
    manual: dict  # the same, updated with the manual gradients


@dataclass
class Neuron:
    x: list
    y: float
    w: list
    b: float
    loss_name: str
    epsilon: float
    dtype: str
    vector: bool  # several features: w and its gradients are lists
    first: Pass
    agree: bool
    reason: str
    lr: float = 0.0
    history: list = field(default_factory=list)
    trajectories_agree: bool = True


@dataclass(frozen=True)
class _Problem:
    """What every pass shares: the features, the label, the loss (and its
    clamp) and the dtype; only w and b move."""

    x: list[float]
    y: float
    loss: str
    epsilon: float
    dtype: str


def _features(values: Numbers, name: str) -> list[float]:
    values = [float(v) for v in (values if isinstance(values, (list, tuple)) else [values])]
    if not values:
        raise UsageError(f"--{name} needs at least one number")
    return values


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def train(
    x: Numbers,
    y: float,
    w: Numbers | None = None,
    b: float = 0.0,
    loss: str = "bce",
    epsilon: float = 1e-8,
    dtype: str = "float64",
    steps: int = 0,
    lr: float = 0.1,
) -> Neuron:
    """The neuron at (w, b), and optionally `steps` of gradient descent."""
    vector = isinstance(x, (list, tuple)) and len(x) > 1
    features = _features(x, "x")
    weights = [1.0] * len(features) if w is None else _features(w, "w")
    if len(weights) != len(features):
        raise UsageError(
            f"{{w}} has {_count(len(weights), 'weight')} but {{x}} has "
            f"{_count(len(features), 'feature')}: give one weight per feature",
            option=("w", "x"),
        )
    if loss not in LOSSES:
        raise UsageError(f"must be one of {', '.join(LOSSES)}, not {loss!r}", option="loss")
    if loss == "bce" and not 0.0 <= float(y) <= 1.0:
        raise UsageError(
            f"{{y}} {y:g} is not a probability: binary cross-entropy needs a "
            "label in [0, 1] (use {loss} mse for other targets)",
            option=("y", "loss"),
        )
    if not 0.0 < epsilon < 0.5:
        raise UsageError(f"must be between 0 and 0.5, not {epsilon:g}", option="epsilon")
    if not 0 <= steps <= MAX_EPOCHS:
        raise UsageError(f"must be between 0 and {MAX_EPOCHS}, not {steps}", option="steps")
    if not math.isfinite(lr):
        raise UsageError(f"must be a finite number, not {lr}", option="lr")
    checked_dtype(dtype)

    first = _pass(_Problem(features, float(y), loss, epsilon, dtype), weights, float(b))
    agree, reason = _compare(first, dtype, loss)
    neuron = Neuron(
        features,
        float(y),
        weights,
        float(b),
        loss,
        epsilon,
        dtype,
        vector,
        first,
        agree,
        reason,
        lr,
    )
    if steps:
        neuron.history, neuron.trajectories_agree = _descend(neuron, steps, lr)
        if not neuron.trajectories_agree:
            losses = [(e.step, e.autograd["loss"], e.manual["loss"]) for e in neuron.history]
            neuron.reason = f"{neuron.reason} on the first pass; {parted(losses, dtype)}"
    return neuron


def parted(losses: Iterable[tuple[int, float, float]], dtype: str) -> str:
    """Where training's two runs (by autograd's and by the manual updates)
    part: the first (epoch, autograd's loss, the manual loss) that differs
    beyond the tolerance or is not finite."""
    tolerance = AUTOGRAD_TOLERANCE[dtype]
    for epoch, a, m in losses:
        if not (math.isfinite(a) and math.isfinite(m)) or not tolerance.allows(a, m):
            return (
                f"training parts from epoch {epoch} (loss {a:.6g} by autograd's updates, "
                f"{m:.6g} by the manual ones)"
            )
    return "training's weights part beyond the tolerance"


def _pass(problem: _Problem, w: list[float], b: float) -> Pass:
    import torch

    from .autograd import DTYPES

    kind = DTYPES[problem.dtype]
    loss, epsilon = problem.loss, problem.epsilon
    xs = torch.tensor(problem.x, dtype=kind)
    target = torch.tensor(problem.y, dtype=kind)
    weights = torch.tensor(w, dtype=kind, requires_grad=True)
    bias = torch.tensor(b, dtype=kind, requires_grad=True)

    z = (weights * xs).sum() + bias
    y_hat = torch.sigmoid(z)
    value = _loss(torch, y_hat, target, loss, epsilon)
    value.backward()

    with torch.no_grad():  # the notebook's manual chain rule, same dtype and order
        if loss == "bce":
            dloss_dyhat = (y_hat - target) / (y_hat * (1 - y_hat))
        else:
            dloss_dyhat = 2 * (y_hat - target)
        dyhat_dz = y_hat * (1 - y_hat)
        manual_w = dloss_dyhat * dyhat_dz * xs
        manual_b = dloss_dyhat * dyhat_dz * 1
    clamped = loss == "bce" and bool(
        (y_hat < epsilon) | (y_hat > torch.tensor(1 - epsilon, dtype=kind))
    )
    z, y_hat, value = z.detach(), y_hat.detach(), value.detach()
    return Pass(
        z.item(),
        y_hat.item(),
        value.item(),
        dloss_dyhat.item(),
        dyhat_dz.item(),
        manual_w.tolist(),
        manual_b.item(),
        _grad(weights).tolist(),
        _grad(bias).item(),
        clamped,
    )


def _loss(torch: ModuleType, y_hat: Tensor, target: Tensor, loss: str, epsilon: float) -> Tensor:
    if loss == "mse":
        return (y_hat - target) ** 2
    prediction = torch.clamp(y_hat, epsilon, 1 - epsilon)  # to prevent log(0)
    return -(target * torch.log(prediction) + (1 - target) * torch.log(1 - prediction))


def _grad(tensor: Tensor) -> Tensor:
    """A leaf's .grad after backward() (always set there)."""
    assert tensor.grad is not None
    return tensor.grad


def _compare(result: Pass, dtype: str, loss: str) -> tuple[bool, str]:
    tolerance = AUTOGRAD_TOLERANCE[dtype]
    pairs = list(zip(result.manual_w, result.autograd_w)) + [(result.manual_b, result.autograd_b)]
    if all(tolerance.allows(a, m) for m, a in pairs):
        return True, "the manual chain rule and autograd agree"
    worst = max(abs(a - m) for m, a in pairs)
    if not math.isfinite(worst):
        return False, (
            "the manual formula is not finite: dL/dŷ = (ŷ - y)/(ŷ(1 - ŷ)) divides "
            f"by ŷ(1 - ŷ) = {result.dyhat_dz:g}; autograd, through the clamp, "
            f"gives {result.autograd_b:g} for dL/db"
        )
    if result.clamped:
        return False, (
            f"they differ by up to {worst:.3g}: the clamp is active (ŷ is within "
            "epsilon of 0 or 1), so autograd's gradient through torch.clamp is 0, "
            "while the notebook's manual formula ignores the clamp"
        )
    return False, f"the manual chain rule and autograd differ by up to {worst:.3g}"


def _descend(neuron: Neuron, steps: int, lr: float) -> tuple[list[Step], bool]:
    tolerance = AUTOGRAD_TOLERANCE[neuron.dtype]
    problem = _Problem(neuron.x, neuron.y, neuron.loss_name, neuron.epsilon, neuron.dtype)
    state = {"autograd": (list(neuron.w), neuron.b), "manual": (list(neuron.w), neuron.b)}
    history, agree = [], True
    for step in range(steps + 1):
        entry = {}
        updates = {}
        found: dict[str, tuple[float, list[float], float]] = {}  # name -> (loss, w, b)
        for name, (w, b) in state.items():
            result = _pass(problem, w, b)
            entry[name] = {"loss": result.loss, "w": _shape(w, neuron.vector), "b": b}
            found[name] = (result.loss, w, b)
            grad_w, grad_b = (
                (result.autograd_w, result.autograd_b)
                if name == "autograd"
                else (result.manual_w, result.manual_b)
            )
            updates[name] = ([wi - lr * gi for wi, gi in zip(w, grad_w)], b - lr * grad_b)
        history.append(Step(step, entry["autograd"], entry["manual"]))
        (loss_a, w_a, b_a), (loss_m, w_m, b_m) = found["autograd"], found["manual"]
        pairs = [(loss_a, loss_m), (b_a, b_m), *zip(w_a, w_m)]
        agree = agree and all(tolerance.allows(got, want) for got, want in pairs)

        state = updates
    return history, agree


def _shape(values: list[float], vector: bool) -> float | list[float]:
    return list(values) if vector else values[0]


def shaped(neuron: Neuron, values: Sequence[float]) -> float | list[float]:
    """A per-feature list as the user gave it: a number for one feature."""
    return list(values) if neuron.vector else values[0]
