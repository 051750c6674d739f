"""The plot in the terminal, drawn with plotille (braille dots: 2×4 dots a
character cell, no dependency of its own). A view of `plotting.Plot` and
`fderror.ErrorCurve`: it returns a string; the CLI writes it once.

Colours only when asked (`color`: a terminal without NO_COLOR); the width
is the caller's (the terminal's COLUMNS)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .numbers import fmt

if TYPE_CHECKING:
    from ..fderror import ErrorCurve
    from ..plotting import Plot, PointsPlot

AXES = 14  # columns plotille adds left of its canvas (y tick labels), and
ARROW = 5  # right of it "-> (label)"
TICK_DIGITS = 4
MIN_WIDTH = 20

COLOURS = {
    "f": "cyan",
    "tangent": "yellow",
    "derivative": "magenta",
    "mark": "red",
    "taylor": "green",
}
MARKERS = {"point": "o", "corner": "^", "jump": "^", "undefined": "x"}


def _tick(low: float, high: float) -> str:
    if abs(low) < 1e-9 * abs(high - low):  # 0, off by rounding in plotille's steps
        low = 0.0
    return fmt(float(low), TICK_DIGITS)


class _Axes(NamedTuple):
    """What a figure spans, and its axes' labels."""

    x_limits: Sequence[float]
    y_limits: Sequence[float]
    x_label: str
    y_label: str


def _figure(width: int, height: int, color: bool, axes: _Axes) -> Any:
    import plotille

    figure = plotille.Figure()
    figure.width = max(MIN_WIDTH, width - AXES - ARROW - len(axes.x_label))
    figure.height = height
    figure.with_colors = color
    figure.origin = False
    figure.set_x_limits(min_=axes.x_limits[0], max_=axes.x_limits[1])
    figure.set_y_limits(min_=axes.y_limits[0], max_=axes.y_limits[1])
    figure.x_label, figure.y_label = axes.x_label, axes.y_label
    figure.x_ticks_fkt = figure.y_ticks_fkt = _tick
    figure.linesep = "\n"
    return figure


def _wrap(lines: list, width: int) -> list:
    """Legend lines folded to the width, continued under their text."""
    import textwrap

    folded = []
    for line in lines:
        folded.extend(textwrap.wrap(line, width, subsequent_indent="   ") or [""])
    return folded


def _visible(x: np.ndarray, y: np.ndarray, limits: Sequence[float]) -> list:
    """The parts of the polyline (x, y) inside limits[0] <= y <= limits[1],
    cut exactly where it leaves and enters. plotille rasterises a line dot by
    dot along its whole length, so a segment to y = 1e10 (near a pole of f′)
    would take forever; the drawing is the same."""
    low, high = limits
    runs: list = []
    current: list = []
    for x0, y0, x1, y1 in zip(x[:-1], y[:-1], x[1:], y[1:]):
        if y1 == y0:
            start, stop = (0.0, 1.0) if low <= y0 <= high else (1.0, 0.0)
        else:
            a, b = (low - y0) / (y1 - y0), (high - y0) / (y1 - y0)
            start, stop = max(0.0, min(a, b)), min(1.0, max(a, b))
        if start > stop:
            if current:
                runs.append(current)
            current = []
            continue
        first = (x0 + start * (x1 - x0), y0 + start * (y1 - y0))
        last = (x0 + stop * (x1 - x0), y0 + stop * (y1 - y0))
        if current and start == 0.0:
            current.append(last)
        else:
            if current:
                runs.append(current)
            current = [first, last]
        if stop < 1.0:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    if len(x) == 1 and low <= y[0] <= high:
        runs.append([(x[0], y[0])])
    return [([p[0] for p in run], [p[1] for p in run]) for run in runs]


def _draw(figure: Any, x: np.ndarray, y: np.ndarray, limits: Sequence[float], colour: str) -> None:
    x, y = np.asarray(x, float), np.asarray(y, float)
    shown = np.isfinite(x) & np.isfinite(y)  # a tangent near float64's end overflows
    for xs, ys in _visible(x[shown], y[shown], limits):
        figure.plot(xs, ys, lc=colour)


def _paint(text: str, colour: str, color: bool) -> str:
    if not color:
        return text
    import plotille

    return plotille.color(text, fg=colour, mode="names")


def function(plot: Plot, width: int = 80, color: bool = False, height: int = 16) -> str:
    """f with its tangent(s) at the point, the point and the marks; then f′
    in a panel of its own (when the plot has it); then a legend."""
    figure = _figure(width, height, color, _Axes(plot.window, plot.y_limits, plot.variable, "f"))
    for piece in plot.curve:
        _draw(figure, piece.x, piece.y, plot.y_limits, COLOURS["f"])
    for tangent in plot.tangents:
        x, y = tangent.line()
        _draw(figure, x, y, plot.y_limits, COLOURS["tangent"])
    if plot.taylor is not None:
        _draw(figure, plot.taylor.x, plot.taylor.y, plot.y_limits, COLOURS["taylor"])
    _marks(figure, plot)
    parts = [*_wrap([_title(plot)], width), figure.show()]
    if plot.derivative:
        from ..plotting import derivative_limits

        limits = derivative_limits(plot)
        axes = _Axes(plot.window, limits, plot.variable, "f'")
        lower = _figure(width, max(6, height // 2), color, axes)
        for piece in plot.derivative:
            _draw(lower, piece.x, piece.y, limits, COLOURS["derivative"])
        parts.append(lower.show())
    parts.append(_legend(plot, color, width))
    return _trimmed(parts)


def _trimmed(parts: list) -> str:
    """No trailing blanks (plotille pads its tick line)."""
    return "\n".join(line.rstrip() for line in "\n".join(parts).split("\n")) + "\n"


def _marks(figure: Any, plot: Plot) -> None:
    low, high = plot.y_limits
    for mark in plot.marks:
        y = min(max(0.0, low), high) if mark.kind == "undefined" else _value_near(plot, mark.x)
        if y is None:
            continue
        xs = [mark.x] if mark.stop is None else list(np.linspace(mark.x, mark.stop, 5))
        figure.scatter(xs, [y] * len(xs), lc=COLOURS["mark"], marker=MARKERS[mark.kind])
    if plot.value is not None:
        figure.scatter([plot.at], [plot.value], lc=COLOURS["mark"], marker=MARKERS["point"])


def _value_near(plot: Plot, x: float) -> float | None:
    for piece in plot.curve:
        if piece.x[0] <= x <= piece.x[-1] or np.isclose(piece.x[-1], x, atol=1e-12):
            return float(piece.y[np.argmin(np.abs(piece.x - x))])
    return None


def _title(plot: Plot) -> str:
    at = f"{plot.variable} = {fmt(plot.at)}"
    return f"f({plot.variable}) = {plot.label()}, around {at}"


def _legend(plot: Plot, color: bool, width: int = 80) -> str:
    entries = [("⠤⠤ f", COLOURS["f"])]
    for tangent in plot.tangents:
        side = "" if tangent.side == "both" else f" ({tangent.side}-sided)"
        entries.append((f"⠤⠤ tangent{side}: slope {fmt(tangent.slope)}", COLOURS["tangent"]))
    if plot.taylor is not None:
        curve = plot.taylor
        words = f"⠤⠤ Taylor polynomial, degree {curve.order}: P({plot.variable}) = {curve.shown}"
        if curve.status != "agree":
            words += f" ({curve.status}: {curve.reason})"
        entries.append((words, COLOURS["taylor"]))
    if plot.plane is not None:
        entries.append((f"tangent plane at the point: {plot.plane.equation()}", ""))
    if plot.value is not None:
        point = f"{MARKERS['point']}  the point ({fmt(plot.at)}, {fmt(plot.value)})"
        entries.append((point, COLOURS["mark"]))
    else:
        entries.append((f"f is undefined at {fmt(plot.at)}: no tangent", COLOURS["mark"]))
    if plot.derivative:
        entries.append((f"⠤⠤ f' = {plot.derivative_text}", COLOURS["derivative"]))
    for kind in sorted({m.kind for m in plot.marks}):
        where = ", ".join(fmt(m.x, TICK_DIGITS) for m in plot.marks if m.kind == kind)
        word = "undefined at" if kind == "undefined" else f"{kind} at"
        entries.append((f"{MARKERS[kind]}  {word} {where}", COLOURS["mark"]))
    entries.extend((note, "") for note in plot.notes)
    return "\n".join(
        _paint(line, colour, color and bool(colour))
        for text, colour in entries
        for line in _wrap([text], width)
    )


def error_curve(curve: ErrorCurve, width: int = 80, color: bool = False, height: int = 18) -> str:
    """log10 of the error against log10 h, one line per stencil and dtype,
    gradcalc's step marked; the fitted slopes listed under it."""
    series = [s for s in curve.series if s.stencil != "five_point" or s.dtype == "float64"]
    errors = np.concatenate([s.error for s in series])
    positive = errors[np.isfinite(errors) & (errors > 0)]
    low = math.floor(np.log10(positive.min())) if positive.size else -16
    high = math.ceil(np.log10(positive.max())) if positive.size else 0
    log_h = np.log10(curve.steps)
    axes = _Axes((log_h[0], log_h[-1]), (low, high), "log10 h", "log10 error")
    figure = _figure(width, height, color, axes)
    palette = {
        ("float64", "central"): "cyan",
        ("float64", "forward"): "blue",
        ("float64", "five_point"): "green",
        ("float32", "central"): "magenta",
        ("float32", "forward"): "yellow",
    }
    for s in series:
        keep = np.isfinite(s.error) & (s.error > 0)
        figure.plot(log_h[keep], np.log10(s.error[keep]), lc=palette[(s.dtype, s.stencil)])
    chosen = math.log10(curve.chosen_step)
    figure.plot([chosen, chosen], [low, high], lc=COLOURS["mark"])
    title = (
        f"error of finite differences of {curve.expression} in {curve.variable} at "
        f"{curve.variable} = {fmt(curve.point[curve.variable])}"
    )
    lines = [*_wrap([title], width), figure.show()]
    for s in series:
        fits = ", ".join(
            f"{fmt(f.slope, 3) if f.slope is not None else 'n/a'} (h^{fmt(f.expected, 2)})"
            for f in (s.truncation, s.rounding)
        )
        text = (
            f"⠤⠤ {s.stencil} {s.dtype}: least {fmt(s.best_error, 3)} at "
            f"h={fmt(s.best_step, 3)}; slopes {fits}"
        )
        lines.extend(_paint(t, palette[(s.dtype, s.stencil)], color) for t in _wrap([text], width))
    step_line = (
        f"|  gradcalc's step h = {fmt(curve.chosen_step, 3)} (five-point, float64): "
        f"error {fmt(curve.chosen_error, 3)}"
    )
    lines.extend(_paint(line, COLOURS["mark"], color) for line in _wrap([step_line], width))
    lines.extend(_wrap([f"note: {note}" for note in curve.notes], width))
    return _trimmed(lines)


def over_points(plot: PointsPlot, width: int = 80, color: bool = False, height: int = 16) -> str:
    """The derivative at each point of a file (o: the methods agree, x: not),
    over f′'s curve when f has one variable."""
    figure = _figure(width, height, color, _Axes(plot.window, plot.y_limits, plot.variable, "f'"))

    for piece in plot.curve or []:
        _draw(figure, piece.x, piece.y, plot.y_limits, COLOURS["derivative"])
    finite = np.isfinite(plot.derivative)
    agree = np.array([s == "agree" for s in plot.statuses]) & finite
    if agree.any():
        figure.scatter(plot.x[agree], plot.derivative[agree], lc=COLOURS["f"], marker="o")
    if (finite & ~agree).any():
        other = finite & ~agree
        figure.scatter(plot.x[other], plot.derivative[other], lc=COLOURS["mark"], marker="x")
    entries = [
        (f"o  d/d{plot.variable} at {len(plot.x)} points (x: the methods do not agree)", "f"),
    ]
    if plot.curve:
        entries.append((f"⠤⠤ f' = {plot.derivative_text}", "derivative"))
    if plot.outside:
        more = f"{plot.outside} more point{'s' if plot.outside > 1 else ''}"
        entries.append((f"   {more} outside --range, not drawn", "mark"))
    legend = [
        _paint(line, COLOURS[key], color) for text, key in entries for line in _wrap([text], width)
    ]
    title = f"f'({plot.variable}) of {plot.expression} at the points"
    return _trimmed([*_wrap([title], width), figure.show(), *legend])


__all__ = ["error_curve", "function", "over_points"]
