"""`diff --explain`, `--answer`, `--format markdown|latex`, `--pretty`: the
library calls behind them and the choice of view (the flags that go together
are checked before, in diffrules).

Without `--at` nothing numeric runs (torch is never imported): the
explanation is symbolic. With `--at`, `check.differentiate` gives the usual
three-way table and verdict, and the explanation ends with the exact value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ExitCode
from .group import exit_code


@dataclass
class Outcome:
    """What the command prints and how it ends."""

    document: dict | None = None  # --json
    text: str | None = None  # markdown, latex
    renderable: Any = None  # Rich, for text
    code: int = ExitCode.OK
    failure: str | None = None  # a step failed its check: one line, exit 70


def run(
    expression: str,
    at: list | None,
    wrt,
    order: int,
    dtype: str,
    *,
    explain: bool,
    answer: str | None,
    form: str,
    pretty: bool,
    full: bool,
    autograd: bool,
    digits: int | None,
    json: bool,
) -> Outcome:
    from .. import explain as explaining
    from ..parsing import parse

    expr = parse(expression)
    result = None
    if at:
        from ..check import differentiate

        result = differentiate(
            expr, at, wrt=wrt, order=order, dtype=dtype, full=full, autograd=autograd
        )
    explained = explaining.explain(expr, wrt=wrt, order=order, at=at or None)
    verdict = None
    if answer is not None:
        from ..answer import grade

        verdict = grade(explained, answer)
    code = ExitCode.OK if result is None else exit_code(result.status)
    if verdict is not None and not verdict.right:
        code = ExitCode.DISAGREE
    failure = explaining.failure_message(explained) if explain else None
    outcome = Outcome(code=ExitCode.INTERNAL if failure else code, failure=failure)
    if json:
        from .. import jsonout

        if result is None:
            outcome.document = jsonout.explained(explained, verdict)
            if not explain:
                outcome.document.pop("explanation")
        else:
            document = jsonout.diff(result)
            if explain:
                document.update(jsonout.explanation(explained))
            if verdict is not None:
                document.update(jsonout.answer(verdict))
            outcome.document = document
        return outcome
    if form == "markdown":
        from ..render.explain import markdown

        outcome.text = _numbers_md(result, digits) + markdown(explained, verdict, explain, digits)
        return outcome
    if form == "latex":
        from ..render.explain import latex

        outcome.text = latex(explained, verdict, explain, digits)
        return outcome
    from rich.console import Group

    from ..render.explain import answer_text, pretty_result, text

    parts: list = []
    if result is not None:
        from ..render.diff import view

        parts.append(view(result, digits))
    if explain:
        parts.append(text(explained, verdict, full, pretty, digits))
    else:
        if pretty:
            parts.append(pretty_result(explained))
        if verdict is not None:
            parts.append(answer_text(verdict, digits))
    outcome.renderable = Group(*parts)
    return outcome


def _numbers_md(result, digits) -> str:
    """With --at, the three methods as a Markdown table above the math."""
    if result is None:
        return ""
    from ..render import numbers
    from ..render.explain import _md_text, operator

    rows = [
        "| derivative | SymPy | autograd | finite differences | agree |",
        "| --- | --- | --- | --- | --- |",
    ]
    for partial in result.partials:
        name = operator(partial.wrt, len(result.variables) > 1)
        cells = [
            "skipped" if value is None and key == "autograd" else numbers.fmt(value, digits)
            for key in ("sympy", "autograd", "finite_difference")
            for value in [getattr(partial, key)]
        ]
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {'yes' if partial.agree else 'no'} |")
    rows.append("")
    rows.append(f"Verdict: **{result.status}** — {_md_text(result.reason)}")
    return "\n".join(rows) + "\n\n"
