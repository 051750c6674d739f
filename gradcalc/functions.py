"""The function table: one entry per operator or function.

Every other module reads this table: the parser (names and arity), the SymPy
builders (`cas/`), the torch translator (`autograd.py`), the numpy
evaluator used by finite differences (`numeric.py`), `--help`/README (`doc`,
`domain`) and the tests (`samples`, and `mpmath`, an independent reference).

Builders receive the backend module first (``sp``, ``torch``, ``np``, ``mp``)
so that this module imports none of them.

Numpy builders see arrays shaped ``(batch, k)`` where ``k`` is 1 for scalars
and the vector length for vector variables; reductions act on the last axis.
Torch builders see plain 0-d or 1-d tensors of one point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType, ModuleType
from typing import Any, NamedTuple


# A named tuple, not a frozen dataclass of 24 fields: defining that cost
# every run ~1.5 ms of start-up (its generated methods are compiled then).
class Function(NamedTuple):
    name: str
    arity: tuple  # (min, max); max None means any number >= min
    sympy: Callable | None  # None: cas/sympy_engine brings its own (cbrt, detach)
    torch: Callable
    numpy: Callable
    mpmath: Callable
    doc: str
    domain: str = "all reals"
    samples: tuple = ()  # argument tuples inside the domain, away from kinks
    kink: str | None = None  # "corner" (abs, relu, max) or "jump" (sign)
    at_kink: Callable | None = None  # (np, *args) -> bool array
    # (np, *args) -> which smooth piece the arguments are on (a number per
    # element): a finite-difference step must not change it (numeric.py).
    side: Callable | None = None
    # (np, *args) -> a quantity that is 0 where f or its derivatives are
    # singular (a pole, a branch point): a finite-difference stencil may not
    # reach within its own length of that place (numeric.near_singular).
    singular: Callable | None = None
    aliases: tuple = ()
    reduces: bool = False  # vector -> scalar (mean, sum)
    # A function of whole vectors: its builders take lists (SymPy), 1-D
    # tensors (torch) and (points, elements) arrays (numpy, the last axis the
    # vector's), never broadcast element by element. "reduce": a number
    # (dot, norm, logsumexp, prod, cross_entropy); "map": a vector as long as
    # its argument (softmax, log_softmax).
    vector: str | None = None
    # Argument positions that must be numbers, not expressions of the
    # variables (norm's p, cross_entropy's class k): the parser refuses them.
    constants: tuple = ()
    operator: str | None = None  # infix/prefix spelling for operators
    # SymEngine differentiates it and evaluates it at numbers (cas.choose).
    symengine: bool = True
    # SymPy classes its `numpy` builder evaluates in a derivative (default:
    # the function's own name), for --points (sympy_engine.evaluate_numpy).
    sympy_heads: tuple = ()
    extra: Mapping[str, Any] = MappingProxyType({})  # (read-only: shared by all)
    # Its numpy form subtracts terms as large as its arguments (x − logsumexp(x)):
    # float64 rounds its value by eps·max|argument|, not eps·|value|
    # (evaluation.rounding_noise).
    cancels: bool = False

    @property
    def heads(self) -> tuple:
        return self.sympy_heads or (self.name,)


def _erf_np(np: ModuleType, x: Any, fn: Callable[[float], float] = math.erf) -> Any:
    # numpy has no erf; math.erf is correctly rounded to ~1 ulp. frompyfunc
    # loops in C over Python floats, acceptable for this one rare function.
    return np.frompyfunc(fn, 1, 1)(x).astype(float)


def _np_sigmoid(np: ModuleType, x: Any) -> Any:
    """1/(1 + exp(-x)) without cancellation in either tail: exp(-|x|) never
    overflows, and below 0 the value is exp(x)/(1 + exp(x)), as small as
    float64 holds (0.5·(1 + tanh(x/2)) rounds to 0 below about -37)."""
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _np_gelu_tanh(np: ModuleType, x: Any) -> Any:
    # x/2·(1 + tanh(u)) is x·sigmoid(2u): no 1 - 1 cancellation in the left tail.
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    return x * _np_sigmoid(np, 2.0 * u)


def _sympy_leaky(sp: ModuleType, x: Any, slope: Any = None) -> Any:
    # slope·x + (1 - slope)·max(0, x): one formula for any slope, whose
    # derivative SymPy writes with Heaviside (numpy-evaluable, see heads).
    slope = sp.Rational(1, 100) if slope is None else slope
    return slope * x + (1 - slope) * sp.Max(0, x)


def _sympy_log(sp: ModuleType, x: Any, base: Any = None) -> Any:
    return sp.log(x) if base is None else sp.log(x) / sp.log(base)


def _torch_log(t: ModuleType, x: Any, base: Any = None) -> Any:
    return t.log(x) if base is None else t.log(x) / t.log(base)


def _np_log(np: ModuleType, x: Any, base: Any = None) -> Any:
    if base is None:
        return np.log(x)
    # Base 0 is outside the domain, though log(x)/log(0) = log(x)/-inf is a
    # finite 0: NaN says so (the numeric evaluation decides what is undefined).
    return np.log(x) / np.where(np.asarray(base) > 0, np.log(base), np.nan)


def _mp_log(mp: ModuleType, x: Any, base: Any = None) -> Any:
    return mp.log(x) if base is None else mp.log(x) / mp.log(base)


def _fold(op: Callable[[Any, Any], Any], args: Sequence[Any]) -> Any:
    result = args[0]
    for arg in args[1:]:
        result = op(result, arg)
    return result


def _ties(np: ModuleType, *args: Any) -> Any:
    # max/min are not differentiable where two arguments tie.
    out = np.zeros(np.broadcast_shapes(*(np.shape(a) for a in args)), dtype=bool)
    for i, a in enumerate(args):
        for b in args[i + 1 :]:
            # Exactly: arguments 1e-12 apart are two smooth pieces, and the
            # point is on one of them (the finite differences step around it).
            out |= a == b
    return out


def _which(np: ModuleType, pick: Callable[..., Any], *args: Any) -> Any:
    # The index of the argument max/min picks: its smooth piece.
    shape = np.broadcast_shapes(*[np.shape(a) for a in args])  # np.broadcast: 64 at most
    stacked = np.stack([np.broadcast_to(a, shape) for a in args])
    return pick(stacked, axis=0).astype(float)


def _sign_side(np: ModuleType, x: Any, *_: Any) -> Any:
    return np.sign(x)


def _at_zero(np: ModuleType, x: Any, *_: Any) -> Any:
    return x == 0  # 1e-300 is on a piece, as 1e-3 is


def _never(np: ModuleType, *args: Any) -> Any:
    # No kink of the function's own (see `side`: a pole or a branch is not a kink).
    return np.zeros(np.broadcast_shapes(*[np.shape(a) for a in args]), dtype=bool)


def _pole_side(np: ModuleType, a: Any, b: Any) -> Any:
    # a / b: which side of b = 0 (a pole) the point is on.
    return np.sign(b) + 0 * a


def _power_side(np: ModuleType, a: Any, b: Any) -> Any:
    # a ** b with b < 0: which side of the pole at a = 0; no pole for b >= 0.
    # A constant exponent without a pole: one piece, said once (the size-1
    # side that numeric.crosses_piece reads as "nothing to cross").
    if np.size(b) == 1 and not b < 0:
        return np.zeros(np.shape(b))
    return np.where(b < 0, np.sign(a), 0.0)


def _power_singular(np: ModuleType, a: Any, b: Any) -> Any:
    # a ** b is singular (itself or a derivative) at a = 0 unless b is a
    # whole number >= 0; inf (never 0) there.
    whole = (b >= 0) & (b == np.floor(b))
    return np.where(whole, np.inf, a)


def _log_singular(np: ModuleType, x: Any, base: Any = None) -> Any:
    # log(x) at x = 0; log(x, b) also at b = 1 (log(b) = 0) and b = 0.
    return x if base is None else x * np.log(np.abs(base)) * base


def _period_side(np: ModuleType, x: Any) -> Any:
    # cot, csc: which of the intervals between poles (k*pi) x is in.
    return np.floor(x / math.pi)


def _half_period_side(np: ModuleType, x: Any) -> Any:
    # tan, sec: the same, between the poles at pi/2 + k*pi.
    return np.floor((x - math.pi / 2) / math.pi)


def _branch_side(np: ModuleType, y: Any, x: Any) -> Any:
    # atan2 jumps from pi to -pi across the negative x axis (y = 0, x < 0).
    return np.where(x < 0, np.sign(y), 0.0)


def _on_branch_cut(np: ModuleType, y: Any, x: Any) -> Any:
    return (y == 0) & (x < 0)


# -- functions of whole vectors ----------------------------------------------
# Their SymPy builders take a list of elements (a scalar is a vector of one).


def _elements(x: Any) -> list:
    return list(x) if isinstance(x, list) else [x]


def _pairs(a: Any, b: Any) -> list:
    """dot's pairs of elements: two vectors of one length."""
    a, b = _elements(a), _elements(b)
    if len(a) != len(b):
        raise ValueError(f"dot(a, b) takes two vectors of one length, not {len(a)} and {len(b)}")
    return list(zip(a, b))


def _indexed(x: Any, i: Any) -> Any:
    """x[i]: an element of a vector (a number has no elements to pick)."""
    if not isinstance(x, list):
        raise ValueError("[i] picks an element of a vector, and this is a number")
    return x[position(i, len(x))]


def norm_order(p: Any) -> float:
    """norm(x, p)'s p as a float, 1.0 or 2.0 (2.0 when absent); ValueError
    for any other (SymPy's Float(1.0) == 1 is False: compared as floats)."""
    order = 2.0 if p is None else float(p)
    if order not in (1.0, 2.0):
        raise ValueError(f"norm(x, p): p is 1 or 2, not {order!r}")
    return order


def _sympy_norm(sp: ModuleType, x: Any, p: Any = None) -> Any:
    xs = _elements(x)
    if norm_order(p) == 2:
        return sp.sqrt(sp.Add(*[v**2 for v in xs]))
    return sp.Add(*[sp.Abs(v) for v in xs])


def _sympy_logsumexp(sp: ModuleType, x: Any) -> Any:
    return sp.log(sp.Add(*[sp.exp(v) for v in _elements(x)]))


def _sympy_softmax(sp: ModuleType, x: Any) -> Any:
    xs = _elements(x)
    total = sp.Add(*[sp.exp(v) for v in xs])
    return [sp.exp(v) / total for v in xs]


def _sympy_log_softmax(sp: ModuleType, x: Any) -> Any:
    xs = _elements(x)
    return [v - _sympy_logsumexp(sp, xs) for v in xs]


def class_index(k: Any, length: int) -> int:
    """cross_entropy's class: an integer constant 0 <= k < length."""
    from .errors import UsageError

    try:
        value = float(k)
    except (TypeError, ValueError):
        raise UsageError("cross_entropy(logits, k): k is a class index, a number") from None
    if not value.is_integer() or not 0 <= value < length:
        raise UsageError(
            f"cross_entropy(logits, k): k is a class index 0 to {length - 1}, not {value:g}"
        )
    return int(value)


def _sympy_cross_entropy(sp: ModuleType, logits: Any, k: Any) -> Any:
    xs = _elements(logits)
    return -_sympy_log_softmax(sp, xs)[class_index(k, len(xs))]


def _np_logsumexp(np: ModuleType, x: Any) -> Any:
    top = np.max(x, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return top + np.log(np.sum(np.exp(x - top), axis=-1, keepdims=True))


def _np_norm(np: ModuleType, x: Any, p: Any = None) -> Any:
    if p is not None and np.all(np.asarray(p) == 1):
        return np.sum(np.abs(x), axis=-1, keepdims=True)
    plain = np.sqrt(np.sum(x * x, axis=-1, keepdims=True))
    # Past about 1e154 the squares overflow (below 1e-154 they underflow):
    # there, scaled by the largest element (norm([1e200, 1e200]) is 1.4e200).
    big = np.max(np.abs(x), axis=-1, keepdims=True)
    odd = (~np.isfinite(plain) | ((plain < 1e-150) & (big > 0))) & np.isfinite(big)
    if not np.any(odd):
        return plain
    scaled = big * np.sqrt(np.sum((x / np.where(odd, big, 1.0)) ** 2, axis=-1, keepdims=True))
    return np.where(odd, scaled, plain)


def _np_cross_entropy(np: ModuleType, logits: Any, k: Any) -> Any:
    index = np.broadcast_to(np.asarray(k), logits.shape[:-1] + (1,)).astype(int)
    index = np.clip(index, 0, logits.shape[-1] - 1)
    log_softmax = logits - _np_logsumexp(np, logits)
    return -np.take_along_axis(log_softmax, index, axis=-1)


def _torch_norm(t: ModuleType, x: Any, p: Any = None) -> Any:
    # As written, sqrt(Σ x²): the form whose gradient at 0 is NaN (0·∞), which
    # the NaN trace names (torch.linalg.vector_norm answers a subgradient 0).
    if p is not None and float(p) == 1:
        return x.abs().sum()
    return t.sqrt((x * x).sum())


def _np_prod(np: ModuleType, x: Any) -> Any:
    # The product, never overflowing or underflowing partway when the result
    # is in range ([1e200, 1e200, 1e-300] is 1e100): the elements' mantissas
    # multiplied with the running product renormalized, the exponents summed.
    plain = np.prod(x, axis=-1, keepdims=True)
    if np.all(np.isfinite(plain) & ((plain != 0) | np.any(x == 0, axis=-1, keepdims=True))):
        return plain
    mantissas, exponents = np.frexp(np.asarray(x, dtype=np.float64))
    product = np.ones(np.shape(x)[:-1] + (1,))
    total = np.sum(exponents, axis=-1, keepdims=True)
    for k in range(np.shape(x)[-1]):
        product, shift = np.frexp(product * mantissas[..., k : k + 1])
        total = total + shift
    return np.ldexp(product, np.clip(total, -(2**31), 2**31 - 1).astype(np.int64))


_MANTISSAS = 1000  # a product of this many mantissas in [0.5, 1) is still a normal float64


def _torch_prod(t: ModuleType, x: Any) -> Any:
    # The same in torch, differentiably: each element scaled by an exact power
    # of two (held constant: its gradient flows through x), the mantissas'
    # product, then the powers of two put back; where torch's own product
    # is in range all the way, torch's own (x.prod()).
    plain = x.prod()
    if t.isfinite(plain) and (plain != 0 or bool((x == 0).any())):
        return plain
    _, exponents = t.frexp(x.detach())
    scaled = x * t.exp2(-exponents.to(x.dtype))
    power = exponents.sum()
    if scaled.numel() > _MANTISSAS:  # their product underflows: renormalized chunk by chunk
        chunks = t.stack([c.prod() for c in scaled.reshape(-1).split(_MANTISSAS)])
        _, shifts = t.frexp(chunks.detach())
        scaled, power = chunks * t.exp2(-shifts.to(x.dtype)), power + shifts.sum()
    scaled = scaled.prod()
    _, shift = t.frexp(scaled.detach())
    mantissa = scaled * t.exp2(-shift.to(x.dtype))
    power = power + shift
    # 2**power in two halves: each in range when the product is.
    half = t.div(power, 2, rounding_mode="floor")
    return mantissa * t.exp2(half.to(x.dtype)) * t.exp2((power - half).to(x.dtype))


def _mp_logsumexp(mp: ModuleType, x: Any) -> Any:
    # A scalar is a vector of one: logsumexp(x) = x (numpy and torch agree).
    items = x if isinstance(x, list | tuple) or hasattr(x, "tolist") else [x]
    return mp.log(mp.fsum(mp.exp(v) for v in items))


def _np_all_zero(np: ModuleType, x: Any, *_: Any) -> Any:
    return np.all(x == 0, axis=-1, keepdims=True)


def _np_any_zero(np: ModuleType, x: Any, *_: Any) -> Any:
    return np.any(x == 0, axis=-1, keepdims=True)


def position(i: Any, length: int) -> int:
    """x[i]'s element: an integer 0 <= i < length (negative counts from the end)."""
    from .errors import UsageError

    value = float(i)
    if not value.is_integer() or not -length <= value < length:
        raise UsageError(f"index {value:g} is outside a vector of {length} (0 to {length - 1})")
    return int(value) % length


def _np_index(np: ModuleType, x: Any, i: Any) -> Any:
    at = position(np.ravel(i)[0], x.shape[-1])
    return x[..., at : at + 1]


def _np_vector(np: ModuleType, *parts: Any) -> Any:
    rows = max(np.shape(p)[0] if np.ndim(p) == 2 else 1 for p in parts)
    blocks = [
        np.broadcast_to(
            np.reshape(p, (-1, np.shape(p)[-1]) if np.ndim(p) else (1, 1)),
            (rows, np.shape(p)[-1] if np.ndim(p) else 1),
        )
        for p in parts
    ]
    return np.concatenate(blocks, axis=-1)


OPERATORS = [
    Function(
        "add",
        (2, 2),
        lambda sp, a, b: a + b,
        lambda t, a, b: a + b,
        lambda np, a, b: a + b,
        lambda mp, a, b: a + b,
        "a + b",
        operator="+",
        samples=((1.5, -0.25),),
    ),
    Function(
        "sub",
        (2, 2),
        lambda sp, a, b: a - b,
        lambda t, a, b: a - b,
        lambda np, a, b: a - b,
        lambda mp, a, b: a - b,
        "a - b",
        operator="-",
        samples=((1.5, -0.25),),
    ),
    Function(
        "mul",
        (2, 2),
        lambda sp, a, b: a * b,
        lambda t, a, b: a * b,
        lambda np, a, b: a * b,
        lambda mp, a, b: a * b,
        "a * b (also implicit: 2x, 3(x+1), (x+1)(x-1))",
        operator="*",
        samples=((1.5, -0.25),),
    ),
    Function(
        "div",
        (2, 2),
        lambda sp, a, b: a / b,
        lambda t, a, b: a / b,
        lambda np, a, b: a / b,
        lambda mp, a, b: a / b,
        "a / b",
        domain="b != 0",
        operator="/",
        samples=((1.5, -0.25),),
        at_kink=_never,
        side=_pole_side,
        singular=lambda np, a, b: b + 0 * a,
    ),
    Function(
        "pow",
        (2, 2),
        lambda sp, a, b: a**b,
        lambda t, a, b: a**b,
        lambda np, a, b: np.power(a, b),
        lambda mp, a, b: mp.power(a, b),
        "a ** b (also a ^ b)",
        domain="a > 0, or a < 0 with integer b, or a = 0 with b > 0",
        operator="**",
        samples=((1.5, 2.5), (0.7, -1.3)),
        at_kink=_never,
        side=_power_side,
        singular=_power_singular,
    ),
    Function(
        "index",
        (2, 2),
        lambda sp, x, i: _indexed(x, i),
        lambda t, x, i: x.reshape(-1)[position(i, x.numel())],
        _np_index,
        lambda mp, x, i: x[int(i)],
        "x[i]: element i of a vector (from 0; x[-1] is the last)",
        operator="[]",
        vector="reduce",
    ),
    Function(
        "vector",
        (1, None),
        lambda sp, *parts: [e for p in parts for e in _elements(p)],
        lambda t, *parts: t.cat([p.reshape(-1) for p in parts]),
        _np_vector,
        lambda mp, *parts: [e for p in parts for e in (p if isinstance(p, list) else [p])],
        "[a, b, ...]: a vector of its elements (its derivative is a Jacobian)",
        operator="[,]",
        vector="map",
    ),
    Function(
        "neg",
        (1, 1),
        lambda sp, a: -a,
        lambda t, a: -a,
        lambda np, a: -a,
        lambda mp, a: -a,
        "-a",
        operator="-",
        samples=((0.8,),),
    ),
]

FUNCTIONS = [
    Function(
        "sin",
        (1, 1),
        lambda sp, x: sp.sin(x),
        lambda t, x: t.sin(x),
        lambda np, x: np.sin(x),
        lambda mp, x: mp.sin(x),
        "sine",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "cos",
        (1, 1),
        lambda sp, x: sp.cos(x),
        lambda t, x: t.cos(x),
        lambda np, x: np.cos(x),
        lambda mp, x: mp.cos(x),
        "cosine",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "tan",
        (1, 1),
        lambda sp, x: sp.tan(x),
        lambda t, x: t.tan(x),
        lambda np, x: np.tan(x),
        lambda mp, x: mp.tan(x),
        "tangent",
        domain="x != pi/2 + k*pi",
        at_kink=_never,
        side=_half_period_side,
        samples=((0.7,), (-1.1,)),
        singular=lambda np, x: np.cos(x),
    ),
    Function(
        "sec",
        (1, 1),
        lambda sp, x: sp.sec(x),
        lambda t, x: 1 / t.cos(x),
        lambda np, x: 1 / np.cos(x),
        lambda mp, x: mp.sec(x),
        "secant, 1/cos",
        domain="x != pi/2 + k*pi",
        at_kink=_never,
        side=_half_period_side,
        samples=((0.7,), (-1.1,)),
        singular=lambda np, x: np.cos(x),
    ),
    Function(
        "csc",
        (1, 1),
        lambda sp, x: sp.csc(x),
        lambda t, x: 1 / t.sin(x),
        lambda np, x: 1 / np.sin(x),
        lambda mp, x: mp.csc(x),
        "cosecant, 1/sin",
        domain="x != k*pi",
        at_kink=_never,
        side=_period_side,
        samples=((0.7,), (-1.1,)),
        singular=lambda np, x: np.sin(x),
    ),
    Function(
        "cot",
        (1, 1),
        lambda sp, x: sp.cot(x),
        lambda t, x: 1 / t.tan(x),
        lambda np, x: 1 / np.tan(x),
        lambda mp, x: mp.cot(x),
        "cotangent, 1/tan",
        domain="x != k*pi",
        at_kink=_never,
        side=_period_side,
        samples=((0.7,), (-1.1,)),
        singular=lambda np, x: np.sin(x),
    ),
    Function(
        "asin",
        (1, 1),
        lambda sp, x: sp.asin(x),
        lambda t, x: t.asin(x),
        lambda np, x: np.arcsin(x),
        lambda mp, x: mp.asin(x),
        "inverse sine",
        domain="-1 <= x <= 1 (derivative: -1 < x < 1)",
        samples=((0.3,), (-0.8,)),
        singular=lambda np, x: 1 - x * x,
    ),
    Function(
        "acos",
        (1, 1),
        lambda sp, x: sp.acos(x),
        lambda t, x: t.acos(x),
        lambda np, x: np.arccos(x),
        lambda mp, x: mp.acos(x),
        "inverse cosine",
        domain="-1 <= x <= 1 (derivative: -1 < x < 1)",
        samples=((0.3,), (-0.8,)),
        singular=lambda np, x: 1 - x * x,
    ),
    Function(
        "atan",
        (1, 1),
        lambda sp, x: sp.atan(x),
        lambda t, x: t.atan(x),
        lambda np, x: np.arctan(x),
        lambda mp, x: mp.atan(x),
        "inverse tangent",
        samples=((0.3,), (-4.0,)),
    ),
    Function(
        "atan2",
        (2, 2),
        lambda sp, y, x: sp.atan2(y, x),
        lambda t, y, x: t.atan2(y, x),
        lambda np, y, x: np.arctan2(y, x),
        lambda mp, y, x: mp.atan2(y, x),
        "angle of the point (x, y): atan2(y, x)",
        domain="(x, y) != (0, 0) (jumps across the negative x axis)",
        samples=((0.5, 1.2), (-1.0, -0.3)),
        kink="jump",
        at_kink=_on_branch_cut,
        side=_branch_side,
        symengine=False,  # SymEngine cannot evaluate atan2 at numbers
    ),
    Function(
        "sinh",
        (1, 1),
        lambda sp, x: sp.sinh(x),
        lambda t, x: t.sinh(x),
        lambda np, x: np.sinh(x),
        lambda mp, x: mp.sinh(x),
        "hyperbolic sine",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "cosh",
        (1, 1),
        lambda sp, x: sp.cosh(x),
        lambda t, x: t.cosh(x),
        lambda np, x: np.cosh(x),
        lambda mp, x: mp.cosh(x),
        "hyperbolic cosine",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "tanh",
        (1, 1),
        lambda sp, x: sp.tanh(x),
        lambda t, x: t.tanh(x),
        lambda np, x: np.tanh(x),
        lambda mp, x: mp.tanh(x),
        "hyperbolic tangent",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "asinh",
        (1, 1),
        lambda sp, x: sp.asinh(x),
        lambda t, x: t.asinh(x),
        lambda np, x: np.arcsinh(x),
        lambda mp, x: mp.asinh(x),
        "inverse hyperbolic sine",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "acosh",
        (1, 1),
        lambda sp, x: sp.acosh(x),
        lambda t, x: t.acosh(x),
        lambda np, x: np.arccosh(x),
        lambda mp, x: mp.acosh(x),
        "inverse hyperbolic cosine",
        domain="x >= 1 (derivative: x > 1)",
        samples=((1.7,), (4.0,)),
        singular=lambda np, x: x - 1,
    ),
    Function(
        "atanh",
        (1, 1),
        lambda sp, x: sp.atanh(x),
        lambda t, x: t.atanh(x),
        lambda np, x: np.arctanh(x),
        lambda mp, x: mp.atanh(x),
        "inverse hyperbolic tangent",
        domain="-1 < x < 1",
        samples=((0.3,), (-0.8,)),
        singular=lambda np, x: 1 - x * x,
    ),
    Function(
        "exp",
        (1, 1),
        lambda sp, x: sp.exp(x),
        lambda t, x: t.exp(x),
        lambda np, x: np.exp(x),
        lambda mp, x: mp.exp(x),
        "e to the power x",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "log",
        (1, 2),
        _sympy_log,
        _torch_log,
        _np_log,
        _mp_log,
        "natural logarithm; log(x, b) is the logarithm to base b",
        domain="x > 0 (and b > 0, b != 1)",
        samples=((0.7,), (3.0, 2.0)),
        aliases=("ln",),
        singular=_log_singular,
    ),
    Function(
        "log2",
        (1, 1),
        lambda sp, x: sp.log(x, 2),
        lambda t, x: t.log2(x),
        lambda np, x: np.log2(x),
        lambda mp, x: mp.log(x, 2),
        "logarithm to base 2",
        domain="x > 0",
        samples=((0.7,), (5.0,)),
        singular=lambda np, x: x,
    ),
    Function(
        "log10",
        (1, 1),
        lambda sp, x: sp.log(x, 10),
        lambda t, x: t.log10(x),
        lambda np, x: np.log10(x),
        lambda mp, x: mp.log10(x),
        "logarithm to base 10",
        domain="x > 0",
        samples=((0.7,), (5.0,)),
        singular=lambda np, x: x,
    ),
    Function(
        "sqrt",
        (1, 1),
        lambda sp, x: sp.sqrt(x),
        lambda t, x: t.sqrt(x),
        lambda np, x: np.sqrt(x),
        lambda mp, x: mp.sqrt(x),
        "square root",
        domain="x >= 0 (derivative: x > 0)",
        samples=((0.7,), (5.0,)),
        singular=lambda np, x: x,
    ),
    # SymPy's cbrt is complex for x < 0: cas/sympy_engine.py brings its own real one.
    Function(
        "cbrt",
        (1, 1),
        None,
        lambda t, x: t.sign(x) * t.abs(x) ** (1.0 / 3.0),
        lambda np, x: np.cbrt(x),
        lambda mp, x: mp.sign(x) * mp.cbrt(abs(x)),
        "real cube root",
        domain="all reals (derivative: x != 0)",
        samples=((0.7,), (-5.0,)),
        at_kink=_never,
        side=_sign_side,  # its derivative is infinite at 0: no stencil straddles it
        symengine=False,
        singular=lambda np, x: x,
    ),
    Function(
        "abs",
        (1, 1),
        lambda sp, x: sp.Abs(x),
        lambda t, x: t.abs(x),
        lambda np, x: np.abs(x),
        lambda mp, x: abs(x),
        "absolute value",
        domain="all reals (kink at 0)",
        samples=((0.7,), (-2.1,)),
        kink="corner",
        at_kink=_at_zero,
        side=_sign_side,
        aliases=("Abs",),
        symengine=False,
        sympy_heads=("Abs",),
    ),
    Function(
        "sign",
        (1, 1),
        lambda sp, x: sp.sign(x),
        lambda t, x: t.sign(x),
        lambda np, x: np.sign(x),
        lambda mp, x: mp.sign(x),
        "sign: -1, 0 or 1",
        domain="all reals (jump at 0)",
        samples=((0.7,), (-2.1,)),
        kink="jump",
        at_kink=_at_zero,
        side=_sign_side,
        symengine=False,
    ),
    Function(
        "min",
        (2, None),
        lambda sp, *a: sp.Min(*a),
        lambda t, *a: _fold(t.minimum, a),
        lambda np, *a: _fold(np.minimum, a),
        lambda mp, *a: min(a),
        "smallest argument",
        domain="all reals (kink where arguments tie)",
        samples=((0.3, 0.8), (1.5, -2.0, 0.2)),
        kink="corner",
        at_kink=_ties,
        side=lambda np, *a: _which(np, np.argmin, *a),
        symengine=False,
        sympy_heads=("Min",),
    ),
    Function(
        "max",
        (2, None),
        lambda sp, *a: sp.Max(*a),
        lambda t, *a: _fold(t.maximum, a),
        lambda np, *a: _fold(np.maximum, a),
        lambda mp, *a: max(a),
        "largest argument",
        domain="all reals (kink where arguments tie)",
        samples=((0.3, 0.8), (1.5, -2.0, 0.2)),
        kink="corner",
        at_kink=_ties,
        side=lambda np, *a: _which(np, np.argmax, *a),
        symengine=False,
        sympy_heads=("Max",),
    ),
    Function(
        "erf",
        (1, 1),
        lambda sp, x: sp.erf(x),
        lambda t, x: t.special.erf(x),
        lambda np, x: _erf_np(np, x),
        lambda mp, x: mp.erf(x),
        "error function",
        samples=((0.7,), (-1.6,)),
    ),
    Function(
        "erfc",
        (1, 1),
        lambda sp, x: sp.erfc(x),
        lambda t, x: t.special.erfc(x),
        lambda np, x: _erf_np(np, x, math.erfc),
        lambda mp, x: mp.erfc(x),
        "complementary error function, 1 - erf(x)",
        samples=((0.7,), (-1.6,)),
    ),
    Function(
        "sigmoid",
        (1, 1),
        lambda sp, x: 1 / (1 + sp.exp(-x)),
        lambda t, x: t.sigmoid(x),
        _np_sigmoid,
        lambda mp, x: 1 / (1 + mp.exp(-x)),
        "logistic sigmoid, 1/(1+exp(-x))",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "relu",
        (1, 1),
        lambda sp, x: sp.Max(0, x),
        lambda t, x: t.relu(x),
        lambda np, x: np.maximum(x, 0.0),
        lambda mp, x: max(x, 0),
        "rectifier, max(0, x)",
        domain="all reals (kink at 0)",
        samples=((0.7,), (-2.1,)),
        kink="corner",
        at_kink=_at_zero,
        side=_sign_side,
        symengine=False,
    ),
    Function(
        "softplus",
        (1, 1),
        lambda sp, x: sp.log(1 + sp.exp(x)),
        lambda t, x: t.logaddexp(x, t.zeros_like(x)),
        lambda np, x: np.logaddexp(x, 0.0),
        lambda mp, x: mp.log(1 + mp.exp(x)),
        "log(1 + exp(x)), computed as logaddexp(x, 0) (torch's F.softplus "
        "returns x itself above 20)",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "gelu",
        (1, 1),
        lambda sp, x: x / 2 * (1 + sp.erf(x / sp.sqrt(2))),
        # F.gelu rounds to -0.0 below about -8 (its log is -inf); erfc keeps the tail.
        lambda t, x: 0.5 * x * t.special.erfc(-x / math.sqrt(2)),
        # x/2·erfc(-x/√2): 1 + erf(x/√2) rounds to 0 below about -8.3.
        lambda np, x: 0.5 * x * _erf_np(np, -x / math.sqrt(2), math.erfc),
        lambda mp, x: x / 2 * (1 + mp.erf(x / mp.sqrt(2))),
        "Gaussian error linear unit, x·Φ(x) = x/2·(1 + erf(x/√2)) (exact form)",
        samples=((0.7,), (-2.1,)),
        symengine=False,  # SymEngine cannot evaluate erf of sqrt(2)·x at numbers
    ),
    Function(
        "gelu_tanh",
        (1, 1),
        lambda sp, x: (
            x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Rational(44715, 10**6) * x**3)))
        ),
        # x·sigmoid(2u): F.gelu(approximate="tanh") rounds to -0.0 in the left tail.
        lambda t, x: x * t.sigmoid(2 * math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)),
        _np_gelu_tanh,
        lambda mp, x: (
            x / 2 * (1 + mp.tanh(mp.sqrt(2 / mp.pi) * (x + mp.mpf(44715) / 10**6 * x**3)))
        ),
        "GELU's tanh approximation, x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "silu",
        (1, 1),
        lambda sp, x: x / (1 + sp.exp(-x)),
        lambda t, x: t.nn.functional.silu(x),
        lambda np, x: x * _np_sigmoid(np, x),
        lambda mp, x: x / (1 + mp.exp(-x)),
        "sigmoid linear unit (swish), x·sigmoid(x)",
        samples=((0.7,), (-2.1,)),
        aliases=("swish",),
    ),
    Function(
        "mish",
        (1, 1),
        lambda sp, x: x * sp.tanh(sp.log(1 + sp.exp(x))),
        lambda t, x: t.nn.functional.mish(x),
        lambda np, x: x * np.tanh(np.logaddexp(x, 0.0)),
        lambda mp, x: x * mp.tanh(mp.log(1 + mp.exp(x))),
        "x·tanh(softplus(x))",
        samples=((0.7,), (-2.1,)),
    ),
    Function(
        "elu",
        (1, 1),
        # max(0, x) + min(0, exp(x) - 1): x above 0, exp(x) - 1 below (alpha 1).
        lambda sp, x: sp.Max(0, x) + sp.Min(0, sp.exp(x) - 1),
        lambda t, x: t.nn.functional.elu(x),
        lambda np, x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
        lambda mp, x: x if x > 0 else mp.exp(x) - 1,
        "exponential linear unit: x for x > 0, exp(x) - 1 below (alpha 1)",
        domain="all reals (its second derivative jumps at 0)",
        samples=((0.7,), (-2.1,)),
        kink="corner",
        at_kink=_at_zero,
        side=_sign_side,
        symengine=False,
    ),
    Function(
        "leaky_relu",
        (1, 2),
        _sympy_leaky,
        lambda t, x, slope=None: t.where(x > 0, x, (0.01 if slope is None else slope) * x),
        lambda np, x, slope=0.01: np.where(x > 0, x, slope * x),
        lambda mp, x, slope=None: x if x > 0 else (mp.mpf("0.01") if slope is None else slope) * x,
        "x for x > 0, slope·x below; leaky_relu(x) has slope 0.01",
        domain="all reals (kink at 0)",
        samples=((0.7,), (-2.1,), (-1.5, 0.2)),
        kink="corner",
        at_kink=_at_zero,
        side=_sign_side,
        symengine=False,
    ),
    Function(
        "hardtanh",
        (1, 1),
        lambda sp, x: sp.Max(-1, sp.Min(1, x)),
        lambda t, x: t.nn.functional.hardtanh(x),
        lambda np, x: np.clip(x, -1.0, 1.0),
        lambda mp, x: max(-1, min(1, x)),
        "x clipped to [-1, 1]",
        domain="all reals (kinks at -1 and 1)",
        samples=((0.7,), (-0.3,), (2.1,)),
        kink="corner",
        at_kink=lambda np, x, *_: np.abs(np.abs(x) - 1) <= 1e-300,
        side=lambda np, x, *_: np.sign(x - 1) + np.sign(x + 1),
        symengine=False,
    ),
    Function(
        "clamp",
        (3, 3),
        lambda sp, x, lo, hi: sp.Max(lo, sp.Min(hi, x)),
        lambda t, x, lo, hi: t.clamp(x, lo, hi),
        # Undefined past its domain (lo > hi): SymPy's Max(lo, Min(hi, x)) and
        # torch's clamp would give lo and hi there.
        lambda np, x, lo, hi: np.where(lo <= hi, np.minimum(np.maximum(x, lo), hi), np.nan),
        lambda mp, x, lo, hi: max(lo, min(hi, x)),
        "x clipped to [lo, hi]: clamp(x, lo, hi)",
        domain="lo <= hi (kinks where x = lo or x = hi)",
        samples=((0.7, -1.0, 2.0), (-2.1, -1.5, 0.5), (3.0, 0.0, 1.0)),
        kink="corner",
        at_kink=lambda np, x, lo, hi: (np.abs(x - lo) <= 1e-300) | (np.abs(x - hi) <= 1e-300),
        side=lambda np, x, lo, hi: np.sign(x - lo) + np.sign(x - hi),
        symengine=False,
    ),
    Function(
        "mean",
        (1, 1),
        lambda sp, x: sp.Add(*x) / len(x) if isinstance(x, list) else x,
        lambda t, x: x.mean(),
        lambda np, x: np.mean(x, axis=-1, keepdims=True),
        lambda mp, x: x,
        "mean of a vector's elements (x=[1,2,3])",
        reduces=True,
        samples=((0.7,),),
    ),
    Function(
        "sum",
        (1, 1),
        lambda sp, x: sp.Add(*x) if isinstance(x, list) else x,
        lambda t, x: x.sum(),
        lambda np, x: np.sum(x, axis=-1, keepdims=True),
        lambda mp, x: x,
        "sum of a vector's elements",
        reduces=True,
        samples=((0.7,),),
    ),
    Function(
        "dot",
        (2, 2),
        lambda sp, a, b: sp.Add(*[u * v for u, v in _pairs(a, b)]),
        lambda t, a, b: (a * b).sum(),
        lambda np, a, b: np.sum(a * b, axis=-1, keepdims=True),
        lambda mp, a, b: mp.fsum(u * v for u, v in zip(a, b, strict=True)),
        "dot product of two vectors of one length: dot(w, x)",
        vector="reduce",
        symengine=False,
    ),
    Function(
        "norm",
        (1, 2),
        _sympy_norm,
        _torch_norm,
        _np_norm,
        lambda mp, x, p=2: (
            mp.fsum(abs(v) for v in x) if p == 1 else mp.sqrt(mp.fsum(v * v for v in x))
        ),
        "2-norm of a vector, sqrt(Σ x²); norm(x, 1) is the sum of |x|",
        domain="all vectors (a kink where x = 0; norm(x, 1) where any element is 0)",
        kink="corner",
        at_kink=lambda np, x, p=None: (
            _np_any_zero(np, x)
            if p is not None and np.all(np.asarray(p) == 1)
            else _np_all_zero(np, x)
        ),
        vector="reduce",
        symengine=False,
        constants=(1,),
    ),
    Function(
        "logsumexp",
        (1, 1),
        _sympy_logsumexp,
        lambda t, x: t.logsumexp(x.reshape(-1), 0),
        _np_logsumexp,
        _mp_logsumexp,
        "log Σ exp(x), computed without overflow; its gradient is softmax(x)",
        vector="reduce",
        symengine=False,
    ),
    Function(
        "softmax",
        (1, 1),
        _sympy_softmax,
        lambda t, x: t.softmax(x.reshape(-1), 0),
        lambda np, x: np.exp(x - _np_logsumexp(np, x)),
        lambda mp, x: [mp.exp(v - _mp_logsumexp(mp, x)) for v in x],
        "exp(x) / Σ exp(x): a vector (its derivative is a Jacobian)",
        vector="map",
        symengine=False,
    ),
    Function(
        "log_softmax",
        (1, 1),
        _sympy_log_softmax,
        lambda t, x: t.log_softmax(x.reshape(-1), 0),
        lambda np, x: x - _np_logsumexp(np, x),
        lambda mp, x: [v - _mp_logsumexp(mp, x) for v in x],
        "x − logsumexp(x): a vector, the log of softmax(x) without its rounding",
        cancels=True,
        vector="map",
        symengine=False,
    ),
    Function(
        "prod",
        (1, 1),
        lambda sp, x: sp.Mul(*_elements(x)),
        _torch_prod,
        _np_prod,
        lambda mp, x: mp.fprod(x),
        "product of a vector's elements",
        vector="reduce",
        symengine=False,
    ),
    Function(
        "cross_entropy",
        (2, 2),
        _sympy_cross_entropy,
        lambda t, x, k: -t.log_softmax(x.reshape(-1), 0)[int(k)],
        _np_cross_entropy,
        lambda mp, x, k: _mp_logsumexp(mp, x) - x[int(k)],
        "−log softmax(logits)[k] for class index k (torch's F.cross_entropy of one sample)",
        domain="k an integer class index, 0 <= k < len(logits)",
        cancels=True,
        vector="reduce",
        symengine=False,
        constants=(1,),
    ),
    Function(
        "bce",
        (2, 2),
        lambda sp, p, y: -(y * sp.log(p) + (1 - y) * sp.log(1 - p)),
        lambda t, p, y: -(y * t.log(p) + (1 - y) * t.log(1 - p)),
        lambda np, p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)),
        lambda mp, p, y: -(y * mp.log(p) + (1 - y) * mp.log(1 - p)),
        "binary cross-entropy −(y log p + (1−y) log(1−p)), element by element "
        "(mean(bce(p, y)) is torch's F.binary_cross_entropy)",
        domain="0 < p < 1",
        samples=((0.3, 1.0), (0.8, 0.0), (0.55, 0.25)),
    ),
    Function(
        "detach",
        (1, 1),
        None,
        lambda t, x: x.detach(),
        lambda np, x: x,
        lambda mp, x: x,
        "the value of its argument, carrying no gradient (torch .detach())",
        samples=(),
        symengine=False,
    ),
]

# Heads that appear only in derivatives (of abs, sign, max...), never in an
# expression: their float64 meaning for sympy_engine.evaluate_numpy.
DERIVATIVE_HEADS = {
    "Heaviside": lambda np, x, h0=0.5: np.where(x > 0, 1.0, np.where(x < 0, 0.0, h0)),
    "DiracDelta": lambda np, x, *_: np.where(x == 0, np.inf, 0.0),
}

CONSTANTS = {
    "pi": ("pi", math.pi, "the circle constant 3.14159..."),
    "e": ("E", math.e, "Euler's number 2.71828..."),
    "E": ("E", math.e, "Euler's number 2.71828..."),
}

TABLE = {f.name: f for f in OPERATORS + FUNCTIONS}

BY_NAME: dict[str, Function] = {}
for _f in FUNCTIONS:
    BY_NAME[_f.name] = _f
    for _alias in _f.aliases:
        BY_NAME[_alias] = _f
del _f, _alias


def refuse_whole_vectors(
    expr: Any, why: str, allowed: tuple = (), option: str | None = None
) -> None:
    """A UsageError naming the first function of whole vectors in `expr` (a
    parsing.Expression: this module sits below the parser) that a path
    cannot take (dot, softmax, ...), and `why`."""
    for node in expr.nodes:
        function = TABLE.get(node.op)
        if function is not None and function.vector and node.op not in allowed:
            from .errors import UsageError

            name = "[...]" if node.op == "vector" else f"{node.op}(...)"
            raise UsageError(f"{name} takes whole vectors: {why}", option=option)
