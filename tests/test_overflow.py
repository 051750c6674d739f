"""diff at a point where float64 overflows but f does not: exp(x)*exp(-x) at
1000 is 1 (exp(1000) is past float64's largest number, inf·0 is NaN). It was
"undefined"; now the one line says float64 overflows (kind overflow, exit 3),
with f's value and the part's, checked here in mpmath at 50 digits. Where f
itself is undefined or infinite, the verdict stays undefined (kind domain).
Where float64's rounding, not its range, makes a part infinite (1/(x-pi) at
float64's pi: x - pi is 0 in float64, -1.2e-16 in fact), the line says that
(kind rounding, exit 3)."""

import mpmath
import pytest
from conftest import validate
from reference import CONSTANTS

mp = mpmath.mp


def _overflow_message(expression, value, part, size, where="x=1000.0"):
    return (
        f"{expression} is {value} at {where} (in 30 digits), but float64 cannot evaluate "
        f"it there: {part} is {size}, past float64's largest number (1.8e+308), so every "
        "float64 method overflows; rewrite the expression so that no part of it leaves "
        "float64's range"
    )


@pytest.mark.parametrize(
    ("expression", "at", "exact", "part", "size"),
    [
        ("exp(x)*exp(-x)", "1000", lambda x: mp.exp(x) * mp.exp(-x), "exp(x)", mp.exp),
        ("sinh(x)/cosh(x)", "1000", lambda x: mp.sinh(x) / mp.cosh(x), "sinh(x)", mp.sinh),
        ("exp(x)-exp(x)", "1000", lambda x: mp.exp(x) - mp.exp(x), "exp(x)", mp.exp),
    ],
)
def test_a_finite_function_past_float64_is_no_undefined_point(
    cli, expression, at, exact, part, size
):
    with mp.workdps(50):
        x = mp.mpf(at)
        value = exact(x)
        assert mp.isfinite(value) and mp.isfinite(size(x)) and size(x) > mp.mpf("1.8e308")
        shown_value = mpmath.nstr(value, 6)
        shown_size = mpmath.nstr(size(x), 4)
    shown_value = {"1.0": "1", "0.0": "0"}.get(shown_value, shown_value)
    message = _overflow_message(expression, shown_value, part, shown_size)
    _says(cli, expression, at, "overflow", message)


def _says(cli, expression, at, kind, message):
    """diff at `at`: exit 3 and `message`, one line on stderr and in the
    --json error document of `kind`."""
    run = cli("diff", expression, "--at", at)
    assert run.exit_code == 3
    assert run.stdout == "" and run.stderr == f"gradcalc: error: {message}\n"
    run = cli("diff", expression, "--at", at, "--json")
    assert run.exit_code == 3
    assert run.json["error"] == {"kind": kind, "message": message}
    validate(run.json, "error.schema.json")


def _rounding_message(expression, at, value, cause, rounded, size, part=None):
    named = expression if part is None else f"{part[0]} ({part[1]} in 30 digits)"
    return (
        f"{expression} is {value} at x={at} (in 30 digits), but float64 cannot evaluate "
        f"it there: {cause} is {rounded} in float64 but {size} in 30 digits, which makes "
        f"{named} not finite in float64; the function is defined there, but float64's "
        "rounding is too coarse for every float64 method"
    )


PI64 = "3.141592653589793"  # float64's pi: 1.2e-16 short of pi


@pytest.mark.parametrize(
    ("expression", "at", "exact", "cause", "inner", "part"),
    [
        ("1/(x-pi)", PI64, lambda x: 1 / (x - mp.pi), "x-pi", lambda x: x - mp.pi, None),
        (
            "1/sin(x-pi)+x",
            PI64,
            lambda x: 1 / mp.sin(x - mp.pi) + x,
            "sin(x-pi)",
            lambda x: mp.sin(x - mp.pi),
            ("1/sin(x-pi)", lambda x: 1 / mp.sin(x - mp.pi)),
        ),
        (
            "1/(x-sqrt(2))",
            "1.4142135623730951",
            lambda x: 1 / (x - mp.sqrt(2)),
            "x-sqrt(2)",
            lambda x: x - mp.sqrt(2),
            None,
        ),
        # sinh by exp in interval arithmetic (mpmath's interval context has no sinh).
        (
            "1/sinh(x-pi)",
            PI64,
            lambda x: 1 / mp.sinh(x - mp.pi),
            "sinh(x-pi)",
            lambda x: mp.sinh(x - mp.pi),
            None,
        ),
        # A literal is its decimal value, a point is a float64: 0.1 and float64's 0.1 differ.
        (
            "1/(x-0.1)",
            "0.1",
            lambda x: 1 / (x - mp.mpf(1) / 10),
            "x-0.1",
            lambda x: x - mp.mpf(1) / 10,
            None,
        ),
    ],
)
def test_a_part_that_float64_rounding_makes_infinite_is_no_undefined_point(
    cli, expression, at, exact, cause, inner, part
):
    with mp.workdps(50):
        x = mp.mpf(float(at))  # the point as float64 holds it, exactly
        value, size = exact(x), inner(x)
        assert mp.isfinite(value) and size != 0 and float(size) + float(x) == float(x)
        shown = (
            f"{float(value):.6g}",
            mpmath.nstr(size, 4),
            None if part is None else (part[0], mpmath.nstr(part[1](x), 4)),
        )
    message = _rounding_message(expression, at, shown[0], cause, "0", shown[1], shown[2])
    _says(cli, expression, at, "rounding", message)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        # f itself past float64's range: no float64 number is its value.
        ("exp(x)", "exp(x) is infinite (beyond float64's range, or a pole) at x=1000.0"),
        # SymPy's tree simplifies this to 0, but 1/0 is undefined: each part is checked.
        ("1/(x-1000)-1/(x-1000)", "1/(x-1000) is infinite (division by zero) at x=1000.0"),
        ("log(x-1000)-log(x-1000)", "log(x-1000) is infinite (the logarithm of 0) at x=1000.0"),
        # Exactly 0, though 30 digits cannot tell it from a tiny number: still undefined.
        (
            "1/(cos(x/1000)**2+sin(x/1000)**2-1)",
            "1/(cos(x/1000)**2+sin(x/1000)**2-1) is infinite (division by zero) at x=1000.0",
        ),
        # Past float64's range, but a pole too: 30-digit evalf took 1/sin(x-1000) for
        # 7e159 and called this an overflow; interval arithmetic finds the pole.
        (
            "exp(x)*exp(-x) + 1/sin(x-1000)",
            "exp(x) is infinite (beyond float64's range, or a pole) at x=1000.0",
        ),
        # A zero inside a function with no interval form (atan): undefined, as it truly is.
        ("1/atan(x-1000)", "1/atan(x-1000) is infinite (division by zero) at x=1000.0"),
    ],
)
def test_an_undefined_or_infinite_function_stays_undefined(cli, expression, message):
    run = cli("diff", expression, "--at", "1000", "--json")
    assert run.exit_code == 3
    assert run.json["error"] == {"kind": "domain", "message": message}


def test_a_tower_past_ten_to_the_thousand_is_left_undefined_at_once(cli):
    """1000**1000 is 1e3000: a tower above it is not evaluated in 30 digits
    (its next level has an exponent of 3e3000 digits); the float64 verdict
    stands, within the budget (it was the answer before, too)."""
    run = cli("diff", "x**x**x**x**x", "--at", "1000", "--json")
    assert run.exit_code == 3
    assert run.json["error"] == {
        "kind": "domain",
        "message": "x**x is infinite (beyond float64's range, or a pole) at x=1000.0",
    }


@pytest.mark.parametrize("constant", sorted(CONSTANTS))
@pytest.mark.parametrize("form", ["1/(x-{c})", "1/sin(x-{c})", "x/({c}-x)**2"])
def test_a_pole_is_undefined_exactly_where_mpmath_puts_it(cli, constant, form):
    """At the float64 nearest a constant c, 1/(x-c) and its kin are undefined
    (kind domain) where x is c (mpmath, 50 digits: x - c is 0), and
    float64's rounding (kind rounding) where x only rounds to it; one step
    away, float64 tells them apart and the derivative is answered. (30-digit
    evalf took sin(x - 1000) at 1000 for 1.5e-154: this caught it.)"""
    import math

    with mp.workdps(50):
        nearest = float(CONSTANTS[constant]())
        exactly = mp.mpf(nearest) == CONSTANTS[constant]()
    expression = form.format(c=constant)
    run = cli("diff", expression, "--at", repr(nearest), "--json")
    assert run.exit_code == 3
    assert run.json["error"]["kind"] == ("domain" if exactly else "rounding")
    step = math.nextafter(nearest, math.inf)
    assert cli("diff", expression, "--at", repr(step), "--json").exit_code in (0, 1)


def test_without_an_interval_form_float64s_verdict_stands(cli):
    """atan has no interval form in mpmath, so nothing proves 1/atan(x-pi)
    finite at float64's pi (it is, -8.2e15): the float64 verdict stands, as
    docs/verdicts.md says, rather than a claim without proof."""
    run = cli("diff", "1/atan(x-pi)", "--at", PI64, "--json")
    assert run.exit_code == 3
    assert run.json["error"] == {
        "kind": "domain",
        "message": f"1/atan(x-pi) is infinite (division by zero) at x={PI64}",
    }


# From a review that tried to break the interval proof: each was a false claim,
# a crash (exit 70) or a run out of memory before the proof was narrowed.
@pytest.mark.parametrize(
    ("expression", "at", "kind", "start"),
    [
        # mpmath's interval sign says -1 of [0, 0]: sign is not enclosed, f = 1/0 stays undefined.
        ("1/sign(cos(x)**2+sin(x)**2-1)", "1", "domain", "1/sign(cos(x)**2+sin(x)**2-1) is inf"),
        # erf and whole vectors have no enclosure: the 30-digit overflow line, as before.
        ("exp(x)*exp(-x)+erf(x)", "1000", "overflow", "exp(x)*exp(-x)+erf(x) is 2 at x=1000.0"),
        ("exp(x)*exp(-x)+norm([1,x])", "1000", "overflow", "exp(x)*exp(-x)+norm([1,x]) is 1001 at"),
        ("1/(x-pi)+erf(x)", PI64, "domain", "1/(x-pi) is infinite (division by zero)"),
        # exp of exp of 8e15: past 10**1000 the enclosure stops, at once.
        ("1/(x-pi)+0*exp(exp(-1/(x-pi)))", PI64, "domain", "1/(x-pi) is infinite"),
        # SymPy builds tan(1/0) as nan, and Max(0, nan) raised (exit 70, in 0.6.2 too).
        (
            "leaky_relu(tan((exp(x)*exp(-x)-1)**-1))",
            "1000",
            "domain",
            "exp(x) is infinite (beyond float64's range, or a pole) at x=1000.0",
        ),
        # Piecewise functions by their ends, where the interval lies on one piece.
        ("1/abs(x-pi)", PI64, "rounding", "1/abs(x-pi) is 8.16562e+15 at x=3.14"),
        ("1/relu(pi-x)", PI64, "rounding", "1/relu(pi-x) is 8.16562e+15 at x=3.14"),
        ("1/clamp(x-pi,-1,1)", PI64, "rounding", "1/clamp(x-pi,-1,1) is -8.16562e+15 at x=3.14"),
        ("1/sign(x-pi)", PI64, "rounding", "1/sign(x-pi) is -1 at x=3.14"),
        # Interval ends read at 15 digits rounded 1.8e16 + 1 to a width of 2e-16: no proof.
        ("x/(x-0.1)+exp(x)*exp(-x)", "0.1", "rounding", "x/(x-0.1)+exp(x)*exp(-x) is 1.80144e+16"),
        # exp(8e15) widens its interval to 1e-18 of itself: narrow enough to show.
        ("sigmoid(1/(x-pi))*0+1/(x-pi)", PI64, "rounding", "sigmoid(1/(x-pi))*0+1/(x-pi) is -8.1"),
        # tan by sin/cos, a power by a whole exponent: enclosed.
        ("1/tan(x-pi)", PI64, "rounding", "1/tan(x-pi) is -8.16562e+15 at x=3.14"),
        ("(x-pi)**-3", PI64, "rounding", "(x-pi)**-3 is -5.44462e+47 at x=3.14"),
    ],
)
def test_the_interval_proof_claims_only_what_it_encloses(cli, expression, at, kind, start):
    run = cli("diff", expression, "--at", at, "--json")
    assert run.exit_code == 3
    assert run.json["error"]["kind"] == kind
    assert run.json["error"]["message"].startswith(start)
