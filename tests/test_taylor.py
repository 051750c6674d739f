"""gradcalc taylor: coefficients against mpmath's own taylor of a hand-written
function, the remainder and the radius against mpmath, exit codes, JSON."""

import mpmath
import pytest
from conftest import run_subprocess, validate
from reference import one_variable_verdict

# The bar: every coefficient to order 6 within 1e-12 relative of
# mpmath.taylor; an exact zero coefficient is allowed mpmath's own noise.
COEFFICIENT_RTOL = 1e-12
ZERO_NOISE = 1e-30

mp = mpmath.mp

# (gradcalc's expression, the same function written by hand in mpmath, a)
CASES = [
    ("sin(x)", lambda x: mp.sin(x), 0),
    ("sin(x)", lambda x: mp.sin(x), 1.3),
    ("exp(x)", lambda x: mp.exp(x), 1),
    ("log(1+x)", lambda x: mp.log(1 + x), 0),
    ("1/(1-x)", lambda x: 1 / (1 - x), 0.5),
    ("sqrt(x)", lambda x: mp.sqrt(x), 2),
    ("atan(x)", lambda x: mp.atan(x), 0.3),
    ("x*exp(x)*sin(x)", lambda x: x * mp.exp(x) * mp.sin(x), 0.7),
    ("exp(sin(x))", lambda x: mp.exp(mp.sin(x)), 0.25),
    ("tanh(x)**2 + cos(3*x)", lambda x: mp.tanh(x) ** 2 + mp.cos(3 * x), -0.4),
    ("sigmoid(2*x)", lambda x: 1 / (1 + mp.exp(-2 * x)), 0.1),
]


def reference(fn, a, order):
    with mp.workdps(60):
        return [float(c) for c in mp.taylor(fn, mp.mpf(a), order)]


@pytest.mark.parametrize(("expression", "fn", "a"), CASES)
def test_coefficients_to_order_6_match_mpmath_taylor(cli, expression, fn, a):
    run = cli("taylor", expression, "--at", str(a), "--order", "6", "--json")
    assert run.exit_code == 0, run.stdout
    document = run.json
    validate(document, "taylor.schema.json")
    assert document["status"] == "agree"
    expected = reference(fn, a, 6)
    assert [c["k"] for c in document["coefficients"]] == list(range(7))
    for entry, want in zip(document["coefficients"], expected):
        for method in ("sympy", "autograd", "mpmath"):
            got = entry[method]
            tolerance = COEFFICIENT_RTOL * abs(want) + ZERO_NOISE
            if method == "autograd":  # float64 nested autograd: diff's tolerance
                tolerance = 1e-9 * abs(want) + 1e-12
            assert abs(got - want) <= tolerance, (method, entry["k"], got, want)


def test_exact_coefficients_and_polynomial_of_sin_at_0(cli):
    document = cli("taylor", "sin(x)", "--at", "0", "-n", "5", "--json").json
    assert [c["exact"] for c in document["coefficients"]] == ["0", "1", "0", "-1/6", "0", "1/120"]
    assert document["exact_polynomial"] == "x - 1/6*x**3 + 1/120*x**5"
    assert document["polynomial"] == "x - 0.16666666666666666*x**3 + 0.008333333333333333*x**5"


def test_the_polynomial_reads_back_and_matches_f_near_a(cli):
    document = cli("taylor", "exp(x)", "--at", "1", "-n", "4", "--json").json
    assert document["polynomial"].startswith("2.718281828459045 + 2.718281828459045*(x - 1)")
    # diff reads the polynomial back: its derivative at a is c1.
    again = cli("diff", document["polynomial"], "--at", "1", "--json").json
    assert abs(again["gradient"]["x"]["sympy"] - float(mp.e)) <= 1e-15 * float(mp.e)


def test_remainder_is_measured_against_mpmath(cli):
    document = cli("taylor", "sin(x)", "--at", "0", "-n", "5", "--json").json
    assert [r["h"] for r in document["remainders"]] == [1.0, 0.1, 0.01, 0.001]
    with mp.workdps(50):
        for entry in document["remainders"]:
            h = mp.mpf(entry["h"])
            p = h - h**3 / 6 + h**5 / 120
            want = float(abs(mp.sin(h) - p))
            assert entry["right"] == pytest.approx(want, rel=1e-10)
            assert entry["left"] == pytest.approx(want, rel=1e-10)  # sin is odd
            assert entry["per_h_power"] == pytest.approx(want / entry["h"] ** 6, rel=1e-10)
    # The leading term of the remainder: c6 = 0, so |c7| h^7 / h^6 -> 0 ... the
    # next coefficient reported is c6 (the remainder's first term past degree 5).
    assert abs(document["next_coefficient"]) <= ZERO_NOISE


def test_radius_is_the_last_grid_distance_within_the_tolerance(cli):
    from gradcalc.taylor import radius_grid

    document = cli("taylor", "log(1+x)", "--at", "0", "-n", "3", "--tolerance", "1e-4", "--json")
    found = document.json["radius"]
    assert found["tolerance"] == 1e-4 and found["capped"] is False

    def error(t):
        with mp.workdps(50):
            t = mp.mpf(t)
            return abs(mp.log(1 + t) - (t - t**2 / 2 + t**3 / 3))

    grid = [float(r) for r in radius_grid(0.0)]
    inside = [r for r in grid if r <= found["radius"]]
    assert inside[-1] == found["radius"]
    assert all(error(r) <= 1e-4 and error(-r) <= 1e-4 for r in inside)
    beyond = grid[len(inside)]
    assert max(error(beyond), error(-beyond)) > 1e-4


def test_a_polynomial_is_its_own_taylor_polynomial_everywhere(cli):
    document = cli("taylor", "x**3 - 2*x", "--at", "1", "-n", "3", "--json").json
    assert document["radius"]["capped"] is True
    assert [c["exact"] for c in document["coefficients"]] == ["-1", "1", "3", "1"]


def test_other_variables_are_held_at_the_point(cli):
    document = cli("taylor", "exp(x)*y", "--at", "x=0,y=2", "--wrt", "x", "-n", "2", "--json").json
    assert [c["sympy"] for c in document["coefficients"]] == [2.0, 2.0, 1.0]
    assert document["variable"] == "x" and document["point"] == {"x": 0.0, "y": 2.0}


@pytest.mark.parametrize(
    ("arguments", "code", "status"),
    [
        (("abs(x)", "--at", "0"), 1, "not_differentiable"),
        (("sqrt(x)", "--at", "0"), 3, "undefined"),  # f'(0) is infinite
    ],
)
def test_verdict_exit_codes(cli, arguments, code, status):
    run = cli("taylor", *arguments, "--json")
    assert run.exit_code == code
    assert run.json["status"] == status


@pytest.mark.parametrize(
    ("arguments", "code", "words"),
    [
        (("log(x)", "--at", "0"), 3, "log(x) is infinite (the logarithm of 0) at x=0.0"),
        (("x*y", "--at", "x=1,y=2"), 2, "--wrt"),
        (("sin(x)", "--at", "0", "--order", "9"), 2, "0 to 8"),
        (("sin(x)", "--at", "0", "--tolerance", "-1"), 2, "positive"),
        (("sin(x)", "--at", "0", "--wrt", "y"), 2, "'y' is not a variable"),
    ],
)
def test_bad_input_is_one_line(cli, arguments, code, words):
    run = cli("taylor", *arguments, "--json")
    assert run.exit_code == code
    assert words in run.json["error"]["message"]


@pytest.mark.parametrize(
    "expression", ["[x]", "[x, x**2]", "softmax(x)", "log_softmax(x) - x", "[sin(x), 1] * 2"]
)
def test_a_vector_valued_f_is_refused_in_one_line(cli, expression):
    """One polynomial per element is the Jacobian diff gives: taylor says so
    (it once ended in an internal error, exit 70, 'list' has no attribute 'subs')."""
    run = cli("taylor", expression, "--at", "1", "--json")
    assert run.exit_code == 2
    assert run.json["error"]["kind"] == "usage"
    assert run.json["error"]["message"] == (
        f"{expression!r} is a vector (its derivative is a Jacobian): taylor expands "
        "a number-valued f"
    )
    text = cli("taylor", expression, "--at", "1")
    assert text.exit_code == 2 and text.stderr.count("\n") == 1
    assert cli("diff", expression, "--at", "1", "--json").json["jacobian"]  # what diff gives


def test_text_view_shows_polynomial_table_remainder_and_verdict(cli):
    run = cli("taylor", "sin(x)", "--at", "0", "-n", "3")
    assert run.exit_code == 0
    assert "P(x) = x - 0.1666666667*x**3" in run.stdout
    assert "P(x) = x - 1/6*x**3" in run.stdout
    assert "✓ SymPy, autograd and mpmath agree" in run.stdout
    assert "|f − P| ≤ 1e-06 for |x − a| ≤" in " ".join(run.stdout.split())


def test_explain_derives_each_coefficient(cli):
    run = cli("taylor", "atan(x)", "--at", "1", "-n", "3", "--explain", "--json")
    assert run.exit_code == 0
    document = run.json
    validate(document, "taylor-explain.schema.json")
    assert document["checked"] is True
    assert [c["exact"] for c in document["coefficients"]] == ["pi/4", "1/2", "-1/4", "1/12"]
    with mp.workdps(40):
        expected = mp.taylor(mp.atan, 1, 3)
    for entry, want in zip(document["coefficients"], expected):
        assert entry["value"] == pytest.approx(float(want), rel=COEFFICIENT_RTOL)
    # Derivative k is derived from derivative k - 1: three sections, every step checked.
    assert [d["wrt"] for d in document["symbolic_derivatives"]] == [["x"], ["x", "x"], ["x"] * 3]
    assert all(step["checked"] for step in document["explanation"])


def test_explain_text(cli):
    run = cli("taylor", "exp(2*x)", "--at", "0", "-n", "2", "--explain")
    assert run.exit_code == 0
    assert "c_2 = f⁽²⁾(0)/2! = 2" in run.stdout
    assert "Every step checked" in run.stdout


def test_real_process():
    run = run_subprocess("taylor", "cos(x)", "--at", "0", "-n", "4", "--json")
    assert run.returncode == 0, run.stderr
    assert '"exact_polynomial": "1 - 1/2*x**2 + 1/24*x**4"' in run.stdout


def test_the_cli_limit_is_the_library_limit():
    from gradcalc.cli.course_options import TAYLOR_MAX_ORDER
    from gradcalc.taylor import MAX_ORDER

    assert TAYLOR_MAX_ORDER == MAX_ORDER


def test_a_coefficient_too_long_to_write_exactly_is_a_float(cli):
    """x**100 at 1e-300: c_k = C(100, k)·10**(-300(100-k)) exactly, integers
    past Python's 4,300 digits (it was exit 70); each exact form is left out
    and each float is mpmath's (all below float64's smallest: 0)."""
    run = cli("taylor", "x**100", "--at", "1e-300", "--order", "3", "--json")
    assert run.exit_code == 0, run.stderr
    document = run.json
    with mpmath.workdps(50):
        a = mpmath.mpf(1e-300)
        want = [float(mpmath.binomial(100, k) * a ** (100 - k)) for k in range(4)]
    assert [c["exact"] for c in document["coefficients"]] == [None] * 4
    assert [c["sympy"] for c in document["coefficients"]] == want == [0.0] * 4


@pytest.mark.parametrize(
    ("expression", "x", "code"),
    [
        ("sin(x)", 1.0, 0),
        ("abs(x)", 0.0, 1),  # a kink: one-sided slopes -1 and 1
        ("sqrt(x)", 0.0, 3),  # f'(0) infinite
        ("log(x)", 0.0, 3),  # f itself infinite
    ],
)
def test_explain_exits_with_the_verdict_of_the_plain_taylor(cli, expression, x, code):
    """taylor --explain exited 0 wherever the explanation could be written
    (log(x) at 0, abs(x) at 0): its exit code is now the verdict's, as diff
    --explain's is, decided here by mpmath alone."""
    verdict = one_variable_verdict(expression, "x", x)[0]
    assert {"differentiable": 0, "not_differentiable": 1, "undefined": 3}[verdict] == code
    at = repr(x)
    assert cli("taylor", expression, "--at", at, "-n", "3").exit_code == code
    run = cli("taylor", expression, "--at", at, "-n", "3", "--explain")
    assert run.exit_code == code, run.stderr
    assert "internal error" not in run.stderr


def test_explain_past_float64_says_what_the_plain_taylor_says(cli):
    """x**x at 1e300 is finite (mpmath) but past float64: both say so in the
    same line, exit 3 (its exact value once overflowed SymPy: exit 70)."""
    with mpmath.workdps(30):
        assert mpmath.isfinite(mpmath.mpf(1e300) ** mpmath.mpf(1e300))
    plain = cli("taylor", "x**x", "--at", "1e300", "-n", "5")
    run = cli("taylor", "x**x", "--at", "1e300", "-n", "5", "--explain")
    assert (plain.exit_code, run.exit_code) == (3, 3)
    assert run.stderr == plain.stderr and "float64" in run.stderr
