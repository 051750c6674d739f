"""diff --points: the points answered chunk by chunk as they are read, and
written as NDJSON, CSV or (text) a table of the first and last points."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

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
    files: tuple[str, str | None, bool] = ("auto", None, False),
) -> int:
    """Answer the points chunk by chunk as they are read: the first lines of
    the answer come long before a large input is read, and memory stays
    bounded by a chunk. `files`: (--input-format, --output, --force). The
    helper that imports torch meanwhile (autograd_apart) is let go at the end."""
    from .. import autograd_apart

    try:
        return _answer(expression, source, wrt, order, dtype, form, digits, files)
    finally:
        autograd_apart.stop()


def _answer(
    expression: str,
    source: str,
    wrt: list[str] | None,
    order: int,
    dtype: str,
    form: str,
    digits: int | None,
    files: tuple[str, str | None, bool],
) -> int:
    from .. import batch, budget, columnar, pointsfile

    input_format, output, force = files
    kind = columnar.kind_of(source, input_format)
    if kind in columnar.COLUMNAR or form == "parquet":
        columnar.pyarrow()  # a missing extra said before any work
    if output is not None:
        from ..outfile import refuse_to_replace

        refuse_to_replace(output, force)  # before any work (never for -, stdout)
    budget.per_chunk()
    with budget.waiting():  # opening a FIFO waits for its writer
        stream, name = open_points(source)
    try:
        if kind in columnar.COLUMNAR:
            chunks = columnar.read_chunks(name, kind, stream if source == "-" else None)
            total = 0
        else:
            chunks = pointsfile.read_chunks(stream, name, waiting=budget.waiting, kind=kind)
            total = lines_in(stream)
        answers = batch.differentiate_stream(
            expression, chunks, wrt, order, dtype, before=budget.computing
        )
        counts = with_progress(
            lambda progress: _write_answers(answers, form, progress, digits, output, force),
            total,
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
    answers: Iterable[Any],
    form: str,
    progress: Callable[[int], Any] | None,
    digits: int | None,
    output: str | None = None,
    force: bool = False,
) -> dict:
    """NDJSON, CSV or Parquet (`form` "json", "csv" or "parquet") written
    chunk by chunk as each is answered (to stdout, or to `output` whole or not
    at all), or ("text") a table of the first and last points once all are;
    returns the count of each verdict."""
    from .. import batch, budget

    if form == "parquet":
        from ..tableout import parquet_file

        assert output is not None  # (diff_rules: parquet needs --output)
        with parquet_file(output, force) as sink:
            return _each(answers, progress, sink.write)
    if form in ("json", "csv"):
        if output in (None, "-"):  # --output -: stdout
            return _each(answers, progress, _text_writer(form, None))
        from ..outfile import replacing

        with replacing(output, force) as temporary, open(temporary, "wb") as file:
            return _each(answers, progress, _text_writer(form, file))
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


def _each(
    answers: Iterable[Any], progress: Callable[[int], Any] | None, write: Callable[[Any], Any]
) -> dict:
    """`write(many)` for each chunk answered; the count of each verdict."""
    from .. import budget

    counts: dict = {}
    for many in answers:
        with Writing():
            budget.computed()  # writing: the reader sets the pace
        write(many)
        for status, count in many.counts().items():
            counts[status] = counts.get(status, 0) + count
        if progress is not None:
            progress(len(many.points))
    return counts


def _text_writer(form: str, file: BinaryIO | None) -> Callable[[Any], None]:
    """Writes a chunk's CSV rows (the header before the first) or NDJSON
    lines to `file`, or to stdout (None), flushed after each chunk."""
    from ..csvout import header_line, rows
    from ..jsonout import diff_lines

    first = [True]

    def write(many: Any) -> None:
        if form == "csv":
            head = [header_line(many)] if first[0] else []
            first[0] = False
            chunks: Iterable[bytes] = itertools.chain(head, rows(many, chunk=WRITE_LINES))
        else:
            chunks = diff_lines(many, chunk=WRITE_LINES)
        write_bytes(chunks, file)
        with Writing():
            (file or sys.stdout).flush()

    return write
