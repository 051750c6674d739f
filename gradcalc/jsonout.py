"""Dicts for `--json`, and strict encoding (RFC 8259: no NaN/Infinity).

Every document carries `schema_version`; a number that is not finite is
written as null with the reason beside it under `<key>_nonfinite`.
"""

from __future__ import annotations

import json
import math

import numpy as np

from . import points

SCHEMA_VERSION = 1
SKIPPED = object()  # a method that was not run (diff --no-autograd)


def dumps(document: dict) -> str:
    # allow_nan=False: a NaN that slipped through is a bug, not output.
    return json.dumps(document, allow_nan=False, ensure_ascii=False)


def _describe(value) -> str:
    if value is None:
        return "undefined"
    if value is SKIPPED:
        return "skipped"
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def _finite(value):
    return value is not None and value is not SKIPPED and math.isfinite(value)


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


def error(kind: str, message: str, column=None) -> dict:
    """The document for any command's error under --json (error.schema.json)."""
    body = {"kind": kind, "message": message}
    if column is not None:
        body["column"] = column
    return {"schema_version": SCHEMA_VERSION, "error": body}


def _partial(partial) -> dict:
    entry = {"wrt": list(partial.wrt), "order": partial.order, "symbolic": partial.symbolic}
    if partial.truncated:
        entry["symbolic_truncated"] = True
    put_number(entry, "sympy", partial.sympy)
    autograd = partial.autograd
    skipped = autograd is None or (isinstance(autograd, list) and autograd[0] is None)
    if skipped and not partial.problems and partial.sympy is not None:
        autograd = [SKIPPED] * len(autograd) if isinstance(autograd, list) else SKIPPED
    put_number(entry, "autograd", autograd)
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
        {
            "at": k.node,
            "wrt": k.wrt,
            "left_derivative": k.left,
            "right_derivative": k.right,
            "jump": k.jump,
            "left_value": k.left_value,
            "right_value": k.right_value,
        }
        for k in result.kinks
    ]
    document["tolerance"] = tolerances(result.dtype, result.order)
    document["notes"] = list(result.notes)
    return _strict(document)


def diff_lines(many, chunk: int = 50_000):
    """NDJSON for `diff --points`: one document per point, the same fields as a
    single `diff --json` plus `line` (the input line). Yields UTF-8 bytes of up
    to `chunk` lines, so memory stays bounded. Points that agree are written by
    a template (all their numbers are finite); the others through
    `_point_document`."""
    from .verdict import tolerances

    def constant(value) -> str:  # JSON text, safe inside a %-template
        return dumps(value).replace("%", "%%")

    bodies = [
        f'"symbolic": {constant(p.symbolic)}, "sympy": %s, "autograd": %s, '
        '"finite_difference": %s, "finite_difference_error": %s, "agree": true'
        for p in many.partials
    ]
    gradient = ""
    if many.order == 1:
        gradient = (
            '"gradient": {'
            + ", ".join(
                f"{constant(p.wrt[0])}: {{{body}}}" for p, body in zip(many.partials, bodies)
            )
            + "}, "
        )
    derivatives = (
        '"derivatives": ['
        + ", ".join(
            f'{{"wrt": {constant(list(p.wrt))}, "order": {len(p.wrt)}, {body}}}'
            for p, body in zip(many.partials, bodies)
        )
        + "]"
    )
    template = (
        '{"schema_version": 1, "line": %s, "expression": '
        + constant(many.expression)
        + ', "variables": '
        + constant(many.variables)
        + ', "wrt": '
        + constant(many.wrt)
        + ', "point": {'
        + ", ".join(f"{constant(n)}: %s" for n in many.variables)
        + '}, "dtype": '
        + constant(many.dtype)
        + f', "order": {many.order}, "value": %s, '
        + gradient
        + derivatives
        + ', "agree": true, "differentiable": true, "status": "agree", "reason": '
        + constant("SymPy, autograd and finite differences agree")
        + ', "kinks": [], "tolerance": '
        + constant(tolerances(many.dtype, many.order))
        + ', "notes": []}\n'
    ).encode()
    for start in range(0, len(many.points), chunk):
        yield _format_chunk(many, template, start, min(len(many.points), start + chunk))


def _format_chunk(many, template: bytes, start, stop) -> bytes:
    """The NDJSON lines of points start..stop: the template filled in for
    each run of agreeing points; the rare other point written in full."""
    columns = [_written(many.points.lines[start:stop])]
    columns += [_written(many.points.columns[n][start:stop]) for n in many.variables]
    columns.append(_written(many.value[start:stop]))
    numbers = []
    for partial in many.partials:
        numbers += [
            _written(getattr(partial, key)[start:stop])
            for key in ("sympy", "autograd", "finite_difference", "finite_difference_error")
        ]
    repeat = 2 if many.order == 1 else 1  # gradient and derivatives hold the same numbers
    columns += numbers * repeat
    bad = np.flatnonzero(many.codes[start:stop] != 0).tolist()
    out, run_start = [], 0
    for run_stop in bad + [stop - start]:
        if run_stop > run_start:
            rows = zip(*(column[run_start:run_stop] for column in columns))
            out.append(b"".join([template % row for row in rows]))
        if run_stop < stop - start:
            out.append((dumps(_point_document(many, start + run_stop)) + "\n").encode())
        run_start = run_stop + 1
    return b"".join(out)


def _written(array) -> list:
    """Each number of a 1-d array as JSON text (bytes), shortest round-trip
    form. orjson's float formatting (Ryu) is about 18 times faster than
    repr(), which was most of the time of a million-point run."""
    import orjson

    text = orjson.dumps(np.ascontiguousarray(array), option=orjson.OPT_SERIALIZE_NUMPY)
    return text[1:-1].split(b",") if len(array) else []


def _point_document(many, index: int) -> dict:
    """The full document of one point of `diff --points`, for any status."""
    from .verdict import Status, tolerances

    status = many.status(index)
    document = {
        "schema_version": SCHEMA_VERSION,
        "line": int(many.points.lines[index]),
        "expression": many.expression,
        "variables": list(many.variables),
        "wrt": list(many.wrt),
        "point": {n: float(many.points.columns[n][index]) for n in many.variables},
        "dtype": many.dtype,
        "order": many.order,
    }
    put_number(document, "value", float(many.value[index]))
    derivatives = []
    for partial in many.partials:
        entry = {"wrt": list(partial.wrt), "order": len(partial.wrt), "symbolic": partial.symbolic}
        for key in ("sympy", "autograd", "finite_difference", "finite_difference_error"):
            put_number(entry, key, float(getattr(partial, key)[index]))
        entry["agree"] = bool(partial.agree[index])
        derivatives.append(entry)
    if many.order == 1:
        document["gradient"] = {
            e["wrt"][0]: {k: v for k, v in e.items() if k not in ("wrt", "order")}
            for e in derivatives
        }
    document["derivatives"] = derivatives
    document["agree"] = status == Status.AGREE
    document["differentiable"] = status not in (Status.KINK, Status.UNDEFINED)
    document["status"] = status
    document["reason"] = many.reasons.get(index, "SymPy, autograd and finite differences agree")
    document["kinks"] = [
        {
            "at": "the expression",
            "wrt": wrt,
            "left_derivative": left,
            "right_derivative": right,
            "jump": jump,
            "left_value": left_value,
            "right_value": right_value,
        }
        for wrt, left, right, jump, left_value, right_value in many.kinks.get(index, [])
    ]
    document["tolerance"] = tolerances(many.dtype, many.order)
    document["notes"] = []
    return _strict(document)


def graph(model) -> dict:
    nodes = []
    for node in model.nodes:
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
        edges.append(entry)
    document = {
        "schema_version": SCHEMA_VERSION,
        "expression": model.expression,
        "variables": list(model.variables),
        "point": points.as_json(model.point),
        "dtype": model.dtype,
    }
    put_number(document, "value", model.output.value)
    document.update(
        {
            "output": 0,
            "nodes": nodes,
            "edges": edges,
            "agree": model.agree,
            "notes": list(model.notes),
        }
    )
    return _strict(document)


def perceptron(neuron) -> dict:
    from .perceptron import shaped

    first = neuron.first
    document = {
        "schema_version": SCHEMA_VERSION,
        "x": shaped(neuron, neuron.x),
        "y": neuron.y,
        "w": shaped(neuron, neuron.w),
        "b": neuron.b,
        "loss_function": neuron.loss_name,
        "epsilon": neuron.epsilon,
        "dtype": neuron.dtype,
    }
    for key in ("z", "y_hat", "loss"):
        put_number(document, key, getattr(first, key))
    chain = {}
    put_number(chain, "dloss_dyhat", first.dloss_dyhat)
    put_number(chain, "dyhat_dz", first.dyhat_dz)
    chain["dz_dw"] = shaped(neuron, neuron.x)
    chain["dz_db"] = 1.0
    document["chain_rule"] = chain
    w, b = {}, {}
    put_number(w, "manual", shaped(neuron, first.manual_w))
    put_number(w, "autograd", shaped(neuron, first.autograd_w))
    put_number(b, "manual", first.manual_b)
    put_number(b, "autograd", first.autograd_b)
    document["gradients"] = {"w": w, "b": b}
    document["clamped"] = first.clamped
    document["agree"] = neuron.agree and neuron.trajectories_agree
    document["reason"] = neuron.reason
    if neuron.history:
        document["lr"] = neuron.lr
        document["history"] = [
            dict(step=s.step, **s.autograd, manual=s.manual) for s in neuron.history
        ]
        document["trajectories_agree"] = neuron.trajectories_agree
    return _strict(document)


def accumulate(result) -> dict:
    single = len(result.variables) == 1

    def per_pass(rows):
        return [row[result.variables[0]] if single else dict(row) for row in rows]

    return _strict(
        {
            "schema_version": SCHEMA_VERSION,
            "expression": result.expression,
            "variables": list(result.variables),
            "point": points.as_json(result.point),
            "dtype": result.dtype,
            "passes": result.passes,
            "zero_grad": result.zero_grad,
            "gradient": dict(result.gradient),
            "grads": per_pass(result.grads),
            "grads_by_variable": {n: [row[n] for row in result.grads] for n in result.variables},
            "expected": per_pass(result.expected),
            "agree": result.agree,
            "explanation": result.explanation,
        }
    )


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


__all__ = [
    "SCHEMA_VERSION",
    "accumulate",
    "diff",
    "dumps",
    "error",
    "graph",
    "perceptron",
    "put_number",
]
