"""Large expressions (SymEngine path) and the symbolic-only mode."""

import json
import subprocess
import sys

import mpmath
import pytest

from gradcalc.check import MAX_SYMBOLIC, differentiate
from gradcalc.parsing import MAX_DEPTH

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


def test_sum_of_2000_terms():
    expression = " + ".join(f"{k}*sin({k}*x)" for k in range(1, 2001))
    result = differentiate(expression, {"x": 0.5})
    with mpmath.workdps(40):
        reference = float(sum(k * k * mpmath.cos(k * mpmath.mpf(0.5)) for k in range(1, 2001)))
    assert result.partials[0].sympy == pytest.approx(reference, rel=REFERENCE_RTOL)
    assert result.status == "agree"


def test_non_smooth_large_expressions_stay_on_sympy():
    expression = " + ".join(f"abs(x - {k})" for k in range(40))
    result = differentiate(expression, {"x": 0.5})
    assert result.engine == "sympy"
    assert result.partials[0].sympy == pytest.approx(1 - 39, abs=1e-12)


def test_no_autograd_never_imports_torch():
    code = ("import sys\nfrom gradcalc.cli import app\n"
            "try:\n    app(['diff', 'sin(x**2)', '--at', '3', '--no-autograd', '--json'])\n"
            "except SystemExit as e:\n    code = e.code\n"
            "print('torch' in sys.modules, code)")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lines = process.stdout.strip().splitlines()
    document = json.loads(lines[0])
    assert lines[-1] == "False 0"
    gradient = document["gradient"]["x"]
    assert gradient["autograd"] is None and gradient["autograd_nonfinite"] == "skipped"
    assert gradient["sympy"] == pytest.approx(-5.466781571308061, rel=1e-15)


def test_no_autograd_still_diagnoses_kinks_and_domains(cli):
    assert cli("diff", "abs(x)", "--at", "0", "--no-autograd").exit_code == 1
    assert cli("diff", "log(x)", "--at", "0", "--no-autograd").exit_code == 3
