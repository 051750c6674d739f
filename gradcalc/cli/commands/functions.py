"""`gradcalc functions`: the function table, as a table or JSON."""

from __future__ import annotations

from ..options import Json, examples
from ..output import emit, show

SETTINGS = {
    "epilog": examples("gradcalc functions", "gradcalc functions --json | jq '.functions[].name'"),
}


def functions(json: Json = False) -> int:
    """List the functions and constants expressions may use."""
    from ...functions import CONSTANTS, FUNCTIONS

    if json:
        from ...jsonout import functions as document

        emit(document(FUNCTIONS, CONSTANTS))
        return 0
    from ...render.functions import view

    show(view(FUNCTIONS))
    return 0
