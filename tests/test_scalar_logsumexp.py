"""logsumexp of a scalar is the scalar (a vector of one element): its mpmath
column took only vectors, so `taylor` said "mpmath gives no finite value" and
the 50-digit fuzz reference raised TypeError."""

import mpmath
import pytest


def test_taylor_of_a_scalar_logsumexp_agrees(cli):
    """logsumexp(x) = log(exp(x)) = x: at 0.3 the coefficients are 0.3, 1, 0
    (by hand; mpmath at 50 digits says the same of log(exp(x)))."""
    run = cli("taylor", "logsumexp(x)", "--at", "0.3", "--order", "2", "--json")
    assert run.exit_code == 0, run.stdout
    assert run.json["status"] == "agree"
    with mpmath.workdps(50):
        x = mpmath.mpf("0.3")
        hand = [x, mpmath.mpf(1), mpmath.mpf(0)]
        series = mpmath.taylor(lambda t: mpmath.log(mpmath.exp(t)), x, 2)
        assert all(abs(a - b) < mpmath.mpf("1e-45") for a, b in zip(series, hand, strict=True))
    coefficients = run.json["coefficients"]
    assert [c["mpmath"] for c in coefficients] == [pytest.approx(float(h), abs=1e-16) for h in hand]


def test_the_mpmath_column_takes_a_scalar_and_a_vector():
    from gradcalc.functions import TABLE

    column = TABLE["logsumexp"].mpmath
    with mpmath.workdps(50):
        scalar = column(mpmath, mpmath.mpf("0.3"))
        assert abs(scalar - mpmath.mpf("0.3")) < mpmath.mpf("1e-48")
        pair = column(mpmath, [mpmath.mpf(1), mpmath.mpf(2)])
        assert abs(pair - mpmath.log(mpmath.e + mpmath.e**2)) < mpmath.mpf("1e-48")
