"""Before a command computes: the modules it computes with are imported, and
then its time budget starts (start-up is not computing, see budget.py).
Input that does not read is reported before torch's second of importing."""

from __future__ import annotations

from .diffrules import diff_engines

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


def start_computing(name: str, params: dict) -> None:
    """The one place a command's time budget starts (a no-op outside a
    budgeted run): once the modules it computes with are imported."""
    import importlib

    from .. import budget

    if name == "plot" and params.get("output"):
        from ..render import image

        image.image_format(params["output"])  # a wrong name fails before the import
        image.prepare()
    engines = _engines(name, params) if reads(params) else ()
    for module in engines:
        importlib.import_module(module)
    if "torch" in engines:
        _fit_threads(params)
    budget.computing()


def reads(params: dict) -> bool:
    """Whether the expression parses and its --at points read (or it comes
    from stdin, or there is none): input that does not is reported before
    torch's second of importing. The command reads them again, and raises."""
    text = params.get("expression")
    if not isinstance(text, str) or text.strip() == "-":
        return True
    from ..errors import GradcalcError
    from ..parsing import parse

    try:
        variables = parse(text).variables
        if params.get("at"):
            from .. import points

            points.resolve(list(params["at"]), variables)
            parse(text)  # the newest parse again, after the points' constants
    except GradcalcError:
        return False
    return True


def _fit_threads(params: dict) -> None:
    """torch's threads for the largest work this run hands it at once: a
    --points chunk, else one point (a vector of at most MAX_VECTOR)."""
    from .. import threads
    from ..batch import CHUNK
    from ..points import MAX_VECTOR

    threads.fit(CHUNK if params.get("points") is not None else MAX_VECTOR)
