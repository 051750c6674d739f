"""The batch's quick first pass of finite differences (quickdiff.quick_difference,
verdict.confirms_alone): honest where it speaks, and silent elsewhere, so that
the full stencil decides every point it does not settle."""

import json

import mpmath
import numpy as np
import pytest

from gradcalc import batch, numeric, quickdiff, verdict
from gradcalc.parsing import parse
from gradcalc.pointsfile import read

mpmath.mp.dps = 40
# The quick estimate's true error must lie within this many times its own
# estimate (the verdict allows FD_ERROR_SLACK = 4 of them).
HONEST = verdict.FD_ERROR_SLACK

SMOOTH = [
    ("sin(x**2)", lambda x: mpmath.sin(x**2)),
    ("exp(-x)*cos(3*x)", lambda x: mpmath.exp(-x) * mpmath.cos(3 * x)),
    ("log(1 + x**2)", lambda x: mpmath.log(1 + x**2)),
    ("x**7 - 3*x", lambda x: x**7 - 3 * x),
    ("tanh(x)/(2 + sin(x))", lambda x: mpmath.tanh(x) / (2 + mpmath.sin(x))),
]


@pytest.mark.parametrize("text, exact", SMOOTH, ids=[t for t, _ in SMOOTH])
def test_the_quick_estimate_is_within_its_own_error_of_the_exact_derivative(text, exact):
    xs = np.random.default_rng(7).uniform(-4, 4, 200)
    estimate, error = quickdiff.quick_difference(parse(text), {"x": xs[:, None]}, "x", {})
    truth = np.array([float(mpmath.diff(exact, mpmath.mpf(float(x)))) for x in xs])
    assert np.all(np.isfinite(error))
    assert np.all(np.abs(estimate - truth) <= HONEST * error + 1e-15 * np.abs(truth))


def test_confirming_alone_implies_that_weigh_confirms():
    rng = np.random.default_rng(3)
    reference = rng.uniform(-10, 10, 20_000) * 10.0 ** rng.integers(-12, 12, 20_000)
    error = np.abs(reference) * 10.0 ** rng.uniform(-16, -4, 20_000)
    fd = reference * (1 + 10.0 ** rng.uniform(-16, -4, 20_000) * rng.choice([-1, 1], 20_000))
    alone = verdict.confirms_alone(fd, error, reference, 1)
    assert 0 < alone.sum() < alone.size  # both sides of the line are exercised
    checks = verdict.weigh(
        verdict.Methods(
            labels=["d/dx"],
            sympy=reference[:, None],
            autograd=reference[:, None],
            finite_difference=fd[:, None],
            finite_difference_error=error[:, None],
        ),
        "float64",
        1,
    )
    assert np.all(checks.fd_counted[alone, 0] & checks.fd_close[alone, 0])


def test_an_unbounded_or_wide_estimate_confirms_nothing():
    ones = np.ones(3)
    assert not verdict.confirms_alone(ones, np.full(3, np.inf), ones, 1).any()
    assert not verdict.confirms_alone(ones, np.full(3, 1e-5), ones, 1).any()  # 4e-5 > 1e-6
    assert not verdict.confirms_alone(np.full(3, np.nan), np.zeros(3), ones, 1).any()


def _full_calls(monkeypatch) -> list:
    """The row counts the full stencil was asked for, call by call."""
    seen: list = []
    full = numeric.finite_difference

    def recording(expr, point, *args, **kwargs):
        seen.append(next(iter(point.values())).shape[0])
        return full(expr, point, *args, **kwargs)

    monkeypatch.setattr(numeric, "finite_difference", recording)
    return seen


def test_smooth_points_are_settled_by_the_quick_pass(monkeypatch):
    seen = _full_calls(monkeypatch)
    points = read("x\n" + "\n".join(str(x) for x in np.linspace(-3, 3, 101)) + "\n")
    many = batch.differentiate_many("sin(x**2)", points)
    assert many.counts() == {"agree": 101}
    assert seen == [1]  # x = 0 alone: a derivative of 0 is never confirmed by the quick pass


@pytest.mark.parametrize(
    "text, xs, unsettled",
    [
        # abs(x) at 1e-5: the base step (about 6e-4) crosses the kink.
        ("abs(x)", [1.0, 1e-5, -2.0], 1),
        # 1/x**2 at 1e-3: the stencil reaches toward the pole.
        ("1/x**2", [2.0, 1e-3, 3.0], 1),
        # sin(x) at 1e15: float64 forces a step far longer than the one asked for.
        ("sin(x)", [0.5, 1e15], 1),
    ],
)
def test_points_the_quick_pass_cannot_settle_take_the_full_stencil(
    monkeypatch, text, xs, unsettled
):
    seen = _full_calls(monkeypatch)
    points = read("x\n" + "\n".join(repr(x) for x in xs) + "\n")
    quick = batch.differentiate_many(text, points)
    assert seen[0] == unsettled  # (a point decided one by one calls it again)
    monkeypatch.setattr(quickdiff, "quick_difference", _never_confirms)
    full = batch.differentiate_many(text, points)
    assert [quick.status(i) for i in range(len(xs))] == [full.status(i) for i in range(len(xs))]


def _never_confirms(expr, point, name, frozen, known=None):
    size = point[name].shape[0]
    return np.full(size, np.nan), np.full(size, np.inf)


def test_the_absolute_tolerance_alone_confirms_nothing():
    # sin(x)/x at 1e-8, 7.9e-6 and 1e-5: float64's cos(x)/x - sin(x)/x**2
    # cancels to 0, -2.63327e-6 (for -2.63329e-6), -3.33332e-6 (for
    # -3.33333e-6); the quick estimates, to about 4e-12, lie within atol
    # (1e-8, or 1e-3 of a small reference) plus 4 times their error of those
    # references. A reference of 0 is never confirmed alone; a finite
    # difference within the relative tolerance plus 4 times a tight error is.
    reference = np.array([0.0, -2.6332709239795804e-06, -3.3333199098706245e-06, 0.0, 3.3e-07])
    fd = np.array([-3.33342e-9, -2.6332875928300315e-06, -3.3333334389257247e-06, 0.0, 3.3e-07])
    error = np.array([3.7e-12, 3.77e-12, 3.75e-12, 1e-20, 1e-14])
    alone = verdict.confirms_alone(fd * (1 + np.array([0, 0, 0, 0, 1e-7])), error, reference, 1)
    assert alone.tolist() == [False, False, False, False, True]


# Autograd's and float64 SymPy's cos(x)/x - sin(x)/x**2 both cancel here (to 0,
# or to a few digits); the derivative (about -x/3) is beyond autograd's tolerance.
CANCELLING = [1e-8, 1e-10, -1e-6, 2.2703380231696923e-08, 7.899862367082358e-06, 1e-5, 7.55e-12]


def test_a_cancelled_symbolic_zero_is_decided_as_one_point_decides_it(cli):
    truth = [float(mpmath.diff(lambda t: mpmath.sin(t) / t, mpmath.mpf(x))) for x in CANCELLING]
    tolerance = verdict.AUTOGRAD_TOLERANCE["float64"]
    assert not any(tolerance.allows(0.0, t) for t in truth)  # autograd's 0 is wrong by the rule
    text = "x\n" + "\n".join(repr(x) for x in CANCELLING) + "\n"
    run = cli("diff", "sin(x)/x", "--points", "-", "--json", input=text)
    statuses = [json.loads(line)["status"] for line in run.stdout.splitlines()]
    singles = [
        cli("diff", "sin(x)/x", "--at", f"x={x!r}", "--json").json["status"] for x in CANCELLING
    ]
    assert statuses == singles == ["disagree"] * len(CANCELLING)


# Where f cancels, SymPy's and autograd's float64 derivatives share its lost
# digits: the quick pass leaves such points to the full stencil, and so to the
# one-point driver, whose 30-digit SymPy sees it (found by fuzzing against the
# code before the quick pass).
CANCELLING_POINTS = [
    (-2.6086009036892687e-06, 3.4697447601574907),
    (-9.607813046833965e-06, -8.951592131040961),
    (-6.6543723667783954e-06, -1.6496636071160602),
]


@pytest.mark.parametrize("x, y", CANCELLING_POINTS)
def test_where_f_cancels_many_points_say_what_one_point_says(cli, x, y):
    text = "(1-cos(x*y))/x"
    single = cli("diff", text, "--at", f"x={x!r},y={y!r}", "--json").json["status"]
    many = cli("diff", text, "--points", "-", "--json", input=f"x,y\n{x!r},{y!r}\n").json
    assert many["status"] == single
    exact = mpmath.diff(lambda t: (1 - mpmath.cos(t * y)) / t, mpmath.mpf(x))
    autograd = many["gradient"]["x"]["autograd"]
    tolerance = verdict.AUTOGRAD_TOLERANCE["float64"]
    # The verdict is decided independently of the engines: autograd against mpmath.
    expected = "agree" if tolerance.allows(autograd, float(exact)) else "disagree"
    assert many["status"] == expected


def test_the_rounding_bound_from_known_values_is_the_one_it_computes():
    from gradcalc.evaluation import evaluate, rounding_noise

    expr = parse("exp(x) - exp(x - 1e-10) + log(1 + x**2)")
    point = {"x": np.linspace(-3, 3, 101)[:, None]}
    known = evaluate(expr, point, keep=True)
    assert np.array_equal(
        rounding_noise(expr, point, {}, known=known), rounding_noise(expr, point, {})
    )
