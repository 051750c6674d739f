"""Functions of whole vectors on the long-vector path (issue 28): dot, norm,
logsumexp, softmax and log_softmax inside a reduction, x[i] and
cross_entropy, in vector form, at 10,000 elements, checked against mpmath on
a sample of components; up to 64 elements they keep the per-component path."""

import mpmath
import numpy as np
import pytest

import gradcalc
from gradcalc import vectors
from gradcalc.parsing import parse

N = 10_000
SAMPLE = 25  # components checked against mpmath, seeded
CLOSE = 1e-12  # relative: float64 sums of 10^4 terms against 30-digit ones
TINY = 1e-300  # absolute: components that underflow in float64
mpmath.mp.dps = 30


def _point(n):
    x = 3 * np.sin(np.arange(n) * 0.7)  # in [-3, 3]: no component underflows
    w = np.cos(np.arange(n) * 1.3)
    return x, w


def _softmax(x):
    exps = [mpmath.exp(mpmath.mpf(v)) for v in x]
    total = mpmath.fsum(exps)
    return [e / total for e in exps]


def _check(expression, at, wrt, expected):
    """gradcalc's SymPy and autograd gradients at SAMPLE components against
    `expected(i)` (mpmath), and the verdict."""
    result = gradcalc.diff(expression, at=at)
    document = result.to_dict()
    assert document["status"] == "agree", document
    gradient = document["gradient"][wrt]
    sample = np.random.default_rng(28).choice(N, SAMPLE, replace=False)
    for i in sorted(int(i) for i in sample):
        want = float(expected(i))
        for method in ("sympy", "autograd"):
            assert gradient[method][i] == pytest.approx(want, rel=CLOSE, abs=TINY), (method, i)
    return document


def test_dot_gradient_is_the_other_vector():
    x, w = _point(N)
    document = _check("dot(w, x)", {"x": x, "w": w}, "x", lambda i: w[i])
    assert document["gradient"]["w"]["sympy"][:3] == x[:3].tolist()


def test_logsumexp_gradient_is_softmax():
    x, _ = _point(N)
    soft = _softmax(x)
    _check("logsumexp(x)", {"x": x}, "x", lambda i: soft[i])


def test_logsumexp_does_not_overflow_where_exp_does():
    x = np.linspace(500.0, 1000.0, N)  # exp(1000) overflows float64
    document = gradcalc.diff("logsumexp(x)", at={"x": x}).to_dict()
    assert document["status"] == "agree"
    soft = _softmax(x)
    assert document["gradient"]["x"]["sympy"][-1] == pytest.approx(float(soft[-1]), rel=CLOSE)


def test_norm_gradient_is_x_over_its_norm():
    x, _ = _point(N)
    norm = mpmath.sqrt(mpmath.fsum(mpmath.mpf(v) ** 2 for v in x))
    _check("norm(x)", {"x": x}, "x", lambda i: mpmath.mpf(x[i]) / norm)


def test_cross_entropy_gradient_is_softmax_minus_the_class():
    x, _ = _point(N)
    soft = _softmax(x)
    k = 4321
    _check("cross_entropy(x, 4321)", {"x": x}, "x", lambda i: soft[i] - (i == k))


def test_mean_of_log_softmax_and_an_element():
    x, _ = _point(N)
    soft = _softmax(x)

    # d/dx_j [mean_i(x_i - lse(x)) + x[7]·x[-1]] = 1/n - softmax_j + [j=7]·x[-1] + [j=n-1]·x[7]
    def expected(j):
        return mpmath.mpf(1) / N - soft[j] + (x[-1] if j == 7 else 0) + (x[7] if j == N - 1 else 0)

    _check("mean(log_softmax(x)) + x[7]*x[-1]", {"x": x}, "x", expected)


@pytest.mark.parametrize(
    ("expression", "length", "fast"),
    [
        ("logsumexp(x)", 64, False),  # up to 64: the per-component path, as before
        ("logsumexp(x)", 65, True),
        ("dot(w, x)", 3, False),
        ("dot(w, x)", 1000, True),
        ("softmax(x)", 1000, False),  # a Jacobian: the per-component path
        ("sum(softmax(x)*x)", 1000, True),
        ("prod(x)", 64, False),
        ("prod(x)", 1000, True),
        ("mean(bce(x, w))", 1000, True),  # bce is elementwise
        ("x[3] + x[-1]", 1000, True),
    ],
)
def test_which_path(expression, length, fast):
    expr = parse(expression)
    shapes = dict.fromkeys(expr.variables, length)
    assert vectors.applies(expr, shapes, 1) is fast
