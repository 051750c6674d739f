"""The tree -> SymPy, derivatives, and their floating-point values.

Vector variables are expanded into one real symbol per component
(`x[0]`, `x[1]`, ...), so every derivative here is an ordinary scalar
SymPy derivative. Values are found by substituting 30-digit Floats for the
symbols, never by exact substitution.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.str import StrPrinter

from ..parsing import Expression, Node
from . import OVERFLOWS, tree

if TYPE_CHECKING:
    import numpy as np


NAME, ENGINE = "SymPy", "sympy"  # for people; for Result.engine
PRECISION = 30  # digits used by evalf
# Factors of a product past which its derivative formula (their square) is
# not built, see chainrule: SymPy already takes seconds over 50.
WIDE_FACTORS = 50


class cbrt(sp.Function):
    """The real cube root, with its derivative 1/(3*cbrt(x)**2).

    SymPy's own cbrt is the principal (complex) root for negative x; the
    sign(x)*|x|**(1/3) form differentiates into DiracDelta noise.
    """

    nargs = 1

    def fdiff(self, argindex: int = 1) -> Any:
        return 1 / (3 * cbrt(self.args[0]) ** 2)

    @classmethod
    def eval(cls, arg: Any) -> Any:
        if arg.is_Number and arg.is_real:
            return sp.sign(arg) * sp.Abs(arg) ** sp.Rational(1, 3)
        return None

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_evalf(self, prec: int) -> Any:
        # mpmath's cbrt is the principal (complex) root: take the real one.
        value = self.args[0]._eval_evalf(prec)
        if value is None or not value.is_Number:
            return None
        return sp.sign(value) * sp.Abs(value) ** sp.Rational(1, 3)


class detach(sp.Function):
    """A sub-expression that carries no gradient: its value, derivative 0."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> Any:
        return sp.S.Zero

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_evalf(self, prec: int) -> Any:
        return self.args[0]._eval_evalf(prec)


def symbols_for(variables: list, shapes: dict) -> dict:
    """name -> Symbol, or a list of Symbols for a vector variable."""
    out: dict[str, Any] = {}
    for name in variables:
        length = shapes.get(name)
        if length is None:
            out[name] = sp.Symbol(name, real=True)
        else:
            out[name] = [sp.Symbol(f"{name}[{i}]", real=True) for i in range(length)]
    return out


def build(expr: Expression, symbols: dict, keep: bool = False) -> Any:
    """The SymPy expression (or list, for a vector-valued one); with `keep`,
    a dict id(node) -> SymPy expression for every node."""
    return tree.build(expr, symbols, sp, SPECIAL, keep)


SPECIAL: dict[str, Callable[[Any], Any]] = {
    "detach": lambda a: detach(a),
    "cbrt": lambda a: cbrt(a),
}


def derivative(f: Any, symbols: tuple) -> Any:
    """d^n f / d symbols[0] ... d symbols[-1]."""
    return sp.diff(f, *symbols)


def _away_from_spikes(f: Any) -> Any:
    """DiracDelta(c) is 0 wherever c is not 0, but SymPy leaves it unevaluated
    when c is a constant it cannot decide (1.25 - tan(cos(1))): decide it at
    PRECISION digits. At c = 0 it stays (and the value is not finite)."""

    def decided(*args: Any) -> Any:
        spike = sp.DiracDelta(*args)
        at = args[0].evalf(PRECISION)
        return sp.S.Zero if at.is_number and at.is_nonzero else spike

    if not f.has(sp.DiracDelta):
        return f
    return f.replace(sp.DiracDelta, decided)


def value_at(f: Any, substitutions: dict) -> tuple[float | None, str | None]:
    """Float value of f at the point; (None, reason) when it is not a finite real."""
    # SymPy leaves d/du sign(g(u)) unevaluated when g is not a symbol; away
    # from g = 0 it is 0 (at g = 0 the kink check speaks, not this value).
    if f.has(sp.Derivative):  # (has() walks the tree faster than replace() does)
        f = f.replace(
            lambda e: isinstance(e, sp.Derivative) and e.expr.func in (sp.sign, sp.Heaviside),
            lambda e: sp.S.Zero,
        )
    value, why = _value_at(f, substitutions, PRECISION)
    if value is None or not _small(f):
        return value, why
    # Cancellation: cos(x)/x - sin(x)/x**2 at 1e-300 subtracts two numbers of
    # 1e300 to get -3e-301, which 30 digits cannot. SymPy's adaptive evalf
    # (working precision raised until the result has its digits) says.
    try:
        checked = f.evalf(PRECISION, subs=substitutions, maxn=MAX_PRECISION)
        exact = float(checked)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return value, why
    if math.isfinite(exact) and abs(exact - value) > 1e-15 * abs(exact):
        return exact, None
    return value, why


MAX_PRECISION = 2_000  # digits: cancellations down from 1e±600 and more
SMALL_TREE = 2_000  # nodes of a derivative re-evaluated for cancellation


def _small(f: Any) -> bool:
    return all(count <= SMALL_TREE for count, _ in enumerate(sp.preorder_traversal(f)))


def _value_at(f: Any, substitutions: dict, digits: int) -> tuple[float | None, str | None]:
    # Float substitution evaluates at `digits` as the tree is rebuilt (an
    # exact substitution of 3 into x**(10**10) would build a huge integer).
    try:
        result = _away_from_spikes(_substitute(f, substitutions)).evalf(digits)
    except ZeroDivisionError:
        return None, "infinite (division by zero)"
    except OverflowError:
        # SymPy's own evaluation of erfc(-1e300) converts a huge integer to a
        # float; mpmath's functions take such arguments.
        return _by_mpmath(f, substitutions, digits)
    except (ValueError, TypeError) as error:
        return None, f"not evaluable here ({type(error).__name__})"
    if result.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        return None, "infinite or undefined"
    if not result.is_number or result.has(sp.DiracDelta):
        return None, f"not a finite number ({sp.sstr(result)})"
    real, imag = result.as_real_imag()
    try:
        if imag != 0 and abs(complex(imag)) > 0:
            return None, "not real"
        value = float(real)
    except TypeError:
        return None, f"not a finite number ({sp.sstr(result)})"
    if not math.isfinite(value):
        if math.isinf(value):
            return None, f"{OVERFLOWS} ({sp.sstr(sp.Float(real, 4))})"
        return None, "not a number"
    return value, None


def _substitute(f: Any, rule: dict) -> Any:
    """f.xreplace(rule), each repeated sub-expression rebuilt once: the
    gradient of dot(x, softmax(x)) holds softmax's sum over x in every term,
    and xreplace rebuilds (and evaluates) every copy. The same expression:
    this is Basic._xreplace's walk, remembering what it built."""
    built: dict = {}

    def walk(e: Any) -> Any:
        try:
            return built[e]
        except KeyError:
            pass
        if e in rule:
            out = rule[e]
        else:
            args = [walk(a) if isinstance(a, sp.Basic) else a for a in e.args]
            changed = any(new is not old for new, old in zip(args, e.args))
            out = e.func(*args) if changed else e
        built[e] = out
        return out

    return walk(f)


def _by_mpmath(f: Any, substitutions: dict, digits: int) -> tuple[float | None, str | None]:
    import mpmath

    symbols = sorted(substitutions, key=str)
    try:
        function = sp.lambdify(symbols, f, modules="mpmath")
        with mpmath.workdps(digits):
            value = function(*(mpmath.mpf(substitutions[s]) for s in symbols))
        number = float(value)
    except Exception as error:  # a name mpmath lacks (relu, ...), or its own overflow
        return None, f"not evaluable here ({type(error).__name__})"
    if not math.isfinite(number):
        return None, "overflows float64" if math.isinf(number) else "not a number"
    return number, None


def substitutions(symbols: dict, point: dict) -> dict:
    subs = {}
    for name, symbol in symbols.items():
        value = point[name]
        if isinstance(symbol, list):
            for s, v in zip(symbol, value.reshape(-1)):
                subs[s] = sp.Float(float(v), PRECISION)
        else:
            subs[symbol] = sp.Float(float(value), PRECISION)
    return subs


def number(value: float) -> Any:
    """A float64 value as a SymPy Float."""
    return sp.Float(value, PRECISION)


def operation(op: str, args: list) -> Any:
    """One operation of the function table on SymPy arguments."""
    return tree.build_operation(op, args, sp, SPECIAL)


def placeholders(names: list) -> list:
    return [sp.Symbol(name, real=True) for name in names]


def leaf(node: Node) -> Any:
    return tree.build_leaf(node, sp)


def text(f: Any) -> str:
    """sstr's text of `f`, each repeated sub-expression printed once (the
    gradient of dot(x, softmax(x)) over 32 elements holds softmax's 32-term
    sum 1,024 times: sstr took 3.2 s for its texts)."""
    return _SharedPrinter().doprint(f)


def printer() -> Callable[[Any], str]:
    """A `text` function that prints what its calls share once: the 961
    entries of softmax's Jacobian over 31 elements all hold its 31-term sum
    (sstr took 3.3 s for them, one printer 0.1 s)."""
    return _SharedPrinter().doprint


class _SharedPrinter(StrPrinter):
    """sstr's printer, remembering the text of every sub-expression it has
    printed. The same text: a sub-expression prints the same wherever it
    sits (str.py's one context, the nesting level, only tells a top-level
    Float from a nested one; the top level is never remembered)."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict = {}

    def _print(self, expr: Any, **kwargs: Any) -> str:
        if self._print_level == 0 or kwargs:
            return super()._print(expr, **kwargs)
        key = (type(expr), expr)
        try:
            return self._seen[key]
        except KeyError:
            printed = self._seen[key] = super()._print(expr)
            return printed
        except TypeError:  # not hashable (a list)
            return super()._print(expr)


def evaluate_numpy(f: Any, arrays: dict) -> np.ndarray:
    """Evaluate a SymPy expression in float64 at many points at once.

    `arrays` maps Symbols to numpy arrays. The walk is iterative and shares
    repeated sub-expressions (SymPy objects hash by value), so a derivative
    full of common factors is evaluated once per factor.
    """
    import numpy as np

    from ..functions import DERIVATIVE_HEADS, FUNCTIONS

    # SymPy class name -> numpy builder, from the function table.
    heads = dict(DERIVATIVE_HEADS)
    heads.update({head: fn.numpy for fn in FUNCTIONS for head in fn.heads})
    done: dict = {}
    stack = [(f, False)]
    with np.errstate(all="ignore"):
        while stack:
            node, expanded = stack.pop()
            if node in done:
                continue
            if node.is_Symbol:
                done[node] = arrays[node]
            elif node.is_Number or node.is_NumberSymbol:
                done[node] = float(node)
            elif not expanded:
                stack.append((node, True))
                stack.extend((arg, False) for arg in node.args if arg not in done)
            else:
                args = [done[arg] for arg in node.args]
                done[node] = _numpy_node(np, node, args, heads)
    return np.asarray(done[f], dtype=np.float64)


def _numpy_node(np: ModuleType, node: Any, args: list, heads: dict) -> Any:
    if node.is_Add:
        return sum(args[1:], args[0])
    if node.is_Mul:
        result = args[0]
        for arg in args[1:]:
            result = result * arg
        return result
    if node.is_Pow:
        base, exponent = args
        if node.exp == sp.Rational(1, 2):
            return np.sqrt(base)
        return np.power(base, exponent)
    head = heads.get(node.func.__name__)
    if head is None:
        raise ValueError(f"no numpy evaluation for {node.func}")
    return head(np, *args)


class SymPyEngine:
    """This module's functions as a `cas.Engine`."""

    NAME, ENGINE, WIDE_FACTORS = NAME, ENGINE, WIDE_FACTORS
    symbols_for = staticmethod(symbols_for)
    build = staticmethod(build)
    derivative = staticmethod(derivative)
    substitutions = staticmethod(substitutions)
    value_at = staticmethod(value_at)
    text = staticmethod(text)
    printer = staticmethod(printer)
    number = staticmethod(number)
    operation = staticmethod(operation)
    placeholders = staticmethod(placeholders)
    leaf = staticmethod(leaf)


ENGINE_INSTANCE = SymPyEngine()
