"""Redraw the reference plots the tests compare against (tests/plots/).

    python scripts/gen_plot_references.py

Run it only after a deliberate change to how plots look, then look at every
PNG before committing them: the tests trust these files.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from typer.testing import CliRunner  # noqa: E402

from gradcalc import fderror, plotting  # noqa: E402
from gradcalc.cli import app  # noqa: E402
from gradcalc.render import image  # noqa: E402

PLOTS = ROOT / "tests" / "plots"


def main() -> None:
    PLOTS.mkdir(exist_ok=True)
    run = CliRunner().invoke(
        app, ["plot", "sin(x**2)", "--at", "3"], env={"NO_COLOR": "1", "COLUMNS": "80"}
    )
    (PLOTS / "sin_x2_at_3.txt").write_text(run.stdout, encoding="utf-8")
    image.function(plotting.build("sin(x**2)", ["3"]), str(PLOTS / "sin_x2_at_3.png"), replace=True)
    image.function(
        plotting.build("abs(x)", ["0"], window=(-1.0, 1.0)),
        str(PLOTS / "abs_at_0.png"),
        replace=True,
    )
    image.error_curve(
        fderror.curve("sin(x)", ["1"]), str(PLOTS / "fd_error_sin_at_1.png"), replace=True
    )


if __name__ == "__main__":
    main()
