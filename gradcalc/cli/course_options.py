"""The options of the calculus course's additions: taylor's, plot --taylor,
and diff's --certify and --direction (options.py holds the rest)."""

from __future__ import annotations

import math
from typing import Annotated

import typer

# taylor's own options.
TAYLOR_MAX_ORDER = 8  # taylor.MAX_ORDER (not imported: parsing options imports no numpy)


def _taylor_order(value: int) -> int:
    if not 0 <= value <= TAYLOR_MAX_ORDER:
        raise typer.BadParameter(
            f"{value} is not a degree gradcalc expands to: 0 to {TAYLOR_MAX_ORDER}"
        )
    return value


TaylorOrder = Annotated[
    int,
    typer.Option(
        "--order",
        "-n",
        metavar="N",
        callback=_taylor_order,
        help="The degree of the polynomial, 0 to 8.",
    ),
]


def _positive(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise typer.BadParameter("must be a positive number")
    return value


RadiusTolerance = Annotated[
    float,
    typer.Option(
        "--tolerance",
        metavar="TOL",
        callback=_positive,
        help="The radius is the distance from a within which |f − P| stays at most TOL "
        "(absolute), on a geometric grid of distances, 16 a decade, both sides.",
    ),
]
TaylorVariable = Annotated[
    list[str] | None,
    typer.Option(
        "--wrt",
        "-w",
        metavar="NAME",
        help="The variable to expand in (the others are held at the point). "
        "Needed when there are several.",
        show_default=False,
    ),
]
TaylorExplain = Annotated[
    bool,
    typer.Option(
        "--explain",
        help="Derive each coefficient as f⁽ᵏ⁾(a)/k!: the derivatives step by step, each "
        "rule named and each step checked against SymPy (a failed check exits 70).",
    ),
]


# diff's --certify and --direction.
Certify = Annotated[
    bool,
    typer.Option(
        "--certify",
        help="Enclose each derivative's exact value in a ball with a rigorous radius "
        "(Arb interval arithmetic, pip install 'gradcalc\\[certify]'), and say whether "
        "autograd's and the finite differences' values fall inside.",
    ),
]
Direction = Annotated[
    str | None,
    typer.Option(
        "--direction",
        metavar="VECTOR",
        help="The directional derivative along VECTOR, e.g. [1,1] (one component per "
        "variable, in order), normalized to length 1: the gradient's dot product, "
        "checked by finite differences along the line.",
        show_default=False,
    ),
]
Unnormalized = Annotated[
    bool,
    typer.Option(
        "--unnormalized",
        help="With --direction: use VECTOR as given (∇f · v), not scaled to length 1.",
    ),
]
PlotTaylor = Annotated[
    int | None,
    typer.Option(
        "--taylor",
        metavar="N",
        callback=lambda value: None if value is None else _taylor_order(value),
        help="Overlay the Taylor polynomial of degree N at the point (as gradcalc taylor "
        "computes it), 0 to 8.",
        show_default=False,
    ),
]
