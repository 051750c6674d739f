"""The point of `--at` (and the API's `at=`): specifications -> named float arrays.

A value is a number, a constant expression (`pi/4`, `2e-3`, `-1`) parsed
by our own grammar, or a vector `[1, 2, 3]`. Integers become floats.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import ParseError, PointError, TooLargeError
from .parsing import MAX_DIGITS, parse

MAX_VECTOR = 10_000  # elements in one vector variable
BLANK = " \t\n\r\f\v"  # ASCII whitespace: str.strip() would also drop U+3000 and no-break spaces


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside brackets or parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _error(where: str, what: str) -> PointError:
    """An error about the value `where` names: "{at} x" (the point's
    parameter, spelled by whoever reports it) or a place of its own."""
    return PointError(where + what, option="at" if where.startswith("{at}") else None)


def number(text: str, where: str) -> float:
    """A finite float from a numeric literal or constant expression."""
    source = text.strip(BLANK)
    if not source:
        raise _error(where, ": missing value")
    if source.lower().lstrip("+-") in ("nan", "inf", "infinity") or (
        _PLAIN.fullmatch(source) and math.isinf(float(source))
    ):
        raise _error(where, f": {source!r} is not a finite number")
    try:
        expr = parse(source)
    except ParseError as error:
        raise _error(where, f": {source!r} is not a number ({error.message})") from None
    except TooLargeError as error:  # more digits than a number may have: its kind stays
        raise TooLargeError(
            f"{where}: {error}", option="at" if where.startswith("{at}") else None
        ) from None
    if expr.variables:
        names = "" if [source] == expr.variables else f" (it names {', '.join(expr.variables)})"
        raise _error(where, f": {source!r} is not a number{names}")
    from .numeric import evaluate

    value = float(evaluate(expr, {})[0, 0])
    if not math.isfinite(value):
        raise _error(where, f": {source!r} is not a finite number")
    return value


# A plain decimal literal (ASCII digits only), read by float() directly: a
# 10,000-element vector would spend most of its time in the parser otherwise.
_PLAIN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?", re.ASCII)


def _element(text: str, where: str) -> float:
    source = text.strip()
    if _PLAIN.fullmatch(source) and sum(c.isdigit() for c in source) <= MAX_DIGITS:
        result = float(source)
        if math.isfinite(result):
            return result
    return number(text, where)  # everything else, and every error, as for a scalar


def value(text: str, where: str) -> np.ndarray:
    """A 0-d array for a number, a 1-d one for a vector `[1, 2, 3]`."""
    source = text.strip(BLANK)
    if source.startswith("["):
        if not source.endswith("]"):
            raise _error(where, f": unclosed '[' in {source!r}")
        inner = source[1:-1]
        if not inner.strip(BLANK):
            raise _error(where, ": empty vector")
        if "[" in inner:
            raise _error(where, ": vectors are one-dimensional")
        items = _split_top_level(inner)
        if len(items) > MAX_VECTOR:
            raise _error(where, f": {len(items)} elements; the limit is {MAX_VECTOR}")
        return np.array([_element(item, f"{where}[{i}]") for i, item in enumerate(items)])
    return np.array(number(source, where))


def resolve(specs: list[str], variables: list[str]) -> Point:
    """Combine the point's specifications (the CLI's `--at` options, the
    API's `at`) into {name: array} covering every variable. Messages name
    the parameter `at`; the CLI spells it as its flag."""
    point: dict[str, np.ndarray] = {}
    for spec in specs:
        if "=" not in spec.split("[")[0]:
            if len(variables) != 1:
                what = "no variables" if not variables else f"variables {', '.join(variables)}"
                raise PointError(
                    f"{{at}} {spec!r} gives no name, but the expression has {what}; "
                    + ("drop {at}" if not variables else "write {at} name=value,..."),
                    option="at",
                )
            _put(point, variables[0], value(spec, "{at} " + variables[0]))
            continue
        for item in _split_top_level(spec):
            name, sep, text = item.partition("=")
            name = name.strip(BLANK)
            if not name or not sep:
                raise PointError(
                    f"{{at}} {spec!r}: expected name=value, got {item.strip(BLANK)!r}", option="at"
                )
            if name not in variables:
                known = ", ".join(variables) or "none"
                raise PointError(
                    f"{{at}}: {name!r} is not a variable of the expression "
                    f"(its variables: {known})",
                    option="at",
                )
            _put(point, name, value(text, "{at} " + name))
    return _complete(point, variables)


def refuse_missing(values: Mapping[str, Any], required: list[str], noun: str = "") -> None:
    """A PointError naming each of `required` without a value in `values`
    (`noun`: what they are, as "parameter ") and how to give it with --at."""
    missing = [name for name in required if name not in values]
    if missing:
        add = ",".join(f"{m}=..." for m in missing)
        raise PointError(f"no value for {noun}{', '.join(missing)}: add {{at}} {add}", option="at")


def _complete(point: dict[str, np.ndarray], variables: list[str]) -> Point:
    """Every variable has a value, and vectors have one length."""
    refuse_missing(point, variables)
    sizes = {name: point[name].size for name in variables if point[name].ndim == 1}
    if len(set(sizes.values())) > 1:
        each = ", ".join(f"{name} has {size}" for name, size in sizes.items())
        raise PointError(f"vector variables have different lengths: {each}")
    return Point((name, np.asarray(point[name], dtype=float)) for name in variables)


def _put(point: dict[str, np.ndarray], name: str, array: np.ndarray) -> None:
    if name in point:
        raise PointError(f"{{at}}: {name} is given twice", option="at")
    point[name] = array


class Point(dict[str, np.ndarray]):
    """A point: each variable's value as a float64 array, 0-d for a scalar
    and 1-d for a vector, in the expression's order of variables. Built once,
    by `point()`, from what the user wrote; read everywhere as a dict (a dict
    subclass, so code that takes {name: array} takes a Point as it is)."""

    def __repr__(self) -> str:
        return f"Point({as_json(self)})"


AT_ACCEPTS = (
    "a number (one variable), a dict of numbers, lists or arrays by name, "
    "a string such as 'x=3,y=[1,2]', or a list of such strings"
)


def point(at: Any, variables: list[str]) -> Point:
    """The point `at` names for an expression of `variables`, resolved once:
    a Point as it is; a number (an expression of one variable); a dict of
    numbers, lists or numpy arrays by name; a string like the CLI's `--at`
    ('x=3,y=[1,2]', or '3' for one variable); a list of such strings; or
    nothing (None, []) for an expression without variables."""
    if isinstance(at, Point):
        if list(at) == list(variables):
            return at  # resolved once already, for these variables
        return resolve_values(dict(at), variables)
    if at is None:
        return resolve([], variables)
    if isinstance(at, str):
        return resolve([at], variables)
    if isinstance(at, Mapping):
        return resolve_values(dict(at), variables)
    if isinstance(at, (list, tuple)):
        if all(isinstance(spec, str) for spec in at):
            return resolve(list(at), variables)
        raise TypeError(
            f"at must be {AT_ACCEPTS}; a list holds such strings, not numbers "
            "(a vector goes in a dict: at={'x': [1, 2, 3]})"
        )
    if _is_number(at):
        if len(variables) != 1:
            raise PointError(
                f"{{at}} {at!r} gives no name, but the expression has "
                f"variables {', '.join(variables) or '(none)'}: give a dict of values by name",
                option="at",
            )
        return resolve_values({variables[0]: at}, variables)
    raise TypeError(f"at must be {AT_ACCEPTS}; not {type(at).__name__}")


def resolve_values(values: Mapping[Any, Any], variables: list[str]) -> Point:
    """A point from numbers by name (the API's dict): no text on the way."""
    resolved: dict[str, np.ndarray] = {}
    for name, value in values.items():
        if not isinstance(name, str) or name not in variables:
            known = ", ".join(variables) or "none"
            raise PointError(
                f"{{at}}: {name!r} is not a variable of the expression (its variables: {known})",
                option="at",
            )
        resolved[name] = _array(name, value)
    return _complete(resolved, variables)


def _is_number(value: Any) -> bool:
    """A real number (a Python or numpy number, or a 0-d array), not a bool."""
    kind = np.asarray(value).dtype.kind if isinstance(value, np.ndarray) else None
    if kind is not None:
        return value.ndim == 0 and kind in "iuf"
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


_OF_KIND = {"U": " of text", "S": " of bytes", "b": " of bools", "O": " of mixed values"}


def _array(name: str, value: Any) -> np.ndarray:
    """A value of the API's dict: numbers only (text, bools and other
    objects are refused, not converted)."""
    try:
        given = np.asarray(value)
    except (TypeError, ValueError):  # a ragged list
        given = np.asarray([], dtype=object)
    if given.dtype.kind not in "iuf" or (given.size == 0 and given.ndim == 0):
        raise TypeError(
            f"at[{name!r}] must be a number or a list or array of numbers, "
            f"not {type(value).__name__}"
            + (
                _OF_KIND.get(given.dtype.kind, "")
                if isinstance(value, (list, tuple, np.ndarray))
                else ""
            )
        )
    array = given.astype(float)
    if array.ndim > 1:
        raise PointError(f"{{at}} {name}: vectors are one-dimensional", option="at")
    if array.ndim == 1 and array.size == 0:
        raise PointError(f"{{at}} {name}: empty vector", option="at")
    if array.size > MAX_VECTOR:
        raise PointError(
            f"{{at}} {name}: {array.size} elements; the limit is {MAX_VECTOR}", option="at"
        )
    if not np.all(np.isfinite(array)):
        raise PointError(f"{{at}} {name}: not a finite number", option="at")
    return array


def shapes(point: Mapping[str, np.ndarray]) -> dict[str, int | None]:
    """name -> vector length, or None for a scalar."""
    return {name: (v.size if v.ndim == 1 else None) for name, v in point.items()}


def as_json(point: Mapping[str, np.ndarray]) -> dict[str, float | list[float]]:
    """The point in a JSON document: a number, or a list for a vector."""
    return {name: (v.tolist() if v.ndim else float(v)) for name, v in point.items()}
