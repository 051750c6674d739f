"""Which textbook rule each kind of SymPy node takes, and what its step says.

The rules' names (`RULE_NAMES`: a step's `rule`, the JSON schema's enum); the
families of functions by SymPy class name (`FAMILY`); the identity or the kink
a rule's step notes (`NOTES`); and the shapes a student names but SymPy spells
out (sigmoid, softplus, relu), recognised by `sigmoid_argument`,
`softplus_argument` and `relu_argument`. `derivation.Walk` applies the rules.
"""

from __future__ import annotations

from typing import Any

RULE_NAMES = (
    "variable",
    "constant",
    "sum",
    "constant multiple",
    "power",
    "product",
    "quotient",
    "chain",
    "exponential",
    "general power",
    "exp",
    "log",
    "trig",
    "inverse trig",
    "hyperbolic",
    "inverse hyperbolic",
    "abs",
    "sign",
    "min/max",
    "relu",
    "sigmoid",
    "softplus",
    "erf",
    "root",
    "step function",
    "detach",
    "function",
)


# -- families of functions -------------------------------------------------

FAMILY_NAMES = {
    "trig": ("sin", "cos", "tan", "sec", "csc", "cot"),
    "inverse trig": ("asin", "acos", "atan", "acot", "asec", "acsc", "atan2"),
    "hyperbolic": ("sinh", "cosh", "tanh", "coth", "sech", "csch"),
    "inverse hyperbolic": ("asinh", "acosh", "atanh", "acoth", "asech", "acsch"),
    "exp": ("exp",),
    "log": ("log",),
    "abs": ("Abs",),
    "sign": ("sign",),
    "min/max": ("Min", "Max"),
    "erf": ("erf", "erfc"),
    "root": ("cbrt",),
    "step function": ("Heaviside", "DiracDelta"),
    "detach": ("detach",),
}
FAMILY = {name: family for family, names in FAMILY_NAMES.items() for name in names}

NOTES = {
    "abs": "d|u|/du = sign(u): -1 for u < 0, 1 for u > 0; a kink at u = 0, where the "
    "one-sided derivatives -1 and 1 differ (SymPy's sign(0) = 0)",
    "sign": "sign(u) is constant on each side of its jump at u = 0: the derivative is 0 "
    "there; SymPy writes it 2*DiracDelta(u), which is 0 wherever u != 0",
    "relu": "relu(u) = max(0, u): its derivative is Heaviside(u), 1 for u > 0 and 0 for "
    "u < 0; a kink at u = 0",
    "min/max": "each argument counts where it is the one picked (Heaviside of the "
    "difference); a kink where arguments tie",
    "sigmoid": "the identity σ'(u) = σ(u)·(1 - σ(u)), σ(u) = 1/(1 + exp(-u)); "
    "written out: exp(-u)/(1 + exp(-u))**2",
    "softplus": "the identity softplus'(u) = σ(u): d/du log(1 + exp(u)) = "
    "exp(u)/(1 + exp(u)) = 1/(1 + exp(-u))",
    "detach": "detach(u) carries no gradient (torch .detach()): its derivative is 0, "
    "though its value counts",
    "step function": "Heaviside(u) is constant on each side of u = 0: 0 wherever u != 0 "
    "(SymPy writes DiracDelta)",
    "exp": "exp is its own derivative",
    "log": "d/du log(u) = 1/u",
    "root": "cbrt(u) = u**(1/3) for u > 0 (the real root below): derivative 1/(3*cbrt(u)**2), "
    "infinite at u = 0",
}


def sigmoid_argument(sp: Any, f: Any) -> Any:
    """1/(1 + exp(-u)) -> u, else None."""
    if not (f.is_Pow and f.exp == -1 and f.base.is_Add and len(f.base.args) == 2):
        return None
    one, other = sorted(f.base.args, key=lambda a: not a.is_Number)
    if one == 1 and isinstance(other, sp.exp):
        return -other.args[0]
    return None


def softplus_argument(sp: Any, f: Any) -> Any:
    """log(1 + exp(u)) -> u, else None."""
    if not (isinstance(f, sp.log) and f.args[0].is_Add and len(f.args[0].args) == 2):
        return None
    one, other = sorted(f.args[0].args, key=lambda a: not a.is_Number)
    if one == 1 and isinstance(other, sp.exp):
        return other.args[0]
    return None


def relu_argument(sp: Any, f: Any) -> Any:
    """Max(0, u) -> u, else None."""
    if isinstance(f, sp.Max) and len(f.args) == 2 and sp.S.Zero in f.args:
        return next(a for a in f.args if a != 0)
    return None
