"""diff --points: the points answered chunk by chunk as they are read, and
written as NDJSON, CSV or (text) a table of the first and last points."""

from __future__ import annotations

import errno
import os
import signal
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
    bounded by a chunk. `files`: (--input-format, --output, --force)."""
    from .. import batch, budget, columnar, helper, pointsfile

    with helper.stopped():  # the helper that imports torch meanwhile: let go at the end
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
    from .. import budget

    if form == "parquet":
        from ..tableout import parquet_file

        assert output is not None  # (diff_rules: parquet needs --output)
        with parquet_file(output, force) as sink:
            return _each(answers, progress, sink.write)
    if form in ("json", "csv"):
        if output in (None, "-"):  # --output -: stdout
            return _each(answers, progress, *_text_writer(form, None, None))
        from ..outfile import replacing

        # Appending ("ab", to a new file): the helper appends chunks to it too.
        with replacing(output, force) as temporary, open(temporary, "ab") as file:
            return _each(answers, progress, *_text_writer(form, file, temporary))
    from ..render.many import HEAD, view
    from ..tally import Tally

    tally = Tally(HEAD)
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
    answers: Iterable[Any],
    progress: Callable[[int], Any] | None,
    write: Callable[[Any], Any],
    end: Callable[[], Any] | None = None,
) -> dict:
    """`write(many)` for each chunk answered, and `end()` after the last;
    the count of each verdict."""
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
    if end is not None:
        end()
    return counts


def _pieces(form: str, many: Any) -> list[bytes]:
    """A chunk's CSV rows (no header; in pieces of csvout.PIECE rows) or
    NDJSON lines (of WRITE_LINES), as UTF-8."""
    from ..csvout import rows
    from ..jsonout import diff_lines

    found = rows(many) if form == "csv" else diff_lines(many, WRITE_LINES)
    return list(found)


def write_apart(form: str, many: Any, path: str | None) -> None:
    """A chunk's text (`_pieces`) appended to `path`, or written to standard
    output's descriptor (None): by the helper process, whose descriptors
    are this one's, or here if it cannot. Made whole before the first
    write, so that a failure to make it writes nothing."""
    from .. import helper

    pieces = _pieces(form, many)
    helper.began_writing()
    with open(path, "ab") if path is not None else open(1, "wb", closefd=False) as out:
        for piece in pieces:
            out.write(piece)


def _end_of(file: BinaryIO | None) -> int | None:
    """Where the output ends now (flushed): the file's size, or standard
    output's offset when it is a regular file; None where it cannot be
    cut back (a pipe, a terminal)."""
    import stat

    fd = file.fileno() if file is not None else 1
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        return None
    return os.fstat(fd).st_size if file is not None else os.lseek(fd, 0, os.SEEK_CUR)


def _reader_gone(file: BinaryIO | None) -> bool:
    """Has the reader of the output (a pipe) gone? poll() says so of a
    pipe's writing end as an error."""
    import select

    poller = select.poll()
    poller.register(file.fileno() if file is not None else 1, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _settle(later: Any, end: int | None, file: BinaryIO | None) -> None:
    """Wait for the chunk handed to the helper (`later`, a write_apart) to be
    written. Where the helper failed, the chunk is written here: after the
    output is cut back to where it ended before (`end`) if the helper had
    begun writing it, or an OutputError where that cannot be done (a pipe):
    never a chunk twice, or a line cut short with more after it."""
    from .. import helper
    from ..errors import OutputError

    failure = later.failure()
    if failure is None:
        return
    if helper.began_writing(False):
        if end is None:
            if isinstance(failure, OSError):  # its write failed (a reader gone): as here
                raise failure
            if _reader_gone(file):  # it died of SIGPIPE: the run ends as a write here would
                os.kill(os.getpid(), signal.SIGPIPE)  # (killed, where SIGPIPE is not ignored)
                raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")
            many = later.args[1]
            raise OutputError(
                "cannot write the output: the helper process writing the answers from line "
                f"{many.points.lines[0]} on died part way; the output ends there"
            )
        fd = file.fileno() if file is not None else 1
        os.ftruncate(fd, end)
        if file is None:
            os.lseek(fd, end, os.SEEK_SET)
    write_apart(*later.args)


def _stdout_is_descriptor() -> bool:
    """Is stdout this process's descriptor 1 itself?"""
    try:
        return sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):
        return False


# Passes pending in the helper (a chunk's autograd and its quick finite
# differences: two) behind which it still takes a chunk to write. Ten million
# points as CSV, alternated: 7.6 s with none, 7.0-7.2 s with two or four,
# 7.9 s whatever is pending.
HANDOVER_PENDING = 2


def _text_writer(
    form: str, file: BinaryIO | None, path: str | None
) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """(write, end): `write(many)` writes a chunk's CSV rows (the header
    before the first) or NDJSON lines to `file` (at `path`, opened to
    append), or to stdout (None), flushed after each chunk. A chunk that
    another follows at once (`Many.followed`) is written by the helper
    process while this one makes the next's text (helper.py), which it
    writes once the helper is done; only when at most one chunk's passes
    are pending there (HANDOVER_PENDING): behind more it would wait, and this
    process with it. `end()` waits for what is held."""
    from .. import helper
    from ..csvout import header_line

    first = [True]
    held: list = []  # (the helper's helper.Later, where the output ended), at most one
    # The helper writes to the file, or to descriptor 1 when that is stdout
    # (not when stdout is captured, as in a test's runner).
    apart = helper.running() and (path is not None or _stdout_is_descriptor())

    def write(many: Any) -> None:
        if many is not None and form == "csv" and first[0]:
            write_bytes([header_line(many)], file)
            with Writing():
                (file or sys.stdout).flush()
        first[0] = False
        handing = many is not None and many.followed and apart and not held
        if handing and helper.idle(HANDOVER_PENDING):
            end = _end_of(file)
            helper.began_writing(False)
            held.append((helper.Later(write_apart, form, many, path), end))
            return
        pieces = _pieces(form, many) if many is not None else []
        with Writing():
            for later, end in held:
                _settle(later, end, file)
        held.clear()
        write_bytes(pieces, file)
        with Writing():
            (file or sys.stdout).flush()

    return write, lambda: write(None)
