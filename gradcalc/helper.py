"""A helper process for the CLI's many points, the machine's second core put
to work. torch's import is most of a second of a `--points` run, and none of
the rest (reading the points, SymPy's import and its values, the finite
differences, the kinks) needs torch; and once the points are answered,
writing their text is most of what is left. So the CLI forks the helper
before it imports SymPy (`start`): the helper imports torch while this
process reads and computes, then answers each chunk's autograd pass
(`gradients`) and, once it has answered, their finite differences' quick
pass; and it writes the text of a chunk while this process makes the next
one's, when little else is pending there (cli.diff_points).

Work is asked for with `Later(function, *args)`, answered in the order
asked; `function` and its arguments go to the helper by pickle. Whatever
goes wrong there (an error, a helper that died, arguments that do not
pickle) is never the answer: the work is done again in this process, so that
the error, if any, is the one the run would give without the helper. The
helper dies with this process (budget.die_with_parent). Without `start`
(`gradcalc.points`, the API, the repl, which has torch already) there is no
helper and `Later` computes at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator, Sequence
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

    from .forking import hazard

    if "pool" in _helper or "torch" in sys.modules or hazard() is not None:
        return
    # Set by the helper before it writes a byte of the output, cleared here
    # before each chunk it is given to write (`began_writing`).
    _helper["began"] = multiprocessing.get_context("fork").RawValue("b", 0)
    # The pool's threads (its manager, then the feeder that writes each task
    # to the helper's pipe) start from here and take this thread's signal
    # mask: with SIGPIPE blocked in them, a helper that died makes the
    # feeder's write fail (EPIPE, and the work is done here again, see Later)
    # instead of ending this process, whose SIGPIPE is the default action
    # (a closed stdout ends the run quietly). The helper unblocks it (_prepare).
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPIPE})
    try:
        pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_prepare,
            initargs=(os.getpid(), elements),
        )
        pool.submit(int)  # the fork happens now, not at the first chunk
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    _helper["pool"] = pool


def running() -> bool:
    """Is there a helper to ask?"""
    return "pool" in _helper


def began_writing(now: bool = True) -> bool:
    """Say (in the helper, `now`) that output is about to be written, or
    (with `now` False, here) ask whether it was since the flag was last
    cleared, and clear it: a write the helper failed part way through must
    not be done again after the part it wrote. False without a helper."""
    flag = _helper.get("began")
    if flag is None:
        return False
    began = bool(flag.value)
    flag.value = 1 if now else 0
    return began


def answering() -> bool:
    """Is there a helper that has answered already (torch imported there)?
    Work it may take or leave (the finite differences' quick pass) is asked
    of it only then: before, this process would wait for it."""
    return "pool" in _helper and "ready" in _helper


def stop() -> None:
    """Let the helper go, if there is one: it ends once it is done with what
    it is doing (an error found before any chunk is not held up by torch's
    import; a budgeted run's helper dies with it in any case)."""
    pool = _helper.pop("pool", None)
    for key in ("ready", "asked", "began"):
        _helper.pop(key, None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


@contextlib.contextmanager
def stopped() -> Iterator[None]:
    """`stop()` when the block ends, however it ends."""
    try:
        yield
    finally:
        stop()


def idle(pending: int = 0) -> bool:
    """Is there a helper with at most `pending` things asked of it still to answer?"""
    return "pool" in _helper and len(_helper.get("asked", ())) <= pending


def _prepare(parent: int, elements: int) -> None:  # in the helper
    import gc

    from . import budget, threads

    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGPIPE})  # blocked in start's thread
    budget.die_with_parent(parent)
    gc.disable()  # importing: nothing to collect (budget.run does the same)
    from . import autograd  # noqa: F401 - torch, imported here, once

    threads.fit(elements)
    gc.freeze()
    gc.enable()


class Later:
    """`function(*args)`, asked of the helper (or, without one, done at once)."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function, self.args = function, args
        self.future = None
        self.value: Any = None
        self.done = False
        self.pool = pool = _helper.get("pool")
        if pool is not None:
            try:
                self.future = pool.submit(function, *args)
            except Exception:  # a helper that died: here, below
                self.future = None
            else:
                asked = _helper.setdefault("asked", set())
                asked.add(self.future)
                self.future.add_done_callback(asked.discard)
        if self.future is None:
            self.value, self.done = function(*args), True

    @classmethod
    def now(cls, function: Callable[..., Any], *args: Any) -> Later:
        """`function(*args)` done here, at once, whether or not there is a helper."""
        done = cls.__new__(cls)
        done.function, done.args, done.future, done.pool = function, args, None, None
        done.value, done.done = function(*args), True
        return done

    def ready(self) -> bool:
        """Would `result()` not wait?"""
        return self.done or (self.future is not None and self.future.done())

    def failure(self) -> Exception | None:
        """Once it is done: None, or how it failed in the helper (its error,
        or the helper's death). Unlike `result`, nothing is done again here."""
        if self.done:
            return None
        assert self.future is not None
        try:
            self.value = _wait(self.pool, self.future)
        except Exception as error:
            return error
        self.done = True
        return None

    def result(self) -> Any:
        if not self.done:
            assert self.future is not None
            try:
                if "ready" in _helper:
                    self.value = _wait(self.pool, self.future)
                else:
                    from . import budget

                    try:
                        with budget.waiting("start"):  # its first answer waits for torch's import
                            self.value = _wait(self.pool, self.future)
                    finally:
                        _helper["ready"] = True  # (failed or not: start-up is over)
            except Exception:  # any failure there: again here, for its own error
                self.value = self.function(*self.args)
            self.done = True
        return self.value


# How often a wait for the helper's answer looks whether the helper is alive.
POLL_SECONDS = 0.5


def _wait(pool: Any, future: Any) -> Any:
    """`future.result()`, unless the helper dies first. The pool sees a death
    by itself, except one part way through sending an answer back: its
    reader then waits for the rest of the message, for ever (this process
    holds the pipe's writing end too, so no end of file comes). Then this
    process's end is closed: the reader meets the end of the file, the pool
    is broken, and the future fails at once (Later does the work here)."""
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except TimeoutError:
            processes = getattr(pool, "_processes", None)
            if not processes or any(process.is_alive() for process in processes.values()):
                continue  # alive (or the pool shut down: it settles its futures itself)
            writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
            if writer is not None and not writer.closed:
                writer.close()


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


__all__ = [
    "Later",
    "answering",
    "began_writing",
    "gradients",
    "idle",
    "running",
    "start",
    "stop",
    "stopped",
]
