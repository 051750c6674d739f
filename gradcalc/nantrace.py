"""Where autograd's NaN comes from, and the rewrite that avoids it.

When torch's gradient is NaN or infinite while the function (and its true
derivative) is finite, the cause is an operation whose own derivative is
infinite at its input — sqrt, a fractional power, cbrt or log at 0 — so the
backward pass multiplies ∞ by the 0 that flows into it. `trace` finds the
first such node from the output down (`backward.first_nonfinite`), names the
pattern, and writes the standard safe rewrite of the expression (add a small
ε under the root or the logarithm), with autograd's gradient of the rewrite
at the same point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .parsing import Expression, Node

EPSILON = "1e-12"


@dataclass
class Trace:
    node: str  # the sub-expression where the backward pass meets 0·∞
    argument: str  # its input, at which its derivative is infinite
    pattern: str  # in words
    rewrite: str | None  # the whole expression, rewritten safely
    rewrite_gradient: dict | None  # {variable: autograd's value(s)} of the rewrite

    def words(self) -> str:
        text = f"{self.pattern} at {self.node}"
        if self.rewrite is not None:
            text += f"; the usual safe form is {self.rewrite}"
            if self.rewrite_gradient:
                shown = ", ".join(f"d/d{k} = {_short(v)}" for k, v in self.rewrite_gradient.items())
                text += f", whose autograd gradient here is {shown}"
        return text


def _short(value: float | list[float]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(f"{v:.6g}" for v in value) + "]"
    return f"{value:.6g}"


_PATTERNS = {
    "sqrt": "0·∞ through sqrt at 0 (its derivative 1/(2·sqrt(u)) is infinite there)",
    "cbrt": "0·∞ through cbrt at 0 (its derivative is infinite there)",
    "pow": "0·∞ through a fractional power at 0 (its derivative is infinite there)",
    "log": "0·∞ through log at 0 (its derivative 1/u is infinite there)",
    "log2": "0·∞ through log2 at 0",
    "log10": "0·∞ through log10 at 0",
    "norm": (
        "0·∞ through norm at 0: gradcalc builds norm(x) in torch as sqrt(sum(x*x)), whose "
        "derivative x/norm(x) is 0/0 there (torch.linalg.vector_norm answers the "
        "subgradient 0 instead)"
    ),
}


def trace(expr: Expression, values: dict, point: dict, dtype: str = "float64") -> Trace | None:
    """The trace for `expr` at `point`, where `values` are numpy's forward
    values ({id(node): array}); None when no node explains the NaN."""
    from . import backward

    found = backward.first_nonfinite(expr, values)
    if found is None:
        return None
    node, arg = found
    pattern = _PATTERNS.get(node.op, "0·∞ in the local derivative")
    rewrite = _rewrite(expr, node, arg)
    gradient = _gradient(rewrite, point, dtype) if rewrite is not None else None
    return Trace(node.brief, arg.brief, pattern, rewrite, gradient)


def _rewrite(expr: Expression, node: Node, arg: Node) -> str | None:
    """The source with ε added to the argument where its derivative blows up."""
    if node.op not in _PATTERNS:
        return None
    source = expr.source
    if node.op == "norm":  # sqrt(Σ x²) with ε under the root
        inner = source[arg.start : arg.end]
        return source[: node.start] + f"sqrt(sum(({inner})^2) + {EPSILON})" + source[node.end :]
    span = _argument_span(source, node, arg)
    if span is None:
        return None
    start, end = span
    inner = f"{source[start:end]} + {EPSILON}"
    wrapped = source[start - 1 : start] == "(" and source[end : end + 1] == ")"
    if node.op == "pow" and not wrapped:  # a base needs parentheses; a call has its own
        inner = f"({inner})"
    return source[:start] + inner + source[end:]


def _argument_span(source: str, node: Node, arg: Node) -> tuple[int, int] | None:
    """Where `arg` (the first argument of a call, a power's base) is written
    inside `node`. One variable is one leaf of the tree, and its span is its
    first occurrence (x*cbrt(x): the x before *), so a span outside the
    node's own is found again inside it: after the call's "(", or at the
    start of the power (inside its parenthesis). None if it is not there."""
    if node.start <= arg.start and arg.end <= node.end:
        return arg.start, arg.end
    text = source[arg.start : arg.end]
    if node.op == "pow":
        starts = [node.start, node.start + 1]
    else:
        starts = [source.find("(", node.start, node.end) + 1]
    for start in starts:
        if start > 0 and source[start : start + len(text)] == text:
            return start, start + len(text)
    return None


def _gradient(text: str, point: dict, dtype: str) -> dict | None:
    """autograd's gradient of `text` at `point`, or None if it fails."""
    import numpy as np

    from . import autograd
    from .errors import GradcalcError
    from .parsing import parse

    try:
        expr = parse(text)
        leaves = autograd.leaves_for({n: point[n] for n in expr.variables}, dtype)
        output = autograd.scalar_output(autograd.build(expr, leaves, dtype))
        grads = autograd.derivatives(output, leaves, [(n,) for n in expr.variables])
    except (GradcalcError, KeyError, RuntimeError):
        return None
    found: dict[str, float | list[float]] = {}
    for name, grad in zip(expr.variables, grads):
        value = np.ravel(grad.double().numpy(force=True))
        found[name] = float(value[0]) if np.ndim(point[name]) == 0 else value.tolist()
    return found
