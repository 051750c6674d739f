"""Dicts for `--json`, and strict encoding (RFC 8259: no NaN/Infinity).

Every document carries `schema_version`; a number that is not finite is
written as null with the reason beside it under `<key>_nonfinite`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

SCHEMA_VERSION = 1
SKIPPED = object()  # a method that was not run (diff --no-autograd)
NOT_CHECKED = object()  # a finite difference not taken (a long vector's unsampled components)

# How a builder writes one number into a document: put_number, or the NDJSON
# template's writer of slot names (manypoints).
Put = Callable[[dict[str, Any], str, Any], None]


def dumps(document: dict[str, Any]) -> str:
    # allow_nan=False: a NaN that slipped through is a bug, not output.
    # To a stdout that cannot encode Unicode (PYTHONIOENCODING=ascii), JSON's
    # own \u escapes: the same document, where the terminal's ASCII fallback
    # would write another character ('×' as 'x').
    return json.dumps(document, allow_nan=False, ensure_ascii=not _unicode_stdout())


def _unicode_stdout() -> bool:
    import sys

    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("-", "")
    return encoding.startswith("utf")


def describe(value: Any) -> str:
    """Why a number is not in the document: undefined, skipped, nan, inf..."""
    if value is None:
        return "undefined"
    if value is SKIPPED:
        return "skipped"
    if value is NOT_CHECKED:
        return "not checked"
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def finite(value: Any) -> bool:
    return value is not None and value not in (SKIPPED, NOT_CHECKED) and math.isfinite(value)


def put_number(document: dict[str, Any], key: str, value: Any) -> None:
    """document[key] = value, or null plus `<key>_nonfinite` when it is not
    finite. Lists are cleaned element by element."""
    if isinstance(value, list):
        document[key] = [float(v) if finite(v) else None for v in value]
        bad = sorted({describe(v) for v in value if not finite(v)})
        if bad:
            document[key + "_nonfinite"] = ", ".join(bad)
        return
    if finite(value):
        document[key] = float(value)
    else:
        document[key] = None
        document[key + "_nonfinite"] = describe(value)


def error(kind: str, message: str, column: int | None = None) -> dict[str, Any]:
    """The document for any command's error under --json (error.schema.json)."""
    body: dict[str, Any] = {"kind": kind, "message": message}
    if column is not None:
        body["column"] = column
    return {"schema_version": SCHEMA_VERSION, "error": body}


def strict(document: Any) -> Any:
    """Replace any non-finite float left anywhere with null (defence in depth;
    the builders above already do it with reasons)."""
    if isinstance(document, dict):
        return {k: strict(v) for k, v in document.items()}
    if isinstance(document, list):
        return [strict(v) for v in document]
    if isinstance(document, float) and not math.isfinite(document):
        return None
    return document
