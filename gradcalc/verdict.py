"""How the three methods are compared: named tolerances and the verdict.

SymPy's value (30-digit evalf) is the reference. Autograd is compared with
a tolerance that depends on the dtype it ran in; finite differences always
run in float64 and are allowed their own truncation error estimate too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def allows(self, value: float, reference: float, slack: float = 0.0) -> bool:
        return abs(value - reference) <= self.atol + self.rtol * abs(reference) + slack


# Autograd against SymPy, by the dtype autograd ran in.
AUTOGRAD_TOLERANCE = {
    "float64": Tolerance(rtol=1e-9, atol=1e-12),
    "float32": Tolerance(rtol=1e-4, atol=1e-6),
}

# Finite differences (float64, 5-point stencil with Richardson) against
# SymPy, for a first derivative; each further order loosens it 100-fold.
FINITE_DIFFERENCE_TOLERANCE = Tolerance(rtol=1e-6, atol=1e-8)
FD_ERROR_SLACK = 4.0  # times the stencil's own error estimate...
FD_SLACK_CAP = 1e-4  # ...but never more than this, relative: a wild estimate proves nothing

# One-sided derivatives closer than this are the same slope (no kink).
KINK_TOLERANCE = Tolerance(rtol=1e-5, atol=1e-7)


def finite_difference_tolerance(order: int) -> Tolerance:
    factor = 100.0 ** (order - 1)
    return Tolerance(
        FINITE_DIFFERENCE_TOLERANCE.rtol * factor, FINITE_DIFFERENCE_TOLERANCE.atol * factor
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
            "error_estimate_factor": FD_ERROR_SLACK,
            "error_estimate_cap": FD_SLACK_CAP,
        },
    }


def fd_slack(error_estimate, reference):
    """What finite differences are allowed beyond their tolerance: their own
    error estimate, capped (works on floats and numpy arrays alike)."""
    import numpy as np

    return np.minimum(FD_ERROR_SLACK * error_estimate, FD_SLACK_CAP * (1 + np.abs(reference)))


class Status:
    AGREE = "agree"
    DISAGREE = "disagree"
    KINK = "not_differentiable"
    UNDEFINED = "undefined"
