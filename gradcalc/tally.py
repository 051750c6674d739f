"""What the table of many points (`diff --points`, the text view) shows,
gathered chunk by chunk as `batch.differentiate_stream` answers them, in
memory bounded by what is kept: the counts of each verdict, the first and
last rows, the first reasons."""

from __future__ import annotations

from typing import Any

import numpy as np

from .batch import Many, PartialColumns
from .pointsfile import Points
from .verdict import STATUSES


class Tally:
    """What a table of many points shows, gathered chunk by chunk in bounded
    memory: the counts of each verdict, the first and last `keep` points and
    the first `keep` reasons. `summary()` is a `Many` the table view reads as
    it reads a whole one (its arrays answer only at the kept rows)."""

    def __init__(self, keep: int) -> None:
        self.keep, self.count = keep, 0
        self.first: Any = None  # the first chunk's Many
        self.found = np.zeros(len(STATUSES), dtype=np.int64)
        self.rows: dict[int, dict[tuple, Any]] = {}  # index -> one row's values
        self.reasons: dict = {}
        # The line of each reason kept: its row may be neither first nor last.
        self.lines: dict[int, Any] = {}

    def add(self, many: Many) -> None:
        if self.first is None:
            self.first = many
        size = len(many.points)
        self.found += np.bincount(many.codes, minlength=len(STATUSES))
        # The first keep + 1 rows: a table of 2·keep + 1 rows is shown whole
        # (render/many.py: eliding one row would save none).
        head = self.keep + 1
        wanted = list(range(min(size, max(0, head - self.count))))
        wanted += range(max(0, size - self.keep), size)
        for i in sorted(set(wanted)):
            self.rows[self.count + i] = _row(many, i)
        for i in sorted(many.reasons):
            if len(self.reasons) >= self.keep:
                break
            self.reasons[self.count + i] = many.reasons[i]
            self.lines[self.count + i] = many.points.lines[i]
        self.count += size
        tail = self.count - self.keep
        for index in [k for k in self.rows if head <= k < tail]:
            del self.rows[index]

    def summary(self) -> Many:
        first, rows, count = self.first, self.rows, self.count

        def sampled(*key: Any) -> Any:  # stands where the view reads an array
            return _Sampled(count, rows, key)

        lines: Any = _Sampled(count, rows, ("line",), self.lines)  # the reasons' too
        points = Points(
            first.points.names, {n: sampled("column", n) for n in first.points.names}, lines
        )
        partials = [
            PartialColumns(
                wrt=p.wrt,
                symbolic=p.symbolic,
                sympy=sampled("partial", k, "sympy"),
                autograd=sampled("partial", k, "autograd"),
                finite_difference=sampled("partial", k, "finite_difference"),
                finite_difference_error=sampled("partial", k, "finite_difference_error"),
                agree=sampled("partial", k, "agree"),
                finite_difference_checked=sampled("partial", k, "finite_difference_checked"),
            )
            for k, p in enumerate(first.partials)
        ]
        found = self.found
        summary = _Summary(
            first.expression,
            first.variables,
            first.wrt,
            first.dtype,
            first.order,
            points,
            sampled("value"),
            partials,
            sampled("code"),
            dict(self.reasons),
        )
        summary.found = {STATUSES[i]: int(c) for i, c in enumerate(found) if c}
        return summary


def _row(many: Many, i: int) -> dict:
    row: dict[tuple, Any] = {
        ("line",): many.points.lines[i],
        ("value",): many.value[i],
        ("code",): many.codes[i],
    }
    for n in many.points.names:
        row[("column", n)] = many.points.columns[n][i]
    for k, p in enumerate(many.partials):
        for key in (
            "sympy",
            "autograd",
            "finite_difference",
            "finite_difference_error",
            "agree",
            "finite_difference_checked",
        ):
            row[("partial", k, key)] = getattr(p, key)[i]
    return row


class _Sampled:
    """An array of `length` entries that answers only at the kept rows."""

    def __init__(self, length: int, rows: dict, key: tuple, others: dict | None = None) -> None:
        # `others`: entries at rows not kept (the lines of the reasons kept)
        self.length, self.rows, self.key, self.others = length, rows, key, others or {}

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Any:
        at = int(index) % self.length if index < 0 else int(index)
        return self.rows[at][self.key] if at in self.rows else self.others[at]


class _Summary(Many):
    found: dict

    def counts(self) -> dict:
        return self.found


__all__ = ["Tally"]
