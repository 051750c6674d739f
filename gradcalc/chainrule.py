"""First derivatives of very wide expressions, in linear time.

A product of m factors differentiates into m terms of m - 1 factors, so its
derivative formula grows as m²: 7,000 factors would hold 49 million. Past
the engine's WIDE_TERMS the formula is not built. Instead the computer
algebra system (SymEngine or SymPy, whichever `check` chose) differentiates
each operation on its own (d(a*b)/da = b, d sin(u)/du = cos(u)), those partials are
evaluated at the operation's inputs, and the chain rule combines them from
the output back to the variables (reverse accumulation), in float64. Torch
is not involved: autograd stays an independent check.
"""

from __future__ import annotations

from . import cas

def derivative_terms(expr) -> int:
    """About how many factor occurrences the derivative formula of `expr`
    holds because of its products: m² for each chain of m variable factors
    (divisors included)."""
    depends = _depends_on_variables(expr)
    links = cas.chain_links(expr)
    total = 0
    for node in expr.nodes:
        if cas.CHAINS.get(node.op) == "Mul" and id(node) not in links:
            m = sum(1 for factor, _ in cas.chain_operands(node) if depends[id(factor)])
            total += m * m
    return total


def _depends_on_variables(expr) -> dict:
    depends = {}
    for node in expr.nodes:
        depends[id(node)] = node.op == "var" or any(depends[id(a)] for a in node.args)
    return depends


_RULES = {}  # (engine, op, arity) -> (placeholders, the partial derivatives)


def _partials_of(engine, op: str, arity: int):
    key = (engine.__name__, op, arity)
    if key not in _RULES:
        inputs = engine.placeholders(arity)
        result = engine.operation(op, inputs)
        _RULES[key] = (inputs, [engine.derivative(result, (u,)) for u in inputs])
    return _RULES[key]


def gradient(expr, point: dict, names: list, engine):
    """d expr / d name for each of `names` (scalar variables) at `point`
    ({name: array}), with `engine` the module `fastsym` (SymEngine) or
    `symbolic` (SymPy). Returns ({name: float or None}, {name: why not})."""
    depends = _depends_on_variables(expr)
    values = {}
    for node in expr.nodes:  # forward: exact constants, float64 values elsewhere
        if node.op == "var":
            value = engine.number(float(point[node.value].reshape(-1)[0]))
        elif node.is_leaf:
            value = engine.leaf(node)
        else:
            value = engine.operation(node.op, [values[id(a)] for a in node.args])
            if depends[id(node)]:
                number, _ = engine.value_at(value, {})
                if number is None:
                    return _nowhere(names, f"not finite at {node.brief}")
                value = engine.number(number)
        values[id(node)] = value
    adjoints = {id(expr.root): 1.0}
    for node in reversed(expr.nodes):  # reverse: parents before children
        adjoint = adjoints.get(id(node))
        if adjoint is None or node.is_leaf or adjoint == 0.0:
            continue
        inputs, partials = _partials_of(engine, node.op, len(node.args))
        at = {u: values[id(a)] for u, a in zip(inputs, node.args)}
        for arg, partial in zip(node.args, partials):
            if not depends[id(arg)]:
                continue
            local, why = engine.value_at(partial, at)
            if local is None:
                return _nowhere(names, f"{why} (the derivative of {node.brief})")
            adjoints[id(arg)] = adjoints.get(id(arg), 0.0) + adjoint * local
    found = {node.value: adjoints.get(id(node), 0.0) for node in expr.nodes
             if node.op == "var"}
    return {name: found.get(name, 0.0) for name in names}, {}


def _nowhere(names, why):
    return {name: None for name in names}, {name: why for name in names}
