"""`diff --implicit --json`: the implicit derivative at a point, both methods
and the verdict; with --explain, its steps (implicit.schema.json)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .encoding import SCHEMA_VERSION, put_number, strict

if TYPE_CHECKING:
    from ..implicit import Implicit
    from ..implicit_explain import ImplicitExplanation


def implicit(
    result: Implicit | None, explained: ImplicitExplanation | None = None
) -> dict[str, Any]:
    """The document; `result` None for --explain without --at."""
    document: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if result is not None:
        document.update(_result(result))
    if explained is not None:
        document.setdefault("equation", explained.equation)
        document.setdefault("function", explained.y)
        document.setdefault("variable", explained.x)
        document.setdefault("order", explained.order)
        document["explanation"] = {
            "steps": [
                {
                    "number": step.number,
                    "rule": step.rule,
                    "before": step.before,
                    "after": step.after,
                    "how": step.how,
                    "uses": list(step.uses),
                    "checked": step.checked,
                    "check": step.check,
                }
                for step in explained.steps
            ],
            "results": list(explained.results),
            "checked": explained.checked,
        }
    return strict(document)


def _result(result: Implicit) -> dict[str, Any]:
    eq = result.equation
    on_curve: dict[str, Any] = {"tolerance": result.on_curve_tolerance}
    put_number(on_curve, "lhs", result.lhs_value)
    put_number(on_curve, "rhs", result.rhs_value)
    put_number(on_curve, "residual", result.residual)
    derivative: dict[str, Any] = {"symbolic": result.formula}
    put_number(derivative, "sympy", result.symbolic)
    put_number(derivative, "numeric", result.numeric)
    put_number(derivative, "difference", result.difference)
    put_number(derivative, "y_solved", result.y_solved)
    return {
        "equation": eq.text,
        "lhs": eq.lhs.source,
        "rhs": eq.rhs.source,
        "function": result.y,
        "variable": result.x,
        "order": result.order,
        "point": dict(result.point),
        "on_curve": on_curve,
        "derivative": derivative,
        "tolerance": _tolerance(),
        "agree": result.status == "agree",
        "status": result.status,
        "reason": result.reason,
    }


def _tolerance() -> dict[str, float]:
    from ..implicit import AGREE, ON_CURVE

    return {"agree_relative": AGREE, "on_curve_relative": ON_CURVE}
