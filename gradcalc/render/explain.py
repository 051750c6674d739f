"""Views of an explanation (`diff --explain`) and of a derivative (`diff
--format markdown|latex`, `--pretty`): Rich text, Markdown with `$...$` math,
and LaTeX in an `align*` environment (amsmath). Views only: the steps, checks
and values come from explain.py, answer.py and pointcheck.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text

from . import Prose, numbers

if TYPE_CHECKING:
    from ..answer import Grade
    from ..derivation import Section, Step
    from ..explain import Explanation

MAX_SHOWN = 300  # characters of a step's expression shown without --full
SUPERSCRIPTS = {2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹", 10: "¹⁰"}
# Rules whose step is F(u) itself: their `how` repeats the equation.
OWN_RULES = {
    "exp",
    "log",
    "trig",
    "inverse trig",
    "hyperbolic",
    "inverse hyperbolic",
    "abs",
    "sign",
    "relu",
    "sigmoid",
    "softplus",
    "erf",
    "root",
    "step function",
    "detach",
}


def _sp() -> ModuleType:
    import sympy

    return sympy


def _cut(text: str, full: bool) -> str:
    if full or len(text) <= MAX_SHOWN:
        return text
    half = MAX_SHOWN // 2 - 10
    return f"{text[:half]} …[{len(text) - 2 * half} characters; --full shows all]… {text[-half:]}"


def operator(wrt: Sequence[str], partial: bool) -> str:
    """d/dx, ∂/∂y, d²/dx², ∂²/∂x∂y."""
    d = "∂" if partial else "d"
    order = len(wrt)
    if order == 1:
        return f"{d}/{d}{wrt[0]}"
    power = SUPERSCRIPTS.get(order, f"^{order}")
    if len(set(wrt)) == 1:
        return f"{d}{power}/{d}{wrt[0]}{power}"
    return f"{d}{power}/" + "".join(f"{d}{name}" for name in wrt)


def latex_operator(wrt: Sequence[str], partial: bool) -> str:
    d = r"\partial " if partial else "d"
    order = len(wrt)
    top = d if order == 1 else f"{d.strip()}^{{{order}}}"
    if order > 1 and len(set(wrt)) == 1:
        bottom = f"{d}{_latex_name(wrt[0])}^{{{order}}}"
    else:
        bottom = " ".join(f"{d}{_latex_name(name)}" for name in wrt)
    return rf"\frac{{{top}}}{{{bottom}}}"


def _latex_name(name: str) -> str:
    return _sp().latex(_sp().Symbol(name))


def step_latex(step: Step) -> str:
    """The step as one LaTeX equation: \\frac{d}{dx}\\left(before\\right) = after."""
    sp = _sp()
    op = latex_operator((str(step.var),), False)
    return rf"{op}\left({sp.latex(step.before)}\right) = {sp.latex(step.after)}"


def _partial(explanation: Explanation) -> bool:
    return len(explanation.variables) > 1


def _mark(step: Step) -> str:
    return f"✓ {step.check}" if step.checked else f"✗ FAILED its check ({step.check})"


def _equation(step: Step, partial: bool, full: bool) -> str:
    sp = _sp()
    d = "∂" if partial and step.rule not in OWN_RULES | {"power", "exponential"} else "d"
    return (
        f"{d}/{d}{step.var} {_cut(sp.sstr(step.before), full)} = {_cut(sp.sstr(step.after), full)}"
    )


def _pretty(before: Any, var: Any, after: Any) -> str:
    """d/dvar before = after in two dimensions; `var` may be a tuple (d²/dx dy)."""
    sp = _sp()
    variables = var if isinstance(var, tuple) else (var,)
    return sp.pretty(
        sp.Eq(sp.Derivative(before, *variables), after, evaluate=False), use_unicode=True
    )


def _wrt_symbols(explanation: Explanation, section: Section) -> tuple:
    return tuple(explanation.symbols[name] for name in section.wrt)


def _value_line(explanation: Explanation, index: int, digits: int | None) -> str | None:
    if not explanation.exact:
        return None
    exact, number = explanation.exact[index]
    sp = _sp()
    point = ", ".join(f"{name} = {sp.sstr(value)}" for name, value in _point_items(explanation))
    if number is None:
        return f"at {point}: not a finite real number"
    shown = numbers.fmt(number, digits)
    if exact is not None and sp.sstr(exact) != shown:
        return f"at {point}: {sp.sstr(exact)} ≈ {shown}"
    return f"at {point}: {shown}"


def _point_items(explanation: Explanation) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in explanation.point.items()]


def text(
    explanation: Explanation,
    grade: Grade | None = None,
    full: bool = False,
    pretty: bool = False,
    digits: int | None = None,
) -> Group:
    """The explanation as Rich text: each section's steps, its result, and
    the exact value at the point; then the answer's grade."""
    sp = _sp()
    partial = _partial(explanation)
    lines: list[RenderableType] = []
    for index, section in enumerate(explanation.sections):
        op = operator(section.wrt, partial)
        head = f"{op} {_cut(sp.sstr(explanation.function), full)}"
        if len(section.wrt) > 1:
            inner = operator(section.wrt[:-1], partial)
            head += f": the derivative by {section.wrt[-1]} of {inner} = "
            head += _cut(sp.sstr(section.function), full)
        lines.append(Text(head + ", step by step", style="bold"))
        steps = [explanation.steps[n - 1] for n in section.steps]
        if not steps:
            lines.append(Text("  (no rule needed: the derivative of a variable or constant)"))
        for step in steps:
            lines.extend(_step_lines(step, partial, full, pretty))
        lines.extend(_result_lines(explanation, section, op, full, pretty))
        value = _value_line(explanation, index, digits)
        if value:
            lines.append(Text("  " + value, style="bold"))
    count = len(explanation.steps)
    failed = explanation.failed()
    if failed:
        lines.append(
            Text(
                f"{len(failed)} of {count} steps FAILED their check: "
                + ", ".join(str(s.number) for s in failed),
                style="bold red",
            )
        )
    else:
        lines.append(
            Text(f"Every step checked against SymPy's derivative ({_methods(explanation)}).")
        )
    if grade is not None:
        lines.append(answer_text(grade, digits))
    return Group(*lines)


def _step_lines(step: Step, partial: bool, full: bool, pretty: bool) -> list[RenderableType]:
    """A step: its number, rule and check; its equation; how the rule was
    applied (unless that repeats the equation) and its note."""
    lines: list[RenderableType] = [Text(f"  {step.number}. {step.rule} rule   {_mark(step)}")]
    if pretty:
        lines.extend(
            Text("       " + row) for row in _pretty(step.before, step.var, step.after).split("\n")
        )
    else:
        lines.append(Prose("       " + _equation(step, partial, full), 9))
    if step.rule not in OWN_RULES:
        lines.append(Prose("       " + _cut(step.how, full), 9, style="dim"))
    if step.note:
        lines.append(Prose("       " + step.note, 9, style="dim"))
    return lines


def _result_lines(
    explanation: Explanation, section: Section, op: str, full: bool, pretty: bool
) -> list[RenderableType]:
    """A section's result (and SymPy's own form of it, when that differs)."""
    sp = _sp()
    if pretty:
        rendered = _pretty(
            section.function, explanation.symbols[section.wrt[-1]], section.derivative
        )
        return [
            Text("  Result:", style="bold"),
            *(Text("    " + row) for row in rendered.split("\n")),
        ]
    result = f"  {op} {_cut(sp.sstr(explanation.function), full)} = "
    shown = sp.sstr(section.result)
    sympy_form = sp.sstr(section.derivative)
    lines: list[RenderableType] = [Prose(result + _cut(shown, full), 4, style="bold")]
    if shown != sympy_form:
        lines.append(Prose(f"    (SymPy writes it {_cut(sympy_form, full)})", 5))
    return lines


def pretty_result(explanation: Explanation) -> Group:
    """Each derivative in SymPy's two-dimensional Unicode form (--pretty)."""
    lines: list[Text] = []

    for section in explanation.sections:
        rendered = _pretty(
            explanation.function, _wrt_symbols(explanation, section), section.derivative
        )
        lines.extend(Text(row) for row in rendered.split("\n"))
        lines.append(Text(""))
    return Group(*lines)


def _methods(explanation: Explanation) -> str:
    counts: dict = {}
    for step in explanation.steps:
        counts[step.check] = counts.get(step.check, 0) + 1
    if not counts:
        return "no steps"
    return ", ".join(f"{n} {method}" for method, n in sorted(counts.items()))


def answer_text(grade: Grade, digits: int | None = None) -> Text:
    read = f" (read as: {grade.read_as})" if grade.read_as is not None else ""
    words = [f"Your answer {grade.answer}{read}: {grade.message}"]
    if grade.point is not None:
        words.append(_difference_words(grade, digits))
    return Text("\n".join(words), style="bold green" if grade.right else "bold red")


def _difference_words(grade: Grade, digits: int | None = None) -> str:
    assert grade.point is not None  # a wrong answer's point
    point = ", ".join(f"{k} = {numbers.fmt(v, digits)}" for k, v in grade.point.items())
    return (
        f"  at {point}: your answer is {numbers.fmt(grade.answer_value, digits)}, the "
        f"derivative {numbers.fmt(grade.derivative_value, digits)} (difference "
        f"{numbers.fmt(grade.difference, digits)})"
    )


# -- Markdown -------------------------------------------------------------------


def _md_escape(text: str) -> str:
    """For inside a code span."""
    return text.replace("`", "'")


def _md_text(text: str) -> str:
    """Plain text whose *, _, [, <, ` and \\ Markdown must not read as markup."""
    return "".join("\\" + c if c in "\\`*_[]<>" else c for c in text)


def markdown(
    explanation: Explanation,
    grade: Grade | None = None,
    steps: bool = True,
    digits: int | None = None,
) -> str:
    """Markdown with $...$ math (GitHub, Jupyter): a numbered list of steps
    and each derivative as display math."""
    sp = _sp()
    partial = _partial(explanation)
    out: list[str] = []
    for index, section in enumerate(explanation.sections):
        op = latex_operator(section.wrt, partial)
        f = sp.latex(explanation.function)
        if steps:
            out.append(f"**${op} \\left({f}\\right)$, step by step**")
            out.append("")
            for n in section.steps:
                step = explanation.steps[n - 1]
                mark = f"checked ({step.check})" if step.checked else "**FAILED its check**"
                out.append(f"{step.number}. **{step.rule} rule**: ${step_latex(step)}$ — {mark}")
                if step.rule not in OWN_RULES:
                    out.append(f"   `{_md_escape(step.how)}`")
                if step.note:
                    out.append(f"   {_md_text(step.note)}")
            out.append("")
        lhs = rf"{op} \left({sp.latex(explanation.function)}\right)"
        out.append(f"$${lhs} = {sp.latex(section.derivative)}$$")
        out.append("")
        value = _value_latex(explanation, index)
        if value:
            out.append(f"At ${value}$.")
            out.append("")
    if grade is not None:
        out.append(_md_grade(grade, digits))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _md_grade(grade: Grade, digits: int | None = None) -> str:
    head = "✅" if grade.right else "❌"
    read = f" (read as `{_md_escape(grade.read_as)}`)" if grade.read_as is not None else ""
    line = f"{head} Your answer `{_md_escape(grade.answer)}`{read}: {_md_text(grade.message)}"
    if grade.point is not None:
        line += "  \n" + _md_text(_difference_words(grade, digits).strip())
    return line


def _value_latex(explanation: Explanation, index: int) -> str | None:
    if not explanation.exact:
        return None
    sp = _sp()
    exact, number = explanation.exact[index]
    point = ", ".join(
        f"{_latex_name(name)} = {sp.latex(value)}" for name, value in _point_items(explanation)
    )
    if number is None:
        return None
    shown = numbers.fmt(number)
    if exact is not None and sp.sstr(exact) != shown:
        return rf"{point}:\ {sp.latex(exact)} \approx {shown}"
    return rf"{point}:\ {shown}"


# -- LaTeX ---------------------------------------------------------------------


def _tex_text(words: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("&", r"\&"), ("%", r"\%")):
        words = words.replace(char, escaped)
    for char in "#$":
        words = words.replace(char, "\\" + char)
    return words


def latex(
    explanation: Explanation,
    grade: Grade | None = None,
    steps: bool = True,
    digits: int | None = None,
) -> str:
    """An align* environment (amsmath): one line per step with its rule, then
    each derivative, and its exact value at the point."""
    sp = _sp()
    partial = _partial(explanation)
    rows: list[str] = []
    for index, section in enumerate(explanation.sections):
        if steps:
            for n in section.steps:
                step = explanation.steps[n - 1]
                label = f"({step.number}) {step.rule} rule"
                if step.inner is not None:
                    name, g = step.inner
                    label_tex = rf"\text{{{_tex_text(label)}, }} {sp.latex(name)} = {sp.latex(g)}"
                else:
                    label_tex = rf"\text{{{_tex_text(label)}}}"
                if not step.checked:
                    label_tex += r"\ \text{FAILED its check}"
                op = latex_operator((str(step.var),), False)
                rows.append(
                    rf"{op}\left({sp.latex(step.before)}\right) &= {sp.latex(step.after)}"
                    rf" && {label_tex}"
                )
        op = latex_operator(section.wrt, partial)
        function = sp.latex(explanation.function)
        rows.append(rf"{op} \left({function}\right) &= {sp.latex(section.derivative)}")
        value = _exact_row(explanation, index, section, partial)
        if value:
            rows.append(value)
    body = " \\\\\n".join("  " + row for row in rows)
    out = [r"\begin{align*}", body, r"\end{align*}"]
    if grade is not None:
        out.append("% " + grade.message.replace("\n", " "))
    return "\n".join(out) + "\n"


def _exact_row(explanation: Explanation, index: int, section: Section, partial: bool) -> str | None:

    if not explanation.exact:
        return None
    sp = _sp()
    exact, number = explanation.exact[index]
    if number is None:
        return None
    point = ", ".join(
        f"{_latex_name(name)} = {sp.latex(value)}" for name, value in _point_items(explanation)
    )
    op = latex_operator(section.wrt, partial)
    lhs = rf"\left.{op} \left({sp.latex(explanation.function)}\right)\right|_{{{point}}}"
    shown = numbers.fmt(number)
    if exact is not None and sp.sstr(exact) != shown:
        return rf"{lhs} &= {sp.latex(exact)} \approx {shown}"
    return rf"{lhs} &= {shown}"


def table_markdown(result: Any, digits: int | None) -> str:
    """With --at, the three methods as a Markdown table above the math."""
    if result is None:
        return ""
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
