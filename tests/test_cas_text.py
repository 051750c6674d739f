"""The symbolic text of many derivatives printed by one printer (cas
`printer`) is exactly SymPy's sstr of each: the shared printer only
remembers. So is one text, and a substitution of the point (xreplace)."""

import pytest
import sympy as sp

from gradcalc import GradcalcError
from gradcalc.cas import symengine_engine, sympy_engine
from gradcalc.functions import FUNCTIONS
from gradcalc.parsing import parse


def _derivatives(source: str, variables: list[str], shapes: dict) -> list:
    symbols = sympy_engine.symbols_for(variables, shapes)
    f = sympy_engine.build(parse(source), symbols)
    items = f if isinstance(f, list) else [f]
    wrt = [s for n in variables for s in (symbols[n] if shapes.get(n) else [symbols[n]])]
    return [sympy_engine.derivative(item, (s,)) for item in items for s in wrt]


def _together(show, items) -> list[str]:
    return [show(item) for item in items]


def test_every_function_of_the_table_prints_as_sstr_does_together():
    expressions = []
    for func in FUNCTIONS:
        low, _high = func.arity
        args = ", ".join(["x*y", "y + 2", "x"][:low])
        source = f"{func.name}({args})"
        try:
            expressions += _derivatives(f"{source} * exp({source})", ["x", "y"], {})
        except GradcalcError:  # wants a vector or a constant argument: the Jacobian below
            continue
    assert len(expressions) > 60
    assert _together(sympy_engine.printer(), expressions) == [sp.sstr(e) for e in expressions]


def test_a_jacobian_prints_as_sstr_does_and_faster():
    entries = _derivatives("softmax(x)", ["x"], {"x": 6}) + _derivatives(
        "log_softmax(x) * dot(x, x)", ["x"], {"x": 4}
    )
    assert _together(sympy_engine.printer(), entries) == [sp.sstr(e) for e in entries]


@pytest.mark.parametrize("order", ["top first", "nested first"])
def test_a_float_prints_at_the_top_as_sstr_does_and_nested_as_sstr_does(order):
    # sstr prints a top-level Float with all its digits and a nested one
    # stripped: the shared printer must not carry one form to the other place.
    x = sp.Symbol("x", real=True)
    half = sp.Float("2.50000", 30)
    items = [half, x * half + 1] if order == "top first" else [x * half + 1, half]
    assert _together(sympy_engine.printer(), items) == [sp.sstr(e) for e in items]
    assert _together(sympy_engine.printer(), items + items) == [sp.sstr(e) for e in items + items]


def test_symengine_prints_each_as_str():
    import symengine as se

    x = se.Symbol("x")
    items = [se.diff(se.tan(x) ** 2, x), se.sin(x) * se.exp(x)]
    assert _together(symengine_engine.printer(), items) == [str(e) for e in items]


def test_one_text_is_sstr_and_a_substitution_is_xreplace():
    entries = _derivatives("dot(x, softmax(x)) + x[0]*exp(sum(x))", ["x"], {"x": 5})
    entries += _derivatives("sin(x*y)**2/(1 + (x*y)**2) + abs(x - y)", ["x", "y"], {})
    symbols = sorted(set().union(*(e.free_symbols for e in entries)), key=str)
    point = {s: sp.Float(0.25 + k / 3, 30) for k, s in enumerate(symbols)}
    for entry in entries:
        assert sympy_engine.text(entry) == sp.sstr(entry)
        assert sympy_engine._substitute(entry, point) == entry.xreplace(point)
        assert sympy_engine._substitute(entry, {}) is entry
