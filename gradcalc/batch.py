"""Many points at once (`diff --points FILE`, read by pointsfile.py): every
point answered vectorized — one symbolic derivative evaluated over
arrays, one batched torch pass, batched finite differences — in chunks, so
memory stays bounded by the chunk, not the input. For the CLI the torch pass
runs in a helper process (helper.py) that imports torch meanwhile, and the
chunks read are prepared ahead of it (`differentiate_stream`); once it
answers, it takes each chunk's quick pass of the finite differences too.
"""

from __future__ import annotations

import collections
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import numeric, quickdiff, verdict
from .errors import PointError
from .helper import Later, answering, gradients
from .parsing import Expression, as_expression
from .pointsfile import CHUNK, Points
from .verdict import STATUSES, Status

BATCH_STEP_FACTORS = numeric.FEW_STEP_FACTORS  # fewer step sizes than one point gets: speed


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
    # Another chunk's answer follows at once, finished already: a writer may
    # hold this one back meanwhile (differentiate_stream).
    followed: bool = False

    def status(self, index: int) -> str:
        return STATUSES[self.codes[index]]

    def counts(self) -> dict:
        found = np.bincount(self.codes, minlength=len(STATUSES))
        return {STATUSES[i]: int(c) for i, c in enumerate(found) if c}


def differentiate_many(
    expression: str | Expression,
    points: Points,
    wrt: Sequence[str] | None = None,
    order: int = 1,
    dtype: str = "float64",
    progress: Callable[[int], object] | None = None,
) -> Many:
    """Every point of `points`, vectorized, in chunks of CHUNK (torch's
    threads fitted to a chunk meanwhile: `threads.fitted`)."""
    from .threads import fitted

    plan = _Plan(expression, points, wrt, order, dtype)
    result = plan.empty(points)
    count = len(points)
    with fitted(min(count, CHUNK)):
        for start in range(0, count, CHUNK):
            stop = min(count, start + CHUNK)
            plan.answer(points, start, stop, result)
            if progress is not None:
                progress(stop - start)
    return result


def differentiate_stream(
    expression: str | Expression,
    chunks: Iterable[Points],
    wrt: Sequence[str] | None = None,
    order: int = 1,
    dtype: str = "float64",
    before: Callable[[], object] | None = None,
) -> Iterator[Many]:
    """A `Many` for each chunk of points from `chunks` (an iterator of Points,
    as `read_chunks` gives), answered as it arrives: memory stays bounded by
    one chunk, whatever the input's length. `before()` is called before each
    chunk is computed (the budget's clock)."""
    arriving = iter(chunks)
    points: Points | None = next(arriving)
    assert points is not None
    plan = _Plan(expression, points, wrt, order, dtype)
    waiting: collections.deque[_Chunk] = collections.deque()
    held: list[Many] = []  # a chunk finished, yielded with the next one

    def answered(everything: bool) -> Iterator[Many]:
        """The chunks prepared whose turn it is: all, or those whose autograd
        is there, or past AHEAD (while autograd is not there yet, from the
        helper process, the points read go on being prepared). They come in
        pairs, the second finished before the first is yielded (`followed`):
        nothing is computed while a writer hands the first to another
        process, so a run its budget ends (in a computing phase) never cuts
        that process's text short."""
        while waiting and (everything or waiting[0].ready() or len(waiting) > AHEAD):
            if before is not None:
                before()
            many = waiting.popleft().finish()
            if not held:
                held.append(many)
                continue
            first = held.pop()
            first.followed = True
            yield first
            yield many
        if everything and held:
            yield held.pop()

    while points is not None:
        if before is not None:
            before()
        waiting.append(plan.prepare(points))
        # A chunk short of CHUNK, or one the input paused after: what was
        # read is answered before more is waited for.
        yield from answered(len(points) < CHUNK or points.paused)
        try:
            points = next(arriving, None)
        except Exception:
            yield from answered(True)  # the points before an error in the input
            raise
    yield from answered(True)


# torch computes a contiguous tensor a few elements at a time in vector
# registers (AVX2: 8 float64) and the elements past the last whole group one
# by one, by other code (Sleef's pow against the C library's), which can
# differ in the last bit: a point's autograd value then depended on where it
# fell in its chunk, and so on the chunk's size (a Parquet row group, an Arrow
# batch, a pause in a pipe, a Dask partition). The autograd pass is given each
# column padded to a whole number of PAD_TO (copies of its first value, whose
# answers are left out), so every point takes the vector path.
PAD_TO = 64


def _padded(column: np.ndarray) -> np.ndarray:
    extra = -len(column) % PAD_TO
    return np.concatenate([column, np.full(extra, column[0])]) if extra else column


AHEAD = 20  # chunks prepared ahead of their autograd pass (10^6 points; about 2 MB each)


class _Plan:
    """What every chunk shares: the parsed expression, the derivatives wanted
    and their symbolic forms, built once."""

    def __init__(
        self,
        expression: str | Expression,
        points: Points,
        wrt: Sequence[str] | None,
        order: int,
        dtype: str,
    ) -> None:
        from .functions import refuse_whole_vectors
        from .pointcheck import validate

        expr = as_expression(expression)
        names = validate(expr, wrt, order, dtype)
        refuse_whole_vectors(
            expr, "many points give one number per variable (a vector goes in {at})", option="at"
        )
        # A file's names are named by where they were read ("p.csv line 1",
        # "p.parquet column names"), as its bad values are.
        where = f"{points.at}: " if points.at else ""
        missing = [v for v in expr.variables if v not in points.names]
        if missing:
            raise PointError(f"{where}the points give no column for {', '.join(missing)}")
        extra = [n for n in points.names if n not in expr.variables]
        if extra:
            raise PointError(
                f"{where}the points name {', '.join(extra)}, not variables of the expression "
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
        self.texts = [symbolic.text(d) for d in self.derivatives]
        # Points decided one by one so far in the whole run, every chunk's
        # (MAX_ONE_BY_ONE is a run's): a stream's chunks, Parquet's row groups
        # and gradcalc.points' one table then decide the same points.
        self.decided = 0

    def empty(self, points: Points) -> Many:
        """A `Many` for `points`, its derivatives' columns still to fill."""
        count = len(points)
        columns = [
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
        many = Many(
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
        many.partials = [
            PartialColumns(w, text, **c) for w, text, c in zip(self.wanted, self.texts, columns)
        ]
        return many

    def answer(self, points: Points, start: int, stop: int, result: Many) -> None:
        chunk = {n: points.columns[n][start:stop].reshape(-1, 1) for n in self.expr.variables}
        _Chunk(self, chunk, start, lambda: result).finish()

    def prepare(self, points: Points) -> _Chunk:
        """All of `points` as one chunk, its autograd pass asked for and the
        rest computed; `finish()` gives its `Many`."""
        chunk = {n: points.columns[n].reshape(-1, 1) for n in self.expr.variables}
        return _Chunk(self, chunk, 0, lambda: self.empty(points))


class _Chunk:
    """One chunk of points ({name: (size, 1) array}) answered into `result`
    from its index `start`, with what `plan` built once for every chunk: made,
    it has asked for its autograd pass and computed everything else that
    does not need it (the values, SymPy's derivatives, the finite
    differences, the kinks); `finish()` weighs the three methods once
    autograd's values are there."""

    def __init__(
        self, plan: _Plan, points: dict[str, np.ndarray], start: int, result: Callable[[], Many]
    ) -> None:
        # The `Many` written into is made by `finish` (`result()`): a chunk
        # prepared ahead holds only what it computed.
        self.plan, self.points, self.start, self.made = plan, points, start, result
        self.size = next(iter(points.values())).shape[0]
        self.where = slice(start, start + self.size)
        expr, wanted = plan.expr, plan.wanted
        values, self.undefined = self._forward()
        columns = {n: _padded(v[:, 0]) for n, v in points.items()}
        self.grads = Later(gradients, expr, columns, wanted, plan.dtype)
        self.frozen = frozen = numeric.detached_values(expr, points)
        self.quick = self._quick(frozen, values)
        self.references = self._references()
        self.names = sorted({n for w in wanted for n in w})
        shapes: dict = {n: None for n in points}
        self.kinks = numeric.find_kinks(expr, points, values, frozen, self.names, shapes)
        self.suspects = np.zeros(self.size, dtype=bool)
        for _, mask in numeric.nodes_at_kink(expr, values):
            self.suspects |= mask

    def ready(self) -> bool:
        """Are autograd's values and the quick pass there (finish would not wait)?"""
        return self.grads.ready() and self.quick.ready()

    def finish(self) -> Many:
        plan, wanted, kinks = self.plan, self.plan.wanted, self.kinks
        self.result = result = self.made()
        result.value[self.where] = self.value
        for i, why in self.undefined_at.items():
            result.undefined_at[self.start + i] = why
        methods = self._methods(self.grads.result(), self._estimates())
        checks = [verdict.weigh(m, plan.dtype, len(wanted[0])) for m in methods]
        kink = np.zeros(self.size, dtype=bool)
        kink[list(kinks)] = True
        codes = verdict.judge(checks, kink, self.undefined)
        self.result.codes[self.where] = codes
        self._record(methods, checks)
        self._explain(codes, methods, checks, kinks)
        unusual = (codes == verdict.DISAGREE) | ((codes == verdict.UNDEFINED) & ~self.undefined)
        if len(wanted[0]) > 1:
            unusual |= self.suspects & (codes == verdict.AGREE)  # a kink of a derivative?
        # Agreement that finite differences did not check rests on SymPy's
        # float64 value alone, which cancellation can spoil as it spoils
        # autograd's: the one-point driver takes SymPy's 30 digits.
        unchecked = np.zeros(self.size, dtype=bool)
        for check in checks:
            unchecked |= ~check.fd_counted.all(axis=1)
        unusual |= unchecked & (codes == verdict.AGREE)
        self._decide_one_by_one(np.flatnonzero(unusual), self.names)
        return self.result

    def _forward(self) -> tuple[dict, np.ndarray]:
        """Every node's values, and where f is not finite (the first node,
        children first, that is not names the cause: `undefined_at`, by
        index in the chunk); f's value is `value`."""
        expr = self.plan.expr
        values = numeric.evaluate(expr, self.points, keep=True)
        undefined = np.zeros(self.size, dtype=bool)
        self.undefined_at: dict[int, str] = {}
        for node in expr.nodes:
            bad = ~np.all(np.isfinite(values[id(node)]), axis=-1) & ~undefined
            for i in np.flatnonzero(bad):
                self.undefined_at[int(i)] = f"{node.text} is not finite here"
            undefined |= bad
        self.value = values[id(expr.root)].sum(axis=-1)
        return values, undefined

    def _quick(self, frozen: dict, values: dict) -> Later:
        """The quick pass of each first derivative (quickdiff): asked of the
        helper process once it answers (its core is idle while this one
        reads and prepares the next chunks), else done here at once."""
        names = [w[0] for w in self.plan.wanted if len(w) == 1]
        args = (quickdiff.quick_differences, self.plan.expr, self.points, names)
        return Later(*args) if names and answering() else Later.now(*args, frozen, values)

    def _references(self) -> list[np.ndarray]:
        """SymPy's value of each derivative wanted, at every point."""
        from .cas import sympy_engine as symbolic

        plan, size = self.plan, self.size
        arrays = {plan.symbols[n]: v[:, 0] for n, v in self.points.items()}
        with np.errstate(all="ignore"):
            return [
                np.broadcast_to(symbolic.evaluate_numpy(d, arrays), (size,))
                for d in plan.derivatives
            ]

    def _estimates(self) -> list[tuple]:
        """SymPy's and finite differences' values of each derivative wanted:
        (reference, estimates, error estimates, clean)."""
        quick = iter(self.quick.result())
        with np.errstate(all="ignore"):
            return [
                (reference, *self._differences(w, reference, quick))
                for w, reference in zip(self.plan.wanted, self.references)
            ]

    def _methods(self, grads: list[np.ndarray], estimates: list[tuple]) -> list[verdict.Methods]:
        """The three methods' values of each derivative wanted, side by side."""
        size = self.size
        return [
            verdict.Methods(
                labels=["d/d" + "".join(w)],
                sympy=reference.reshape(size, 1),
                autograd=grad[:size].reshape(size, 1),  # the padding left out
                finite_difference=fd.reshape(size, 1),
                finite_difference_error=fd_error.reshape(size, 1),
                fd_checked=clean.reshape(size, 1),
                order=len(w),
            )
            for w, grad, (reference, fd, fd_error, clean) in zip(self.plan.wanted, grads, estimates)
        ]

    def _differences(
        self, wrt: tuple, reference: np.ndarray, quick: Iterator[tuple]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Finite differences of one derivative at every point: (estimates,
        error estimates, clean). A first derivative has had the quick pass
        (`quick`: the next of its estimates and errors; the base step alone,
        6 evaluations of f a point), which settles every point where it
        confirms the reference tightly (`verdict.confirms_alone`); the rest,
        and higher orders, take the full stencil at BATCH_STEP_FACTORS with
        its kink, pole and rounding checks, as they always did."""
        expr, points, size, frozen = self.plan.expr, self.points, self.size, self.frozen
        partial = tuple((n, 0) for n in wrt)
        if len(wrt) > 1:
            ((fd, error, clean),) = numeric.finite_difference(
                expr, points, [partial], frozen, BATCH_STEP_FACTORS
            )
            return fd, error, clean
        fd, error = next(quick)
        clean = np.ones(size, dtype=bool)
        rest = np.flatnonzero(~verdict.confirms_alone(fd, error, reference, 1))
        if rest.size:
            subset = {n: v[rest] for n, v in points.items()}
            held = {
                k: v[rest] if np.ndim(v) and np.shape(v)[0] == size else v
                for k, v in frozen.items()
            }
            ((fd[rest], error[rest], clean[rest]),) = numeric.finite_difference(
                expr, subset, [partial], held, BATCH_STEP_FACTORS
            )
        return fd, error, clean

    def _record(self, methods: list[verdict.Methods], checks: list) -> None:
        """Each derivative's columns, at the chunk's rows."""
        where = self.where
        for column, m, check in zip(self.result.partials, methods, checks):
            assert m.autograd is not None  # --points always runs autograd
            column.sympy[where] = m.sympy[:, 0]
            column.autograd[where] = m.autograd[:, 0]
            column.finite_difference[where] = m.finite_difference[:, 0]
            column.finite_difference_error[where] = m.finite_difference_error[:, 0]
            column.agree[where] = check.agree[:, 0]
            column.finite_difference_checked[where] = check.fd_counted[:, 0]

    def _explain(self, codes: np.ndarray, methods: list, checks: list, kinks: dict) -> None:
        """The reason for every point that does not agree, and its kinks."""
        result = self.result
        for i in np.flatnonzero(codes != verdict.AGREE):
            index = self.start + int(i)
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

    def _decide_one_by_one(self, rows: np.ndarray, names: list[str]) -> None:
        """The points the vectorized pass cannot settle (a disagreement, a
        derivative that is not finite where the function is, a possible kink of
        a higher derivative) are decided by `pointcheck.differentiate`, point by
        point, so that --points and a single diff give the same verdict: limits
        of removable singularities, derivatives' one-sided limits, autograd's
        0·∞ traced. Past MAX_ONE_BY_ONE per run the vectorized verdict stands
        (and `one_by_one_skipped` counts them)."""
        from .errors import DomainError
        from .pointcheck import Result, differentiate

        if len(rows) and "torch" not in sys.modules:  # (torch in helper.py's process)
            from . import budget

            with budget.waiting("start"):  # start-up, as when it was imported first
                import torch  # noqa: F401
        result = self.result
        for row in rows:
            if self.plan.decided >= MAX_ONE_BY_ONE:
                result.one_by_one_skipped += 1
                continue
            self.plan.decided += 1
            result.one_by_one += 1
            index = self.start + int(row)
            point = {n: float(v[row, 0]) for n, v in self.points.items()}
            try:
                single = differentiate(
                    self.plan.expr, point, wrt=names, order=result.order, dtype=self.plan.dtype
                )
            except DomainError as error:
                # f itself is undefined there by 30 digits (cot(pi*x) at 1, where
                # float64's sin(pi) is not 0): that row's verdict, as one point's.
                self._undefined_row(index, str(error))
                continue
            assert isinstance(single, Result)  # scalar variables: never a Jacobian
            result.codes[index] = STATUSES.index(single.status)
            result.reasons[index] = single.reason
            result.kinks[index] = single.kinks
            for column, partial in zip(result.partials, single.partials):
                column.sympy[index] = np.nan if partial.sympy is None else partial.sympy
                column.agree[index] = partial.agree
                column.finite_difference_checked[index] = partial.finite_difference_checked
            if single.reason == verdict.AGREED:  # the default words: not stored
                result.reasons.pop(index, None)

    def _undefined_row(self, index: int, why: str) -> None:
        result = self.result
        result.codes[index] = verdict.UNDEFINED
        result.reasons[index] = why
        result.undefined_at[index] = why
        result.kinks.pop(index, None)
        for column in result.partials:
            column.sympy[index] = np.nan
            column.agree[index] = False
            column.finite_difference_checked[index] = False


MAX_ONE_BY_ONE = 500  # unusual points decided by the one-point driver, per run


def worst_status(result: Many | dict[str, int]) -> str:
    """The status of the worst point, by the verdict's precedence, from a
    `Many` or from counts of each status."""
    counts = result if isinstance(result, dict) else result.counts()
    present = [STATUSES.index(status) for status, count in counts.items() if count]
    return STATUSES[max(present)] if present else Status.AGREE


__all__ = [
    "STATUSES",
    "Many",
    "differentiate_many",
    "differentiate_stream",
    "worst_status",
]
