"""Float64 failing at a point where f itself is finite.

`exp(x)*exp(-x)` at 1000 is 1, but in float64 exp(1000) is inf and inf·0 is
NaN: the point is not undefined (docs/verdicts.md: f itself not finite or not
real), float64 is too narrow for a part of the expression there. Likewise
`1/(x-pi)` at 3.141592653589793 is -8.2e15: that float64 number is not pi
(it is 1.2e-16 short), but float64's pi is the same number, so x - pi is 0
and 1/(x - pi) divides by zero in float64. The one-point driver asks
`past_float64` before it calls a non-finite float64 evaluation undefined:
when every sub-expression that is not finite in float64, and f, are finite
in 30 digits (mpmath's exponents have no float64 limit), the error says
that float64 overflows (the first such part is past float64's range: kind
`overflow`) or that its rounding fails there (kind `rounding`), exit 3 as a
computation past its budget, never that f is undefined.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import Float64RangeError, Float64RoundingError, GradcalcError
from .intervals import ASTRONOMICAL, NoIntervalForm, enclose, ends, tight
from .parsing import Expression, Node

MAX_NODES = 2_000  # a larger tree is left to the float64 verdict (30 digits per node)
LARGEST = float(np.finfo(np.float64).max)
# A 30-digit value known to fewer bits than this is a cancellation evalf could
# not resolve (x - 1000 at 1000 is "0.e-162", to 1 bit): not taken as finite.
KNOWN_BITS = 10
# Past this many (elements × nodes), a vector point is left to the float64
# verdict: 50-digit intervals take about 0.1 ms each.
MAX_ELEMENTS = 100_000


def past_float64(
    expr: Expression, node: Node, values: dict, point: dict[str, np.ndarray], where: str
) -> Float64RangeError | Float64RoundingError | None:
    """The error to raise when `node`, the first sub-expression that is not
    finite in float64 at `point` (`where` names it; `values`: each node's
    float64 value there), is finite in 30 digits, as are every other node
    that is not finite in float64 and f itself: float64 overflows there
    (`node` is past its range) or its rounding fails there. None when f is
    undefined there (or the check does not apply: a tree of more than
    MAX_NODES nodes; at a vector point, one interval arithmetic cannot
    enclose)."""
    if len(expr.nodes) > MAX_NODES:
        return None
    if any(np.ndim(v) for v in point.values()):
        return _past_float64_of_vectors(expr, node, values, point, where)
    wanted = {id(n) for n in expr.nodes if not np.all(np.isfinite(values[id(n)]))}
    wanted |= {id(expr.root)} | {id(arg) for arg in node.args}
    exact = _exact_values(expr, point, wanted)
    if exact is None:
        return None
    from .cas import sympy_engine as engine

    value = engine.value_at(exact[id(expr.root)], {})[0]
    if value is None:  # f itself past float64's range: exp(x) at 1000 is not finite there
        return None
    part = exact[id(node)]
    if any(_underflowed(values[id(arg)], exact[id(arg)]) for arg in node.args):
        return None  # below float64's smallest number: the one-point driver names it
    try:
        proof = enclose(expr, point)
    except NoIntervalForm:  # (atan): the 30 digits alone decide an overflow
        proof = {}
    if proof is None:  # a part is not bounded: exp(x)*exp(-x) + 1/(x-1000) at 1000
        return None
    if abs(part) <= LARGEST:  # float64 would hold it: did its rounding fail?
        return _rounding(expr, node, values, proof, where) if proof else None
    return Float64RangeError(
        f"{expr.source} is {value:.6g} at {where} (in 30 digits), but float64 cannot "
        f"evaluate it there: {node.brief} is {_short(part)}, past float64's largest "
        f"number ({LARGEST:.3g}), so every float64 method overflows; rewrite the "
        "expression so that no part of it leaves float64's range"
    )


def _underflowed(rounded: Any, true: Any) -> bool:
    """Is a part 0 in float64 only for being below its smallest number?"""
    return bool(np.all(np.asarray(rounded) == 0)) and bool(0 < abs(true) < SMALLEST)


SMALLEST = float(np.finfo(np.float64).smallest_subnormal)


def _rounding(
    expr: Expression, node: Node, values: dict, proof: dict[int, Any], where: str
) -> Float64RoundingError | None:
    """The error for a part, `node`, that float64 cannot hold though it is
    finite in 30 digits, when interval arithmetic proves f and every part
    finite at the point (`proof`: `intervals.enclose`) and float64 rounded an
    argument of `node` out of that argument's interval, far from it (x - pi
    is 0 at float64's pi): the rounding of a constant or of the point met a
    singularity. None where no argument is off: float64 failed by the
    function table's own domain (clamp(x, 1, 0), log to base 0)."""
    if not tight(proof):
        return None  # (tanh by exp over a wide range: an enclosure, not a value to show)
    cause = ""
    worst = ROUNDED
    for arg in node.args:
        for label, rounded, true in _elementwise(arg, values, proof):
            middle = float(true.mid)
            off = abs(rounded - middle) / max(abs(middle), float(np.finfo(np.float64).tiny))
            if rounded not in true and off > worst:
                worst = off
                cause = f"{label} is {rounded:.6g} in float64 but {_short(true.mid)} in 30 digits"
    if not cause or isinstance(proof[id(expr.root)], list):
        return None  # (a vector-valued f: no one value to show)
    part = ", ".join(_short(e.mid) for e in _listed(proof[id(node)]))
    named = node.brief if node is expr.root else f"{node.brief} ({part} in 30 digits)"
    value = float(proof[id(expr.root)].mid)
    return Float64RoundingError(
        f"{expr.source} is {value:.6g} at {where} (in 30 digits), but float64 cannot evaluate "
        f"it there: {cause}, which makes {named} not finite in float64; the function is "
        "defined there, but float64's rounding is too coarse for every float64 method"
    )


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _elementwise(node: Node, values: dict, proof: dict[int, Any]) -> list[tuple[str, float, Any]]:
    """A node's elements: (its name, its float64 value, its interval); one
    for a scalar (x-pi), one per element for a vector (x-pi[1])."""
    rounded = np.asarray(values[id(node)], dtype=np.float64).reshape(-1)
    true = proof[id(node)]
    if not isinstance(true, list):
        return [(node.brief, float(rounded[0]), true)]
    return [(f"({node.brief})[{i}]", float(r), t) for i, (r, t) in enumerate(zip(rounded, true))]


def _past_float64_of_vectors(
    expr: Expression, node: Node, values: dict, point: dict[str, np.ndarray], where: str
) -> Float64RangeError | Float64RoundingError | None:
    """past_float64 at a point with a vector variable, by interval arithmetic
    alone (no 30-digit evaluation of vectors): f is a finite real within
    float64's range, and `node` past that range (norm(x)/2 at three 1.5e308s),
    or a reduction float64 overflows inside (mean(x) at three 1.5e308s: its
    sum is 4.5e308), or float64 rounded an argument onto a pole."""
    elements = sum(np.size(v) for v in point.values())
    if elements * len(expr.nodes) > MAX_ELEMENTS:
        return None
    try:
        proof = enclose(expr, point)
    except NoIntervalForm:
        return None
    if proof is None or not tight(proof) or isinstance(proof[id(expr.root)], list):
        return None
    value = float(proof[id(expr.root)].mid)
    if not abs(value) <= LARGEST:
        return None  # f itself past float64's range
    largest = max(_listed(proof[id(node)]), key=lambda e: abs(e.mid))
    if abs(largest.mid) > LARGEST:
        inside = f"{node.brief} is {_short(largest.mid)}"
    elif node.op in SUMMED:
        inner = SUMMED[node.op](*[proof[id(a)] for a in node.args])
        if not abs(inner.mid) > LARGEST:
            return _rounding(expr, node, values, proof, where)
        inside = (
            f"{node.brief} is {_short(largest.mid)}, but float64 sums {_short(inner.mid)} to "
            "reach it, past float64's largest number"
        )
    else:
        return _rounding(expr, node, values, proof, where)
    if "past float64" not in inside:
        inside += f", past float64's largest number ({LARGEST:.3g})"
    else:
        inside += f" ({LARGEST:.3g})"
    return Float64RangeError(
        f"{expr.source} is {value:.6g} at {where} (in 30 digits), but float64 cannot "
        f"evaluate it there: {inside}, so every float64 method overflows; rewrite the "
        "expression so that no part of it leaves float64's range"
    )


def _running_largest(terms: list[Any]) -> Any:
    """The term or running sum of largest size: what float64 must hold on
    its way to a sum of `terms` (in order, as a sum of a few elements is)."""
    total, largest = terms[0], terms[0]
    for term in terms[1:]:
        total = total + term
        largest = max((largest, term, total), key=lambda e: abs(e.mid))
    return largest


# Reductions float64 computes by a sum that may leave its range though the
# result does not (mean(x) at three 1.5e308s sums 4.5e308): that sum's
# largest term or running total.
SUMMED: dict[str, Any] = {
    "mean": lambda x: _running_largest(_listed(x)),
    "sum": lambda x: _running_largest(_listed(x)),
    "dot": lambda a, b: _running_largest([u * v for u, v in zip(_listed(a), _listed(b))]),
    "norm": lambda x, p=None: _running_largest(
        [abs(v) if p is not None and p.a == 1 else v * v for v in _listed(x)]
    ),
}


# An argument float64 rounded by more than this share of its 30-digit value is
# named as the cause (x - pi at float64's pi: 0 for -1.2e-16, a share of 1).
ROUNDED = 1e-6


def _exact_values(
    expr: Expression, point: dict[str, np.ndarray], wanted: set[int]
) -> dict[int, Any] | None:
    """The `wanted` nodes' values in 30 digits (SymPy Floats), or None when
    one is not a finite real there."""
    import sympy as sp

    from .cas import sympy_engine as engine

    symbols = engine.symbols_for(expr.variables, dict.fromkeys(expr.variables))
    try:
        tree = engine.build(expr, symbols, keep=True)
    except (GradcalcError, ArithmeticError, TypeError, ValueError):
        return None  # 9**9**9 past the CAS's limit; Max(0, nan) of a part that is 1/0 exactly
    subs = engine.substitutions(symbols, point)
    values: dict[int, Any] = {}
    for node in expr.nodes:  # children first
        if id(node) not in wanted:
            continue
        if any(abs(values.get(id(arg), 0)) > ASTRONOMICAL for arg in node.args):
            return None  # (a tower of powers past this would take 30 digits forever)
        try:
            number = sp.sympify(tree[id(node)]).evalf(engine.PRECISION, subs=subs)
        except (ArithmeticError, TypeError, ValueError):
            return None
        if not (number.is_real and number.is_finite and number.is_Number):
            return None
        if isinstance(number, sp.Float) and number._prec < KNOWN_BITS:
            return None  # 0.e-162: x - 1000 at 1000, zero as far as 30 digits can tell
        values[id(node)] = number
    return values


def _short(number: Any) -> str:
    """A SymPy Float of any exponent in four digits: 1.970e+434."""
    import mpmath
    import sympy as sp

    return str(mpmath.nstr(mpmath.mpf(sp.Float(number)._mpf_), 4))


# Where each non-smooth function of the table has its kink (at_kink), as
# gaps that are 0 there: (i, j, c) is args[i] - args[j], or args[i] - c
# where j is None. abs(x) and relu(x): x; max(a, b): a - b; clamp(x, lo,
# hi): x - lo and x - hi; atan2(y, x) jumps where y is 0 (and x < 0).
KINK_GAPS: dict[str, tuple[tuple[int, int | None, float], ...]] = {
    **dict.fromkeys(("abs", "sign", "relu", "elu", "leaky_relu", "atan2"), ((0, None, 0.0),)),
    "hardtanh": ((0, None, 1.0), (0, None, -1.0)),
    "clamp": ((0, 1, 0.0), (0, 2, 0.0)),
}
TIES = ("min", "max")  # every pair of arguments


def _gaps(node: Node) -> tuple[tuple[int, int | None, float], ...]:
    if node.op in TIES:
        count = len(node.args)
        return tuple((i, j, 0.0) for i in range(count) for j in range(i + 1, count))
    return KINK_GAPS.get(node.op, ())


def rounded_onto_kink(
    expr: Expression, point: dict[str, np.ndarray], values: dict, where: str
) -> Float64RoundingError | None:
    """The error to raise where float64 finds a kink (or a jump) at `point`
    (`values`: each node's float64 value there, a batch of one) only because
    of its rounding: it put a non-smooth part onto its kink (abs(x-pi) at
    float64's pi, where x - pi is 0 in float64 but -1.2e-16 in fact), or,
    with no part on its kink in float64, one's kink lies a rounding error
    away (NEAR_KINK), closer than any float64 step can tell apart (torch's
    sqrt(2) is one step below numpy's). Interval arithmetic
    (`intervals.enclose`) must prove each such gap not 0. None where no part
    is so (abs(x-1) at 1 truly is on its kink), or nothing proves it (an
    operation without an interval form, a vector point)."""
    from . import numeric

    elements = sum(np.size(v) for v in point.values())
    if len(expr.nodes) > MAX_NODES or elements * len(expr.nodes) > MAX_ELEMENTS:
        return None
    on = [node for node, mask in numeric.nodes_at_kink(expr, values) if mask[0]]
    try:
        proof = enclose(expr, point)
    except NoIntervalForm:
        return None
    if proof is None or not tight(proof) or isinstance(proof[id(expr.root)], list):
        return None  # (a vector-valued f: no one value to show)
    value = float(proof[id(expr.root)].mid)
    head = (
        f"{expr.source} is {value:.6g} at {where} (in 30 digits), but float64 cannot "
        "differentiate it there"
    )
    tail = "float64's rounding is too coarse for every float64 method"
    for node in on:
        cause = _rounded_gaps(node, values, proof, near=False)
        if cause:
            return Float64RoundingError(
                f"{head}: {cause}, which puts {node.brief} on its kink in float64, though it is "
                f"not on it there; {tail}"
            )
    for node in [] if on else expr.nodes:
        cause = _rounded_gaps(node, values, proof, near=True)
        if cause:
            return Float64RoundingError(
                f"{head}: {cause}, so the kink of {node.brief} lies closer to the point than "
                f"float64 can tell apart, though not at it; {tail}"
            )
    return None


# A gap from a kink this small a share of its terms (16 rounding errors) is
# within float64's rounding of the point: every probe's step crosses it.
NEAR_KINK = 16 * float(np.finfo(np.float64).eps)


def _rounded_gaps(node: Node, values: dict, proof: dict[int, Any], near: bool) -> str:
    """Why float64 has `node` on its kink though the proof has it off: the
    gaps float64 makes 0 (with `near`, not 0 but within NEAR_KINK of it),
    each with its value in 30 digits, element by element for a vector; ""
    unless every such gap's interval excludes 0."""
    import mpmath

    causes = []
    for i, j, constant in _gaps(node):
        named = node.args[i].brief
        if j is not None:
            named = f"{named} - {node.args[j].brief}"
        elif constant != 0:
            named = f"{named} - {constant:g}"
        right = _columns(node.args[j], values, proof) if j is not None else None
        lefts = _columns(node.args[i], values, proof)
        if right is None:
            right = [(constant, mpmath.iv.mpf(constant))] * len(lefts)
        if len(right) != len(lefts):
            right, lefts = right * len(lefts), lefts * len(right)  # one of them is a scalar
        for k, ((left, left_true), (other, other_true)) in enumerate(zip(lefts, right)):
            rounded = left - other
            close = abs(rounded) <= NEAR_KINK * max(1.0, abs(left), abs(other))
            if (rounded != 0) if not near else (rounded == 0 or not close):
                continue  # not on (near) this kink in float64
            true = left_true - other_true
            lo, hi = ends(true)
            if lo <= 0 <= hi:
                return ""  # on it, or not known to be off it: float64's verdict stands
            shown = "0 in float64 but" if not near else f"{rounded:.4g} in float64 and"
            label = named if len(lefts) == 1 else f"({named})[{k}]"
            causes.append(f"{label} is {shown} {_short(true.mid)} in 30 digits")
    return " and ".join(causes)


def _columns(node: Node, values: dict, proof: dict[int, Any]) -> list[tuple[float, Any]]:
    """A node's elements: its float64 value and its interval, each."""
    rounded = np.asarray(values[id(node)], dtype=np.float64).reshape(-1)
    true = _listed(proof[id(node)])
    return [(float(r), t) for r, t in zip(rounded, true)]


__all__ = ["past_float64", "rounded_onto_kink"]
