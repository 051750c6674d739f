"""`emit --json`: the code, how to call it, its certificate and its size."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .encoding import SCHEMA_VERSION, put_number

if TYPE_CHECKING:
    from ..emit import Emitted


def emitted(result: Emitted) -> dict[str, Any]:
    """emit.schema.json: `code` (header included), `function` (its name),
    `arguments` in call order, `certificate`, `operations`."""
    checked = result.certificate
    certificate: dict[str, Any] = {
        "passed": checked.passed,
        "ran": checked.ran,
        "points": checked.points,
        "random_points": checked.random_points,
        "at_point": checked.at_point,
        "tolerance": checked.tolerance,
        "method": checked.note,
        "gradcheck": checked.gradcheck,
    }
    put_number(certificate, "largest_error", checked.largest_error)
    return {
        "schema_version": SCHEMA_VERSION,
        "target": result.target,
        "order": result.order,
        "function": result.function,
        "arguments": result.arguments,
        "shapes": result.shapes,
        "gradient": result.gradient,
        "code": result.code,
        "certificate": certificate,
        "operations": dict(result.operations),
    }
