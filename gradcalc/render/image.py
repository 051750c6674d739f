"""The plot as an image (SVG, PNG or PDF), drawn with matplotlib.

matplotlib is an optional extra (`pip install 'gradcalc[plot]'`), imported
only here, only when an image is asked for. The output is deterministic
(Agg, bundled DejaVu fonts at fixed sizes, a fixed SVG hash salt, no dates
or versions in the metadata), so a test can compare it with a reference
image. Every artist a reader looks for has a gid (an id in the SVG):
`curve-N`, `tangent-SIDE`, `point`, `derivative-N`, `derivative-zero`,
`derivative-point-SIDE`, `mark-KIND-N`, `error-DTYPE-STENCIL`, `flat-DTYPE`,
`chosen-step`.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UsageError
from ..outfile import STDOUT, refuse_terminal, refuse_to_replace, replacing, write_stdout

if TYPE_CHECKING:
    from ..fderror import ErrorCurve, Fit, Series
    from ..plotting import Plot


FORMATS = ("svg", "png", "pdf")
# --output names standard output: '-' is SVG (text); KIND:- any format, as
# ImageMagick spells it (a binary one only when stdout is not a terminal).
TO_STDOUT = {STDOUT: "svg", **{f"{kind}:{STDOUT}": kind for kind in FORMATS}}
MATPLOTLIB_RC = {  # every image's look: fonts, sizes, reproducible SVG
    "font.family": "DejaVu Sans",
    "mathtext.fontset": "dejavusans",
    "font.size": 10,
    "axes.titlesize": 11,
    "legend.fontsize": 8,
    "svg.hashsalt": "gradcalc",
    "svg.fonttype": "path",
    "pdf.compression": 6,
    "path.simplify": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}
METADATA = {
    "svg": {"Date": None, "Creator": None},
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}
COLOURS = {
    "f": "#1f77b4",
    "tangent": "#ff7f0e",
    "derivative": "#9467bd",
    "mark": "#d62728",
    "taylor": "#2ca02c",
}
# Each tangent its own colour and dashes, so that the two one-sided tangents
# at a corner read apart, and drawn above f (zorder), which they touch.
TANGENTS = {
    "both": {"color": COLOURS["tangent"], "linestyle": "--"},
    "left": {"color": "#2ca02c", "linestyle": "--"},
    "right": {"color": "#ff7f0e", "linestyle": "-."},
}
ABOVE_F = 3  # zorder: f is a line at 2


def image_format(path: str) -> str:
    """The format a file name asks for: its extension; or standard output's
    (TO_STDOUT), a binary one refused when it is a terminal."""
    if path in TO_STDOUT:
        kind = TO_STDOUT[path]
        if kind != "svg":
            refuse_terminal(f"a {kind.upper()} image", path)
        return kind
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension not in FORMATS:
        raise UsageError(f"'{path}': the file name must end in .svg, .png or .pdf", option="output")
    return extension


def _pyplot() -> ModuleType:
    """matplotlib's pyplot on the Agg backend, or a one-line error naming the extra."""
    try:
        import matplotlib
    except ImportError:
        raise UsageError(
            "images need matplotlib: pip install 'gradcalc[plot]'", option="output"
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def prepare() -> None:
    """Import matplotlib now (before the time budget starts) or fail early."""
    _pyplot()


def _math(text: str, plain: str) -> str:
    """`text` in math text when matplotlib can typeset it, else `plain`."""
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(text)
    except ValueError:
        return plain
    return text


def _latex(expression: str) -> str | None:
    try:
        import sympy

        from ..cas import sympy_engine as engine
        from ..parsing import parse

        expr = parse(expression)
        symbols = engine.symbols_for(expr.variables, {n: None for n in expr.variables})
        latex = sympy.latex(engine.build(expr, symbols))
        # mathtext draws \left| \right| as small bars; plain | reads right.
        return latex.replace(r"\left|", "|").replace(r"\right|", "|")
    except Exception:  # any failure only costs the pretty title
        return None


def function(plot: Plot, path: str, replace: bool = False) -> None:
    """f, its tangent(s), the point and the marks; f′ in a panel below."""
    plt = _pyplot()
    kind = image_format(path)
    with plt.rc_context(MATPLOTLIB_RC):
        rows = 2 if plot.derivative else 1
        figure, axes = plt.subplots(
            rows,
            1,
            figsize=(6.4, 6.4 if rows == 2 else 4.4),
            sharex=True,
            squeeze=False,
            height_ratios=[2, 1] if rows == 2 else [1],
        )
        top = axes[0][0]
        for i, piece in enumerate(plot.curve):
            top.plot(
                piece.x,
                piece.y,
                color=COLOURS["f"],
                linewidth=1.8,
                gid=f"curve-{i}",
                label=f"${_var_f(plot)}$" if i == 0 else None,
            )
        for tangent in plot.tangents:
            x, y = tangent.line()
            side = "" if tangent.side == "both" else f" ({tangent.side})"
            top.plot(
                x,
                y,
                linewidth=1.6,
                zorder=ABOVE_F,
                gid=f"tangent-{tangent.side}",
                label=f"tangent{side}, slope ${_number(tangent.slope)}$",
                **TANGENTS[tangent.side],
            )
        if plot.taylor is not None:
            top.plot(
                plot.taylor.x,
                plot.taylor.y,
                color=COLOURS["taylor"],
                linewidth=1.2,
                linestyle=":",
                gid="taylor",
                label=f"Taylor polynomial, degree {plot.taylor.order}",
            )
        if plot.plane is not None:  # a legend line of its own: the equation
            top.plot([], [], " ", gid="tangent-plane", label=f"plane: {plot.plane.equation(4)}")
        _marks(top, plot)
        top.set_xlim(*plot.window)
        top.set_ylim(*plot.y_limits)
        top.set_ylabel(f"${_var_f(plot)}$")
        top.grid(True, linewidth=0.4, alpha=0.5)
        top.legend(loc="best")
        latex = _latex(plot.expression)
        title = (
            f"$f({plot.variable}) = {latex}$" if latex else f"f({plot.variable}) = {plot.label()}"
        )
        top.set_title(_math(title, f"f({plot.variable}) = {plot.label()}"))
        if plot.derivative:
            _derivative_panel(axes[1][0], plot)
        axes[-1][0].set_xlabel(f"${plot.variable}$")
        figure.tight_layout()
        _save(figure, path, kind, replace)
        plt.close(figure)


def _derivative_panel(bottom: Any, plot: Plot) -> None:
    """f′ over the window, its zero line (where f′ = 0 f is flat), and the
    point: f′ there, or at a corner each one-sided slope in its tangent's
    colour."""
    from ..plotting import derivative_limits

    bottom.axhline(0.0, color="black", linewidth=0.8, alpha=0.7, gid="derivative-zero")
    for i, piece in enumerate(plot.derivative or []):
        bottom.plot(
            piece.x,
            piece.y,
            color=COLOURS["derivative"],
            linewidth=1.5,
            gid=f"derivative-{i}",
            label=f"$f'({plot.variable})$" if i == 0 else None,
        )
    for tangent in plot.tangents:
        side = "" if tangent.side == "both" else f" ({tangent.side})"
        bottom.plot(
            [tangent.at],
            [tangent.slope],
            marker="o" if tangent.side != "left" else "s",
            markersize=6,
            linestyle="none",
            zorder=ABOVE_F,
            color=TANGENTS[tangent.side]["color"],
            gid=f"derivative-point-{tangent.side}",
            label=f"$f'${side} at the point, ${_number(tangent.slope)}$",
        )
    bottom.set_ylim(*derivative_limits(plot))
    bottom.set_ylabel(f"$f'({plot.variable})$")
    bottom.grid(True, linewidth=0.4, alpha=0.5)
    bottom.legend(loc="best")


def _var_f(plot: Plot) -> str:
    return f"f({plot.variable})"


def _number(value: float) -> str:
    from .numbers import fmt

    return fmt(value, 4).replace("e", r"\times 10^{") + ("}" if "e" in fmt(value, 4) else "")


def _marks(axes: Any, plot: Plot) -> None:
    counts: dict = {}
    for mark in plot.marks:
        n = counts[mark.kind] = counts.get(mark.kind, -1) + 1
        gid = f"mark-{mark.kind}-{n}"
        if mark.kind == "undefined":
            if mark.stop is not None and mark.stop > mark.x:
                axes.axvspan(mark.x, mark.stop, color=COLOURS["mark"], alpha=0.08, gid=gid)
            else:
                axes.axvline(mark.x, color=COLOURS["mark"], linewidth=0.8, linestyle=":", gid=gid)
        else:
            axes.axvline(mark.x, color=COLOURS["mark"], linewidth=0.6, linestyle=":", gid=gid)
    if plot.value is not None:
        axes.plot(
            [plot.at],
            [plot.value],
            marker="o",
            markersize=6,
            color=COLOURS["mark"],
            linestyle="none",
            zorder=ABOVE_F + 1,
            gid="point",
            label=f"$({_number(plot.at)},\\ {_number(plot.value)})$",
        )


def error_curve(curve: ErrorCurve, path: str, replace: bool = False) -> None:
    """Total error against h on log–log axes, the fitted slopes in the
    legend and drawn over the range they were fitted on, gradcalc's step
    marked."""
    plt = _pyplot()
    kind = image_format(path)
    styles = {"float64": "-", "float32": "--"}
    colours = {"central": "#1f77b4", "forward": "#2ca02c", "five_point": "#9467bd"}
    with plt.rc_context(MATPLOTLIB_RC):
        figure, axes = plt.subplots(figsize=(7.2, 5.0))
        for s in curve.series:
            keep = np.isfinite(s.error) & (s.error > 0)
            slopes = ", ".join(
                f"${f.slope:.2f}$" if f.slope is not None else "n/a"
                for f in (s.truncation, s.rounding)
            )
            axes.loglog(
                curve.steps[keep],
                s.error[keep],
                linestyle=styles[s.dtype],
                color=colours[s.stencil],
                linewidth=1.1,
                gid=f"error-{s.dtype}-{s.stencil}",
                label=f"{s.stencil.replace('_', '-')} {s.dtype}: slopes {slopes}",
            )
            for name, fit in (("truncation", s.truncation), ("rounding", s.rounding)):
                _fitted(axes, curve, s, fit, f"fit-{s.dtype}-{s.stencil}-{name}")
        _flat_stretches(axes, curve)
        axes.set_xlim(curve.steps[0], curve.steps[-1])
        axes.axvline(
            curve.chosen_step,
            color=COLOURS["mark"],
            linewidth=0.9,
            linestyle=":",
            gid="chosen-step",
        )
        axes.annotate(
            f"gradcalc's step $h = {_number(curve.chosen_step)}$",
            xy=(curve.chosen_step, 0.02),
            xycoords=("data", "axes fraction"),
            xytext=(-4, 0),
            textcoords="offset points",
            horizontalalignment="right",
            fontsize=8,
            color=COLOURS["mark"],
        )
        axes.set_xlabel("step $h$")
        axes.set_ylabel(f"total error $|\\tilde f'({curve.variable}) - f'({curve.variable})|$")
        at = f"{curve.variable} = {_number(curve.point[curve.variable])}"
        latex = _latex(curve.expression)
        title = f"$f({curve.variable}) = {latex}$ at ${at}$" if latex else ""
        axes.set_title(
            _math(title, f"f({curve.variable}) = {curve.expression} at {at}")
            if title
            else f"f({curve.variable}) = {curve.expression} at {at}"
        )
        # Past 100 times the derivative an estimate says nothing (float32's
        # five-point weights leave a residue that h = 1e-16 blows up).
        errors = np.concatenate([s.error for s in curve.series])
        low = np.nanmin(np.where(errors > 0, errors, np.nan))
        axes.set_ylim(max(low / 3, 1e-18), 100 * max(1.0, abs(curve.derivative)))
        axes.grid(True, which="major", linewidth=0.4, alpha=0.5)
        axes.legend(loc="lower left", fontsize=7, title="truncation, rounding slopes")
        figure.tight_layout()
        _save(figure, path, kind, replace)
        plt.close(figure)


FLAT = {"float64": "#bcbd22", "float32": "#7f7f7f"}  # shading of a flat stretch


def _flat_stretches(axes: Any, curve: ErrorCurve) -> None:
    """Shade, per dtype, the steps where every difference is exactly 0 (the
    error is |f′| itself there: a flat line), and say why in the legend."""
    for dtype, colour in FLAT.items():
        below = [s.flat_below for s in curve.series if s.dtype == dtype and s.flat_below]
        if below:
            # To halfway (in log h) to the next step: a stretch of one step shows.
            last = int(np.searchsorted(curve.steps, max(below)))
            upto = float(
                np.sqrt(curve.steps[last] * curve.steps[min(last + 1, curve.steps.size - 1)])
            )
            axes.axvspan(
                curve.steps[0],
                upto,
                color=colour,
                alpha=0.15,
                linewidth=0,
                gid=f"flat-{dtype}",
                label=f"{dtype}: $x \\pm h$ rounds to $x$, difference 0, error $= |f'|$",
            )


def _fitted(axes: Any, curve: ErrorCurve, series: Series, fit: Fit, gid: str) -> None:
    """The fitted power law over the range it was fitted on, thin and dotted."""
    if fit.slope is None:
        return
    inside = (curve.steps >= fit.low) & (curve.steps <= fit.high)
    inside &= np.isfinite(series.error) & (series.error > 0)
    if inside.sum() < 2:
        return
    h = curve.steps[inside]
    logs = np.log10(series.error[inside])
    intercept = np.mean(logs - fit.slope * np.log10(h))
    axes.loglog(
        h,
        10 ** (intercept + fit.slope * np.log10(h)),
        color="black",
        linewidth=0.6,
        alpha=0.6,
        gid=gid,
    )


def _save(figure: Any, path: str, kind: str, replace: bool) -> None:
    """The image written whole or not at all (see outfile.replacing), or
    whole to standard output."""
    if path in TO_STDOUT:
        import io

        image = io.BytesIO()
        figure.savefig(image, format=kind, metadata=METADATA[kind])
        write_stdout(image.getvalue())
        return
    with replacing(path, replace) as temporary:
        figure.savefig(temporary, format=kind, metadata=METADATA[kind])


__all__ = ["FORMATS", "error_curve", "function", "image_format", "prepare", "refuse_to_replace"]
