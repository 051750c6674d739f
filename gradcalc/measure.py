"""What `differentiate` measures at its point: numbers, each by one method.

For every derivative asked for: SymPy's (or SymEngine's) formula evaluated
at the point, torch autograd, and central finite differences of the function
(`derivative`). And the probes that account for what the methods say: the
formula's one-sided limits (a removable singularity's value, a kink of a
derivative, a reference taken on a part's kink: `derivative_kinks`,
`references_by_limits`), the node of torch's backward pass where its NaN
starts (`autograd_whys`), and how far float64 itself reaches at the point
(`float64_noise`). `check` decides what is measured when; nothing here
judges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import limits, numeric, verdict
from .cas import OVERFLOWS
from .formula_text import derivative_text
from .partials import Measured, Partial, shaped
from .verdict import Kink, Methods

if TYPE_CHECKING:
    from .cas import Engine
    from .nantrace import Trace
    from .parsing import Expression
    from .vectors import Vectorized

Component = tuple[tuple[str, int], ...]  # (variable, component) per differentiation
Along = list[tuple[str, int, str]]  # (variable, component, label) per direction probed
# The chain rule's gradient of a very wide product: {variable: (value, why not)}.
Chained = dict[str, tuple[float | None, str | None]]

WIDE_TEXT = "(not built: see the note; --full builds the derivative formula)"
JITTER_TRIALS = 8  # re-runs with one more rounding error per operation


# A named tuple: immutable, and defined at start-up in a quarter of a frozen dataclass's time.
class Site(NamedTuple):
    """The expression at the point, as every method and probe sees it."""

    expr: Expression
    point: dict[str, np.ndarray]
    batch: dict[str, np.ndarray]  # the point as numeric's batch of one
    frozen: dict  # detached sub-expressions' values (numeric.detached_values)
    shapes: dict[str, int | None]
    engine: Engine
    f: Any  # the expression in the engine, summed when vector-valued (None: vectors' path)
    symbols: dict
    subs: dict  # the engine's substitutions for the point
    full: bool  # print whole derivatives, and build the formula of a very wide product
    chained: Chained | None  # derivatives by the chain rule instead of a formula
    vectorized: Vectorized | None  # long vectors take its path

    def components(self, wrt: Sequence[str]) -> list[Component]:
        """(name, component) tuples, one per derivative to take."""
        size = self.shapes[wrt[0]]
        if size is None:
            return [tuple((name, 0) for name in wrt)]
        return [((wrt[0], i),) for i in range(size)]

    def symbol(self, name: str, comp: int) -> Any:
        symbol = self.symbols[name]
        return symbol[comp] if isinstance(symbol, list) else symbol

    def clean(self, name: str, comp: int, offsets: np.ndarray) -> np.ndarray:
        """Which offsets keep every non-smooth sub-expression on its piece."""
        return numeric.same_piece(self.expr, self.batch, name, comp, offsets, self.frozen)

    def label(self, name: str, comp: int) -> str:
        return f"{name}[{comp}]" if self.shapes[name] is not None else name

    def along(self, names: Sequence[str]) -> Along:
        """(name, component, label) for every scalar direction of `names`."""
        return [
            (name, comp, self.label(name, comp))
            for name in names
            for comp in range(self.shapes[name] or 1)
        ]

    def formula(self, component: Component) -> Any:
        """The derivative's formula in the engine."""
        return self.engine.derivative(self.f, tuple(self.symbol(n, c) for n, c in component))


def autograd_values(
    expr: Expression,
    point: dict[str, np.ndarray],
    dtype: str,
    wanted: list[tuple[str, ...]],
    jitter: np.random.Generator | None = None,
) -> list[np.ndarray]:
    """torch's derivatives `wanted`, in float64 arrays."""
    import torch

    from . import autograd

    leaves = autograd.leaves_for(point, dtype)
    output = autograd.scalar_output(autograd.build(expr, leaves, dtype, jitter=jitter))
    grads = autograd.derivatives(output, leaves, wanted)
    # force=True: a second derivative through abs() comes back as a ZeroTensor.
    return [g.to(dtype=torch.float64).numpy(force=True) for g in grads]


def chain_rule(
    engine: Engine, expr: Expression, point: dict[str, np.ndarray], names: list[str]
) -> tuple[Chained | None, str | None]:
    """For a product too wide to expand (see chainrule): the first
    derivatives by the chain rule over the engine's derivative of each
    operation, and the note saying so; (None, None) when the formula is built
    as usual."""
    from . import chainrule

    factors = chainrule.widest_product(expr)
    if factors <= engine.WIDE_FACTORS:
        return None, None
    values, whys = chainrule.gradient(expr, point, names, engine)
    note = (
        f"the derivative formula would hold about {factors**2:,} factors (a product "
        f"of {factors:,} differentiates into one term per factor): instead, "
        f"{engine.NAME} differentiated each operation and the chain rule combined "
        "them in float64; --full builds the formula"
    )
    return {name: (values[name], whys.get(name)) for name in names}, note


# A named tuple: defined at start-up in a quarter of a dataclass's time.
class _Symbolic(NamedTuple):
    """One component of a derivative by the computer algebra system."""

    text: str
    truncated: bool
    value: float | None
    why: str | None  # why `value` is None
    note: str | None = None


def derivative(site: Site, wrt: tuple[str, ...], grad: np.ndarray | None) -> Measured:
    """One derivative by the three methods: finite differences, the formula
    (or the chain rule) component by component, and autograd's `grad`."""
    if site.vectorized is not None:
        return site.vectorized.partial(wrt, grad, site.batch, site.frozen)
    components = site.components(wrt)
    fds = [
        (float(estimate[0]), float(error[0]), bool(clean[0]))
        for estimate, error, clean in numeric.finite_difference(
            site.expr, site.batch, components, site.frozen
        )
    ]
    symbolic = [_symbolic(site, wrt, component) for component in components]
    references = [s.value for s in symbolic]
    autograd = None if grad is None else [float(g) for g in np.ravel(grad)]
    labels = ["d/d" + "".join(site.label(n, c) for n, c in component) for component in components]
    # As the engine (or the chain rule) worded them; not every failure has words.
    whys: dict = {(0, i): s.why for i, s in enumerate(symbolic) if s.value is None}
    methods = Methods(
        labels=labels,
        sympy=np.array([[np.nan if r is None else r for r in references]]),
        autograd=None if autograd is None else np.array([autograd]),
        finite_difference=np.array([[fd for fd, _, _ in fds]]),
        finite_difference_error=np.array([[err for _, err, _ in fds]]),
        sympy_why=whys,
        fd_checked=np.array([[clean for _, _, clean in fds]]),
        order=len(wrt),
    )
    vector = site.shapes[wrt[0]] is not None
    partial = Partial(
        wrt=tuple(wrt),
        symbolic=shaped([s.text for s in symbolic], vector),
        sympy=shaped(references, vector),
        autograd=shaped(autograd if autograd is not None else [None] * len(components), vector),
        finite_difference=shaped([fd for fd, _, _ in fds], vector),
        finite_difference_error=shaped([err for _, err, _ in fds], vector),
        finite_difference_checked=all(clean for _, _, clean in fds),
        agree=True,
        truncated=any(s.truncated for s in symbolic),
    )
    notes = tuple(s.note for s in symbolic if s.note is not None)
    return Measured(partial=partial, methods=methods, notes=notes)


def _symbolic(site: Site, wrt: tuple[str, ...], component: Component) -> _Symbolic:
    if site.chained is not None:
        number, why = site.chained[wrt[0]]
        return _Symbolic(text=WIDE_TEXT, truncated=True, value=number, why=why)
    d = site.formula(component)
    text, truncated = derivative_text(site.engine, d, site.full, len(site.expr.nodes))
    number, why = site.engine.value_at(d, site.subs)
    if number is None and not (why or "").startswith(OVERFLOWS):
        failed = _Symbolic(text=text, truncated=truncated, value=None, why=why)
        return _reference_near(site, d, component, failed)
    return _Symbolic(text=text, truncated=truncated, value=number, why=why)


def _reference_near(site: Site, d: Any, component: Component, failed: _Symbolic) -> _Symbolic:
    """The derivative where its formula fails at the point itself (0/0, 0·∞):
    0 where the function is constant near the point along every variable
    of the derivative; else the one limit the formula reaches from every
    side that converges (a removable singularity). Where there is none,
    `failed`, saying why (it diverges, or cannot tell)."""
    label = "d/d" + "".join(site.label(n, c) for n, c in component)
    why = failed.why
    if all(
        numeric.locally_constant(site.expr, site.batch, n, c, site.frozen) for n, c in component
    ):
        note = (
            f"{label}: SymPy's formula is {why} at the point, but the function is constant "
            "near it along that variable: the derivative is 0"
        )
        return failed._replace(value=0.0, why=None, note=note)
    held = _held_flat(site, component)
    if held is not None:
        number, parts = held
        note = (
            f"{label}: SymPy's formula is {why} at the point, but {parts} is constant near it "
            f"(on a flat piece): with it held at its value there, the derivative is {number:.12g}"
        )
        return failed._replace(value=number, why=None, note=note)
    sides = limits.approach(
        site.engine, d, site.symbols, site.point, site.along(site.expr.variables), site.clean
    )
    limit = _settled(site, d, limits.common_limit(sides))
    if limit is not None:
        note = (
            f"{label}: SymPy's formula is {why} at the point (a removable singularity); "
            f"its limit there, from every side it can be approached, is {limit:.12g}"
        )
        return failed._replace(value=limit, why=None, note=note)
    diverging = limits.diverging(sides)
    if diverging:
        side = diverging[0]
        return failed._replace(
            why=(
                f"infinite: the derivative diverges approaching the point along {side.wrt} "
                f"from the {'right' if side.direction > 0 else 'left'}"
            ),
        )
    return failed


def _held_flat(site: Site, component: Component) -> tuple[float, str] | None:
    """The derivative with the parts of f on a flat piece near the point held
    at their value (flatpieces: sqrt(relu(x)) + abs(x) at -1 is -1), and
    those parts by name; None where there are none or it fails too."""
    from . import flatpieces

    along = list(component)
    parts = flatpieces.flat_parts(site.expr, site.batch, along, site.frozen)
    if not parts or site.vectorized is not None:
        return None
    number = flatpieces.held_reference(site.expr, site.point, site.shapes, along, parts)
    if number is None:
        return None
    return number, ", ".join(dict.fromkeys(node.brief for node in parts))


def _settled(site: Site, formula: Any, limit: float | None) -> float | None:
    """`limit` when probes two steps closer in reach the same one: a limit
    read from probes longer than the formula's own scale (cos(x**-2) near
    0.05 turns over every 1e-4; the first probe is 1e-3 away) is a chance
    value, and the closer probes, inside that scale, give another."""
    if limit is None:
        return None
    closer = limits.approach(
        site.engine,
        formula,
        site.symbols,
        site.point,
        site.along(site.expr.variables),
        site.clean,
        candidates=limits.CANDIDATES[2:],
    )
    again = limits.common_limit(closer)
    if again is None or not verdict.KINK_TOLERANCE.allows(again, limit):
        return None
    return limit


def references_by_limits(site: Site, measured: list[Measured]) -> tuple[list[Measured], list[str]]:
    """Where f is smooth at a point on which a non-smooth part sits, each
    reference its formula's two-sided limit contradicts, replaced by that
    limit (SymPy's formula takes sign(0) = 0 there); and a note for each."""
    out, notes = [], []
    for item in measured:
        replaced: dict[int, float] = {}
        for c, component in enumerate(site.components(item.partial.wrt)):
            sides = limits.approach(
                site.engine,
                site.formula(component),
                site.symbols,
                site.point,
                site.along(site.expr.variables),
                site.clean,
            )
            limit = _settled(site, site.formula(component), limits.common_limit(sides))
            here = item.methods.sympy[0, c]
            if limit is None or (np.isfinite(here) and verdict.KINK_TOLERANCE.allows(limit, here)):
                continue
            notes.append(
                f"{item.methods.labels[c]}: SymPy's formula at the point takes sign(0) = 0 where "
                "a part of the expression sits on its kink; the function is smooth here and the "
                f"formula's limit on every side is {limit:.12g}, the reference"
            )
            replaced[c] = limit
        out.append(_with_references(item, replaced) if replaced else item)
    return out, notes


def _with_references(item: Measured, replaced: dict[int, float]) -> Measured:
    sympy = item.methods.sympy.copy()
    for c, limit in replaced.items():
        sympy[0, c] = limit
    shown = item.partial.sympy
    if isinstance(shown, list):
        shown = [replaced.get(c, value) for c, value in enumerate(shown)]
    else:
        shown = replaced[0]
    return item._replace(
        partial=replace(item.partial, sympy=shown),
        methods=replace(item.methods, sympy=sympy),
    )


def derivative_kinks(
    site: Site, wanted: list[tuple[str, ...]], orders: range, where: str
) -> tuple[list[Kink], set[str]]:
    """Kinks of the derivatives: for each order k in `orders` and each
    derivative of order k on the way to those `wanted`, the variables along
    which its one-sided limits converge to different values (a kink of the
    (k-1)-th derivative; k = 1 is a corner of f). And the variables along
    which a corner was seen a little way off the point rather than at it."""
    found: list[Kink] = []
    seen: set[tuple[str, int]] = set()
    nearby: set[str] = set()
    value = float(numeric.evaluate(site.expr, site.batch, site.frozen).sum())
    for wrt in wanted:
        for k in orders:
            if k > len(wrt):
                continue
            for component in site.components(wrt[:k]):
                corners, off_point = _corners(site, component)
                nearby.update(off_point)
                for label, left, right in corners:
                    if (label, k) not in seen:
                        seen.add((label, k))
                        found.append(
                            Kink(
                                node=where,
                                wrt=label,
                                left=left,
                                right=right,
                                jump=False,
                                left_value=value,
                                right_value=value,
                                value=value,
                                order=k,
                            )
                        )
    return found, nearby


def _corners(site: Site, component: Component) -> tuple[list[tuple[str, float, float]], list[str]]:
    """The corners of one derivative at the point, and the labels of those
    seen only from farther off."""
    d = site.formula(component)
    along = [(n, c, site.label(n, c)) for n, c in dict.fromkeys(component)]
    sides = limits.approach(site.engine, d, site.symbols, site.point, along, site.clean)
    found = limits.corners(sides, verdict.KINK_TOLERANCE)
    if not found:
        return [], []
    # A corner at the point stays at every scale; one a little way off
    # (sqrt((x - c)**2) near c, sqrt(x**2) at 1e-14) is gone at the smallest
    # steps (shorter than |x| itself for a small x).
    closer = limits.approach(
        site.engine, d, site.symbols, site.point, along, site.clean, limits.CLOSEST, True
    )
    kept = {label for label, _, _ in limits.corners(closer, verdict.KINK_TOLERANCE)}
    return (
        [corner for corner in found if corner[0] in kept],
        [label for label, _, _ in found if label not in kept],
    )


def autograd_whys(
    site: Site, values: dict, methods: list[Methods], dtype: str
) -> tuple[list[Methods], list[str]]:
    """Where autograd's number is not finite but SymPy's is, the Methods
    with the words for it: the node of torch's backward pass where the
    gradient stopped being finite (0·∞), and the safe rewrite (nantrace), in
    a note; or the dtype's overflow."""
    from . import nantrace

    out, notes = [], []
    traced: Trace | None = None
    looked = False
    overflow = _torch_overflow(site, values, methods, dtype)
    notes.extend([overflow] if overflow else [])
    for m in methods:
        if m.autograd is None or np.all(np.isfinite(m.autograd)):
            out.append(m)
            continue
        if not looked:
            looked = True
            traced = nantrace.trace(site.expr, values, site.point, dtype)
            if traced is not None:
                notes.append(f"autograd's NaN: {traced.words()}")
        out.append(replace(m, autograd_why=_autograd_why(m, m.autograd, traced, dtype)))
    return out, notes


def _torch_overflow(site: Site, values: dict, methods: list[Methods], dtype: str) -> str | None:
    """Where autograd is off and torch's own forward pass leaves the dtype's
    range at a node whose value is finite (norm(x) at 1e200: torch's
    sqrt(sum(x*x)) squares past 1.3e154), the note naming that node; the
    gradient through an infinity is not the derivative."""
    off = [
        m
        for m in methods
        if m.autograd is not None
        and np.any(np.isfinite(m.sympy) & ~np.isclose(m.autograd, m.sympy, rtol=1e-6, atol=0))
    ]
    if not off:
        return None
    from . import autograd

    leaves = autograd.leaves_for(site.point, dtype)
    forward = autograd.build(site.expr, leaves, dtype, keep=True)
    for node in site.expr.nodes:
        mine = forward.get(id(node))
        if mine is None or id(node) not in values:
            continue
        torch_value = mine.detach().double().numpy(force=True)
        numpy_value = np.asarray(values[id(node)], dtype=np.float64)
        if not np.all(np.isfinite(torch_value)) and np.all(np.isfinite(numpy_value)):
            shown = float(np.reshape(numpy_value, -1)[0])
            return (
                f"autograd: torch's {dtype} overflows at {node.brief} (its forward value there "
                f"is not finite, while the function's is {shown:.6g}): the gradient through it "
                "is not the derivative"
            )
    return None


def _autograd_why(
    m: Methods, autograd: np.ndarray, traced: Trace | None, dtype: str
) -> dict[tuple[int, int], str]:
    if traced is not None:
        words = (
            f"torch's backward pass meets {traced.pattern} at {traced.node}, though the "
            "function and its derivative are finite here (autograd's own NaN, not the "
            "function's; see the note for the safe form)"
        )
    else:
        words = (
            "torch's backward pass met 0·∞ or ∞−∞ among its intermediate derivatives, "
            "though the function and its derivative are finite here (autograd's own NaN, "
            "not the function's)"
        )
    bad = ~np.isfinite(autograd) & np.isfinite(m.sympy)
    whys = {(p, c): words for p, c in zip(*np.nonzero(bad))}
    # An infinity where the derivative itself is past the dtype's largest
    # number (exp(x) at 100 in float32: 2.7e43 > 3.4e38) is an overflow.
    largest = float(np.finfo(dtype).max)
    for p, c in zip(*np.nonzero(bad & np.isinf(autograd) & (np.abs(m.sympy) > largest))):
        whys[(p, c)] = (
            f"the derivative, {m.sympy[p, c]:.4g}, is beyond {dtype}'s range "
            f"(its largest number is {largest:.4g}): torch's {dtype} overflows"
        )
    return whys


def float64_noise(
    site: Site,
    methods: list[Methods],
    wanted: list[tuple[str, ...]],
    dtype: str,
    autograd: bool,
) -> list[dict[tuple[int, int, str], float]]:
    """For each Methods, how far autograd's and the finite differences' own
    values move when every operation makes one more rounding error
    (numeric.evaluate's and autograd.build's `jitter`, seeded: the words are
    reproducible): float64's reach at this point. A disagreement within it
    is float64's limit, and `verdict.problems` says so."""
    rng = np.random.default_rng(0)
    components = [tuple((n, 0) for n in w) for w in wanted]
    spread: dict[tuple[int, str], float] = {}

    def widen(i: int, method: str, moved: float) -> None:
        spread[(i, method)] = max(spread.get((i, method), 0.0), moved)

    for _ in range(JITTER_TRIALS):
        fds = numeric.finite_difference(site.expr, site.batch, components, site.frozen, jitter=rng)
        for i, m in enumerate(methods):
            widen(i, "finite differences", abs(float(fds[i][0][0]) - m.finite_difference[0, 0]))
        if autograd:
            grads = autograd_values(site.expr, site.point, dtype, wanted, jitter=rng)
            for i, m in enumerate(methods):
                if m.autograd is not None:
                    widen(i, "autograd", abs(float(np.ravel(grads[i])[0]) - m.autograd[0, 0]))
    return [
        {(0, 0, method): value for (j, method), value in spread.items() if j == i}
        for i in range(len(methods))
    ]


__all__ = [
    "JITTER_TRIALS",
    "WIDE_TEXT",
    "Site",
    "autograd_values",
    "autograd_whys",
    "chain_rule",
    "derivative",
    "derivative_kinks",
    "float64_noise",
    "references_by_limits",
]
