"""Points where float64, not f, fails, decided by mpmath at 50 digits on the
exact float64 point: every command that evaluates f at one point says what
diff says there (one rule, finite.values_at); a point float64 rounds onto a
kink (abs(x-pi) at float64's pi) is not called a kink; vector points are
checked for overflow like scalar ones."""

import math

import mpmath
import pytest
from conftest import run_subprocess, validate

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
