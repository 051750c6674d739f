"""`perceptron --json` (one neuron or a softmax layer) and `accumulate --json`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import atpoint
from .encoding import SCHEMA_VERSION, put_number, strict

if TYPE_CHECKING:
    from ..accumulation import Accumulation, Gradient
    from ..multiclass import SoftmaxLayer
    from ..neuron import Neuron


def perceptron(neuron: Neuron) -> dict[str, Any]:
    from ..neuron import shaped

    first = neuron.first
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "x": shaped(neuron, neuron.x),
        "y": neuron.y,
        "w": shaped(neuron, neuron.w),
        "b": neuron.b,
        "loss_function": neuron.loss_name,
        "epsilon": neuron.epsilon,
        "dtype": neuron.dtype,
    }
    for key in ("z", "y_hat", "loss"):
        put_number(document, key, getattr(first, key))
    chain: dict = {}
    put_number(chain, "dloss_dyhat", first.dloss_dyhat)
    put_number(chain, "dyhat_dz", first.dyhat_dz)
    chain["dz_dw"] = shaped(neuron, neuron.x)
    chain["dz_db"] = 1.0
    document["chain_rule"] = chain
    w: dict = {}
    b: dict = {}
    put_number(w, "manual", shaped(neuron, first.manual_w))
    put_number(w, "autograd", shaped(neuron, first.autograd_w))
    put_number(b, "manual", first.manual_b)
    put_number(b, "autograd", first.autograd_b)
    document["gradients"] = {"w": w, "b": b}
    document["clamped"] = first.clamped
    document["agree"] = neuron.agree and neuron.trajectories_agree
    document["reason"] = neuron.reason
    if neuron.history:
        document["lr"] = neuron.lr
        document["history"] = [
            dict(step=s.step, **s.autograd, manual=s.manual) for s in neuron.history
        ]
        document["trajectories_agree"] = neuron.trajectories_agree
    return strict(document)


def softmax_layer(layer: SoftmaxLayer) -> dict[str, Any]:
    """`perceptron --loss ce` (perceptron-ce.schema.json)."""
    first = layer.first
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "x": list(layer.x),
        "y": layer.y,
        "w": [list(row) for row in layer.w],
        "b": list(layer.b),
        "classes": layer.classes,
        "loss_function": "ce",
        "dtype": layer.dtype,
        "z": first.z,
        "y_hat": first.y_hat,
    }
    put_number(document, "loss", first.loss)
    document["chain_rule"] = {"dloss_dz": first.dloss_dz, "dz_dw": list(layer.x), "dz_db": 1.0}
    document["gradients"] = {
        "w": {"manual": first.manual_w, "autograd": first.autograd_w},
        "b": {"manual": first.manual_b, "autograd": first.autograd_b},
    }
    document["largest_difference"] = layer.largest_difference
    document["agree"] = layer.agree and layer.trajectories_agree
    document["reason"] = layer.reason
    if layer.history:
        document["lr"] = layer.lr
        document["history"] = [
            {"epoch": epoch, "autograd_loss": a, "manual_loss": m} for epoch, a, m in layer.history
        ]
        document["trajectories_agree"] = layer.trajectories_agree
    return strict(document)


def accumulate(result: Accumulation) -> dict[str, Any]:
    single = len(result.variables) == 1

    def per_pass(rows: list[dict[str, Gradient]]) -> list[Any]:
        return [row[result.variables[0]] if single else dict(row) for row in rows]

    return strict(
        {
            "schema_version": SCHEMA_VERSION,
            "expression": result.expression,
            "variables": list(result.variables),
            "point": atpoint.as_json(result.point),
            "dtype": result.dtype,
            "passes": result.passes,
            "zero_grad": result.zero_grad,
            "gradient": dict(result.gradient),
            "grads": per_pass(result.grads),
            "grads_by_variable": {n: [row[n] for row in result.grads] for n in result.variables},
            "expected": per_pass(result.expected),
            "agree": result.agree,
            "status": result.status,
            "explanation": result.explanation,
            "reason": result.disagreement,
            "notes": list(result.notes),
        }
    )
