"""`diff --json` at one point: the gradient, the Hessian, a Jacobian."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import atpoint
from .encoding import NOT_CHECKED, SCHEMA_VERSION, SKIPPED, Put, describe, put_number, strict

if TYPE_CHECKING:
    from ..hessian import Hessian
    from ..jacobian import Jacobian
    from ..pointcheck import Result
    from ..verdict import Kink

METHOD_KEYS = ("sympy", "autograd", "finite_difference", "finite_difference_error")


def derivative_document(
    wrt: Sequence[str],
    symbolic: str | list[str],
    numbers: dict[str, Any],
    agree: bool,
    *,
    put: Put = put_number,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of `derivatives` (and, without wrt/order, of `gradient`):
    `numbers` holds each method's value (METHOD_KEYS) and whether the
    finite difference was checked; `extra` fields follow `symbolic`."""
    entry: dict[str, Any] = {"wrt": list(wrt), "order": len(wrt), "symbolic": symbolic}
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


def _unchecked(value: Any) -> Any:
    if isinstance(value, list):
        return [NOT_CHECKED if v is None else v for v in value]
    return NOT_CHECKED if value is None else value


def diff_document(
    head: dict[str, Any],
    value: Any,
    derivatives: list[dict[str, Any]],
    verdict: dict[str, Any],
    *,
    put: Put = put_number,
) -> dict[str, Any]:
    """The one `diff --json` document, for one point and for each line of
    `--points` alike: `head` (expression ... order), the value, the
    derivatives, then the verdict's fields (status, reason, kinks, notes)."""
    from ..verdict import Status, tolerances

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


def _hessian(hessian: Hessian) -> dict[str, Any]:
    """--order 2: the full matrix by each method, eigenvalues, and what
    kind of point it is (diff.schema.json, `hessian`)."""
    document: dict[str, Any] = {"variables": list(hessian.variables), "gradient": hessian.gradient}
    document["matrix"] = hessian.matrix
    document["autograd"] = hessian.autograd
    document["finite_difference"] = hessian.finite_difference
    document["eigenvalues"] = hessian.eigenvalues
    document["critical_point"] = hessian.critical
    document["classification"] = hessian.classification
    document["tolerance"] = hessian.tolerance
    return document


def _kink(kink: Kink) -> dict[str, Any]:
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


def _matrix(values: np.ndarray | None) -> list[list[float | None]] | None:
    """Rows of floats, null where not finite (the verdict says why)."""
    if values is None:
        return None
    return [[float(v) if math.isfinite(v) else None for v in row] for row in values.tolist()]


def _jacobian_matrices(result: Jacobian) -> dict[str, Any]:
    """rows, columns, the formulas and each method's matrix, null where not
    finite with `<method>_nonfinite` saying what (as put_number does)."""

    body: dict[str, Any] = {
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
            what = {"undefined" if key == "sympy" else describe(float(v)) for v in bad}
            body[key + "_nonfinite"] = ", ".join(sorted(what))
    body["finite_difference_checked"] = result.finite_difference_checked.tolist()
    return body


def jacobian(result: Jacobian) -> dict[str, Any]:
    """`diff --json` of a vector-valued expression: its Jacobian by every
    method (diff.schema.json, `jacobian`), in place of `gradient`."""
    from ..verdict import tolerances

    document = {
        "schema_version": SCHEMA_VERSION,
        "expression": result.expression,
        "variables": list(result.variables),
        "wrt": list(result.wrt),
        "point": atpoint.as_json(result.point),
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
    return strict(document)


def _sum_gradient(result: Jacobian) -> dict[str, Any]:
    """A Jacobian document's `gradient`: of the sum of f's elements (torch's
    y.backward(torch.ones_like(y))), each method's column sums, by variable."""

    gradient: dict[str, Any] = {}
    columns = range(len(result.columns))
    for name in result.wrt:
        mine = [j for j in columns if result.columns[j].split("[")[0] == name]
        vector = result.columns[mine[0]] != name

        def shaped(
            values: np.ndarray, mine: list[int] = mine, vector: bool = vector
        ) -> float | list[float]:
            out = [float(v) for v in values[mine]]
            return out if vector else out[0]

        def summed(matrix: np.ndarray | None) -> float | list[float] | None:
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
        entry = derivative_document((name,), symbolic, numbers, result.agree)
        gradient[name] = {k: v for k, v in entry.items() if k not in ("wrt", "order")}
    return gradient


def diff(result: Result | Jacobian) -> dict[str, Any]:
    """`diff --json` at one point."""
    # (Result's module made it: a scalar's run imports no Jacobian, ~1.5 ms.)
    from ..pointcheck import Result

    if not isinstance(result, Result):  # a Jacobian: a vector-valued expression
        return jacobian(result)
    head = {
        "expression": result.expression,
        "variables": list(result.variables),
        "wrt": list(result.wrt),
        "point": atpoint.as_json(result.point),
        "dtype": result.dtype,
        "order": result.order,
    }
    derivatives = []
    for partial in result.partials:
        autograd: Any = partial.autograd  # a value, or SKIPPED when not run
        skipped = autograd is None or (isinstance(autograd, list) and autograd[0] is None)
        if skipped and not partial.problems and partial.sympy is not None:
            autograd = [SKIPPED] * len(autograd) if isinstance(autograd, list) else SKIPPED
        numbers = {key: getattr(partial, key) for key in METHOD_KEYS}
        numbers["autograd"] = autograd
        numbers["finite_difference_checked"] = partial.finite_difference_checked
        extra = {"symbolic_truncated": True} if partial.truncated else {}
        entry = derivative_document(
            partial.wrt, partial.symbolic, numbers, partial.agree, extra=extra
        )
        if partial.problems:
            entry["problems"] = list(partial.problems)
        derivatives.append(entry)
    verdict = {
        "status": result.status,
        "reason": result.reason,
        "kinks": result.kinks,
        "notes": result.notes,
    }
    document = diff_document(head, result.value, derivatives, verdict)
    if result.hessian is not None:
        document["hessian"] = _hessian(result.hessian)
    return strict(document)
