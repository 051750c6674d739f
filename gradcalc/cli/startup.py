"""Before a command computes: the modules it computes with are imported, and
then its time budget starts (start-up is not computing, see budget.py).
Input that does not read is reported before torch's second of importing."""

from __future__ import annotations

from collections.abc import Callable

from .inputs import INPUT, given_text, read_ahead

PARSED = "gradcalc.parsed"  # key of Click's shared context meta
# Among a command's engines: torch, for many points, in a helper process that
# imports it while this one reads the points (helper).
APART = "gradcalc.helper"


def start_computing(engines: Callable[[dict], tuple[str, ...]], params: dict, meta: dict) -> None:
    """The one place a command's time budget starts (a no-op outside a
    budgeted run): once the modules it computes with (`engines`, named by
    the command's module) are imported, since start-up is not computing
    (budget.py); modules imported later, on demand (SymPy, when SymEngine
    cannot do the job), count as computing. Before the imports, the input is
    read (`read_ahead`), so that input which does not read is reported
    without torch's second of importing; what reads is left in `meta` for
    the command (`INPUT`)."""
    import importlib

    from .. import budget

    ahead = read_ahead(params)
    if ahead is not None:
        meta[INPUT] = ahead
    readable = ahead is not None or given_text(params) is None
    modules = engines(params) if readable else ()
    if APART in modules:  # torch, imported by a helper meanwhile
        from .. import helper
        from ..pointsfile import CHUNK

        helper.start(CHUNK)
        if not helper.running():  # torch imported already: fitted here
            modules = (*modules, "torch")
    for module in modules:
        importlib.import_module(module)
    if "torch" in modules:
        _fit_threads(params)
    budget.computing()


def _fit_threads(params: dict) -> None:
    """torch's threads for the largest work this run hands it at once: a
    --points chunk, else one point (a vector of at most MAX_VECTOR)."""
    from .. import threads
    from ..atpoint import MAX_VECTOR
    from ..pointsfile import CHUNK

    threads.fit(CHUNK if params.get("points") is not None else MAX_VECTOR)
