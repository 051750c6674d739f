"""`diff --certify --json` and `diff --direction --json`: the fields they add
to diff's document (diff.schema.json: `certificates`, `directional`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .encoding import put_number

if TYPE_CHECKING:
    from ..certify import Certificate
    from ..direction import Directional

METHODS = ("sympy", "autograd", "finite_difference")


def certified(
    document: dict[str, Any],
    result: Any,
    certificates: list[Certificate] | None,
    directional: Directional | None,
) -> dict[str, Any]:
    if certificates is not None:
        document["certificates"] = [
            _certificate(c, p) for c, p in zip(certificates, result.partials)
        ]
    if directional is not None:
        document["directional"] = _directional(directional)
    return document


def _certificate(certificate: Certificate, partial: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"wrt": list(certificate.wrt)}
    ball = certificate.ball
    if ball is None:
        entry.update({"ball": None, "unsupported": certificate.why})
        return entry
    entry["ball"] = {
        "midpoint": ball.midpoint,
        "radius": ball.radius,
        "precision_bits": ball.bits,
        "arb": ball.arb,
    }
    entry["unsupported"] = None
    for method in METHODS:
        value = getattr(partial, method)
        distance = ball.distance(value)
        entry[f"{method}_inside"] = None if distance is None else distance == 0.0
        put_number(entry, f"{method}_outside_by", distance)
    return entry


def _directional(d: Directional) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "variables": d.variables,
        "direction": d.given,
        "unit": d.unit,
        "normalized": d.normalized,
    }
    for key in ("sympy", "autograd", "finite_difference", "finite_difference_error"):
        put_number(entry, key, getattr(d, key))
    entry.update({"agree": d.agree, "status": d.status, "reason": d.reason})
    return entry
