"""The `diff` view: one table per derivative and a verdict line."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..verdict import Status
from . import numbers, titled

_MARK = {
    Status.AGREE: ("✓", "green"),
    Status.DISAGREE: ("✗", "red"),
    Status.KINK: ("✗", "yellow"),
    Status.UNDEFINED: ("✗", "red"),
}


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _label(partial) -> str:
    """∂f/∂x, ∂²f/∂x∂y."""
    power = "" if partial.order == 1 else str(partial.order).translate(_SUPERSCRIPT)
    below = []
    for name in dict.fromkeys(partial.wrt):
        count = partial.wrt.count(name)
        below.append(f"∂{name}" + (str(count).translate(_SUPERSCRIPT) if count > 1 else ""))
    return f"∂{power}f/" + "".join(below)


def _point(result) -> str:
    from ..points import as_json

    return ", ".join(f"{k} = {numbers.short(v, 10)}" for k, v in as_json(result.point).items())


_ENGINE_LABEL = {
    ("sympy", False): "SymPy (symbolic, 30 digits)",
    ("symengine", False): "SymEngine (symbolic, float64)",
    ("sympy", True): "SymPy (chain rule, float64)",
    ("symengine", True): "SymEngine (chain rule, float64)",
}


def partial_table(result, partial) -> Group:
    table = Table()
    table.add_column("method")
    table.add_column("value", justify="right", overflow="fold")
    table.add_column("|error| vs SymPy", justify="right")
    symbolic = _ENGINE_LABEL[result.engine, result.chain_rule]
    table.add_row(symbolic, numbers.number(partial.sympy), "—")
    skipped = partial.autograd is None or (
        isinstance(partial.autograd, list) and all(v is None for v in partial.autograd)
    )
    table.add_row(
        f"autograd (torch {result.dtype})",
        "skipped" if skipped else numbers.number(partial.autograd),
        "—" if skipped else numbers.error(partial.autograd, partial.sympy),
    )
    table.add_row(
        "finite differences (float64)",
        numbers.number(partial.finite_difference),
        numbers.error(partial.finite_difference, partial.sympy),
    )
    return titled(
        Text(f"{_label(partial)} = ", style="bold") + Text(_symbolic(partial.symbolic)), table
    )


def partials_table(result) -> Table:
    """Several derivatives (a gradient or a Hessian): one row each."""
    table = Table()
    table.add_column("derivative")
    table.add_column("symbolic")
    for heading in ("SymPy", f"autograd {result.dtype}", "finite diff."):
        table.add_column(heading, justify="right", overflow="fold")
    table.add_column("agree", justify="center")
    for partial in result.partials:
        table.add_row(
            _label(partial),
            _symbolic(partial.symbolic),
            numbers.short(partial.sympy, 10),
            numbers.short(partial.autograd, 10),
            numbers.short(partial.finite_difference, 10),
            "✓" if partial.agree else "✗",
        )
    return table


def _symbolic(symbolic) -> str:
    if isinstance(symbolic, list):
        shown = symbolic[: numbers.MAX_SHOWN]
        more = len(symbolic) - len(shown)
        return "[" + ", ".join(shown) + (f", … {more} more" if more > 0 else "") + "]"
    return symbolic


def verdict(result) -> Text:
    mark, style = _MARK[result.status]
    words = {
        Status.AGREE: "agree",
        Status.DISAGREE: "disagree",
        Status.KINK: "not differentiable",
        Status.UNDEFINED: "undefined",
    }[result.status]
    return Text(f"{mark} {words}: ", style=f"bold {style}") + Text(result.reason)


def view(result) -> Group:
    header = Text("f = ", style="bold") + Text(result.expression) + Text(f"  at {_point(result)}")
    value = Text("f = ", style="bold") + Text(numbers.number(result.value))
    parts = [header, value]
    if len(result.partials) == 1:
        parts.append(partial_table(result, result.partials[0]))
    else:
        parts.append(partials_table(result))
    for note in result.notes:
        parts.append(Text(f"note: {note}", style="dim"))
    parts.append(verdict(result))
    return Group(*parts)
