"""`diff --explain --json` and `--answer --json`: the steps and the grade."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .encoding import SCHEMA_VERSION, put_number, strict

if TYPE_CHECKING:
    from ..answer import Grade
    from ..explain import Explanation


def explanation(explained: Explanation) -> dict[str, Any]:
    """The fields `diff --explain` adds (explain.schema.json, and inside
    diff.schema.json with --at): every step, each derivative, the exact values."""
    import sympy as sp

    from ..render.explain import latex_operator, step_latex

    partial = len(explained.variables) > 1
    steps: list[dict[str, Any]] = []
    for step in explained.steps:
        entry: dict[str, Any] = {
            "step": step.number,
            "section": step.section,
            "rule": step.rule,
            "wrt": str(step.var),
            "before": sp.sstr(step.before),
            "after": sp.sstr(step.after),
            "latex": step_latex(step),
            "how": step.how,
            "note": step.note,
            "uses": list(step.uses),
            "checked": step.checked,
            "check": step.check,
        }
        if step.inner is not None:
            entry["let"] = {"name": str(step.inner[0]), "expression": sp.sstr(step.inner[1])}
        steps.append(entry)
    derivatives: list[dict[str, Any]] = []
    for index, section in enumerate(explained.sections):
        entry = {
            "wrt": list(section.wrt),
            "function": sp.sstr(section.function),
            "symbolic": sp.sstr(section.derivative),
            "latex": f"{latex_operator(section.wrt, partial)}\\left({sp.latex(explained.function)}"
            f"\\right) = {sp.latex(section.derivative)}",
            "result": sp.sstr(section.result),
            "steps": list(section.steps),
        }
        if explained.exact:
            exact, number = explained.exact[index]
            entry["exact"] = None if exact is None else sp.sstr(exact)
            put_number(entry, "exact_value", number)
        derivatives.append(entry)
    return {
        "explanation": steps,
        "symbolic_derivatives": derivatives,
        "checked": explained.checked,
    }


def answer(verdict: Grade) -> dict[str, Any]:
    """`diff --answer`: whether the hand-written derivative is right."""
    body: dict[str, Any] = {
        "answer": verdict.answer,
        "right": verdict.right,
        "method": verdict.method,
        "message": verdict.message,
    }
    if verdict.read_as is not None:
        body["read_as"] = verdict.read_as
    if verdict.point is not None:
        body["point"] = dict(verdict.point)
        put_number(body, "answer_value", verdict.answer_value)
        put_number(body, "derivative_value", verdict.derivative_value)
        put_number(body, "difference", verdict.difference)
    if verdict.step is not None:
        body["step"] = verdict.step
        body["rule"] = verdict.rule
        body["slip"] = verdict.slip
    return {"answer": body}


def explained(
    explained: Explanation, verdict: Grade | None = None, steps: bool = True
) -> dict[str, Any]:
    """`diff --explain` / `--answer` without a point: the symbolic document
    (explain.schema.json); its steps unless `steps` is False (--answer alone)."""
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "expression": explained.expression,
        "variables": list(explained.variables),
        "wrt": list(explained.wrt),
        "order": explained.order,
    }
    symbolic = explanation(explained)
    if not steps:  # --answer alone: the derivatives without their derivation
        del symbolic["explanation"]
    document.update(symbolic)
    if verdict is not None:
        document.update(answer(verdict))
    return strict(document)


def explained_at_point(
    result: Any, explained: Explanation, verdict: Grade | None, steps: bool
) -> dict[str, Any]:
    """`diff --explain` / `--answer` at a point: diff's document (diff.schema.json)
    with the steps (--explain) and the grade (--answer) beside the numbers."""
    from .onepoint import diff

    document = diff(result)
    if steps:
        document.update(explanation(explained))
    if verdict is not None:
        document.update(answer(verdict))
    return document
