"""The library's entry to `gradcalc check`: a target (a function, or text
`PATH.py:NAME`), a point or random points, one Result (the worst point's
when there are several)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import UsageError
from ..verdict import Status
from . import inputs
from .checking import Result, check_point
from .target import Target, load, parameters, required

MAX_RANDOM = 1_000  # points of one --random run
# Which of several points is the worst: its status first, then its error.
SEVERITY = {Status.DISAGREE: 3, Status.KINK: 2, Status.UNDEFINED: 1, Status.AGREE: 0}


def target_of(function: Callable[..., Any] | str) -> Target:
    if isinstance(function, str):
        return load(function)
    if not callable(function):
        raise UsageError(f"{type(function).__name__} is not callable")
    import inspect

    try:
        source = inspect.getsourcefile(function)
    except TypeError:
        source = None
    name = getattr(function, "__qualname__", type(function).__name__)
    return Target(function, name, name, source)


def check(
    function: Callable[..., Any] | str,
    at: dict[str, Any] | list[str] | None = None,
    random: int | None = None,
    seed: int = 0,
    shape: dict[str, tuple[int, ...]] | list[str] | None = None,
    symbolic: bool = True,
) -> Result:
    """Check `function`'s gradients at `at` ({name: number, list or tensor},
    or --at strings), or at `random` points (normal draws around `at`, or of
    `shape`), seeded by `seed`: the worst point's Result."""
    target = target_of(function)
    names, needed = parameters(target.function), required(target.function)
    given = _given(at, names, needed if not (random and shape) else [])
    if not random:
        if shape:
            raise UsageError(
                "{shape} is for {random} points; give the point with {at}",
                option=("shape", "random", "at"),
            )
        return check_point(target, inputs.covering(given, needed), seed, symbolic)
    if not 1 <= random <= MAX_RANDOM:
        raise UsageError(f"must be from 1 to {MAX_RANDOM}", option="random")
    shapes = inputs.shapes(shape) if isinstance(shape, list) else dict(shape or {})
    for name in shapes:
        if name not in names:
            raise UsageError(
                f"{name!r} is not a parameter of the function (its parameters: {', '.join(names)})",
                option="shape",
            )
    points = inputs.random_points(random, seed, given, shapes, needed)
    results = [check_point(target, point, seed, symbolic) for point in points]
    worst = max(range(len(results)), key=lambda i: _badness(results[i]))
    counts = {s: sum(r.status == s for r in results) for s in SEVERITY}
    return replace(
        results[worst], random={"points": random, "seed": seed, "worst": worst, "statuses": counts}
    )


def _badness(result: Result) -> tuple[int, float]:
    error = max((m.relative_error for m in result.mismatches), default=0.0)
    return SEVERITY[result.status], float(np.nan_to_num(error, nan=np.inf))


def _given(at: Any, names: list[str], needed: list[str]) -> dict[str, np.ndarray]:
    if at is None:
        return {}
    if isinstance(at, str):
        at = [at]
    if isinstance(at, list):
        return inputs.read(at, names, needed)
    values = {}
    for name, value in dict(at).items():
        if name not in names:
            raise UsageError(
                f"{name!r} is not a parameter of the function (its parameters: {', '.join(names)})",
                option="at",
            )
        values[name] = _array(name, value)
    return values


def _array(name: str, value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().double().cpu().numpy()
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)):
        raise UsageError(f"{name}: not a finite number", option="at")
    return array
