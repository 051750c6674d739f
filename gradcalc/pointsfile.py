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
    at: str = ""  # where the names were read, as a message opens ("p.csv line 1")

    def __len__(self) -> int:
        return len(self.lines)


def read(text: str, source: str = "points") -> Points:
    """CSV with a header of variable names, or JSON Lines ({"x": 1} per line),
    all at once (see `read_chunks`)."""
    import io

    chunks = list(read_chunks(io.BytesIO(text.encode("utf-8", "surrogatepass")), source))
    table = {n: np.concatenate([c.columns[n] for c in chunks]) for n in chunks[0].names}
    lines = np.concatenate([c.lines for c in chunks])
    return Points(chunks[0].names, table, lines, at=chunks[0].at)


BLOCK = 1 << 20  # bytes read at a time
PAUSE_SECONDS = 0.05  # input that stops this long gets what has arrived answered
MAX_BRACKETS = 64  # in one JSON line; a point is a flat object, {"x": 1}
MAX_LINE = 1 << 20  # bytes of one line: a point is names and numbers, never this long
_BOM = b"\xef\xbb\xbf"
_ASCII_BLANK = b" \t"
_PLAIN_CSV = re.compile(rb"[0-9eE.+\-, \t\n]*")  # every field a plain number, maybe
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


# A block as `_blocks` reads it: (the number of its first line, its complete
# lines, each ending "\n", how many), or (None, b"", 0) where the input pauses.
Block = tuple[int | None, bytes, int]
Waiting = Callable[[], AbstractContextManager[object]]


@dataclass
class _Run:
    """Non-blank lines of one block, in a row: their numbers and the lines, or,
    when `table` is set, the lines already read (a row a line, a column a
    name), their bytes then being `block`'s lines from its line `at` on."""

    numbers: Sequence[int]  # a range where no blank line was left out
    lines: Sequence[bytes] = ()
    table: np.ndarray | None = None
    block: bytes = b""
    at: int = 0

    def __len__(self) -> int:
        return len(self.numbers)

    def cut(self, start: int, stop: int) -> _Run:
        rows = None if self.table is None else self.table[start:stop]
        lines = self.lines[start:stop]
        return _Run(self.numbers[start:stop], lines, rows, self.block, self.at + start)

    def text(self) -> Sequence[bytes]:
        """The lines as bytes (a table's split again from its block)."""
        if self.table is None:
            return self.lines
        return _split(self.block)[self.at : self.at + len(self)]


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
        first = _Run([header[0]], [header[1]])
        chunks = _json_chunks(itertools.chain([first], _runs(remaining, 0)), source, size)
    else:
        chunks = _csv_chunks(header, remaining, source, size)
    for points in chunks:  # the names are the header's, or the first point's
        points.at = f"{source} line {header[0]}"
        yield points


def _first_line(blocks: Iterator[Block], source: str) -> tuple[tuple[int, bytes], Block]:
    """The first line that is not blank, (number, line), and the rest of its
    block; `blocks` goes on after that block."""
    for first, data, count in blocks:
        if first is None:
            continue
        start = 0
        for i in range(count):
            end = data.index(b"\n", start)
            line = data[start:end].removesuffix(b"\r")
            start = end + 1
            if line.strip(_ASCII_BLANK):
                return (first + i, line), (first + i + 1, data[start:], count - i - 1)
    raise PointError(f"{source}: no points")


def _blocks(stream: BinaryIO, source: str, waiting: Waiting | None) -> Iterator[Block]:
    """(number of the first line, the lines, how many) for each block read:
    its complete lines, each ending "\\n" (a last line without one is given
    it); and (None, b"", 0) after the last complete line of what has arrived
    so far: "the input pauses here". Whole blocks, not a line at a time: a
    million lines are counted by a few calls, and often read as numbers by a
    few more (`_runs`), never split into a million objects."""
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
        data = pending + block if pending else bytes(block)
        end = data.rfind(b"\n") + 1
        complete, pending = data[:end], data[end:]
        count = int(np.count_nonzero(np.frombuffer(complete, np.uint8) == ord("\n")))
        if len(pending) > MAX_LINE:  # /dev/zero, a binary file: no line ends
            raise TooLargeError(
                f"{source} line {number + count + 1}: longer than "
                f"{MAX_LINE:,} bytes without ending; a point is one short line"
            )
        if count:
            if number == 0:  # a byte-order mark may open the first line
                complete = complete.removeprefix(_BOM)
            yield number + 1, complete, count
            number += count
        if fd is not None and not select.select([fd], [], [], PAUSE_SECONDS)[0]:
            yield None, b"", 0  # the input pauses: answer what is here
    if pending:
        if number == 0:
            pending = pending.removeprefix(_BOM)
        yield number + 1, pending + b"\n", 1


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


def _split(data: bytes) -> list[bytes]:
    """A block's lines, each without its "\\n" and a "\\r" before it."""
    lines = data.split(b"\n")
    lines.pop()  # after the last "\n"
    if b"\r" in data:
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    return lines


def _runs(blocks: Iterable[Block], columns: int) -> Iterator[_Run | None]:
    """A run of each block's non-blank lines, None where the input pauses. A
    block whose every line is a plain CSV row of `columns` numbers (0: none
    is) is read as a table at once; any other is split into lines, blank ones
    left out, and read line by line by the chunk it falls in."""
    for first, data, count in blocks:
        if first is None:
            yield None
            continue
        table = _plain_table(data, count, columns) if columns and count else None
        if table is not None:
            yield _Run(range(first, first + count), table=table, block=data)
            continue
        lines = _split(data)
        numbered: Sequence[int] = range(first, first + len(lines))
        if lines and min(lines)[:1] <= b" ":  # a blank line, perhaps
            kept = [(n, line) for n, line in zip(numbered, lines) if line.strip(_ASCII_BLANK)]
            numbered, lines = [n for n, _ in kept], [line for _, line in kept]
        yield _Run(numbered, lines)


# A block's bytes made a JSON array's: those of numbers, commas and blanks stay
# (JSON skips blanks around a number, as CSV does), "\n" becomes a comma, "\r"
# (before one) a space, any other byte "#", which no number holds.
_KEPT = b"0123456789eE.+-, \t"
_AS_JSON = bytes(c if c in _KEPT else {10: 44, 13: 32}.get(c, 35) for c in range(256))


def _plain_table(data: bytes, count: int, columns: int) -> np.ndarray | None:
    """The `count` lines of a block as a table, when each is `columns` plain
    decimals separated by commas, with blanks around them or not, no line
    blank, "\\r\\n" or "\\n" ending each. Else None: read them line by line."""
    if not _fields_match(data, count, columns) or not _crlf_only(data):
        return None
    text = bytearray(b"[")
    text += data.translate(_AS_JSON)
    text[-1] = ord("]")  # for the comma that was the last line's "\n"
    if b"#" in text:
        return None
    try:
        flat = _plain_numbers(text)
    except ValueError:  # a blank line, or a field that is not a number
        return None
    return flat.reshape(count, columns) if flat.size == count * columns else None


_NOT_SEPARATORS = bytes(c for c in range(256) if c not in b",\n")


def _fields_match(data: bytes, count: int, columns: int) -> bool:
    """Whether each of a block's `count` lines has `columns` - 1 commas."""
    if columns == 1:
        return b"," not in data
    return data.translate(None, _NOT_SEPARATORS) == (b"," * (columns - 1) + b"\n") * count


def _crlf_only(data: bytes) -> bool:
    """Whether every "\\r" of a block ends a line (as its last byte, "\\n", does)."""
    if b"\r" not in data:
        return True
    byte = np.frombuffer(data, np.uint8)
    returns = byte[:-1] == ord("\r")
    return np.array_equal(returns, returns & (byte[1:] == ord("\n")))


def _batches(runs: Iterable[_Run | None], size: int) -> Iterator[tuple[list[_Run], bool]]:
    """(runs, paused): runs of up to `size` lines in all from `_runs`, cut
    early where the input pauses; `paused` also marks a full batch the input
    paused after (it is then answered before more is read)."""
    taken: list[_Run] = []
    held = 0  # lines in `taken`
    full: list[_Run] | None = None  # full at its block's end: does the input pause next?
    for run in runs:
        if full is not None:
            yield full, run is None
            full = None
        if run is None:
            if taken:
                yield taken, True
                taken, held = [], 0
            continue
        start = 0
        while start < len(run):
            take = min(size - held, len(run) - start)
            taken.append(run if take == len(run) else run.cut(start, start + take))
            held += take
            start += take
            if held >= size:
                if start >= len(run):
                    full = taken
                else:
                    yield taken, False
                taken, held = [], 0
    if full is not None:
        yield full, False
    if taken:
        yield taken, False


def _flat(runs: list[_Run]) -> tuple[list[int], list[bytes]]:
    """The numbers and the lines of a batch's runs, as lists."""
    numbers = list(itertools.chain.from_iterable(run.numbers for run in runs))
    return numbers, list(itertools.chain.from_iterable(run.text() for run in runs))


def _csv_chunks(
    header: tuple[int, bytes], blocks: Iterable[Block], source: str, size: int
) -> Iterator[Points]:
    number, text = header
    names = [name.strip(" \t") for name in _text(text, number, source).split(",")]
    check_names(names, f"{source} line {number}")
    answered = False
    for runs, paused in _batches(_runs(blocks, len(names)), size):
        answered = True
        try:
            points = _tables(runs, names)
            if points is None:
                points = _csv_table(*_flat(runs), names, source)
        except PointError:
            # The lines before the first bad one are answered first, as a
            # columnar file's rows are; then the first bad line's error.
            good, error = _csv_until_bad(*_flat(runs), names, source)
            if len(good):
                yield good
            raise error from None
        points.paused = paused
        yield points
    if not answered:
        raise PointError(f"{source}: a header but no points")


def _tables(runs: list[_Run], names: list[str]) -> Points | None:
    """The points of a batch of runs read as tables, all finite; else None
    (then its lines are read, and name what is wrong)."""
    tables = []
    for run in runs:
        if run.table is None:
            return None
        tables.append(run.table)
    table = tables[0] if len(tables) == 1 else np.concatenate(tables)
    if not np.isfinite(table).all():
        return None
    lines = [np.arange(r.numbers[0], r.numbers[-1] + 1, dtype=np.int64) for r in runs]
    columns = {name: table[:, j].copy() for j, name in enumerate(names)}
    return Points(names, columns, np.concatenate(lines))


def _csv_table(numbers: list[int], lines: list[bytes], names: list[str], source: str) -> Points:
    body, k = b",".join(lines), len(names)
    table = None
    # Each line k - 1 commas (with one column, the number of values says so).
    if _PLAIN_CSV.fullmatch(body) and (k == 1 or all(n.count(b",") == k - 1 for n in lines)):
        try:  # fast path: every field a plain number
            flat = _plain_numbers(b"[" + body + b"]")
            if flat.size == len(lines) * k:
                table = flat.reshape(len(lines), k)
        except ValueError:
            pass
    if table is None:
        table = _csv_slow(numbers, lines, names, source)
    check_finite(table, numbers, names, source)
    columns = {name: table[:, j].copy() for j, name in enumerate(names)}
    return Points(names, columns, np.array(numbers, dtype=np.int64))


# Bytes that may follow the digit of an integer -0 in a number ("-0.5", "-0e1", "-01").
_IN_A_NUMBER = np.isin(np.arange(256), list(b"0123456789.eE"))


def _plain_numbers(text: bytes | bytearray) -> np.ndarray:
    """A JSON array of plain decimals, b"[1,-2.5]", as float64. orjson reads
    them five times faster than numpy's parse of each, correctly rounded as
    float() is (tests/test_batch.py); what is not JSON's number syntax (1., .5,
    +1, 007) is left to numpy, and so is an integer -0, which JSON reads as 0."""
    import orjson

    try:
        values = orjson.loads(text)
        flat = np.fromiter(values, np.float64, len(values))
        if flat.all() or not _minus_zero(text):  # a 0 read: was it "-0"?
            return flat
    except orjson.JSONDecodeError:
        pass  # numpy reads it, or says which field is not a number
    fields = bytes(text[1:-1]).split(b",")
    if b"" in fields:  # a blank line: a line-by-line reading names it
        raise ValueError("an empty field")
    return np.array(fields, dtype=np.float64)


def _minus_zero(text: bytes | bytearray) -> bool:
    """Whether a JSON array of numbers holds an integer -0: "-0", no number's byte after."""
    byte = np.frombuffer(text, np.uint8)
    after = np.flatnonzero((byte[:-2] == ord("-")) & (byte[1:-1] == ord("0"))) + 2
    return not _IN_A_NUMBER[byte[after]].all()


def _csv_slow(numbers: list[int], lines: list[bytes], names: list[str], source: str) -> np.ndarray:
    """Line by line, to name the first bad line."""
    rows = [_csv_row(line, number, names, source) for number, line in zip(numbers, lines)]
    return np.array(rows, dtype=np.float64)


def _csv_row(line: bytes, number: int, names: list[str], source: str) -> list[float]:
    fields = [f.strip(" \t") for f in _text(line, number, source).split(",")]
    if len(fields) != len(names):
        raise PointError(
            f"{source} line {number}: {len(fields)} values, but the header names {len(names)}"
        )
    return [_csv_number(text, name, number, source) for name, text in zip(names, fields)]


def _csv_until_bad(
    numbers: list[int], lines: list[bytes], names: list[str], source: str
) -> tuple[Points, PointError]:
    """The points of a chunk's lines before its first bad line (one that does
    not read, or holds a number that is not finite), and that line's error."""
    rows: list[list[float]] = []
    for number, line in zip(numbers, lines):
        try:
            row = _csv_row(line, number, names, source)
            _finite_row(row, number, names, source)
        except PointError as error:
            return _prefix(rows, numbers, names), error
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


def _json_chunks(runs: Iterable[_Run | None], source: str, size: int) -> Iterator[Points]:
    names: list[str] = []
    for batch, paused in _batches(runs, size):
        numbers, lines = _flat(batch)
        rows: list[list[float]] = []
        for number, line in zip(numbers, lines):
            try:
                if not names:
                    names = _json_names(line, number, source)
                row = _json_row(line, number, names, source)
                _finite_row(row, number, names, source)
            except PointError as error:
                # The lines before the first bad one are answered first, as
                # a columnar file's rows are; then its error.
                if rows:
                    yield _prefix(rows, numbers, names)
                raise error from None
            rows.append(row)
        points = _prefix(rows, numbers, names)
        points.paused = paused
        yield points


def _json_names(line: bytes, number: int, source: str) -> list[str]:
    """The variables the first point names, in its order."""
    names = list(_json_point(line, number, source))
    check_names(names, f"{source} line {number}")
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
