"""`diff --steps`: the chain rule written out the way the notebook does it.

Intermediates get names (u = x**2, z = sin(u)); each local derivative is
shown in those names, with the values put in where that says something
(cos(9)), and then each path's product and their sum.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text

from . import numbers

if TYPE_CHECKING:
    from ..computation import Graph, GraphEdge, GraphNode


NAMES = ["u", "v", "w", "p", "q", "r", "s", "t", "g", "h"]
MAX_PATHS = 16  # products written out per variable; more are summed silently
MAX_LINES = 60  # intermediates listed without --full


def plain(value: Any, digits: int | None = None) -> str:
    """A number under the one precision rule (numbers.fmt); a vector elided."""
    if isinstance(value, list):
        return numbers.vector(value, digits)
    return numbers.fmt(value, digits)


def _names(graph: Graph) -> dict:
    taken = set(graph.variables)
    pool = [n for n in NAMES if n not in taken]
    pool += [f"u{i}" for i in range(1, len(graph.nodes) + 1) if f"u{i}" not in taken]
    names = {}
    for node in graph.nodes:
        if node.kind == "variable" or node.kind == "constant":
            names[node.index] = node.expression
    root_name = "z" if "z" not in taken else "f"
    pool = [n for n in pool if n != root_name]
    operations = [n for n in reversed(graph.nodes) if n.kind == "operation" and n.index != 0]
    for node, name in zip(operations, pool):
        names[node.index] = name
    names[0] = root_name if graph.nodes[0].kind == "operation" else graph.nodes[0].expression
    return names


def _local_line(
    graph: Graph, edge: GraphEdge, names: dict[int, str], digits: int | None = None
) -> Text:
    import sympy as sp

    target, source = names[edge.target], names[edge.source]
    inputs = [graph.nodes[graph.edges[e].source] for e in graph.nodes[edge.target].inputs]
    by_name = {p: sp.Symbol(names[n.index], real=True) for p, n in zip(edge.placeholders, inputs)}
    in_names = sp.sstr(edge.generic.xreplace(by_name))
    suffix = f"[arg {edge.position + 1}]" if _parallel(graph, edge) else ""
    line = f"∂{target}/∂{source}{suffix} = {in_names}"
    values = [n.value for n in inputs]
    scalars = [v for v in values if not isinstance(v, list)]
    if len(scalars) == len(values) and edge.generic.atoms(sp.Function):
        by_value = {
            p: sp.Symbol(plain(v, digits) if v >= 0 else f"({plain(v, digits)})")
            for p, v in zip(edge.placeholders, scalars)
        }

        # A negative value is a symbol named "(-0.75)"; alone in a call it needs
        # no second pair of parentheses.
        line += " = " + re.sub(
            r"\(\((-[^()]*)\)\)", r"(\1)", sp.sstr(edge.generic.xreplace(by_value))
        )
    if line.rsplit(" = ", 1)[-1] != plain(edge.local_value, digits):
        line += f" = {plain(edge.local_value, digits)}"
    return Text("  " + line)


def _paths(graph: Graph, leaf_index: int) -> list:
    """Every path of edges from the output down to the leaf (capped)."""
    paths: list[list] = []
    stack: list[tuple[int, list]] = [(0, [])]
    while stack and len(paths) <= MAX_PATHS:
        index, path = stack.pop()
        if index == leaf_index:
            paths.append(path)
            continue
        for e in reversed(graph.nodes[index].inputs):
            edge = graph.edges[e]
            if graph.nodes[edge.source].kind != "constant":
                stack.append((edge.source, path + [edge]))
    return paths


def _chain(graph: Graph, leaf: GraphNode, names: dict[int, str], digits: int | None = None) -> list:
    target = names[0]
    # d: the total derivative (every path); ∂: one operation's local derivative.
    total = f"d{target}/d{leaf.expression}"
    paths = _paths(graph, leaf.index)
    if not paths:
        return [Text(f"  {total} = 0 (no path)")]
    if len(paths) > MAX_PATHS:
        return [
            Text(
                f"  {total} = sum over more than {MAX_PATHS} paths "
                f"= {plain(leaf.adjoint, digits)} (see gradcalc graph)"
            )
        ]
    symbols, values = [], []
    repeated = len(paths) > 1
    for path in paths:
        factors = []
        for edge in path:
            factor = f"∂{names[edge.target]}/∂{names[edge.source]}"
            if repeated and _parallel(graph, edge):
                factor += f"[arg {edge.position + 1}]"
            factors.append(factor)
        symbols.append(" · ".join(factors))
        values.append(" · ".join(_paren(plain(e.local_value, digits)) for e in path))
    head = f"  {total} = "
    lines = [Text(head + " + ".join(symbols))]
    final = plain(leaf.adjoint, digits)
    # Each line says something new: no "= 1 = 1" when a path is one factor
    # whose value is the result.
    product = " + ".join(f"({v})" if repeated and "·" in v else v for v in values)
    if product != final:
        lines.append(Text(" " * len(head) + "= " + product))
    lines.append(Text(" " * len(head) + f"= {final}", style="bold"))
    return lines


def _parallel(graph: Graph, edge: GraphEdge) -> bool:
    """Several edges between the same two nodes (x*x)."""
    return sum(1 for e in graph.edges if e.source == edge.source and e.target == edge.target) > 1


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def view(
    graph: Graph, wrt: list, full: bool = False, digits: int | None = None, order: int = 1
) -> Group:
    names = _names(graph)
    lines = [Text("Chain rule, step by step", style="bold")]
    if order > 1:
        lines.append(
            Text(
                f"(the first derivative's chain rule, at the point: the order-{order} "
                "derivatives are in the table above; --explain --order 2 derives the "
                "second derivative step by step)"
            )
        )
    lines += [
        Text("Forward pass (each intermediate named):"),
    ]
    operations = [n for n in reversed(graph.nodes) if n.kind == "operation"]
    if not full and len(operations) > MAX_LINES:
        lines.append(
            Text(
                f"  ({len(operations) - MAX_LINES} earlier intermediates elided; --full shows all)",
                style="dim",
            )
        )
        operations = operations[-MAX_LINES:]
    from ..computation import forward_text

    for node in operations:
        inputs = [names[graph.edges[e].source] for e in node.inputs]
        lines.append(
            Text(
                f"  {names[node.index]} = {forward_text(node.op, inputs)} = "
                f"{plain(node.value, digits)}"
            )
        )
    lines.append(Text("Local derivatives:"))
    shown = {n.index for n in operations}
    for edge in graph.edges:
        if edge.local_generic is not None and edge.target in shown:
            lines.append(_local_line(graph, edge, names, digits))
    lines.append(
        Text(
            "Chain rule: the total derivative d is the sum over paths of the products of "
            "local derivatives ∂ (one operation, its other inputs held fixed):"
        )
    )
    leaves = {node.expression: node for node in graph.nodes if node.kind == "variable"}
    for name in wrt:
        lines.extend(_chain(graph, leaves[name], names, digits))
    return Group(*lines)
