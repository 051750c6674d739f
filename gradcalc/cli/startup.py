"""Before a command computes: the modules it computes with are imported, and
then its time budget starts (start-up is not computing, see budget.py).
Input that does not read is reported before torch's second of importing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .diff_rules import diff_engines
from .inputs import unprotected

if TYPE_CHECKING:
    from ..parsing import Expression
    from ..points import Point

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
    readable = ahead is not None or _given_text(params) is None
    engines = _engines(name, params) if readable else ()
    for module in engines:
        importlib.import_module(module)
    if "torch" in engines:
        _fit_threads(params)
    budget.computing()


INPUT = "gradcalc.input"  # key of Click's context meta: the input read ahead


@dataclass(frozen=True)
class ReadAhead:
    """The command's expression and point, read once before the imports."""

    text: str  # the expression as the command reads it
    expression: Expression
    point: Point | None  # None: no --at


def _given_text(params: dict) -> str | None:
    """The expression's text on the command line (None: none, or stdin's)."""
    text = params.get("expression")
    if not isinstance(text, str) or text.strip() == "-":
        return None
    return unprotected(text)


def read_ahead(params: dict) -> ReadAhead | None:
    """The expression parsed and its --at points resolved, or None when
    there is no expression on the command line or it (or a point) does not
    read: the command then reads them itself and raises, in its own order."""
    from .. import points
    from ..errors import GradcalcError
    from ..parsing import parse

    text = _given_text(params)
    if text is None:
        return None
    try:
        expression = parse(text)
        at = params.get("at")
        point = points.point(list(at), expression.variables) if at else None
    except GradcalcError:
        return None
    return ReadAhead(text, expression, point)


def _fit_threads(params: dict) -> None:
    """torch's threads for the largest work this run hands it at once: a
    --points chunk, else one point (a vector of at most MAX_VECTOR)."""
    from .. import threads
    from ..batch import CHUNK
    from ..points import MAX_VECTOR

    threads.fit(CHUNK if params.get("points") is not None else MAX_VECTOR)
