"""`assert_gradients`: one line in a user's own test suite.

    from gradcalc.testing import assert_gradients

    def test_my_loss():
        assert_gradients(my_loss, x=[0.5, -2.0, 3.0], y=[1.0, 0.0, 2.0])

It raises AssertionError with the table (input, element, the values by
each method, the relative error) when the gradients disagree, or when the
point is a kink or undefined (`allow_kinks=True` lets a kink pass)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def assert_gradients(
    function: Callable[..., Any], *, allow_kinks: bool = False, **point: Any
) -> Any:
    """Check `function`'s gradients at `point` (tensors, arrays, lists or
    numbers by parameter name); the Check result when they agree."""
    from .api import check
    from .usercode.words import plain_table
    from .verdict import Status

    result = check(function, **point)
    if result.status == Status.AGREE or (allow_kinks and result.status == Status.KINK):
        return result
    raise AssertionError(
        f"gradients of {result.function}: {result.status}: {result.reason}\n"
        + plain_table(result.result)
    )
