"""`diff --explain`, `--answer`, `--format markdown|latex`, `--pretty`: the
library calls behind them and the choice of view (the flags that go together
are checked before, in diff_rules).

Without `--at` nothing numeric runs (torch is never imported): the
explanation is symbolic. With `--at`, `pointcheck.differentiate` gives the usual
three-way table and verdict, and the explanation ends with the exact value.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from ..errors import ExitCode
from ..parsing import as_expression
from .group import exit_code


@dataclass(frozen=True)
class Outcome:
    """What the command prints and how it ends."""

    document: dict | None = None  # --json
    text: str | None = None  # markdown, latex
    renderable: Any = None  # Rich, for text
    code: int = ExitCode.OK
    failure: str | None = None  # a step failed its check: one line, exit 70
    unsaid: tuple[str, str] | None = None  # the verdict LaTeX does not show: (status, reason)


@dataclass(frozen=True)
class Asked:
    """What diff's explained path was asked for: the derivative, and how to
    show it."""

    wrt: Any  # --wrt: the variables, or None for all
    order: int
    dtype: str
    autograd: bool  # not --no-autograd
    explain: bool  # --explain: the steps
    answer: str | None  # --answer EXPR: a hand-written derivative to grade
    form: str  # --format: text, markdown or latex
    pretty: bool
    full: bool
    digits: int | None
    json: bool
    latex: bool = False  # --latex: the answer is LaTeX too


@dataclass(frozen=True)
class Found:
    """What the library gave: the table (with --at), the steps, the grade."""

    result: Any  # pointcheck.differentiate's, or None without --at
    explained: Any  # explain.Explanation
    grade: Any  # answer.Grade, or None without --answer


def answer_explained(params: dict) -> int:
    """diff --explain / --answer / --format / --pretty, printed; the exit code."""
    from .output import Writing, emit, show
    from .report import report, verdict

    outcome = explained(params)
    if outcome.document is not None:
        emit(outcome.document)
    elif outcome.text is not None:
        with Writing():
            sys.stdout.write(outcome.text)
        if outcome.unsaid is not None:
            verdict(*outcome.unsaid)
    else:
        show(outcome.renderable)
    if outcome.failure:
        return report("step_check", outcome.failure, outcome.code, False)
    return outcome.code


def explained(params: dict) -> Outcome:
    """The explained path for diff's parsed options (`expression` and `at`
    as read once, see inputs.expression_and_point)."""
    asked = Asked(
        wrt=params["wrt"],
        order=params["order"],
        dtype=params["dtype"].value,
        autograd=not params["no_autograd"],
        explain=params["explain"],
        answer=params["answer"],
        form=params["output_format"].value,
        pretty=params["pretty"],
        full=params["full"],
        digits=params["digits"],
        json=params["json"],
        latex=bool(params.get("latex")),
    )
    return run(params["expression"], params["at"], asked)


def run(expression: Any, at: Any, asked: Asked) -> Outcome:
    """The library calls (differentiate with --at, explain, grade) and the view."""
    from .. import explain as explaining

    expr = as_expression(expression)
    result = None
    if at:
        from ..pointcheck import differentiate

        result = differentiate(
            expr,
            at,
            wrt=asked.wrt,
            order=asked.order,
            dtype=asked.dtype,
            full=asked.full,
            autograd=asked.autograd,
        )
    explained = explaining.explain(expr, wrt=asked.wrt, order=asked.order, at=at or None)
    grade = None
    if asked.answer is not None:
        from ..answer import grade as graded

        grade = graded(explained, asked.answer, latex=True if asked.latex else None)
    found = Found(result, explained, grade)
    failure = explaining.failure_message(explained) if asked.explain else None
    code = ExitCode.INTERNAL if failure else _code(found)
    if asked.json:
        return Outcome(document=_document(found, asked), code=code, failure=failure)
    if asked.form in ("markdown", "latex"):
        unsaid = None  # (markdown's table says the verdict)
        if asked.form == "latex" and result is not None:
            unsaid = (result.status, result.reason)
        return Outcome(text=_math(found, asked), code=code, failure=failure, unsaid=unsaid)
    return Outcome(renderable=_view(found, asked), code=code, failure=failure)


def _code(found: Found) -> int:
    if found.grade is not None and not found.grade.right:
        return ExitCode.DISAGREE
    return ExitCode.OK if found.result is None else exit_code(found.result.status)


def _document(found: Found, asked: Asked) -> dict:
    from .. import jsonout

    if found.result is None:
        return jsonout.explained(found.explained, found.grade, steps=asked.explain)
    return jsonout.explained_at_point(found.result, found.explained, found.grade, asked.explain)


def _math(found: Found, asked: Asked) -> str:
    """Markdown ($...$ math, the table first with --at) or LaTeX (align*)."""
    if asked.form == "latex":
        from ..render.explain import latex

        return latex(found.explained, found.grade, asked.explain, asked.digits)
    from ..render.explain import markdown, table_markdown

    steps = markdown(found.explained, found.grade, asked.explain, asked.digits)
    return table_markdown(found.result, asked.digits) + steps


def _view(found: Found, asked: Asked) -> Any:
    from rich.console import Group

    from ..render.explain import answer_text, pretty_result, text

    parts: list = []
    if found.result is not None:
        from ..render.diff import view

        parts.append(view(found.result, asked.digits))
    if asked.explain:
        parts.append(text(found.explained, found.grade, asked.full, asked.pretty, asked.digits))
    else:
        if asked.pretty:
            parts.append(pretty_result(found.explained))
        if found.grade is not None:
            parts.append(answer_text(found.grade, asked.digits))
    return Group(*parts)
