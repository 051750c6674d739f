"""Dicts for `--json`, and strict encoding (RFC 8259: no NaN/Infinity).

Every document carries `schema_version`; a number that is not finite is
written as null with the reason beside it under `<key>_nonfinite`.
"""

from __future__ import annotations

import json
import math

from . import points
from .errors import GradcalcError, ParseError

SCHEMA_VERSION = 1


def dumps(document: dict) -> str:
    # allow_nan=False: a NaN that slipped through is a bug, not output.
    return json.dumps(document, allow_nan=False, ensure_ascii=False)


def _describe(value) -> str:
    if value is None:
        return "undefined"
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def _finite(value):
    return value is not None and math.isfinite(value)


def put_number(document: dict, key: str, value) -> None:
    """document[key] = value, or null plus `<key>_nonfinite` when it is not
    finite. Lists are cleaned element by element."""
    if isinstance(value, list):
        document[key] = [float(v) if _finite(v) else None for v in value]
        bad = sorted({_describe(v) for v in value if not _finite(v)})
        if bad:
            document[key + "_nonfinite"] = ", ".join(bad)
        return
    if _finite(value):
        document[key] = float(value)
    else:
        document[key] = None
        document[key + "_nonfinite"] = _describe(value)


def error(err: Exception) -> dict:
    kind = getattr(err, "kind", "internal")
    body = {"kind": kind, "message": getattr(err, "message", str(err))}
    if isinstance(err, ParseError) and err.column is not None:
        body["column"] = err.column
    return {"schema_version": SCHEMA_VERSION, "error": body}


def _partial(partial) -> dict:
    entry = {"wrt": list(partial.wrt), "order": partial.order, "symbolic": partial.symbolic}
    put_number(entry, "sympy", partial.sympy)
    put_number(entry, "autograd", partial.autograd)
    put_number(entry, "finite_difference", partial.finite_difference)
    put_number(entry, "finite_difference_error", partial.finite_difference_error)
    entry["agree"] = partial.agree
    if partial.problems:
        entry["problems"] = list(partial.problems)
    return entry


def diff(result) -> dict:
    from .verdict import tolerances

    document = {
        "schema_version": SCHEMA_VERSION,
        "expression": result.expression,
        "variables": list(result.variables),
        "wrt": list(result.wrt),
        "point": points.as_json(result.point),
        "dtype": result.dtype,
        "order": result.order,
    }
    put_number(document, "value", result.value)
    derivatives = [_partial(p) for p in result.partials]
    if result.order == 1:
        document["gradient"] = {
            p.wrt[0]: {k: v for k, v in entry.items() if k not in ("wrt", "order")}
            for p, entry in zip(result.partials, derivatives)
        }
    document["derivatives"] = derivatives
    document["agree"] = result.agree
    document["differentiable"] = result.differentiable
    document["status"] = result.status
    document["reason"] = result.reason
    document["kinks"] = [
        {"at": k.node, "wrt": k.wrt, "left_derivative": k.left, "right_derivative": k.right,
         "jump": k.jump, "left_value": k.left_value, "right_value": k.right_value}
        for k in result.kinks
    ]
    document["tolerance"] = tolerances(result.dtype, result.order)
    document["notes"] = list(result.notes)
    return _strict(document)


def graph(model) -> dict:
    nodes = []
    for node in model.nodes:
        entry = {"id": node.index, "op": node.op, "label": node.label,
                 "expression": node.expression, "kind": node.kind, "leaf": node.leaf}
        put_number(entry, "value", node.value)
        entry["grad_fn"] = node.grad_fn
        entry["detached"] = node.detached
        if node.kind != "constant":
            gradient = {}
            put_number(gradient, "chain_rule", node.adjoint if node.adjoint is not None else 0.0)
            if node.torch_grad is None:
                gradient["torch"] = None
            else:
                put_number(gradient, "torch", node.torch_grad)
            entry["gradient"] = gradient
            entry["agree"] = node.agree
        entry["inputs"] = [model.edges[e].source for e in node.inputs]
        nodes.append(entry)
    edges = []
    for edge in model.edges:
        entry = {"from": edge.source, "to": edge.target, "argument": edge.position}
        if edge.local_generic is not None:
            local = {"operation": edge.forward_generic,
                     "with_respect_to": str(edge.placeholders[edge.position]),
                     "symbolic": edge.local_generic, "expression": edge.local_symbolic}
            put_number(local, "value", edge.local_value)
            entry["local_derivative"] = local
            put_number(entry, "contribution", edge.contribution)
        else:
            entry["local_derivative"] = None
            entry["contribution"] = None
        edges.append(entry)
    document = {"schema_version": SCHEMA_VERSION, "expression": model.expression,
                "variables": list(model.variables), "point": points.as_json(model.point),
                "dtype": model.dtype}
    put_number(document, "value", model.output.value)
    document.update({"output": 0, "nodes": nodes, "edges": edges, "agree": model.agree,
                     "notes": list(model.notes)})
    return _strict(document)


def _strict(document):
    """Replace any non-finite float left anywhere with null (defence in depth;
    the builders above already do it with reasons)."""
    if isinstance(document, dict):
        return {k: _strict(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_strict(v) for v in document]
    if isinstance(document, float) and not math.isfinite(document):
        return None
    return document


__all__ = ["dumps", "diff", "graph", "error", "put_number", "SCHEMA_VERSION", "GradcalcError"]
