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

from . import atpoint, backward, finite, numeric
from .functions import TABLE, refuse_whole_vectors
from .parsing import Expression, Node, as_expression
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
    inputs: list[int] = field(default_factory=list)  # edge indices, by argument position
    consumers: list[int] = field(default_factory=list)  # edge indices

    @property
    def leaf(self) -> bool:
        return self.kind != "operation"


@dataclass
class GraphEdge:
    index: int
    source: int  # the input node
    target: int  # the node that consumes it
    position: int  # argument position in the target
    # Filled in by the passes after the edge is made; None for a constant input.
    local_generic: str | None = None  # ∂target/∂input with the inputs named u (or a, b)
    forward_generic: str | None = None  # the target's operation on those names: sin(u), a*b
    local_symbolic: str | None = None  # the same, written with the input's expression
    local_value: Number | None = None  # evaluated at the forward values
    contribution: Number | None = None  # adjoint(target) · local, summed to the input's shape
    generic: Any = field(default=None, repr=False)  # the SymPy form, for views
    placeholders: tuple = field(default=(), repr=False)  # its input symbols, by position


@dataclass
class Graph:
    expression: str
    variables: list[str]
    point: atpoint.Point
    dtype: str
    nodes: list[GraphNode]  # index 0 is the output
    edges: list[GraphEdge]
    agree: bool  # every node's chain-rule gradient matches torch's retained .grad
    notes: list[str] = field(default_factory=list)
    # The point's verdict, the same as `gradcalc diff` gives there (pointcheck.py).
    status: str = "agree"
    reason: str = ""

    @property
    def output(self) -> GraphNode:
        return self.nodes[0]

    def children(self, node: GraphNode) -> list[GraphNode]:
        return [self.nodes[self.edges[e].source] for e in node.inputs]


@dataclass
class _Trace:
    """What the passes over one graph share: the parsed nodes, output first
    and children after parents (`order`), the GraphNodes and GraphEdges made
    for them, and the forward values. Keyed by id(parsed node)."""

    expr: Expression
    point: atpoint.Point
    order: list[Node]
    nodes: list[GraphNode]  # nodes[i] is order[i]
    edges: list[GraphEdge]
    values: dict[int, Any]  # the forward value: a (1, k) array
    index: dict[int, int]  # the place in `order`
    shapes: dict[int, int]  # the value's length (1 for a scalar)
    vector: dict[int, bool]  # the value is a vector
    depends: dict[int, bool]  # depends on a variable (else it carries no gradient)

    def node(self, parsed: Node) -> GraphNode:
        return self.nodes[self.index[id(parsed)]]

    def edge(self, parsed: Node, position: int) -> GraphEdge:
        """The edge into `parsed` from its argument at `position`."""
        return self.edges[self.node(parsed).inputs[position]]


def _labels(node: Node) -> str:
    if node.op in ("var", "num", "const"):
        return str(node.value)
    func = TABLE[node.op]
    if func.operator is not None:
        return "neg" if node.op == "neg" else func.operator
    return func.name


def _kind(node: Node) -> str:
    if node.op == "var":
        return "variable"
    return "constant" if node.op in ("num", "const") else "operation"


def _tolist(array: Any) -> Number:
    array = np.asarray(array, dtype=np.float64).reshape(-1)
    return float(array[0]) if array.size == 1 else [float(v) for v in array]


def build(
    expression: str | Expression,
    at: Any = None,
    dtype: str = "float64",
    verdict: tuple[str, str] | None = None,
) -> Graph:
    """Trace `expression` at the point: forward values, local derivatives,
    adjoints, and torch's grad_fn view; with the point's verdict (status,
    reason) as `gradcalc diff` gives it there, computed unless the caller has
    it (`verdict`: diff --steps/--graph, which has just differentiated)."""
    expr = as_expression(expression)
    refuse_whole_vectors(
        expr,
        "the graph and the steps write each node's local derivative element by element, and "
        "this one mixes the elements (its derivative is a gradient or a Jacobian, which diff "
        "gives)",
        allowed=tuple(f.name for f in TABLE.values() if f.vector == "reduce"),
    )
    point = atpoint.point(at, expr.variables)
    values = finite.values_at(expr, point)  # diff's error where f or a part is not finite
    trace = _trace(expr, point, values)
    _local_derivatives(trace)
    _adjoints(trace)
    notes = _torch_view(trace, dtype)
    for node, _ in numeric.nodes_at_kink(expr, values):
        notes.append(
            f"{node.brief} sits on its kink here: the gradients through it are "
            "torch's subgradient convention (halved at a tie of max or min)"
        )
    agree = _compare(trace, dtype)
    _mark_nan_source(trace, notes)
    if verdict is None:
        from .pointcheck import differentiate

        judged = differentiate(expr, point, dtype=dtype)
        verdict = (judged.status, judged.reason)
    return Graph(
        expression=expr.source,
        variables=list(expr.variables),
        point=point,
        dtype=dtype,
        nodes=trace.nodes,
        edges=trace.edges,
        agree=agree,
        notes=notes,
        status=verdict[0],
        reason=verdict[1],
    )


def _trace(expr: Expression, point: atpoint.Point, values: dict[int, Any]) -> _Trace:
    """A node for every operation, with its forward value, and an edge from
    every input to the node that consumes it."""
    order = list(reversed(expr.nodes))  # output first, children after parents
    index = {id(node): i for i, node in enumerate(order)}
    vector = {id(n): _is_vector(n, point, values) for n in order}
    nodes = [
        GraphNode(i, n.op, _labels(n), n.text, _kind(n), _value(values[id(n)], vector[id(n)]))
        for i, n in enumerate(order)
    ]
    edges: list[GraphEdge] = []
    for node in order:
        for position, child in enumerate(node.args):
            edge = GraphEdge(len(edges), index[id(child)], index[id(node)], position)
            edges.append(edge)
            nodes[index[id(node)]].inputs.append(edge.index)
            nodes[index[id(child)]].consumers.append(edge.index)
    depends = backward.depends_on(expr, set(expr.variables))
    for node, parsed in zip(nodes, order):
        node.depends = depends[id(parsed)]
    return _Trace(
        expr=expr,
        point=point,
        order=order,
        nodes=nodes,
        edges=edges,
        values=values,
        index=index,
        shapes={id(n): np.asarray(values[id(n)]).shape[-1] for n in order},
        vector=vector,
        depends=depends,
    )


def _compare(trace: _Trace, dtype: str) -> bool:
    """Each node's chain-rule gradient against torch's retained .grad (its
    `agree`); whether every node agrees."""
    tolerance = AUTOGRAD_TOLERANCE[dtype]
    agree = True
    for node, parsed in zip(trace.nodes, trace.order):
        if not trace.depends[id(parsed)] or node.detached:
            continue  # constants carry no gradient to compare
        if node.kind == "operation" and node.grad_fn is None:
            # Computed from detached values only (detach(x)^2): torch does not
            # track it, so it has no .grad to compare, by design.
            continue
        mine = np.ravel(np.asarray(node.adjoint if node.adjoint is not None else 0.0))
        theirs = np.ravel(np.asarray(node.torch_grad if node.torch_grad is not None else 0.0))
        if mine.shape != theirs.shape:
            theirs = np.broadcast_to(theirs, mine.shape)
        node.agree = bool(all(tolerance.allows(float(t), float(m)) for m, t in zip(mine, theirs)))
        agree = agree and node.agree
    return agree


def _mark_nan_source(trace: _Trace, notes: list[str]) -> None:
    """Where a leaf's torch gradient is not finite, mark the node where the
    backward pass first meets 0·∞ (see nantrace)."""
    leaves = [trace.node(n) for n in trace.order if n.op == "var"]
    if all(np.all(np.isfinite(np.asarray(leaf.torch_grad, dtype=float))) for leaf in leaves):
        return
    found = backward.first_nonfinite(trace.expr, trace.values)
    if found is not None:
        grads = np.concatenate(
            [np.ravel(np.asarray(leaf.torch_grad, dtype=float)) for leaf in leaves]
        )
        kind = "NaN" if np.any(np.isnan(grads)) else "infinite"
        node = trace.node(found[0])
        node.nan_source, node.nan_kind = True, kind
        notes.append(
            f"torch's gradient becomes {kind} at {found[0].brief}: its derivative is infinite at "
            f"{found[1].brief} = {float(np.ravel(trace.values[id(found[1])])[0]):g}"
            + (" (0·∞)" if kind == "NaN" else "")
        )


def _is_vector(node: Node, point: atpoint.Point, values: dict[int, Any]) -> bool:
    return np.asarray(values[id(node)]).shape[-1] > 1 or (
        node.op == "var" and np.asarray(point[node.value]).ndim == 1
    )


def _value(array: Any, vector: bool) -> Number:
    flat = np.asarray(array, dtype=np.float64).reshape(-1)
    return [float(v) for v in flat] if vector else float(flat[0])


def _local_derivatives(trace: _Trace) -> None:
    """Every edge's local derivative (backward.local_rule, SymPy), written
    generically and with the input's expression, and its value."""
    import sympy as sp

    from .cas import sympy_engine as symbolic
    from .cas import tree

    # Each sub-expression as SymPy, every variable scalar (vectors elementwise),
    # to write local derivatives in terms of the inputs.
    nodes = trace.expr.nodes
    scalars = {n.value: sp.Symbol(str(n.value), real=True) for n in nodes if n.op == "var"}
    # Functions of whole vectors stay unevaluated: norm(x), x[0] as written.
    unevaluated = {
        name: (lambda *a, name=name: _written(name, a)) for name, f in TABLE.items() if f.vector
    }
    texts = tree.build(trace.expr, scalars, sp, {**symbolic.SPECIAL, **unevaluated}, keep=True)
    for node in nodes:
        for position, child in enumerate(node.args):
            if trace.depends[id(child)]:  # constants receive no gradient
                _local_derivative(trace, texts, node, position)


def _local_derivative(trace: _Trace, texts: dict[int, Any], node: Node, position: int) -> None:
    """The local derivative along one edge: `node` by its input at `position`."""
    import sympy as sp

    func = TABLE.get(node.op)
    exponent = backward.constant_exponent(node, trace.depends, texts) if position == 0 else None
    if node.op != "detach" and func is not None and func.vector and not func.reduces:
        _whole_vector_derivative(trace, texts, node, position)  # dot, norm, logsumexp, ...
        return
    placeholders, generic = _local_rule(trace, node, position, exponent)
    arguments = node.args[: len(placeholders)]
    written = generic.xreplace({p: texts[id(a)] for p, a in zip(placeholders, arguments)})
    edge = trace.edge(node, position)
    edge.generic, edge.placeholders = generic, tuple(placeholders)
    names = [str(p) for p in placeholders]
    if exponent is not None:
        names = [names[0], sp.sstr(exponent)]
    edge.forward_generic = forward_text(node.op, names)
    edge.local_generic = sp.sstr(generic)
    edge.local_symbolic = sp.sstr(written)
    edge.local_value = _evaluate_elementwise(
        generic, placeholders, arguments, trace.values, trace.vector
    )
    if node.op in backward.TIES:
        share = backward.tie_share(node.op, position, [trace.values[id(a)] for a in node.args])
        if share is not None:
            vector = trace.vector[id(node.args[position])]
            edge.local_value = _tolist(share) if vector else float(share.sum())


def _local_rule(trace: _Trace, node: Node, position: int, exponent: Any) -> tuple[list[Any], Any]:
    """(the input placeholders, the local derivative on them) of an
    elementwise operation, a detach (zero) or a reduction (1, or 1/n)."""
    import sympy as sp

    from .cas import sympy_engine as symbolic

    func = TABLE.get(node.op)
    if node.op == "detach":
        return symbolic.placeholders(["u"]), sp.S.Zero
    if func is not None and func.reduces:
        child = node.args[position]
        n = trace.shapes[id(child)] if trace.vector[id(child)] else 1
        generic = sp.Integer(1) / n if node.op == "mean" else sp.Integer(1)
        return symbolic.placeholders(["u"]), generic
    return backward.local_rule(
        symbolic.ENGINE_INSTANCE, node.op, len(node.args), position, exponent
    )


def _whole_vector_derivative(
    trace: _Trace, texts: dict[int, Any], node: Node, position: int
) -> None:
    """The local derivative of a function of whole vectors whose value is a
    number (dot, norm, logsumexp, ...), by its rule in backward."""
    import sympy as sp

    rule = backward.whole_vector_rule(node.op, position, len(node.args))
    assert rule is not None, (node.op, position)  # (k, i and p carry no gradient)
    placeholders, generic = list(rule[0]), rule[1]
    arguments = [trace.values[id(a)] for a in node.args]
    local = backward.whole_vector_local(node.op, position, arguments)
    edge = trace.edge(node, position)
    edge.generic, edge.placeholders = generic, tuple(placeholders)
    edge.forward_generic = forward_text(node.op, [str(p) for p in placeholders])
    edge.local_generic = sp.sstr(generic)
    edge.local_symbolic = sp.sstr(
        generic.xreplace({p: texts[id(a)] for p, a in zip(placeholders, node.args)})
    )
    vector = trace.vector[id(node.args[position])]
    edge.local_value = _tolist(local) if vector else float(local[0])


def _written(name: str, args: tuple[Any, ...]) -> Any:
    """`name(args)` as an unevaluated SymPy function (x[i] for an index),
    for the local derivatives' texts."""
    import sympy as sp

    if name == "index":
        return sp.Symbol(f"{sp.sstr(args[0])}[{sp.sstr(args[1])}]", real=True)
    return sp.Function(name)(*args)


def forward_text(op: str, names: list[str]) -> str:
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


def _evaluate_elementwise(
    generic: Any,
    placeholders: list[Any],
    arguments: tuple[Node, ...],
    values: dict[int, Any],
    vector: dict[int, bool],
) -> Number:
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


def symbolic_float(value: float) -> Any:
    """`value` as a SymPy Float at the symbolic engine's precision."""
    import sympy as sp

    from .cas.sympy_engine import PRECISION

    return sp.Float(float(value), PRECISION)


def _adjoints(trace: _Trace) -> None:
    """Adjoints of every node by the one backward sweep (see backward), with
    the local derivatives' values; each edge keeps what flowed through it."""

    def contribution(node: Node, position: int, adjoint: Any) -> Any:
        edge = trace.edge(node, position)
        child = trace.nodes[edge.source]
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

    root = trace.nodes[0]
    seed = np.ones(len(root.value)) if isinstance(root.value, list) else 1.0
    adjoints = backward.sweep(trace.expr, seed, contribution)
    for node in trace.expr.nodes:
        mine = trace.node(node)
        adjoint = adjoints.get(id(node))
        if adjoint is not None:
            mine.adjoint = _tolist(adjoint) if isinstance(mine.value, list) else float(adjoint)
        # Nothing flows below a detach: its inputs only get what other paths give.
        mine.detached = trace.depends[id(node)] and (adjoint is None or node.op == "detach")


def _torch_view(trace: _Trace, dtype: str) -> list[str]:
    """Real grad_fn names and retained gradients from the graph torch built."""
    import torch

    from . import autograd

    leaves = autograd.leaves_for(trace.point, dtype)
    tensors = autograd.build(trace.expr, leaves, dtype, keep=True)
    for node in trace.order:
        tensor = tensors[id(node)]
        if tensor.requires_grad and not tensor.is_leaf:
            tensor.retain_grad()
    output = autograd.scalar_output(tensors[id(trace.expr.root)])
    accumulators = _accumulate_grad_nodes(output)
    notes = []
    if output.requires_grad:
        output.backward()
    else:
        notes.append("the output does not depend on any variable through a gradient path")
    for node in trace.order:
        mine = trace.node(node)
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


def _accumulate_grad_nodes(output: Any) -> set[int]:
    """ids of the leaf tensors that torch's backward graph accumulates into."""
    found: set[int] = set()
    seen: set[int] = set()
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
