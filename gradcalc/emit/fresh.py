"""Emitted code run in a fresh Python process, for a target whose library
starts threads of its own: JAX, whose XLA runtime starts thread pools on its
first computation (fifteen threads on the 2-core machine) that fork() does
not copy. Imported into gradcalc's process, they would stay for the life of
the process, and every later fork (a command's budgeted child, the repl's
worker, the API's budget) would copy a process whose other threads may hold
locks. So the parent never imports the target's library: the child gets the
code and the points as JSON on stdin and answers f, the gradient and the
Hessian as JSON on stdout. Its `jax_enable_x64` stays in the child too.

This file is also the child's program: it is run by path (`runpy`), not
imported as part of gradcalc, so at its top it imports nothing of gradcalc
(the parent's names are imported only for annotations)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .code import Code

MISSING = 3  # the child's exit status when the target's library is not installed
# An answer at one point: f, the gradient (flat), the Hessian (or None).
Answer = tuple[float, list[float], list[list[float]] | None]


class FreshError(RuntimeError):
    """The child failed: its last line of stderr."""


_started: dict[str, subprocess.Popen] = {}  # a child begun ahead, by module


def begin(module: str) -> None:
    """Start the child now: it imports `module` while this process builds
    and samples the code (2 cores: most of the import is then free)."""
    if module not in _started:
        _started[module] = _child_process(module)


def abandon() -> None:
    """End a child begun ahead and never used (the run failed before it)."""
    for process in _started.values():
        process.kill()
        process.wait()
    _started.clear()


def _child_process(module: str) -> subprocess.Popen:
    child = f"import runpy; runpy.run_path({os.path.abspath(__file__)!r}, run_name='__main__')"
    return subprocess.Popen(
        [sys.executable, "-c", child, str(os.getpid()), module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(
    code: Code, arguments: list[str], points: list[dict], order: int, module: str
) -> list[Answer] | None:
    """`code`'s function called at each point (its arguments in order, each a
    float64 array converted with `module`'s asarray) in a fresh Python
    process (begun ahead, or now): one Answer a point (the Hessian with
    `order` 2), or None when `module` is not installed."""
    request = {
        "code": code.text,
        "function": code.function,
        "order": order,
        "points": [[_plain(point[name]) for name in arguments] for point in points],
    }
    process = _started.pop(module, None) or _child_process(module)
    stdout, stderr = process.communicate(json.dumps(request))
    if process.returncode == MISSING:
        return None
    if process.returncode != 0:
        last = (stderr.strip().splitlines() or [f"exit status {process.returncode}"])[-1]
        raise FreshError(f"the emitted {module} code failed in its own process: {last}")
    return [(f, gradient, hessian) for f, gradient, hessian in json.loads(stdout)]


def _plain(value: Any) -> Any:
    """A float64 number or array as JSON's numbers (repr: exactly the same double)."""
    import numpy as np

    return np.asarray(value, dtype=float).tolist()


def _die_with_parent(parent: int) -> None:
    """As budget.die_with_parent (not imported: this process has no gradcalc)."""
    import contextlib
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _child() -> None:
    """The child's side: the request from stdin, the answers to stdout."""
    import importlib

    import numpy as np

    _die_with_parent(int(sys.argv[1]))
    try:  # before the request comes: the parent is still building it
        numeric = importlib.import_module(f"{sys.argv[2]}.numpy")
    except ImportError as error:
        sys.stdin.read()  # all of it: the parent's write must not meet a closed pipe
        print(f"{error}", file=sys.stderr)
        sys.exit(MISSING)
    request = json.load(sys.stdin)
    namespace: dict[str, Any] = {"__name__": "gradcalc_emitted"}
    exec(compile(request["code"], "<gradcalc emit>", "exec"), namespace)  # gradcalc's output
    function = namespace[request["function"]]
    answers = []
    for values in request["points"]:
        got = function(*(numeric.asarray(v, dtype=numeric.float64) for v in values))
        hessian = np.asarray(got[2], dtype=float).tolist() if request["order"] == 2 else None
        answers.append(
            [float(np.asarray(got[0])), np.asarray(got[1], dtype=float).tolist(), hessian]
        )
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    _child()
