"""The Jacobian of a vector-valued expression over vectors past SMALL
elements (softmax(x), log_softmax(x), softmax(x)*w ...) in vector form.

On the long-vector path (vectors.Vectorized) f's element i is one element
expression h(x_i, R_1, ..., R_K) of the elements at i and the reductions R_m
(numbers at the point), so

    ∂f_i/∂x_j = δ_ij·∂h/∂x (x_i) + Σ_m ∂h/∂R_m (x_i) · ∂R_m/∂x_j

a diagonal plus one outer product u_m g_mᵀ per reduction, g_m = ∇R_m by
the same reverse mode over the reductions as a gradient: softmax's
diag(s) − s sᵀ, log_softmax's I − 1 sᵀ (rows are f's elements, columns the
inputs, as jacobian.py's). It is evaluated by numpy over whole arrays
(float64), never one SymPy derivative per entry; its formula text is built
twice (the diagonal and the rest) and written into each entry. Autograd is
jacobian.py's (torch.func.jacrev and jacfwd over the whole graph); finite
differences are sampled as the long-vector path samples a gradient: the
Jacobian's columns for vectors.sample's components (all of f's elements at
once, one stencil per column) and its product J·v with one seeded random
direction v against a finite difference of f along v. The verdict is
jacobian.py's, with the direction's entries among those compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import jacobian, numeric, stencil, vectors, verdict
from .partials import MAX_SHOWN

if TYPE_CHECKING:
    from .parsing import Expression


def compute(
    expr: Expression,
    point: dict,
    names: list[str],
    shapes: dict,
    dtype: str,
    autograd: bool,
    notes: list[str],
) -> jacobian.Jacobian:
    """The Jacobian of `expr` (vectors.jacobian_applies) at `point`, by
    every method, and its verdict: the same record as jacobian.compute's."""
    form = vectors.Vectorized(expr, point)
    value = form.value()
    assert isinstance(value, list)  # jacobian_applies: a vector-valued expression
    columns = jacobian.columns_of(names, shapes)
    n = form.length
    notes.append(
        f"vectors of {n:,} elements: the Jacobian in vector form, a diagonal plus one outer "
        "product per mean or sum (softmax's diag(s) − s sᵀ), evaluated over the elements "
        "in float64"
    )
    reference = np.concatenate([_block(form, name) for name in names], axis=1)
    texts, sum_texts = _texts(form, names, columns)
    reverse = forward = None
    if autograd:
        reverse, forward = jacobian.autograd_columns(expr, point, names, columns, dtype)
    else:
        notes.append(verdict.AUTOGRAD_SKIPPED)
    batch = numeric.as_batch(point)
    frozen = numeric.detached_values(expr, batch)
    sampled = _Sampled.measure(expr, batch, frozen, names, shapes, n)
    values, kinks = jacobian.kink_probes(expr, batch, frozen, names, shapes)
    clean = sampled.clean & verdict.decisive(sampled.fd, sampled.fd_error, reference, 1)
    entries = _with_directions(
        jacobian.Entries(reference, reverse, forward, sampled.fd, sampled.fd_error, clean),
        sampled,
        [c[0] if c[1] is None else f"{c[0]}[{c[1]}]" for c in columns],
    )
    status, reason = jacobian.verdict_of(entries, kinks, dtype)
    said = sampled.note(names, shapes, n)
    notes.extend([said] if said else [])  # nothing sampled when only numbers are asked for
    if any(m is not None and not np.all(np.isfinite(m)) for m in (reverse, forward)):
        from . import nantrace

        traced = nantrace.trace(expr, values, point, dtype)
        if traced is not None:
            notes.append(f"autograd's NaN: {traced.words()}")
    return jacobian.Jacobian(
        expr.source, list(expr.variables), list(names), point, dtype, value,
        [f"f[{i}]" for i in range(n)], [jacobian.column_label(c, e) for c, e in columns], texts,
        reference, reverse, forward, sampled.fd, sampled.fd_error, clean, status, reason,
        sum_texts, kinks, notes, expr,
    )  # fmt: skip


def _block(form: vectors.Vectorized, name: str) -> np.ndarray:
    """The Jacobian's columns for one variable, (n, n) for a vector and
    (n, 1) for a number: ∂h/∂name (x_i) on the diagonal (in the column)
    and Σ_m ∂h/∂R_m (x_i)·∂R_m/∂name."""
    import sympy as sp

    h, symbol = form.element_root, form.symbols[name]
    direct = form._over(sp.diff(h, symbol))
    if name in form.vectors:
        block = np.diag(direct)
    else:
        block = direct.reshape(-1, 1).copy()
    for reduction in _inner(form):
        if not h.has(reduction.symbol):
            continue
        u = form._over(sp.diff(h, reduction.symbol))
        g = np.atleast_1d(np.asarray(form.gradient(name, reduction.symbol), dtype=np.float64))
        with np.errstate(invalid="ignore", over="ignore"):
            block = block + np.outer(u, g)
    return block


def _inner(form: vectors.Vectorized) -> list[vectors.Reduction]:
    """The reductions inside f's elements (not the implicit sum of them,
    the last; nor a max, held constant)."""
    return [r for r in form.reductions[:-1] if r.kind != "max"]


def _texts(
    form: vectors.Vectorized, names: list[str], columns: list[tuple[str, int | None]]
) -> tuple[list[list[str]], list[str]]:
    """Each entry's formula (the element at row i written x[i], at column j
    x[j]; inside a mean or sum x stands for every element), and the
    gradient of the sum's formula for each column."""
    import sympy as sp

    h = form.element_root
    at_row = {form.symbols[v]: sp.Symbol(f"{v}[I]", real=True) for v in form.vectors}
    at_column = {form.symbols[v]: sp.Symbol(f"{v}[J]", real=True) for v in form.vectors}
    templates: dict[str, tuple[str, str]] = {}
    sums: dict[str, str] = {}
    for name in names:
        symbol = form.symbols[name]
        outer = sp.Add(
            *[
                _outside(sp.diff(h, r.symbol), at_row)
                * _outside(form.derivative(name, r.symbol), at_column)
                for r in _inner(form)
                if h.has(r.symbol)
            ]
        )
        diagonal = _outside(sp.diff(h, symbol), at_row) + outer.xreplace(
            {at_column[s]: at_row[s] for s in at_column}
        )
        templates[name] = (form.spell(diagonal), form.spell(outer))
        sums[name] = form.spell(_outside(form.derivative(name), at_column))
    # Each entry: its template with [I] and [J] written as the row's and the
    # column's index (split once a row, joined once an entry: n² strings).
    at = [f"[{j}]" for j in range(form.length)]
    texts = []
    for i in range(form.length):
        row = []
        for name in names:
            diagonal, outer = (t.replace("[I]", at[i]) for t in templates[name])
            if name not in form.vectors:
                row.append(diagonal)
                continue
            parts = outer.split("[J]")
            row.extend(at[j].join(parts) for j in range(form.length))
            row[len(row) - form.length + i] = diagonal.replace("[J]", at[i])
        texts.append(row)
    sum_texts = [sums[name].replace("[J]", f"[{j}]") for name, j in columns]
    return texts, sum_texts


def _outside(expression: Any, mapping: dict) -> Any:
    """`expression` with the symbols of `mapping` replaced except inside a
    mean(...) or sum(...) written out by vectors.derivative (where x stands
    for every element)."""
    import sympy as sp

    if expression in mapping:
        return mapping[expression]
    if not expression.args or isinstance(expression.func, sp.core.function.UndefinedFunction):
        return expression
    return expression.func(*[_outside(a, mapping) for a in expression.args])


class _Sampled:
    """Finite differences of the Jacobian: its columns for a sample of each
    vector's components (every column of a number), and J·v along one
    seeded random direction v per vector variable."""

    def __init__(self, rows: int, width: int) -> None:
        self.fd = np.full((rows, width), np.nan)
        self.fd_error = np.full((rows, width), np.nan)
        self.clean = np.zeros((rows, width), dtype=bool)
        self.chosen: dict[str, list[int]] = {}
        # name -> (v, the estimate of J·v, its error, clean), each (rows,)
        self.directions: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    @classmethod
    def measure(
        cls, expr: Expression, batch: dict, frozen: dict, names: list[str], shapes: dict, n: int
    ) -> _Sampled:
        columns = jacobian.columns_of(names, shapes)
        found = cls(n, len(columns))
        start = 0
        for name in names:
            size = shapes[name]
            chosen = [0] if size is None else vectors.sample(size)
            found.chosen[name] = chosen
            width = 1 if size is None else size
            for j in chosen:
                unit = np.zeros(width)
                unit[j] = 1.0
                estimate, error, clean = stencil.directional_rows(expr, batch, frozen, name, unit)
                found.fd[:, start + j], found.fd_error[:, start + j] = estimate, error
                found.clean[:, start + j] = clean
            if size is not None and len(chosen) < size:
                v = np.random.default_rng(vectors.SEED).standard_normal(size)
                v /= np.linalg.norm(v)
                found.directions[name] = (
                    v,
                    *stencil.directional_rows(expr, batch, frozen, name, v),
                )
            start += width
        return found

    def note(self, names: list[str], shapes: dict, n: int) -> str:
        """What finite differences checked, in words."""
        parts = []
        for name in names:
            size = shapes[name]
            if size is None or name not in self.directions:
                continue
            chosen = len(self.chosen[name])
            parts.append(
                f"the Jacobian's columns for {chosen} of the {size:,} components of {name} "
                f"(the first {min(chosen, MAX_SHOWN)} and a seeded random sample), every "
                f"element of f each, and J·v along one seeded random direction v of {name} "
                f"(the Jacobian times v against a finite difference of f along v); the other "
                f"{size - chosen:,} columns are not checked one by one"
            )
        return "finite differences: " + "; ".join(parts) if parts else ""


def _with_directions(
    entries: jacobian.Entries, sampled: _Sampled, labels: list[str]
) -> jacobian.Entries:
    """The entries the verdict compares: the Jacobian's, and for each
    direction v one more column, J·v by each method against f's finite
    difference along v."""
    if not sampled.directions:
        return entries
    matrices: dict[str, list[np.ndarray]] = {"sympy": [entries.sympy], "fd": [entries.fd]}
    matrices.update(fd_error=[entries.fd_error], clean=[entries.clean])
    reverse = None if entries.reverse is None else [entries.reverse]
    forward = None if entries.forward is None else [entries.forward]
    start, names = 0, list(dict.fromkeys(label.split("[")[0] for label in labels))
    labels = list(labels)
    for name in names:
        width = sum(1 for label in labels if label.split("[")[0] == name)
        if name in sampled.directions:
            v, estimate, error, clean = sampled.directions[name]
            block = slice(start, start + width)
            exact = entries.sympy[:, block] @ v
            matrices["sympy"].append(exact[:, None])
            matrices["fd"].append(estimate[:, None])
            matrices["fd_error"].append(error[:, None])
            decisive = verdict.decisive(estimate, error, exact, 1)
            matrices["clean"].append((clean & decisive)[:, None])
            for found, full in ((reverse, entries.reverse), (forward, entries.forward)):
                if found is not None and full is not None:
                    found.append((full[:, block] @ v)[:, None])
            labels.append(f"d/d{name}·v")
        start += width
    joined = {k: np.concatenate(m, axis=1) for k, m in matrices.items()}
    return jacobian.Entries(
        joined["sympy"],
        None if reverse is None else np.concatenate(reverse, axis=1),
        None if forward is None else np.concatenate(forward, axis=1),
        joined["fd"],
        joined["fd_error"],
        joined["clean"],
        sampled="taken on a sample of the columns, and J·v along a direction: see the note",
        labels=labels,
        directions=len(sampled.directions),
    )
