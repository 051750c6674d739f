"""What a Hessian says about the point: the full symmetric matrix, its
eigenvalues, and, where the gradient is 0, what kind of critical point it is.

Built from `check`'s second partial derivatives (each already compared three
ways) and the gradient's symbolic value; the classification is decided on
the reference (SymPy's) numbers with the tolerance it states.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Eigenvalues (and gradient entries) within this of 0, relative to the
# largest eigenvalue's size (at least 1), count as 0.
ZERO = 1e-9


@dataclass
class Hessian:
    variables: list[str]
    matrix: list[list[float]]  # SymPy's, symmetric, every entry
    autograd: list[list[float]] | None  # the same from autograd (None: not run)
    finite_difference: list[list[float]]
    gradient: list[float]  # SymPy's first derivatives at the point
    eigenvalues: list[float]  # ascending
    critical: bool  # the gradient is 0 (within the tolerance)
    classification: str  # minimum, maximum, saddle, degenerate, or not a critical point
    tolerance: float  # what counts as 0, absolute


def classify(variables: list[str], partials: list, gradient: list) -> Hessian | None:
    """The Hessian of `partials` (pointcheck.Partial, order 2, scalar variables,
    one per distinct pair), or None when an entry is not a finite number."""
    index = {name: i for i, name in enumerate(variables)}
    size = len(variables)
    matrices: dict = {key: np.full((size, size), np.nan) for key in ("sympy", "autograd", "fd")}
    for partial in partials:
        i, j = (index[name] for name in partial.wrt)
        for key, value in (
            ("sympy", partial.sympy),
            ("autograd", partial.autograd),
            ("fd", partial.finite_difference),
        ):
            number = np.nan if value is None else float(value)
            matrices[key][i, j] = matrices[key][j, i] = number
    reference = matrices["sympy"]
    if not np.all(np.isfinite(reference)) or any(g is None for g in gradient):
        return None
    eigenvalues = np.linalg.eigvalsh(reference)
    tolerance = ZERO * max(1.0, float(np.max(np.abs(eigenvalues))))
    critical = all(abs(g) <= tolerance for g in gradient)
    if not critical:
        kind = "not a critical point"
    elif np.all(eigenvalues > tolerance):
        kind = "minimum"
    elif np.all(eigenvalues < -tolerance):
        kind = "maximum"
    elif np.any(eigenvalues > tolerance) and np.any(eigenvalues < -tolerance):
        kind = "saddle"
    else:
        kind = "degenerate"
    autograd = matrices["autograd"]
    return Hessian(
        variables=list(variables),
        matrix=reference.tolist(),
        autograd=None if np.all(np.isnan(autograd)) else autograd.tolist(),
        finite_difference=matrices["fd"].tolist(),
        gradient=[float(g) for g in gradient],
        eigenvalues=[float(v) for v in eigenvalues],
        critical=critical,
        classification=kind,
        tolerance=tolerance,
    )
