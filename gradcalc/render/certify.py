"""`diff --certify` and `--direction` under diff's table: each derivative's
ball and which methods' values fall in it; the directional derivative."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from . import fit_table, numbers
from .diff import derivative_label, verdict

if TYPE_CHECKING:
    from ..certify import Certificate
    from ..direction import Directional


def view(
    result: Any,
    certificates: list[Certificate] | None,
    directional: Directional | None,
    digits: int | None = None,
) -> list[RenderableType]:
    parts: list[RenderableType] = []
    if certificates is not None:
        parts.append(Text("Certified by Arb ball arithmetic (python-flint):", style="bold"))
        parts.append(fit_table(lambda shown: _balls(result, certificates, shown), digits))
    if directional is not None:
        parts.extend(_directional(directional, digits))
    return parts


def _inside(ball: Any, value: Any) -> str:
    distance = ball.distance(value)
    if distance is None:
        return "—"
    return "inside" if distance == 0.0 else f"off by {numbers.fmt(distance, 2)}"


def _balls(result: Any, certificates: list[Certificate], digits: int | None) -> Table:
    table = Table()
    table.add_column("derivative", no_wrap=True)
    table.add_column("ball: midpoint ± radius", no_wrap=True)
    table.add_column("SymPy", no_wrap=True)
    table.add_column("autograd", no_wrap=True)
    table.add_column("finite diff.", no_wrap=True)
    for certificate, partial in zip(certificates, result.partials):
        ball = certificate.ball
        if ball is None:
            table.add_row(
                derivative_label(certificate.wrt), Text(f"not certified: {certificate.why}")
            )
            continue
        table.add_row(
            derivative_label(certificate.wrt),
            Text(f"{numbers.fmt(ball.midpoint, digits)} ± {numbers.fmt(ball.radius, 2)}"),
            *(
                _inside(ball, getattr(partial, m))
                for m in ("sympy", "autograd", "finite_difference")
            ),
        )
    return table


def _directional(d: Directional, digits: int | None) -> list[RenderableType]:
    u = ", ".join(numbers.fmt(v, digits) for v in d.unit)
    what = "unit direction" if d.normalized else "direction (as given, not normalized)"
    lines: list[RenderableType] = [
        Text("Directional derivative ", style="bold") + Text(f"D_u f = ∇f · u, {what} u = ({u})")
    ]
    rows = [
        ("SymPy (∇f · u)", d.sympy),
        ("autograd (∇f · u)", d.autograd),
        ("finite differences along the line", d.finite_difference),
    ]
    for label, value in rows:
        error = (
            ""
            if value is None or d.sympy is None or label.startswith("SymPy")
            else (f"  (|error| vs SymPy {numbers.fmt(abs(value - d.sympy), 2)})")
        )
        lines.append(Text(f"  {label}: {numbers.fmt(value, digits)}{error}"))
    lines.append(verdict(d))  # type: ignore[arg-type]  # status and reason, as diff's
    return lines
