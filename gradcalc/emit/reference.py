"""The reference: SymPy expressions evaluated with mpmath at 30 digits,
each head by its row's mpmath builder in the function table (an independent
way from the numpy, torch, JAX and C the code is printed in)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..functions import FUNCTIONS
from .symbolic import Program

DIGITS = 30


def _mp_heads() -> dict[str, Callable[..., Any]]:
    heads: dict[str, Callable[..., Any]] = {
        head: function.mpmath for function in FUNCTIONS for head in function.heads
    }
    heads.update(
        Heaviside=lambda mp, x, *_: mp.mpf(1) if x > 0 else (mp.mpf(0) if x < 0 else mp.mpf(0.5)),
        LogSumExp=lambda mp, *a: mp.log(mp.fsum(mp.exp(v) for v in a)),
        Softplus=lambda mp, x: mp.log(1 + mp.exp(x)),
        Sigmoid=lambda mp, x: 1 / (1 + mp.exp(-x)),
        log1p=lambda mp, x: mp.log1p(x),
        expm1=lambda mp, x: mp.expm1(x),
    )
    return heads


HEADS = _mp_heads()


def evaluate(exprs: list, values: dict) -> list | None:
    """Each SymPy expression at `values` (Symbol -> mpf), shared sub-trees
    once; None when any is not a finite real number there."""
    done: dict = dict(values)
    try:
        results = [_walk(e, done) for e in exprs]
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return None
    if all(isinstance(r, mpmath.mpf) and mpmath.isfinite(r) for r in results):
        return results
    return None


def _walk(root: Any, done: dict) -> Any:
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if node in done:
            continue
        if node.is_Number or node.is_NumberSymbol:
            done[node] = mpmath.mpf(sp.Float(node, DIGITS + 5)._mpf_)
        elif not expanded:
            stack.append((node, True))
            stack.extend((arg, False) for arg in node.args if arg not in done)
        else:
            done[node] = _apply(node, [done[a] for a in node.args])
    return done[root]


def _apply(node: Any, args: list) -> Any:
    if isinstance(args[0], mpmath.mpc) or any(isinstance(a, mpmath.mpc) for a in args):
        raise ValueError("not real")
    if node.is_Add:
        return mpmath.fsum(args)
    if node.is_Mul:
        return mpmath.fprod(args)
    if node.is_Pow:
        return mpmath.power(*args)
    head = HEADS.get(type(node).__name__)
    if head is None:
        raise TypeError(f"no mpmath value for {type(node).__name__}")
    return head(mpmath, *args)


def upper(program: Program, gradient: Any, hessian: Any) -> list[float]:
    """f's outputs in the reference's order: the gradient, then the Hessian's
    upper triangle row by row."""
    out = [float(v) for v in np.asarray(gradient, dtype=float).reshape(-1)]
    if program.order == 2:
        matrix = np.asarray(hessian, dtype=float)
        size = len(program.components)
        out += [float(matrix[i, j]) for i in range(size) for j in range(i, size)]
    return out
