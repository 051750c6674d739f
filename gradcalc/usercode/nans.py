"""Where a NaN or infinite gradient is made: the operation of the user's
code whose backward turned finite gradients into non-finite ones, its line
(file, number, text), why, and the known rewrite.

Data, not words: the user's function runs once more under a `Recording`
(each operation with its line and autograd node), a hook on every node of
the graph sees the gradients it receives and the ones it passes on, and the
first node (in backward order) that receives finite gradients and passes on
a non-finite one made it."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .methods import Setup
from .recorder import Record, Recording

# Why an operation's backward makes 0·∞ or ∞, by torch's name of it.
WHY = {
    "sqrt": "the derivative of sqrt, 1/(2·sqrt(u)), is infinite at u = 0",
    "rsqrt": "the derivative of rsqrt is infinite at u = 0",
    "log": "the derivative of log, 1/u, is infinite at u = 0",
    "log2": "the derivative of log2 is infinite at u = 0",
    "log10": "the derivative of log10 is infinite at u = 0",
    "pow": "the derivative of a fractional power is infinite at 0",
    "div": "the derivative of a quotient is infinite where the divisor is 0",
    "true_divide": "the derivative of a quotient is infinite where the divisor is 0",
    "reciprocal": "the derivative of 1/u is infinite at u = 0",
    "acos": "the derivative of acos is infinite at ±1",
    "asin": "the derivative of asin is infinite at ±1",
    "atanh": "the derivative of atanh is infinite at ±1",
    "norm": "the derivative of a norm built as sqrt(sum(u**2)), u/‖u‖, is 0/0 at u = 0",
}
REWRITE_WHERE = (
    'mask the input before the operation, not only its output (the "double where"): '
    "safe = torch.where(cond, u, 1.0); y = torch.where(cond, torch.{op}(safe), other)"
)
REWRITE = {
    "sqrt": "add a small constant inside (torch.sqrt(u + 1e-12)), or mask u = 0 first "
    "(torch.where(u > 0, u, 1.0)) and put the value at 0 back with a second torch.where",
    "norm": "use torch.linalg.vector_norm (its gradient at 0 is the subgradient 0), "
    "or torch.sqrt(sum(u**2) + 1e-12)",
    "log": "mask u = 0 before the log (torch.where(u > 0, u, 1.0)), "
    "or clamp it (u.clamp_min(1e-12))",
}


def trace(setup: Setup, row: int) -> dict[str, Any] | None:
    """The operation that made the non-finite gradient of Jacobian row `row`."""
    record = Record()
    tensors = setup.tensors(grad=True)
    with Recording(record):
        out = setup.call(tensors, "tracing")
    if out.grad_fn is None:
        return None
    found: list[tuple[Any, tuple, tuple]] = []
    handles = [node.register_hook(_watch(node, found)) for node in _nodes(out.grad_fn)]
    rows = torch.tensor(setup.rows[row], dtype=out.dtype)
    try:
        with setup.mode():
            torch.autograd.grad(out.reshape(-1), list(tensors.values()), rows, allow_unused=True)
    except RuntimeError:
        return None
    finally:
        for handle in handles:
            handle.remove()
    if not found:
        return None
    node, given, made = found[0]
    return _described(node, given, made, record)


def _nodes(root: Any) -> list[Any]:
    seen, stack, nodes = set(), [root], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(next_node for next_node, _ in getattr(node, "next_functions", ()))
    return nodes


def _finite(grads: tuple) -> bool:
    return all(g is None or bool(torch.isfinite(g).all()) for g in grads)


def _watch(node: Any, found: list) -> Any:
    def hook(made: tuple, given: tuple) -> None:
        if not found and _finite(given) and not _finite(made):
            found.append((node, given, made))

    return hook


def _described(node: Any, given: tuple, made: tuple, record: Record) -> dict[str, Any]:
    operation = record.by_node().get(id(node))
    custom = getattr(node, "_forward_cls", None)
    name = operation.name if operation else type(node).__name__.removesuffix("Backward0")
    info: dict[str, Any] = {
        "operation": name,
        "node": type(node).__name__,
        "file": operation.file if operation else None,
        "line": operation.line if operation else None,
        "text": operation.text if operation else "",
    }
    if custom is not None:
        info["operation"] = f"{custom.__qualname__}.backward"
        info["function_class"] = custom.__qualname__
    bad = next((g for g in made if g is not None and not bool(torch.isfinite(g).all())), None)
    element = _first_bad(bad)
    incoming = next((g for g in given if g is not None), None)
    info["element"] = element
    info["made"] = _number(bad, element)
    info["incoming"] = _number(incoming, element)
    info["input_value"] = (
        _number(operation.inputs[0], element) if operation and operation.inputs else None
    )
    info["why"], info["rewrite"] = _why(name, operation, record, info)
    return info


def _first_bad(grad: Any) -> list[int] | None:
    if grad is None:
        return None
    bad = np.argwhere(~np.isfinite(grad.detach().double().numpy()))
    return [int(i) for i in bad[0]] if len(bad) else None


def _number(tensor: Any, element: list[int] | None) -> float | None:
    if not isinstance(tensor, torch.Tensor):
        return None
    value = tensor.detach().double()
    try:
        return float(
            value[tuple(element)]
            if element and value.dim() == len(element)
            else value.reshape(-1)[0]
        )
    except (IndexError, RuntimeError):
        return None


def _why(name: str, operation: Any, record: Record, info: dict) -> tuple[str, str]:
    base = WHY.get(name, f"the backward of {name} is not finite here")
    at = info.get("input_value")
    why = base + (f" (its input is {at:.6g} there)" if at is not None else "")
    masked = operation is not None and any(
        op.name == "where" and any(t is operation.output for t in op.inputs)
        for op in record.operations
    )
    if masked and info.get("incoming") == 0.0:
        where = next(
            op
            for op in record.operations
            if op.name == "where" and any(t is operation.output for t in op.inputs)
        )
        why += (
            f"; its result went into torch.where (line {where.line}) in the branch not "
            "taken, which passes back a gradient of 0, and 0·∞ is NaN: the branch "
            "torch.where did not take still has its backward run"
        )
        return why, REWRITE_WHERE.format(op=name)
    return why, REWRITE.get(
        name, "keep the operation's input away from where its derivative is infinite"
    )
