"""The Jacobian of a vector-valued expression (softmax(x), log_softmax(x),
x*y over vectors): one row per output element, one column per input
(a scalar variable, or each element of a vector variable), by four methods
compared entry by entry:

- SymPy: each output element differentiated by each input, evaluated at the
  point (30 digits, rounded to float64);
- autograd in reverse mode (`torch.func.jacrev`) and in forward mode
  (`torch.func.jacfwd`): two independent torch computations;
- finite differences, one output element at a time (numeric.finite_difference).

The verdict is verdict.judge's, over every entry: autograd by both modes
within AUTOGRAD_TOLERANCE of SymPy, finite differences within theirs; a kink
of some node at the point makes it not differentiable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import numeric, verdict
from .parsing import Expression

if TYPE_CHECKING:
    from .cas import Engine


@dataclass
class Jacobian:
    expression: str
    variables: list[str]
    wrt: list[str]
    point: dict
    dtype: str
    value: list[float]
    rows: list[str]  # f[0], f[1], ...
    columns: list[str]  # x, or x[0], x[1], ... for a vector variable
    symbolic: list[list[str]]
    sympy: np.ndarray  # (rows, columns); NaN where not a finite real
    autograd_reverse: np.ndarray | None  # None: --no-autograd
    autograd_forward: np.ndarray | None
    finite_difference: np.ndarray
    finite_difference_error: np.ndarray
    finite_difference_checked: np.ndarray  # bool per entry: a clean, decisive step existed
    status: str
    reason: str
    # The gradient of the sum of f's elements (torch's y.backward(ones)), the
    # Jacobian's column sums: its formula per column.
    sum_symbolic: list[str] = field(default_factory=list)
    kinks: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tree: Expression | None = None
    order: int = 1

    @property
    def agree(self) -> bool:
        return self.status == verdict.Status.AGREE

    @property
    def differentiable(self) -> bool:
        return self.status not in (verdict.Status.KINK, verdict.Status.UNDEFINED)


def columns_of(names: list[str], shapes: dict) -> list[tuple[str, int | None]]:
    """(variable, element) for each column: element None for a scalar."""
    out: list[tuple[str, int | None]] = []
    for name in names:
        size = shapes[name]
        out.extend([(name, None)] if size is None else [(name, i) for i in range(size)])
    return out


def column_label(name: str, element: int | None) -> str:
    return name if element is None else f"{name}[{element}]"


def compute(
    symbolic: Engine,
    expr: Expression,
    f: list,
    symbols: dict,
    subs: dict,
    point: dict,
    names: list[str],
    shapes: dict,
    dtype: str,
    autograd: bool,
    value: list,
    notes: list,
) -> Jacobian:
    """The Jacobian of `f` (the elements of a vector-valued expression, built
    by the engine `symbolic`) at `point`, by every method, and its verdict."""
    columns = columns_of(names, shapes)
    rows = len(f)
    sympy = np.full((rows, len(columns)), np.nan)
    wrt = [symbols[n] if element is None else symbols[n][element] for n, element in columns]
    derivatives = [[symbolic.derivative(item, (symbol,)) for symbol in wrt] for item in f]
    for i, row in enumerate(derivatives):
        for j, derivative in enumerate(row):
            number, _why = symbolic.value_at(derivative, subs)
            if number is not None:
                sympy[i, j] = number
    total = sum(f[1:], f[0])
    # Printed together: the entries share their sub-expressions (softmax's sum).
    show = symbolic.printer()
    texts = [[show(d) for d in row] for row in derivatives]
    sum_texts = [show(symbolic.derivative(total, (s,))) for s in wrt]
    reverse = forward = None
    if autograd:
        reverse, forward = autograd_columns(expr, point, names, columns, dtype)
    else:
        notes.append(verdict.AUTOGRAD_SKIPPED)
    batch = numeric.as_batch(point)
    frozen = numeric.detached_values(expr, batch)
    partials = [((name, element or 0),) for name, element in columns]
    fd = np.empty((rows, len(columns)))
    fd_error = np.empty((rows, len(columns)))
    clean = np.empty((rows, len(columns)), dtype=bool)
    for i in range(rows):
        found = numeric.finite_difference(expr, batch, partials, frozen, row=i)
        for j, (estimate, error, ok) in enumerate(found):
            fd[i, j], fd_error[i, j], clean[i, j] = estimate[0], error[0], ok[0]
    values, kinks = kink_probes(expr, batch, frozen, names, shapes)
    clean &= verdict.decisive(fd, fd_error, sympy, 1)  # neither confirms nor refutes
    entries = Entries(sympy, reverse, forward, fd, fd_error, clean)
    status, reason = verdict_of(entries, kinks, dtype)
    if any(m is not None and not np.all(np.isfinite(m)) for m in (reverse, forward)):
        from . import nantrace

        traced = nantrace.trace(expr, values, point, dtype)
        if traced is not None:
            notes.append(f"autograd's NaN: {traced.words()}")
    return Jacobian(
        expr.source, list(expr.variables), list(names), point, dtype, value,
        [f"f[{i}]" for i in range(rows)], [column_label(n, e) for n, e in columns], texts, sympy,
        reverse, forward, fd, fd_error, clean, status, reason, sum_texts, kinks, notes, expr,
    )  # fmt: skip


def autograd_columns(
    expr: Expression, point: dict, names: list[str], columns: list, dtype: str
) -> tuple[np.ndarray, np.ndarray]:
    """(reverse, forward): jacrev's and jacfwd's Jacobians, (rows, columns)."""
    import torch
    from torch.func import jacfwd, jacrev

    from . import autograd

    leaves = {n: torch.tensor(v, dtype=autograd.DTYPES[dtype]) for n, v in point.items()}

    def function(*inputs: torch.Tensor) -> torch.Tensor:
        given = dict(leaves)
        given.update(zip(names, inputs))
        return autograd.build(expr, given, dtype).reshape(-1)

    inputs = tuple(leaves[n] for n in names)
    argnums = tuple(range(len(names)))
    found = []
    for transform in (jacrev, jacfwd):
        parts = transform(function, argnums=argnums)(*inputs)
        blocks = [p.detach().to(torch.float64).numpy().reshape(p.shape[0], -1) for p in parts]
        found.append(np.concatenate(blocks, axis=1))
    return found[0], found[1]


def kink_probes(
    expr: Expression, batch: dict, frozen: dict, names: list[str], shapes: dict
) -> tuple[dict, list]:
    values = numeric.evaluate(expr, batch, frozen, keep=True)
    # Each element's own kinks: two of them may cancel in the sum ([abs(x), -abs(x)]).
    found = numeric.find_kinks(expr, batch, values, frozen, names, shapes, per_output=True)
    return values, found.get(0, [])


@dataclass
class Entries:
    """Every method's Jacobian at the point, (rows, columns)."""

    sympy: np.ndarray  # NaN where not a finite real
    reverse: np.ndarray | None  # autograd's, None with --no-autograd
    forward: np.ndarray | None
    fd: np.ndarray
    fd_error: np.ndarray
    clean: np.ndarray  # bool: finite differences taken cleanly, and decisive
    # Past vectors.SMALL elements (vecjacobian): why finite differences left
    # entries unchecked, each column's label, and how many of the last columns
    # are a direction's J·v (compared, but not entries of the Jacobian).
    sampled: str | None = None
    labels: list[str] | None = None
    directions: int = 0


def verdict_of(entries: Entries, kinks: list, dtype: str) -> tuple[str, str]:
    """(status, reason) over every entry, by verdict.judge's precedence."""
    sympy, clean = entries.sympy, entries.clean
    tolerance = verdict.AUTOGRAD_TOLERANCE[dtype]
    finite = np.isfinite(sympy)
    autograd_ok = True
    for matrix in (entries.reverse, entries.forward):
        if matrix is None:
            continue
        autograd_ok &= bool(np.all(finite & tolerance.allows(matrix, np.where(finite, sympy, 0))))
    fd_tolerance = verdict.FINITE_DIFFERENCE_TOLERANCE
    slack = verdict.fd_slack(entries.fd_error, sympy)
    fd_ok = bool(
        np.all(
            ~clean | (finite & fd_tolerance.allows(entries.fd, np.where(finite, sympy, 0), slack))
        )
    )
    if kinks:
        return verdict.STATUSES[verdict.KINK], verdict.kink_words(kinks)
    if not np.all(finite):
        return verdict.STATUSES[verdict.UNDEFINED], "SymPy's Jacobian is not finite at this point"
    if autograd_ok and fd_ok:
        return verdict.STATUSES[verdict.AGREE], _agreement(entries)
    return verdict.STATUSES[verdict.DISAGREE], _disagreement(entries, autograd_ok, fd_ok)


def _agreement(entries: Entries) -> str:
    """The reason when every method agrees, and where finite differences
    were not checked."""
    clean = entries.clean
    if clean.all():
        if entries.reverse is None:
            return "SymPy and finite differences agree on every entry"
        return (
            "SymPy, autograd (reverse and forward mode) and finite differences agree on every entry"
        )
    why = entries.sampled or (
        "a kink or a pole nearby, or their own error estimate too wide to decide"
    )
    entries_only = clean[:, : clean.shape[1] - entries.directions]
    count = f"{int((~entries_only).sum())} of the {entries_only.size} entries"
    unchecked = f"finite differences not checked on {count} ({why})"
    if entries.reverse is not None:
        return f"SymPy and autograd (reverse and forward mode) agree on every entry; {unchecked}"
    if not clean.any():
        return f"nothing checked the symbolic Jacobian here; {unchecked}"
    return (
        f"the symbolic Jacobian and finite differences agree where they were checked; {unchecked}"
    )


def _disagreement(entries: Entries, autograd_ok: bool, fd_ok: bool) -> str:
    """The reason when a method disagrees: how far off each one is, and where."""
    sympy = entries.sympy
    differing = []
    for name, matrix, ok in (
        ("autograd (reverse mode)", entries.reverse, autograd_ok),
        ("autograd (forward mode)", entries.forward, autograd_ok),
        ("finite differences", entries.fd if not fd_ok else None, fd_ok),
    ):
        if matrix is None or ok:
            continue
        gap = np.abs(matrix - sympy)
        if not np.any(gap > 0) and np.all(np.isfinite(matrix)):
            continue
        i, j = np.unravel_index(np.nanargmax(np.where(np.isfinite(gap), gap, np.inf)), gap.shape)
        where = f"row {i}, column {j}" if entries.labels is None else f"f[{i}], {entries.labels[j]}"
        differing.append(
            f"{name}: off by up to {gap[i, j]:.3g} ({where}: "
            f"{matrix[i, j]:.12g} against SymPy's {sympy[i, j]:.12g})"
        )
    return "the methods disagree: " + "; ".join(differing)
