"""The verdict: how the three methods are compared, and what a point is called.

This module is the one place that decides. `weigh` compares the methods'
numbers (arrays over points and components, so one point and `--points` go
through the same code) with their tolerances; `judge` takes those checks and
the kink findings and returns one status per point; `reason` writes the words
for a status from the same data. Nothing here evaluates anything: the numbers
come from `check` (through `measure`) and `batch`, the kinks from
`numeric.find_kinks`.

The statuses, one definition each (docs/verdicts.md says the same):

- ``undefined``: the function itself is not finite (or not real) at the
  point (decided before any derivative is taken), or the reference derivative
  is not finite: SymPy's formula fails at the point and no limit repairs it
  (it diverges approaching the point, or cannot be evaluated near it).
- ``not_differentiable``: the point is a kink or a jump: f is not continuous
  (a jump, or a value apart from both one-sided limits), or along some
  variable the one-sided derivatives of f, or of a derivative of order below
  N for ``--order N``, settle and stay apart beyond `KINK_TOLERANCE`.
- ``disagree``: the point is smooth and the reference finite, but autograd or
  finite differences differ from it beyond their named tolerance (autograd's
  own NaN included; finite differences beyond it plus FD_ERROR_SLACK times
  their own error estimate). Where the difference is within float64's reach
  at the point, the words say so.
- ``agree``: none of the above. A finite difference that could not be taken
  without crossing a kink (or leaving the domain), or that decides nothing
  (`decisive`: too unsure to confirm, too close to refute), is "not
  checked": it neither agrees nor disagrees.

Precedence, strongest first: undefined function, kink, undefined derivative,
disagree, agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

Numbers = float | np.ndarray  # the comparisons take one number or arrays alike


# A named tuple: defined at start-up in a quarter of a dataclass's time.
class Tolerance(NamedTuple):
    rtol: float
    atol: float
    # When set, the absolute part never passes this share of a nonzero
    # reference: the derivative's own scale, where it is known, bounds it,
    # so a tiny derivative (2.7e-10) cannot hide a 100% wrong value under
    # atol. A reference of exactly 0 has no scale: atol in full.
    atol_share: float | None = None

    def allows(self, value: Numbers, reference: Numbers, slack: Numbers = 0.0) -> Any:
        """|value - reference| within the tolerance (floats or arrays)."""
        atol: Any = self.atol
        if self.atol_share is not None:
            scale = self.atol_share * np.abs(reference)
            atol = np.where(scale > 0, np.minimum(self.atol, scale), self.atol)
        return np.abs(value - reference) <= atol + self.rtol * np.abs(reference) + slack


# Autograd against SymPy, by the dtype autograd ran in.
AUTOGRAD_TOLERANCE = {
    "float64": Tolerance(rtol=1e-9, atol=1e-12),
    "float32": Tolerance(rtol=1e-4, atol=1e-6),
}
DTYPES = tuple(AUTOGRAD_TOLERANCE)


def checked_dtype(dtype: str) -> str:
    """`dtype` when autograd runs in it; the one check every driver makes."""
    if dtype not in AUTOGRAD_TOLERANCE:
        from .errors import UsageError

        raise UsageError(f"must be one of {', '.join(DTYPES)}, not {dtype!r}", option="dtype")
    return dtype


# Finite differences (float64, 5-point stencil with Richardson) against
# SymPy, for a first derivative; each further order loosens it 100-fold.
FINITE_DIFFERENCE_TOLERANCE = Tolerance(rtol=1e-6, atol=1e-8, atol_share=1e-3)
FD_ERROR_SLACK = 4.0  # times the stencil's own error estimate...
FD_SLACK_CAP = 1e-4  # ...but never more than this, relative: a wild estimate proves nothing

# One-sided derivatives closer than this are the same slope (no kink).
KINK_TOLERANCE = Tolerance(rtol=1e-5, atol=1e-7)


def finite_difference_tolerance(order: int) -> Tolerance:
    factor = 100.0 ** (order - 1)
    return Tolerance(
        FINITE_DIFFERENCE_TOLERANCE.rtol * factor,
        FINITE_DIFFERENCE_TOLERANCE.atol * factor,
        FINITE_DIFFERENCE_TOLERANCE.atol_share,
    )


def tolerances(dtype: str, order: int) -> dict:
    """The tolerances in force, for display and JSON."""
    fd = finite_difference_tolerance(order)
    ad = AUTOGRAD_TOLERANCE[dtype]
    return {
        "autograd": {"rtol": ad.rtol, "atol": ad.atol},
        "finite_difference": {
            "rtol": fd.rtol,
            "atol": fd.atol,
            "atol_share": fd.atol_share,
            "error_estimate_factor": FD_ERROR_SLACK,
            "error_estimate_cap": FD_SLACK_CAP,
        },
    }


def fd_slack(error_estimate: Numbers, reference: Numbers) -> np.ndarray:
    """What finite differences are allowed beyond their tolerance: their own
    error estimate, capped; none where the estimate is unbounded (floats and
    numpy arrays alike)."""
    error_estimate = np.asarray(error_estimate)
    capped = np.minimum(FD_ERROR_SLACK * error_estimate, FD_SLACK_CAP * (1 + np.abs(reference)))
    return np.where(np.isfinite(error_estimate), capped, 0.0)


def decisive(
    finite_difference: Numbers, error_estimate: Numbers, reference: Numbers, order: int
) -> Any:
    """Where finite differences decide anything: they confirm the reference
    (within their tolerance plus their capped error estimate) or refute it
    (off by more than their tolerance plus FD_ERROR_SLACK times their own
    estimate, uncapped). Between the two, their own estimate is too wide to
    confirm and the gap too small to refute: x at 1e12 is 0.9978 ± 0.0087,
    since float64 rounds f's values there (1e12) by 1e-4 over a step of 0.12.
    Where the reference is not finite there is nothing to weigh (bool arrays)."""
    tolerance = finite_difference_tolerance(order)
    with np.errstate(invalid="ignore"):
        confirms = tolerance.allows(
            finite_difference, reference, fd_slack(error_estimate, reference)
        )
        refutes = ~tolerance.allows(
            finite_difference, reference, FD_ERROR_SLACK * np.asarray(error_estimate)
        )
    return confirms | refutes | ~np.isfinite(reference)


def confirms_alone(
    finite_difference: Numbers, error_estimate: Numbers, reference: Numbers, order: int
) -> Any:
    """Where a finite difference settles agreement by itself, with no second
    step size to cross-examine it (`quickdiff.quick_difference`, the batch's
    first pass): its own error estimate, FD_ERROR_SLACK times over, fits
    inside the relative tolerance, and the value is within the relative
    tolerance plus that slack. A stricter test than `decisive`'s
    confirmation (its slack is uncapped but must itself fit the tolerance),
    so every point it passes `weigh` confirms too; the rest take the full
    finite differences. The absolute part of the tolerance (atol, or its
    share of a small reference) confirms nothing here, and so a reference of
    0 never: float64's cancellation spoils small symbolic values by about
    that much (sin(x)/x at 1e-8 is 0 for -3.3e-9, at 1e-5 -3.33332e-6 for
    -3.33333e-6, as autograd's are), which the full stencil's second step,
    or the one-point driver with SymPy's 30 digits, must see."""
    relative = finite_difference_tolerance(order)._replace(atol=0.0)
    error_estimate = np.asarray(error_estimate)
    slack = FD_ERROR_SLACK * error_estimate
    with np.errstate(invalid="ignore", over="ignore"):
        tight = np.isfinite(error_estimate) & relative.allows(reference + slack, reference)
        close = relative.allows(finite_difference, reference, slack)
    return tight & close & np.isfinite(reference) & np.isfinite(finite_difference)


# Why finite differences did not count where their own estimate was too wide.
UNRESOLVED = (
    "their own error estimate is too wide to confirm the value "
    f"({FD_ERROR_SLACK:g}× it passes {FD_SLACK_CAP:g} of it) and the gap too small to refute "
    "it: float64 cannot resolve the difference at the steps taken"
)


class Status:
    AGREE = "agree"
    DISAGREE = "disagree"
    KINK = "not_differentiable"
    UNDEFINED = "undefined"


# Codes are indices into STATUSES (one byte per point for --points).
STATUSES = (Status.AGREE, Status.DISAGREE, Status.KINK, Status.UNDEFINED)
AGREE, DISAGREE, KINK, UNDEFINED = range(len(STATUSES))

AGREED = "SymPy, autograd and finite differences agree"
AGREED_WITHOUT_AUTOGRAD = "the symbolic derivative and finite differences agree"
# The note of a run without autograd (the API's autograd=False, the CLI's --no-autograd).
AUTOGRAD_SKIPPED = "autograd not asked for: torch was not imported"


@dataclass
class Kink:
    """A kink or jump found along one variable (component) at one point."""

    node: str  # the sub-expression on its kink, e.g. "abs(x)", or "the expression"
    wrt: str  # variable (component) along which it was probed: "x", "x[1]"
    left: float | None  # one-sided derivatives (None across a jump)
    right: float | None
    jump: bool
    left_value: float  # the one-sided limits of the value
    right_value: float
    value: float | None = None  # the value at the point itself
    order: int = 1  # a kink of the (order - 1)-th derivative: 1 is a corner of f


@dataclass(frozen=True)
class Methods:
    """One derivative (d/dx, or ∂²/∂x∂y) by the three methods, at every point:
    arrays of shape (points, components); components is 1 for scalars."""

    labels: list[str]  # per component: "d/dx", "d/dx[1]"
    sympy: np.ndarray  # NaN where the symbolic derivative is not a finite real
    autograd: np.ndarray | None  # None: not run (--no-autograd)
    finite_difference: np.ndarray
    finite_difference_error: np.ndarray
    sympy_why: dict[tuple[int, int], str] | None = None  # (point, component) -> why not finite
    # False where finite differences could not be taken cleanly (every step
    # crossed a kink, or left the domain): "not checked", never "disagree".
    fd_checked: np.ndarray | None = None
    # Why finite differences were not checked, when not for a kink or the
    # domain (a long vector's components outside the sample: see vectors).
    fd_unchecked_why: str | None = None
    autograd_why: dict[tuple[int, int], str] | None = None  # why autograd is not finite
    autograd_convention: str | None = None  # a non-smooth node autograd took a side of
    # (point, component, method) -> how far the method's own value moves when
    # the point moves by a few ulps: float64's reach there (see FLOAT64_REACH).
    float64_noise: dict[tuple[int, int, str], float] | None = None
    order: int = 1  # of the derivative: its finite differences' tolerance


# A named tuple: defined at start-up in a quarter of a dataclass's time.
class Checks(NamedTuple):
    """What `weigh` found for one Methods: bool arrays (points, components)."""

    sympy_finite: np.ndarray
    autograd_finite: np.ndarray
    autograd_close: np.ndarray
    fd_finite: np.ndarray
    fd_close: np.ndarray
    fd_counted: np.ndarray  # where they count (JSON finite_difference_checked): clean, deciding
    fd_unresolved: np.ndarray  # taken cleanly, but deciding nothing (`decisive`)

    @property
    def agree(self) -> np.ndarray:
        return self.sympy_finite & self.autograd_close & self.fd_close

    def uncounting(self, where: np.ndarray) -> Checks:
        """The same checks with finite differences not counted `where`: the
        same as weighing them with `fd_checked` False there (a kink found
        close by after they were taken: every step straddles it)."""
        return self._replace(
            fd_finite=self.fd_finite | where,
            fd_close=self.fd_close | where,
            fd_counted=self.fd_counted & ~where,
            fd_unresolved=self.fd_unresolved & ~where,
        )


def weigh(methods: Methods, dtype: str, order: int) -> Checks:
    """Each method against SymPy with its named tolerance (autograd by dtype,
    finite differences by order plus their own capped error estimate)."""
    reference = methods.sympy
    with np.errstate(all="ignore"):
        sympy_finite = np.isfinite(reference)
        if methods.autograd is None:
            autograd_finite = np.ones_like(sympy_finite)
            autograd_close = np.ones_like(sympy_finite)
        else:
            autograd_finite = np.isfinite(methods.autograd)
            autograd_close = autograd_finite & AUTOGRAD_TOLERANCE[dtype].allows(
                methods.autograd, reference
            )
        fd = methods.finite_difference
        clean = np.ones_like(sympy_finite) if methods.fd_checked is None else methods.fd_checked
        unresolved = clean & ~decisive(fd, methods.finite_difference_error, reference, order)
        counted = clean & ~unresolved
        fd_finite = np.isfinite(fd) | ~counted
        slack = fd_slack(methods.finite_difference_error, reference)
        fd_close = ~counted | (
            np.isfinite(fd) & finite_difference_tolerance(order).allows(fd, reference, slack)
        )
    return Checks(
        sympy_finite=sympy_finite,
        autograd_finite=autograd_finite,
        autograd_close=autograd_close,
        fd_finite=fd_finite,
        fd_close=fd_close,
        fd_counted=counted,
        fd_unresolved=unresolved,
    )


def judge(checks: list[Checks], kink: np.ndarray, undefined: np.ndarray) -> np.ndarray:
    """One status code per point, by the precedence in the module docstring.
    `kink` and `undefined` (the function itself) are bool arrays (points,)."""
    codes = np.full(kink.shape, AGREE, dtype=np.uint8)
    for check in checks:
        # A reference that is not finite settles the point (undefined) whatever
        # the others say; where it is finite, any method off means disagree.
        off = check.sympy_finite & ~(check.autograd_close & check.fd_close)
        codes[np.any(off, axis=1) & (codes == AGREE)] = DISAGREE
    for check in checks:
        # Only the reference speaks for the derivative: autograd's own NaN
        # (0·∞ inside torch's backward) where SymPy's is finite is a disagreement.
        codes[np.any(~check.sympy_finite, axis=1)] = UNDEFINED
    codes[kink] = KINK
    codes[undefined] = UNDEFINED
    return codes


NONFINITE, OFF = "nonfinite", "off"  # the two kinds of problem
# A difference within this many times the method's own float64 noise is
# float64's limit at that point, and the words say so.
FLOAT64_REACH = 10.0


def _convention(methods: Methods) -> str:
    if methods.autograd_convention is None:
        return ""
    return (
        f" (torch's subgradient convention at {methods.autograd_convention}, which sits on "
        "its kink here: the function itself is smooth to this order, autograd is not)"
    )


def _within_float64(methods: Methods, point: int, c: int, method: str, difference: float) -> str:
    noise = (methods.float64_noise or {}).get((point, c, method))
    if noise is None or not noise > 0 or difference > FLOAT64_REACH * noise:
        return ""
    own = "autograd's" if method == "autograd" else f"{method}'"
    return (
        f" (float64's limit here: one more rounding error in each operation moves {own} "
        f"own value by up to {noise:.2g}, so float64 cannot resolve this difference)"
    )


def problems(methods: Methods, check: Checks, point: int) -> list[tuple[str, str]]:
    """What differs at one point, component by component: (kind, words)."""
    found = []
    for c, label in enumerate(methods.labels):
        reference = methods.sympy[point, c]
        if not check.sympy_finite[point, c]:
            why = (methods.sympy_why or {}).get((point, c), "not finite")
            found.append((NONFINITE, f"{label}: SymPy's derivative is {why}"))
            continue
        if methods.autograd is not None:
            ad = methods.autograd[point, c]
            if not check.autograd_finite[point, c]:
                traced = (methods.autograd_why or {}).get((point, c))
                words = f"{label}: autograd gives {ad}" + (f": {traced}" if traced else "")
                found.append((OFF, words))
            elif not check.autograd_close[point, c]:
                found.append(
                    (
                        OFF,
                        f"{label}: autograd {ad:.12g} differs from SymPy {reference:.12g} "
                        f"by {abs(ad - reference):.3g}"
                        + _convention(methods)
                        + _within_float64(methods, point, c, "autograd", abs(ad - reference)),
                    )
                )
        fd = methods.finite_difference[point, c]
        if not check.fd_finite[point, c]:
            found.append((OFF, f"{label}: finite differences give {fd}"))
        elif not check.fd_close[point, c]:
            found.append(
                (
                    OFF,
                    f"{label}: finite differences {fd:.12g} differ from SymPy "
                    f"{reference:.12g} by {abs(fd - reference):.3g}"
                    + _within_float64(methods, point, c, "finite differences", abs(fd - reference)),
                )
            )
    return found


UNCHECKED_SHOWN = 8  # derivatives named in "not checked here (...)" before a count


def _unchecked_whys(methods: list[Methods], checks: list[Checks], point: int) -> list[str]:
    """Why finite differences were not checked at a point, each reason once."""
    whys: list[str] = []
    for m, check in zip(methods, checks):
        off = ~check.fd_counted[point]
        unresolved = off & check.fd_unresolved[point]
        if unresolved.any():
            whys.append(UNRESOLVED)
        if (off & ~unresolved).any():
            whys.append(
                m.fd_unchecked_why
                or "every step would cross a kink or a pole nearby, or leave the domain"
            )
    return list(dict.fromkeys(whys))


def _agreed(methods: list[Methods], checks: list[Checks], point: int, autograd: bool) -> str:
    """The words for agree: which finite differences did not count, and why."""
    unchecked = [
        label
        for m, check in zip(methods, checks)
        for c, label in enumerate(m.labels)
        if not check.fd_counted[point, c]
    ]
    if not unchecked:
        return AGREED if autograd else AGREED_WITHOUT_AUTOGRAD
    shown = unchecked[:UNCHECKED_SHOWN]
    if len(unchecked) > len(shown):
        shown.append(f"and {len(unchecked) - len(shown):,} more")
    counted = sum(int(check.fd_counted[point].sum()) for check in checks)
    if autograd:
        start = "SymPy and autograd agree"
    elif counted:
        start = (
            "the symbolic derivative and finite differences agree where finite "
            f"differences were taken ({counted:,})"
        )
    else:
        start = "nothing checked the symbolic derivative here"
    return (
        f"{start}; finite differences not checked here ("
        + ", ".join(shown)
        + "): "
        + "; ".join(_unchecked_whys(methods, checks, point))
    )


def reason(
    code: int,
    point: int,
    methods: list[Methods],
    checks: list[Checks],
    kinks: list[Kink],
    autograd: bool = True,
    undefined: str | None = None,
) -> str:
    """The words for a point's status, built from the data that decided it."""
    if code == UNDEFINED and undefined is not None:
        return undefined
    if code == KINK:
        return kink_words(kinks)
    if code == AGREE:
        return _agreed(methods, checks, point, autograd)
    listed = [p for m, c in zip(methods, checks) for p in problems(m, c, point)]
    if code == UNDEFINED:
        nonfinite = [words for kind, words in listed if kind == NONFINITE]
        return "the derivative is not finite here: " + "; ".join(nonfinite)
    return "the methods disagree: " + "; ".join(words for _, words in listed)


def kink_words(kinks: list[Kink]) -> str:
    return (
        "; ".join(kink_phrases(kinks)) + ". The values shown are each method's convention "
        "(autograd takes a subgradient)."
    )


def kink_phrases(kinks: list[Kink]) -> list[str]:
    """What each kink or jump is, in words: "not differentiable here (at
    abs(x)): along x the left derivative is -1 and the right 1"."""
    words = []
    for kink in kinks:
        if kink.jump and kink.left_value == kink.right_value and kink.value is not None:
            words.append(
                f"the function is not continuous here (at {kink.node}): its value is "
                f"{kink.value:.6g}, but along {kink.wrt} it tends to {kink.left_value:.6g} "
                "on both sides"
            )
        elif kink.jump:
            words.append(
                f"the value jumps here along {kink.wrt} (at {kink.node}: from "
                f"{kink.left_value:.6g} to {kink.right_value:.6g})"
            )
        elif kink.order > 1:
            which = "f" + "′" * (kink.order - 1)
            words.append(
                f"{which} has a kink here (at {kink.node}): along {kink.wrt} its left "
                f"derivative is {kink.left:.6g} and its right {kink.right:.6g}, so the "
                f"derivative of order {kink.order} does not exist"
            )
        else:
            words.append(
                f"not differentiable here (at {kink.node}): along {kink.wrt} the "
                f"left derivative is {kink.left:.6g} and the right {kink.right:.6g}"
            )
    return words
