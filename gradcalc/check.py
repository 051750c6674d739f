"""`differentiate`: the three methods at one point, and a verdict.

1. SymPy: the symbolic derivative of the parsed tree, evaluated with evalf.
2. torch autograd on a graph built from the same tree.
3. Central finite differences of the numpy-evaluated function.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import limits, numeric, points, vectors, verdict
from .cas import OVERFLOWS
from .errors import DomainError, UsageError
from .functions import TABLE
from .parsing import Expression, parse
from .verdict import Kink, Status, checked_dtype

if TYPE_CHECKING:
    from .jacobian import Jacobian

MAX_ORDER = 4


@dataclass
class Partial:
    """One derivative: d^order f / d wrt[0] ... d wrt[-1]. For a vector
    variable (order 1) each value is a list over its components."""

    wrt: tuple[str, ...]
    symbolic: str | list[str]
    sympy: float | list[float | None] | None  # None: not a finite real (see problems)
    autograd: float | list[float | None] | None  # None: not run (--no-autograd)
    finite_difference: float | list[float]
    finite_difference_error: float | list[float]
    agree: bool
    problems: list[str] = field(default_factory=list)  # words, when not agree
    truncated: bool = False  # `symbolic` shows only the leading terms
    finite_difference_checked: bool = True  # False: no clean step (see numeric)

    @property
    def order(self) -> int:
        return len(self.wrt)


@dataclass
class Result:
    expression: str
    variables: list[str]
    wrt: list[str]
    point: dict[str, np.ndarray]
    dtype: str
    order: int
    value: float | list[float]  # a list for a vector-valued expression
    partials: list[Partial]
    kinks: list[Kink]
    status: str  # one of verdict.STATUSES
    reason: str
    notes: list[str]
    tree: Expression | None = None
    hessian: Any = None  # hessian.Hessian for --order 2 over scalar variables
    engine: str = "sympy"  # or "symengine": which computer algebra system differentiated
    chain_rule: bool = False  # its value came from chainrule (a very wide product)
    elementwise: bool = False  # its value came from vectors (a long vector, float64)

    @property
    def agree(self) -> bool:
        return self.status == Status.AGREE

    @property
    def differentiable(self) -> bool:
        """False at a kink or jump, and where the derivative is infinite."""
        return self.status not in (Status.KINK, Status.UNDEFINED)


def _point_text(point: dict) -> str:
    return ", ".join(f"{k}={points.as_json({k: v})[k]}" for k, v in point.items())


def _as_point(at, variables) -> dict:
    return points.point(at, variables)


def validate(expr: Expression, wrt, order: int, dtype: str) -> list:
    """The options every driver (one point, many points) checks alike; returns
    the variables to differentiate by."""
    checked_dtype(dtype)
    if not 1 <= order <= MAX_ORDER:
        raise UsageError(f"must be between 1 and {MAX_ORDER}, not {order}", option="order")
    return _validate_wrt(wrt, expr)


def _validate_wrt(wrt, expr: Expression) -> list:
    if not expr.variables:
        raise UsageError(f"{expr.source!r} has no variables: there is nothing to differentiate")
    if not wrt:
        return list(expr.variables)
    names = []
    for item in wrt:
        for name in str(item).split(","):
            name = name.strip()
            if name not in expr.variables:
                raise UsageError(
                    f"{name!r} is not a variable of the expression "
                    f"(its variables: {', '.join(expr.variables)})",
                    option="wrt",
                )
            if name not in names:
                names.append(name)
    return names


def _undefined_message(node, values, point) -> str:
    value = np.asarray(values[id(node)]).reshape(-1)
    bad = value[~np.isfinite(value)][0]
    if node.op == "num":
        return f"the number {node.brief} is too large for float64"
    for arg in node.args:
        if _underflowed(arg, values):
            return (
                f"{node.brief} cannot be evaluated in float64 at {_point_text(point)}: "
                f"{arg.brief} is not 0 there, but below float64's smallest number "
                "(4.9e-324) it rounds to 0"
            )
    func = TABLE[node.op]
    if np.isnan(bad):
        # The table's domain in this call's own terms: asin(2*x) is defined
        # for -1 <= 2*x <= 1 (not "for -1 <= x <= 1", x being a variable here).
        if node.op == "pow":  # its domain reads best in its own letters
            base, exponent = (arg.brief for arg in node.args)
            why = (
                f"is undefined (a**b is defined for {func.domain}; here a = {base}, b = {exponent})"
            )
        else:
            spelling = func.name if func.operator is None else node.brief
            why = f"is undefined ({spelling} is defined for {_domain_of(node, func)})"
    elif node.op == "div":
        why = "is infinite (division by zero)"
    elif func.name.startswith("log"):
        why = "is infinite (the logarithm of 0)"
    elif node.op == "pow" and np.any(np.asarray(values[id(node.args[0])]) == 0):
        why = "is infinite (0 to a negative power)"
    else:
        why = "is infinite (beyond float64's range, or a pole)"
    return f"{node.brief} {why} at {_point_text(point)}"


def _underflowed(node, values) -> bool:
    """The node is 0 in float64 where it cannot be 0: a product, quotient or
    power of numbers that are not 0, or an exponential (x**2 at 1e-200)."""
    if node.op not in ("mul", "div", "pow", "exp") or np.any(np.asarray(values[id(node)]) != 0):
        return False
    inputs = [np.asarray(values[id(a)]) for a in node.args]
    nonzero = {"mul": inputs, "div": inputs[:1], "pow": inputs[:1], "exp": []}[node.op]
    return all(np.all((v != 0) & np.isfinite(v)) for v in nonzero)


_DOMAIN_NAMES = {"div": ("a", "b"), "atan2": ("y", "x"), "log": ("x", "b")}


def _domain_of(node, func) -> str:
    names = _DOMAIN_NAMES.get(node.op, ("x",))
    texts = {name: arg.brief for name, arg in zip(names, node.args)}
    return re.sub(r"\b[abxy]\b", lambda m: texts.get(m.group(), m.group()), func.domain)


MAX_SYMBOLIC = 4000  # characters of a derivative's text shown without `full`
PRINTABLE_NODES = 3000  # a derivative this small is printed whole, cheaply
UNPRINTED_TREE = 2000  # past this many operations the derivative is not printed without `full`


def _size_at_least(f, limit: int) -> int:
    """Nodes of f, counted up to `limit` (bounded work however large f is)."""
    count, stack = 0, [f]
    while stack and count < limit:
        node = stack.pop()
        count += 1
        stack.extend(node.args)
    return count


def derivative_text(engine, d, full: bool, tree_nodes: int = 0):
    """(text, truncated): the derivative printed whole when it is small or
    `full`; otherwise its leading terms, printed one at a time, and a count of
    the rest — printing all of a huge derivative takes longer than computing it
    (and past UNPRINTED_TREE operations even listing its terms does)."""
    if not full and tree_nodes > UNPRINTED_TREE:
        return (
            f"(not printed: the expression has {tree_nodes} operations; "
            "--full prints its derivative)"
        ), True
    if full or _size_at_least(d, PRINTABLE_NODES) < PRINTABLE_NODES:
        text = engine.text(d)
        if full or len(text) <= MAX_SYMBOLIC:
            return text, False
        return text[:MAX_SYMBOLIC] + " …", True
    joiner = {"Add": " + ", "Mul": "*"}.get(type(d).__name__)
    if joiner is None or not d.args:
        return engine.text(d)[:MAX_SYMBOLIC] + " …", True
    shown: list[str] = []
    length = 0
    show = engine.printer()  # the terms share sub-expressions (softmax's sum)
    for term in d.args:
        if _size_at_least(term, PRINTABLE_NODES) >= PRINTABLE_NODES:
            piece = show(term)[: MAX_SYMBOLIC // 4] + "…"
        else:
            piece = show(term)
        if shown and length + len(piece) > MAX_SYMBOLIC:
            break
        shown.append(f"({piece})" if joiner == "*" and len(term.args) > 1 else piece)
        length += len(piece)
    rest = len(d.args) - len(shown)
    return joiner.join(shown) + f"{joiner}… ({rest} more terms; --full shows all)", True


def differentiate(
    expression,
    at=None,
    wrt=None,
    order: int = 1,
    dtype: str = "float64",
    full: bool = False,
    autograd: bool = True,
) -> Result | Jacobian:
    """Differentiate `expression` at the point `at` three ways and compare.

    `at` is a dict {name: number or list} or a list of `--at` strings.
    Raises ParseError/PointError/UsageError for bad input and DomainError
    when the function itself is undefined at the point. With autograd=False
    torch is never imported (symbolic and finite differences only), and
    SymEngine is preferred wherever it can differentiate.
    """
    expr = expression if isinstance(expression, Expression) else parse(expression)
    names = validate(expr, wrt, order, dtype)
    point = _as_point(at, expr.variables)
    shapes = points.shapes(point)
    if order > 1 and any(shapes[n] is not None for n in names):
        raise UsageError(
            "above 1 needs scalar variables (vector variables: order 1)", option="order"
        )

    batch = numeric.as_batch(point)
    node, values = numeric.first_undefined(expr, batch)
    if node is not None:
        raise DomainError(_undefined_message(node, values, point))

    from . import cas

    # Long vectors: one symbol per vector, evaluated over arrays (see vectors).
    elementwise = vectors.applies(expr, shapes, order)
    symbolic = cas.sympy() if elementwise else cas.choose(expr, any_size=not autograd)
    notes = []
    if symbolic.ENGINE == "symengine":
        notes.append("SymEngine differentiated it and evaluated the derivative in float64")
    vectorized = vectors.Vectorized(expr, point, notes) if elementwise else None
    if vectorized is not None:
        symbols, f_scalar, subs, value = {}, None, {}, vectorized.value()
    else:
        symbols = symbolic.symbols_for(expr.variables, shapes)
        f = symbolic.build(expr, symbols)
        if isinstance(f, list) and order == 1:
            from . import jacobian

            subs = symbolic.substitutions(symbols, point)
            value = _sympy_value(symbolic, f, subs, expr, point)
            return jacobian.compute(
                symbolic, expr, f, symbols, subs, point, names, shapes, dtype, autograd, value,
                notes,
            )  # fmt: skip
        if isinstance(f, list):
            notes.append(
                "the expression is vector-valued; its derivatives of order 2 and more are of "
                "the sum of its elements, as torch's y.backward(torch.ones_like(y))"
            )
        f_scalar = sum(f[1:], f[0]) if isinstance(f, list) else f
        subs = symbolic.substitutions(symbols, point)
        value = _sympy_value(symbolic, f, subs, expr, point)

    if order == 1:
        wanted = [(name,) for name in names]
    else:
        wanted = list(itertools.combinations_with_replacement(names, order))
    if autograd:
        autograd_values = _autograd(expr, point, dtype, wanted)
    else:
        autograd_values = [None] * len(wanted)
        notes.append(verdict.AUTOGRAD_SKIPPED)
    frozen = numeric.detached_values(expr, batch)
    chained = _chained(symbolic, expr, point, names, shapes, order, full, notes)
    at = _At(symbolic, expr, f_scalar, symbols, subs, point, batch, frozen, shapes, full, chained)
    at.vectors = vectorized
    measured = [_partial(at, w, grad, notes) for w, grad in zip(wanted, autograd_values)]
    methods = [m for _, m in measured]
    if autograd:
        _explain_autograd(at, values, methods, dtype, notes)
    checks = [verdict.compare(m, dtype, order) for m in methods]
    kinks = numeric.find_kinks(expr, batch, values, frozen, names, shapes).get(0, [])
    suspects = ", ".join(n.brief for n, _ in numeric.nodes_at_kink(expr, values))
    if suspects and order > 1 and not kinks and chained is None:
        # f is smooth to first order here; a derivative of f may not be.
        kinks = _derivative_kinks(at, wanted, range(2, order + 1), suspects)
    # Smooth here although a part of it sits on its kink (cos(abs(x)) at 0):
    # SymPy's formula at the point uses sign(0) = 0; its two-sided limit is
    # the derivative.
    smooth_here = suspects and not kinks and chained is None and vectorized is None
    if smooth_here and _reference_by_limits(at, measured, notes):
        checks = [verdict.compare(m, dtype, order) for m in methods]
    code = verdict.judge(checks, np.array([bool(kinks)]), np.array([False]))[0]
    if code in (verdict.UNDEFINED, verdict.DISAGREE) and chained is None and vectorized is None:
        # Methods at odds: perhaps a kink no table entry announces (sqrt(x**2)
        # at 0), found where the derivative's one-sided limits differ.
        nearby: set = set()
        hidden = _derivative_kinks(
            at, wanted, range(1, order + 1), suspects or "the expression", nearby
        )
        if hidden:
            kinks = hidden
            code = verdict.judge(checks, np.array([True]), np.array([False]))[0]
        elif nearby:
            # A kink a little way off (closer than the steps): the finite
            # differences straddle it, so they check nothing here.
            for m in methods:
                for c, label in enumerate(m.labels):
                    if any(name in label[3:] for name in nearby) and m.fd_checked is not None:
                        m.fd_checked[0, c] = False
            checks = [verdict.compare(m, dtype, order) for m in methods]
            code = verdict.judge(checks, np.array([False]), np.array([False]))[0]
    if code in (verdict.UNDEFINED, verdict.DISAGREE) and vectorized is not None:
        # A long vector: a kink no table entry announces (sqrt(sum(x**2)) at
        # 0, sum(sqrt(x**2))), probed on f itself along the components nearest 0.
        found = numeric.find_kinks(expr, batch, values, frozen, names, shapes, anywhere=True)
        if found.get(0):
            kinks = found[0]
            code = verdict.judge(checks, np.array([True]), np.array([False]))[0]
    if code == verdict.DISAGREE and suspects:
        for m in methods:
            m.autograd_convention = suspects
    if code == verdict.DISAGREE and all(s is None for s in shapes.values()):
        _float64_noise(at, methods, wanted, dtype, autograd)
    if code == verdict.UNDEFINED:  # a safe rewrite cannot help a derivative that diverges
        notes[:] = [n for n in notes if not n.startswith("autograd's NaN")]
    reason = verdict.reason(code, 0, methods, checks, kinks, autograd)
    partials = []
    for (partial, m), check in zip(measured, checks):
        partial.agree = bool(np.all(check.agree))
        if m.fd_unresolved is not None and m.fd_unresolved.any():  # taken, but decided nothing
            partial.finite_difference_checked = False
        partial.problems = [words for _, words in verdict.problems(m, check, 0)]
        partials.append(partial)
    status = verdict.STATUSES[code]
    hessian = None
    if order == 2 and chained is None:
        from .hessian import classify

        gradient = [
            at.engine.value_at(at.engine.derivative(f_scalar, (at.symbol(n, 0),)), subs)[0]
            for n in names
        ]
        hessian = classify(names, partials, gradient)
    return Result(
        expression=expr.source,
        variables=list(expr.variables),
        wrt=names,
        point=point,
        dtype=dtype,
        order=order,
        value=value,
        partials=partials,
        kinks=kinks,
        status=status,
        reason=reason,
        notes=notes,
        tree=expr,
        hessian=hessian,
        engine=symbolic.ENGINE,
        chain_rule=chained is not None,
        elementwise=vectorized is not None,
    )


def _chained(symbolic, expr, point, names, shapes, order, full, notes):
    """For a product too wide to expand (see chainrule): {name: (value, why)}
    by the chain rule over the computer algebra system's derivative of each
    operation, or None when the derivative formula is built as usual (first
    derivatives of scalar variables only)."""
    from . import chainrule

    if order > 1 or full or any(shape is not None for shape in shapes.values()):
        return None
    factors = chainrule.widest_product(expr)
    if factors <= symbolic.WIDE_FACTORS:
        return None
    values, whys = chainrule.gradient(expr, point, names, symbolic)
    notes.append(
        f"the derivative formula would hold about {factors**2:,} factors (a product "
        f"of {factors:,} differentiates into one term per factor): instead, "
        f"{symbolic.NAME} differentiated each operation and the chain rule combined "
        "them in float64; --full builds the formula"
    )
    return {name: (values[name], whys.get(name)) for name in names}


WIDE_TEXT = "(not built: see the note; --full builds the derivative formula)"


def _sympy_value(symbolic, f, subs, expr, point):
    items = f if isinstance(f, list) else [f]
    out = []
    for item in items:
        number, why = symbolic.value_at(item, subs)
        if number is None:
            raise DomainError(f"{expr.source} is {why} at {_point_text(point)}")
        out.append(number)
    return out if isinstance(f, list) else out[0]


def _autograd(expr, point, dtype, wanted, jitter=None):
    import torch

    from . import autograd

    leaves = autograd.leaves_for(point, dtype)
    output = autograd.scalar_output(autograd.build(expr, leaves, dtype, jitter=jitter))
    grads = autograd.derivatives(output, leaves, wanted)
    # force=True: a second derivative through abs() comes back as a ZeroTensor.
    return [g.to(dtype=torch.float64).numpy(force=True) for g in grads]


JITTER_TRIALS = 8  # re-runs with one more rounding error per operation


def _float64_noise(at, methods, wanted, dtype, autograd: bool) -> None:
    """How far autograd's and the finite differences' own values move when
    every operation makes one more rounding error (numeric.evaluate's and
    autograd.build's `jitter`, seeded: the words are reproducible): float64's
    reach at this point. A disagreement within it is float64's limit, and
    `verdict.problems` says so."""
    rng = np.random.default_rng(0)
    components = [tuple((n, 0) for n in w) for w in wanted]
    spread: dict = {}
    for _ in range(JITTER_TRIALS):
        fds = numeric.finite_difference(at.expr, at.batch, components, at.frozen, jitter=rng)
        for i, m in enumerate(methods):
            moved = abs(float(fds[i][0][0]) - m.finite_difference[0, 0])
            key = (i, "finite differences")
            spread[key] = max(spread.get(key, 0.0), moved)
        if autograd:
            grads = _autograd(at.expr, at.point, dtype, wanted, jitter=rng)
            for i, m in enumerate(methods):
                if m.autograd is not None:
                    moved = abs(float(np.ravel(grads[i])[0]) - m.autograd[0, 0])
                    key = (i, "autograd")
                    spread[key] = max(spread.get(key, 0.0), moved)
    for i, m in enumerate(methods):
        m.float64_noise = {(0, 0, method): value for (j, method), value in spread.items() if j == i}


@dataclass
class _At:
    """Everything the per-derivative steps share about the point."""

    engine: Any  # a cas.Engine
    expr: Expression
    f: Any  # the expression in the engine (summed when vector-valued)
    symbols: dict
    subs: dict
    point: dict
    batch: dict
    frozen: dict
    shapes: dict
    full: bool
    chained: dict | None
    vectors: Any = None  # a vectors.Vectorized: long vectors take its path

    def components(self, wrt) -> list:
        """(name, component) tuples, one per derivative to take."""
        if self.shapes[wrt[0]] is None:
            return [tuple((name, 0) for name in wrt)]
        return [((wrt[0], i),) for i in range(self.shapes[wrt[0]])]

    def symbol(self, name, comp):
        symbol = self.symbols[name]
        return symbol[comp] if isinstance(symbol, list) else symbol

    def clean(self, name, comp, offsets):
        """Which offsets keep every non-smooth sub-expression on its piece."""
        return numeric.same_piece(self.expr, self.batch, name, comp, offsets, self.frozen)

    def label(self, name, comp) -> str:
        return f"{name}[{comp}]" if self.shapes[name] is not None else name


def _partial(at: _At, wrt, grad, notes: list):
    """One derivative by the three methods: the Partial to show, and the
    Methods (arrays of shape (1, components)) for the verdict."""
    if at.vectors is not None:
        return at.vectors.partial(at, wrt, grad, notes)
    components = at.components(wrt)
    fds = [
        (float(estimate[0]), float(error[0]), bool(clean[0]))
        for estimate, error, clean in numeric.finite_difference(
            at.expr, at.batch, components, at.frozen
        )
    ]
    texts, references, whys, any_truncated = [], [], {}, False
    for i, component in enumerate(components):
        if at.chained is not None:
            text, truncated = WIDE_TEXT, True
            number, why = at.chained[wrt[0]]
        else:
            d = at.engine.derivative(at.f, tuple(at.symbol(n, c) for n, c in component))
            text, truncated = derivative_text(at.engine, d, at.full, len(at.expr.nodes))
            number, why = at.engine.value_at(d, at.subs)
            if number is None and not (why or "").startswith(OVERFLOWS):
                number, why = _reference_near(at, d, component, why, notes)
        texts.append(text)
        any_truncated = any_truncated or truncated
        references.append(number)
        if number is None:
            whys[(0, i)] = why
    autograd = None if grad is None else [float(g) for g in np.ravel(grad)]
    labels = ["d/d" + "".join(at.label(n, c) for n, c in component) for component in components]
    methods = verdict.Methods(
        labels=labels,
        sympy=np.array([[np.nan if r is None else r for r in references]]),
        autograd=None if autograd is None else np.array([autograd]),
        finite_difference=np.array([[fd for fd, _, _ in fds]]),
        finite_difference_error=np.array([[err for _, err, _ in fds]]),
        sympy_why=whys,
        fd_checked=np.array([[clean for _, _, clean in fds]]),
        order=len(wrt),
    )
    vector = at.shapes[wrt[0]] is not None

    def shaped(items):
        return list(items) if vector else items[0]

    partial = Partial(
        wrt=tuple(wrt),
        symbolic=shaped(texts),
        sympy=shaped(references),
        autograd=shaped(autograd if autograd is not None else [None] * len(components)),
        finite_difference=shaped([fd for fd, _, _ in fds]),
        finite_difference_error=shaped([err for _, err, _ in fds]),
        finite_difference_checked=all(clean for _, _, clean in fds),
        agree=True,
        truncated=any_truncated,
    )
    return partial, methods


def _along(at: _At, names) -> list:
    """(name, component, label) for every scalar direction of `names`."""
    return [
        (name, comp, at.label(name, comp)) for name in names for comp in range(at.shapes[name] or 1)
    ]


def _reference_near(at: _At, d, component, why: str, notes: list):
    """The derivative where its formula fails at the point itself (0/0, 0·∞):
    0 where the function is constant near the point along every variable
    of the derivative; else the one limit the formula reaches from every
    side that converges (a removable singularity). (value, why) as value_at;
    the value None says why there is none (it diverges, or cannot tell)."""
    label = "d/d" + "".join(at.label(n, c) for n, c in component)
    if all(numeric.locally_constant(at.expr, at.batch, n, c, at.frozen) for n, c in component):
        notes.append(
            f"{label}: SymPy's formula is {why} at the point, but the function is constant "
            "near it along that variable: the derivative is 0"
        )
        return 0.0, None
    sides = limits.approach(
        at.engine, d, at.symbols, at.point, _along(at, at.expr.variables), at.clean
    )
    limit = limits.common_limit(sides)
    if limit is not None:
        notes.append(
            f"{label}: SymPy's formula is {why} at the point (a removable singularity); "
            f"its limit there, from every side it can be approached, is {limit:.12g}"
        )
        return limit, None
    diverging = limits.diverging(sides)
    if diverging:
        side = diverging[0]
        return None, (
            f"infinite: the derivative diverges approaching the point along {side.wrt} "
            f"from the {'right' if side.direction > 0 else 'left'}"
        )
    return None, why


def _reference_by_limits(at: _At, measured, notes: list) -> bool:
    """Where f is smooth at a point on which a non-smooth part sits, replace
    each reference that its formula's two-sided limit contradicts; True if
    any was replaced."""
    changed = False
    for partial, methods in measured:
        components = at.components(partial.wrt)
        for c, component in enumerate(components):
            d = at.engine.derivative(at.f, tuple(at.symbol(n, k) for n, k in component))
            sides = limits.approach(
                at.engine, d, at.symbols, at.point, _along(at, at.expr.variables), at.clean
            )
            limit = limits.common_limit(sides)
            here = methods.sympy[0, c]
            if limit is None or (np.isfinite(here) and verdict.KINK_TOLERANCE.allows(limit, here)):
                continue
            label = methods.labels[c]
            notes.append(
                f"{label}: SymPy's formula at the point takes sign(0) = 0 where a part of the "
                f"expression sits on its kink; the function is smooth here and the formula's "
                f"limit on every side is {limit:.12g}, the reference"
            )
            methods.sympy[0, c] = limit
            if isinstance(partial.sympy, list):
                partial.sympy[c] = limit
            else:
                partial.sympy = limit
            changed = True
    return changed


def _derivative_kinks(at: _At, wanted, orders, where: str, nearby: set | None = None) -> list:
    """Kinks of the derivatives: for each order k in `orders` and each
    derivative of order k on the way to those `wanted`, the variables along
    which its one-sided limits converge to different values (a kink of the
    (k-1)-th derivative; k = 1 is a corner of f)."""
    found, seen = [], set()
    value = float(numeric.evaluate(at.expr, at.batch, at.frozen).sum())
    for wrt in wanted:
        for k in orders:
            if k > len(wrt):
                continue
            for component in at.components(wrt[:k]):
                d = at.engine.derivative(at.f, tuple(at.symbol(n, c) for n, c in component))
                along = [(n, c, at.label(n, c)) for n, c in dict.fromkeys(component)]
                sides = limits.approach(at.engine, d, at.symbols, at.point, along, at.clean)
                found_here = limits.corners(sides, verdict.KINK_TOLERANCE)
                if found_here:
                    # A corner at the point stays at every scale; one a little way
                    # off (sqrt((x - c)**2) near c, sqrt(x**2) at 1e-14) is gone
                    # at the smallest steps (shorter than |x| itself for a small x).
                    closer = limits.approach(
                        at.engine, d, at.symbols, at.point, along, at.clean, limits.CLOSEST, True
                    )
                    kept = {label for label, _, _ in limits.corners(closer, verdict.KINK_TOLERANCE)}
                    if nearby is not None:
                        nearby.update(label for label, _, _ in found_here if label not in kept)
                    found_here = [corner for corner in found_here if corner[0] in kept]
                for label, left, right in found_here:
                    if (label, k) not in seen:
                        seen.add((label, k))
                        found.append(Kink(where, label, left, right, False, value, value, value, k))
    return found


def _explain_autograd(at: _At, values: dict, methods: list, dtype: str, notes: list) -> None:
    """Where autograd's number is not finite but SymPy's is, name the node of
    torch's backward pass where the gradient stopped being finite (0·∞), and
    the safe rewrite (nantrace)."""
    from . import nantrace

    traced: nantrace.Trace | None = None
    looked = False
    for m in methods:
        if m.autograd is None:
            continue
        if np.all(np.isfinite(m.autograd)):
            continue
        if not looked:
            looked = True
            traced = nantrace.trace(at.expr, values, at.point, dtype)
            if traced is not None:
                notes.append(f"autograd's NaN: {traced.words()}")
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
        bad = ~np.isfinite(m.autograd) & np.isfinite(m.sympy)
        m.autograd_why = {(p, c): words for p, c in zip(*np.nonzero(bad))}
        # An infinity where the derivative itself is past the dtype's largest
        # number (exp(x) at 100 in float32: 2.7e43 > 3.4e38) is an overflow.
        largest = float(np.finfo(dtype).max)
        for p, c in zip(*np.nonzero(bad & np.isinf(m.autograd) & (np.abs(m.sympy) > largest))):
            m.autograd_why[(p, c)] = (
                f"the derivative, {m.sympy[p, c]:.4g}, is beyond {dtype}'s range "
                f"(its largest number is {largest:.4g}): torch's {dtype} overflows"
            )


__all__ = ["Kink", "Partial", "Result", "differentiate"]
