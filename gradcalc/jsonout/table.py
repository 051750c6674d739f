"""`functions --json`: the function table."""

from __future__ import annotations

from .encoding import SCHEMA_VERSION


def functions(table, constants: dict) -> dict:
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
