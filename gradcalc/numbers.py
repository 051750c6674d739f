"""Counts about showing numbers that the library needs as well as the views.

`vectors` samples the components a table shows, so the count of vector
elements shown before eliding is decided here, below both (render/numbers.py
formats; the library must not import its views).
"""

from __future__ import annotations

MAX_SHOWN = 8  # vector elements shown before eliding

__all__ = ["MAX_SHOWN"]
