"""The user's function as a formula, where it can be traced into operations
of gradcalc's function table, and SymPy's derivative of it: a fourth method,
`diff`'s symbolic one, beside reverse mode, forward mode and finite differences.

A `__torch_function__` mode runs the function once and writes, for each tensor
an operation makes, its formula in gradcalc's grammar from its arguments'
formulas. An operation outside the table (a matrix product, a reduction along
one axis, an in-place change) stops the tracing: the formula is then None,
with the reason. The formula is parsed by gradcalc's own parser, never eval'd."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from .methods import Setup

BINARY = {
    "__add__": "({0} + {1})", "add": "({0} + {1})", "__radd__": "({1} + {0})",
    "__sub__": "({0} - {1})", "sub": "({0} - {1})", "__rsub__": "({1} - {0})",
    "rsub": "({1} - {0})",
    "__mul__": "({0}*{1})", "mul": "({0}*{1})", "__rmul__": "({1}*{0})",
    "__truediv__": "({0}/{1})", "div": "({0}/{1})", "true_divide": "({0}/{1})",
    "__rtruediv__": "({1}/{0})",
    "__pow__": "({0})**({1})", "pow": "({0})**({1})", "__rpow__": "({1})**({0})",
    "maximum": "max({0}, {1})", "minimum": "min({0}, {1})",
}  # fmt: skip
UNARY_NAMES = (
    "sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "abs", "relu", "sinh",
    "cosh", "asin", "acos", "atan", "erf", "erfc", "log2", "log10", "softplus", "sum", "mean",
)  # fmt: skip
UNARY = {name: name + "({0})" for name in UNARY_NAMES} | {
    "__neg__": "(-{0})", "neg": "(-{0})", "__abs__": "abs({0})", "square": "({0})**2",
}  # fmt: skip
MAX_FORMULA = 5_000  # characters: past it the formula is not shown nor differentiated


class _Untraceable(Exception):
    pass


class Tracing(TorchFunctionMode):
    def __init__(self, formulas: dict[int, str]) -> None:
        super().__init__()
        self.formulas = formulas
        self.kept: list[Any] = []  # tensors whose id() names a formula stay alive
        self.stopped: str | None = None

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        result = func(*args, **(kwargs or {}))
        if self.stopped is None and isinstance(result, torch.Tensor):
            try:
                self.formulas[id(result)] = self._formula(func, args, kwargs or {})
                self.kept.append(result)
            except _Untraceable as why:
                self.stopped = str(why)
        return result

    def _formula(self, func: Any, args: Any, kwargs: dict) -> str:
        name = getattr(func, "__name__", str(func))
        if name in ("float", "double", "to", "clone", "contiguous") and len(args) >= 1:
            return self._text(args[0])
        template = BINARY.get(name) if len(args) == 2 else UNARY.get(name)
        if template is None or kwargs or len(args) not in (1, 2):
            raise _Untraceable(
                f"torch's {name} (with these arguments) is not in gradcalc's function table"
            )
        return template.format(*(self._text(a) for a in args))

    def _text(self, value: Any) -> str:
        if isinstance(value, torch.Tensor):
            if id(value) in self.formulas:
                return self.formulas[id(value)]
            if value.numel() == 1:
                return f"({float(value)!r})"
            raise _Untraceable("a constant tensor of several elements")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Untraceable(f"an argument of type {type(value).__name__}")
        return f"({float(value)!r})"


def trace(setup: Setup) -> tuple[str | None, str]:
    """The function's formula in gradcalc's grammar, or None and why not."""
    shapes = {v.shape for v in setup.values.values() if v.ndim}
    if any(v.ndim > 1 for v in setup.values.values()) or len(shapes) > 1:
        return None, "gradcalc's formulas take numbers and vectors of one length"
    tensors = setup.tensors()
    formulas = {id(t): name for name, t in tensors.items()}
    mode = Tracing(formulas)
    with torch.no_grad(), mode:
        out = setup.function(**tensors)
    if mode.stopped:
        return None, mode.stopped
    if not isinstance(out, torch.Tensor) or out.numel() != 1 or id(out) not in formulas:
        return None, "the output is not one number made by traced operations"
    text = formulas[id(out)]
    if len(text) > MAX_FORMULA:
        return None, f"the formula is longer than {MAX_FORMULA} characters"
    return text, ""


def derivatives(setup: Setup) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The `symbolic` document part, and SymPy's gradient by input (rows = 1)."""
    formula, why = trace(setup)
    if formula is None:
        return {"formula": None, "reason": why}, {}
    from ..errors import GradcalcError
    from ..parsing import parse
    from ..pointcheck import differentiate

    try:
        expression = parse(formula)
        point = {n: setup.values[n] for n in expression.variables}
        result = differentiate(expression, point, autograd=False)
    except GradcalcError as error:
        return {"formula": formula, "reason": f"SymPy could not take it: {error.message}"}, {}
    found, texts = {}, {}
    for partial in getattr(result, "partials", []):
        (name,) = partial.wrt
        found[name] = np.array(partial.sympy, dtype=float).reshape(1, -1)
        texts[name] = partial.symbolic
    for name, value in setup.values.items():
        if name not in found:  # the formula does not use it
            found[name] = np.zeros((1, value.size))
            texts[name] = "0"
    return {"formula": formula, "reason": None, "derivatives": texts}, found
