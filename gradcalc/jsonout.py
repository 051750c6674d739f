"""Dicts for `--json`, and strict encoding (RFC 8259: no NaN/Infinity).

Every document carries `schema_version`; a number that is not finite is
written as null with the reason beside it under `<key>_nonfinite`.
"""

from __future__ import annotations

import json
import math
import os

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
        {"at": k.node, "wrt": k.wrt, "left_derivative": k.left, "right_derivative": k.right,
         "jump": k.jump, "left_value": k.left_value, "right_value": k.right_value}
        for k in result.kinks
    ]
    document["tolerance"] = tolerances(result.dtype, result.order)
    document["notes"] = list(result.notes)
    return _strict(document)


def diff_lines(many, chunk: int = 50_000):
    """NDJSON for `diff --points`: one document per point, the same fields as a
    single `diff --json` plus `line` (the input line). Yields strings of up to
    `chunk` lines, so memory stays bounded. Points that agree are written by a
    template (all their numbers are finite); the others through `_point_document`."""
    from .verdict import tolerances

    constant = {
        "expression": dumps(many.expression), "variables": dumps(many.variables),
        "wrt": dumps(many.wrt), "dtype": dumps(many.dtype),
        "tolerance": dumps(tolerances(many.dtype, many.order)),
        "reason": dumps("SymPy, autograd and finite differences agree"),
    }
    point_keys = [dumps(n) for n in many.variables]
    entries = []
    for partial in many.partials:
        body = (f'"symbolic": {dumps(partial.symbolic)}, "sympy": %s, "autograd": %s, '
                f'"finite_difference": %s, "finite_difference_error": %s, "agree": true')
        entries.append((partial, body))
    gradient = ""
    if many.order == 1:
        gradient = '"gradient": {' + ", ".join(
            f"{dumps(p.wrt[0])}: {{{body}}}" for p, body in entries) + "}, "
    derivatives = '"derivatives": [' + ", ".join(
        f'{{"wrt": {dumps(list(p.wrt))}, "order": {len(p.wrt)}, {body}}}'
        for p, body in entries) + "]"
    template = (
        '{"schema_version": 1, "line": %s, "expression": ' + constant["expression"]
        + ', "variables": ' + constant["variables"] + ', "wrt": ' + constant["wrt"]
        + ', "point": {' + ", ".join(f"{k}: %s" for k in point_keys) + '}, "dtype": '
        + constant["dtype"] + f', "order": {many.order}, "value": %s, '
        + gradient + derivatives
        + ', "agree": true, "differentiable": true, "status": "agree", "reason": '
        + constant["reason"] + ', "kinks": [], "tolerance": ' + constant["tolerance"]
        + ', "notes": []}'
    )
    fragments = template.split("%s")
    count = len(many.points)
    ranges = [(start, min(count, start + chunk)) for start in range(0, count, chunk)]
    if len(ranges) < 3 or (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
        for start, stop in ranges:
            yield _format_chunk(many, fragments, start, stop)
        return
    # Formatting a million lines is mostly float repr: share it with a second
    # core (forked, so the arrays are inherited, not copied), in order.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _SHARED
    _SHARED = (many, fragments)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        pending = []  # at most a few chunks in flight: memory stays bounded
        for bounds in ranges:
            pending.append(pool.submit(_format_shared, bounds))
            if len(pending) > 3:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


_SHARED = None  # (many, fragments) for forked formatting workers


def _format_shared(bounds) -> str:
    many, fragments = _SHARED
    return _format_chunk(many, fragments, *bounds)


def _format_chunk(many, fragments, start, stop) -> str:
    """The NDJSON lines of points start..stop."""
    columns = [list(map(str, many.points.lines[start:stop].tolist()))]
    columns += [list(map(repr, many.points.columns[n][start:stop].tolist()))
                for n in many.variables]
    columns.append(list(map(repr, many.value[start:stop].tolist())))
    numbers = []
    for partial in many.partials:
        numbers += [list(map(repr, getattr(partial, key)[start:stop].tolist()))
                    for key in ("sympy", "autograd", "finite_difference",
                                "finite_difference_error")]
    repeat = 2 if many.order == 1 else 1  # gradient and derivatives hold the same numbers
    columns += numbers * repeat
    return _join_lines(many, fragments, columns, start, stop)


def _join_lines(many, fragments, columns, start, stop) -> str:
    """Lines by one big join of template fragments and number strings; the
    rare point that does not agree is written in full instead."""
    import itertools

    repeats = [itertools.repeat(f) for f in fragments[:-1]]
    last = itertools.repeat(fragments[-1] + "\n")
    bad = (np.flatnonzero(many.codes[start:stop] != 0)).tolist()
    out, run_start = [], 0
    for stop_at in bad + [stop - start]:
        if stop_at > run_start:
            pieces = []
            for fragment, column in zip(repeats, columns):
                pieces += [fragment, itertools.islice(column, run_start, stop_at)]
            out.append("".join(itertools.chain.from_iterable(zip(*pieces, last))))
        if stop_at < stop - start:
            out.append(dumps(_point_document(many, start + stop_at)) + "\n")
        run_start = stop_at + 1
    return "".join(out)


def _point_document(many, index: int) -> dict:
    """The full document of one point of `diff --points`, for any status."""
    from .verdict import Status, tolerances

    status = many.status(index)
    document = {"schema_version": SCHEMA_VERSION, "line": int(many.points.lines[index]),
                "expression": many.expression, "variables": list(many.variables),
                "wrt": list(many.wrt),
                "point": {n: float(many.points.columns[n][index]) for n in many.variables},
                "dtype": many.dtype, "order": many.order}
    put_number(document, "value", float(many.value[index]))
    derivatives = []
    for partial in many.partials:
        entry = {"wrt": list(partial.wrt), "order": len(partial.wrt),
                 "symbolic": partial.symbolic}
        for key in ("sympy", "autograd", "finite_difference", "finite_difference_error"):
            put_number(entry, key, float(getattr(partial, key)[index]))
        entry["agree"] = bool(partial.agree[index])
        derivatives.append(entry)
    if many.order == 1:
        document["gradient"] = {
            e["wrt"][0]: {k: v for k, v in e.items() if k not in ("wrt", "order")}
            for e in derivatives}
    document["derivatives"] = derivatives
    document["agree"] = status == Status.AGREE
    document["differentiable"] = status not in (Status.KINK, Status.UNDEFINED)
    document["status"] = status
    document["reason"] = many.reasons.get(index, "SymPy, autograd and finite differences agree")
    document["kinks"] = [
        {"at": "the expression", "wrt": wrt, "left_derivative": left, "right_derivative": right,
         "jump": jump, "left_value": left_value, "right_value": right_value}
        for wrt, left, right, jump, left_value, right_value in many.kinks.get(index, [])]
    document["tolerance"] = tolerances(many.dtype, many.order)
    document["notes"] = []
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


def perceptron(neuron) -> dict:
    from .perceptron import shaped

    first = neuron.first
    document = {"schema_version": SCHEMA_VERSION, "x": shaped(neuron, neuron.x), "y": neuron.y,
                "w": shaped(neuron, neuron.w), "b": neuron.b, "loss_function": neuron.loss_name,
                "epsilon": neuron.epsilon, "dtype": neuron.dtype}
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
        document["history"] = [dict(step=s.step, **s.autograd, manual=s.manual)
                               for s in neuron.history]
        document["trajectories_agree"] = neuron.trajectories_agree
    return _strict(document)


def accumulate(result) -> dict:
    single = len(result.variables) == 1

    def per_pass(rows):
        return [row[result.variables[0]] if single else dict(row) for row in rows]

    return _strict({
        "schema_version": SCHEMA_VERSION, "expression": result.expression,
        "variables": list(result.variables), "point": points.as_json(result.point),
        "dtype": result.dtype, "passes": result.passes, "zero_grad": result.zero_grad,
        "gradient": dict(result.gradient),
        "grads": per_pass(result.grads),
        "grads_by_variable": {n: [row[n] for row in result.grads] for n in result.variables},
        "expected": per_pass(result.expected),
        "agree": result.agree, "explanation": result.explanation,
    })


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


__all__ = ["dumps", "diff", "graph", "perceptron", "accumulate", "error", "put_number",
           "SCHEMA_VERSION"]
