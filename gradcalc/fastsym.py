"""SymEngine for large expressions: the same symbolic method, fast.

SymPy differentiates a 200-factor product in seconds and prints it in more;
SymEngine (SymPy's C++ core) does both in milliseconds. gradcalc switches to
it when the tree is large and every function in it has a SymEngine
derivative (abs, sign, min, max, relu, cbrt and detach do not, and it cannot
evaluate atan2: those stay on SymPy). Values are float64 here rather than
SymPy's 30 digits.

A product of m factors differentiates into m terms of m - 1 factors, so its
formula grows as m²; past WIDE_TERMS it is not built: `chain_rule` combines
SymEngine's derivative of each operation instead, in linear time.
"""

from __future__ import annotations

import cmath
import math

from . import cas

LARGE = 60  # tree nodes above which SymEngine takes over
# No SymEngine derivative for these; and SymEngine cannot evaluate atan2 at numbers.
UNSUPPORTED = {"abs", "sign", "min", "max", "relu", "cbrt", "detach", "atan2"}


def suits(expr, any_size: bool = False) -> bool:
    """SymEngine can differentiate every function in `expr`, and the tree is
    large (or size does not matter: the symbolic-only mode wants speed)."""
    big = any_size or len(expr.nodes) > LARGE
    return big and not any(node.op in UNSUPPORTED for node in expr.nodes)


def symbols_for(variables: list, shapes: dict) -> dict:
    import symengine as se

    out = {}
    for name in variables:
        length = shapes.get(name)
        out[name] = se.Symbol(name) if length is None else [
            se.Symbol(f"{name}[{i}]") for i in range(length)]
    return out


def build(expr, symbols: dict):
    import symengine as se

    return cas.build(expr, symbols, se)


def derivative(f, symbols: tuple):
    import symengine as se

    return se.diff(f, *symbols)


def substitutions(symbols: dict, point: dict) -> dict:
    import symengine as se

    subs = {}
    for name, symbol in symbols.items():
        values = point[name].reshape(-1)
        for s, v in zip(symbol if isinstance(symbol, list) else [symbol], values):
            subs[s] = se.RealDouble(float(v))
    return subs


def value_at(f, substitutions: dict):
    """Float value at the point; (None, reason) when not a finite real."""
    try:
        number = complex(f.subs(substitutions))
    except (TypeError, RuntimeError, ValueError, ZeroDivisionError):
        return None, "not a finite number"
    if cmath.isnan(number):
        return None, "not a number"
    if abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
        return None, "not real"
    if not math.isfinite(number.real):
        return None, "infinite"
    return number.real, None


def text(f) -> str:
    return str(f)


# A product of m factors differentiates into m terms of m - 1 factors: past
# this many factor occurrences the formula takes seconds to build and
# evaluate (about 500 factors), and is not printed anyway.
WIDE_TERMS = 250_000


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


_RULES = {}  # (op, arity) -> (placeholders, SymEngine's partial derivatives)


def _partials_of(op: str, arity: int):
    import symengine as se

    key = (op, arity)
    if key not in _RULES:
        placeholders = [se.Symbol(f"u{i}") for i in range(arity)]
        operation = cas.build_operation(op, placeholders, se)
        _RULES[key] = (placeholders, [se.diff(operation, u) for u in placeholders])
    return _RULES[key]


def chain_rule(expr, point: dict, names: list):
    """First derivatives of `expr` for each of `names` (scalar variables), in
    time linear in the tree: SymEngine differentiates each operation on its
    own (d(a*b)/da = b, d sin(u)/du = cos(u)), the partials are evaluated in
    float64 at the operation's inputs, and the chain rule combines them in
    reverse order. For products too wide to expand (`derivative_terms`).
    Returns ({name: value or None}, {name: why not}); no torch involved."""
    import symengine as se

    depends = _depends_on_variables(expr)
    values = {}
    for node in expr.nodes:  # forward: exact constants, float64 elsewhere
        if node.op == "var":
            value = se.RealDouble(float(point[node.value].reshape(-1)[0]))
        elif node.op in ("num", "const"):
            value = cas.build_leaf(node, se)
        else:
            value = cas.build_operation(node.op, [values[id(a)] for a in node.args], se)
            if depends[id(node)]:
                number, _ = value_at(value, {})
                if number is None:
                    return _nowhere(names, f"not finite at {node.brief}")
                value = se.RealDouble(number)
        values[id(node)] = value
    adjoints = {id(expr.root): 1.0}
    for node in reversed(expr.nodes):  # reverse: parents before children
        adjoint = adjoints.get(id(node))
        if adjoint is None or node.is_leaf or adjoint == 0.0:
            continue
        placeholders, partials = _partials_of(node.op, len(node.args))
        at = {u: values[id(a)] for u, a in zip(placeholders, node.args)}
        for arg, partial in zip(node.args, partials):
            if not depends[id(arg)]:
                continue
            local, why = value_at(partial.subs(at), {})
            if local is None:
                return _nowhere(names, f"{why} (the derivative of {node.brief})")
            adjoints[id(arg)] = adjoints.get(id(arg), 0.0) + adjoint * local
    found = {node.value: adjoints.get(id(node), 0.0) for node in expr.nodes
             if node.op == "var"}
    return {name: found.get(name, 0.0) for name in names}, {}


def _nowhere(names, why):
    return {name: None for name in names}, {name: why for name in names}
