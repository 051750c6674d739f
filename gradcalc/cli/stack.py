"""A deep stack for the work: SymPy differentiates and prints recursively."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

RECURSION_LIMIT = 60_000  # SymPy differentiates and prints recursively
STACK_BYTES = 512 * 1024 * 1024  # the worker thread's stack, for that recursion


def deep(work: Callable[[], Any]) -> Any:
    """Run `work()` in a thread with a large stack and recursion limit, so that
    expressions nested to the parser's limit do not exhaust Python's stack.
    Exceptions are re-raised here; Ctrl-C in the main thread ends the run."""
    import threading

    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:
            outcome["error"] = error

    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    previous = threading.stack_size(STACK_BYTES)
    try:
        worker = threading.Thread(target=target, daemon=True)
        worker.start()
    finally:
        threading.stack_size(previous)
    while worker.is_alive():
        worker.join(0.05)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
