"""backward.py: each operation's local derivative (defined once, cached)
against mpmath's numerical partial derivative of the table's mpmath column,
for both engines; and the sweep against a hand computation."""

import mpmath
import pytest

from gradcalc import backward, cas
from gradcalc.functions import FUNCTIONS, OPERATORS
from gradcalc.parsing import parse

CASES = [
    pytest.param(engine, func, sample, position, id=f"{name}-{func.name}{sample}-{position}")
    for name, engine in (("sympy", cas.sympy), ("symengine", cas.symengine))
    for func in OPERATORS + FUNCTIONS
    if not func.reduces and func.name != "detach" and (name == "sympy" or func.symengine)
    for sample in func.samples
    for position in range(len(sample))
]


@pytest.mark.parametrize("engine, func, sample, position", CASES)
def test_local_rule_matches_mpmath(engine, func, sample, position):
    engine = engine()
    inputs, rule = backward.local_rule(engine, func.name, len(sample), position)
    local, why = engine.value_at(rule, {u: engine.number(v) for u, v in zip(inputs, sample)})
    assert why is None
    with mpmath.workdps(40):
        point = [mpmath.mpf(v) for v in sample]
        orders = [1 if j == position else 0 for j in range(len(sample))]
        expected = float(mpmath.diff(lambda *a: func.mpmath(mpmath, *a), point, orders))
    assert local == pytest.approx(expected, rel=1e-13, abs=1e-14)


def test_local_rules_are_cached():
    engine = cas.sympy()
    assert backward.local_rule(engine, "sin", 1, 0) is backward.local_rule(engine, "sin", 1, 0)


def test_a_constant_exponent_is_written_into_the_rule():
    engine = cas.sympy()
    (u,), rule = backward.local_rule(engine, "pow", 2, 0, engine.number(2.0))
    # 2*u, not the general b*a**b/a, which is 0/0 at a = 0.
    assert engine.value_at(rule, {u: engine.number(0.0)}) == (0.0, None)


def test_sweep_sums_over_paths():
    # f = x*x + sin(x): df/dx = 2x + cos(x); each path's product is summed.
    expr = parse("x*x + sin(x)")
    x = 0.7
    local = {"mul": lambda position: x, "add": lambda position: 1.0}
    import math

    local["sin"] = lambda position: math.cos(x)
    adjoints = backward.sweep(
        expr, 1.0, lambda node, position, adjoint: adjoint * local[node.op](position)
    )
    (leaf,) = [n for n in expr.nodes if n.op == "var"]
    assert adjoints[id(leaf)] == pytest.approx(2 * x + math.cos(x), rel=1e-15)
