"""`diff --points --json`: one JSON object per point (NDJSON), written a chunk
at a time from a template."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..verdict import AGREED
from .encoding import dumps, strict
from .onepoint import METHOD_KEYS, derivative_document, diff_document

if TYPE_CHECKING:
    from ..batch import Many


def _many_head(many: Many, index: int | str) -> dict[str, Any]:
    """The fields before `value`: of point `index`, or with `index` (a slot
    name) in place of the line and of each coordinate."""
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


def point_document(many: Many, index: int) -> dict[str, Any]:
    """The full document of one point of `diff --points`, for any status."""
    derivatives = [
        derivative_document(
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
    return strict(
        diff_document(_many_head(many, index), float(many.value[index]), derivatives, verdict)
    )


_SLOT = re.compile(r'"@(\w+)@"')  # a number's place in the template


def _template(many: Many) -> tuple[bytes, list[str]]:
    """The NDJSON line of a point that agrees, as a %-template built by the
    same `diff_document` as every other line, with each number's slot named:
    (template, the column name of each %s in order)."""
    slot = "@{}@".format

    def put(document: dict[str, Any], key: str, value: Any) -> None:
        document[key] = value

    derivatives = [
        derivative_document(
            p.wrt, p.symbolic, {k: slot(f"{k}{i}") for k in METHOD_KEYS}, True, put=put
        )
        for i, p in enumerate(many.partials)
    ]
    head = _many_head(many, slot("line"))
    head["point"] = {n: slot(f"point{j}") for j, n in enumerate(many.variables)}
    verdict = {"status": "agree", "reason": AGREED, "kinks": [], "notes": []}
    text = dumps(diff_document(head, slot("value"), derivatives, verdict, put=put))
    text = text.replace("%", "%%")
    return (_SLOT.sub("%s", text) + "\n").encode(), _SLOT.findall(text)


def diff_lines(many: Many, chunk: int = 50_000) -> Iterator[bytes]:
    """NDJSON for `diff --points`: one document per point, the same fields as a
    single `diff --json` plus `line` (the input line). Yields UTF-8 bytes of up
    to `chunk` lines, so memory stays bounded. Points that agree are written by
    a template (all their numbers are finite); the others in full."""
    template, slots = _template(many)
    for start in range(0, len(many.points), chunk):
        yield _format_chunk(many, template, slots, start, min(len(many.points), start + chunk))


def _format_chunk(many: Many, template: bytes, slots: list[str], start: int, stop: int) -> bytes:
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
            out.append((dumps(point_document(many, start + run_stop)) + "\n").encode())
        run_start = run_stop + 1
    return b"".join(out)


def _written(array: np.ndarray) -> list[bytes]:
    """Each number of a 1-d array as JSON text (bytes), shortest round-trip
    form. orjson's float formatting (Ryu) is about 18 times faster than
    repr(), which was most of the time of a million-point run."""
    import orjson

    text = orjson.dumps(np.ascontiguousarray(array), option=orjson.OPT_SERIALIZE_NUMPY)
    return text[1:-1].split(b",") if len(array) else []
