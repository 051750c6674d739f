"""Custom `torch.autograd.Function`s, each checked alone: its `backward`
(what reverse mode runs) against finite differences of its `forward`, at
the inputs the user's function called it with. A disagreement of the whole
function is then pinned on the Function, and on which of its inputs."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import torch

from .methods import Setup, output_tensor

_ISOLATING: ContextVar[bool] = ContextVar("gradcalc_isolating", default=False)


@contextlib.contextmanager
def _recording_calls(found: dict[type, tuple]) -> Iterator[None]:
    """Function.apply, patched for the call: the first arguments of each class."""
    function = torch.autograd.Function
    original = function.__dict__["apply"]

    def apply(cls: type, *args: Any, **kwargs: Any) -> Any:
        found.setdefault(cls, args)
        return original.__func__(cls, *args, **kwargs)

    function.apply = classmethod(apply)  # type: ignore[assignment, method-assign]
    try:
        yield
    finally:
        function.apply = original  # type: ignore[method-assign]


def _names(cls: type, count: int) -> list[str]:
    try:
        names = list(inspect.signature(cls.forward).parameters)[1:]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"input{i}" for i in range(count)]


def check_each(setup: Setup, customs: list[dict[str, Any]], check: Callable[..., Any]) -> None:
    """Adds `check` (status, reason, each input's agree) to each entry of
    `customs`, in place; `check(target, values)` is checking.check_point
    (handed down: it calls this module). Not within such a check (no Function inside a
    Function's own check is checked again)."""
    if not customs or _ISOLATING.get():
        return
    found: dict[type, tuple] = {}
    with _recording_calls(found), contextlib.suppress(Exception):
        setup.call(setup.tensors(grad=True), "recording")
    token = _ISOLATING.set(True)
    try:
        for cls, args in found.items():
            entry = next((c for c in customs if c["name"] == cls.__qualname__), None)
            if entry is not None:
                entry["check"] = _alone(cls, args, setup.user_file, check)
    finally:
        _ISOLATING.reset(token)


def _alone(
    cls: type, args: tuple, user_file: str | None, check: Callable[..., Any]
) -> dict[str, Any]:
    from .target import Target

    names = _names(cls, len(args))
    positions = {
        names[i]: i
        for i, a in enumerate(args)
        if isinstance(a, torch.Tensor) and a.is_floating_point()
    }

    def alone(**tensors: torch.Tensor) -> torch.Tensor:
        given = list(args)
        for name, i in positions.items():
            given[i] = (
                tensors[name].to(args[i].dtype) if args[i].dtype != torch.float64 else tensors[name]
            )
        return output_tensor(_first(cls.apply(*given)))  # type: ignore[attr-defined]

    alone.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in positions]
    )
    values = {n: args[i].detach().double().cpu().numpy() for n, i in positions.items()}
    try:
        result = check(Target(alone, cls.__qualname__, cls.__qualname__, user_file), values)
    except Exception as error:  # the Function alone may not run as called: said, not raised
        return {
            "status": None,
            "reason": f"not checked alone: {type(error).__name__}: {error}"[:200],
        }
    return {
        "status": result.status,
        "reason": result.reason,
        "inputs": {item.name: item.agree for item in result.inputs},
    }


def _first(out: Any) -> Any:
    if isinstance(out, tuple | list):
        tensors = [o for o in out if isinstance(o, torch.Tensor) and o.is_floating_point()]
        return torch.cat([t.reshape(-1) for t in tensors]) if tensors else out
    return out


def blamed(customs: list[dict[str, Any]]) -> str:
    """The words that pin a disagreement on Functions checked alone."""
    parts = []
    for entry in customs:
        check = entry.get("check") or {}
        wrong = [name for name, agree in check.get("inputs", {}).items() if not agree]
        if check.get("status") == "disagree" and wrong:
            parts.append(f"{entry['name']}.backward is wrong for its input {', '.join(wrong)}")
    return "; checked alone, " + "; ".join(parts) if parts else ""
