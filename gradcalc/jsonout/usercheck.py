"""`gradcalc check --json` (check.schema.json): a user's function checked.

`gradient.<input>` has the methods' numbers in the input's own shape for a
scalar output (a leading axis of the Jacobian's rows for a tensor output,
or of the random directions past usercode.methods.MAX_ROWS outputs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .encoding import SCHEMA_VERSION, put_number

if TYPE_CHECKING:
    from ..usercode.checking import InputCheck, Result


def nested(document: dict[str, Any], key: str, array: np.ndarray | None) -> None:
    """document[key] = the array as nested lists, a non-finite entry null
    and `<key>_nonfinite` saying which kinds there are."""
    if array is None:
        document[key] = None
        return
    if array.ndim == 0:
        put_number(document, key, float(array))
        return
    flat: dict[str, Any] = {}
    put_number(flat, key, [float(v) for v in array.reshape(-1)])
    document[key] = np.array(flat[key], dtype=object).reshape(array.shape).tolist()
    if key + "_nonfinite" in flat:
        document[key + "_nonfinite"] = flat[key + "_nonfinite"]


def _shaped(result: Result, item: InputCheck, rows: np.ndarray) -> np.ndarray:
    """(rows, elements) -> the input's shape, behind the output's shape (or
    the directions) unless the output is a scalar."""
    if (rows.shape[0] == 1 and not result.output_shape) or (
        result.directions == 0 and not result.output_shape
    ):
        return rows.reshape(item.shape)
    lead = (result.directions,) if result.directions else result.output_shape
    return rows.reshape(lead + item.shape)


def _input(result: Result, item: InputCheck) -> dict[str, Any]:
    body: dict[str, Any] = {"shape": list(item.shape)}
    nested(body, "autograd", _shaped(result, item, item.autograd))
    if item.autograd_float64 is not None:
        nested(body, "autograd_float64", _shaped(result, item, item.autograd_float64))
    nested(body, "forward", None if item.forward is None else _shaped(result, item, item.forward))
    if item.sympy is not None:
        nested(body, "sympy", _shaped(result, item, item.sympy))
        text = (result.symbolic or {}).get("derivatives", {}).get(item.name)
        body["symbolic"] = np.array(text, dtype=object).reshape(item.shape).tolist()
    d = item.differences
    nested(body, "finite_difference", _shaped(result, item, d.estimate))
    nested(body, "finite_difference_error", _shaped(result, item, d.error))
    body["agree"] = item.agree
    body["differentiable"] = item.differentiable
    if d.kink.any():
        nested(body, "left", _shaped(result, item, d.left))
        nested(body, "right", _shaped(result, item, d.right))
    return body


def _mismatch(m: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "input": m.input,
        "element": list(m.element),
        "output": None if m.output is None else list(m.output),
        "method": m.method,
    }
    put_number(body, "value", m.value)
    put_number(body, "finite_difference", m.finite_difference)
    put_number(body, "relative_error", m.relative_error)
    return body


def _nan(trace: dict[str, Any] | None) -> dict[str, Any] | None:
    if trace is None:
        return None
    body = {k: v for k, v in trace.items() if k not in ("made", "incoming", "input_value")}
    for key in ("made", "incoming", "input_value"):
        put_number(body, key, trace.get(key))
    return body


def check(result: Result) -> dict[str, Any]:
    from ..usercode.judge import TOLERANCE

    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "target": result.target,
        "function": result.function,
        "point": {k: np.asarray(v).tolist() for k, v in result.point.items()},
        "dtype": result.dtype,
        "judged_in": result.judged_in,
        "output_shape": list(result.output_shape),
    }
    nested(document, "value", result.value)
    document["jacobian"] = {
        "mode": "directions" if result.directions else "full",
        "directions": result.directions,
    }
    forward = result.forward_method if result.forward_method == FORWARD else None
    document["methods"] = {
        "autograd": "torch.autograd.grad",
        "forward": forward,
        "finite_difference": "central, Richardson-extrapolated",
    }
    if forward is None:
        document["methods"]["forward_unsupported"] = result.forward_method
    document["gradient"] = {item.name: _input(result, item) for item in result.inputs}
    document["status"] = result.status
    document["reason"] = result.reason
    document["agree"] = result.agree
    document["differentiable"] = result.differentiable
    document["mismatches"] = [_mismatch(m) for m in result.mismatches[:MAX_LISTED]]
    document["mismatch_count"] = len(result.mismatches)
    document["kinks"] = result.kinks[:MAX_LISTED]
    document["nan_trace"] = _nan(result.nan)
    document["custom_functions"] = result.custom_functions
    document["precision"] = result.precision
    document["symbolic"] = result.symbolic
    document["random"] = result.random
    tol = TOLERANCE[result.judged_in]
    document["tolerance"] = {"rtol": tol.rtol, "atol": tol.atol, "atol_share": tol.atol_share}
    return document


FORWARD = "torch.func.jacfwd"
MAX_LISTED = 100  # mismatches and kinks listed (their count is always given)
