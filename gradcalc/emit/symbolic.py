"""The expression as SymPy for code: f, its gradient (or Hessian), with the
function table's stable numerics kept as heads of their own, and the common
sub-expressions found once (`sympy.cse`).

Two SymPy trees are built from the parsed expression. The *reference* is
gradcalc's own (cas.sympy_engine, every row's SymPy builder), differentiated
by SymPy: the certificate compares the emitted code with it. The *emitted*
tree keeps what a row computes stably as one head (`LogSumExp`,
`Softplus`, `Sigmoid`; `log1p` and `expm1` where log(1 + a) and exp(a) - 1
appear), each with its own derivative, so that the code printed from it
neither overflows where the function does not nor loses digits to
cancellation; and the two trees are independent ways to the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.codegen.rewriting import expm1_opt, log1p_opt, optimize

from ..cas import sympy_engine
from ..errors import UsageError
from ..parsing import Expression

MAX_COMPONENTS = 64  # scalars in the arguments differentiated (a Hessian of 4,096 entries)


class LogSumExp(sp.Function):
    """log(Σ exp(a_i)), printed as each target's stable logsumexp."""

    def fdiff(self, argindex: int = 1) -> Any:
        return sp.exp(self.args[argindex - 1] - self)

    def _eval_is_real(self) -> bool | None:
        return all(a.is_real for a in self.args) or None


class Softplus(sp.Function):
    """log(1 + exp(a)), printed as logaddexp(a, 0)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> Any:
        return Sigmoid(self.args[0])


class Sigmoid(sp.Function):
    """1/(1 + exp(-a)), printed without overflow for either sign of a."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> Any:
        return Sigmoid(self.args[0]) * Sigmoid(-self.args[0])


def _elements(x: Any) -> list:
    return list(x) if isinstance(x, list) else [x]


def _softmax(x: Any) -> list:
    xs = _elements(x)
    total = LogSumExp(*xs)
    return [sp.exp(v - total) for v in xs]


def _log_softmax(x: Any) -> list:
    xs = _elements(x)
    total = LogSumExp(*xs)
    return [v - total for v in xs]


def _cross_entropy(x: Any, k: Any) -> Any:
    xs = _elements(x)
    index = int(k)
    if not 0 <= index < len(xs):
        raise UsageError(f"cross_entropy(logits, k): k is 0 to {len(xs) - 1}, not {index}")
    return LogSumExp(*xs) - xs[index]


# Rows whose SymPy builder would write an overflowing or cancelling formula.
STABLE = {
    "logsumexp": lambda x: LogSumExp(*_elements(x)),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "cross_entropy": _cross_entropy,
    "softplus": Softplus,
    "sigmoid": Sigmoid,
    "silu": lambda x: x * Sigmoid(x),
    "mish": lambda x: x * sp.tanh(Softplus(x)),
}


@dataclass(frozen=True)
class Program:
    """What the printers print: `steps` (name, SymPy value) computed in order,
    then the outputs in terms of them."""

    arguments: list[str]  # every variable, the function's positional arguments
    shapes: dict[str, int | None]  # name -> vector length, None for a scalar
    components: list[str]  # what is differentiated: y, x[0], x[1], ... in argument order
    symbols: dict  # name -> Symbol, or a list of Symbols (a vector)
    order: int
    steps: list[tuple[Any, Any]]  # (Symbol, value), common sub-expressions in order
    value: Any  # f
    gradient: list  # one entry a component
    hessian: list  # order 2: rows of the upper triangle, entry (i, j) for j >= i
    reference: list  # [f, gradient..., hessian entries (upper triangle)...] as SymPy writes them
    naive_operations: int  # count_ops of f, gradient and whole Hessian, nothing shared
    emitted_operations: int  # count_ops of the steps and the outputs


def symbols_for(arguments: list[str], shapes: dict[str, int | None]) -> dict:
    """One real Symbol a scalar, a list of them (x[0], x[1], ...) a vector."""
    return sympy_engine.symbols_for(arguments, shapes)


def build(expr: Expression, shapes: dict[str, int | None], names: list[str], order: int) -> Program:
    """f, its gradient over `names` (and with order 2 its Hessian), shared
    sub-expressions found once, and the reference trees beside them."""
    symbols = symbols_for(expr.variables, shapes)
    components = [s for name in expr.variables if name in names for s in _flat(symbols[name])]
    if len(components) > MAX_COMPONENTS:
        raise UsageError(
            f"{len(components)} scalars to differentiate; emit writes at most "
            f"{MAX_COMPONENTS} (narrow them with {{wrt}})",
            option="wrt",
        )
    reference_f = sympy_engine.build(expr, symbols)
    if isinstance(reference_f, list):
        raise UsageError(
            f"{expr.source!r} is a vector (its derivative is a Jacobian): emit writes "
            "code for a number-valued f"
        )
    special = dict(sympy_engine.SPECIAL, **STABLE)
    from ..cas import tree

    f = _stable(tree.build(expr, symbols, sp, special))
    gradient = [_stable(_clean(sp.diff(f, s))) for s in components]
    reference = [reference_f] + [_clean(sp.diff(reference_f, s)) for s in components]
    hessian: list = []
    naive = [reference_f] + reference[1:]
    if order == 2:
        hessian = [
            [
                _stable(_clean(sp.diff(gradient[i], components[j])))
                for j in range(i, len(components))
            ]
            for i in range(len(components))
        ]
        full = [[_clean(sp.diff(g, s)) for s in components] for g in reference[1:]]
        reference += [full[i][j] for i in range(len(full)) for j in range(i, len(full))]
        naive += [entry for row in full for entry in row]
    outputs = [f, *gradient, *(entry for row in hessian for entry in row)]
    names = _temporaries(expr.variables)
    steps, reduced = sp.cse(outputs, symbols=names, optimizations="basic")
    value, rest = reduced[0], reduced[1:]
    gradient, flat = rest[: len(components)], rest[len(components) :]
    rows = []
    for i in range(len(hessian)):
        width = len(components) - i
        rows.append([_named(entry, steps, names) for entry in flat[:width]])
        flat = flat[width:]
    emitted = sum(sp.count_ops(v) for _, v in steps) + sum(
        sp.count_ops(v) for v in [value, *gradient]
    )
    return Program(
        arguments=list(expr.variables),
        shapes=dict(shapes),
        components=[str(s) for s in components],
        symbols=symbols,
        order=order,
        steps=list(steps),
        value=value,
        gradient=list(gradient),
        hessian=rows,
        reference=reference,
        naive_operations=int(sum(sp.count_ops(e) for e in naive)),
        emitted_operations=int(emitted),
    )


def _named(entry: Any, steps: list, names: Any) -> Any:
    """A Hessian entry computed once (a step of its own), so that its mirror
    image below the diagonal is a name, not the formula again."""
    if entry.is_Atom:
        return entry
    name = next(names)
    steps.append((name, entry))
    return name


def _flat(symbol: Any) -> list:
    return list(symbol) if isinstance(symbol, list) else [symbol]


def _temporaries(variables: list[str]) -> Any:
    """t0, t1, ... (u0, ... when a variable is already called t<digits>)."""
    taken = set(variables)
    for prefix in ("t", "u", "v", "w", "tmp"):
        if not any(name.startswith(prefix) and name[len(prefix) :].isdigit() for name in taken):
            return sp.numbered_symbols(prefix, real=True)
    return sp.numbered_symbols("tmp_", real=True)


def _clean(expr: Any) -> Any:
    """A derivative as code computes it away from kinks: SymPy's unevaluated
    d/dx sign(g) is 0, DiracDelta is 0 (the kink itself is never a point of
    the code's certificate)."""
    if expr.has(sp.Derivative):
        expr = expr.replace(
            lambda e: isinstance(e, sp.Derivative) and e.expr.func in (sp.sign, sp.Heaviside),
            lambda e: sp.S.Zero,
        )
    if expr.has(sp.DiracDelta):
        expr = expr.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    return expr


def _stable(expr: Any) -> Any:
    """log(1 + a) -> log1p(a), exp(a) - 1 -> expm1(a), where they appear."""
    if not expr.has(sp.log, sp.exp):
        return expr
    return optimize(expr, [log1p_opt, expm1_opt])


__all__ = ["STABLE", "LogSumExp", "Program", "Sigmoid", "Softplus", "build", "expm1", "log1p"]
