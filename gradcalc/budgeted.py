"""A function called within a command's budget (budget.py): in a forked
child, its result or its exception pickled back. The Python API's calls.

When this process holds threads a fork must not copy (forking.hazard: the
caller imported JAX, say), the child is a fresh interpreter instead
(forking.spawn_python): `function` then goes to it by pickle (a partial of
a module-level function, not a closure), its start-up (importing gradcalc,
SymPy, torch: about 2 s) counted as a command's start-up is. The repl's
warm child (`Worker`) likewise."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from . import budget, forking


def call(
    function: Callable[[], Any],
    seconds: float,
    overrun: Callable[[str], BaseException],
    advice: str = budget.RAISE_IT_CLI,
    modules: tuple[str, ...] = (),
) -> Any:
    """`function()` in a forked child within a budget of `seconds` of CPU time
    (with its wall-clock ceiling) and of memory (budget.MEMORY_BYTES), as a
    command's: the value it returns, or the exception it raises, pickled
    back and returned or raised here. Past the budget the child is ended and
    `overrun(message)` raised (`advice` says in the message how to raise the
    budget); Ctrl-C ends the child and raises KeyboardInterrupt. Where there
    is no fork, or no memfd to carry the answer, `function()` runs here,
    unbudgeted. `modules` are imported by a spawned child before its budget
    starts (see the module's docstring)."""
    if not hasattr(os, "fork") or not hasattr(os, "memfd_create"):
        return function()
    answer = os.memfd_create("gradcalc-answer")
    try:
        if forking.hazard() is None:
            pid, ready_read = _fork_for(function, seconds, answer)
        else:
            pid, ready_read = _spawn_for(function, modules, seconds, answer)
        watch = budget._Watch(pid, budget.MEMORY_BYTES, None, None)
        watch.advice = advice
        ended: dict[str, tuple] = {}

        def on_overrun(message: str) -> int:
            ended["overrun"] = (message,)
            return budget._UNDEFINED

        def on_signal(message: str, code: int) -> int:
            ended["signal"] = (message, code)
            return code

        watch.on_overrun, watch.on_signal = on_overrun, on_signal
        code = watch.run(ready_read)
        if "overrun" in ended:
            raise overrun(ended["overrun"][0])
        if "signal" in ended:
            message, code = ended["signal"]
            if code == budget._INTERRUPTED:
                raise KeyboardInterrupt
            raise RuntimeError(f"gradcalc's budgeted computation ended: {message}")
        return _answer(answer, code)
    finally:
        os.close(answer)


def _fork_for(function: Callable[[], Any], seconds: float, answer: int) -> tuple[int, int]:
    """Fork the child of `call`: it computes within the budget and writes
    ("value", pickle) or ("error", pickle, words) to the memfd `answer`.
    (pid, the read end of the pipe it says its phases on)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    ready_read, ready_write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid:
        os.close(ready_write)
        return pid, ready_read
    with contextlib.suppress(OSError):  # (the child: nothing may raise past here)
        os.close(ready_read)
    _child(function, parent, seconds, ready_write, answer)


def _spawn_for(
    function: Callable[[], Any], modules: tuple[str, ...], seconds: float, answer: int
) -> tuple[int, int]:
    """As _fork_for, in a fresh interpreter (`spawned`): the function and
    the modules to import first go to it pickled, in a memfd."""
    import pickle

    request = os.memfd_create("gradcalc-request")
    try:
        with _deep_enough():
            data = pickle.dumps((function, modules))
        view = memoryview(data)
        while view:
            view = view[os.write(request, view) :]
        ready_read, ready_write = os.pipe()
        numbers = [str(os.getpid()), str(seconds), str(request), str(ready_write), str(answer)]
        code = "from gradcalc.budgeted import spawned; spawned()"
        pid = forking.spawn_python(code, numbers, (request, ready_write, answer))
    finally:
        os.close(request)
    os.close(ready_write)
    return pid, ready_read


def spawned() -> NoReturn:
    """The spawned child's entry (sys.argv: the parent's pid, the seconds,
    the request's memfd, the phase pipe, the answer's memfd)."""
    import importlib
    import pickle

    parent, seconds, request, ready_write, answer = sys.argv[1:6]
    budget.die_with_parent(int(parent))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent answers Ctrl-C
    fd = int(request)
    with _deep_enough():  # start-up: the function's modules are imported here
        function, modules = pickle.loads(os.pread(fd, os.fstat(fd).st_size, 0))
    os.close(fd)
    for module in modules:
        importlib.import_module(module)
    _child(function, int(parent), float(seconds), int(ready_write), int(answer))


def _child(
    function: Callable[[], Any], parent: int, seconds: float, ready_write: int, answer: int
) -> NoReturn:
    """The child's side of `call`: compute within the budget, write the
    answer, exit."""
    code = budget._INTERNAL
    try:
        import pickle

        budget.die_with_parent(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent answers Ctrl-C
        budget._ready_fd = ready_write
        budget.set_timeout(seconds, True)
        budget.computing()
        try:
            value = function()
            with _deep_enough():
                data = pickle.dumps(("value", value))
        except BaseException as error:  # handed to the caller, as if raised there
            words = f"{type(error).__name__}: {error}"
            try:
                data = pickle.dumps(("error", pickle.dumps(error), words))
            except Exception:
                data = pickle.dumps(("error", b"", words))
        budget._say("write")
        view = memoryview(data)
        while view:
            view = view[os.write(answer, view) :]
        code = 0
    finally:
        os._exit(code)


class Worker(budget.Worker):
    """budget.Worker (the repl's warm child) whose child, where this process
    may not fork (forking.hazard), is a fresh interpreter (`worker`): `serve`
    goes to it by pickle, and its start-up imports count as a command's.
    `spawn` set: always (a long-lived host process whose state a fork would
    copy, such as a test runner's)."""

    spawn = False

    def _start(self) -> None:
        if not self.spawn and forking.hazard() is None:
            super()._start()
            return
        import pickle

        sys.stdout.flush()
        sys.stderr.flush()
        requests_read, self._requests = os.pipe()
        self._ready, ready_write = os.pipe()
        self._outputs = (os.memfd_create("stdout"), os.memfd_create("stderr"))
        kept = (requests_read, ready_write, *self._outputs)
        numbers = [str(os.getpid()), *map(str, kept), pickle.dumps(self.serve).hex()]
        try:
            code = "from gradcalc.budgeted import worker; worker()"
            self.pid = forking.spawn_python(code, numbers, kept)
        finally:
            os.close(requests_read)
            os.close(ready_write)


def worker() -> NoReturn:
    """A spawned Worker's child (sys.argv: the parent's pid, the requests
    pipe, the phase pipe, the stdout and stderr memfds, `serve` pickled)."""
    import pickle

    parent, requests, ready, stdout, stderr, serve = sys.argv[1:7]
    budget.die_with_parent(int(parent))
    child = budget.Worker(pickle.loads(bytes.fromhex(serve)))
    child._outputs = (int(stdout), int(stderr))
    child._child(int(parent), int(requests), int(ready))


def _answer(answer: int, code: int) -> Any:
    """What the child of `call` wrote: its value, or its exception raised."""
    import pickle

    size = os.fstat(answer).st_size
    if code != 0 or not size:
        raise RuntimeError(f"gradcalc's budgeted computation exited with status {code}")
    with _deep_enough():
        kind, *rest = pickle.loads(os.pread(answer, size, 0))
    if kind == "value":
        return rest[0]
    pickled, words = rest
    try:
        error = pickle.loads(pickled)
    except Exception:
        error = None
    if isinstance(error, BaseException):
        raise error
    raise RuntimeError(words)


# Recursion a pickle of the deepest expression the parser takes (400 levels,
# several calls each) needs: Python's default limit, 1,000, is too shallow.
PICKLE_DEPTH = 10_000


@contextlib.contextmanager
def _deep_enough() -> Iterator[None]:
    """Python's recursion limit at least PICKLE_DEPTH for the block."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, PICKLE_DEPTH))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


__all__ = ["call"]
