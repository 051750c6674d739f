"""`plot --json` and `plot --fd-error --json`: the series the views draw."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from .encoding import SCHEMA_VERSION

if TYPE_CHECKING:
    from ..fderror import ErrorCurve, Fit
    from ..plotting import Piece, Plot


def plot(drawn: Plot) -> dict[str, Any]:
    """The `plot --json` document (schemas/drawn.schema.json): the series
    the views draw."""

    def numbers(values: Iterable[Any]) -> list[float]:
        return [float(v) for v in values]

    def pieces(found: list[Piece]) -> list[dict[str, list[float]]]:
        return [{"x": numbers(p.x), "y": numbers(p.y)} for p in found]

    document = {
        "schema_version": SCHEMA_VERSION,
        "expression": drawn.expression,
        "variable": drawn.variable,
        "point": dict(drawn.point),
        "value": drawn.value,
        "status": drawn.status,
        "reason": drawn.reason,
        "window": list(drawn.window),
        "y_limits": list(drawn.y_limits),
        "curve": pieces(drawn.curve),
        "tangents": [
            {
                "side": t.side,
                "slope": t.slope,
                "at": t.at,
                "value": t.value,
                "from": t.start,
                "to": t.stop,
            }
            for t in drawn.tangents
        ],
        "derivative": None
        if drawn.derivative is None
        else {
            "symbolic": drawn.derivative_text,
            "pieces": pieces(drawn.derivative),
        },
        "marks": [{"kind": m.kind, "x": m.x, "to": m.stop} for m in drawn.marks],
    }
    if drawn.plane is not None:
        document["tangent_plane"] = {
            "point": dict(drawn.plane.point),
            "value": drawn.plane.value,
            "gradient": dict(drawn.plane.gradient),
            "equation": drawn.plane.equation(None),
        }
    if drawn.taylor is not None:
        document["taylor"] = {
            "order": drawn.taylor.order,
            "polynomial": drawn.taylor.polynomial,
            "status": drawn.taylor.status,
            "reason": drawn.taylor.reason,
            "pieces": [{"x": numbers(drawn.taylor.x), "y": numbers(drawn.taylor.y)}],
        }
    return document


def fd_error(result: ErrorCurve) -> dict[str, Any]:
    """The `plot --fd-error --json` document (schemas/fd_error.schema.json)."""

    def number(v: float | None) -> float | None:
        return float(v) if v is not None and np.isfinite(v) else None

    def fit(f: Fit) -> dict[str, Any]:
        return {
            "slope": number(f.slope),
            "expected": f.expected,
            "fitted_from": f.low,
            "fitted_to": f.high,
        }

    return {
        "schema_version": SCHEMA_VERSION,
        "expression": result.expression,
        "variable": result.variable,
        "point": result.point,
        "derivative": result.derivative,
        "steps": [float(h) for h in result.steps],
        "series": [
            {
                "dtype": s.dtype,
                "stencil": s.stencil,
                "error": [number(e) for e in s.error],
                "best_step": s.best_step,
                "best_error": s.best_error,
                "truncation": fit(s.truncation),
                "rounding": fit(s.rounding),
                "flat_below": s.flat_below,
            }
            for s in result.series
        ],
        "chosen_step": {
            "step": result.chosen_step,
            "stencil": "five_point",
            "dtype": "float64",
            "error": result.chosen_error,
        },
        "notes": list(result.notes),
    }
