"""The verdict decided on data alone: hand-made numbers for the three
methods and kink findings, no engine involved. One test per status and one
for the precedence between them."""

from dataclasses import replace

import numpy as np
import pytest

from gradcalc import verdict
from gradcalc.verdict import Kink, Methods

NAN = float("nan")


def _methods(sympy, autograd, fd, fd_error=0.0):
    """One derivative, one component, at as many points as values given."""

    def column(values):
        return np.array(values, dtype=float).reshape(-1, 1)

    return Methods(
        labels=["d/dx"],
        sympy=column(sympy),
        autograd=None if autograd is None else column(autograd),
        finite_difference=column(fd),
        finite_difference_error=column(np.broadcast_to(fd_error, np.shape(fd))),
    )


def _judge(methods, kink=None, undefined=None, dtype="float64", order=1):
    points = methods.sympy.shape[0]
    checks = [verdict.weigh(methods, dtype, order)]
    kink = np.zeros(points, bool) if kink is None else np.array(kink)
    undefined = np.zeros(points, bool) if undefined is None else np.array(undefined)
    return [verdict.STATUSES[c] for c in verdict.judge(checks, kink, undefined)], checks


@pytest.mark.parametrize(
    "sympy, autograd, fd, expected",
    [
        (2.0, 2.0, 2.0 + 1e-9, "agree"),  # inside both tolerances
        (2.0, 2.0 + 1e-6, 2.0, "disagree"),  # autograd off beyond rtol 1e-9
        (2.0, 2.0, 2.0 + 1e-3, "disagree"),  # finite differences off beyond rtol 1e-6
        (NAN, 2.0, 2.0, "undefined"),  # no finite symbolic derivative
        # autograd's own NaN (0·∞ in its backward) where SymPy's is finite
        (2.0, float("inf"), 2.0, "disagree"),
        (2.0, 2.0, NAN, "disagree"),  # a finite difference that claims to be checked
    ],
)
def test_each_status_from_the_numbers(sympy, autograd, fd, expected):
    (status,), _ = _judge(_methods([sympy], [autograd], [fd]))
    assert status == expected


def test_a_finite_difference_not_taken_cleanly_is_not_checked():
    methods = _methods([2.0, 2.0], [2.0, 2.0], [0.5, 0.5])
    methods = replace(methods, fd_checked=np.array([[False], [True]]))
    statuses, checks = _judge(methods)
    assert statuses == ["agree", "disagree"]
    assert verdict.reason(verdict.AGREE, 0, [methods], checks, []) == (
        "SymPy and autograd agree; finite differences not checked here (d/dx): every step "
        "would cross a kink or a pole nearby, or leave the domain"
    )


def test_tolerances_are_the_named_ones():
    ad = verdict.AUTOGRAD_TOLERANCE["float64"]
    edge = 1.0 + ad.atol + ad.rtol * 1.0
    (inside,), _ = _judge(_methods([1.0], [edge * (1 - 1e-15)], [1.0]))
    (outside,), _ = _judge(_methods([1.0], [1.0 + 2 * (ad.atol + ad.rtol)], [1.0]))
    assert (inside, outside) == ("agree", "disagree")
    # float32 autograd is allowed 1e-4 relative.
    (loose,), _ = _judge(_methods([1.0], [1.00005], [1.0]), dtype="float32")
    assert loose == "agree"


def test_finite_differences_confirm_within_their_capped_estimate_and_refute_beyond_it():
    # 1e-5 off: beyond rtol 1e-6, inside 4x an error estimate of 3e-6: confirmed.
    (allowed,), _ = _judge(_methods([1.0], [1.0], [1.0 + 1e-5], fd_error=3e-6))
    # 0.5 off with an estimate of 0.01: beyond 4x their own estimate: refuted.
    (refuted,), _ = _judge(_methods([1.0], [1.0], [1.5], fd_error=0.01))
    assert (allowed, refuted) == ("agree", "disagree")


def test_finite_differences_too_unsure_to_confirm_or_refute_are_not_checked():
    # 0.01 off with an estimate of 1.0: the estimate passes the 1e-4 cap, so it
    # cannot confirm; the gap is inside 4x the estimate, so it cannot refute.
    methods = _methods([1.0, 1.0], [1.0, 1.0], [1.01, 1.0], fd_error=[1.0, float("inf")])
    statuses, checks = _judge(methods)
    assert statuses == ["agree", "agree"]
    assert checks[0].fd_counted[:, 0].tolist() == [False, True]  # an exact 1.0 confirms
    words = verdict.reason(verdict.AGREE, 0, [methods], checks, [])
    assert words == (
        "SymPy and autograd agree; finite differences not checked here (d/dx): "
        + verdict.UNRESOLVED
    )
    # Unbounded (float64 forced too long a step): no slack; 1e-5 off is not confirmed.
    methods = _methods([1.0], [1.0], [1.0 + 1e-5], fd_error=float("inf"))
    statuses, checks = _judge(methods)
    assert statuses == ["agree"] and not checks[0].fd_counted[0, 0]


def test_precedence_undefined_function_then_kink_then_undefined_derivative_then_disagree():
    methods = _methods([NAN, NAN, 1.0, 1.0], [1.0, 1.0, 5.0, 1.0], [1.0, 1.0, 1.0, 1.0])
    statuses, _ = _judge(
        methods, kink=[True, True, True, False], undefined=[True, False, False, False]
    )
    assert statuses == ["undefined", "not_differentiable", "not_differentiable", "agree"]
    statuses, _ = _judge(_methods([NAN, 1.0, 1.0], [1.0, 5.0, NAN], [1.0, 1.0, 1.0]))
    assert statuses == ["undefined", "disagree", "disagree"]


def test_reasons_are_built_from_the_decision():
    methods = _methods([2.0, 2.0, NAN], [2.5, 2.0, 1.0], [2.0, 2.0, 1.0])
    methods = replace(methods, sympy_why={(2, 0): "infinite (division by zero)"})
    statuses, checks = _judge(methods)
    assert statuses == ["disagree", "agree", "undefined"]
    words = [
        verdict.reason(verdict.STATUSES.index(s), i, [methods], checks, [])
        for i, s in enumerate(statuses)
    ]
    assert words == [
        "the methods disagree: d/dx: autograd 2.5 differs from SymPy 2 by 0.5",
        "SymPy, autograd and finite differences agree",
        "the derivative is not finite here: d/dx: SymPy's derivative is infinite (division by "
        "zero)",
    ]
    kink = Kink("abs(x)", "x", -1.0, 1.0, False, 0.0, 0.0)
    assert verdict.reason(verdict.KINK, 0, [methods], checks, [kink]) == (
        "not differentiable here (at abs(x)): along x the left derivative is -1 and the right 1. "
        "The values shown are each method's convention (autograd takes a subgradient)."
    )


def test_without_autograd_only_two_methods_are_compared():
    methods = _methods([3.0], None, [3.0])
    (status,), checks = _judge(methods)
    assert status == "agree"
    assert verdict.reason(verdict.AGREE, 0, [methods], checks, [], autograd=False) == (
        "the symbolic derivative and finite differences agree"
    )


@pytest.mark.parametrize("dropped", [[True, False, False], [False, True, True], [True] * 3])
def test_uncounting_is_weighing_without_those_finite_differences(dropped):
    # check drops the finite differences a kink close by spoils after weighing
    # once; the checks must be those of weighing without them in the first place.
    methods = _methods(
        [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.5, 1.01, 1.0], fd_error=[0.01, 1.0, 0.0]
    )
    methods = replace(methods, fd_checked=np.array([[True], [True], [False]]))
    where = np.array(dropped).reshape(-1, 1)
    uncounted = verdict.weigh(methods, "float64", 1).uncounting(where)
    methods = replace(methods, fd_checked=methods.fd_checked & ~where)
    weighed = verdict.weigh(methods, "float64", 1)
    for name in ("fd_finite", "fd_close", "fd_counted", "fd_unresolved", "agree"):
        assert getattr(uncounted, name).tolist() == getattr(weighed, name).tolist(), name
