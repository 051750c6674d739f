"""The parsed tree -> a computer-algebra expression, for SymPy or SymEngine.

Both expose the same constructors (sin, log, Rational, Max, ...), so the
function table's `sympy` builders serve either; this module only walks the
tree (iteratively), broadcasts vector variables over their components, and
guards exact integer powers that would take minutes to build.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .errors import PointError, TooLargeError
from .functions import CONSTANTS, TABLE

MAX_EXACT_BITS = 4096  # largest exact integer power we let a CAS build


def build(expr, symbols: dict, module, special: dict | None = None, keep: bool = False):
    """Build `expr` with `module` (sympy or symengine). `symbols` maps names to
    symbols (a list of symbols for a vector variable); `special` maps table
    names to builders that replace the table's (SymPy's cbrt and detach).
    Returns the root (a list when vector-valued), or with `keep` every node."""
    special = special or {}
    values = {}
    for node in expr.nodes:
        if node.op == "num":
            fraction = Fraction(node.value)
            value = module.Rational(fraction.numerator, fraction.denominator)
        elif node.op == "const":
            value = getattr(module, CONSTANTS[node.value][0])
        elif node.op == "var":
            value = symbols[node.value]
        else:
            value = _apply(node, [values[id(a)] for a in node.args], module, special)
        values[id(node)] = value
    return values if keep else values[id(expr.root)]


def _apply(node, args, module, special):
    func = TABLE[node.op]
    if func.reduces:
        return func.sympy(module, args[0])
    builder = special.get(node.op)
    if builder is None and node.op == "pow":
        return _broadcast(lambda a, b: _checked_pow(module, a, b), args, node)
    if builder is None:
        return _broadcast(lambda *a: func.sympy(module, *a), args, node)
    return _broadcast(builder, args, node)


def _broadcast(fn, args, node):
    lengths = {len(a) for a in args if isinstance(a, list)}
    if not lengths:
        return fn(*args)
    if len(lengths) > 1:
        raise PointError(f"vectors of different lengths {sorted(lengths)} meet in {node.text}")
    (length,) = lengths
    return [fn(*(a[i] if isinstance(a, list) else a for a in args)) for i in range(length)]


def _checked_pow(module, base, exponent):
    # A CAS evaluates number**integer exactly: 9**9**9 would take minutes.
    if base.is_Number and exponent.is_Number and abs(float(base)) > 1:
        bits = abs(float(exponent)) * math.log2(abs(float(base)))
        if bits > MAX_EXACT_BITS:
            raise TooLargeError(
                f"{base}**{exponent} has about {bits:.3g} bits; numbers are limited to "
                f"{MAX_EXACT_BITS} bits"
            )
    return base**exponent
