"""Points where float64, not f, fails, decided by mpmath at 50 digits on the
exact float64 point: every command that evaluates f at one point says what
diff says there (one rule, finite.values_at); a point float64 rounds onto a
kink (abs(x-pi) at float64's pi) is not called a kink; vector points are
checked for overflow like scalar ones."""

import math

import mpmath
import pytest
from conftest import run_subprocess, validate
from reference import CONSTANTS

mp = mpmath.mp

PI64 = "3.141592653589793"  # float64's pi: 1.2e-16 short of pi
E64 = "2.718281828459045"  # float64's e: 1.4e-16 short of e


def _rounding_line(expression, where, value, cause):
    return (
        f"{expression} is {value} at {where} (in 30 digits), but float64 cannot evaluate "
        f"it there: {cause}, which makes {expression} not finite in float64; the function is "
        "defined there, but float64's rounding is too coarse for every float64 method"
    )


def _overflow_line(expression, where, value, part, size):
    return (
        f"{expression} is {value} at {where} (in 30 digits), but float64 cannot evaluate "
        f"it there: {part} is {size}, past float64's largest number (1.8e+308), so every "
        "float64 method overflows; rewrite the expression so that no part of it leaves "
        "float64's range"
    )


def _pole_at_pi():
    with mp.workdps(50):
        x = mp.mpf(float(PI64))
        gap = x - mp.pi
        assert gap != 0 and float(x) - math.pi == 0  # float64 cannot tell x from pi
        value = f"{float(1 / gap):.6g}"
        cause = f"x-pi is 0 in float64 but {mpmath.nstr(gap, 4)} in 30 digits"
    return _rounding_line("1/(x-pi)", f"x={PI64}", value, cause)


def _overflow_at_1000():
    with mp.workdps(50):
        size = mp.exp(1000)
        assert size > mp.mpf("1.8e308") and abs(size * mp.exp(-1000) - 1) < mp.mpf("1e-40")
        shown = mpmath.nstr(size, 4)
    return _overflow_line("exp(x)*exp(-x)", "x=1000.0", "1", "exp(x)", shown)


# (expression, point, kind, message): diff's line there, computed here.
CASES = [
    ("1/(x-pi)", PI64, "rounding", _pole_at_pi),
    ("exp(x)*exp(-x)", "1000", "overflow", _overflow_at_1000),
    ("log(x)*0", "0", "domain", lambda: "log(x) is infinite (the logarithm of 0) at x=0.0"),
]

# Every command that evaluates f at one point, with what it needs besides.
COMMANDS = {
    "diff": ("diff",),
    "graph": ("graph",),
    "accumulate": ("accumulate",),
    "taylor": ("taylor",),
    "plot": ("plot",),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(("expression", "at", "kind", "message"), CASES)
def test_every_one_point_command_says_what_diff_says(cli, command, expression, at, kind, message):
    """graph, accumulate and taylor said "not finite at this point" (kind
    domain) where diff says rounding or overflow; now one rule decides all."""
    if command == "plot" and kind == "domain":
        pytest.skip("plot draws f around a point where f is undefined (its own verdict)")
    run = cli(*COMMANDS[command], expression, "--at", at, "--json")
    assert run.exit_code == 3
    assert run.json["error"] == {"kind": kind, "message": message()}
    validate(run.json, "error.schema.json")


def test_a_real_process_says_it_once_on_stderr():
    run = run_subprocess("graph", "1/(x-pi)", "--at", PI64)
    assert run.returncode == 3
    assert run.stdout == "" and run.stderr == f"gradcalc: error: {_pole_at_pi()}\n"


# Non-smooth parts whose kink is at x = c.
KINKED = [
    "abs(x-{c})",
    "relu(x-{c})",
    "leaky_relu({c}-x)",
    "sign(x-{c})",
    "max(x, {c})",
    "min({c}, x)",
    "clamp(x, -2000, {c})",
    "hardtanh(x-{c}+1)",
    "x*abs(x-{c})",
    "exp(abs(x-{c}))",
]


@pytest.mark.parametrize("constant", sorted(CONSTANTS))
@pytest.mark.parametrize("form", KINKED)
def test_a_kink_is_claimed_exactly_where_mpmath_puts_the_point_on_it(cli, form, constant):
    """At the float64 nearest a constant c, float64 has x - c = 0, so every
    part above is on its kink in float64. It is truly there only where x is
    c (mpmath, 50 digits): not differentiable (exit 1); elsewhere float64's
    rounding put it there (kind rounding, exit 3), never a kink."""
    with mp.workdps(50):
        nearest = float(CONSTANTS[constant]())
        exactly = mp.mpf(nearest) == CONSTANTS[constant]()
    run = cli("diff", form.format(c=constant), "--at", repr(nearest), "--json")
    if exactly:
        assert (run.exit_code, run.json["status"]) == (1, "not_differentiable")
    else:
        assert run.exit_code == 3
        assert run.json["error"]["kind"] == "rounding"


def _kink_line(expression, where, value, gap, part=None):
    return (
        f"{expression} is {value} at {where} (in 30 digits), but float64 cannot differentiate "
        f"it there: {gap}, which puts {part or expression} on its kink in float64, though it "
        "is not on it there; float64's rounding is too coarse for every float64 method"
    )


@pytest.mark.parametrize(
    ("expression", "at", "exact", "gap", "named", "part"),
    [
        ("abs(x-pi)", {"x": PI64}, lambda x: abs(x - mp.pi), lambda x: x - mp.pi, "x-pi", None),
        ("max(x, pi)", {"x": PI64}, lambda x: mp.pi, lambda x: x - mp.pi, "x - pi", None),
        ("relu(x-E)", {"x": E64}, lambda x: mp.mpf(0), lambda x: x - mp.e, "x-E", None),
        (
            "sin(x)+abs(x-y*pi)",
            {"x": PI64, "y": "1"},
            lambda x, y: mp.sin(x) + abs(x - y * mp.pi),
            lambda x, y: x - y * mp.pi,
            "x-y*pi",
            "abs(x-y*pi)",
        ),
    ],
)
def test_the_line_names_the_gap_float64_rounded_to_0(cli, expression, at, exact, gap, named, part):
    with mp.workdps(50):
        x = [mp.mpf(float(v)) for v in at.values()]
        value = f"{float(exact(*x)):.6g}"
        value = {"0": "0"}.get(value, value)
        cause = f"{named} is 0 in float64 but {mpmath.nstr(gap(*x), 4)} in 30 digits"
    where = ", ".join(f"{k}={float(v)!r}" for k, v in at.items())
    message = _kink_line(expression, where, value, cause, part)
    point = ",".join(f"{k}={v}" for k, v in at.items())
    run = cli("diff", expression, "--at", point, "--json")
    assert run.exit_code == 3
    assert run.json["error"] == {"kind": "rounding", "message": message}
    run = cli("taylor", expression, "--at", point, "--wrt", "x", "--json")
    assert (run.exit_code, run.json["error"]) == (3, {"kind": "rounding", "message": message})


@pytest.mark.parametrize(
    ("expression", "at"),
    [("abs(x)", "0"), ("abs(x-1)", "1"), ("abs(x-0.5)", "0.5"), ("abs(x-y)", "x=2,y=2")],
)
def test_a_point_truly_on_a_kink_stays_not_differentiable(cli, expression, at):
    run = cli("diff", expression, "--at", at, "--json")
    assert (run.exit_code, run.json["status"]) == (1, "not_differentiable")


def _running_largest(terms):
    """The term or running sum of largest size (mpmath, 50 digits)."""
    total, largest = terms[0], terms[0]
    for term in terms[1:]:
        total += term
        largest = max((largest, term, total), key=abs)
    return largest


BIG3 = "x=[1.5e308,1.5e308,1.5e308]"


@pytest.mark.parametrize(
    ("expression", "at", "f", "part", "size", "summed"),
    [
        # mean(x) is 1.5e308, but float64 sums 4.5e308 to reach it.
        ("mean(x)", BIG3, lambda x: mp.fsum(x) / 3, "mean(x)", lambda x: mp.fsum(x) / 3, sum),
        ("sum(x)/3", BIG3, lambda x: mp.fsum(x) / 3, "sum(x)", mp.fsum, None),
        (
            "norm(x)/2",
            BIG3,
            lambda x: mp.sqrt(mp.fsum(v**2 for v in x)) / 2,
            "norm(x)",
            lambda x: mp.sqrt(mp.fsum(v**2 for v in x)),
            None,
        ),
        (
            "norm(x,1)/3",
            BIG3,
            lambda x: mp.fsum(abs(v) for v in x) / 3,
            "norm(x,1)",
            lambda x: mp.fsum(abs(v) for v in x),
            None,
        ),
        (
            "mean(x)",
            "x=[1e308,1e308,-1e308]",
            lambda x: mp.fsum(x) / 3,
            "mean(x)",
            lambda x: mp.fsum(x) / 3,
            sum,
        ),
        (
            "dot(x,x)/norm(x)**2",
            BIG3,
            lambda x: mp.mpf(1),
            "dot(x,x)",
            lambda x: mp.fsum(v * v for v in x),
            None,
        ),
    ],
)
def test_a_vector_point_where_float64_overflows_but_f_does_not(
    cli, expression, at, f, part, size, summed
):
    """The overflow check skipped vector points: mean(x) at three 1.5e308s was
    called infinite (kind domain), though the mean is 1.5e308."""
    numbers = [float(v) for v in at[3:-1].split(",")]
    with mp.workdps(50):
        x = [mp.mpf(v) for v in numbers]
        value, inner = f(x), size(x)
        assert abs(value) < mp.mpf("1.79e308")  # f is within float64's range
        shown = {"1.0": "1"}.get(mpmath.nstr(value, 6), f"{float(value):.6g}")
        if summed is None:
            assert abs(inner) > mp.mpf("1.8e308")
            why = f"{part} is {mpmath.nstr(inner, 4)}, past float64's largest number (1.8e+308)"
        else:
            through = _running_largest(x)
            assert abs(through) > mp.mpf("1.8e308")
            why = (
                f"{part} is {mpmath.nstr(inner, 4)}, but float64 sums {mpmath.nstr(through, 4)} "
                "to reach it, past float64's largest number (1.8e+308)"
            )
    where = "x=[" + ", ".join(f"{v:g}" for v in numbers) + "]"
    message = (
        f"{expression} is {shown} at {where} (in 30 digits), but float64 cannot evaluate "
        f"it there: {why}, so every float64 method overflows; rewrite the expression so that "
        "no part of it leaves float64's range"
    )
    run = cli("diff", expression, "--at", at, "--json")
    assert run.exit_code == 3
    assert run.json["error"] == {"kind": "overflow", "message": message}


@pytest.mark.parametrize(
    ("expression", "at", "start"),
    [
        # f itself past float64's range (2.6e308): infinite there, as float64 says.
        ("norm(x)", BIG3, "norm(x) is infinite"),
        ("x[0]+mean(x)", BIG3, "mean(x) is infinite"),
        # A pole: 1/(x-x) is 1/0 exactly, whatever the elements.
        ("sum(1/(x-x))", "x=[1,2]", "1/(x-x) is infinite"),
    ],
)
def test_a_vector_point_where_f_is_infinite_stays_undefined(cli, expression, at, start):
    run = cli("diff", expression, "--at", at, "--json")
    assert run.exit_code == 3
    assert run.json["error"]["kind"] == "domain"
    assert run.json["error"]["message"].startswith(start)


def test_a_vector_element_float64_rounds_onto_a_pole(cli):
    with mp.workdps(50):
        x = mp.mpf(float(PI64))
        value = f"{float(1 / (x - mp.pi) + 2):.6g}"
        part = mpmath.nstr(1 / (x - mp.pi), 4)
        gap = mpmath.nstr(x - mp.pi, 4)
    message = (
        f"1/(x[1]-pi)+x[0] is {value} at x=[2.0, {PI64}] (in 30 digits), but float64 cannot "
        f"evaluate it there: x[1]-pi is 0 in float64 but {gap} in 30 digits, which makes "
        f"1/(x[1]-pi) ({part} in 30 digits) not finite in float64; the function is defined "
        "there, but float64's rounding is too coarse for every float64 method"
    )
    run = cli("diff", "1/(x[1]-pi)+x[0]", "--at", f"x=[2,{PI64}]", "--json")
    assert (run.exit_code, run.json["error"]) == (3, {"kind": "rounding", "message": message})


# (form, the slope of its smooth piece at x, given the gap x - c; mpmath)
SLOPES = {
    "abs(x-{c})": lambda g, x: mp.sign(g),
    "max(x, {c})": lambda g, x: 1 if g > 0 else 0,
    "x*abs(x-{c})": lambda g, x: abs(g) + x * mp.sign(g),
    "sin(x)+relu({c}-x)": lambda g, x: mp.cos(x) - (1 if g < 0 else 0),
}
SLOPE_TOLERANCE = 1e-9  # SymPy's reference (30 digits, as float64) against mpmath's slope


@pytest.mark.parametrize("form", sorted(SLOPES))
def test_one_step_from_a_constant_the_slope_or_rounding_never_a_kink(cli, form):
    """One float64 step either side of float64's c, x - c is a few 1e-16:
    the kink is that close, closer than any probe's step. The answer is the
    slope of the point's own piece (mpmath), or the rounding line where float64
    (or torch: its sqrt(2) is a step below numpy's) cannot tell the point from
    the kink; never "not differentiable" (abs(x-sqrt(2)) one step below was)."""
    for constant in sorted(CONSTANTS):
        nearest = float(CONSTANTS[constant]())
        for x in (math.nextafter(nearest, -math.inf), math.nextafter(nearest, math.inf)):
            with mp.workdps(50):
                gap = mp.mpf(x) - CONSTANTS[constant]()
                slope = float(SLOPES[form](gap, mp.mpf(x)))
            run = cli("diff", form.format(c=constant), "--at", repr(x), "--json")
            if run.exit_code == 3:
                assert run.json["error"]["kind"] == "rounding", (constant, x)
            else:
                assert (run.exit_code, run.json["status"]) == (0, "agree"), (constant, x)
                found = run.json["gradient"]["x"]["sympy"]
                assert abs(found - slope) <= SLOPE_TOLERANCE * max(1, abs(slope)), (constant, x)


def test_a_kink_a_rounding_error_away_is_named_with_its_distance(cli):
    """torch's sqrt(2) is one float64 step below numpy's (and sqrt(2)'s): at
    that step x - sqrt(2) is -2.2e-16 in float64, -1.25e-16 in fact, and
    autograd, with the gap 0, and every probe see a kink there."""
    x = math.nextafter(math.sqrt(2), 0)
    with mp.workdps(50):
        gap = mp.mpf(x) - mp.sqrt(2)
        value = f"{float(abs(gap)):.6g}"
        shown = mpmath.nstr(gap, 4)
    message = (
        f"abs(x-sqrt(2)) is {value} at x={x!r} (in 30 digits), but float64 cannot differentiate "
        f"it there: x-sqrt(2) is {x - math.sqrt(2):.4g} in float64 and {shown} in 30 digits, so "
        "the kink of abs(x-sqrt(2)) lies closer to the point than float64 can tell apart, though "
        "not at it; float64's rounding is too coarse for every float64 method"
    )
    run = cli("diff", "abs(x-sqrt(2))", "--at", repr(x), "--json")
    if run.exit_code != 3:  # a torch whose sqrt(2) is numpy's: no kink seen at all
        assert (run.exit_code, run.json["gradient"]["x"]["sympy"]) == (0, -1.0)
    else:
        assert run.json["error"] == {"kind": "rounding", "message": message}


@pytest.mark.parametrize(
    ("expression", "f", "gap", "part"),
    [
        (
            "sum(abs(x-pi))",
            lambda x: abs(x[0] - mp.pi) + abs(x[1] - mp.pi),
            "(x-pi)[0]",
            "abs(x-pi)",
        ),
        ("sum(max(x, pi))", lambda x: 2 * mp.pi, "(x - pi)[0]", "max(x, pi)"),
        ("abs(x[0]-pi)+x[1]", lambda x: abs(x[0] - mp.pi) + x[1], "x[0]-pi", "abs(x[0]-pi)"),
    ],
)
def test_a_vector_element_float64_rounds_onto_a_kink(cli, expression, f, gap, part):
    with mp.workdps(50):
        x = [mp.mpf(float(PI64)), mp.mpf(1)]
        value = f"{float(f(x)):.6g}"
        size = mpmath.nstr(x[0] - mp.pi, 4)
    message = _kink_line(
        expression,
        f"x=[{PI64}, 1.0]",
        value,
        f"{gap} is 0 in float64 but {size} in 30 digits",
        part,
    )
    run = cli("diff", expression, "--at", f"x=[{PI64},1]", "--json")
    assert (run.exit_code, run.json["error"]) == (3, {"kind": "rounding", "message": message})


def test_a_vector_element_truly_on_a_kink_stays_not_differentiable(cli):
    run = cli("diff", "sum(abs(x-1))", "--at", "x=[1,2]", "--json")
    assert (run.exit_code, run.json["status"]) == (1, "not_differentiable")
