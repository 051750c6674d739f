"""A `__torch_function__` mode that watches the user's function run: each
torch operation, the line of the user's file that called it, and the
tensors it made (by their autograd node). From the record come the kinks
(a tie of maximum/minimum, relu/abs/clamp at a corner), the line a NaN
gradient is made on, and the float64 "shadow" run of code written for float32."""

from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_map

from .target import _library_roots


@dataclass
class Operation:
    name: str  # torch's name of the function: "sqrt", "where", "maximum"
    file: str | None
    line: int | None
    text: str
    inputs: list[Any]  # the tensor arguments (kept: their values are read)
    output: Any  # the tensor made, or None
    node: Any = None  # its autograd node (grad_fn), or None

    def where(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "text": self.text}


@dataclass
class Record:
    operations: list[Operation] = field(default_factory=list)

    def by_node(self) -> dict[int, Operation]:
        return {id(op.node): op for op in self.operations if op.node is not None}

    def consumers(self, tensor: Any) -> list[Operation]:
        return [op for op in self.operations if any(t is tensor for t in op.inputs)]


def _name(func: Any) -> str:
    name = getattr(func, "__name__", str(func))
    return "pow" if name in ("__pow__", "__rpow__") else name.strip("_")


def _caller() -> tuple[str | None, int | None, str]:
    """The innermost frame in the user's own files."""
    roots = _library_roots()
    frame = sys._getframe(2)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(roots) and not frame.f_code.co_filename.startswith("<"):
            line = frame.f_lineno
            return frame.f_code.co_filename, line, linecache.getline(path, line).strip()
        frame = frame.f_back  # type: ignore[assignment]
    return None, None, ""


class Recording(TorchFunctionMode):
    """Records every operation with its caller's line (an overhead of one
    stack walk an operation: used for one extra forward pass, not in the
    finite differences)."""

    def __init__(self, record: Record) -> None:
        super().__init__()
        self.record = record

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        tensors = [
            a for a in _flat(args) + _flat(list(kwargs.values())) if isinstance(a, torch.Tensor)
        ]
        output = result if isinstance(result, torch.Tensor) else None
        if (
            output is None
            and isinstance(result, tuple | list)
            and result
            and isinstance(result[0], torch.Tensor)
        ):
            output = result[0]
        if output is not None or tensors:
            file, line, text = _caller()
            node = getattr(output, "grad_fn", None) if output is not None else None
            self.record.operations.append(
                Operation(_name(func), file, line, text, tensors, output, node)
            )
        return result


def _flat(items: Any) -> list[Any]:
    flat: list[Any] = []
    for item in items:
        if isinstance(item, tuple | list):
            flat.extend(_flat(item))
        else:
            flat.append(item)
    return flat


LOW = (torch.float32, torch.float16, torch.bfloat16)


def _wide(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.dtype in LOW:
        return value.double()
    if isinstance(value, torch.dtype) and value in LOW:
        return torch.float64
    return value


class Float64(TorchFunctionMode):
    """Runs code written for float32 in float64: every float32 tensor an
    operation takes or makes, and every float32 dtype it is asked for, is
    float64 instead (`.float()` keeps float64). Parameters of a module are
    widened as they are used (differentiably: gradients still reach them)."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func in (torch.Tensor.float, torch.Tensor.half, torch.Tensor.bfloat16):
            return _wide(args[0])
        if (
            func in (torch.Tensor.type,)
            and args[1:]
            and args[1] in (torch.float32, "torch.FloatTensor")
        ):
            return _wide(args[0])
        args, kwargs = tree_map(_wide, args), tree_map(_wide, kwargs)
        return tree_map(_wide, func(*args, **kwargs))
