"""The `gradcalc check` view: each entry of the gradient by each method, the
verdict, and what explains it (a NaN's line, the custom Functions, float32)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from . import titled

if TYPE_CHECKING:
    from ..usercode.checking import Result


def view(result: Result) -> Group:
    from ..usercode.words import HEADER, rows
    from ..verdict import Status

    table = Table()
    for name in HEADER:
        table.add_column(name, justify="right" if name not in ("input", "element", "") else "left")
    for row in rows(result):
        table.add_row(*row)
    shape = "x".join(str(n) for n in result.output_shape) or "a scalar"
    title = f"{result.target}: output {shape}, computed in {result.dtype}"
    if result.directions:
        title += f", {result.directions} random directions of the Jacobian"
    mark, style = ("✓", "green") if result.status == Status.AGREE else ("✗", "red")
    parts: list = [
        titled(title, table),
        Text(f"{mark} {result.status}: {result.reason}", style=style),
    ]
    parts += [Text(line) for line in _notes(result)]
    return Group(*parts)


def _notes(result: Result) -> list[str]:
    notes = []
    if result.nan:
        n = result.nan
        notes.append(f"NaN/inf gradient made by {n['operation']} at {n['file']}:{n['line']}")
        if n.get("text"):
            notes.append(f"    {n['text']}")
        notes.append(f"  why: {n['why']}")
        notes.append(f"  rewrite: {n['rewrite']}")
    for c in result.custom_functions:
        notes.append(
            f"custom autograd.Function {c['name']} ({c['file']}:{c['line']}): its backward "
            "is checked against finite differences of its forward"
        )
    if result.precision:
        p = result.precision
        words = "within" if p["float32_within_tolerance"] else "outside"
        notes.append(
            f"float32 code, also run in float64: its float32 gradient is {words} float32's "
            f"tolerance (largest relative error {p['float32_largest_relative_error']:.2g})"
        )
    if result.forward_method != "torch.func.jacfwd":
        notes.append(f"forward mode not run: {result.forward_method}")
    if result.random:
        r = result.random
        notes.append(
            f"{r['points']} random points (seed {r['seed']}); shown: the worst, point {r['worst']}"
        )
    if result.symbolic:
        notes.append(f"traced formula: {result.symbolic.get('formula')}")
    return notes
