"""The `diff` view: one table per derivative and a verdict line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..verdict import Status
from . import Fit, fit_table, numbers
from .html import Typeset, derivative_latex, formula_latex

if TYPE_CHECKING:
    from ..hessian import Hessian
    from ..jacobian import Jacobian
    from ..pointcheck import Partial, Result

# A method's row of a derivative's table: (method, value, |error| vs SymPy).
Row = tuple[str, str, str]

_MARK = {
    Status.AGREE: ("✓", "green"),
    Status.DISAGREE: ("✗", "red"),
    Status.KINK: ("✗", "yellow"),
    Status.UNDEFINED: ("✗", "red"),
}


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _label(partial: Partial) -> str:
    return derivative_label(partial.wrt)


def derivative_label(wrt: Sequence[str]) -> str:
    """∂f/∂x, ∂²f/∂x∂y, ∂²f/∂x²."""
    names = list(wrt)
    power = "" if len(names) == 1 else str(len(names)).translate(_SUPERSCRIPT)
    below = []
    for name in dict.fromkeys(names):
        count = names.count(name)
        below.append(f"∂{name}" + (str(count).translate(_SUPERSCRIPT) if count > 1 else ""))
    return f"∂{power}f/" + "".join(below)


def _point(result: Result | Jacobian, digits: int | None = None) -> str:
    from ..atpoint import as_json

    return ", ".join(f"{k} = {numbers.fmt(v, digits)}" for k, v in as_json(result.point).items())


_ENGINE_LABEL = {
    ("sympy", False): "SymPy (symbolic, 30 digits)",
    ("symengine", False): "SymEngine (symbolic, float64)",
    ("sympy", True): "SymPy (chain rule, float64)",
    ("symengine", True): "SymEngine (chain rule, float64)",
}


def _engine_label(result: Result) -> str:
    if result.elementwise:
        return "SymPy (elementwise, float64)"
    return _ENGINE_LABEL[result.engine, result.chain_rule]


def _skipped(partial: Partial) -> bool:
    return partial.autograd is None or (
        isinstance(partial.autograd, list) and all(v is None for v in partial.autograd)
    )


def _rows(result: Result, partial: Partial, digits: int | None) -> list[Row]:
    """(method, value, |error| vs SymPy) for one derivative."""
    skipped = _skipped(partial)
    return [
        (_engine_label(result), numbers.cell(partial.sympy, digits), "—"),
        (
            f"autograd (torch {result.dtype})",
            "skipped" if skipped else numbers.cell(partial.autograd, digits),
            "—" if skipped else numbers.error(partial.autograd, partial.sympy),
        ),
        (
            "finite differences (float64)",
            numbers.cell(partial.finite_difference, digits),
            numbers.error(partial.finite_difference, partial.sympy),
        ),
    ]


def _method_table(rows: list[Row], whole: bool = False) -> Table:
    """The methods' rows; `whole`: the method names unwrapped too (the
    layout with whole vectors is chosen only when everything in it fits)."""
    table = Table()
    table.add_column("method", no_wrap=whole)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("|error|\nvs SymPy", justify="right", no_wrap=True)
    for row in rows:
        # Text, not markup: "[undefined, undefined]" would read as a style tag.
        table.add_row(*(Text(cell) for cell in row))
    return table


def _method_lines(rows: list[Row]) -> Group:
    """The narrow layout: one method a line (a vector below its name)."""
    lines = []
    for method, value, error in rows:
        where = "" if error == "—" else f"  (|error| vs SymPy {error})"
        if "\n" in value:
            lines.append(Text(f"{method}:{where}"))
            lines.extend(Text("  " + line) for line in value.split("\n"))
        else:
            lines.append(Text(f"{method}: {value}{where}"))
    return Group(*lines)


def partial_table(result: Result, partial: Partial, digits: int | None = None) -> Group:
    with numbers.whole_vectors():  # a vector broken only where it does not fit
        layouts: list[RenderableType] = [_method_table(_rows(result, partial, digits), whole=True)]
    layouts.append(_method_table(_rows(result, partial, digits)))
    if digits is None:
        layouts.append(_method_table(_rows(result, partial, numbers.FIT_DIGITS)))
    layouts.append(_method_lines(_rows(result, partial, digits)))
    return Group(_formula(result, partial, _exact(result, partial)), Fit(*layouts))


def _exact(result: Result, partial: Partial) -> str | None:
    """6*cos(9) beside the float, when SymPy differentiated (SymEngine's
    runs do not import SymPy; see docs/methods.md)."""
    if result.engine != "sympy" or result.chain_rule or result.elementwise:
        return None
    from ..exact import at

    return at(partial.symbolic, result.point)


def _partials_table(result: Result, digits: int | None, symbolic: bool) -> Table:
    table = Table()
    table.add_column("derivative", no_wrap=True)
    if symbolic:
        table.add_column("symbolic", no_wrap=True)
    for heading in ("SymPy", f"autograd\n{result.dtype}", "finite\ndiff."):
        table.add_column(heading, justify="right", no_wrap=True)
    table.add_column("agree", justify="center", no_wrap=True)
    for partial in result.partials:
        table.add_row(
            _label(partial),
            *([_formula(result, partial, label=False)] if symbolic else []),
            Text(numbers.cell(partial.sympy, digits)),
            Text("skipped" if _skipped(partial) else numbers.cell(partial.autograd, digits)),
            Text(numbers.cell(partial.finite_difference, digits)),
            "✓" if partial.agree else "✗",
        )
    return table


class Formula(Typeset):
    """A derivative's line, `∂f/∂x = 2*x*cos(x**2) = 6*cos(9) at the point`:
    plain text in a terminal, LaTeX in HTML. It keeps what it was made of so
    the LaTeX is built only when HTML is asked for (SymPy is imported then)."""

    def __init__(
        self,
        partial: Partial,
        shapes: Mapping[str, int],
        exact: str | None = None,
        label: bool = True,
    ) -> None:
        super().__init__()
        self.wrt = tuple(partial.wrt)
        # A formula cut short is text in both views.
        self.symbolic = None if partial.truncated else partial.symbolic
        self.exact = exact
        self.shapes = dict(shapes)
        self.label = label
        if label:
            self.append(f"{derivative_label(self.wrt)} = ", style="bold")
        self.append(symbolic_text(partial.symbolic))
        if exact is not None:
            self.append(f" = {exact} at the point")

    def latex(self) -> str | None:
        """`\\frac{\\partial f}{\\partial x} = 2 x \\cos(...)`, or None when a
        formula cannot be typeset (cut short, or not in the grammar)."""
        body = formula_latex(self.symbolic, self.shapes)
        if body is None:
            return None
        out = rf"{derivative_latex(self.wrt)} = {body}" if self.label else body
        exact = formula_latex(self.exact, {}) if self.exact is not None else None
        return out + (rf" = {exact} \text{{ at the point}}" if exact is not None else "")


def _formula(
    result: Result, partial: Partial, exact: str | None = None, label: bool = True
) -> Formula:
    """∂f/∂x = its formula: text in a terminal, typeset in Jupyter."""
    shapes = {name: v.size for name, v in result.point.items() if v.ndim}
    return Formula(partial, shapes, exact, label)


def _formulas(result: Result) -> list[Text]:
    return [_formula(result, p) for p in result.partials]


def _partials_lines(result: Result, digits: int | None) -> Group:
    lines: list[Text] = []
    for partial in result.partials:
        lines.append(_formula(result, partial))
        for method, value, _ in _rows(result, partial, digits):
            if "\n" in value:
                lines.append(Text(f"  {method}:"))
                lines.extend(Text("    " + line) for line in value.split("\n"))
            else:
                lines.append(Text(f"  {method}: {value}"))
        lines.append(Text("  ✓ agree" if partial.agree else "  ✗ differ"))
    return Group(*lines)


def partials_table(result: Result, digits: int | None = None) -> Fit:
    """Several derivatives (a gradient or a Hessian): one row each; when
    that is too wide, the formulas above a table of numbers, then fewer
    digits, then one derivative after another."""
    with numbers.whole_vectors():  # a vector broken only where it does not fit
        layouts: list[RenderableType] = [
            _partials_table(result, digits, symbolic=True),
            Group(*_formulas(result), _partials_table(result, digits, symbolic=False)),
        ]
    layouts += [
        _partials_table(result, digits, symbolic=True),
        Group(*_formulas(result), _partials_table(result, digits, symbolic=False)),
    ]
    if digits is None:
        layouts.append(
            Group(*_formulas(result), _partials_table(result, numbers.FIT_DIGITS, symbolic=False))
        )
    layouts.append(_partials_lines(result, digits))
    return Fit(*layouts)


def symbolic_text(symbolic: str | list[str]) -> str:
    if isinstance(symbolic, list):
        shown = symbolic[: numbers.MAX_SHOWN]
        more = len(symbolic) - len(shown)
        return "[" + ", ".join(shown) + (f", … {more} more" if more > 0 else "") + "]"
    return symbolic


def verdict(result: Result | Jacobian) -> Text:
    """The mark and the reason, which says in words what was found."""
    mark, style = _MARK[result.status]
    return Text(f"{mark} ", style=f"bold {style}") + Text(result.reason)


MAX_SIDE = 8  # Jacobian rows and columns shown; --json has them all


def jacobian_view(result: Jacobian, digits: int | None = None) -> Group:
    """A vector-valued expression: its Jacobian as a matrix (SymPy's), each
    method's largest difference from it, then the verdict."""
    import numpy as np

    header = Text("f = ", style="bold") + Text(result.expression)
    header += Text(f"  at {_point(result, digits)}")
    value = Text("f = ", style="bold") + Text(numbers.fmt(list(result.value), digits))
    rows, columns = result.rows[:MAX_SIDE], result.columns[:MAX_SIDE]

    def matrix(shown: int | None) -> Table:
        # Numbers whole in their columns, or fewer digits, or a line a row (fit_table).
        table = Table()
        table.add_column("", no_wrap=True)
        for column in columns:
            table.add_column(column, justify="right", no_wrap=True)
        for i, row in enumerate(rows):
            cells = [numbers.fmt(_finite(v), shown) for v in result.sympy[i, : len(columns)]]
            table.add_row(row, *cells)
        return table

    title = Text(f"Jacobian ∂fᵢ/∂xⱼ ({len(result.rows)}×{len(result.columns)}, SymPy)")
    methods = Table()
    methods.add_column("method", overflow="fold")  # a long word folds, never cut
    methods.add_column("max |error|\nvs SymPy", justify="right", no_wrap=True)
    compared = [
        ("autograd, reverse mode (torch.func.jacrev)", result.autograd_reverse),
        ("autograd, forward mode (torch.func.jacfwd)", result.autograd_forward),
        ("finite differences (float64)", result.finite_difference),
    ]
    for name, found in compared:
        if found is not None:
            with np.errstate(invalid="ignore"):
                worst = np.nanmax(np.abs(found - result.sympy)) if found.size else 0.0
            methods.add_row(name, numbers.fmt(_finite(worst), 2))
    parts: list[RenderableType] = [header, value, title, fit_table(matrix, digits)]
    if len(result.rows) > len(rows) or len(result.columns) > len(columns):
        parts.append(Text(f"(the first {MAX_SIDE} rows and columns; --json has all)", style="dim"))
    parts.append(methods)
    for note in result.notes:
        parts.append(Text(f"note: {note}", style="dim"))
    parts.append(verdict(result))
    return Group(*parts)


def _finite(value: Any) -> float | None:
    return float(value) if value == value and abs(value) != float("inf") else None


def view(result: Result | Jacobian, digits: int | None = None) -> Group:
    from ..jacobian import Jacobian

    if isinstance(result, Jacobian):  # a vector-valued expression
        return jacobian_view(result, digits)
    header = (
        Text("f = ", style="bold")
        + Text(result.expression)
        + Text(f"  at {_point(result, digits)}")
    )
    value = Text("f = ", style="bold") + Text(numbers.fmt(result.value, digits))
    parts: list[RenderableType] = [header]
    readings = getattr(result.tree, "readings", None) or []
    parts += [Text(f"note: {reading}", style="yellow") for reading in readings]
    parts.append(value)
    if len(result.partials) == 1:
        parts.append(partial_table(result, result.partials[0], digits))
    else:
        parts.append(partials_table(result, digits))
    if result.hessian is not None:
        parts.append(hessian_view(result.hessian, digits))
    for note in result.notes:
        parts.append(Text(f"note: {note}", style="dim"))
    parts.append(verdict(result))
    return Group(*parts)


_KINDS = {
    "minimum": "a local minimum: the gradient is 0 and every eigenvalue is positive",
    "maximum": "a local maximum: the gradient is 0 and every eigenvalue is negative",
    "saddle": "a saddle point: the gradient is 0 and the eigenvalues have both signs",
    "degenerate": "degenerate: the gradient is 0 but an eigenvalue is 0, so the second "
    "derivatives cannot tell what kind of point it is",
}


def hessian_view(hessian: Hessian, digits: int | None = None) -> Group:
    """The full symmetric Hessian (SymPy's), its eigenvalues, and what kind
    of point it is."""

    def matrix(shown: int | None) -> Table:
        # Numbers whole in their columns, or fewer digits, or a line a row (fit_table).
        table = Table(box=None, show_edge=False, pad_edge=False)
        table.add_column("H", style="bold", no_wrap=True)
        for name in hessian.variables:
            table.add_column(name, justify="right", no_wrap=True)
        for name, row in zip(hessian.variables, hessian.matrix):
            table.add_row(name, *[numbers.fmt(v, shown) for v in row])
        return table

    eigenvalues = ", ".join(numbers.fmt(v, digits) for v in hessian.eigenvalues)
    if hessian.critical:
        kind = f"The point is {_KINDS[hessian.classification]}"
    else:
        gradient = ", ".join(numbers.fmt(v, digits) for v in hessian.gradient)
        kind = f"Not a critical point: the gradient is ({gradient})"
    return Group(
        Text("Hessian (SymPy), every entry:", style="bold"),
        fit_table(matrix, digits),
        Text(f"eigenvalues: {eigenvalues}"),
        Text(f"{kind} (|value| ≤ {hessian.tolerance:.0e} counts as 0)."),
    )
