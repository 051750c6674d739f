"""The computation graph as data: nodes, edges, values, local derivatives,
adjoints — and torch's own view of the same graph.

Symbolic side: each edge's local derivative is SymPy's derivative of the
node's operation with respect to that input, evaluated at the forward
values; adjoints follow by the chain rule in reverse order (our own reverse
accumulation). Torch side: the real `grad_fn` class of every tensor torch
built, and every intermediate gradient (`retain_grad`) after `backward()`.
The two are compared node by node.

Views (Rich tree, DOT, Mermaid, JSON) live in `render/` and only read this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import backward, numeric, points
from .errors import DomainError
from .functions import TABLE, refuse_whole_vectors
from .parsing import Expression, parse
from .verdict import AUTOGRAD_TOLERANCE

Number = float | list[float]  # a scalar, or a vector's elements


@dataclass
class GraphNode:
    index: int
    op: str  # "var", "num", "const" or a function-table name
    label: str  # what the node does: "sin", "**", "x", "3"
    expression: str  # the sub-expression it computes
    kind: str  # "variable", "constant" or "operation"
    value: Number  # a list for a vector
    grad_fn: str | None = None  # torch's class name; AccumulateGrad for leaves
    adjoint: Number | None = None  # d output / d node by the chain rule (None: no gradient)
    torch_grad: Number | None = None  # torch's retained .grad
    agree: bool = True
    detached: bool = False  # no gradient reaches it (under a detach)
    depends: bool = True  # depends on a variable; a constant sub-tree carries no gradient
    nan_source: bool = False  # where torch's backward pass first meets 0·∞ (nantrace)
    # What the gradient becomes there: "NaN" (0·∞) or "infinite" (an infinite
    # local derivative times a finite, non-zero upstream gradient: sqrt(x) at 0).
    nan_kind: str = "NaN"
    inputs: list = field(default_factory=list)  # edge indices, by argument position
    consumers: list = field(default_factory=list)  # edge indices

    @property
    def leaf(self) -> bool:
        return self.kind != "operation"


@dataclass
class GraphEdge:
    index: int
    source: int  # the input node
    target: int  # the node that consumes it
    position: int  # argument position in the target
    local_generic: str | None  # ∂target/∂input with the inputs named u (or a, b)
    forward_generic: str | None  # the target's operation on those names: sin(u), a*b
    local_symbolic: str | None  # the same, written with the input's expression
    local_value: Number | None  # evaluated at the forward values
    contribution: Number | None  # adjoint(target) · local, summed to the input's shape
    generic: Any = field(default=None, repr=False)  # the SymPy form, for views
    placeholders: tuple = field(default=(), repr=False)  # its input symbols, by position


@dataclass
class Graph:
    expression: str
    variables: list
    point: dict
    dtype: str
    nodes: list  # index 0 is the output
    edges: list
    agree: bool  # every node's chain-rule gradient matches torch's retained .grad
    notes: list = field(default_factory=list)
    # The point's verdict, the same as `gradcalc diff` gives there (check.py).
    status: str = "agree"
    reason: str = ""

    @property
    def output(self) -> GraphNode:
        return self.nodes[0]

    def children(self, node: GraphNode) -> list:
        return [self.nodes[self.edges[e].source] for e in node.inputs]


def _labels(node) -> str:
    if node.op in ("var", "num", "const"):
        return str(node.value)
    func = TABLE[node.op]
    if func.operator is not None:
        return "neg" if node.op == "neg" else func.operator
    return func.name


def _tolist(array):
    array = np.asarray(array, dtype=np.float64).reshape(-1)
    return float(array[0]) if array.size == 1 else [float(v) for v in array]


def build(expression, at=None, dtype: str = "float64") -> Graph:
    """Trace `expression` at the point: forward values, local derivatives,
    adjoints, and torch's grad_fn view."""
    expr = expression if isinstance(expression, Expression) else parse(expression)
    refuse_whole_vectors(
        expr,
        "the graph and the steps write each node's local derivative element by element, and "
        "this one mixes the elements (its derivative is a gradient or a Jacobian, which diff "
        "gives)",
        allowed=tuple(f.name for f in TABLE.values() if f.vector == "reduce"),
    )
    point = points.point(at, expr.variables)
    batch = numeric.as_batch(point)
    bad, values = numeric.first_undefined(expr, batch)
    if bad is not None:
        raise DomainError(f"{bad.brief} is not finite at this point")
    order = list(reversed(expr.nodes))  # output first, children after parents
    index = {id(node): i for i, node in enumerate(order)}
    shapes = {id(n): np.asarray(values[id(n)]).shape[-1] for n in order}
    vector = {id(n): _is_vector(n, point, values) for n in order}
    nodes = [
        GraphNode(
            i,
            n.op,
            _labels(n),
            n.text,
            "variable"
            if n.op == "var"
            else ("constant" if n.op in ("num", "const") else "operation"),
            _value(values[id(n)], vector[id(n)]),
        )
        for i, n in enumerate(order)
    ]
    edges: list[GraphEdge] = []
    for node in order:
        for position, child in enumerate(node.args):
            edge = GraphEdge(
                len(edges),
                index[id(child)],
                index[id(node)],
                position,
                None,
                None,
                None,
                None,
                None,
            )
            edges.append(edge)
            nodes[index[id(node)]].inputs.append(edge.index)
            nodes[index[id(child)]].consumers.append(edge.index)

    depends = backward.depends_on(expr, set(expr.variables))
    for node, parsed in zip(nodes, order):
        node.depends = depends[id(parsed)]
    _local_derivatives(expr, index, edges, nodes, values, shapes, vector, depends)
    _adjoints(expr, index, nodes, edges, depends)
    notes = _torch_view(expr, order, index, nodes, point, dtype)
    for node, _ in numeric.nodes_at_kink(expr, values):
        notes.append(
            f"{node.brief} sits on its kink here: the gradients through it are "
            "torch's subgradient convention (halved at a tie of max or min)"
        )
    tolerance = AUTOGRAD_TOLERANCE[dtype]
    agree = True
    for node, parsed in zip(nodes, order):
        if not depends[id(parsed)] or node.detached:
            continue  # constants carry no gradient to compare
        mine = np.ravel(np.asarray(node.adjoint if node.adjoint is not None else 0.0))
        theirs = np.ravel(np.asarray(node.torch_grad if node.torch_grad is not None else 0.0))
        if mine.shape != theirs.shape:
            theirs = np.broadcast_to(theirs, mine.shape)
        node.agree = bool(all(tolerance.allows(float(t), float(m)) for m, t in zip(mine, theirs)))
        agree = agree and node.agree
    _mark_nan_source(expr, order, index, nodes, values, notes)
    from .check import differentiate

    verdict = differentiate(expr, point, dtype=dtype)
    return Graph(
        expression=expr.source,
        variables=list(expr.variables),
        point=point,
        dtype=dtype,
        nodes=nodes,
        edges=edges,
        agree=agree,
        notes=notes,
        status=verdict.status,
        reason=verdict.reason,
    )


def _mark_nan_source(expr, order, index, nodes, values, notes) -> None:
    """Where a leaf's torch gradient is not finite, mark the node where the
    backward pass first meets 0·∞ (see nantrace)."""
    leaves = [nodes[index[id(n)]] for n in order if n.op == "var"]
    if all(np.all(np.isfinite(np.asarray(leaf.torch_grad, dtype=float))) for leaf in leaves):
        return
    from . import backward

    found = backward.first_nonfinite(expr, values)
    if found is not None:
        grads = np.concatenate(
            [np.ravel(np.asarray(leaf.torch_grad, dtype=float)) for leaf in leaves]
        )
        kind = "NaN" if np.any(np.isnan(grads)) else "infinite"
        node = nodes[index[id(found[0])]]
        node.nan_source, node.nan_kind = True, kind
        notes.append(
            f"torch's gradient becomes {kind} at {found[0].brief}: its derivative is infinite at "
            f"{found[1].brief} = {float(np.ravel(values[id(found[1])])[0]):g}"
            + (" (0·∞)" if kind == "NaN" else "")
        )


def _is_vector(node, point, values) -> bool:
    return np.asarray(values[id(node)]).shape[-1] > 1 or (
        node.op == "var" and np.asarray(point[node.value]).ndim == 1
    )


def _value(array, vector: bool):
    flat = np.asarray(array, dtype=np.float64).reshape(-1)
    return [float(v) for v in flat] if vector else float(flat[0])


def _local_derivatives(expr, index, edges, nodes, values, shapes, vector, depends):
    """Every edge's local derivative (backward.local_rule, SymPy), written
    generically and with the input's expression, and its value."""
    import sympy as sp

    from .cas import sympy_engine as symbolic
    from .cas import tree

    # Each sub-expression as SymPy, every variable scalar (vectors elementwise),
    # to write local derivatives in terms of the inputs.
    scalars = {n.value: sp.Symbol(str(n.value), real=True) for n in expr.nodes if n.op == "var"}
    # Functions of whole vectors stay unevaluated: norm(x), x[0] as written.
    unevaluated = {
        name: (lambda *a, name=name: _written(name, a)) for name, f in TABLE.items() if f.vector
    }
    texts = tree.build(expr, scalars, sp, {**symbolic.SPECIAL, **unevaluated}, keep=True)
    for node in expr.nodes:
        func = TABLE.get(node.op)
        for position, child in enumerate(node.args):
            edge = edges[nodes[index[id(node)]].inputs[position]]
            if not depends[id(child)]:
                continue  # constants receive no gradient
            exponent = backward.constant_exponent(node, depends, texts) if position == 0 else None
            if node.op == "detach":
                placeholders, generic = symbolic.placeholders(["u"]), sp.S.Zero
            elif func is not None and func.reduces:
                n = shapes[id(child)] if vector[id(child)] else 1
                placeholders = symbolic.placeholders(["u"])
                generic = sp.Integer(1) / n if node.op == "mean" else sp.Integer(1)
            elif func is not None and func.vector:  # dot, norm, logsumexp, ...: a number
                rule = backward.whole_vector_rule(node.op, position, len(node.args))
                assert rule is not None, (node.op, position)  # (k, i and p carry no gradient)
                placeholders, generic = list(rule[0]), rule[1]
                arguments = [values[id(a)] for a in node.args]
                local = backward.whole_vector_local(node.op, position, arguments)
                edge.generic, edge.placeholders = generic, tuple(placeholders)
                names = [str(p) for p in placeholders]
                edge.forward_generic = forward_text(node.op, names)
                edge.local_generic = sp.sstr(generic)
                edge.local_symbolic = sp.sstr(
                    generic.xreplace({p: texts[id(a)] for p, a in zip(placeholders, node.args)})
                )
                edge.local_value = _tolist(local) if vector[id(child)] else float(local[0])
                continue
            else:
                placeholders, generic = backward.local_rule(
                    symbolic.ENGINE_INSTANCE, node.op, len(node.args), position, exponent
                )
            arguments = node.args[: len(placeholders)]
            written = generic.xreplace({p: texts[id(a)] for p, a in zip(placeholders, arguments)})
            edge.generic, edge.placeholders = generic, tuple(placeholders)
            names = [str(p) for p in placeholders]
            if exponent is not None:
                names = [names[0], sp.sstr(exponent)]
            edge.forward_generic = forward_text(node.op, names)
            edge.local_generic = sp.sstr(generic)
            edge.local_symbolic = sp.sstr(written)
            edge.local_value = _evaluate_elementwise(
                generic, placeholders, arguments, values, vector
            )
            if node.op in backward.TIES:
                share = backward.tie_share(node.op, position, [values[id(a)] for a in node.args])
                if share is not None:
                    edge.local_value = _tolist(share) if vector[id(child)] else float(share.sum())


def _written(name: str, args) -> Any:
    """`name(args)` as an unevaluated SymPy function (x[i] for an index),
    for the local derivatives' texts."""
    import sympy as sp

    if name == "index":
        return sp.Symbol(f"{sp.sstr(args[0])}[{sp.sstr(args[1])}]", real=True)
    return sp.Function(name)(*args)


def forward_text(op: str, names: list) -> str:
    """An operation written on its inputs' names: sin(u), a*b, u**2."""
    func = TABLE[op]
    if op == "neg":
        return f"-{names[0]}"
    if op == "index":
        return f"{names[0]}[{names[1]}]"
    if op == "vector":
        return f"[{', '.join(names)}]"
    if func.operator is not None:
        return f"{names[0]}{func.operator}{names[1]}"
    return f"{func.name}({', '.join(names)})"


def _evaluate_elementwise(generic, placeholders, arguments, values, vector):
    from .cas import sympy_engine as symbolic

    arrays = [np.asarray(values[id(a)], dtype=np.float64).reshape(-1) for a in arguments]
    length = max(a.size for a in arrays)
    out = []
    for i in range(length):
        subs = {p: symbolic_float(a[i if a.size > 1 else 0]) for p, a in zip(placeholders, arrays)}
        number, _ = symbolic.value_at(generic, subs)
        out.append(float("nan") if number is None else number)
    is_vector = any(vector[id(a)] for a in arguments)
    return out if is_vector else out[0]


def symbolic_float(value):
    import sympy as sp

    from .cas.sympy_engine import PRECISION

    return sp.Float(float(value), PRECISION)


def _adjoints(expr, index, nodes, edges, depends):
    """Adjoints of every node by the one backward sweep (see backward), with
    the local derivatives' values; each edge keeps what flowed through it."""

    def contribution(node, position, adjoint):
        edge = edges[nodes[index[id(node)]].inputs[position]]
        child = nodes[edge.source]
        if edge.local_value is None:
            return None  # a constant input: no gradient
        flowing = np.asarray(adjoint, dtype=np.float64) * np.asarray(
            edge.local_value, dtype=np.float64
        )
        if not isinstance(child.value, list):
            flowing = flowing.sum()
        edge.contribution = _tolist(flowing) if isinstance(child.value, list) else float(flowing)
        if node.op == "detach":
            return None  # the edge is shown, but nothing flows through it
        return flowing

    root = nodes[0]
    seed = np.ones(len(root.value)) if isinstance(root.value, list) else 1.0
    adjoints = backward.sweep(expr, seed, contribution)
    for node in expr.nodes:
        mine = nodes[index[id(node)]]
        adjoint = adjoints.get(id(node))
        if adjoint is not None:
            mine.adjoint = _tolist(adjoint) if isinstance(mine.value, list) else float(adjoint)
        # Nothing flows below a detach: its inputs only get what other paths give.
        mine.detached = depends[id(node)] and (adjoint is None or node.op == "detach")


def _torch_view(expr, order, index, nodes, point, dtype) -> list:
    """Real grad_fn names and retained gradients from the graph torch built."""
    import torch

    from . import autograd

    leaves = autograd.leaves_for(point, dtype)
    tensors = autograd.build(expr, leaves, dtype, keep=True)
    for node in order:
        tensor = tensors[id(node)]
        if tensor.requires_grad and not tensor.is_leaf:
            tensor.retain_grad()
    output = autograd.scalar_output(tensors[id(expr.root)])
    accumulators = _accumulate_grad_nodes(output)
    notes = []
    if output.requires_grad:
        output.backward()
    else:
        notes.append("the output does not depend on any variable through a gradient path")
    for node in order:
        mine = nodes[index[id(node)]]
        tensor = tensors[id(node)]
        if node.op == "var":
            mine.grad_fn = "AccumulateGrad" if id(tensor) in accumulators else None
        elif tensor.grad_fn is not None:
            mine.grad_fn = type(tensor.grad_fn).__name__
        if tensor.grad is not None:
            mine.torch_grad = (
                _tolist(tensor.grad.detach().to(torch.float64).numpy())
                if isinstance(mine.value, list)
                else float(tensor.grad.detach().sum())
            )
    return notes


def _accumulate_grad_nodes(output) -> set:
    """ids of the leaf tensors that torch's backward graph accumulates into."""
    found, seen = set(), set()
    stack = [output.grad_fn] if output.grad_fn is not None else []
    while stack:
        function = stack.pop()
        if function is None or id(function) in seen:
            continue
        seen.add(id(function))
        if type(function).__name__ == "AccumulateGrad":
            found.add(id(function.variable))
        stack.extend(next_function for next_function, _ in function.next_functions)
    return found
