"""Issue 28, vector reductions on the fast path: softmax's and log_softmax's
Jacobian past 64 elements in vector form (vecjacobian), prod(x) and bce on
the long-vector path; each checked against mpmath at 30 digits on seeded
samples of entries or components. Up to 64 elements the verdicts are those
of the per-component path, pinned here from mpmath's numbers (the statuses
and reasons as main's CLI gave them before the change)."""

import math

import mpmath
import numpy as np
import pytest
from conftest import run_subprocess, validate

from gradcalc import pointcheck, vectors
from gradcalc.parsing import parse

mpmath.mp.dps = 30
CLOSE = 1e-12  # relative: float64 reductions of 10^3-10^4 terms against 30-digit values
TINY = 1e-300  # absolute: entries that underflow in float64
FD_CLOSE = 1e-6  # relative: a finite difference (verdict.FINITE_DIFFERENCE_TOLERANCE's rtol)
FD_FLOOR = 1e-8  # absolute, for finite differences of entries near 0
ENTRIES = 40  # Jacobian entries checked against mpmath, seeded
COMPONENTS = 25  # gradient components checked against mpmath, seeded
EVERY_ENTRY = (
    "SymPy, autograd (reverse and forward mode) and finite differences agree on every entry"
)


def _x(n):
    return 3 * np.sin(np.arange(n) * 0.7)  # in [-3, 3]


def _softmax(x):
    exps = [mpmath.exp(mpmath.mpf(float(v))) for v in x]
    total = mpmath.fsum(exps)
    return [e / total for e in exps]


def _entries(n, count, seed=28):
    rng = np.random.default_rng(seed)
    pairs = [(int(i), int(j)) for i, j in rng.integers(0, n, size=(count, 2))]
    return pairs + [(k, k) for k in rng.integers(0, n, size=count // 4).tolist()]  # diagonal too


def _close(got, want):
    return got == pytest.approx(float(want), rel=CLOSE, abs=TINY)


def _check_jacobian(document, n, expected):
    """Every method's sampled entries against `expected(i, j)` (mpmath), the
    finite differences where they were taken, null where they were not."""
    assert document["status"] == "agree", document["reason"]
    jac = document["jacobian"]
    assert len(jac["rows"]) == n and len(jac["columns"]) == n
    for i, j in _entries(n, ENTRIES):
        want = expected(i, j)
        for method in ("sympy", "autograd_reverse", "autograd_forward"):
            assert _close(jac[method][i][j], want), (method, i, j)
    sampled = vectors.sample(n)
    for j in sampled:
        for i in np.random.default_rng(j).integers(0, n, 8).tolist():
            assert jac["finite_difference_checked"][i][j]
            assert jac["finite_difference"][i][j] == pytest.approx(
                float(expected(i, j)), rel=FD_CLOSE, abs=FD_FLOOR
            )
    unsampled = next(j for j in range(n) if j not in sampled)
    assert jac["finite_difference"][0][unsampled] is None
    assert jac["finite_difference_checked"][0][unsampled] is False


@pytest.mark.parametrize("n", [256, 1000])
def test_softmax_jacobian_is_diag_s_minus_s_s_transposed(n):
    x = _x(n)
    s = _softmax(x)
    result = pointcheck.differentiate("softmax(x)", at={"x": x})
    from gradcalc import jsonout

    document = jsonout.diff(result)
    _check_jacobian(document, n, lambda i, j: (s[i] if i == j else 0) - s[i] * s[j])
    assert document["reason"].startswith(
        "SymPy and autograd (reverse and forward mode) agree on every entry; finite "
        f"differences not checked on {n * (n - 32)} of the {n * n} entries"
    )
    assert any("vector form" in note for note in document["notes"])
    # The gradient of the sum: the Jacobian's column sums, 0 for softmax.
    assert max(abs(v) for v in document["gradient"]["x"]["sympy"]) < 1e-15


def test_log_softmax_jacobian_through_the_cli(cli):
    n = 256
    x = _x(n)
    s = _softmax(x)
    at = "x=[" + ",".join(repr(float(v)) for v in x) + "]"
    run = cli("diff", "log_softmax(x)", "--at", at, "--json")
    assert run.exit_code == 0, run.stdout
    document = run.json
    validate(document, "diff.schema.json")
    _check_jacobian(document, n, lambda i, j: (1 if i == j else 0) - s[j])
    symbolic = document["jacobian"]["symbolic"]
    assert symbolic[5][5] == "1 - exp(x[5] - max(x))/sum(exp(x - max(x)))"
    assert symbolic[5][7] == "-exp(x[7] - max(x))/sum(exp(x - max(x)))"


def test_a_jacobian_with_a_scalar_and_a_second_vector():
    # f_i = w_i·softmax(a·x)_i: ∂f_i/∂x_j = a·w_i·s_i(δ_ij − s_j),
    # ∂f_i/∂w_j = δ_ij·s_i, ∂f_i/∂a = w_i·s_i·(x_i − Σ_k s_k x_k).
    n, a = 100, 0.6
    x, w = _x(n), np.cos(np.arange(n) * 1.3)
    s = _softmax(a * x)
    mean_x = mpmath.fsum(sk * mpmath.mpf(float(v)) for sk, v in zip(s, x))
    result = pointcheck.differentiate("softmax(a*x)*w", at={"x": x, "w": w, "a": a})
    assert result.status == "agree", result.reason
    assert result.columns[:2] == ["a", "w[0]"] and result.columns[-1] == f"x[{n - 1}]"
    for i, j in _entries(n, ENTRIES):
        dx = mpmath.mpf(a) * w[i] * s[i] * ((1 if i == j else 0) - s[j])
        assert _close(result.sympy[i, 1 + n + j], dx), (i, j)
        assert _close(result.sympy[i, 1 + j], s[i] if i == j else 0), (i, j)
        da = w[i] * s[i] * (mpmath.mpf(float(x[i])) - mean_x)
        assert _close(result.sympy[i, 0], da), i


def test_a_jacobian_that_disagrees_is_found_by_the_sampled_columns(monkeypatch):
    """A wrong vector form (softmax's off-diagonal entries doubled) must be
    refuted: the check is not decorative."""
    from gradcalc import vecjacobian

    block = vecjacobian._block

    def wrong(form, name):
        right = block(form, name)
        return 2 * right - np.diag(np.diag(right))

    monkeypatch.setattr(vecjacobian, "_block", wrong)
    result = pointcheck.differentiate("softmax(x)", at={"x": _x(100)})
    assert result.status == "disagree"
    assert "autograd (reverse mode): off by up to" in result.reason


def test_past_the_budget_a_jacobian_ends_in_exit_3():
    """1,000 elements with --json is a million entries a matrix: past a
    budget of 1 s it ends in the budget's error (exit 3), never a hang."""
    at = "x=[" + ",".join(f"{v:.3f}" for v in _x(1000)) + "]"
    run = run_subprocess("diff", "softmax(x)", "--at", at, "--json", "--timeout", "1")
    assert run.returncode == 3
    assert '"kind": "budget"' in run.stdout


# -- prod and bce on the long-vector path ---------------------------------


def _near_one(n):
    return 1 + 0.01 * np.sin(np.arange(n) * 0.9)  # the product stays in range


def _prod_excluding(x, i):
    return mpmath.fprod(mpmath.mpf(float(v)) for k, v in enumerate(x) if k != i)


@pytest.mark.parametrize("n", [1000, 10_000])
def test_prod_gradient_is_the_product_of_the_others(n):
    x = _near_one(n)
    result = pointcheck.differentiate("prod(x)", at={"x": x})
    assert result.status == "agree", result.reason
    (partial,) = result.partials
    assert partial.symbolic == "prod(x)/x"
    for i in sorted(np.random.default_rng(28).choice(n, COMPONENTS, replace=False).tolist()):
        want = _prod_excluding(x, i)
        assert _close(partial.sympy[i], want), i
        assert _close(partial.autograd[i], want), i


@pytest.mark.parametrize("zeros", [(17,), (17, 4000)])
def test_prod_gradient_with_zero_elements(zeros):
    """One zero: only its own component is non-zero (the product of the
    others); two: every component is 0. Nothing is divided by zero."""
    n = 10_000
    x = _near_one(n)
    x[list(zeros)] = 0.0
    result = pointcheck.differentiate("prod(x)", at={"x": x})
    assert result.status == "agree", result.reason
    (partial,) = result.partials
    expected_17 = _prod_excluding(x, 17)
    assert _close(partial.sympy[17], expected_17)
    assert _close(partial.autograd[17], expected_17)
    others = [v for k, v in enumerate(partial.sympy) if k != 17]
    assert all(v == 0 for v in others)
    assert all(np.isfinite(partial.sympy))


def test_prod_whose_partial_products_leave_float64():
    # 5,000 values of 1e30 and 5,000 of 1e-30, interleaved: the product is 1,
    # every running product on the way overflows or underflows.
    n = 10_000
    x = np.where(np.arange(n) % 2 == 0, 1e30, 1e-30)
    x[0] = 3.0
    result = pointcheck.differentiate("prod(x)", at={"x": x})
    (partial,) = result.partials
    for i in (0, 1, 2, 9_999):
        assert _close(partial.sympy[i], _prod_excluding(x, i)), i


def test_prod_of_ten_thousand_twos_overflows_as_at_three(cli):
    three = cli("diff", "prod(x)", "--at", "x=[1e200,1e200,1e200]", "--json")
    many = cli("diff", "prod(x)", "--at", "x=[" + ",".join(["2.0"] * 10_000) + "]", "--json")
    assert three.exit_code == many.exit_code == 3
    for run in (three, many):
        message = run.json["error"]["message"]
        assert message.startswith("prod(x) is infinite (beyond float64's range, or a pole) at x=")
        assert run.json["error"]["kind"] == "domain"


def test_mean_bce_over_ten_thousand_elements():
    # d/dp_i mean(bce(p, y)) = (p_i − y_i) / (p_i (1 − p_i)) / n
    n = 10_000
    p = 0.5 + 0.4 * np.sin(np.arange(n) * 0.3)
    y = (np.arange(n) % 3 == 0).astype(float)
    result = pointcheck.differentiate("mean(bce(p, y))", at={"p": p, "y": y}, wrt=["p"])
    assert result.status == "agree", result.reason
    (partial,) = result.partials
    for i in sorted(np.random.default_rng(28).choice(n, COMPONENTS, replace=False).tolist()):
        pi, yi = mpmath.mpf(float(p[i])), mpmath.mpf(float(y[i]))
        want = (pi - yi) / (pi * (1 - pi)) / n
        assert _close(partial.sympy[i], want), i
        assert _close(partial.autograd[i], want), i


# -- up to 64 elements: the per-component path, as before -----------------

POINT_10 = [0.5, -1.25, 2, 0.75, -0.3, 1.1, -2, 0.05, 1.6, -0.9]
POINT_64 = [round(1 + ((k * 37) % 11 - 5) / 100, 2) for k in range(64)]


def _at(values):
    return "x=[" + ",".join(repr(v) for v in values) + "]"


@pytest.mark.parametrize("values", [[0.5, -1.25, 2], POINT_10])
def test_softmax_jacobian_up_to_64_elements_is_unchanged(cli, values):
    """Status and reason as main gave them before the vector form; 30-digit
    entries; each entry its own SymPy formula in exp(x[i])."""
    document = cli("diff", "softmax(x)", "--at", _at(values), "--json").json
    assert document["status"] == "agree"
    assert document["reason"] == EVERY_ENTRY
    assert document["notes"] == []
    s = _softmax(values)
    n = len(values)
    jac = document["jacobian"]
    assert all(jac["finite_difference_checked"][i][j] for i in range(n) for j in range(n))
    for i in range(n):
        for j in range(n):
            want = (s[i] if i == j else 0) - s[i] * s[j]
            assert jac["sympy"][i][j] == pytest.approx(float(want), rel=1e-15, abs=1e-17)
    assert jac["symbolic"][0][1].startswith("-exp(x[0])*exp(x[1])/(exp(x[0]) + exp(x[1])")


@pytest.mark.parametrize("zero", [None, 9])
def test_prod_at_64_elements_is_unchanged(cli, zero):
    values = list(POINT_64)
    if zero is not None:
        values[zero] = 0.0
    document = cli("diff", "prod(x)", "--at", _at(values), "--json", "--timeout", "0").json
    assert document["status"] == "agree"
    assert document["reason"] == "SymPy, autograd and finite differences agree"
    assert document["notes"] == []
    (d,) = document["derivatives"]
    factors = d["symbolic"][1].split("*")  # the per-component formula: each x[k] but x[1]
    assert sorted(factors) == sorted(f"x[{k}]" for k in range(64) if k != 1)
    for i in (0, 9, 33, 63):
        want = _prod_excluding(values, i)
        assert d["sympy"][i] == pytest.approx(float(want), rel=1e-15, abs=1e-300)


@pytest.mark.parametrize(
    ("expression", "length", "jacobian"),
    [
        ("softmax(x)", 64, False),
        ("softmax(x)", 65, True),
        ("log_softmax(x) - x", 1000, True),
        ("x**2", 1000, False),  # elementwise: the gradient of the sum, as before
        ("sum(softmax(x))", 1000, False),
    ],
)
def test_which_jacobians_take_the_vector_form(expression, length, jacobian):
    expr = parse(expression)
    shapes = dict.fromkeys(expr.variables, length)
    assert vectors.jacobian_applies(expr, shapes, 1) is jacobian
    assert not (jacobian and vectors.applies(expr, shapes, 1))


def test_exclusive_products_by_hand():
    got = vectors.exclusive_products(np.array([2.0, 3.0, 0.5, -4.0]))
    assert got.tolist() == [-6.0, -4.0, -24.0, 3.0]
    assert vectors.exclusive_products(np.array([2.0, 0.0, 5.0])).tolist() == [0.0, 10.0, 0.0]
    assert vectors.exclusive_products(np.array([0.0, 0.0, 5.0])).tolist() == [0.0, 0.0, 0.0]
    huge = vectors.exclusive_products(np.array([1e300, 1e300, 1e-300]))
    assert huge[2] == math.inf and huge[0] == pytest.approx(1.0, rel=1e-15)
