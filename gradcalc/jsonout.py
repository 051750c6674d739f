"""Dicts for `--json`, and strict encoding (RFC 8259: no NaN/Infinity).

Every document carries `schema_version`; a number that is not finite is
written as null with the reason beside it under `<key>_nonfinite`.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

from . import points
from .verdict import AGREED

SCHEMA_VERSION = 1
SKIPPED = object()  # a method that was not run (diff --no-autograd)
NOT_CHECKED = object()  # a finite difference not taken (a long vector's unsampled components)


def dumps(document: dict) -> str:
    # allow_nan=False: a NaN that slipped through is a bug, not output.
    return json.dumps(document, allow_nan=False, ensure_ascii=False)


def _describe(value) -> str:
    if value is None:
        return "undefined"
    if value is SKIPPED:
        return "skipped"
    if value is NOT_CHECKED:
        return "not checked"
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def _finite(value):
    return value is not None and value not in (SKIPPED, NOT_CHECKED) and math.isfinite(value)


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


METHOD_KEYS = ("sympy", "autograd", "finite_difference", "finite_difference_error")


def _derivative(wrt, symbolic, numbers: dict, agree: bool, put=put_number, extra=None) -> dict:
    """One entry of `derivatives` (and, without wrt/order, of `gradient`)."""
    entry = {"wrt": list(wrt), "order": len(wrt), "symbolic": symbolic}
    entry.update(extra or {})
    for key in METHOD_KEYS:
        value = numbers[key]
        if key == "finite_difference" and numbers.get("finite_difference_checked") is False:
            # null there is "not checked", not "undefined"
            value = _unchecked(value)
        put(entry, key, value)
    entry["finite_difference_checked"] = numbers.get("finite_difference_checked", True)
    entry["agree"] = agree
    return entry


def _unchecked(value):
    if isinstance(value, list):
        return [NOT_CHECKED if v is None else v for v in value]
    return NOT_CHECKED if value is None else value


def _diff_document(head: dict, value, derivatives: list, verdict: dict, put=put_number) -> dict:
    """The one `diff --json` document, for one point and for each line of
    `--points` alike: `head` (expression ... order), the value, the
    derivatives, then the verdict's fields (status, reason, kinks, notes)."""
    from .verdict import Status, tolerances

    document = {"schema_version": SCHEMA_VERSION, **head}
    put(document, "value", value)
    if head["order"] == 1:
        document["gradient"] = {
            entry["wrt"][0]: {k: v for k, v in entry.items() if k not in ("wrt", "order")}
            for entry in derivatives
        }
    document["derivatives"] = derivatives
    status = verdict["status"]
    document["agree"] = status == Status.AGREE
    document["differentiable"] = status not in (Status.KINK, Status.UNDEFINED)
    document["status"] = status
    document["reason"] = verdict["reason"]
    document["kinks"] = [_kink(k) for k in verdict["kinks"]]
    document["tolerance"] = tolerances(head["dtype"], head["order"])
    document["notes"] = list(verdict["notes"])
    return document


def _hessian(hessian) -> dict:
    """--order 2: the full matrix by each method, eigenvalues, and what
    kind of point it is (diff.schema.json, `hessian`)."""
    document: dict = {"variables": list(hessian.variables), "gradient": hessian.gradient}
    document["matrix"] = hessian.matrix
    document["autograd"] = hessian.autograd
    document["finite_difference"] = hessian.finite_difference
    document["eigenvalues"] = hessian.eigenvalues
    document["critical_point"] = hessian.critical
    document["classification"] = hessian.classification
    document["tolerance"] = hessian.tolerance
    return document


def _kink(kink) -> dict:
    return {
        "at": kink.node,
        "wrt": kink.wrt,
        "left_derivative": kink.left,
        "right_derivative": kink.right,
        "jump": kink.jump,
        "left_value": kink.left_value,
        "right_value": kink.right_value,
        "value": kink.value,
        "order": kink.order,
    }


def _matrix(values) -> list | None:
    """Rows of floats, null where not finite (the verdict says why)."""
    if values is None:
        return None
    return [[float(v) if math.isfinite(v) else None for v in row] for row in values.tolist()]


def _jacobian_matrices(result) -> dict:
    """rows, columns, the formulas and each method's matrix, null where not
    finite with `<method>_nonfinite` saying what (as put_number does)."""
    import numpy as np

    body: dict = {
        "rows": list(result.rows),
        "columns": list(result.columns),
        "symbolic": [list(row) for row in result.symbolic],
    }
    for key, values in (
        ("sympy", result.sympy),
        ("autograd_reverse", result.autograd_reverse),
        ("autograd_forward", result.autograd_forward),
        ("finite_difference", result.finite_difference),
        ("finite_difference_error", result.finite_difference_error),
    ):
        body[key] = _matrix(values)
        if values is not None and not np.all(np.isfinite(values)):
            bad = values[~np.isfinite(values)]
            what = {"undefined" if key == "sympy" else _describe(float(v)) for v in bad}
            body[key + "_nonfinite"] = ", ".join(sorted(what))
    body["finite_difference_checked"] = result.finite_difference_checked.tolist()
    return body


def jacobian(result) -> dict:
    """`diff --json` of a vector-valued expression: its Jacobian by every
    method (diff.schema.json, `jacobian`), in place of `gradient`."""
    from .verdict import tolerances

    document = {
        "schema_version": SCHEMA_VERSION,
        "expression": result.expression,
        "variables": list(result.variables),
        "wrt": list(result.wrt),
        "point": points.as_json(result.point),
        "dtype": result.dtype,
        "order": 1,
        "value": [float(v) for v in result.value],
        "jacobian": _jacobian_matrices(result),
        "gradient": _sum_gradient(result),
        "agree": result.agree,
        "differentiable": result.differentiable,
        "status": result.status,
        "reason": result.reason,
        "kinks": [_kink(k) for k in result.kinks],
        "tolerance": tolerances(result.dtype, 1),
        "notes": list(result.notes),
    }
    return _strict(document)


def _sum_gradient(result) -> dict:
    """A Jacobian document's `gradient`: of the sum of f's elements (torch's
    y.backward(torch.ones_like(y))), each method's column sums, by variable."""
    import numpy as np

    gradient: dict = {}
    columns = np.arange(len(result.columns))
    for name in result.wrt:
        mine = [j for j in columns if result.columns[j].split("[")[0] == name]
        vector = result.columns[mine[0]] != name

        def shaped(values, mine=mine, vector=vector):
            out = [float(v) for v in values[mine]]
            return out if vector else out[0]

        def summed(matrix):
            return None if matrix is None else shaped(matrix.sum(axis=0))

        autograd = summed(result.autograd_reverse)
        numbers = {
            "sympy": summed(result.sympy),
            "autograd": SKIPPED if autograd is None else autograd,
            "finite_difference": summed(result.finite_difference),
            "finite_difference_error": shaped(np.abs(result.finite_difference_error).sum(axis=0)),
            "finite_difference_checked": bool(result.finite_difference_checked[:, mine].all()),
        }
        texts = [result.sum_symbolic[j] for j in mine]
        symbolic = texts if vector else texts[0]
        entry = _derivative((name,), symbolic, numbers, result.agree)
        gradient[name] = {k: v for k, v in entry.items() if k not in ("wrt", "order")}
    return gradient


def diff(result) -> dict:
    """`diff --json` at one point."""
    from .jacobian import Jacobian

    if isinstance(result, Jacobian):  # a vector-valued expression
        return jacobian(result)
    head = {
        "expression": result.expression,
        "variables": list(result.variables),
        "wrt": list(result.wrt),
        "point": points.as_json(result.point),
        "dtype": result.dtype,
        "order": result.order,
    }
    derivatives = []
    for partial in result.partials:
        autograd = partial.autograd
        skipped = autograd is None or (isinstance(autograd, list) and autograd[0] is None)
        if skipped and not partial.problems and partial.sympy is not None:
            autograd = [SKIPPED] * len(autograd) if isinstance(autograd, list) else SKIPPED
        numbers = {key: getattr(partial, key) for key in METHOD_KEYS}
        numbers["autograd"] = autograd
        numbers["finite_difference_checked"] = partial.finite_difference_checked
        extra = {"symbolic_truncated": True} if partial.truncated else {}
        entry = _derivative(partial.wrt, partial.symbolic, numbers, partial.agree, extra=extra)
        if partial.problems:
            entry["problems"] = list(partial.problems)
        derivatives.append(entry)
    verdict = {
        "status": result.status,
        "reason": result.reason,
        "kinks": result.kinks,
        "notes": result.notes,
    }
    document = _diff_document(head, result.value, derivatives, verdict)
    if result.hessian is not None:
        document["hessian"] = _hessian(result.hessian)
    return _strict(document)


def _many_head(many, index) -> dict:
    return {
        "line": index if isinstance(index, str) else int(many.points.lines[index]),
        "expression": many.expression,
        "variables": list(many.variables),
        "wrt": list(many.wrt),
        "point": {
            n: index if isinstance(index, str) else float(many.points.columns[n][index])
            for n in many.variables
        },
        "dtype": many.dtype,
        "order": many.order,
    }


def _point_document(many, index: int) -> dict:
    """The full document of one point of `diff --points`, for any status."""
    derivatives = [
        _derivative(
            partial.wrt,
            partial.symbolic,
            {
                **{key: float(getattr(partial, key)[index]) for key in METHOD_KEYS},
                "finite_difference_checked": bool(partial.finite_difference_checked[index]),
            },
            bool(partial.agree[index]),
        )
        for partial in many.partials
    ]
    verdict = {
        "status": many.status(index),
        "reason": many.reasons.get(index, AGREED),
        "kinks": many.kinks.get(index, []),
        "notes": [],
    }
    return _strict(
        _diff_document(_many_head(many, index), float(many.value[index]), derivatives, verdict)
    )


_SLOT = re.compile(r'"@(\w+)@"')  # a number's place in the template


def _template(many) -> tuple[bytes, list[str]]:
    """The NDJSON line of a point that agrees, as a %-template built by the
    same `_diff_document` as every other line, with each number's slot named:
    (template, the column name of each %s in order)."""
    slot = "@{}@".format

    def put(document, key, value):
        document[key] = value

    derivatives = [
        _derivative(p.wrt, p.symbolic, {k: slot(f"{k}{i}") for k in METHOD_KEYS}, True, put)
        for i, p in enumerate(many.partials)
    ]
    head = _many_head(many, slot("line"))
    head["point"] = {n: slot(f"point{j}") for j, n in enumerate(many.variables)}
    verdict = {"status": "agree", "reason": AGREED, "kinks": [], "notes": []}
    text = dumps(_diff_document(head, slot("value"), derivatives, verdict, put))
    text = text.replace("%", "%%")
    return (_SLOT.sub("%s", text) + "\n").encode(), _SLOT.findall(text)


def diff_lines(many, chunk: int = 50_000):
    """NDJSON for `diff --points`: one document per point, the same fields as a
    single `diff --json` plus `line` (the input line). Yields UTF-8 bytes of up
    to `chunk` lines, so memory stays bounded. Points that agree are written by
    a template (all their numbers are finite); the others in full."""
    template, slots = _template(many)
    for start in range(0, len(many.points), chunk):
        yield _format_chunk(many, template, slots, start, min(len(many.points), start + chunk))


def _format_chunk(many, template: bytes, slots: list, start, stop) -> bytes:
    """The NDJSON lines of points start..stop: the template filled in for
    each run of agreeing points; the rare other point written in full."""
    named = {"line": many.points.lines, "value": many.value}
    named.update({f"point{j}": many.points.columns[n] for j, n in enumerate(many.variables)})
    for i, partial in enumerate(many.partials):
        named.update({f"{k}{i}": getattr(partial, k) for k in METHOD_KEYS})
    written = {name: _written(column[start:stop]) for name, column in named.items()}
    columns = [written[name] for name in slots]
    unusual = many.codes[start:stop] != 0
    for partial in many.partials:  # an unchecked finite difference is written in full
        unusual |= ~partial.finite_difference_checked[start:stop]
    bad = np.flatnonzero(unusual).tolist()
    out, run_start = [], 0
    for run_stop in [*bad, stop - start]:
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
        entry["nan_source"] = node.nan_source
        if node.nan_source:
            entry["nan_kind"] = node.nan_kind
        if node.depends:
            gradient: dict = {}
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
            "status": model.status,
            "reason": model.reason,
            "notes": list(model.notes),
        }
    )
    return _strict(document)


def perceptron(neuron) -> dict:
    from .neuron import shaped

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
    chain: dict = {}
    put_number(chain, "dloss_dyhat", first.dloss_dyhat)
    put_number(chain, "dyhat_dz", first.dyhat_dz)
    chain["dz_dw"] = shaped(neuron, neuron.x)
    chain["dz_db"] = 1.0
    document["chain_rule"] = chain
    w: dict = {}
    b: dict = {}
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


def softmax_layer(layer) -> dict:
    """`perceptron --loss ce` (perceptron-ce.schema.json)."""
    first = layer.first
    document: dict = {
        "schema_version": SCHEMA_VERSION,
        "x": list(layer.x),
        "y": layer.y,
        "w": [list(row) for row in layer.w],
        "b": list(layer.b),
        "classes": layer.classes,
        "loss_function": "ce",
        "dtype": layer.dtype,
        "z": first.z,
        "y_hat": first.y_hat,
    }
    put_number(document, "loss", first.loss)
    document["chain_rule"] = {"dloss_dz": first.dloss_dz, "dz_dw": list(layer.x), "dz_db": 1.0}
    document["gradients"] = {
        "w": {"manual": first.manual_w, "autograd": first.autograd_w},
        "b": {"manual": first.manual_b, "autograd": first.autograd_b},
    }
    document["largest_difference"] = layer.largest_difference
    document["agree"] = layer.agree and layer.trajectories_agree
    document["reason"] = layer.reason
    if layer.history:
        document["lr"] = layer.lr
        document["history"] = [
            {"epoch": epoch, "autograd_loss": a, "manual_loss": m} for epoch, a, m in layer.history
        ]
        document["trajectories_agree"] = layer.trajectories_agree
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


def explanation(explained) -> dict:
    """The fields `diff --explain` adds (explain.schema.json, and inside
    diff.schema.json with --at): every step, each derivative, the exact values."""
    import sympy as sp

    from .render.explain import latex_operator, step_latex

    partial = len(explained.variables) > 1
    steps = []
    for step in explained.steps:
        entry = {
            "step": step.number,
            "section": step.section,
            "rule": step.rule,
            "wrt": str(step.var),
            "before": sp.sstr(step.before),
            "after": sp.sstr(step.after),
            "latex": step_latex(step),
            "how": step.how,
            "note": step.note,
            "uses": list(step.uses),
            "checked": step.checked,
            "check": step.check,
        }
        if step.inner is not None:
            entry["let"] = {"name": str(step.inner[0]), "expression": sp.sstr(step.inner[1])}
        steps.append(entry)
    derivatives = []
    for index, section in enumerate(explained.sections):
        entry = {
            "wrt": list(section.wrt),
            "function": sp.sstr(section.function),
            "symbolic": sp.sstr(section.derivative),
            "latex": f"{latex_operator(section.wrt, partial)}\\left({sp.latex(explained.function)}"
            f"\\right) = {sp.latex(section.derivative)}",
            "result": sp.sstr(section.result),
            "steps": list(section.steps),
        }
        if explained.exact:
            exact, number = explained.exact[index]
            entry["exact"] = None if exact is None else sp.sstr(exact)
            put_number(entry, "exact_value", number)
        derivatives.append(entry)
    return {
        "explanation": steps,
        "symbolic_derivatives": derivatives,
        "checked": explained.checked,
    }


def answer(verdict) -> dict:
    """`diff --answer`: whether the hand-written derivative is right."""
    body: dict = {
        "answer": verdict.answer,
        "right": verdict.right,
        "method": verdict.method,
        "message": verdict.message,
    }
    if verdict.point is not None:
        body["point"] = dict(verdict.point)
        put_number(body, "answer_value", verdict.answer_value)
        put_number(body, "derivative_value", verdict.derivative_value)
        put_number(body, "difference", verdict.difference)
    if verdict.step is not None:
        body["step"] = verdict.step
        body["rule"] = verdict.rule
        body["slip"] = verdict.slip
    return {"answer": body}


def explained(explained, verdict=None) -> dict:
    """`diff --explain` / `--answer` without a point: the symbolic document
    (explain.schema.json)."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "expression": explained.expression,
        "variables": list(explained.variables),
        "wrt": list(explained.wrt),
        "order": explained.order,
    }
    document.update(explanation(explained))
    if verdict is not None:
        document.update(answer(verdict))
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


__all__ = [
    "SCHEMA_VERSION",
    "accumulate",
    "answer",
    "diff",
    "dumps",
    "error",
    "explained",
    "explanation",
    "graph",
    "perceptron",
    "put_number",
]
