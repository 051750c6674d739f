"""The perceptron view: forward pass, the notebook's chain rule, gradients
side by side, and the training trajectory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from . import fit_table, numbers, titled

if TYPE_CHECKING:
    from ..multiclass import SoftmaxLayer
    from ..neuron import Neuron

# neuron.shaped: a per-feature list as the user gave it (a number for one feature).
Shaped = Callable[["Neuron", Sequence[float]], "float | list[float]"]


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    finite = [v for v in values if v == v]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = (high - low) or 1.0
    return "".join(
        SPARKS[min(len(SPARKS) - 1, int((v - low) / span * (len(SPARKS) - 1) + 0.5))]
        for v in values
    )


def _classes_table(layer: SoftmaxLayer, digits: int | None) -> Table:
    first = layer.first
    table = Table()
    for name in ("class", "z", "ŷ", "onehot", "dL/db by hand", "dL/db autograd"):
        table.add_column(name, justify="right", no_wrap=True)
    for k in range(layer.classes):
        table.add_row(
            str(k),
            numbers.fmt(first.z[k], digits),
            numbers.fmt(first.y_hat[k], digits),
            "1" if k == layer.y else "0",
            numbers.fmt(first.manual_b[k], digits),
            numbers.fmt(first.autograd_b[k], digits),
        )
    return table


def _weights_table(layer: SoftmaxLayer, digits: int | None) -> Table:
    first = layer.first
    table = Table()
    table.add_column("dL/dW", no_wrap=True)
    for j in range(len(layer.x)):
        table.add_column(f"x{j} by hand", justify="right", no_wrap=True)
        table.add_column("autograd", justify="right", no_wrap=True)
    for k in range(layer.classes):
        cells = []
        for j in range(len(layer.x)):
            cells += [
                numbers.fmt(first.manual_w[k][j], digits),
                numbers.fmt(first.autograd_w[k][j], digits),
            ]
        table.add_row(f"class {k}", *cells)
    return table


def softmax_view(layer: SoftmaxLayer, digits: int | None = None) -> Group:
    """`perceptron --loss ce`: logits, probabilities and the bias gradient per
    class, then the weight gradient by hand and by autograd."""
    first = layer.first
    parts: list[RenderableType] = [
        Text(
            f"z = W·x + b, ŷ = softmax(z), L = −log ŷ_y with y = {layer.y}: "
            f"L = {numbers.fmt(first.loss, digits)}",
            style="bold",
        ),
        titled(
            "dL/dz = ŷ − onehot(y) = dL/db",
            fit_table(lambda d: _classes_table(layer, d), digits),
        ),
        titled(
            "dL/dW = (ŷ − onehot(y))·xᵀ",
            fit_table(lambda d: _weights_table(layer, d), digits),
        ),
    ]
    if layer.history:
        losses = [a for _, a, _ in layer.history]
        parts.append(
            Text(
                f"loss over {len(losses) - 1} epochs: {sparkline(losses)} "
                f"{numbers.fmt(losses[0], digits)} → {numbers.fmt(losses[-1], digits)}"
            )
        )
    good = layer.agree and layer.trajectories_agree
    parts.append(Text(("✓ " if good else "✗ ") + layer.reason, style="green" if good else "red"))
    return Group(*parts)


def _loss_text(neuron: Neuron) -> str:
    if neuron.loss_name == "bce":
        return (
            f"L = -(y·log(p) + (1 - y)·log(1 - p)), p = clamp(ŷ, ε, 1 - ε), ε = {neuron.epsilon:g}"
        )
    return "L = (ŷ - y)²"


def _forward(neuron: Neuron, shaped: Shaped, digits: int | None) -> Table:
    first = neuron.first
    table = Table()
    table.add_column("quantity")
    table.add_column("value", justify="right", no_wrap=True)
    for name, value in [
        ("x", shaped(neuron, neuron.x)),
        ("y", neuron.y),
        ("w", shaped(neuron, neuron.w)),
        ("b", neuron.b),
        ("z = w·x + b", first.z),
        ("ŷ = sigmoid(z)", first.y_hat),
        ("L", first.loss),
    ]:
        table.add_row(name, numbers.cell(value, digits))
    return table


def _chain(neuron: Neuron, shaped: Shaped, digits: int | None) -> Table:
    first = neuron.first
    table = Table()
    table.add_column("step", no_wrap=True)
    table.add_column("formula")
    table.add_column("value", justify="right", no_wrap=True)
    dl = "(ŷ - y)/(ŷ(1 - ŷ))" if neuron.loss_name == "bce" else "2(ŷ - y)"
    table.add_row("dL/dŷ", dl, numbers.cell(first.dloss_dyhat, digits))
    table.add_row("dŷ/dz", "ŷ(1 - ŷ)", numbers.cell(first.dyhat_dz, digits))
    table.add_row("dz/dw", "x", numbers.cell(shaped(neuron, neuron.x), digits))
    table.add_row("dz/db", "1", "1")
    return table


def _gradients(neuron: Neuron, shaped: Shaped, digits: int | None) -> Table:
    first = neuron.first
    table = Table()
    table.add_column("", no_wrap=True)
    table.add_column("manual", justify="right", no_wrap=True)
    table.add_column(f"autograd {neuron.dtype}", justify="right", no_wrap=True)
    table.add_column("|difference|", justify="right", no_wrap=True)
    for name, manual, auto in [
        ("dL/dw", shaped(neuron, first.manual_w), shaped(neuron, first.autograd_w)),
        ("dL/db", first.manual_b, first.autograd_b),
    ]:
        table.add_row(
            name,
            numbers.cell(manual, digits),
            numbers.cell(auto, digits),
            numbers.error(manual, auto),
        )
    return table


def view(neuron: Neuron, shaped: Shaped, digits: int | None = None) -> Group:
    header = Text(
        f"one neuron: z = w·x + b, ŷ = sigmoid(z); {_loss_text(neuron)}  [{neuron.dtype}]"
    )
    parts: list[RenderableType] = [
        header,
        titled("forward pass", fit_table(lambda d: _forward(neuron, shaped, d), digits)),
        titled(
            "the chain rule by hand (as the notebook writes it)",
            fit_table(lambda d: _chain(neuron, shaped, d), digits),
        ),
        titled(
            "gradients: manual (dL/dŷ · dŷ/dz · dz/d·) vs torch autograd .grad",
            fit_table(lambda d: _gradients(neuron, shaped, d), digits),
        ),
    ]
    if neuron.history:
        parts.append(_history(neuron, digits))
    mark, style = ("✓", "green") if neuron.agree and neuron.trajectories_agree else ("✗", "red")
    words = neuron.reason
    if neuron.history:
        words += (
            "; the manual and autograd trajectories stay equal"
            if neuron.trajectories_agree
            else "; the manual and autograd trajectories drift apart"
        )
    parts.append(Text(f"{mark} {words}", style=style))
    return Group(*parts)


def _history_table(neuron: Neuron, digits: int | None) -> Table:
    table = Table()
    for heading in ("step", "loss", "w", "b", "manual loss"):
        table.add_column(heading, justify="right", no_wrap=True)
    rows = neuron.history
    shown = rows if len(rows) <= 21 else rows[:10] + [None] + rows[-10:]
    for step in shown:
        if step is None:
            table.add_row("…", "", "", "", "")
            continue
        a, m = step.autograd, step.manual
        table.add_row(
            str(step.step),
            numbers.cell(a["loss"], digits),
            numbers.cell(a["w"], digits),
            numbers.cell(a["b"], digits),
            numbers.cell(m["loss"], digits),
        )
    return table


def _history(neuron: Neuron, digits: int | None = None) -> Group:
    losses = [s.autograd["loss"] for s in neuron.history]
    title = f"gradient descent, lr = {neuron.lr:g} (autograd trajectory; manual alongside)"
    return Group(
        titled(title, fit_table(lambda d: _history_table(neuron, d), digits)),
        Text(
            f"loss {sparkline(losses)}  {numbers.fmt(losses[0], digits)} → "
            f"{numbers.fmt(losses[-1], digits)}"
        ),
    )
