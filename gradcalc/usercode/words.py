"""The verdict's words for a user's function, built from the decision's
data (never searched for afterwards)."""

from __future__ import annotations

from typing import Any

from ..verdict import Status


def element(name: str, index: Any) -> str:
    index = list(index or [])
    return f"{name}[{', '.join(str(i) for i in index)}]" if index else name


def number(value: float) -> str:
    return f"{value:.10g}"


def reason(status: str, findings: Any) -> str:
    """The verdict's sentence (judge.Findings holds what it says)."""
    inputs, found, kinks = findings.inputs, findings.mismatches, findings.kinks
    nan, customs = findings.nan, findings.customs
    if status == Status.KINK:
        k = kinks[0]
        more = f" ({len(kinks)} entries in all)" if len(kinks) > 1 else ""
        text = (
            f"not differentiable at {element(k['input'], k['element'])}: the one-sided "
            f"derivatives differ, {number(k['left'])} from the left and "
            f"{number(k['right'])} from the right{more}"
        )
    elif status == Status.UNDEFINED:
        name, col = findings.undefined[0]
        text = (
            f"finite differences along {name} (entry {col}) are not finite: the function "
            "is not defined, or not finite, within a step of the point"
        )
    elif status == Status.DISAGREE:
        m = found[0]
        names = sorted({f.input for f in found})
        text = (
            f"{_method(m.method)} disagrees with finite differences at "
            f"{element(m.input, m.element)}"
            + (f" (output {list(m.output)})" if m.output else "")
            + f": {number(m.value)} vs {number(m.finite_difference)}"
            + f" (relative error {m.relative_error:.2g})"
            + (f"; {len(found)} entries in all, of {', '.join(names)}" if len(found) > 1 else "")
        )
        if customs:
            text += "; custom autograd.Function on the path: " + ", ".join(
                c["name"] for c in customs
            )
    else:
        ran = ["SymPy"] if inputs and all(i.sympy is not None for i in inputs) else []
        ran += ["autograd"]
        ran += ["forward mode"] if all(i.forward is not None for i in inputs) else []
        text = ", ".join(ran) + " and finite differences agree"
    if nan:
        where = f"{nan['file']}:{nan['line']}" if nan.get("file") else "an operation"
        text += f"; the non-finite gradient is made by {nan['operation']} at {where}"
    return text


def _method(method: str) -> str:
    return {"autograd": "autograd", "forward": "forward mode", "sympy": "SymPy"}.get(method, method)


HEADER = ("input", "element", "autograd", "forward", "finite difference", "relative error", "")


def rows(result: Any, limit: int = 20) -> list[tuple[str, ...]]:
    """The table's rows, as text: the mismatches first (worst first), then
    the kinks, then the other entries, at most `limit` in all."""
    import numpy as np

    table: list[tuple[str, ...]] = []
    for m in result.mismatches[:limit]:
        where = element(m.input, m.element) + (f" → out{list(m.output)}" if m.output else "")
        table.append(
            (m.input, where, *_values(result, m), f"{m.relative_error:.2g}", "✗ " + m.method)
        )
    for k in result.kinks[: max(0, limit - len(table))]:
        table.append(
            (
                k["input"],
                element(k["input"], k["element"]),
                f"left {number(k['left'])}",
                "",
                f"right {number(k['right'])}",
                "",
                "not differentiable",
            )
        )
    listed = {(r[0], r[1]) for r in table}
    for item in result.inputs:
        for row, col in np.ndindex(item.autograd.shape):
            if len(table) >= limit:
                return table
            index = list(np.unravel_index(col, item.shape)) if item.shape else []
            where = element(item.name, index) + (
                f" → row {row}" if item.autograd.shape[0] > 1 else ""
            )
            if (item.name, where) in listed:
                continue
            ad = item.autograd[row, col]
            fw = "" if item.forward is None else number(float(item.forward[row, col]))
            fd = item.differences.estimate[row, col]
            with np.errstate(all="ignore"):
                rel = abs(ad - fd) / abs(fd) if fd != 0 else abs(ad)
            table.append(
                (item.name, where, number(float(ad)), fw, number(float(fd)), f"{rel:.2g}", "✓")
            )
    return table


def _values(result: Any, m: Any) -> tuple[str, str, str]:
    ad = number(m.value) if m.method in ("autograd", "sympy") else ""
    fw = number(m.value) if m.method == "forward" else ""
    return ad, fw, number(m.finite_difference)


def plain_table(result: Any, limit: int = 20) -> str:
    """The table as plain text (for an AssertionError)."""
    lines = [HEADER, *rows(result, limit)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines
    )
