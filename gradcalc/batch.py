"""Many points at once (`diff --points FILE`): read CSV or JSON Lines, then
answer every point vectorized — one symbolic derivative evaluated over
arrays, one batched torch pass, batched finite differences — in chunks, so
memory stays bounded by the chunk, not the input.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import numeric, verdict
from .errors import PointError
from .parsing import Expression, parse
from .verdict import STATUSES, Status

CHUNK = 50_000  # points answered together
BATCH_STEP_FACTORS = numeric.FEW_STEP_FACTORS  # fewer step sizes than one point gets: speed


@dataclass
class Points:
    names: list  # column names in file order
    columns: dict  # name -> float64 array
    lines: np.ndarray  # 1-based line number of each point in the input

    def __len__(self):
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
_BOM = b"\xef\xbb\xbf"
_ASCII_BLANK = b" \t"
_PLAIN_CSV = re.compile(rb"[0-9eE.+\-, \t\n]*")  # every field a plain number, maybe
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def read_chunks(stream, source: str = "points", size: int = CHUNK, waiting=None):
    """Points from a binary stream, up to `size` at a time, as they arrive: a
    chunk is answered as soon as it is full or the input pauses, so memory
    stays bounded by a chunk and the first answers come early. Lines end at
    \\n (a \\r before it is dropped); nothing else splits a line, so line numbers
    are an editor's. A UTF-8 byte-order mark is skipped. Numbers are plain
    ASCII decimals. Each read that may block runs inside `waiting()`."""
    blocks = _blocks(stream, source, waiting)
    header = rest = None
    for first, lines in blocks:
        if first is None:
            continue
        for i, line in enumerate(lines):
            if line.strip(_ASCII_BLANK):
                header, rest = (first + i, line), (first + i + 1, lines[i + 1 :])
                break
        if header is not None:
            break
    if header is None:
        raise PointError(f"{source}: no points")
    remaining = itertools.chain([rest], blocks)
    if header[1].lstrip(_ASCII_BLANK).startswith(b"{"):
        yield from _json_chunks(
            itertools.chain([(header[0], [header[1]])], remaining), source, size
        )
    else:
        yield from _csv_chunks(header, remaining, source, size)


def _blocks(stream, source, waiting):
    """(number of the first line, [lines]) for each block read, and (None,
    None) after the last complete line of what has arrived so far: "the input
    pauses here". Whole blocks, not a line at a time: a million lines are
    split and numbered by a few calls, not a million."""
    import select

    fd = _fileno(stream)
    pending, number = b"", 0
    while True:
        with waiting() if waiting is not None else contextlib.nullcontext():
            block = stream.read1(BLOCK) if hasattr(stream, "read1") else stream.read(BLOCK)
        if not block:
            break
        data = pending + block
        *complete, pending = data.split(b"\n")
        if complete:
            if number == 0:  # a byte-order mark may open the first line
                complete[0] = complete[0].removeprefix(_BOM)
            if b"\r" in data:
                complete = [line[:-1] if line.endswith(b"\r") else line for line in complete]
            yield number + 1, complete
            number += len(complete)
        if fd is not None and not select.select([fd], [], [], PAUSE_SECONDS)[0]:
            yield None, None  # the input pauses: answer what is here
    if pending:
        if number == 0:
            pending = pending.removeprefix(_BOM)
        yield number + 1, [pending.removesuffix(b"\r")]


def _fileno(stream):
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _text(line: bytes, number: int, source: str) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise PointError(f"{source} line {number}: not UTF-8 text") from None


def _batches(blocks, size):
    """(numbers, lines) of up to `size` non-blank lines from `_blocks`, cut
    early where the input pauses."""
    numbers: list = []
    lines: list = []
    for first, block in blocks:
        if first is None:
            if lines:
                yield numbers, lines
                numbers, lines = [], []
            continue
        numbered = range(first, first + len(block))
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
                yield numbers, lines
                numbers, lines = [], []
    if lines:
        yield numbers, lines


def _csv_chunks(header, lines, source, size):
    number, text = header
    names = [name.strip(" \t") for name in _text(text, number, source).split(",")]
    _check_names(names, source, number)
    answered = False
    for batch in _batches(lines, size):
        answered = True
        yield _csv_table(batch, names, source)
    if not answered:
        raise PointError(f"{source}: a header but no points")


def _csv_table(batch, names, source) -> Points:
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
    _check_finite(table, numbers, names, source)
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


def _csv_slow(batch, names, source):
    """Line by line, to name the first bad line."""
    rows = []
    for number, line in zip(*batch):
        fields = [f.strip(" \t") for f in _text(line, number, source).split(",")]
        if len(fields) != len(names):
            raise PointError(
                f"{source} line {number}: {len(fields)} values, but the header names {len(names)}"
            )
        rows.append([_csv_number(text, name, number, source) for name, text in zip(names, fields)])
    return np.array(rows, dtype=np.float64)


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


def _json_chunks(lines, source, size):
    names = None
    for batch in _batches(lines, size):
        rows, numbers = [], []
        for number, line in zip(*batch):
            item = _json_point(line, number, source)
            if names is None:
                names = list(item)
                _check_names(names, source, number)
            if set(item) != set(names):
                raise PointError(
                    f"{source} line {number}: names {sorted(item)} differ from the "
                    f"first line's {sorted(names)}"
                )
            rows.append([_json_number(item[name], name, number, source) for name in names])
            numbers.append(number)
        table = np.array(rows, dtype=np.float64)
        _check_finite(table, numbers, names, source)
        yield Points(
            names, {name: table[:, j].copy() for j, name in enumerate(names)}, np.array(numbers)
        )


def _json_point(line: bytes, number: int, source: str) -> dict:
    if line.count(b"[") + line.count(b"{") > MAX_BRACKETS:
        raise PointError(
            f'{source} line {number}: nested too deeply; a point is a flat object like {{"x": 1}}'
        )
    try:
        # Integers become floats as they are read, never Python ints past the
        # int-to-text limit (4,300 digits).
        item = json.loads(_text(line, number, source), parse_int=_json_integer)
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


class _HugeInteger(ValueError):
    def __init__(self, digits: int):
        super().__init__(digits)
        self.digits = digits


def _json_integer(text: str) -> float:
    value = float(text)
    if value in (np.inf, -np.inf):
        raise _HugeInteger(len(text.lstrip("-")))
    return value


def _json_number(value, name: str, number: int, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PointError(
            f"{source} line {number}: {name}={_cut(json.dumps(value))} is not a number"
        )
    return float(value)


def _check_names(names, source, line):
    seen = set()
    for name in names:
        if (
            not name
            or not (name[0].isascii() and name[0].isalpha())
            or not all(c.isascii() and (c.isalnum() or c == "_") for c in name)
        ):
            raise PointError(f"{source} line {line}: {_shown(name)} is not a variable name")
        if name in seen:
            raise PointError(f"{source} line {line}: {name} appears twice")
        seen.add(name)


def _check_finite(table, numbers, names, source):
    bad = ~np.isfinite(table)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise PointError(
            f"{source} line {numbers[row]}: {names[column]}="
            f"{table[row, column]} is not a finite number"
        )


@dataclass
class PartialColumns:
    wrt: tuple
    symbolic: str
    sympy: np.ndarray
    autograd: np.ndarray
    finite_difference: np.ndarray
    finite_difference_error: np.ndarray
    agree: np.ndarray  # bool
    finite_difference_checked: np.ndarray  # bool: False where no clean step existed


@dataclass
class Many:
    expression: str
    variables: list
    wrt: list
    dtype: str
    order: int
    points: Points
    value: np.ndarray
    partials: list
    codes: np.ndarray  # uint8 index into STATUSES, one per point
    reasons: dict = field(default_factory=dict)  # index -> reason, where not agree
    kinks: dict = field(default_factory=dict)  # index -> [verdict.Kink]
    undefined_at: dict = field(default_factory=dict)  # index -> message
    one_by_one: int = 0  # unusual points decided by the one-point driver
    one_by_one_skipped: int = 0  # ...and those past MAX_ONE_BY_ONE, left as vectorized

    def status(self, index: int) -> str:
        return STATUSES[self.codes[index]]

    def counts(self) -> dict:
        found = np.bincount(self.codes, minlength=len(STATUSES))
        return {STATUSES[i]: int(c) for i, c in enumerate(found) if c}


def differentiate_many(
    expression, points: Points, wrt=None, order: int = 1, dtype: str = "float64", progress=None
) -> Many:
    """Every point of `points`, vectorized, in chunks of CHUNK."""
    plan = _Plan(expression, points.names, wrt, order, dtype)
    result = plan.empty(points)
    count = len(points)
    for start in range(0, count, CHUNK):
        stop = min(count, start + CHUNK)
        plan.answer(points, start, stop, result)
        if progress is not None:
            progress(stop - start)
    return plan.finished(result)


def differentiate_stream(
    expression, chunks, wrt=None, order: int = 1, dtype: str = "float64", before=None
):
    """A `Many` for each chunk of points from `chunks` (an iterator of Points,
    as `read_chunks` gives), answered as it arrives: memory stays bounded by
    one chunk, whatever the input's length. `before()` is called before each
    chunk is computed (the budget's clock)."""
    chunks = iter(chunks)
    first = next(chunks)
    plan = _Plan(expression, first.names, wrt, order, dtype)
    for points in itertools.chain([first], chunks):
        if before is not None:
            before()
        result = plan.empty(points)
        plan.answer(points, 0, len(points), result)
        yield plan.finished(result)


class _Plan:
    """What every chunk shares: the parsed expression, the derivatives wanted
    and their symbolic forms, built once."""

    def __init__(self, expression, columns, wrt, order, dtype):
        from .check import validate
        from .functions import refuse_whole_vectors

        expr = expression if isinstance(expression, Expression) else parse(expression)
        names = validate(expr, wrt, order, dtype)
        refuse_whole_vectors(
            expr, "many points give one number per variable (a vector goes in {at})", option="at"
        )
        missing = [v for v in expr.variables if v not in columns]
        if missing:
            raise PointError(f"the points give no column for {', '.join(missing)}")
        extra = [n for n in columns if n not in expr.variables]
        if extra:
            raise PointError(
                f"the points name {', '.join(extra)}, not variables of the expression "
                f"(its variables: {', '.join(expr.variables)})"
            )
        from .cas import sympy_engine as symbolic

        wanted = (
            [(n,) for n in names]
            if order == 1
            else list(itertools.combinations_with_replacement(names, order))
        )
        import sympy

        symbols = {name: sympy.Symbol(name, real=True) for name in expr.variables}
        f = symbolic.build(expr, symbols)
        self.expr, self.names, self.dtype, self.order = expr, names, dtype, order
        self.wanted, self.symbols = wanted, symbols
        self.derivatives = [symbolic.derivative(f, tuple(symbols[n] for n in w)) for w in wanted]

    def empty(self, points: Points) -> Many:
        count = len(points)
        self.columns = [
            dict(
                sympy=np.empty(count),
                autograd=np.empty(count),
                finite_difference=np.empty(count),
                finite_difference_error=np.empty(count),
                agree=np.zeros(count, dtype=bool),
                finite_difference_checked=np.ones(count, dtype=bool),
            )
            for _ in self.wanted
        ]
        return Many(
            self.expr.source,
            list(self.expr.variables),
            self.names,
            self.dtype,
            self.order,
            points,
            np.empty(count),
            [],
            np.zeros(count, dtype=np.uint8),
        )

    def answer(self, points: Points, start: int, stop: int, result: Many) -> None:
        chunk = {n: points.columns[n][start:stop].reshape(-1, 1) for n in self.expr.variables}
        _answer_chunk(
            self.expr,
            chunk,
            self.symbols,
            self.derivatives,
            self.wanted,
            self.dtype,
            start,
            result,
            self.columns,
        )

    def finished(self, result: Many) -> Many:
        from .cas import sympy_engine as symbolic

        result.partials = [
            PartialColumns(w, symbolic.text(d), **c)
            for w, d, c in zip(self.wanted, self.derivatives, self.columns)
        ]
        return result


class Tally:
    """What a table of many points shows, gathered chunk by chunk in bounded
    memory: the counts of each verdict, the first and last `keep` points and
    the first `keep` reasons. `summary()` is a `Many` the table view reads as
    it reads a whole one (its arrays answer only at the kept rows)."""

    def __init__(self, keep: int):
        self.keep, self.count = keep, 0
        self.first: Any = None  # the first chunk's Many
        self.found = np.zeros(len(STATUSES), dtype=np.int64)
        self.rows: dict[int, dict[tuple, Any]] = {}  # index -> one row's values
        self.reasons: dict = {}

    def add(self, many: Many) -> None:
        if self.first is None:
            self.first = many
        size = len(many.points)
        self.found += np.bincount(many.codes, minlength=len(STATUSES))
        wanted = list(range(min(size, max(0, self.keep - self.count))))
        wanted += range(max(0, size - self.keep), size)
        for i in sorted(set(wanted)):
            self.rows[self.count + i] = _row(many, i)
        for i in sorted(many.reasons):
            if len(self.reasons) >= self.keep:
                break
            self.reasons[self.count + i] = many.reasons[i]
        self.count += size
        tail = self.count - self.keep
        for index in [k for k in self.rows if self.keep <= k < tail]:
            del self.rows[index]

    def summary(self) -> Many:
        first, rows, count = self.first, self.rows, self.count

        def sampled(*key) -> Any:  # stands where the view reads an array
            return _Sampled(count, rows, key)

        points = Points(
            first.points.names,
            {n: sampled("column", n) for n in first.points.names},
            sampled("line"),
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

    def __init__(self, length: int, rows: dict, key: tuple):
        self.length, self.rows, self.key = length, rows, key

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index):
        return self.rows[int(index) % self.length if index < 0 else int(index)][self.key]


class _Summary(Many):
    found: dict

    def counts(self) -> dict:
        return self.found


def _answer_chunk(expr, chunk, symbols, derivatives, wanted, dtype, start, result, columns):
    from . import autograd
    from .cas import sympy_engine as symbolic

    size = next(iter(chunk.values())).shape[0]
    where = slice(start, start + size)
    values = numeric.evaluate(expr, chunk, keep=True)
    undefined = np.zeros(size, dtype=bool)
    for node in expr.nodes:  # children first: the first undefined node names the cause
        bad = ~np.all(np.isfinite(values[id(node)]), axis=-1) & ~undefined
        for i in np.flatnonzero(bad):
            result.undefined_at[start + i] = f"{node.text} is not finite here"
        undefined |= bad
    result.value[where] = values[id(expr.root)].sum(axis=-1)

    arrays = {symbols[n]: chunk[n][:, 0] for n in chunk}
    leaves = autograd.leaves_for({n: chunk[n][:, 0] for n in chunk}, dtype)
    output = autograd.build(expr, leaves, dtype, batched=True)
    grads = autograd.derivatives(output, leaves, wanted)
    frozen = numeric.detached_values(expr, chunk)
    partials = [tuple((n, 0) for n in w) for w in wanted]
    fds = numeric.finite_difference(expr, chunk, partials, frozen, BATCH_STEP_FACTORS)
    methods = []
    with np.errstate(all="ignore"):
        for w, d, grad, (fd, fd_error, clean) in zip(wanted, derivatives, grads, fds):
            reference = np.broadcast_to(symbolic.evaluate_numpy(d, arrays), (size,))
            methods.append(
                verdict.Methods(
                    labels=["d/d" + "".join(w)],
                    sympy=reference.reshape(size, 1),
                    autograd=grad.double().numpy(force=True).reshape(size, 1),
                    finite_difference=fd.reshape(size, 1),
                    finite_difference_error=fd_error.reshape(size, 1),
                    fd_checked=clean.reshape(size, 1),
                    order=len(w),
                )
            )
    checks = [verdict.compare(m, dtype, len(wanted[0])) for m in methods]
    names = sorted({n for w in wanted for n in w})
    shapes = {n: None for n in chunk}
    kinks = numeric.find_kinks(expr, chunk, values, frozen, names, shapes)
    kink = np.zeros(size, dtype=bool)
    kink[list(kinks)] = True
    codes = verdict.judge(checks, kink, undefined)
    result.codes[where] = codes
    for column, m, check in zip(columns, methods, checks):
        column["sympy"][where] = m.sympy[:, 0]
        column["autograd"][where] = m.autograd[:, 0]
        column["finite_difference"][where] = m.finite_difference[:, 0]
        column["finite_difference_error"][where] = m.finite_difference_error[:, 0]
        column["agree"][where] = check.agree[:, 0]
        column["finite_difference_checked"][where] = m.fd_counted[:, 0]
    for i in np.flatnonzero(codes != verdict.AGREE):
        index = start + int(i)
        if kinks.get(int(i)):
            result.kinks[index] = kinks[int(i)]
        result.reasons[index] = verdict.reason(
            int(codes[i]),
            int(i),
            methods,
            checks,
            kinks.get(int(i), []),
            undefined=result.undefined_at.get(index),
        )
    suspects = np.zeros(size, dtype=bool)
    for _, mask in numeric.nodes_at_kink(expr, values):
        suspects |= mask
    unusual = (codes == verdict.DISAGREE) | ((codes == verdict.UNDEFINED) & ~undefined)
    if len(wanted[0]) > 1:
        unusual |= suspects & (codes == verdict.AGREE)  # a kink of a derivative?
    _decide_one_by_one(expr, chunk, np.flatnonzero(unusual), names, dtype, start, result, columns)


MAX_ONE_BY_ONE = 500  # unusual points decided by the one-point driver, per run


def _decide_one_by_one(expr, chunk, rows, names, dtype, start, result, columns):
    """The points the vectorized pass cannot settle (a disagreement, a
    derivative that is not finite where the function is, a possible kink of
    a higher derivative) are decided by `check.differentiate`, point by
    point, so that --points and a single diff give the same verdict: limits
    of removable singularities, derivatives' one-sided limits, autograd's
    0·∞ traced. Past MAX_ONE_BY_ONE per run the vectorized verdict stands
    (and `one_by_one_skipped` counts them)."""
    from .check import differentiate

    for row in rows:
        if result.one_by_one >= MAX_ONE_BY_ONE:
            result.one_by_one_skipped += 1
            continue
        result.one_by_one += 1
        index = start + int(row)
        point = {n: float(chunk[n][row, 0]) for n in chunk}
        single = differentiate(expr, point, wrt=names, order=result.order, dtype=dtype)
        result.codes[index] = STATUSES.index(single.status)
        result.reasons[index] = single.reason
        result.kinks[index] = single.kinks
        for column, partial in zip(columns, single.partials):
            column["sympy"][index] = np.nan if partial.sympy is None else partial.sympy
            column["agree"][index] = partial.agree
            column["finite_difference_checked"][index] = partial.finite_difference_checked
        if single.status == Status.AGREE:
            result.reasons.pop(index, None)


def worst_status(result) -> str:
    """The status of the worst point, by the verdict's precedence, from a
    `Many` or from counts of each status."""
    counts = result if isinstance(result, dict) else result.counts()
    present = [STATUSES.index(status) for status, count in counts.items() if count]
    return STATUSES[max(present)] if present else Status.AGREE


__all__ = ["STATUSES", "Many", "Points", "differentiate_many", "read", "worst_status"]
