"""`gradcalc repl --json`: the session's own documents (a message, the text
output of a command that has no --json), and any command's document with its
exit status added (repl.schema.json)."""

from __future__ import annotations

from typing import Any

from .encoding import SCHEMA_VERSION


def repl_message(text: str) -> dict[str, Any]:
    """What the session itself says: the point set by `at`, `help`."""
    return {"schema_version": SCHEMA_VERSION, "message": text, "exit_code": 0}


def repl_output(text: str, code: int) -> dict[str, Any]:
    """The text a command printed where it has no JSON (completion, --help)."""
    return {"schema_version": SCHEMA_VERSION, "output": text, "exit_code": code}


def with_exit_code(document: dict[str, Any], code: int) -> dict[str, Any]:
    """A command's own document, with the exit status it ended with."""
    return {**document, "exit_code": code}
