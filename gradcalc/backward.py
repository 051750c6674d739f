"""Reverse-mode accumulation, written once: each operation's local derivative
and the backward sweep.

Like micrograd's one `_backward` per operation, the local derivative of an
operation with respect to one of its inputs (d sin(u)/du = cos(u),
d(a*b)/da = b) is defined here once, as the computer algebra system's
derivative of the function table's builder on placeholder inputs, and
cached. `sweep` runs the chain rule from the output back to the leaves.

Users: `chainrule` (diff's path for very wide products, in float64),
`computation` (every edge's local derivative and every node's adjoint), and
through the graph `diff --steps`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import numpy as np

from .functions import TABLE

if TYPE_CHECKING:
    from .cas import Engine
    from .parsing import Expression, Node

_RULES: dict[tuple, tuple[list, Any]] = {}


def placeholder_names(count: int) -> list[str]:
    """Names for an operation's inputs in its local derivative: u for one
    input, a and b for two, a1, a2, ... for more."""
    if count == 1:
        return ["u"]
    if count == 2:
        return ["a", "b"]
    return [f"a{i + 1}" for i in range(count)]


def local_rule(
    engine: Engine, op: str, arity: int, position: int, exponent: Any = None
) -> tuple[list, Any]:
    """(placeholders, ∂op/∂(input at `position`)) as a formula of `engine`
    (a `cas.Engine`) in the placeholders, cached.

    `exponent`, for the base of a power whose exponent does not depend on any
    variable, is written into the rule: SymPy's general d(a**b)/da =
    b*a**b/a is 0/0 at a = 0, while d(u**2)/du = 2*u is not."""
    key = (engine.NAME, op, arity, position, exponent)
    if key not in _RULES:
        if exponent is not None:
            inputs = engine.placeholders(["u"])
            result = engine.operation("pow", [inputs[0], exponent])
            wrt = inputs[0]
        else:
            inputs = engine.placeholders(placeholder_names(arity))
            result = engine.operation(op, inputs)
            wrt = inputs[position]
        _RULES[key] = (inputs, engine.derivative(result, (wrt,)))
    return _RULES[key]


TIES = {"max": np.max, "min": np.min}


def tie_share(op: str, position: int, args: list) -> np.ndarray | None:
    """The local derivative of max/min with respect to argument `position`
    where arguments tie for the extreme, by torch's convention (so that the
    graph's gradients are torch's): max(a, b, c) is max(max(a, b), c), and
    at each tie of that fold the gradient is halved between the two sides.
    The shares add up to 1, the function's own derivative along a direction
    that moves them all. None where nothing ties (the rule's own value
    stands). Arrays broadcast over vector elements."""
    arrays = [np.asarray(a, dtype=np.float64) for a in args]
    shape = np.broadcast_shapes(*[a.shape for a in arrays])  # any number of arguments
    stacked = np.stack([np.broadcast_to(a, shape) for a in arrays])
    extreme = TIES[op](stacked, axis=0)
    if not np.any((stacked == extreme).sum(axis=0) > 1):
        return None
    # Forward through the fold, then back: share[i] of the output's gradient.
    folded = [stacked[0]]
    for arg in stacked[1:]:
        folded.append(TIES[op](np.stack([folded[-1], arg]), axis=0))
    share = np.zeros_like(stacked)
    flowing = np.ones_like(stacked[0])
    for k in range(len(stacked) - 1, 0, -1):
        left, right = folded[k - 1], stacked[k]
        tie = left == right
        to_right = np.where(tie, 0.5, np.where(folded[k] == right, 1.0, 0.0))
        share[k] = flowing * to_right
        flowing = flowing * (1.0 - to_right)
    share[0] = flowing
    return share[position].reshape(-1)


def constant_exponent(node: Node, depends: dict, built: dict) -> Any:
    """The exponent to write into the rule for `node`'s base (see
    `local_rule`), or None: only a power whose exponent is constant."""
    if node.op == "pow" and not depends[id(node.args[1])]:
        return built[id(node.args[1])]
    return None


def depends_on(expr: Expression, names: Collection[str]) -> dict[int, bool]:
    """id(node) -> whether the node depends on any of the variables `names`."""
    depends: dict[int, bool] = {}
    for node in expr.nodes:
        depends[id(node)] = (node.op == "var" and node.value in names) or any(
            depends[id(a)] for a in node.args
        )
    return depends


def first_nonfinite(expr: Expression, values: dict) -> tuple[Node, Node] | None:
    """(node, argument) for the first edge of the backward pass, from the
    output down, whose local derivative is not finite at the forward
    `values` ({id(node): float64 array}) although the value is: where
    autograd's 0·∞ comes from (sqrt at 0 under x**4). None if there is none."""
    from . import cas

    engine = cas.sympy()
    depends = depends_on(expr, set(expr.variables))
    built = {id(n): engine.number(float(np.ravel(values[id(n)])[0])) for n in expr.nodes}
    for node in reversed(expr.nodes):
        if node.is_leaf or node.op == "detach" or TABLE[node.op].reduces:
            continue
        if TABLE[node.op].vector:
            for position, arg in enumerate(node.args):
                if depends[id(arg)] and TABLE[node.op].vector == "reduce":
                    arguments = [values[id(a)] for a in node.args]
                    local = whole_vector_local(node.op, position, arguments)
                    if not np.all(np.isfinite(local)):
                        return node, arg
            continue
        for position, arg in enumerate(node.args):
            if not depends[id(arg)]:
                continue
            exponent = constant_exponent(node, depends, built) if position == 0 else None
            inputs, rule = local_rule(engine, node.op, len(node.args), position, exponent)
            arguments = node.args[: len(inputs)]
            size = max(np.size(values[id(a)]) for a in arguments)
            for i in range(size):
                at = {
                    u: engine.number(
                        float(np.ravel(values[id(a)])[min(i, np.size(values[id(a)]) - 1)])
                    )
                    for u, a in zip(inputs, arguments)
                }
                if engine.value_at(rule, at)[0] is None:
                    return node, arg
    return None


def whole_vector_rule(op: str, position: int, arity: int) -> tuple[tuple, Any] | None:
    """(placeholders, rule) of a function of whole vectors that gives a number
    (dot, norm, logsumexp, prod, cross_entropy, x[i]): its derivative by its
    argument `position`, in vector notation, for views (softmax(u) for
    logsumexp). None for an argument that carries no gradient (k, i, p)."""
    import sympy as sp

    u, a, b, k = (sp.Symbol(name, real=True) for name in ("u", "a", "b", "k"))
    function = sp.Function
    rules = {
        ("dot", 0): ((a, b), b),
        ("dot", 1): ((a, b), a),
        ("norm", 0): ((u,), u / function("norm")(u)) if arity == 1 else ((u, k), sp.sign(u)),
        ("logsumexp", 0): ((u,), function("softmax")(u)),
        ("prod", 0): ((u,), function("prod")(u) / u),
        ("cross_entropy", 0): ((u, k), function("softmax")(u) - function("onehot")(k)),
        ("index", 0): ((u, k), function("onehot")(k)),
    }
    return rules.get((op, position))


def whole_vector_local(op: str, position: int, arguments: list) -> np.ndarray:
    """The local derivative of a function of whole vectors that gives a
    number, by the elements of its argument `position`, at the arguments'
    values (arrays): SymPy's derivative element by element, NaN where it is
    not finite (norm at 0: x/norm(x) is 0/0)."""
    import sympy as sp

    from .cas import sympy_engine as engine

    if op == "norm" and len(arguments) == 1:
        # x/norm(x) as torch's sqrt(Σx²) computes it: SymPy would write the
        # norm of one number as Abs, whose derivative at 0 is a finite sign(0).
        x = np.ravel(np.asarray(arguments[0], dtype=np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            return x / np.sqrt(np.sum(x * x))
    built: list = []
    elements: list = []
    for i, value in enumerate(arguments):
        flat = np.ravel(np.asarray(value, dtype=np.float64))
        if i == position:
            elements = [sp.Symbol(f"e{j}", real=True) for j in range(flat.size)]
            built.append(elements if flat.size > 1 else elements[0])
        else:
            numbers = [engine.number(float(v)) for v in flat]
            built.append(numbers if flat.size > 1 else numbers[0])
    builder = TABLE[op].sympy
    assert builder is not None, op
    f = builder(sp, *built)
    at = {e: engine.number(float(v)) for e, v in zip(elements, np.ravel(arguments[position]))}
    found = [engine.value_at(sp.diff(f, e), at)[0] for e in elements]
    return np.array([np.nan if v is None else v for v in found], dtype=np.float64)


Contribution = Callable[[Any, int, Any], Any]


def sweep(expr: Expression, seed: Any, contribution: Contribution) -> dict[int, Any]:
    """The backward sweep: adjoints by the chain rule, from the output (whose
    adjoint is `seed`) back to the leaves, parents before children.

    `contribution(node, position, adjoint)` gives what flows from `node`
    (whose adjoint is final by then) into its input at `position`: adjoint
    times the local derivative, shaped like the input; None when nothing
    flows (a constant input, or below a detach). Returns {id(node): adjoint}
    for every node that received one."""
    adjoints = {id(expr.root): seed}
    for node in reversed(expr.nodes):
        adjoint = adjoints.get(id(node))
        if adjoint is None or node.is_leaf:
            continue
        for position, arg in enumerate(node.args):
            flowing = contribution(node, position, adjoint)
            if flowing is None:
                continue
            previous = adjoints.get(id(arg))
            adjoints[id(arg)] = flowing if previous is None else previous + flowing
    return adjoints
