"""Autograd in a process apart, for the CLI's many points: torch's import is
most of a second of a `--points` run, and none of the rest (reading the
points, SymPy's import and its values, the finite differences, the kinks)
needs torch. So the CLI forks a helper before it imports SymPy (`start`);
the helper imports torch while this process reads and computes, and then
answers each chunk's autograd pass (`gradients`), in order. A chunk's answer
is a list of float64 arrays, one per derivative wanted.

Whatever goes wrong in the helper (an error of torch's, a helper that died,
an expression that does not pickle) is never the answer: the chunk is done
again in this process, with torch imported here, so that the error, if any,
is the one the run would give without the helper. The helper dies with this
process (budget.die_with_parent). Outside the CLI (`gradcalc.points`, the
API) no helper is started and each chunk is computed in-process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .parsing import Expression

_helper: dict[str, Any] = {}  # "pool": the ProcessPoolExecutor; "ready": it has answered


def start(elements: int) -> None:
    """Fork the helper now and have it import torch, its threads fitted to
    operations over `elements` values (threads.fit). Not when torch is
    imported here already: nothing to gain."""
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor

    if "pool" in _helper or "torch" in sys.modules:
        return
    pool = ProcessPoolExecutor(
        1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_prepare,
        initargs=(os.getpid(), elements),
    )
    pool.submit(int)  # the fork happens now, not at the first chunk
    _helper["pool"] = pool


def stop() -> None:
    """Let the helper go, if there is one: it ends once it is done with what
    it is doing (an error found before any chunk is not held up by torch's
    import; a budgeted run's helper dies with it in any case)."""
    pool = _helper.pop("pool", None)
    _helper.pop("ready", None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def _prepare(parent: int, elements: int) -> None:  # in the helper
    import gc

    from . import budget, threads

    budget.die_with_parent(parent)
    gc.disable()  # importing: nothing to collect (budget.run does the same)
    from . import autograd  # noqa: F401 - torch, imported here, once

    threads.fit(elements)
    gc.freeze()
    gc.enable()


class Pending:
    """One chunk's autograd pass: asked of the helper, or done at once."""

    def __init__(
        self, expr: Expression, points: dict[str, np.ndarray], wanted: list, dtype: str
    ) -> None:
        self.args = (expr, points, wanted, dtype)
        self.future = None
        self.value: list[np.ndarray] | None = None
        pool = _helper.get("pool")
        if pool is not None:
            try:
                self.future = pool.submit(gradients, *self.args)
            except Exception:  # a dead helper: in-process below
                self.future = None
        if self.future is None:
            self.value = gradients(*self.args)

    def ready(self) -> bool:
        return self.future is None or self.future.done()

    def result(self) -> list[np.ndarray]:
        if self.value is None:
            assert self.future is not None
            try:
                if "ready" in _helper:
                    self.value = self.future.result()
                else:
                    from . import budget

                    with budget.starting():  # its first answer waits for torch's import
                        self.value = self.future.result()
                    _helper["ready"] = True
            except Exception:  # any failure there: again here, for its own error
                self.value = gradients(*self.args)
        return self.value


def gradients(
    expr: Expression, points: dict[str, np.ndarray], wanted: Sequence[tuple], dtype: str
) -> list[np.ndarray]:
    """Each derivative in `wanted` by autograd at every point ({name: 1-d
    array}), batched, as float64 arrays."""
    from . import autograd

    leaves = autograd.leaves_for(points, dtype)
    output = autograd.build(expr, leaves, dtype, batched=True)
    found = autograd.derivatives(output, leaves, list(wanted))
    return [grad.double().numpy(force=True) for grad in found]


__all__ = ["Pending", "gradients", "start", "stop"]
