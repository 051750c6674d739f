"""Large expressions (SymEngine path) and the symbolic-only mode."""

import json
import subprocess
import sys

import mpmath
import pytest
from conftest import HANG_GUARD_SECONDS
from test_functions_table import CASES, _expression

from gradcalc import cas, chainrule
from gradcalc.cas import symengine_engine as fastsym
from gradcalc.formula_text import MAX_SYMBOLIC
from gradcalc.measure import WIDE_TEXT
from gradcalc.numeric import as_batch
from gradcalc.parsing import MAX_DEPTH, MAX_LENGTH, parse
from gradcalc.pointcheck import differentiate
from gradcalc.verdict import Status

REFERENCE_RTOL = 1e-10  # float64 evaluation of a large derivative vs 40-digit mpmath


def nest(depth, inner="x"):
    return "sin(" * depth + inner + ")" * depth


def test_deep_nesting_to_the_limit_matches_mpmath():
    depth = MAX_DEPTH - 1
    result = differentiate(nest(depth), {"x": 0.5})
    assert result.engine == "symengine" and result.status == "agree"

    def f(x):
        for _ in range(depth):
            x = mpmath.sin(x)
        return x

    with mpmath.workdps(40):
        reference = float(mpmath.diff(f, mpmath.mpf(0.5)))
    (partial,) = result.partials
    assert partial.sympy == pytest.approx(reference, rel=REFERENCE_RTOL)
    assert partial.autograd == pytest.approx(reference, rel=REFERENCE_RTOL)


def test_product_of_200_factors_matches_mpmath():
    expression = "*".join(f"sin({k}*x + x**({k + 1}))" for k in range(1, 201))
    result = differentiate(expression, {"x": 0.5})
    assert result.status == "agree"

    def f(x):
        product = mpmath.mpf(1)
        for k in range(1, 201):
            product *= mpmath.sin(k * x + x ** (k + 1))
        return product

    with mpmath.workdps(60):
        reference = float(mpmath.diff(f, mpmath.mpf(0.5)))
    (partial,) = result.partials
    assert partial.sympy == pytest.approx(reference, rel=REFERENCE_RTOL)
    assert len(partial.symbolic) < MAX_SYMBOLIC + 200
    assert "--full shows all" in partial.symbolic
    full = differentiate(expression, {"x": 0.5}, full=True).partials[0].symbolic
    assert len(full) > 100_000 and "left out" not in full


@pytest.mark.slow
def test_sum_of_2000_terms():
    expression = " + ".join(f"{k}*sin({k}*x)" for k in range(1, 2001))
    result = differentiate(expression, {"x": 0.5})
    with mpmath.workdps(40):
        reference = float(sum(k * k * mpmath.cos(k * mpmath.mpf(0.5)) for k in range(1, 2001)))
    assert result.partials[0].sympy == pytest.approx(reference, rel=REFERENCE_RTOL)
    assert result.status == "agree"


def _wide_product(n):
    return "*".join(f"(1+x/{k}**2)" for k in range(1, n + 1))


def _wide_reference(n, x=0.5):
    # d/dx prod(1 + x/k^2) = prod(...) * sum(1/(k^2 + x)), at 40 digits
    with mpmath.workdps(40):
        x = mpmath.mpf(x)
        product = mpmath.fprod(1 + x / k**2 for k in range(1, n + 1))
        return float(product * mpmath.fsum(1 / (k**2 + x) for k in range(1, n + 1)))


def test_a_wide_product_is_differentiated_by_the_chain_rule():
    n = 600  # a formula of 360,000 factor occurrences: past fastsym.WIDE_FACTORS
    assert chainrule.widest_product(parse(_wide_product(n))) == n > fastsym.WIDE_FACTORS
    result = differentiate(_wide_product(n), {"x": 0.5})
    (partial,) = result.partials
    assert result.status == "agree" and result.engine == "symengine" and result.chain_rule
    assert any("chain rule combined them" in note for note in result.notes)
    assert partial.symbolic == WIDE_TEXT and partial.truncated
    assert partial.sympy == pytest.approx(_wide_reference(n), rel=REFERENCE_RTOL)
    assert partial.autograd == pytest.approx(_wide_reference(n), rel=REFERENCE_RTOL)


def test_a_wide_product_of_kinked_factors_uses_sympys_rules():
    """abs has no SymEngine derivative: the chain rule runs on SymPy's."""
    n = 600
    expression = _wide(n, "(1+abs(x)/{k}**2)")
    result = differentiate(expression, {"x": 0.5}, autograd=False)
    (partial,) = result.partials
    assert result.engine == "sympy" and result.status == "agree", result.reason
    assert any("SymPy differentiated each operation" in note for note in result.notes)
    assert partial.sympy == pytest.approx(_wide_reference(n), rel=REFERENCE_RTOL)
    at_kink = differentiate(expression, {"x": 0}, autograd=False)
    assert at_kink.status == Status.KINK
    assert (at_kink.kinks[0].left, at_kink.kinks[0].right) == pytest.approx(
        (-_wide_reference(n, 0), _wide_reference(n, 0)), rel=1e-6
    )


def test_full_builds_the_wide_formula_and_agrees_with_the_chain_rule():
    n = 600
    full = differentiate(_wide_product(n), {"x": 0.5}, full=True, autograd=False)
    (partial,) = full.partials
    assert not any("chain rule" in note for note in full.notes)
    assert partial.symbolic.count("+") >= n - 1
    assert partial.sympy == pytest.approx(_wide_reference(n), rel=REFERENCE_RTOL)


@pytest.mark.slow
def test_the_widest_product_the_parser_takes_is_answered():
    n = 7000  # 97 KB of input, under parsing.MAX_LENGTH
    expression = _wide_product(n)
    assert len(expression) < MAX_LENGTH
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradcalc",
            "diff",
            expression,
            "--at",
            "0.5",
            "--no-autograd",
            "--json",
            "--timeout",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert process.returncode == 0, process.stderr
    gradient = json.loads(process.stdout)["gradient"]["x"]
    assert gradient["sympy"] == pytest.approx(_wide_reference(n), rel=REFERENCE_RTOL)
    assert gradient["finite_difference"] == pytest.approx(_wide_reference(n), rel=1e-8)


@pytest.mark.slow
def test_parsing_a_long_chain_takes_linear_memory():
    import tracemalloc

    expression = _wide_product(7000)  # 97 KB; storing each link's text took 350 MB
    tracemalloc.start()
    try:
        expr = parse(expression)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 60 * 2**20, peak
    assert expr.root.text == expression and expr.root.args[1].text == "1+x/7000**2"


@pytest.mark.parametrize(
    "expression, factors",
    [
        ("x*y*sin(x)*exp(y)", 4),
        ("2*x*3", 1),
        ("x + y", 0),
        ("sin(x*x)*(x*x*x)", 4),
        ("(1+x)*(2+x)*(3+x)/(x*x)", 4),
        ("x/y/(2*x)", 3),
        ("(x - y - 1)*2", 1),
        ("x*y*z + x*y*z*x*y", 5),
    ],
)
def test_widest_product_counts_the_factors_of_the_widest_chain(expression, factors):
    assert chainrule.widest_product(parse(expression)) == factors


def _wide(n, factor="(1+x/{k}**2)"):
    return "*".join(factor.format(k=k) for k in range(1, n + 1))


def _same_as_the_formula(expression, at, wrt=None):
    """The chain-rule answer against the whole formula's (--full)."""
    chained = differentiate(expression, at, wrt=wrt, autograd=False)
    formula = differentiate(expression, at, wrt=wrt, autograd=False, full=True)
    assert chained.chain_rule and not formula.chain_rule
    assert (chained.status, chained.partials[0].sympy is None) == (
        formula.status,
        formula.partials[0].sympy is None,
    ), (chained.reason, formula.reason)
    if formula.partials[0].sympy is not None:
        assert chained.partials[0].sympy == pytest.approx(
            formula.partials[0].sympy, rel=REFERENCE_RTOL, abs=1e-300
        )
    return chained


@pytest.mark.slow
def test_chain_rule_with_a_zero_base_under_a_constant_power():
    # SymPy's general d(a**b)/da = b*a**b/a is 0/0 at a = 0
    for expression, at in (
        (f"x**2*{_wide(60, '(1+abs(x)/{k}**2)')}", 0),
        (f"x**1*{_wide(60, '(1+abs(x)/{k}**2)')}", 0),
        (f"(x-1)**2*{_wide(60, '(1+abs(x)/{k}**2)')}", 1),
    ):
        result = _same_as_the_formula(expression, {"x": at})
        assert result.status != "undefined"


def test_chain_rule_failure_along_another_variable_does_not_spread():
    # d/dy of x**y needs log(x), not real at x = -0.5; d/dx is fine
    result = _same_as_the_formula(f"x**y*{_wide(520)}", {"x": -0.5, "y": 2}, wrt=["x"])
    assert result.status == Status.AGREE


def test_chain_rule_overflow_is_undefined_not_a_disagreement():
    result = _same_as_the_formula(f"1e200*sqrt(x)*{_wide(520)}", {"x": 1e-300})
    assert result.status == Status.UNDEFINED


def test_vector_variables_keep_the_formula():
    result = differentiate(
        f"sum(x)*{_wide(520, '(1+y/{k}**2)')}", {"x": [1.0, 2.0, 3.0], "y": 0.5}, wrt=["y"]
    )
    assert not result.chain_rule and result.status == Status.AGREE
    assert result.partials[0].sympy == pytest.approx(6 * _wide_reference(520), rel=REFERENCE_RTOL)


def test_a_sum_of_small_products_keeps_its_formula():
    terms = " + ".join(f"abs(a{i})*b{i}*c{i}*d{i}*e{i}*f{i}" for i in range(70))
    result = differentiate(
        terms, {name: 1.5 for name in parse(terms).variables}, wrt=["a0"], autograd=False
    )
    assert not result.chain_rule
    assert result.partials[0].symbolic == "b0*c0*d0*e0*f0*sign(a0)"


CHAIN_CASES = [case for case in CASES if case.values[0].symengine]


@pytest.mark.parametrize(
    "engine, func, sample",
    [pytest.param(cas.symengine(), *case.values, id="symengine-" + case.id) for case in CHAIN_CASES]
    + [pytest.param(cas.sympy(), *case.values, id="sympy-" + case.id) for case in CASES],
)
def test_chain_rule_matches_mpmath_for_every_function(engine, func, sample):
    names = [f"v{i}" for i in range(len(sample))]
    expr = parse(_expression(func, names))
    point = as_batch(dict(zip(names, sample)))
    values, whys = chainrule.gradient(expr, point, names, engine)
    assert not whys
    with mpmath.workdps(40):
        at = [mpmath.mpf(v) for v in sample]
        for i, name in enumerate(names):
            orders = [1 if j == i else 0 for j in range(len(sample))]
            reference = float(mpmath.diff(lambda *a: func.mpmath(mpmath, *a), at, orders))
            assert values[name] == pytest.approx(reference, rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("func, sample", CHAIN_CASES)
def test_symbolic_only_mode_matches_mpmath_for_every_function(func, sample):
    """--no-autograd sends every SymEngine-capable function through SymEngine."""
    names = [f"v{i}" for i in range(len(sample))]
    result = differentiate(_expression(func, names), dict(zip(names, sample)), autograd=False)
    assert result.engine == "symengine" and result.status == "agree", result.reason
    with mpmath.workdps(40):
        at = [mpmath.mpf(v) for v in sample]
        reference = float(func.mpmath(mpmath, *at))
        assert result.value == pytest.approx(reference, rel=1e-13, abs=1e-13)
        for i, partial in enumerate(result.partials):
            orders = [1 if j == i else 0 for j in range(len(sample))]
            slope = float(mpmath.diff(lambda *a: func.mpmath(mpmath, *a), at, orders))
            assert partial.sympy == pytest.approx(slope, rel=1e-13, abs=1e-13)


def test_chains_are_built_in_one_call_with_the_same_result():
    import symengine
    import sympy

    from gradcalc.cas import tree

    expr = parse("x*2*sin(x)*(x+1-y+3)/y*x - (x - 4 - y/(x/3)) + y*x/(2/y)")
    for module in (sympy, symengine):
        symbols = {"x": module.Symbol("x"), "y": module.Symbol("y")}
        x, y = symbols["x"], symbols["y"]
        pairwise = (
            x * 2 * module.sin(x) * (x + 1 - y + 3) / y * x
            - (x - 4 - y / (x / 3))
            + y * x / (2 / y)
        )
        assert tree.build(expr, symbols, module) == pairwise
    a, two, three = symengine.Symbol("a"), symengine.Integer(2), symengine.Integer(3)
    vector = tree.build(parse("x - y/x - 1"), {"x": [a, two], "y": three}, symengine)
    assert vector == [a - 3 / a - 1, symengine.Rational(-1, 2)]


def test_non_smooth_large_expressions_stay_on_sympy():
    expression = " + ".join(f"abs(x - {k})" for k in range(40))
    result = differentiate(expression, {"x": 0.5})
    assert result.engine == "sympy"
    assert result.partials[0].sympy == pytest.approx(1 - 39, abs=1e-12)


def test_no_autograd_never_imports_torch():
    code = (
        "import sys\nfrom gradcalc.cli import app\n"
        "try:\n    app(['diff', 'sin(x**2)', '--at', '3', '--no-autograd', '--json'])\n"
        "except SystemExit as e:\n    code = e.code\n"
        "print('torch' in sys.modules, 'sympy' in sys.modules, code)"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lines = process.stdout.strip().splitlines()
    document = json.loads(lines[0])
    assert lines[-1] == "False False 0"  # SymEngine did the symbolic work
    gradient = document["gradient"]["x"]
    assert gradient["autograd"] is None and gradient["autograd_nonfinite"] == "skipped"
    assert gradient["sympy"] == pytest.approx(-5.466781571308061, rel=1e-15)


def test_no_autograd_still_diagnoses_kinks_and_domains(cli):
    assert cli("diff", "abs(x)", "--at", "0", "--no-autograd").exit_code == 1
    assert cli("diff", "log(x)", "--at", "0", "--no-autograd").exit_code == 3
