"""First derivatives of very wide products, in linear time.

A product of m factors differentiates into m terms of m - 1 factors, so its
derivative formula grows as m²: 7,000 factors would hold 49 million. Past
the engine's WIDE_FACTORS the formula is not built. Instead the computer
algebra system (SymEngine or SymPy, whichever `check` chose) differentiates
each operation on its own (d(a*b)/da = b, d sin(u)/du = cos(u)), those
partials are evaluated at the operation's inputs, and the chain rule
combines them from the output back to the variable (reverse accumulation),
in float64. Torch is not involved: autograd stays an independent check.
Scalar variables and first derivatives only (`check` decides).
"""

from __future__ import annotations

import math

from . import cas


def widest_product(expr) -> int:
    """The number of factors depending on a variable in the widest product
    (divisors included) of `expr`: its derivative formula holds about the
    square of it."""
    depends = _depends_on(expr, set(expr.variables))
    links = cas.chain_links(expr)
    widest = 0
    for node in expr.nodes:
        if cas.CHAINS.get(node.op) == "Mul" and id(node) not in links:
            factors = sum(1 for factor, _ in cas.chain_operands(node) if depends[id(factor)])
            widest = max(widest, factors)
    return widest


def _depends_on(expr, names: set) -> dict:
    depends = {}
    for node in expr.nodes:
        depends[id(node)] = (node.op == "var" and node.value in names) or any(
            depends[id(a)] for a in node.args
        )
    return depends


def gradient(expr, point: dict, names: list, engine):
    """d expr / d name for each of `names` (scalar variables) at `point`
    ({name: array}), with `engine` the module `fastsym` (SymEngine) or
    `symbolic` (SymPy). Returns ({name: float or None}, {name: why not})."""
    variable = _depends_on(expr, set(expr.variables))
    values = {}
    for node in expr.nodes:  # forward: exact constants, float64 values elsewhere
        if node.op == "var":
            value = engine.number(float(point[node.value].reshape(-1)[0]))
        elif node.is_leaf:
            value = engine.leaf(node)
        else:
            value = engine.operation(node.op, [values[id(a)] for a in node.args])
            if variable[id(node)]:
                number, why = engine.value_at(value, {})
                if number is None:
                    return (
                        {name: None for name in names},
                        {name: f"{why} at {node.brief}" for name in names},
                    )
                value = engine.number(number)
        values[id(node)] = value
    found, whys = {}, {}
    for name in names:
        found[name], why = _one_variable(expr, values, variable, name, engine)
        if why is not None:
            whys[name] = why
    return found, whys


def _one_variable(expr, values, variable, name, engine):
    """(d expr / d name, None), or (None, why not), by reverse accumulation."""
    depends = _depends_on(expr, {name})
    adjoints = {id(expr.root): 1.0}
    for node in reversed(expr.nodes):  # parents before children
        adjoint = adjoints.get(id(node))
        if adjoint is None or node.is_leaf or adjoint == 0.0:
            continue
        for position, arg in enumerate(node.args):
            if not depends[id(arg)]:
                continue
            partial, at = _partial(engine, node, position, values, variable)
            local, why = engine.value_at(partial, at)
            if local is None:
                return None, f"{why} (the derivative of {node.brief})"
            total = adjoints.get(id(arg), 0.0) + adjoint * local
            if not math.isfinite(total):
                return None, f"beyond float64's range (through {node.brief})"
            adjoints[id(arg)] = total
    leaves = [node for node in expr.nodes if node.op == "var" and node.value == name]
    return (adjoints.get(id(leaves[0]), 0.0) if leaves else 0.0), None


_RULES = {}  # (engine, op, arity, position, constant exponent) -> (placeholders, partial)


def _partial(engine, node, position, values, variable):
    """∂node/∂(its argument at `position`) as a formula in placeholders, and
    the placeholders' values. A constant exponent is written into the rule:
    SymPy's general d(a**b)/da = b*a**b/a is 0/0 at a = 0, d(a**2)/da = 2*a is not."""
    exponent = None
    if node.op == "pow" and position == 0 and not variable[id(node.args[1])]:
        exponent = values[id(node.args[1])]
    key = (engine.__name__, node.op, len(node.args), position, exponent)
    if key not in _RULES:
        if exponent is not None:
            inputs = engine.placeholders(1)
            result = engine.operation("pow", [inputs[0], exponent])
        else:
            inputs = engine.placeholders(len(node.args))
            result = engine.operation(node.op, inputs)
        _RULES[key] = (
            inputs,
            engine.derivative(result, (inputs[position if exponent is None else 0],)),
        )
    inputs, partial = _RULES[key]
    arguments = node.args[:1] if exponent is not None else node.args
    return partial, {u: values[id(a)] for u, a in zip(inputs, arguments)}
