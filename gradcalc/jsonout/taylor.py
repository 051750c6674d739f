"""`taylor --json`: the polynomial, each coefficient three ways, the remainder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .encoding import SCHEMA_VERSION, put_number

if TYPE_CHECKING:
    from ..explain import TaylorExplanation
    from ..taylor import Coefficient, Remainder, Taylor


def taylor(expanded: Taylor) -> dict[str, Any]:
    """The `taylor --json` document (schemas/taylor.schema.json)."""
    from ..taylor import AUTOGRAD_TOLERANCE, DISTANCES, MP_DIGITS, MPMATH_TOLERANCE

    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "expression": expanded.expression,
        "variable": expanded.variable,
        "point": dict(expanded.point),
        "at": expanded.at,
        "order": expanded.order,
        "polynomial": expanded.polynomial(),
        "exact_polynomial": expanded.exact_polynomial,
        "coefficients": [_coefficient(c) for c in expanded.coefficients],
    }
    put_number(document, "next_coefficient", expanded.next_coefficient)
    document["remainders"] = [_remainder(r, expanded.order) for r in expanded.remainders]
    document["radius"] = {
        "tolerance": expanded.radius.tolerance,
        "radius": expanded.radius.radius,
        "capped": expanded.radius.capped,
    }
    document["tolerances"] = {
        "autograd": {"rtol": AUTOGRAD_TOLERANCE.rtol, "atol": AUTOGRAD_TOLERANCE.atol},
        "mpmath": {"rtol": MPMATH_TOLERANCE.rtol, "atol": MPMATH_TOLERANCE.atol},
        "mpmath_digits": MP_DIGITS,
        "distances": list(DISTANCES),
    }
    document["agree"] = expanded.agree
    document["status"] = expanded.status
    document["reason"] = expanded.reason
    document["notes"] = list(expanded.notes)
    return document


def _coefficient(c: Coefficient) -> dict[str, Any]:
    entry: dict[str, Any] = {"k": c.k, "exact": c.exact}
    for key in ("sympy", "autograd", "mpmath"):
        put_number(entry, key, getattr(c, key))
    entry["agree"] = c.agree
    entry["problems"] = list(c.problems)
    return entry


def _remainder(r: Remainder, order: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"h": r.h}
    put_number(entry, "left", r.left)
    put_number(entry, "right", r.right)
    largest = r.largest
    put_number(entry, "per_h_power", None if largest is None else largest / r.h ** (order + 1))
    return entry


def taylor_explained(taught: TaylorExplanation) -> dict[str, Any]:
    """The `taylor --explain --json` document (schemas/taylor-explain.schema.json):
    diff --explain's steps and derivatives, then each coefficient."""
    import sympy as sp

    from .explanation import explanation

    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "expression": taught.explanation.expression,
        "variable": taught.variable,
        "at": sp.sstr(taught.at),
        "order": taught.explanation.order,
        **explanation(taught.explanation),
    }
    coefficients = []
    for k, (exact, number) in enumerate(taught.coefficients):
        entry: dict[str, Any] = {"k": k, "exact": None if exact is None else sp.sstr(exact)}
        put_number(entry, "value", number)
        coefficients.append(entry)
    document["coefficients"] = coefficients
    return document
