"""`gradcalc diff`'s table, with the chain rule's steps and the graph under
it when asked for (--steps, --graph)."""

from __future__ import annotations

from typing import Any

from .diff_rules import DiffFlags


def diff_table(result: Any, flags: DiffFlags, full: bool, digits: int | None, dtype: str) -> Any:
    """The table, then the chain rule's steps and the graph when asked for."""
    from rich.console import Group

    from ..jacobian import Jacobian
    from ..render.diff import view

    parts = [view(result, digits)]
    if not (flags.steps or flags.graph):
        return Group(*parts)
    flags.check_answer(vector_valued=isinstance(result, Jacobian))
    from .. import computation as graph_model

    # The graph's verdict is the table's when the table is its question (the
    # first derivative by every variable): differentiated once, not twice.
    same = flags.order == 1 and list(result.wrt) == list(result.variables)
    verdict = (result.status, result.reason) if same else None
    model = graph_model.build(result.tree, result.point, dtype, verdict)
    if flags.steps:
        from ..render.steps import view as steps_view

        parts.append(steps_view(model, result.wrt, full, digits, flags.order))
    if flags.graph:
        from ..render.graph import tree

        parts.append(tree(model, full, digits))
    return Group(*parts)
