"""`diff --implicit NAME`: EXPR is an equation lhs = rhs; dy/dx at the point
on it both ways (implicit.py), with --explain the steps (implicit_explain.py),
as a Rich view or --json (the flags that go with it: diff_rules)."""

from __future__ import annotations

from typing import Any

from ..errors import ExitCode
from .group import exit_code
from .inputs import expression_text
from .output import emit, read_as, show
from .report import report


def answer_implicit(params: dict) -> int:
    """The implicit derivative for diff's parsed options, shown; the exit code."""
    from .. import implicit

    text = expression_text(params["expression"])
    latex = True if params.get("latex") else None
    at = params.get("at")
    equation = implicit.equation(text, latex, implicit.point_names(at) if at else None)
    read_as(equation)
    result = None
    if at:
        result = implicit.differentiate(
            equation, params["implicit"], list(at), params["order"], params["wrt"]
        )
    explained = _explained(equation, params) if params.get("explain") else None
    if params.get("json"):
        from ..jsonout import implicit as document

        emit(document(result, explained))
    else:
        from ..render.implicit import view

        show(view(result, explained, params.get("digits")))
    failure = explained.failure() if explained is not None else None
    if failure:
        return report("step_check", failure, ExitCode.INTERNAL, False)
    return ExitCode.OK if result is None else exit_code(result.status)


def _explained(equation: Any, params: dict) -> Any:
    import sympy  # noqa: F401  (imported before the budget starts, as explain does)

    from .. import budget, implicit
    from ..implicit_explain import explain

    x, y = implicit.names(equation, params["implicit"], params["wrt"])
    budget.computing()
    symbols, lhs, rhs = implicit.build(equation)
    return explain(lhs, rhs, symbols[x], symbols[y], params["order"], equation.text)
