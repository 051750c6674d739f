"""The points reader as it was before blocks were read as tables: a copy of
gradcalc/pointsfile.py's line-based functions (every block split into lines,
every chunk's lines joined and read), kept as the reference the block reader
is compared with in test_read_blocks.py. The functions the block reader did
not change are imported from it.

Two fixes are made here as in the block reader, each marked FIXED: a block
holding a line of spaces and a line starting with a control byte kept the
line of spaces (min() of the lines started with the control byte), and rows
with too many and too few commas that balanced out were read as points.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

import numpy as np

from gradcalc import pointsfile
from gradcalc.errors import PointError, TooLargeError
from gradcalc.pointsfile import (
    _ASCII_BLANK,
    _BOM,
    _PLAIN_CSV,
    Points,
    _csv_row,
    _fileno,
    _finite_row,
    _json_names,
    _json_row,
    _prefix,
    _text,
    check_finite,
    check_names,
)

Block = tuple[int | None, list[bytes]]
Batch = tuple[list[int], list[bytes], bool]


def read_chunks(
    stream: BinaryIO, source: str = "points", size: int = pointsfile.CHUNK, kind=None
) -> Iterator[Points]:
    blocks = _blocks(stream, source)
    header, rest = _first_line(blocks, source)
    remaining = itertools.chain([rest], blocks)
    if kind is None:
        kind = "jsonl" if header[1].lstrip(_ASCII_BLANK).startswith(b"{") else "csv"
    if kind == "jsonl":
        yield from _json_chunks(
            itertools.chain([(header[0], [header[1]])], remaining), source, size
        )
    else:
        yield from _csv_chunks(header, remaining, source, size)


def _first_line(blocks: Iterator[Block], source: str) -> tuple[tuple[int, bytes], Block]:
    for first, lines in blocks:
        if first is None:
            continue
        for i, line in enumerate(lines):
            if line.strip(_ASCII_BLANK):
                return (first + i, line), (first + i + 1, lines[i + 1 :])
    raise PointError(f"{source}: no points")


def _blocks(stream: BinaryIO, source: str) -> Iterator[Block]:
    import select

    fd = _fileno(stream)
    pending, number = b"", 0
    while True:
        try:
            block = stream.read1(pointsfile.BLOCK)
        except OSError as error:
            reason = error.strerror or str(error)
            where = f"past line {number}" if number else "it"
            raise PointError(f"{source}: cannot read {where}: {reason}") from None
        if not block:
            break
        data = pending + block
        *complete, pending = data.split(b"\n")
        if len(pending) > pointsfile.MAX_LINE:
            raise TooLargeError(
                f"{source} line {number + len(complete) + 1}: longer than "
                f"{pointsfile.MAX_LINE:,} bytes without ending; a point is one short line"
            )
        if complete:
            if number == 0:
                complete[0] = complete[0].removeprefix(_BOM)
            if b"\r" in data:
                complete = [line[:-1] if line.endswith(b"\r") else line for line in complete]
            yield number + 1, complete
            number += len(complete)
        if fd is not None and not select.select([fd], [], [], pointsfile.PAUSE_SECONDS)[0]:
            yield None, []
    if pending:
        if number == 0:
            pending = pending.removeprefix(_BOM)
        yield number + 1, [pending.removesuffix(b"\r")]


def _batches(blocks: Iterable[Block], size: int) -> Iterator[Batch]:
    numbers: list[int] = []
    lines: list[bytes] = []
    full: Batch | None = None
    for first, block in blocks:
        if full is not None:
            yield full[0], full[1], first is None
            full = None
        if first is None:
            if lines:
                yield numbers, lines, True
                numbers, lines = [], []
            continue
        numbered: Sequence[int] = range(first, first + len(block))
        if block and min(block)[:1] <= b" ":  # FIXED: was in (b"", b" ", b"\t")
            kept = [(n, line) for n, line in zip(numbered, block) if line.strip(_ASCII_BLANK)]
            numbered, block = [n for n, _ in kept], [line for _, line in kept]
        start = 0
        while start < len(block):
            take = size - len(lines)
            lines.extend(block[start : start + take])
            numbers.extend(numbered[start : start + take])
            start += take
            if len(lines) >= size:
                if start >= len(block):
                    full = (numbers, lines, False)
                else:
                    yield numbers, lines, False
                numbers, lines = [], []
    if full is not None:
        yield full
    if lines:
        yield numbers, lines, False


def _csv_chunks(
    header: tuple[int, bytes], lines: Iterable[Block], source: str, size: int
) -> Iterator[Points]:
    number, text = header
    names = [name.strip(" \t") for name in _text(text, number, source).split(",")]
    check_names(names, f"{source} line {number}")
    answered = False
    for batch in _batches(lines, size):
        answered = True
        try:
            points = _csv_table(batch, names, source)
        except PointError:
            good, error = _csv_until_bad(batch, names, source)
            if len(good):
                yield good
            raise error from None
        points.paused = batch[2]
        yield points
    if not answered:
        raise PointError(f"{source}: a header but no points")


def _csv_table(batch: Batch, names: list[str], source: str) -> Points:
    numbers, lines = np.array(batch[0]), batch[1]
    body = b",".join(lines)
    table = None
    # FIXED: each line's commas counted (the total alone let 1,2,3 and 4 pass as two rows)
    commas = len(names) == 1 or all(line.count(b",") == len(names) - 1 for line in lines)
    if _PLAIN_CSV.fullmatch(body) and commas:
        try:
            flat = _plain_numbers(body)
            if flat.size == len(lines) * len(names):
                table = flat.reshape(len(lines), len(names))
        except ValueError:
            pass
    if table is None:
        table = _csv_slow(batch, names, source)
    check_finite(table, numbers, names, source)
    return Points(names, {name: table[:, j].copy() for j, name in enumerate(names)}, numbers)


_MINUS_ZERO = re.compile(rb"-0+(?![0-9.eE])")


def _plain_numbers(body: bytes) -> np.ndarray:
    import orjson

    if not _MINUS_ZERO.search(body):
        try:
            return np.array(orjson.loads(b"[" + body + b"]"), dtype=np.float64)
        except orjson.JSONDecodeError:
            pass
    return np.array(body.split(b","), dtype=np.float64)


def _csv_slow(batch: Batch, names: list[str], source: str) -> np.ndarray:
    rows = [_csv_row(line, number, names, source) for number, line in zip(batch[0], batch[1])]
    return np.array(rows, dtype=np.float64)


def _csv_until_bad(batch: Batch, names: list[str], source: str) -> tuple[Points, PointError]:
    rows: list[list[float]] = []
    for number, line in zip(batch[0], batch[1]):
        try:
            row = _csv_row(line, number, names, source)
            _finite_row(row, number, names, source)
        except PointError as error:
            return _prefix(rows, batch[0], names), error
        rows.append(row)
    raise AssertionError("a chunk that failed to read has a bad line")


def _json_chunks(lines: Iterable[Block], source: str, size: int) -> Iterator[Points]:
    names: list[str] = []
    for batch in _batches(lines, size):
        rows: list[list[float]] = []
        for number, line in zip(batch[0], batch[1]):
            try:
                if not names:
                    names = _json_names(line, number, source)
                row = _json_row(line, number, names, source)
                _finite_row(row, number, names, source)
            except PointError as error:
                if rows:
                    yield _prefix(rows, batch[0], names)
                raise error from None
            rows.append(row)
        points = _prefix(rows, batch[0], names)
        points.paused = batch[2]
        yield points
