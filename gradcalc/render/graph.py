"""Views of the graph model: a Rich tree, Graphviz DOT, Mermaid.

The tree goes from the output down to the leaves; each child line shows the
edge it hangs from (the local derivative and what it passes back), then the
node (its value, torch's grad_fn and the total gradient reaching it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from . import numbers

if TYPE_CHECKING:
    from ..computation import Graph, GraphEdge, GraphNode


MAX_DEPTH = 12  # tree levels shown without --full
MAX_NODES = 200  # tree lines shown without --full
MAX_TEXT = 40  # characters of a sub-expression shown without --full


def abbreviate(text: str, full: bool = False) -> str:
    if full or len(text) <= MAX_TEXT:
        return text
    half = (MAX_TEXT - 1) // 2
    return text[:half] + "…" + text[-half:]


def _node_text(
    graph: Graph, node: GraphNode, full: bool = False, digits: int | None = None
) -> Text:
    expression = abbreviate(node.expression, full)
    if node.kind == "constant":
        return Text(expression, style="bold") + Text("  constant", style="dim")
    text = Text(expression, style="bold") + Text(f" = {numbers.fmt(node.value, digits)}")
    if not node.depends:
        return text + Text("  constant", style="dim")
    if node.nan_source:
        words = "NaN starts here (0·∞)" if node.nan_kind == "NaN" else "infinity starts here"
        text += Text(f"  ← autograd's {words}", style="bold red")
    if node.grad_fn:
        text += Text(f"  {node.grad_fn}", style="cyan")
    elif node.detached or node.op == "detach":
        text += Text("  detached: no grad_fn", style="yellow")
    if node.detached:
        text += Text("  (no gradient flows here)", style="yellow")
        return text
    text += Text(f"  ∂f/∂· = {numbers.fmt(node.adjoint, digits)}")
    if node.torch_grad is not None or node.kind == "variable":
        mark = "✓" if node.agree else "✗"
        text += Text(
            f"  torch .grad {numbers.fmt(node.torch_grad, digits)} {mark}",
            style="green" if node.agree else "red",
        )
    return text


def _edge_text(edge: GraphEdge, digits: int | None = None) -> Text:
    if edge.local_generic is None:
        return Text("")
    return Text(
        f"[{_local(edge)} = {numbers.fmt(edge.local_value, digits)}, "
        f"passes {numbers.fmt(edge.contribution, digits)}] ",
        style="magenta",
    )


def _local(edge: GraphEdge) -> str:
    """∂sin(u)/∂u = cos(u); ∂(a*b)/∂a = b."""
    forward = edge.forward_generic
    assert forward is not None  # set with local_generic, which the callers checked
    if not forward.endswith(")") or forward.startswith("-"):
        forward = f"({forward})"
    name = str(edge.placeholders[edge.position])
    return f"∂{forward}/∂{name} = {edge.local_generic}"


def tree(graph: Graph, full: bool = False, digits: int | None = None) -> Group:
    root = graph.output
    top = Tree(Text("f = ") + _node_text(graph, root, full, digits))
    stack = [(top, root, 0)]
    shown, elided = 1, 0
    while stack:
        branch, node, depth = stack.pop()
        children = [graph.edges[e] for e in node.inputs]
        if children and not full and depth + 1 > MAX_DEPTH:
            elided += _count_below(graph, node)
            branch.add(Text(f"… {_count_below(graph, node)} more below (use --full)", style="dim"))
            continue
        pending = []
        for edge in children:
            child = graph.nodes[edge.source]
            if not full and shown >= MAX_NODES:
                elided += 1 + _count_below(graph, child)
                continue
            shown += 1
            sub = branch.add(_edge_text(edge, digits) + _node_text(graph, child, full, digits))
            pending.append((sub, child, depth + 1))
        stack.extend(reversed(pending))
    parts: list[RenderableType] = [top]
    parts.extend(_leaf_sums(graph, digits))
    if elided:
        parts.append(Text(f"({elided} nodes elided; --full shows all)", style="dim"))
    parts.extend(Text(f"note: {n}", style="dim") for n in graph.notes)
    verdict = (
        "✓ every node's gradient matches torch's retained .grad"
        if graph.agree
        else "✗ some gradients differ from torch's retained .grad"
    )
    parts.append(Text(verdict, style="green" if graph.agree else "red"))
    if graph.status != "agree":
        words = graph.status.replace("_", " ")
        parts.append(Text(f"✗ {words} at this point: {graph.reason}", style="red"))
    return Group(*parts)


def _count_below(graph: Graph, node: GraphNode) -> int:
    seen, stack = set(), [node]
    while stack:
        current = stack.pop()
        for e in current.inputs:
            child = graph.nodes[graph.edges[e].source]
            if child.index not in seen:
                seen.add(child.index)
                stack.append(child)
    return len(seen)


def _leaf_sums(graph: Graph, digits: int | None = None) -> list:
    """x.grad = 3 + 3 = 6 for leaves reached along several edges."""
    lines = []
    for node in graph.nodes:
        if node.kind != "variable":
            continue
        parts = [
            graph.edges[e].contribution
            for e in node.consumers
            if graph.edges[e].contribution is not None
            and graph.nodes[graph.edges[e].target].op != "detach"
        ]
        if not parts:
            continue
        if len(parts) > 1:
            added = " + ".join(numbers.fmt(p, digits) for p in parts)
            lines.append(
                Text(f"{node.expression}.grad = {added} = {numbers.fmt(node.adjoint, digits)}")
            )
        else:
            lines.append(Text(f"{node.expression}.grad = {numbers.fmt(node.adjoint, digits)}"))
    return lines


def _label_lines(node: GraphNode, digits: int | None = None) -> list:
    if node.kind == "constant":
        return [node.expression, "constant"]
    lines = [f"{node.expression} = {numbers.fmt(node.value, digits)}"]
    if node.grad_fn:
        lines.append(node.grad_fn)
    if node.kind == "constant":
        lines.append("constant")
    elif node.detached:
        lines.append("detached")
    else:
        lines.append(f"grad {numbers.fmt(node.adjoint, digits)}")
    return lines


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def dot(graph: Graph, digits: int | None = None) -> str:
    lines = [
        "digraph gradcalc {",
        "  rankdir=BT;",
        '  node [shape=box, fontname="monospace"];',
        '  edge [fontname="monospace", fontsize=10];',
    ]
    for node in graph.nodes:
        label = "\\n".join(_dot_escape(line) for line in _label_lines(node, digits))
        style = ', style="dashed"' if node.detached else ""
        if node.kind == "variable":
            style += ", shape=ellipse"
        lines.append(f'  n{node.index} [label="{label}"{style}];')
    for edge in graph.edges:
        label = ""
        if edge.local_generic is not None:
            label = _dot_escape(f"{_local(edge)} = {numbers.fmt(edge.local_value, digits)}")
        lines.append(f'  n{edge.source} -> n{edge.target} [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_escape(text: str) -> str:
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def mermaid(graph: Graph, digits: int | None = None) -> str:
    lines = ["flowchart BT"]
    for node in graph.nodes:
        label = "<br/>".join(_mermaid_escape(line) for line in _label_lines(node, digits))
        open_, close = ("([", "])") if node.kind == "variable" else ("[", "]")
        lines.append(f'  n{node.index}{open_}"{label}"{close}')
    for edge in graph.edges:
        if edge.local_generic is None:
            lines.append(f"  n{edge.source} --> n{edge.target}")
        else:
            label = _mermaid_escape(f"{_local(edge)} = {numbers.fmt(edge.local_value, digits)}")
            lines.append(f'  n{edge.source} -->|"{label}"| n{edge.target}')
    return "\n".join(lines) + "\n"
