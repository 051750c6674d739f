"""`differentiate`: the three methods at one point, and a verdict.

1. SymPy: the symbolic derivative of the parsed tree, evaluated with evalf.
2. torch autograd on a graph built from the same tree.
3. Central finite differences of the numpy-evaluated function.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np

from . import numeric, points
from .errors import DomainError, UsageError
from .functions import TABLE
from .parsing import Expression, parse
from .verdict import (
    AUTOGRAD_TOLERANCE,
    KINK_TOLERANCE,
    Status,
    fd_slack,
    finite_difference_tolerance,
)

MAX_ORDER = 4


@dataclass
class Partial:
    """One derivative: d^order f / d wrt[0] ... d wrt[-1]. For a vector
    variable (order 1) each value is a list over its components."""

    wrt: tuple
    symbolic: object  # str, or list of str
    sympy: object  # float or None, or a list of them
    autograd: object
    finite_difference: object
    finite_difference_error: object
    agree: bool
    problems: list = field(default_factory=list)  # words, when not agree
    truncated: bool = False  # `symbolic` shows only the leading terms

    @property
    def order(self) -> int:
        return len(self.wrt)


@dataclass
class Kink:
    node: str  # the sub-expression on its kink, e.g. "abs(x)"
    wrt: str  # variable (component) along which it was probed
    left: float | None  # one-sided derivatives (None across a jump)
    right: float | None
    jump: bool
    left_value: float
    right_value: float


@dataclass
class Result:
    expression: str
    variables: list
    wrt: list
    point: dict  # name -> np.ndarray
    dtype: str
    order: int
    value: object
    partials: list
    kinks: list
    status: str
    reason: str
    notes: list
    tree: Expression | None = None
    engine: str = "sympy"  # or "symengine": which computer algebra system differentiated
    chain_rule: bool = False  # its value came from chainrule (a very wide product)

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
    if isinstance(at, dict):
        specs = []
        for name, value in at.items():
            if isinstance(value, (list, tuple, np.ndarray)):
                value = "[" + ",".join(repr(float(v)) for v in np.ravel(value)) + "]"
            specs.append(f"{name}={value}")
        return points.resolve([",".join(specs)] if specs else [], variables)
    if isinstance(at, str):
        at = [at]
    return points.resolve(list(at or []), variables)


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
                    f"--wrt {name!r} is not a variable of the expression "
                    f"(its variables: {', '.join(expr.variables)})"
                )
            if name not in names:
                names.append(name)
    return names


def _undefined_message(node, values, point) -> str:
    value = np.asarray(values[id(node)]).reshape(-1)
    bad = value[~np.isfinite(value)][0]
    if node.op == "num":
        return f"the number {node.brief} is too large for float64"
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
    shown, length = [], 0
    for term in d.args:
        if _size_at_least(term, PRINTABLE_NODES) >= PRINTABLE_NODES:
            piece = engine.text(term)[: MAX_SYMBOLIC // 4] + "…"
        else:
            piece = engine.text(term)
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
) -> Result:
    """Differentiate `expression` at the point `at` three ways and compare.

    `at` is a dict {name: number or list} or a list of `--at` strings.
    Raises ParseError/PointError/UsageError for bad input and DomainError
    when the function itself is undefined at the point. With autograd=False
    torch is never imported (symbolic and finite differences only), and
    SymEngine is preferred wherever it can differentiate.
    """
    expr = expression if isinstance(expression, Expression) else parse(expression)
    if dtype not in AUTOGRAD_TOLERANCE:
        raise UsageError(f"dtype must be one of {', '.join(AUTOGRAD_TOLERANCE)}, not {dtype!r}")
    if not 1 <= order <= MAX_ORDER:
        raise UsageError(f"--order must be between 1 and {MAX_ORDER}, not {order}")
    names = _validate_wrt(wrt, expr)
    point = _as_point(at, expr.variables)
    shapes = points.shapes(point)
    if order > 1 and any(shapes[n] is not None for n in names):
        raise UsageError("--order above 1 needs scalar variables (vector variables: order 1)")

    batch = numeric.as_batch(point)
    node, values = numeric.first_undefined(expr, batch)
    if node is not None:
        raise DomainError(_undefined_message(node, values, point))

    from . import budget, fastsym

    if autograd:
        import torch  # noqa: F401 - imported before the time budget starts

    if fastsym.suits(expr, any_size=not autograd):
        symbolic = fastsym
        notes = ["SymEngine differentiated it and evaluated the derivative in float64"]
    else:
        from . import symbolic

        notes = []
    budget.computing()
    symbols = symbolic.symbols_for(expr.variables, shapes)
    f = symbolic.build(expr, symbols)
    if isinstance(f, list):
        notes.append(
            "the expression is vector-valued; derivatives are of the sum of its "
            "elements, as torch's y.backward(torch.ones_like(y))"
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
        notes.append("autograd skipped (--no-autograd): torch was not imported")
    frozen = numeric.detached_values(expr, batch)
    chained = _chained(symbolic, expr, point, names, shapes, order, full, notes)
    partials = [
        _partial(
            symbolic,
            expr,
            f_scalar,
            symbols,
            subs,
            batch,
            frozen,
            shapes,
            wrt,
            grad,
            dtype,
            full,
            chained,
        )
        for wrt, grad in zip(wanted, autograd_values)
    ]
    kinks = _kinks(expr, values, batch, frozen, names, shapes)
    status, reason = _verdict(partials, kinks, autograd)
    if status in (Status.UNDEFINED, Status.DISAGREE) and order == 1:
        # Methods at odds: perhaps a kink no table entry announces (sqrt(x**2) at 0).
        kinks = _kinks(expr, values, batch, frozen, names, shapes, anywhere=True) or kinks
        status, reason = _verdict(partials, kinks, autograd)
    result = Result(
        expr.source,
        list(expr.variables),
        names,
        point,
        dtype,
        order,
        value,
        partials,
        kinks,
        status,
        reason,
        notes,
        expr,
    )
    result.engine, result.chain_rule = symbolic.ENGINE, chained is not None
    return result


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


def _autograd(expr, point, dtype, wanted):
    import torch

    from . import autograd

    leaves = autograd.leaves_for(point, dtype)
    output = autograd.scalar_output(autograd.build(expr, leaves, dtype))
    grads = autograd.derivatives(output, leaves, wanted)
    # force=True: a second derivative through abs() comes back as a ZeroTensor.
    return [g.to(dtype=torch.float64).numpy(force=True) for g in grads]


def _finite(x):
    return x is not None and np.isfinite(x)


def _partial(
    symbolic, expr, f, symbols, subs, batch, frozen, shapes, wrt, grad, dtype, full, chained=None
):
    order = len(wrt)
    if shapes[wrt[0]] is None:
        components = [tuple((name, 0) for name in wrt)]
        sym_lists = [tuple(symbols[name] for name in wrt)]
    else:
        length = shapes[wrt[0]]
        components = [((wrt[0], i),) for i in range(length)]
        sym_lists = [(symbols[wrt[0]][i],) for i in range(length)]
    grads = np.ravel(grad) if grad is not None else None
    fds = [
        (float(estimate[0]), float(error[0]))
        for estimate, error in numeric.finite_difference(expr, batch, components, frozen)
    ]
    ad_tol = AUTOGRAD_TOLERANCE[dtype]
    fd_tol = finite_difference_tolerance(order)
    symbolic_texts, sympy_values, problems = [], [], []
    agree, any_truncated = True, False
    for i, syms in enumerate(sym_lists):
        if chained is not None:
            text, truncated = WIDE_TEXT, True
            number, why = chained[wrt[0]]
        else:
            d = symbolic.derivative(f, syms)
            text, truncated = derivative_text(symbolic, d, full, len(expr.nodes))
            number, why = symbolic.value_at(d, subs)
        symbolic_texts.append(text)
        any_truncated = any_truncated or truncated
        sympy_values.append(number)
        ad = float(grads[i]) if grads is not None else None
        fd, fd_err = fds[i]
        label = "d/d" + "".join(
            f"{n}[{c}]" if shapes[n] is not None else n for n, c in components[i]
        )
        if number is None:
            agree = False
            problems.append(f"{label}: SymPy's derivative is {why}")
            continue
        if ad is None:
            pass  # --no-autograd
        elif not np.isfinite(ad):
            agree = False
            problems.append(f"{label}: autograd gives {ad}")
        elif not ad_tol.allows(ad, number):
            agree = False
            problems.append(
                f"{label}: autograd {ad:.12g} differs from SymPy {number:.12g} "
                f"by {abs(ad - number):.3g}"
            )
        if not np.isfinite(fd):
            agree = False
            problems.append(f"{label}: finite differences give {fd}")
        elif not fd_tol.allows(fd, number, float(fd_slack(fd_err, number))):
            agree = False
            problems.append(
                f"{label}: finite differences {fd:.12g} differ from SymPy "
                f"{number:.12g} by {abs(fd - number):.3g}"
            )
    vector = shapes[wrt[0]] is not None

    def shaped(items):
        return list(items) if vector else items[0]

    return Partial(
        wrt=tuple(wrt),
        symbolic=shaped(symbolic_texts),
        sympy=shaped(sympy_values),
        autograd=shaped(
            [float(g) for g in grads] if grads is not None else [None] * len(sym_lists)
        ),
        finite_difference=shaped([fd for fd, _ in fds]),
        finite_difference_error=shaped([err for _, err in fds]),
        agree=agree,
        problems=problems,
        truncated=any_truncated,
    )


def _kinks(expr, values, batch, frozen, names, shapes, anywhere=False) -> list:
    """One-sided derivatives where a non-smooth function (abs, relu, max...)
    sits on its kink — or, with `anywhere`, along every variable (for kinks
    the table cannot see, like sqrt(x**2) at 0). A corner is reported only
    when both one-sided slopes are finite and settle as the step shrinks."""
    suspects = [node for node, _ in numeric.nodes_at_kink(expr, values)]
    if not suspects and not anywhere:
        return []
    where = ", ".join(n.brief for n in suspects) or "the expression"
    found = []
    for name in names:
        for comp in range(shapes[name] or 1):
            sides = {
                k: float(v[0])
                for k, v in numeric.one_sided(expr, batch, name, comp, frozen).items()
            }
            finer = {
                k: float(v[0])
                for k, v in numeric.one_sided(expr, batch, name, comp, frozen, 1e-8).items()
            }
            jump = bool(sides["jump"])
            settled = all(
                np.isfinite([sides[k], finer[k]]).all()
                and abs(sides[k] - finer[k]) <= 1e-3 * max(1.0, abs(sides[k]))
                for k in ("left", "right")
            )
            corner = settled and not KINK_TOLERANCE.allows(sides["left"], sides["right"])
            if jump or corner:
                label = name if shapes[name] is None else f"{name}[{comp}]"
                left, right = (None, None) if jump else (sides["left"], sides["right"])
                found.append(
                    Kink(where, label, left, right, jump, sides["left_value"], sides["right_value"])
                )
    return found


def _verdict(partials, kinks, autograd=True):
    if kinks:
        words = []
        for kink in kinks:
            if kink.jump:
                words.append(
                    f"the value jumps here along {kink.wrt} (at {kink.node}: from "
                    f"{kink.left_value:.6g} to {kink.right_value:.6g})"
                )
            else:
                words.append(
                    f"not differentiable here (at {kink.node}): along {kink.wrt} the "
                    f"left derivative is {kink.left:.6g} and the right {kink.right:.6g}"
                )
        return Status.KINK, (
            "; ".join(words) + ". The values shown are each method's convention "
            "(autograd takes a subgradient)."
        )
    undefined = [
        p
        for partial in partials
        for p in partial.problems
        if "SymPy's" in p or "gives inf" in p or "gives -inf" in p or "gives nan" in p
    ]
    if undefined:
        return Status.UNDEFINED, "the derivative is not finite here: " + "; ".join(undefined)
    problems = [p for partial in partials for p in partial.problems]
    if problems:
        return Status.DISAGREE, "the methods disagree: " + "; ".join(problems)
    if not autograd:
        return Status.AGREE, "the symbolic derivative and finite differences agree"
    return Status.AGREE, "SymPy, autograd and finite differences agree"


__all__ = ["Kink", "Partial", "Result", "differentiate"]
