"""The plot as an image (SVG, PNG or PDF), drawn with matplotlib.

matplotlib is an optional extra (`pip install 'gradcalc[plot]'`), imported
only here, only when an image is asked for. The output is deterministic
(Agg, bundled DejaVu fonts at fixed sizes, a fixed SVG hash salt, no dates
or versions in the metadata), so a test can compare it with a reference
image. Every artist a reader looks for has a gid (an id in the SVG):
`curve-N`, `tangent-SIDE`, `point`, `derivative-N`, `mark-KIND-N`,
`error-DTYPE-STENCIL`, `chosen-step`.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UsageError
from ..outfile import refuse_to_replace, replacing

if TYPE_CHECKING:
    from ..fderror import ErrorCurve, Fit, Series
    from ..plotting import Plot


FORMATS = ("svg", "png", "pdf")
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
}


def image_format(path: str) -> str:
    """The format a file name asks for: its extension."""
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
                color=COLOURS["tangent"],
                linewidth=1.2,
                linestyle="--",
                gid=f"tangent-{tangent.side}",
                label=f"tangent{side}, slope ${_number(tangent.slope)}$",
            )
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
            from ..plotting import derivative_limits

            bottom = axes[1][0]
            for i, piece in enumerate(plot.derivative):
                bottom.plot(
                    piece.x,
                    piece.y,
                    color=COLOURS["derivative"],
                    linewidth=1.5,
                    gid=f"derivative-{i}",
                    label=f"$f'({plot.variable})$" if i == 0 else None,
                )
            bottom.set_ylim(*derivative_limits(plot))
            bottom.set_ylabel(f"$f'({plot.variable})$")
            bottom.grid(True, linewidth=0.4, alpha=0.5)
            bottom.legend(loc="best")
        axes[-1][0].set_xlabel(f"${plot.variable}$")
        figure.tight_layout()
        _save(figure, path, kind, replace)
        plt.close(figure)


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
    """The image written whole or not at all (see outfile.replacing)."""
    with replacing(path, replace) as temporary:
        figure.savefig(temporary, format=kind, metadata=METADATA[kind])


__all__ = ["FORMATS", "error_curve", "function", "image_format", "prepare", "refuse_to_replace"]
