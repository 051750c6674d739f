"""Points from a file or a pipe (`diff --points FILE`, `plot --points`): CSV
with a header of variable names, or JSON Lines ({"x": 1} per line), read in
chunks as they arrive, so memory stays bounded by a chunk, not the input.
Every bad line is named by its number (an editor's), its column and why.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from .errors import PointError, TooLargeError

CHUNK = 50_000  # points read, and answered, together


@dataclass
class Points:
    names: list  # column names in file order
    columns: dict  # name -> float64 array
    lines: np.ndarray  # 1-based line number of each point in the input
    paused: bool = False  # the input paused after them: answered before more is read

    def __len__(self) -> int:
        return len(self.lines)


def read(text: str, source: str = "points") -> Points:
    """CSV with a header of variable names, or JSON Lines ({"x": 1} per line),
    all at once (see `read_chunks`)."""
    import io

    chunks = list(read_chunks(io.BytesIO(text.encode("utf-8", "surrogatepass")), source))
    table = {n: np.concatenate([c.columns[n] for c in chunks]) for n in chunks[0].names}
    return Points(chunks[0].names, table, np.concatenate([c.lines for c in chunks]))


BLOCK = 1 << 20  # bytes read at a time
PAUSE_SECONDS = 0.05  # input that stops this long gets what has arrived answered
MAX_BRACKETS = 64  # in one JSON line; a point is a flat object, {"x": 1}
MAX_LINE = 1 << 20  # bytes of one line: a point is names and numbers, never this long
_BOM = b"\xef\xbb\xbf"
_ASCII_BLANK = b" \t"
_PLAIN_CSV = re.compile(rb"[0-9eE.+\-, \t\n]*")  # every field a plain number, maybe
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


# A block of lines as `_blocks` reads them: (the number of the first line,
# the lines), or (None, []) where the input pauses.
Block = tuple[int | None, list[bytes]]
# Lines `_batches` gathers for one chunk: (their numbers, the lines, whether
# the input paused after them).
Batch = tuple[list[int], list[bytes], bool]
Waiting = Callable[[], AbstractContextManager[object]]


def read_chunks(
    stream: BinaryIO,
    source: str = "points",
    size: int = CHUNK,
    waiting: Waiting | None = None,
    kind: str | None = None,
) -> Iterator[Points]:
    """Points from a binary stream, up to `size` at a time, as they arrive: a
    chunk is answered as soon as it is full or the input pauses, so memory
    stays bounded by a chunk and the first answers come early. Lines end at
    \\n (a \\r before it is dropped); nothing else splits a line, so line numbers
    are an editor's. A UTF-8 byte-order mark is skipped. Numbers are plain
    ASCII decimals. Each read that may block runs inside `waiting()`.
    `kind` "csv" or "jsonl" says which; None: JSON Lines when the first line
    opens an object, else CSV."""
    blocks = _blocks(stream, source, waiting)
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
    """The first line that is not blank, (number, line), and the rest of its
    block; `blocks` goes on after that block."""
    for first, lines in blocks:
        if first is None:
            continue
        for i, line in enumerate(lines):
            if line.strip(_ASCII_BLANK):
                return (first + i, line), (first + i + 1, lines[i + 1 :])
    raise PointError(f"{source}: no points")


def _blocks(stream: BinaryIO, source: str, waiting: Waiting | None) -> Iterator[Block]:
    """(number of the first line, [lines]) for each block read, and (None,
    []) after the last complete line of what has arrived so far: "the input
    pauses here". Whole blocks, not a line at a time: a million lines are
    split and numbered by a few calls, not a million."""
    import select

    fd = _fileno(stream)
    pending, number = b"", 0
    while True:
        with waiting() if waiting is not None else contextlib.nullcontext():
            try:
                block = stream.read1(BLOCK) if hasattr(stream, "read1") else stream.read(BLOCK)
            except OSError as error:  # /proc/self/mem, a failing disk: the input's fault
                reason = error.strerror or str(error)
                where = f"past line {number}" if number else "it"
                raise PointError(f"{source}: cannot read {where}: {reason}") from None
        if not block:
            break
        data = pending + block
        *complete, pending = data.split(b"\n")
        if len(pending) > MAX_LINE:  # /dev/zero, a binary file: no line ends
            raise TooLargeError(
                f"{source} line {number + len(complete) + 1}: longer than "
                f"{MAX_LINE:,} bytes without ending; a point is one short line"
            )
        if complete:
            if number == 0:  # a byte-order mark may open the first line
                complete[0] = complete[0].removeprefix(_BOM)
            if b"\r" in data:
                complete = [line[:-1] if line.endswith(b"\r") else line for line in complete]
            yield number + 1, complete
            number += len(complete)
        if fd is not None and not select.select([fd], [], [], PAUSE_SECONDS)[0]:
            yield None, []  # the input pauses: answer what is here
    if pending:
        if number == 0:
            pending = pending.removeprefix(_BOM)
        yield number + 1, [pending.removesuffix(b"\r")]


def _fileno(stream: BinaryIO) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _text(line: bytes, number: int, source: str) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise PointError(f"{source} line {number}: not UTF-8 text") from None


def _batches(blocks: Iterable[Block], size: int) -> Iterator[Batch]:
    """(numbers, lines, paused) of up to `size` non-blank lines from
    `_blocks`, cut early where the input pauses; `paused` also marks a full
    batch the input paused after (it is then answered before more is read)."""
    numbers: list[int] = []
    lines: list[bytes] = []
    full: Batch | None = None  # full at its block's end: does the input pause next?
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
        if block and min(block)[:1] in (b"", b" ", b"\t"):  # a blank line, perhaps
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
    _check_names(names, source, number)
    answered = False
    for batch in _batches(lines, size):
        answered = True
        try:
            points = _csv_table(batch, names, source)
        except PointError:
            # The lines before the first bad one are answered first, as a
            # columnar file's rows are; then the first bad line's error.
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
    if _PLAIN_CSV.fullmatch(body):  # fast path: every field a plain number
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


# An integer -0 (no digit, point or exponent after it): JSON reads it as 0,
# without its sign.
_MINUS_ZERO = re.compile(rb"-0+(?![0-9.eE])")


def _plain_numbers(body: bytes) -> np.ndarray:
    """Comma-separated plain decimals as float64. orjson's JSON parser reads
    them five times faster than numpy's parse of each (3 against 15 ms for
    50,000), correctly rounded as float() is (checked in tests/test_batch.py);
    what is not JSON's number syntax (1., .5, +1, 007) is left to numpy."""
    import orjson

    if not _MINUS_ZERO.search(body):
        try:
            return np.array(orjson.loads(b"[" + body + b"]"), dtype=np.float64)
        except orjson.JSONDecodeError:
            pass  # numpy reads it, or says which field is not a number
    return np.array(body.split(b","), dtype=np.float64)


def _csv_slow(batch: Batch, names: list[str], source: str) -> np.ndarray:
    """Line by line, to name the first bad line."""
    rows = [_csv_row(line, number, names, source) for number, line in zip(batch[0], batch[1])]
    return np.array(rows, dtype=np.float64)


def _csv_row(line: bytes, number: int, names: list[str], source: str) -> list[float]:
    fields = [f.strip(" \t") for f in _text(line, number, source).split(",")]
    if len(fields) != len(names):
        raise PointError(
            f"{source} line {number}: {len(fields)} values, but the header names {len(names)}"
        )
    return [_csv_number(text, name, number, source) for name, text in zip(names, fields)]


def _csv_until_bad(batch: Batch, names: list[str], source: str) -> tuple[Points, PointError]:
    """The points of a chunk's lines before its first bad line (one that does
    not read, or holds a number that is not finite), and that line's error."""
    rows: list[list[float]] = []
    for number, line in zip(batch[0], batch[1]):
        try:
            row = _csv_row(line, number, names, source)
            _finite_row(row, number, names, source)
        except PointError as error:
            return _prefix(rows, batch[0], names), error
        rows.append(row)
    raise AssertionError("a chunk that failed to read has a bad line")


def _finite_row(row: list[float], number: int, names: list[str], source: str) -> None:
    """check_finite for one row of Python floats (math.isfinite: no array a line)."""
    if not all(map(math.isfinite, row)):
        check_finite(np.array([row]), [number], names, source)


def _prefix(rows: list[list[float]], numbers: Sequence[int], names: list[str]) -> Points:
    """Points of `rows`, the first lines of a chunk (`numbers` the chunk's)."""
    table = np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
    return Points(
        names,
        {name: table[:, j].copy() for j, name in enumerate(names)},
        np.array(numbers[: len(rows)], dtype=np.int64),
    )


def _csv_number(text: str, name: str, number: int, source: str) -> float:
    if _NUMBER.fullmatch(text):
        return float(text)
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return float(text)  # named as not finite by _check_finite
    raise PointError(
        f"{source} line {number}: {name}={_shown(text)} is not a number (plain ASCII "
        "decimals: 1000, -2.5, 1e-3)"
    )


def _shown(text: str) -> str:
    return repr(_cut(text))


def _cut(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


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
                # The lines before the first bad one are answered first, as
                # a columnar file's rows are; then its error.
                if rows:
                    yield _prefix(rows, batch[0], names)
                raise error from None
            rows.append(row)
        points = _prefix(rows, batch[0], names)
        points.paused = batch[2]
        yield points


def _json_names(line: bytes, number: int, source: str) -> list[str]:
    """The variables the first point names, in its order."""
    names = list(_json_point(line, number, source))
    _check_names(names, source, number)
    return names


def _json_row(line: bytes, number: int, names: list[str], source: str) -> list[float]:
    item = _json_point(line, number, source)
    if set(item) != set(names):
        raise PointError(
            f"{source} line {number}: names {sorted(item)} differ from the "
            f"first line's {sorted(names)}"
        )
    return [_json_number(item[name], name, number, source) for name in names]


def _json_point(line: bytes, number: int, source: str) -> dict:
    if line.count(b"[") + line.count(b"{") > MAX_BRACKETS:
        raise PointError(
            f'{source} line {number}: nested too deeply; a point is a flat object like {{"x": 1}}'
        )
    try:
        # Integers become floats as they are read, never Python ints past the
        # int-to-text limit (4,300 digits).
        item = json.loads(
            _text(line, number, source), parse_int=_json_integer, object_pairs_hook=_once_each
        )
    except _DuplicateName as error:  # as a CSV header naming a column twice is
        raise PointError(f"{source} line {number}: {error.name} appears twice") from None
    except _HugeInteger as error:
        raise PointError(
            f"{source} line {number}: an integer of {error.digits} digits is beyond float64's range"
        ) from None
    except ValueError as error:
        reason = getattr(error, "msg", None) or str(error)
        raise PointError(f"{source} line {number}: not JSON ({reason})") from None
    if not isinstance(item, dict):
        raise PointError(f'{source} line {number}: expected an object like {{"x": 1}}')
    return item


class _DuplicateName(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _once_each(pairs: list[tuple[str, Any]]) -> dict:
    """A JSON object whose names are all different (json keeps the last of two)."""
    item = dict(pairs)
    if len(item) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _DuplicateName(name)
            seen.add(name)
    return item


class _HugeInteger(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _json_integer(text: str) -> float:
    value = float(text)
    if value in (np.inf, -np.inf):
        raise _HugeInteger(len(text.lstrip("-")))
    return value


def _json_number(value: object, name: str, number: int, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PointError(
            f"{source} line {number}: {name}={_cut(json.dumps(value))} is not a number"
        )
    return float(value)


def _check_names(names: list[str], source: str, line: int) -> None:
    check_names(names, f"{source} line {line}")


def check_names(names: list[str], where: str) -> None:
    """Each name a variable's, and none twice; `where` opens the message."""
    seen = set()
    for name in names:
        if (
            not name
            or not (name[0].isascii() and name[0].isalpha())
            or not all(c.isascii() and (c.isalnum() or c == "_") for c in name)
        ):
            raise PointError(f"{where}: {_shown(name)} is not a variable name")
        if name in seen:
            raise PointError(f"{where}: {name} appears twice")
        seen.add(name)


def check_finite(
    table: np.ndarray,
    numbers: Sequence[int] | np.ndarray,
    names: list[str],
    source: str,
    unit: str = "line",
) -> None:
    """Every number finite, or the first that is not named by its `unit`
    ("line" of a text file, "row" of a table) and column."""
    bad = ~np.isfinite(table)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise PointError(
            f"{source} {unit} {numbers[row]}: {names[column]}="
            f"{table[row, column]} is not a finite number"
        )
