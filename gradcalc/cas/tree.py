"""The parsed tree -> a computer-algebra expression, for SymPy or SymEngine.

Both expose the same constructors (sin, log, Rational, Max, ...), so the
function table's `sympy` builders serve either; this module only walks the
tree (iteratively), broadcasts vector variables over their components, and
guards exact integer powers that would take minutes to build.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import PointError, TooLargeError
from ..functions import CONSTANTS, TABLE

if TYPE_CHECKING:
    from ..parsing import Expression, Node

MAX_EXACT_BITS = 4096  # largest exact integer power we let a CAS build


# Operators built a whole chain at a time: a - b + c is Add(a, -b, c) and
# a / b * c is Mul(a, 1/b, c), as SymPy and SymEngine build them pairwise.
CHAINS = {"add": "Add", "sub": "Add", "mul": "Mul", "div": "Mul"}
INVERTING = {"sub", "div"}  # their right operand enters negated / inverted


def build(
    expr: Expression,
    symbols: dict,
    module: ModuleType,
    special: dict | None = None,
    keep: bool = False,
) -> Any:
    """Build `expr` with `module` (sympy or symengine). `symbols` maps names to
    symbols (a list of symbols for a vector variable); `special` maps table
    names to builders that replace the table's (SymPy's cbrt and detach).
    Returns the root (a list when vector-valued), or with `keep` every node.

    A chain a*b*c*... (or a+b+c+...) is built by one Mul(a, b, c, ...) call:
    pairwise, each product would copy the flattened product before it, which
    is quadratic in the chain's length."""
    special = special or {}
    inside = set() if keep else chain_links(expr)
    values: dict = {}
    for node in expr.nodes:
        if id(node) in inside:
            continue  # built with the whole chain, at its top
        if node.is_leaf:
            value = symbols[node.value] if node.op == "var" else build_leaf(node, module)
        elif node.op in CHAINS and not keep:
            value = _chain(node, values, module)
        else:
            value = _apply(node, [values[id(a)] for a in node.args], module, special)
        values[id(node)] = value
    return values if keep else values[id(expr.root)]


def build_leaf(node: Node, module: ModuleType) -> Any:
    """A number (exact) or a named constant."""
    if node.op == "const":
        return getattr(module, CONSTANTS[node.value][0])
    fraction = Fraction(node.value)
    return module.Rational(fraction.numerator, fraction.denominator)


def build_operation(op: str, args: list, module: ModuleType, special: dict | None = None) -> Any:
    """One operation of the table applied to built arguments (no vectors)."""
    if special and op in special:
        return special[op](*args)
    if op == "pow":
        return _checked_pow(module, *args)
    return _sympy_builder(op)(module, *args)


def _sympy_builder(op: str) -> Callable[..., Any]:
    builder = TABLE[op].sympy
    assert builder is not None, op  # cbrt and detach come through `special`
    return builder


def chain_links(expr: Expression) -> set[int]:
    """ids of the inner links of chains: a node that is the left operand of
    an operator of its own chain (+ and - together, * and / together), or the
    right operand of + or *. (The right operand of - or / enters whole,
    negated or inverted, as it does when built pairwise.)"""
    return {id(arg) for node in expr.nodes for arg in _linked(node)}


def _linked(node: Node) -> list[Node]:
    kind = CHAINS.get(node.op)
    if kind is None:
        return []
    ends = node.args[:1] if node.op in INVERTING else node.args
    return [arg for arg in ends if CHAINS.get(arg.op) == kind]


def chain_operands(node: Node) -> list[tuple[Node, bool]]:
    """(operand, inverted) for the chain topped by `node`, left to right;
    `inverted` means it enters negated (in a sum) or as its reciprocal (in a
    product): a - b*c - d gives (a, False), (b*c, True), (d, True)."""
    operands: list[tuple[Node, bool]] = []
    stack: list[Node | tuple[Node, bool]] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            operands.append(item)
            continue
        linked = _linked(item)
        left, right = item.args
        stack.append(
            right if any(right is link for link in linked) else (right, item.op in INVERTING)
        )
        stack.append(left if any(left is link for link in linked) else (left, False))
    return operands


def _chain(node: Node, values: dict, module: ModuleType) -> Any:
    combine = getattr(module, CHAINS[node.op])
    operands = [
        _inverted(values[id(a)], CHAINS[node.op]) if inverted else values[id(a)]
        for a, inverted in chain_operands(node)
    ]
    return _broadcast(lambda *a: combine(*a), operands, node)


def _inverted(value: Any, chain: str) -> Any:
    if isinstance(value, list):
        return [_inverted(v, chain) for v in value]
    return -value if chain == "Add" else 1 / value


def _apply(node: Node, args: list, module: ModuleType, special: dict) -> Any:
    if TABLE[node.op].reduces:
        return _sympy_builder(node.op)(module, args[0])
    if TABLE[node.op].vector:
        if node.op in special:  # (the graph writes them unevaluated)
            return special[node.op](*args)
        return _whole_vectors(node, args, module)
    return _broadcast(lambda *a: build_operation(node.op, list(a), module, special), args, node)


def _whole_vectors(node: Node, args: list, module: ModuleType) -> Any:
    """A function of whole vectors (dot, softmax, ...) on built arguments."""
    lengths = {len(a) for a in args if isinstance(a, list)}
    if node.op == "dot" and len(lengths) > 1:
        raise PointError(f"vectors of different lengths {sorted(lengths)} meet in {node.text}")
    try:
        return _sympy_builder(node.op)(module, *args)
    except ValueError as error:
        raise PointError(f"{node.text}: {error}") from None


def _broadcast(fn: Callable[..., Any], args: list, node: Node) -> Any:
    lengths = {len(a) for a in args if isinstance(a, list)}
    if not lengths:
        return fn(*args)
    if len(lengths) > 1:
        raise PointError(f"vectors of different lengths {sorted(lengths)} meet in {node.text}")
    (length,) = lengths
    return [fn(*(a[i] if isinstance(a, list) else a for a in args)) for i in range(length)]


def _checked_pow(module: ModuleType, base: Any, exponent: Any) -> Any:
    # A CAS evaluates number**integer exactly: 9**9**9 would take minutes.
    if base.is_Number and exponent.is_Number:
        bits = exact_power_bits(base, exponent)
        if bits > MAX_EXACT_BITS:
            raise TooLargeError(
                f"{base}**{exponent} has about {bits:.3g} bits; numbers are limited to "
                f"{MAX_EXACT_BITS} bits"
            )
    return base**exponent


def exact_power_bits(base: Any, exponent: Any) -> float:
    """About how many bits the exact base**exponent takes: its numerator's or
    its denominator's, whichever is larger, so (1/9)**(9**9) counts as 9**9**9
    does. Rational bases and exponents of SymPy or SymEngine."""
    numerator, denominator = (abs(int(part)) for part in base.as_numer_denom())
    size = max(numerator.bit_length(), denominator.bit_length()) - 1  # log2, to a bit
    if size <= 0:  # 0, 1 or -1 to any power
        return 0.0
    try:
        return abs(float(exponent)) * size
    except OverflowError:
        return math.inf
