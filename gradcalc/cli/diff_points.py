"""diff --points: the points answered chunk by chunk as they are read, and
written as NDJSON, CSV or (text) a table of the first and last points."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable
from typing import Any

from .group import exit_code
from .inputs import open_points
from .output import Writing, show, write_bytes
from .progress import lines_in, with_progress


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def answer_points(
    expression: str,
    source: str,
    wrt: list[str] | None,
    order: int,
    dtype: str,
    form: str,
    digits: int | None = None,
) -> int:
    """Answer the points chunk by chunk as they are read: the first lines of
    the answer come long before a large input is read, and memory stays
    bounded by a chunk."""
    from .. import batch, budget, pointsfile

    budget.per_chunk()
    with budget.waiting():  # opening a FIFO waits for its writer
        stream, name = open_points(source)
    try:
        chunks = pointsfile.read_chunks(stream, name, waiting=budget.waiting)
        answers = batch.differentiate_stream(
            expression, chunks, wrt, order, dtype, before=budget.computing
        )
        counts = with_progress(
            lambda progress: _write_answers(answers, form, progress, digits), lines_in(stream)
        )
    finally:
        if source != "-":
            stream.close()
    total = sum(counts.values())
    others = {k: v for k, v in counts.items() if k != "agree"}
    if others:
        summary_line = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(others.items()))
        sys.stderr.write(f"gradcalc: {summary_line} of {_plural(total, 'point')}\n")
    return exit_code(batch.worst_status(counts))


WRITE_LINES = 4096  # NDJSON lines written at a time (about 4 MB)


def _write_answers(
    answers: Iterable[Any], form: str, progress: Callable[[int], Any] | None, digits: int | None
) -> dict:
    """NDJSON or CSV (`form` "json" or "csv") written chunk by chunk as each
    is answered, or ("text") a table of the first and last points once all
    are; returns the count of each verdict."""
    from .. import batch, budget

    counts: dict = {}
    if form in ("json", "csv"):
        from ..csvout import header_line, rows
        from ..jsonout import diff_lines

        for index, many in enumerate(answers):
            with Writing():
                budget.computed()  # writing: the reader sets the pace
            if form == "csv":
                head = [header_line(many)] if index == 0 else []
                write_bytes(itertools.chain(head, rows(many, chunk=WRITE_LINES)))
            else:
                write_bytes(diff_lines(many, chunk=WRITE_LINES))
            with Writing():
                sys.stdout.flush()
            for status, count in many.counts().items():
                counts[status] = counts.get(status, 0) + count
            if progress is not None:
                progress(len(many.points))
        return counts
    from ..render.many import HEAD, view

    tally = batch.Tally(HEAD)
    for many in answers:
        tally.add(many)
        if progress is not None:
            progress(len(many.points))
    with Writing():
        budget.computed()
    summary = tally.summary()
    show(view(summary, digits))
    return summary.counts()
