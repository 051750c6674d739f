"""The tree -> a torch graph, and gradients by autograd.

Built iteratively from the parsed tree (not from SymPy's rewrite of it), so
torch records the operations the user wrote: `sin(x**2)` gives
SinBackward0 over PowBackward0, as in the notebook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from .functions import CONSTANTS, TABLE
from .parsing import Expression

if TYPE_CHECKING:
    import numpy as np


DTYPES = {"float64": torch.float64, "float32": torch.float32}


def leaves_for(point: dict, dtype: str) -> dict:
    """name -> leaf tensor that requires grad (0-d or 1-d)."""
    return {
        name: torch.tensor(value, dtype=DTYPES[dtype]).requires_grad_(True)
        for name, value in point.items()
    }


def build(
    expr: Expression,
    leaves: dict,
    dtype: str,
    keep: bool = False,
    batched: bool = False,
    jitter: np.random.Generator | None = None,
) -> Any:
    """Run the forward pass. Returns the root tensor, or with `keep` a dict
    id(node) -> tensor for every node. With `batched`, each leaf holds many
    scalar points along its one axis, so reductions (mean, sum of a scalar)
    leave each point alone."""
    torch_dtype = DTYPES[dtype]
    values: dict = {}
    for node in expr.nodes:
        if node.op == "var":
            value = leaves[node.value]
        elif node.op in ("num", "const"):
            number = float(node.value) if node.op == "num" else CONSTANTS[node.value][1]
            value = torch.tensor(number, dtype=torch_dtype)
        elif node.op == "pow" and node.args[1].op == "num":
            # A literal exponent stays a Python number, as in `x**2`: torch
            # then records PowBackward0, the notebook's grad_fn.
            literal = float(node.args[1].value)
            exponent = int(literal) if literal.is_integer() and abs(literal) < 2**53 else literal
            value = values[id(node.args[0])] ** exponent
        elif batched and TABLE[node.op].reduces:
            value = values[id(node.args[0])]  # the mean of one number is itself
        else:
            args = [values[id(a)] for a in node.args]
            value = TABLE[node.op].torch(torch, *args)
        if jitter is not None and node.args:
            # One more rounding error per operation (see numeric.evaluate).
            eps = torch.finfo(torch_dtype).eps
            factor = 1 + eps * jitter.uniform(-1, 1, tuple(value.shape))
            value = value * torch.as_tensor(factor, dtype=torch_dtype)
        values[id(node)] = value
    return values if keep else values[id(expr.root)]


def scalar_output(root: torch.Tensor) -> torch.Tensor:
    """The scalar that backward starts from: a vector output is summed,
    which is `y.backward(torch.ones_like(y))`."""
    return root if root.dim() == 0 else root.sum()


def derivatives(output: torch.Tensor, leaves: dict, partials: list) -> list[torch.Tensor]:
    """Values of each partial (a tuple of variable names, one per
    differentiation) as float tensors detached from the graph."""
    cache = {(): output}
    results = []
    for partial in partials:
        for depth in range(1, len(partial) + 1):
            prefix = partial[:depth]
            if prefix in cache:
                continue
            previous = cache[partial[: depth - 1]]
            leaf = leaves[prefix[-1]]
            if previous.requires_grad:
                target = previous if previous.dim() == 0 else previous.sum()
                (grad,) = torch.autograd.grad(
                    target,
                    leaf,
                    create_graph=depth < len(partial),
                    retain_graph=True,
                    allow_unused=True,
                )
            else:
                grad = None
            cache[prefix] = torch.zeros_like(leaf) if grad is None else grad
        results.append(cache[partial].detach())
    return results
