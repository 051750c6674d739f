"""What repeated backward() does to .grad (the notebook's "Clearing Grads").

Each pass rebuilds the graph from the expression and calls backward(), as
the notebook does. Without zeroing, backward adds into .grad, so pass k
shows k times the gradient; with `zero_grad`, .grad is zeroed first and
every pass shows the gradient itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import atpoint
from .errors import DomainError, UsageError
from .parsing import Expression, as_expression
from .verdict import AUTOGRAD_TOLERANCE, checked_dtype

MAX_PASSES = 10_000

Gradient = float | list[float]  # one variable's: a scalar's, or a vector's elements


@dataclass
class Accumulation:
    expression: str
    variables: list[str]
    point: atpoint.Point
    dtype: str
    passes: int
    zero_grad: bool
    gradient: dict[str, Gradient]  # name -> one pass's gradient
    grads: list[dict[str, Gradient]]  # per pass: name -> .grad after that pass
    expected: list[dict[str, Gradient]]  # per pass: name -> what the explanation predicts
    agree: bool
    explanation: str
    # The one-point verdict's words where autograd's gradient is not finite
    # though the derivative is (sqrt(x**4) at 0): "disagree", as `diff` says.
    disagreement: str | None = None
    notes: list[str] = field(default_factory=list)  # what was done that f did not say

    @property
    def status(self) -> str:
        return "agree" if self.agree else "disagree"


def accumulate(
    expression: str | Expression,
    at: Any = None,
    passes: int = 3,
    zero_grad: bool = False,
    dtype: str = "float64",
) -> Accumulation:
    expr = as_expression(expression)
    if not 1 <= passes <= MAX_PASSES:
        raise UsageError(f"must be between 1 and {MAX_PASSES}, not {passes}", option="passes")
    if not expr.variables:
        raise UsageError(f"{expr.source!r} has no variables: nothing accumulates a gradient")
    checked_dtype(dtype)
    point = atpoint.point(at, expr.variables)

    from . import finite

    finite.values_at(expr, point)  # diff's error where f or a part is not finite
    grads, summed = _backward_passes(expr, point, passes, zero_grad, dtype)
    gradient = grads[0]
    disagreement = _not_finite(expr, point, gradient, dtype)
    expected = [
        {name: _times(g, 1 if zero_grad else k + 1) for name, g in gradient.items()}
        for k in range(passes)
    ]
    tolerance = AUTOGRAD_TOLERANCE[dtype]
    agree = disagreement is None and all(
        tolerance.allows(a, e)
        for got, want in zip(grads, expected)
        for name in got
        for a, e in zip(_flat(got[name]), _flat(want[name]))
    )
    return Accumulation(
        expr.source,
        list(expr.variables),
        point,
        dtype,
        passes,
        zero_grad,
        gradient,
        grads,
        expected,
        agree,
        _explain(zero_grad, passes),
        disagreement,
        [SUMMED] if summed else [],
    )


# As diff says of a vector-valued f's derivatives past the first.
SUMMED = (
    "the expression is vector-valued; backward() starts from the sum of its elements, "
    "as torch's y.backward(torch.ones_like(y))"
)


def _backward_passes(
    expr: Expression, point: atpoint.Point, passes: int, zero_grad: bool, dtype: str
) -> tuple[list[dict[str, Gradient]], bool]:
    """Each pass: the graph rebuilt, backward() called, and every leaf's
    .grad read (zeroed first under `zero_grad`); and whether f's value was
    a vector, summed to start backward() from (autograd.scalar_output)."""
    from . import autograd

    leaves = autograd.leaves_for(point, dtype)
    grads = []
    summed = False
    for _ in range(passes):
        if zero_grad:
            for leaf in leaves.values():
                if leaf.grad is not None:
                    leaf.grad.zero_()  # optimizer.zero_grad() does this
        root = autograd.build(expr, leaves, dtype)
        summed = root.dim() != 0
        output = autograd.scalar_output(root)
        if output.requires_grad:
            output.backward()
        grads.append({name: _value(leaf.grad, leaf) for name, leaf in leaves.items()})
    return grads, summed


def _not_finite(
    expr: Expression, point: atpoint.Point, gradient: dict[str, Gradient], dtype: str
) -> str | None:
    """Where autograd's gradient is not finite, the one-point verdict speaks,
    so `accumulate` and `diff` say the same of a point: the derivative
    undefined there (sqrt(x) at 0) is "undefined" (DomainError, exit 3);
    finite, it is autograd's own NaN (sqrt(x**4) at 0): "disagree", with
    diff's words. None where the gradient is finite."""
    import math

    bad = [
        (name, v) for name, value in gradient.items() for v in _flat(value) if not math.isfinite(v)
    ]
    if not bad:
        return None
    from .pointcheck import differentiate

    single = differentiate(expr, point, dtype=dtype)
    if single.status == "disagree":
        return single.reason
    name, value = bad[0]
    raise DomainError(
        f"autograd's gradient of {expr.source} along {name} is {value} at this "
        f"point (not a finite number): there is nothing to accumulate ({single.reason})"
    )


def _value(grad: Any, leaf: Any) -> Gradient:
    """A leaf's .grad (torch tensors) as a float or a list: zeros when None."""
    if grad is None:
        return 0.0 if leaf.dim() == 0 else [0.0] * leaf.numel()
    values = grad.detach().double()
    return values.item() if values.dim() == 0 else values.tolist()


def _times(value: Gradient, factor: int) -> Gradient:
    return [v * factor for v in value] if isinstance(value, list) else value * factor


def _flat(value: Gradient) -> list[float]:
    return value if isinstance(value, list) else [value]


def _explain(zero_grad: bool, passes: int) -> str:
    if zero_grad:
        return (
            "x.grad was zeroed before each backward() (x.grad.zero_(), or "
            "optimizer.zero_grad() in a training loop), so every pass shows the "
            "gradient itself"
        )
    return (
        "backward() adds into .grad instead of replacing it, so after pass k it holds "
        "k times the gradient; zero it before each backward() (--zero-grad) to get the "
        "gradient itself"
    )
