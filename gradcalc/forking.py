"""Whether this process may fork, and a fresh Python process when it may not.

gradcalc forks for its budgets (budget.run, budget.Worker, budgeted.call)
and for the CLI's helper (helper.start). fork() copies one thread, the
caller; any other thread's lock, held at that moment (a malloc arena, a
thread pool's queue), stays held in the child for ever, and a library
whose pool lives in those threads finds it gone. gradcalc's own processes
hold no such threads: torch and numpy's OpenBLAS register fork handlers
(pthread_atfork) for their pools, and the JAX code `emit` checks runs in a
process of its own (emit/fresh.py). A program that calls the library may
hold them: the libraries of THREADED, whose pools are not fork-safe.

So before a fork gradcalc asks `hazard()`; when it names a library, the
API's budget and the repl's worker run in a fresh interpreter instead
(`spawn_python`: posix_spawn, which copies no memory, then exec), the CLI's
helper is not started, and a command's budget runs the command in this
process. The test is by name, once the module is imported: cheap, and the
threads of these libraries cannot be told from the harmless ones by looking."""

from __future__ import annotations

import os
import sys

# Imported module -> why a fork after it is unsafe (said in docs/api.md): the
# libraries that say so themselves at every fork (JAX's at-fork handler warns
# "os.fork() is incompatible with multithreaded code, and JAX is
# multithreaded"). A library is added here by name.
THREADED = {
    "jax": "XLA's thread pools, started by JAX's first computation",
    "jaxlib": "XLA's thread pools",
}


def hazard() -> str | None:
    """The first library of THREADED imported into this process, or None:
    None means a fork here copies no thread pool gradcalc does not know."""
    return next((name for name in THREADED if name in sys.modules), None)


def spawn_python(code: str, arguments: list[str], keep: tuple[int, ...]) -> int:
    """The pid of a fresh `python -c code arguments` (this interpreter),
    started without fork (posix_spawn), with the file descriptors `keep`
    open in it at the same numbers, and gradcalc importable there as here."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment = dict(os.environ)
    paths = [package, *filter(None, environment.get("PYTHONPATH", "").split(os.pathsep))]
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    inheritable = [os.get_inheritable(fd) for fd in keep]
    for fd in keep:
        os.set_inheritable(fd, True)
    try:
        return os.posix_spawn(sys.executable, [sys.executable, "-c", code, *arguments], environment)
    finally:
        for fd, was in zip(keep, inheritable):
            os.set_inheritable(fd, was)
