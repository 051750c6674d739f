"""Many points at once (`diff --points FILE`): read CSV or JSON Lines, then
answer every point vectorized — one symbolic derivative evaluated over
arrays, one batched torch pass, batched finite differences — in chunks, so
memory stays bounded by the chunk, not the input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from . import numeric, verdict
from .errors import PointError
from .parsing import Expression, parse
from .verdict import STATUSES, Status

CHUNK = 50_000  # points answered together
BATCH_STEP_FACTORS = (1.0, 1e-3)  # fewer step sizes than one point gets: speed


@dataclass
class Points:
    names: list  # column names in file order
    columns: dict  # name -> float64 array
    lines: np.ndarray  # 1-based line number of each point in the input

    def __len__(self):
        return len(self.lines)


def read(text: str, source: str = "points") -> Points:
    """CSV with a header of variable names, or JSON Lines ({"x": 1} per line)."""
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise PointError(f"{source}: no points")
    if first.lstrip().startswith("{"):
        return _read_json_lines(text, source)
    return _read_csv(text, source)


def _read_csv(text: str, source: str) -> Points:
    lines = text.splitlines()
    header_index = next(i for i, line in enumerate(lines) if line.strip())
    names = [name.strip() for name in lines[header_index].split(",")]
    _check_names(names, source, header_index + 1)
    rest = lines[header_index + 1 :]
    numbers = np.arange(header_index + 2, header_index + 2 + len(rest))
    if not all(rest):  # blank lines: drop them, keeping the line numbers true
        keep = np.array([bool(line.strip()) for line in rest])
        rest = [line for line, kept in zip(rest, keep) if kept]
        numbers = numbers[keep]
    if not rest:
        raise PointError(f"{source}: a header but no points")
    try:  # fast path: every field a plain number
        flat = np.array(",".join(rest).split(","), dtype=np.float64)
        if flat.size != len(rest) * len(names):
            raise ValueError
        table = flat.reshape(len(rest), len(names))
    except ValueError:
        table = _csv_slow(list(zip(numbers.tolist(), rest)), names, source)
    _check_finite(table, numbers, names, source)
    return Points(names, {name: table[:, j].copy() for j, name in enumerate(names)}, numbers)


def _csv_slow(body, names, source):
    """Line by line, to name the first bad line."""
    rows = []
    for number, line in body:
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != len(names):
            raise PointError(
                f"{source} line {number}: {len(fields)} values, but the header names {len(names)}"
            )
        row = []
        for name, text in zip(names, fields):
            try:
                row.append(float(text))
            except ValueError:
                raise PointError(
                    f"{source} line {number}: {name}={text!r} is not a number"
                ) from None
        rows.append(row)
    return np.array(rows, dtype=np.float64)


def _read_json_lines(text: str, source: str) -> Points:
    names, rows, numbers = None, [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            raise PointError(f"{source} line {number}: not JSON ({error.msg})") from None
        if not isinstance(item, dict):
            raise PointError(f'{source} line {number}: expected an object like {{"x": 1}}')
        if names is None:
            names = list(item)
            _check_names(names, source, number)
        if set(item) != set(names):
            raise PointError(
                f"{source} line {number}: names {sorted(item)} differ from the "
                f"first line's {sorted(names)}"
            )
        row = []
        for name in names:
            value = item[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise PointError(
                    f"{source} line {number}: {name}={json.dumps(value)} is not a number"
                )
            row.append(float(value))
        rows.append(row)
        numbers.append(number)
    table = np.array(rows, dtype=np.float64)
    _check_finite(table, numbers, names, source)
    return Points(
        names, {name: table[:, j].copy() for j, name in enumerate(names)}, np.array(numbers)
    )


def _check_names(names, source, line):
    seen = set()
    for name in names:
        if (
            not name
            or not (name[0].isascii() and name[0].isalpha())
            or not all(c.isascii() and (c.isalnum() or c == "_") for c in name)
        ):
            raise PointError(f"{source} line {line}: {name!r} is not a variable name")
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
    from .check import validate

    expr = expression if isinstance(expression, Expression) else parse(expression)
    names = validate(expr, wrt, order, dtype)
    missing = [v for v in expr.variables if v not in points.columns]
    if missing:
        raise PointError(f"the points give no column for {', '.join(missing)}")
    extra = [n for n in points.names if n not in expr.variables]
    if extra:
        raise PointError(
            f"the points name {', '.join(extra)}, not variables of the expression "
            f"(its variables: {', '.join(expr.variables)})"
        )
    import itertools

    from .cas import sympy_engine as symbolic

    wanted = (
        [(n,) for n in names]
        if order == 1
        else list(itertools.combinations_with_replacement(names, order))
    )
    import sympy
    import torch  # noqa: F401 - imported before the time budget starts

    from . import budget

    budget.computing()  # --timeout counts from here, as for a single point
    symbols = {name: sympy.Symbol(name, real=True) for name in expr.variables}
    f = symbolic.build(expr, symbols)
    derivatives = [symbolic.derivative(f, tuple(symbols[n] for n in w)) for w in wanted]

    count = len(points)
    value = np.empty(count)
    columns = [
        dict(
            sympy=np.empty(count),
            autograd=np.empty(count),
            finite_difference=np.empty(count),
            finite_difference_error=np.empty(count),
            agree=np.zeros(count, dtype=bool),
            finite_difference_checked=np.ones(count, dtype=bool),
        )
        for _ in wanted
    ]
    result = Many(
        expr.source,
        list(expr.variables),
        names,
        dtype,
        order,
        points,
        value,
        [],
        np.zeros(count, dtype=np.uint8),
    )
    for start in range(0, count, CHUNK):
        stop = min(count, start + CHUNK)
        chunk = {n: points.columns[n][start:stop].reshape(-1, 1) for n in expr.variables}
        _answer_chunk(expr, chunk, symbols, derivatives, wanted, dtype, start, result, columns)
        if progress is not None:
            progress(stop - start)
    result.partials = [
        PartialColumns(w, symbolic.text(d), **c) for w, d, c in zip(wanted, derivatives, columns)
    ]
    return result


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
        column["finite_difference_checked"][where] = m.fd_checked[:, 0]
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


def worst_status(many: Many) -> str:
    """The status of the worst point, by the verdict's precedence."""
    return STATUSES[int(many.codes.max())] if len(many.codes) else Status.AGREE


__all__ = ["STATUSES", "Many", "Points", "differentiate_many", "read", "worst_status"]
