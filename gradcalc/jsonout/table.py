"""`functions --json`: the function table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .encoding import SCHEMA_VERSION

if TYPE_CHECKING:
    from ..functions import Function


def functions(table: Iterable[Function], constants: dict[str, tuple]) -> dict[str, Any]:
    """`functions --json`: each function's spellings, arguments, domain and
    description, and the constants."""
    from ..render.functions import arity_text

    return {
        "schema_version": SCHEMA_VERSION,
        "functions": [
            {
                "name": f.name,
                "spellings": [f.name, *f.aliases],
                "arguments": arity_text(f.arity),
                "domain": f.domain,
                "description": f.doc,
            }
            for f in table
        ],
        "constants": {name: value[1] for name, value in constants.items()},
    }
