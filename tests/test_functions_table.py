"""Every entry of the function table, at points inside its domain: SymPy,
autograd and finite differences against an independent reference, mpmath's
high-precision numerical derivative of the table's mpmath column."""

import mpmath
import pytest

from gradcalc.functions import FUNCTIONS, OPERATORS
from gradcalc.pointcheck import differentiate

REFERENCE_DIGITS = 40
SYMBOLIC_RTOL = 1e-13  # SymPy at 30 digits, rounded to float64
AUTOGRAD_RTOL = 1e-12  # torch float64: a few ulps through a few operations
FINITE_DIFFERENCE_RTOL = 1e-8


def _expression(func, names):
    if func.operator is None:
        return f"{func.name}({', '.join(names)})"
    if func.name == "neg":
        return f"-{names[0]}"
    return f"{names[0]} {func.operator} {names[1]}"


CASES = [
    pytest.param(func, sample, id=f"{func.name}{sample}")
    for func in OPERATORS + FUNCTIONS
    if not func.reduces and func.name != "detach"
    for sample in func.samples
]


def test_every_function_has_samples():
    for func in OPERATORS + FUNCTIONS:
        if func.name != "detach" and not func.vector:  # test_vector_functions has theirs
            assert func.samples, func.name


@pytest.mark.parametrize("func, sample", CASES)
def test_gradient_matches_mpmath(func, sample):
    names = [f"v{i}" for i in range(len(sample))]
    result = differentiate(_expression(func, names), dict(zip(names, sample)))
    assert result.status == "agree", result.reason
    with mpmath.workdps(REFERENCE_DIGITS):
        point = [mpmath.mpf(v) for v in sample]
        for i, partial in enumerate(result.partials):
            orders = [1 if j == i else 0 for j in range(len(sample))]
            reference = float(mpmath.diff(lambda *a: func.mpmath(mpmath, *a), point, orders))
            scale = max(1.0, abs(reference))
            assert abs(partial.sympy - reference) <= SYMBOLIC_RTOL * scale
            assert abs(partial.autograd - reference) <= AUTOGRAD_RTOL * scale
            assert abs(partial.finite_difference - reference) <= FINITE_DIFFERENCE_RTOL * scale


@pytest.mark.parametrize("func, sample", CASES)
def test_value_matches_mpmath(func, sample):
    names = [f"v{i}" for i in range(len(sample))]
    result = differentiate(_expression(func, names), dict(zip(names, sample)))
    with mpmath.workdps(REFERENCE_DIGITS):
        reference = float(func.mpmath(mpmath, *[mpmath.mpf(v) for v in sample]))
    assert result.value == pytest.approx(reference, rel=1e-15, abs=1e-300)


@pytest.mark.parametrize(
    "func",
    [
        f
        for f in FUNCTIONS
        if f.arity[0] == 1
        and not f.reduces
        and not f.vector
        and f.name != "detach"
        and f.kink is None
    ],
    ids=lambda f: f.name,
)
def test_second_derivative_matches_mpmath(func):
    (x,) = func.samples[0]
    result = differentiate(f"{func.name}(x)", {"x": x}, order=2)
    assert result.status == "agree", result.reason
    with mpmath.workdps(REFERENCE_DIGITS):
        reference = float(mpmath.diff(lambda a: func.mpmath(mpmath, a), mpmath.mpf(x), 2))
    (partial,) = result.partials
    assert partial.sympy == pytest.approx(reference, rel=1e-12, abs=1e-12)
    assert partial.autograd == pytest.approx(reference, rel=1e-10, abs=1e-12)
    assert partial.finite_difference == pytest.approx(reference, rel=1e-5, abs=1e-7)


FUNCTIONS_WITH_SAMPLES = [
    pytest.param(func, id=func.name)
    for func in OPERATORS + FUNCTIONS
    if not func.reduces and not func.vector and func.name != "detach"
]


@pytest.mark.parametrize("func", FUNCTIONS_WITH_SAMPLES)
def test_many_points_match_mpmath_and_agree(func):
    """--points over every function: the vectorized path (one derivative
    evaluated over arrays, batched autograd and finite differences) gives
    the same verdict and, within the same tolerances, the same numbers as
    mpmath at every sample of the function."""
    from gradcalc.batch import differentiate_many
    from gradcalc.pointsfile import read

    arity = len(func.samples[0])
    samples = [s for s in func.samples if len(s) == arity]
    names = [f"v{i}" for i in range(arity)]
    text = ",".join(names) + "\n" + "\n".join(",".join(repr(v) for v in s) for s in samples)
    many = differentiate_many(_expression(func, names), read(text))
    assert list(many.codes) == [0] * len(samples), many.reasons
    with mpmath.workdps(REFERENCE_DIGITS):
        for row, sample in enumerate(samples):
            point = [mpmath.mpf(v) for v in sample]
            for i, partial in enumerate(many.partials):
                orders = [1 if j == i else 0 for j in range(arity)]
                reference = float(mpmath.diff(lambda *a: func.mpmath(mpmath, *a), point, orders))
                assert partial.sympy[row] == pytest.approx(reference, rel=SYMBOLIC_RTOL, abs=1e-14)
                assert partial.autograd[row] == pytest.approx(
                    reference, rel=AUTOGRAD_RTOL, abs=1e-14
                )
                assert partial.finite_difference[row] == pytest.approx(
                    reference, rel=FINITE_DIFFERENCE_RTOL, abs=1e-9
                )
