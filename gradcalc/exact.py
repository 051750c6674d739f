"""The exact value of a short derivative at a point (6*cos(9)), shown beside
its float when it says something the float does not.

The derivative's text is SymPy's own output; it is read back with gradcalc's
parser (no eval), and the point's values are put in as exact numbers. Only
small cases are tried (short text, small integers or short decimals), so the
result is cheap and short; anything else gives None.
"""

from __future__ import annotations

from fractions import Fraction

MAX_TEXT = 60  # characters of derivative text tried
MAX_SHOWN = 24  # characters of exact value shown
MAX_MAGNITUDE = 1000  # point values tried


def _exact_number(value: float) -> Fraction | None:
    fraction = Fraction(value).limit_denominator(4)  # 3, 1/2, 3/4: no 33/10
    if float(fraction) != value or abs(fraction) > MAX_MAGNITUDE:
        return None
    return fraction


def at(symbolic: object, point: dict) -> str | None:
    """The derivative text `symbolic` at `point` ({name: array}) in exact
    form, or None when there is no short exact form to add."""
    if not isinstance(symbolic, str) or len(symbolic) > MAX_TEXT:
        return None
    values = {}
    for name, value in point.items():
        if getattr(value, "ndim", 0) != 0:
            return None
        number = _exact_number(float(value))
        if number is None:
            return None
        values[name] = number
    from .errors import GradcalcError
    from .parsing import parse

    try:
        tree = parse(symbolic)
    except GradcalcError:
        return None
    import sympy as sp

    from .cas.sympy_engine import build, symbols_for

    symbols = symbols_for(tree.variables, {})
    if set(tree.variables) - set(values):
        return None
    exact = build(tree, symbols).xreplace(
        {
            symbols[n]: sp.Rational(values[n].numerator, values[n].denominator)
            for n in tree.variables
        }
    )
    if exact.is_Number or exact.atoms(sp.Float):
        return None  # a rational number says no more than the float beside it
    if exact.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        return None  # SymPy's names for what is not a number (zoo: 1/0); the table says
    return short_text(exact, MAX_SHOWN)


# log10(2): an integer of b bits has about b times this many digits.
DIGITS_PER_BIT = 0.30103


def short_text(number: object, limit: int) -> str | None:
    """SymPy's text of an exact number (or expression of numbers) when it is
    at most `limit` characters long, else None; an integer too long to show
    is never written out (Python refuses past 4,300 digits, as 100/10**29700,
    the derivative of x**100 at 1e-300, would be)."""
    import sympy as sp

    assert isinstance(number, sp.Basic)
    for atom in number.atoms(sp.Rational):
        if max(abs(atom.p), atom.q).bit_length() * DIGITS_PER_BIT > limit:
            return None
    text = sp.sstr(number)
    return text if len(text) <= limit else None
