"""`diff --certify` and `diff --direction`: the table, then each derivative's
ball (certify.py) and the directional derivative (direction.py), one view."""

from __future__ import annotations

from typing import Any

from .group import exit_code
from .output import emit, show


def answer_extras(result: Any, params: dict) -> int:
    """Print the result with its certificates and its directional
    derivative (diff's `params`: certify, direction, unnormalized, json,
    digits); the exit code is the worse of the two verdicts."""
    certify, direction, json = params["certify"], params["direction"], params["json"]
    normalize, digits = not params["unnormalized"], params["digits"]
    certificates = None
    if certify:
        from ..certify import certify as enclose

        certificates = enclose(result)
    directional = None
    if direction is not None:
        from ..direction import along

        directional = along(result, direction, normalize)
    if json:
        from ..jsonout import certified, diff

        emit(certified(diff(result), result, certificates, directional))
    else:
        from rich.console import Group

        from ..render.certify import view as extras
        from ..render.diff import view

        show(Group(view(result, digits), *extras(result, certificates, directional, digits)))
    code = exit_code(result.status)
    return max(code, exit_code(directional.status)) if directional is not None else code
