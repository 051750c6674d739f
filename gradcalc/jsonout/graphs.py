"""`graph --format json`: the computation graph's nodes, edges and gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import atpoint
from .encoding import SCHEMA_VERSION, put_number, strict

if TYPE_CHECKING:
    from ..computation import Graph, GraphEdge, GraphNode


def graph(model: Graph) -> dict[str, Any]:
    """`graph --format json` (graph.schema.json): every node, the output first,
    and every edge."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "expression": model.expression,
        "variables": list(model.variables),
        "point": atpoint.as_json(model.point),
        "dtype": model.dtype,
    }
    put_number(document, "value", model.output.value)
    document.update(
        {
            "output": 0,
            "nodes": [_node(model, node) for node in model.nodes],
            "edges": [_edge(edge) for edge in model.edges],
            "agree": model.agree,
            "status": model.status,
            "reason": model.reason,
            "notes": list(model.notes),
        }
    )
    return strict(document)


def _node(model: Graph, node: GraphNode) -> dict[str, Any]:
    """One node: what it computes, its value, and its gradient both ways."""
    entry = {
        "id": node.index,
        "op": node.op,
        "label": node.label,
        "expression": node.expression,
        "kind": node.kind,
        "leaf": node.leaf,
    }
    put_number(entry, "value", node.value)
    entry["grad_fn"] = node.grad_fn
    entry["detached"] = node.detached
    entry["nan_source"] = node.nan_source
    if node.nan_source:
        entry["nan_kind"] = node.nan_kind
    if node.depends:
        gradient: dict[str, Any] = {}
        put_number(gradient, "chain_rule", node.adjoint if node.adjoint is not None else 0.0)
        if node.torch_grad is None:
            gradient["torch"] = None
        else:
            put_number(gradient, "torch", node.torch_grad)
        entry["gradient"] = gradient
        entry["agree"] = node.agree
    entry["inputs"] = [model.edges[e].source for e in node.inputs]
    return entry


def _edge(edge: GraphEdge) -> dict[str, Any]:
    """One edge: its local derivative and what flowed through it (null for
    a constant input)."""
    entry: dict[str, Any] = {"from": edge.source, "to": edge.target, "argument": edge.position}
    if edge.local_generic is not None:
        local = {
            "operation": edge.forward_generic,
            "with_respect_to": str(edge.placeholders[edge.position]),
            "symbolic": edge.local_generic,
            "expression": edge.local_symbolic,
        }
        put_number(local, "value", edge.local_value)
        entry["local_derivative"] = local
        put_number(entry, "contribution", edge.contribution)
    else:
        entry["local_derivative"] = None
        entry["contribution"] = None
    return entry
