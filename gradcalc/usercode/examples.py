"""Functions for `gradcalc check --help`'s examples (and a first try):
`gradcalc check gradcalc.usercode.examples:softplus --at x=[0.5,-2,3]`."""

from __future__ import annotations

from typing import Any

import torch


def softplus(x: torch.Tensor) -> torch.Tensor:
    """A correct function: exit 0."""
    return torch.nn.functional.softplus(x).sum()


class Square(torch.autograd.Function):
    """x**2 with a backward pass that forgot its factor 2."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * x


def wrong_square(x: torch.Tensor) -> torch.Tensor:
    """A wrong custom backward pass: exit 1, and the report names Square."""
    return Square.apply(x).sum()
