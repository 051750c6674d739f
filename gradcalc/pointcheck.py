"""`differentiate`: the three methods at one point, and a verdict.

1. SymPy: the symbolic derivative of the parsed tree, evaluated with evalf.
2. torch autograd on a graph built from the same tree.
3. Central finite differences of the numpy-evaluated function.

It runs in three stages, each once: measure (every derivative by the three
methods, and the kinks at the point; the numbers come from measure.py) →
compare (each method against SymPy's reference; where they are at odds, the
kink that explains it) → judge (verdict.judge's status, and its words).
Records (named tuples: immutable, and four times cheaper to define than a
frozen dataclass, which matters at start-up) carry what one stage hands the
next.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import atpoint, finite, measure, numeric, verdict
from .errors import DomainError, UsageError
from .finite import point_text as _point_text
from .measure import Site
from .parsing import Expression, as_expression
from .partials import Measured, Partial
from .verdict import Checks, Kink, Methods, Status, checked_dtype

if TYPE_CHECKING:
    from .cas import Engine
    from .jacobian import Jacobian
    from .vectors import Vectorized

MAX_ORDER = 4


@dataclass(frozen=True)
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


def validate(expr: Expression, wrt: Iterable[str] | None, order: int, dtype: str) -> list[str]:
    """The options every driver (one point, many points) checks alike; returns
    the variables to differentiate by."""
    checked_dtype(dtype)
    if isinstance(order, bool) or not hasattr(order, "__index__"):  # the API's: 1.5, "2"
        raise UsageError(f"must be a whole number, not {order!r}", option="order")
    if not 1 <= order <= MAX_ORDER:
        raise UsageError(f"must be between 1 and {MAX_ORDER}, not {order}", option="order")
    return variables_asked(wrt, expr)


def variables_asked(wrt: Iterable[str] | None, expr: Expression) -> list[str]:
    """The variables `wrt` names (comma-separated or repeated), each once, in
    order; all of the expression's when None. A name that is not a variable
    is a UsageError for --wrt."""
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


class Question(NamedTuple):
    """What `differentiate` was asked, resolved: every stage reads it."""

    expr: Expression
    names: list[str]  # the variables to differentiate by
    point: dict[str, np.ndarray]
    shapes: dict[str, int | None]
    batch: dict[str, np.ndarray]  # the point as numeric's batch of one
    node_values: dict  # every node's value at the point (numeric.first_undefined)
    order: int
    dtype: str
    full: bool
    autograd: bool

    @property
    def wanted(self) -> list[tuple[str, ...]]:
        """The derivatives to take, each as the variables it is taken by."""
        if self.order == 1:
            return [(name,) for name in self.names]
        return list(itertools.combinations_with_replacement(self.names, self.order))


class Formula(NamedTuple):
    """The expression in the computer algebra system, and its value there."""

    engine: Engine
    f: Any  # summed when vector-valued; None on vectors' path
    symbols: dict
    subs: dict  # the engine's substitutions for the point
    value: float | list[float]
    vectorized: Vectorized | None  # long vectors: their elementwise form instead
    notes: tuple[str, ...]


class Measurements(NamedTuple):
    """Stage 1: every derivative by the three methods, and the kinks at the point."""

    site: Site
    derivatives: tuple[Measured, ...]  # in the order of Question.wanted
    kinks: list[Kink]
    suspects: str  # the non-smooth parts sitting on their kink ("abs(x), relu(y)"), or ""
    notes: tuple[str, ...]


class Comparison(NamedTuple):
    """Stage 2: each derivative's methods against SymPy, and the kinks found."""

    checks: tuple[Checks, ...]  # one per derivative
    kinks: list[Kink]  # at the point, or where the methods' disagreement led


class Judgement(NamedTuple):
    """Stage 3: the status and its words, and each derivative as reported."""

    status: str
    reason: str
    partials: list[Partial]
    notes: tuple[str, ...]


def differentiate(
    expression: str | Expression,
    at: Any = None,
    wrt: Iterable[str] | None = None,
    order: int = 1,
    dtype: str = "float64",
    full: bool = False,
    autograd: bool = True,
) -> Result | Jacobian:
    """Differentiate `expression` at the point `at` three ways and compare.

    `at` is anything `atpoint.point` takes: a Point, a number (one variable),
    a dict of numbers or arrays by name, `--at` text or a list of it.
    Raises ParseError/PointError/UsageError for bad input and DomainError
    when the function itself is undefined at the point. With autograd=False
    torch is never imported (symbolic and finite differences only), and
    SymEngine is preferred wherever it can differentiate.
    """
    expr = as_expression(expression)
    names = validate(expr, wrt, order, dtype)
    point = atpoint.point(at, expr.variables)
    shapes = atpoint.shapes(point)
    if order > 1 and any(shapes[n] is not None for n in names):
        raise UsageError(
            "above 1 needs scalar variables (vector variables: order 1)", option="order"
        )

    batch = numeric.as_batch(point)
    values = finite.values_at(expr, point)

    question = Question(
        expr=expr,
        names=names,
        point=point,
        shapes=shapes,
        batch=batch,
        node_values=values,
        order=order,
        dtype=dtype,
        full=full,
        autograd=autograd,
    )
    formula = _formula(question)
    if not isinstance(formula, Formula):
        return formula  # a vector-valued expression's Jacobian, judged whole by jacobian
    measured = _measure(question, formula)
    compared = _compare(question, measured)
    if compared.kinks:
        from .overflow import rounded_onto_kink  # abs(x-pi) at float64's pi: no kink

        rounded = rounded_onto_kink(expr, point, values, _point_text(point))
        if rounded is not None:
            raise rounded
    judged = _judge(question, measured, compared)
    return _result(question, formula, measured, compared, judged)


def _formula(question: Question) -> Formula | Jacobian:
    """f in the computer algebra system (for long vectors, in vectors'
    elementwise form) and its value at the point; for a vector-valued f at
    order 1, its Jacobian instead."""
    from . import cas

    expr, point = question.expr, question.point
    whole_jacobian, elementwise = _vector_paths(question)
    if whole_jacobian:
        from . import vecjacobian  # softmax(x) and the like past SMALL: in vector form

        return vecjacobian.compute(
            expr, point, question.names, question.shapes, question.dtype, question.autograd, []
        )
    symbolic = cas.sympy() if elementwise else cas.choose(expr, any_size=not question.autograd)
    notes = []
    if symbolic.ENGINE == "symengine":
        notes.append("SymEngine differentiated it and evaluated the derivative in 30 digits")
    if elementwise:
        from .vectors import Vectorized

        vectorized = Vectorized(expr, point)
        notes.extend(vectorized.notes)
        return Formula(
            engine=symbolic,
            f=None,
            symbols={},
            subs={},
            value=vectorized.value(),
            vectorized=vectorized,
            notes=tuple(notes),
        )
    symbols = symbolic.symbols_for(expr.variables, question.shapes)
    f = symbolic.build(expr, symbols)
    subs = symbolic.substitutions(symbols, point)
    values = _sympy_values(symbolic, f if isinstance(f, list) else [f], subs, expr, point)
    if isinstance(f, list) and question.order == 1:
        from . import jacobian

        return jacobian.compute(
            symbolic, expr, f, symbols, subs, point, question.names, question.shapes,
            question.dtype, question.autograd, values, notes,
        )  # fmt: skip
    if isinstance(f, list):
        notes.append(
            "the expression is vector-valued; its derivatives of order 2 and more are of "
            "the sum of its elements, as torch's y.backward(torch.ones_like(y))"
        )
    return Formula(
        engine=symbolic,
        f=sum(f[1:], f[0]) if isinstance(f, list) else f,
        symbols=symbols,
        subs=subs,
        value=values if isinstance(f, list) else values[0],
        vectorized=None,
        notes=tuple(notes),
    )


def _vector_paths(question: Question) -> tuple[bool, bool]:
    """Whether f's Jacobian is built in vector form (vectors.jacobian_applies),
    and whether long vectors take the elementwise path, one symbol per vector
    evaluated over arrays (vectors.applies). Both need a vector variable: a
    run with none does not import vectors (nor its stencil), ~2 ms."""
    if all(shape is None for shape in question.shapes.values()):
        return False, False
    from . import vectors

    expr, shapes, order = question.expr, question.shapes, question.order
    if vectors.jacobian_applies(expr, shapes, order):
        return True, False
    return False, vectors.applies(expr, shapes, order)


def _measure(question: Question, formula: Formula) -> Measurements:
    """Stage 1: every derivative by autograd, finite differences and SymPy,
    and the kinks at the point. Where f is smooth although a part of it
    sits on its kink (cos(abs(x)) at 0), SymPy's formula at the point uses
    sign(0) = 0: its two-sided limit is the reference instead."""
    expr, wanted = question.expr, question.wanted
    notes = list(formula.notes)
    grads: list[np.ndarray | None] = [None] * len(wanted)
    if question.autograd:
        grads = list(measure.autograd_values(expr, question.point, question.dtype, wanted))
    else:
        notes.append(verdict.AUTOGRAD_SKIPPED)
    frozen = numeric.detached_values(expr, question.batch)
    chained, chained_note = _chain_rule(question, formula.engine)
    notes.extend([chained_note] if chained_note else [])
    site = Site(
        expr=expr,
        point=question.point,
        batch=question.batch,
        frozen=frozen,
        shapes=question.shapes,
        engine=formula.engine,
        f=formula.f,
        symbols=formula.symbols,
        subs=formula.subs,
        full=question.full,
        chained=chained,
        vectorized=formula.vectorized,
    )
    derivatives = [measure.derivative(site, w, grad) for w, grad in zip(wanted, grads)]
    notes.extend(note for d in derivatives for note in d.notes)
    if question.autograd:
        methods, traced = measure.autograd_whys(
            site, question.node_values, [d.methods for d in derivatives], question.dtype
        )
        derivatives = [d._replace(methods=m) for d, m in zip(derivatives, methods)]
        notes.extend(traced)
    kinks, suspects = _kinks(question, site)
    if suspects and not kinks and chained is None and formula.vectorized is None:
        derivatives, limited = measure.references_by_limits(site, derivatives)
        notes.extend(limited)
    return Measurements(
        site=site,
        derivatives=tuple(derivatives),
        kinks=kinks,
        suspects=suspects,
        notes=tuple(notes),
    )


def _chain_rule(question: Question, engine: Engine) -> tuple[measure.Chained | None, str | None]:
    """First derivatives of scalar variables by the chain rule, where the
    product is too wide to build the formula of (and `full` does not ask
    for it)."""
    if question.order > 1 or question.full:
        return None, None
    if any(shape is not None for shape in question.shapes.values()):
        return None, None
    return measure.chain_rule(engine, question.expr, question.point, question.names)


def _kinks(question: Question, site: Site) -> tuple[list[Kink], str]:
    """The kinks at the point (numeric.find_kinks), and the parts sitting on
    their kink there, by name."""
    expr, values = question.expr, question.node_values
    kinks = numeric.find_kinks(
        expr, question.batch, values, site.frozen, question.names, question.shapes
    ).get(0, [])
    suspects = ", ".join(n.brief for n, _ in numeric.nodes_at_kink(expr, values))
    if suspects and question.order > 1 and not kinks and site.chained is None:
        # f is smooth to first order here; a derivative of f may not be.
        kinks, _ = measure.derivative_kinks(
            site, question.wanted, range(2, question.order + 1), suspects
        )
    return kinks, suspects


def _compare(question: Question, measured: Measurements) -> Comparison:
    """Stage 2: each method against SymPy's reference, with its tolerance.
    Where they are at odds at a point without a kink, the kink that may
    explain it: one no table entry announces, or one close by that the
    finite differences straddle."""
    checks = [
        verdict.weigh(d.methods, question.dtype, question.order) for d in measured.derivatives
    ]
    site = measured.site
    # At odds: what judge would call disagree or undefined, were there no
    # kink. The probes need a derivative formula; the chain rule's path has none.
    at_odds = not measured.kinks and not all(np.all(c.agree) for c in checks)
    if not at_odds or site.chained is not None:
        return Comparison(checks=tuple(checks), kinks=measured.kinks)
    if site.vectorized is not None:
        # A long vector: a kink no table entry announces (sqrt(sum(x**2)) at
        # 0, sum(sqrt(x**2))), probed on f itself along the components nearest 0.
        found = numeric.find_kinks(
            question.expr, question.batch, question.node_values, site.frozen, question.names,
            question.shapes, anywhere=True,
        )  # fmt: skip
        return Comparison(checks=tuple(checks), kinks=found.get(0) or measured.kinks)
    # Perhaps a kink no table entry announces (sqrt(x**2) at 0), found where
    # the derivative's one-sided limits differ.
    hidden, nearby = measure.derivative_kinks(
        site,
        question.wanted,
        range(1, question.order + 1),
        measured.suspects or "the expression",
    )
    if hidden:
        return Comparison(checks=tuple(checks), kinks=hidden)
    if nearby:
        # A kink a little way off (closer than the steps): the finite
        # differences straddle it, so they check nothing here.
        checks = [
            check.uncounting(_straddling(d.methods.labels, nearby))
            for check, d in zip(checks, measured.derivatives)
        ]
    return Comparison(checks=tuple(checks), kinks=measured.kinks)


def _straddling(labels: list[str], nearby: set[str]) -> np.ndarray:
    """(1, components): the derivatives along a variable with a kink nearby."""
    return np.array([[any(name in label[3:] for name in nearby) for label in labels]])


def _judge(question: Question, measured: Measurements, compared: Comparison) -> Judgement:
    """Stage 3: the status, by verdict.judge's precedence, and its words."""
    checks = list(compared.checks)
    code = verdict.judge(checks, np.array([bool(compared.kinks)]), np.array([False]))[0]
    methods = [d.methods for d in measured.derivatives]
    if code == verdict.DISAGREE:
        methods = _disagreement(question, measured, methods)
    notes = measured.notes
    if code == verdict.UNDEFINED:  # a safe rewrite cannot help a derivative that diverges
        notes = tuple(n for n in notes if not n.startswith("autograd's NaN"))
    return Judgement(
        status=verdict.STATUSES[code],
        reason=verdict.reason(code, 0, methods, checks, compared.kinks, question.autograd),
        partials=[
            _reported(d.partial, m, check)
            for d, m, check in zip(measured.derivatives, methods, checks)
        ],
        notes=notes,
    )


def _disagreement(
    question: Question, measured: Measurements, methods: list[Methods]
) -> list[Methods]:
    """The Methods of a disagreement, with what its words say: the
    subgradient convention autograd took where a part sits on its kink, and
    float64's own reach at a point of scalars."""
    if measured.suspects:
        methods = [replace(m, autograd_convention=measured.suspects) for m in methods]
    if all(s is None for s in question.shapes.values()):
        noise = measure.float64_noise(
            measured.site, methods, question.wanted, question.dtype, question.autograd
        )
        methods = [replace(m, float64_noise=n) for m, n in zip(methods, noise)]
    return methods


def _reported(partial: Partial, methods: Methods, check: Checks) -> Partial:
    """A derivative as the result shows it, with what the comparison found."""
    return replace(
        partial,
        agree=bool(np.all(check.agree)),
        # Finite differences taken cleanly but deciding nothing are not a check.
        finite_difference_checked=partial.finite_difference_checked
        and not check.fd_unresolved.any(),
        problems=[words for _, words in verdict.problems(methods, check, 0)],
    )


def _result(
    question: Question,
    formula: Formula,
    measured: Measurements,
    compared: Comparison,
    judged: Judgement,
) -> Result:
    site = measured.site
    hessian = None
    if question.order == 2 and site.chained is None:
        from .hessian import classify

        gradient = [
            site.engine.value_at(site.formula(((n, 0),)), site.subs)[0] for n in question.names
        ]
        hessian = classify(question.names, judged.partials, gradient)
    expr = question.expr
    return Result(
        expression=expr.source,
        variables=list(expr.variables),
        wrt=question.names,
        point=question.point,
        dtype=question.dtype,
        order=question.order,
        value=formula.value,
        partials=judged.partials,
        kinks=compared.kinks,
        status=judged.status,
        reason=judged.reason,
        notes=list(judged.notes),
        tree=expr,
        hessian=hessian,
        engine=formula.engine.ENGINE,
        chain_rule=site.chained is not None,
        elementwise=formula.vectorized is not None,
    )


def _sympy_values(
    symbolic: Engine, items: list[Any], subs: dict, expr: Expression, point: dict
) -> list[float]:
    """The values of `items` (f, or the elements of a vector-valued f) at the point."""
    out = []
    for item in items:
        number, why = symbolic.value_at(item, subs)
        if number is None:
            raise DomainError(f"{expr.source} is {why} at {_point_text(point)}")
        out.append(number)
    return out


__all__ = ["Kink", "Partial", "Result", "differentiate"]
