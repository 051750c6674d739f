"""Before a command computes: the modules it computes with are imported, and
then its time budget starts (start-up is not computing, see budget.py).
Input that does not read is reported before torch's second of importing."""

from __future__ import annotations

from .diff_rules import diff_engines
from .inputs import INPUT, given_text, read_ahead

PARSED = "gradcalc.parsed"  # key of Click's shared context meta


# What each command computes with: imported before its time budget starts,
# since start-up is not computing (budget.py). Modules imported later, on
# demand (SymPy, when SymEngine cannot do the job), count as computing.
ENGINES = {
    "diff": ("torch",),
    "graph": ("torch",),
    "perceptron": ("torch",),
    "accumulate": ("torch",),
    "plot": ("numpy",),
}


def _engines(name: str, params: dict) -> tuple:
    if name == "diff":  # which of diff's flags compute with what: beside its rules
        return diff_engines(params)
    return ENGINES.get(name, ())


def start_computing(name: str, params: dict, meta: dict) -> None:
    """The one place a command's time budget starts (a no-op outside a
    budgeted run): once the modules it computes with are imported. Before
    them, its expression and point are read (`read_ahead`), so that input
    which does not read is reported without torch's second of importing;
    what reads is left in `meta` for the command (`INPUT`)."""
    import importlib

    from .. import budget

    if name == "plot" and params.get("output"):
        from ..render import image

        image.image_format(params["output"])  # a wrong name fails before the import
        image.prepare()
    ahead = read_ahead(params)
    if ahead is not None:
        meta[INPUT] = ahead
    readable = ahead is not None or given_text(params) is None
    engines = _engines(name, params) if readable else ()
    for module in engines:
        importlib.import_module(module)
    if "torch" in engines:
        _fit_threads(params)
    budget.computing()


def _fit_threads(params: dict) -> None:
    """torch's threads for the largest work this run hands it at once: a
    --points chunk, else one point (a vector of at most MAX_VECTOR)."""
    from .. import threads
    from ..batch import CHUNK
    from ..points import MAX_VECTOR

    threads.fit(CHUNK if params.get("points") is not None else MAX_VECTOR)
