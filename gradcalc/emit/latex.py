"""A `Program` as a LaTeX `align*`: the shared sub-expressions first, then
f, each partial derivative and (order 2) each Hessian entry."""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

from .symbolic import Program


class _Printer(LatexPrinter):
    def _print_LogSumExp(self, expr: Any) -> str:
        return (
            r"\operatorname{logsumexp}\left(" + ", ".join(map(self._print, expr.args)) + r"\right)"
        )

    def _print_Softplus(self, expr: Any) -> str:
        return r"\operatorname{softplus}\left(" + self._print(expr.args[0]) + r"\right)"

    def _print_Sigmoid(self, expr: Any) -> str:
        return r"\sigma\left(" + self._print(expr.args[0]) + r"\right)"

    def _print_log1p(self, expr: Any) -> str:
        return r"\log\left(1 + " + self._print(expr.args[0]) + r"\right)"

    def _print_expm1(self, expr: Any) -> str:
        return r"\left(e^{" + self._print(expr.args[0]) + r"} - 1\right)"

    def _print_detach(self, expr: Any) -> str:
        return r"\operatorname{detach}\left(" + self._print(expr.args[0]) + r"\right)"


def _name(text: str) -> str:
    """x[0] -> x_{0}, t3 -> t_{3}, w_1 as SymPy writes it."""
    if text.endswith("]"):
        base, index = text[:-1].split("[")
        return f"{sp.latex(sp.Symbol(base))}_{{{index}}}"
    stem = text.rstrip("0123456789")
    if stem and stem != text and not stem.endswith("_"):
        return f"{stem}_{{{text[len(stem) :]}}}"
    return sp.latex(sp.Symbol(text))


def write(program: Program) -> str:
    symbols = {s for s, _ in program.steps}
    for value in program.symbols.values():
        symbols |= set(value) if isinstance(value, list) else {value}
    printer = _Printer({"symbol_names": {s: _name(str(s)) for s in symbols}})
    lines = [rf"{printer.doprint(s)} &= {printer.doprint(v)}" for s, v in program.steps]
    lines.append(f"f &= {printer.doprint(program.value)}")
    for component, entry in zip(program.components, program.gradient):
        lines.append(
            rf"\frac{{\partial f}}{{\partial {_name(component)}}} &= {printer.doprint(entry)}"
        )
    for i, row in enumerate(program.hessian):
        for k, entry in enumerate(row):
            a, b = _name(program.components[i]), _name(program.components[i + k])
            below = rf"\partial {a}^{{2}}" if k == 0 else rf"\partial {a}\,\partial {b}"
            top = r"\partial^{2} f"
            lines.append(rf"\frac{{{top}}}{{{below}}} &= {printer.doprint(entry)}")
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}\n"
