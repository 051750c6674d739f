"""plot, diff --plot and plot --fd-error: the data model, the terminal view,
the images, as a reader would check them."""

from __future__ import annotations

import math
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import HANG_GUARD_SECONDS, ROOT, run_subprocess, validate

from gradcalc import fderror, plotting, pointsfile
from gradcalc.render import plot as terminal

REFERENCES = Path(__file__).resolve().parent / "plots"
NO_COLOR = {"NO_COLOR": "1", "COLUMNS": "80"}
# Images are compared as matplotlib compares its own: RMS of the pixel
# difference, 0-255. Anti-aliasing may move between FreeType builds; a
# missing tangent or a shifted curve costs far more than this.
IMAGE_TOLERANCE = 2.0


def _slope(tangent) -> float:
    x, y = tangent.line()
    return float((y[1] - y[0]) / (x[1] - x[0]))


# --- the data model -------------------------------------------------------


def test_the_drawn_tangent_has_the_derivative_as_slope():
    plot = plotting.build("sin(x**2)", ["3"])
    (tangent,) = plot.tangents
    # d/dx sin(x²) = 2x cos(x²), by hand, at 3.
    assert _slope(tangent) == pytest.approx(6 * math.cos(9), rel=1e-12)
    x, y = tangent.line()
    assert np.interp(3.0, x, y) == pytest.approx(math.sin(9), rel=1e-12)
    assert (tangent.start, tangent.stop) == plot.window == (1.0, 5.0)
    assert plot.value == pytest.approx(math.sin(9), rel=1e-15)


def test_the_curve_is_f_and_the_derivative_panel_is_f_prime():
    plot = plotting.build("sin(x**2)", ["3"])
    (piece,) = plot.curve
    np.testing.assert_allclose(piece.y, np.sin(piece.x**2), rtol=0, atol=1e-15)
    (slopes,) = plot.derivative
    np.testing.assert_allclose(slopes.y, 2 * slopes.x * np.cos(slopes.x**2), atol=1e-12)
    assert plot.derivative_text == "2*x*cos(x**2)"


@pytest.mark.parametrize("window", [(-1.0, 1.0), (-1.0, 1.3), (-0.77, 2.1)])
def test_one_over_x_has_no_segment_across_zero(window):
    """Whether or not 0 is a sample, no piece of the line crosses it."""
    plot = plotting.build("1/x", ["0.5"], window=window)
    assert len(plot.curve) == 2
    for piece in plot.curve:
        assert np.all(piece.x < 0) or np.all(piece.x > 0)
    assert len(plot.derivative) == 2
    for piece in plot.derivative:
        assert np.all(piece.x < 0) or np.all(piece.x > 0)
    (mark,) = plot.marks
    assert mark.kind == "undefined" and abs(mark.x) < 0.01


@pytest.mark.parametrize("expression", ["1/x**2", "1/abs(x)", "-1/x**4"])
def test_an_even_pole_between_samples_breaks_the_line(expression):
    """f on one side of the chart on both sides of the pole: the midpoint
    stays between its neighbours, yet no line crosses 0."""
    plot = plotting.build(expression, ["0.5"], window=(-1.0, 1.3))
    assert len(plot.curve) == 2
    for piece in plot.curve:
        assert np.all(piece.x < 0) or np.all(piece.x > 0)


def test_a_pole_between_samples_breaks_the_line():
    plot = plotting.build("tan(x)", ["1"], window=(0.0, 3.0))
    assert len(plot.curve) == 2
    left, right = plot.curve
    assert left.x[-1] < math.pi / 2 < right.x[0]
    (mark,) = plot.marks
    assert mark.kind == "undefined" and mark.x == pytest.approx(math.pi / 2, abs=1e-4)


def test_a_fast_oscillation_is_not_taken_for_poles():
    """sin(1/x) near 0 swings faster than the samples, but stays on the chart:
    drawn as sampled, nothing marked undefined."""
    plot = plotting.build("sin(1/x)", ["0.1"], window=(-1.0, 1.3))
    assert [m for m in plot.marks if m.kind == "undefined"] == []
    assert len(plot.curve) == 1


def test_the_terminal_draws_only_what_is_on_the_chart():
    """A segment to f′ = 1e10 is cut where it leaves the chart (plotille
    would rasterise all of it, dot by dot)."""
    runs = terminal._visible(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1e10, 0.5]), (-1.0, 1.0))
    assert len(runs) == 2
    assert runs[0] == ([0.0, pytest.approx(1e-10, rel=1e-9)], [0.0, 1.0])
    assert runs[1] == ([pytest.approx(2.0 - 0.5e-10, rel=1e-12), 2.0], [1.0, 0.5])
    assert terminal._visible(np.array([0.0, 1.0]), np.array([5.0, 6.0]), (-1.0, 1.0)) == []


def test_abs_at_zero_has_both_one_sided_tangents():
    plot = plotting.build("abs(x)", ["0"])
    assert plot.status == "not_differentiable"
    sides = {t.side: t for t in plot.tangents}
    assert set(sides) == {"left", "right"}
    assert _slope(sides["left"]) == -1.0 and _slope(sides["right"]) == 1.0
    assert sides["left"].stop == 0.0 and sides["right"].start == 0.0
    assert [(m.kind, m.x) for m in plot.marks] == [("corner", 0.0)]
    # Two pieces that meet at the corner, within a few ulps.
    left, right = plot.curve
    assert left.x[-1] < 0 < right.x[0] and right.x[0] - left.x[-1] < 1e-300


def test_relu_at_zero_tangents_are_zero_and_one():
    plot = plotting.build("relu(x)", ["0"])
    assert sorted(_slope(t) for t in plot.tangents) == [0.0, 1.0]


def test_a_jump_is_marked_and_not_joined():
    plot = plotting.build("sign(x - 1/3)", ["1"])
    assert [m.kind for m in plot.marks] == ["jump"]
    assert plot.marks[0].x == pytest.approx(1 / 3, abs=1e-12)
    left, right = plot.curve
    assert np.all(left.y == -1.0) and np.all(right.y == 1.0)


def test_log_is_undefined_left_of_zero_and_so_is_its_derivative():
    plot = plotting.build("log(x)", ["1"])
    (mark,) = plot.marks
    assert (mark.kind, mark.x, mark.stop) == ("undefined", -1.0, 0.0)
    assert all(np.all(p.x > 0) for p in plot.curve + plot.derivative)


def test_several_variables_slice_along_wrt():
    plot = plotting.build("x**2*y", ["x=3,y=2"], wrt=["y"])
    assert plot.variable == "y" and plot.point == {"x": 3.0, "y": 2.0}
    (piece,) = plot.curve
    np.testing.assert_allclose(piece.y, 9 * piece.x, rtol=1e-15)
    assert _slope(plot.tangents[0]) == pytest.approx(9.0, rel=1e-14)


def test_undefined_at_the_point_draws_no_tangent():
    plot = plotting.build("1/x", ["0"], window=(-1.0, 1.0))
    assert plot.value is None and plot.tangents == [] and plot.status == "undefined"


# --- the terminal ---------------------------------------------------------


def test_terminal_plot_at_80_columns_without_colour(cli):
    run = cli("plot", "sin(x**2)", "--at", "3", env=NO_COLOR)
    assert run.exit_code == 0
    expected = (REFERENCES / "sin_x2_at_3.txt").read_text(encoding="utf-8")
    assert run.stdout == expected
    assert "\x1b" not in run.stdout
    assert max(len(line) for line in run.stdout.splitlines()) <= 80


@pytest.mark.parametrize("columns", [50, 80, 132])
def test_terminal_plot_fits_columns(cli, columns):
    for args in (["sin(x**2)", "--at", "3"], ["sin(x)", "--at", "1", "--fd-error"]):
        run = cli("plot", *args, env={"NO_COLOR": "1", "COLUMNS": str(columns)})
        assert run.exit_code == 0, run.stderr
        widths = [len(line) for line in run.stdout.splitlines()]
        assert max(widths) <= columns
        assert max(widths) >= columns - 6  # and uses the width


def test_colours_only_when_asked(monkeypatch):
    plot = plotting.build("sin(x)", ["1"])
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")  # plotille's own check of the terminal
    assert "\x1b[" in terminal.function(plot, 80, color=True)
    assert "\x1b[" not in terminal.function(plot, 80, color=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in terminal.function(plot, 80, color=True)


def _on_a_terminal(args: list, no_color: bool) -> bytes:
    """The real CLI with a pseudo-terminal as stdout."""
    import os
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout is the terminal
        os.environ.pop("NO_COLOR", None)
        os.environ.pop("FORCE_COLOR", None)
        if no_color:
            os.environ["NO_COLOR"] = "1"
        os.execv(sys.executable, [sys.executable, "-m", "gradcalc", *args])
    output = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    return output


@pytest.mark.slow
def test_colours_on_a_terminal_and_none_under_no_color():
    coloured = _on_a_terminal(["plot", "sin(x)", "--at", "1"], no_color=False)
    assert b"tangent: slope" in coloured and b"\x1b[" in coloured
    plain = _on_a_terminal(["plot", "sin(x)", "--at", "1"], no_color=True)
    assert b"tangent: slope" in plain and b"\x1b[" not in plain


def test_terminal_legend_names_both_one_sided_tangents(cli):
    run = cli("plot", "abs(x)", "--at", "0", env=NO_COLOR)
    assert run.exit_code == 1  # not differentiable there, as diff says
    assert "tangent (left-sided): slope -1\n" in run.stdout
    assert "tangent (right-sided): slope 1\n" in run.stdout
    assert "^  corner at 0\n" in run.stdout


def test_undefined_point_is_drawn_and_exits_3(cli):
    run = cli("plot", "1/x", "--at", "0", "--range", "-1:1", env=NO_COLOR)
    assert run.exit_code == 3
    assert "f is undefined at 0: no tangent" in run.stdout


def test_diff_plot_puts_the_plot_under_the_table(cli):
    run = cli("diff", "sin(x**2)", "--at", "3", "--plot", env=NO_COLOR)
    assert run.exit_code == 0
    table, _, plot = run.stdout.partition("\nf(x) = sin(x**2), around x = 3\n")
    assert "SymPy (symbolic, 30 digits)" in table and "finite differences agree" in table
    assert "⠤⠤ tangent: slope -5.466781571\n" in plot


def test_diff_plot_with_several_variables_needs_wrt(cli):
    run = cli("diff", "x*y", "--at", "x=1,y=2", "--plot", env=NO_COLOR)
    assert run.exit_code == 2
    assert run.stderr == (
        "gradcalc: error: --wrt must name the one variable to draw along: one of x, y\n"
    )
    run = cli("diff", "x*y", "--at", "x=1,y=2", "--plot", "--wrt", "y", env=NO_COLOR)
    assert run.exit_code == 0 and "⠤⠤ tangent: slope 1\n" in run.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["diff", "x", "--at", "1", "--plot", "--order", "2"], "--plot draws the first"),
        (["diff", "x", "--at", "1", "--plot", "--json"], "are text under the table"),
        (["plot", "x", "--at", "1", "--range", "2:1"], "--range '2:1': needs finite a < b"),
        (["plot", "x", "--at", "1", "--range", "1"], "--range '1' is not a range a:b"),
        (["plot", "x", "--at", "1", "-o", "x.gif"], "must end in .svg, .png or .pdf"),
        (["plot", "x", "--at", "x=[1,2]"], "--at plots scalar variables only"),
    ],
)
def test_bad_plot_options_exit_2_with_one_line(cli, args, message):
    run = cli(*args, env=NO_COLOR)
    assert run.exit_code == 2
    assert message in run.stderr and run.stderr.count("\n") == 1


def test_plot_over_points_draws_each_derivative(cli, tmp_path):
    source = tmp_path / "points.csv"
    source.write_text("x\n-1\n0.5\n2\n")
    from gradcalc import pointsfile

    drawn = plotting.over_points("x**3", pointsfile.read(source.read_text()))
    np.testing.assert_allclose(drawn.derivative, 3 * np.array([-1.0, 0.5, 2.0]) ** 2)
    assert drawn.window == (-1.0, 2.0) and drawn.statuses == ["agree"] * 3
    run = cli("plot", "x**3", "--points", str(source), env=NO_COLOR)
    assert run.exit_code == 0
    assert "o  d/dx at 3 points" in run.stdout and "⠤⠤ f' = 3*x**2" in run.stdout


def test_plot_json_is_the_drawn_data(cli):
    run = cli("plot", "abs(x)", "--at", "0", "--range", "-1:1", "--json", env=NO_COLOR)
    assert run.exit_code == 1
    validate(run.json, "plot.schema.json")
    document = run.json
    assert document["status"] == "not_differentiable" and document["window"] == [-1.0, 1.0]
    assert [(t["side"], t["slope"]) for t in document["tangents"]] == [
        ("left", -1.0),
        ("right", 1.0),
    ]
    assert [len(p["x"]) for p in document["curve"]] == [401, 401]
    assert document["marks"] == [{"kind": "corner", "x": 0.0, "to": None}]


# --- the finite-difference error curve ---------------------------------------


def test_fd_error_of_sin_at_1(cli):
    run = cli("plot", "sin(x)", "--at", "1", "--fd-error", "--json", env=NO_COLOR)
    assert run.exit_code == 0
    validate(run.json, "fd_error.schema.json")
    series = {(s["dtype"], s["stencil"]): s for s in run.json["series"]}
    central = series[("float64", "central")]
    # Truncation h²/6·|cos 1| meets rounding eps/h near h = (3 eps)^(1/3) ≈ 1e-5.
    assert 10**-5.75 <= central["best_step"] <= 10**-4.25
    assert central["best_error"] < 1e-10
    assert central["truncation"]["slope"] == pytest.approx(2.0, abs=0.1)
    assert central["rounding"]["slope"] == pytest.approx(-1.0, abs=0.2)
    forward = series[("float64", "forward")]
    assert forward["truncation"]["slope"] == pytest.approx(1.0, abs=0.1)
    assert 1e-9 <= forward["best_step"] <= 1e-7  # sqrt(eps)
    assert series[("float64", "five_point")]["truncation"]["slope"] == pytest.approx(4, abs=0.2)
    # float32 rounds 2^29 times coarser: its best central step is far larger.
    assert 1e-3 <= series[("float32", "central")]["best_step"] <= 1e-1
    assert run.json["derivative"] == pytest.approx(math.cos(1), rel=1e-15)
    # The error at each step is what the stencil gives, computed here by hand.
    steps = np.array(run.json["steps"])
    by_hand = np.abs((np.sin(1 + steps) - np.sin(1 - steps)) / (2 * steps) - math.cos(1))
    np.testing.assert_allclose(central["error"], by_hand, rtol=1e-6, atol=1e-17)
    chosen = run.json["chosen_step"]
    assert chosen["step"] == pytest.approx(np.finfo(float).eps ** 0.2 * max(1.0, math.log1p(1)))


def test_fd_error_needs_one_finite_derivative(cli):
    # (at a kink it is diff's verdict, not differentiable: test_plot_fd_kinks.py)
    run = cli("plot", "sqrt(x)", "--at", "0", "--fd-error", "--json", env=NO_COLOR)
    assert run.exit_code == 3 and run.json["error"]["kind"] == "domain"


def test_fd_error_terminal_lists_the_fitted_slopes(cli):
    run = cli("plot", "sin(x)", "--at", "1", "--fd-error", env=NO_COLOR)
    assert run.exit_code == 0
    assert "⠤⠤ central float64: least 6.01e-13 at h=3.16e-06; slopes 2 (h^2), -1.02 (h^-1)" in (
        run.stdout
    )
    assert "|  gradcalc's step h = 0.00074 (five-point, float64)" in run.stdout


def test_float32_errors_come_from_float32_arithmetic():
    curve = fderror.curve("exp(x)", ["0.5"])
    series = {(s.dtype, s.stencil): s for s in curve.series}
    x, h = np.float32(0.5), np.float32(1e-3)
    by_hand = (np.exp(x + h) - np.exp(x - h)) / (np.float32(2) * h)
    index = int(np.argmin(np.abs(curve.steps - 1e-3)))
    assert series[("float32", "central")].error[index] == pytest.approx(
        abs(float(by_hand) - math.exp(0.5)), rel=1e-6
    )


# --- images -------------------------------------------------------------------


def _compare(tmp_path, name, draw):
    from matplotlib.testing.compare import compare_images

    actual = tmp_path / name
    draw(str(actual))
    result = compare_images(str(REFERENCES / name), str(actual), tol=IMAGE_TOLERANCE)
    assert result is None, result


def test_png_of_sin_x2_matches_the_reference(tmp_path):
    from gradcalc.render import image

    _compare(
        tmp_path, "sin_x2_at_3.png", lambda p: image.function(plotting.build("sin(x**2)", ["3"]), p)
    )


def test_png_of_abs_matches_the_reference(tmp_path):
    from gradcalc.render import image

    _compare(
        tmp_path,
        "abs_at_0.png",
        lambda p: image.function(plotting.build("abs(x)", ["0"], window=(-1.0, 1.0)), p),
    )


def test_png_of_the_error_curve_matches_the_reference(tmp_path):
    from gradcalc.render import image

    _compare(
        tmp_path,
        "fd_error_sin_at_1.png",
        lambda p: image.error_curve(fderror.curve("sin(x)", ["1"]), p),
    )


def test_a_different_picture_fails_the_comparison(tmp_path):
    """The comparison can fail: a plot without its tangent is not the reference."""
    from matplotlib.testing.compare import compare_images

    from gradcalc.render import image

    plot = plotting.build("sin(x**2)", ["3"])
    plot.tangents = []
    image.function(plot, str(tmp_path / "no_tangent.png"))
    result = compare_images(
        str(REFERENCES / "sin_x2_at_3.png"), str(tmp_path / "no_tangent.png"), tol=IMAGE_TOLERANCE
    )
    assert result is not None


def test_svg_holds_curve_tangent_and_point(cli, tmp_path):
    out = tmp_path / "plot.svg"
    run = cli("plot", "1/x", "--at", "0.5", "--range", "-1:1", "--output", str(out), env=NO_COLOR)
    assert run.exit_code == 0 and run.stdout == ""
    root = ET.parse(out).getroot()
    ids = {element.get("id") for element in root.iter()}
    assert {
        "curve-0",
        "curve-1",
        "tangent-both",
        "point",
        "derivative-0",
        "mark-undefined-0",
    } <= ids
    assert "curve-2" not in ids  # two pieces, one on each side of 0
    text = out.read_text()
    assert "<dc:date>" not in text  # no dates: the same plot gives the same file


def test_svg_of_abs_holds_both_tangents(cli, tmp_path):
    out = tmp_path / "abs.svg"
    run = cli("plot", "abs(x)", "--at", "0", "-o", str(out), env=NO_COLOR)
    assert run.exit_code == 1
    ids = {element.get("id") for element in ET.parse(out).getroot().iter()}
    assert {"tangent-left", "tangent-right", "mark-corner-0", "point"} <= ids


def test_images_are_deterministic(tmp_path):
    from gradcalc.render import image

    plot = plotting.build("sin(x)", ["1"])
    for kind in ("svg", "png", "pdf"):
        first, second = tmp_path / f"a.{kind}", tmp_path / f"b.{kind}"
        image.function(plot, str(first))
        image.function(plot, str(second))
        assert first.read_bytes() == second.read_bytes(), kind


def test_fd_error_image(cli, tmp_path):
    out = tmp_path / "error.svg"
    run = cli("plot", "sin(x)", "--at", "1", "--fd-error", "-o", str(out), env=NO_COLOR)
    assert run.exit_code == 0
    ids = {element.get("id") for element in ET.parse(out).getroot().iter()}
    assert {"error-float64-central", "error-float32-central", "chosen-step"} <= ids
    assert "fit-float64-central-truncation" in ids and "fit-float64-central-rounding" in ids


def test_missing_matplotlib_is_one_line_naming_the_extra(cli, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    run = cli("plot", "x", "--at", "1", "-o", str(tmp_path / "x.png"), env=NO_COLOR)
    assert run.exit_code == 2
    assert run.stderr == (
        "gradcalc: error: --output images need matplotlib: pip install 'gradcalc[plot]'\n"
    )
    assert not (tmp_path / "x.png").exists()


def test_help_and_terminal_plot_do_not_import_matplotlib():
    code = (
        "import sys\n"
        "from gradcalc.cli import app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['plot', '--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = ('plotille', 'matplotlib', 'sympy', 'torch')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "r = CliRunner().invoke(app, ['plot', 'x', '--at', '1'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('plotille', 'matplotlib', 'torch') if m in sys.modules))\n"
    )
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=HANG_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n['plotille']\n"


def test_real_process_plot(tmp_path):
    run = run_subprocess("plot", "x**2", "--at", "1", env={"NO_COLOR": "1", "COLUMNS": "80"})
    assert run.returncode == 0, run.stderr
    assert "⠤⠤ tangent: slope 2\n" in run.stdout


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_path_that_names_no_writable_file_is_exit_2(tmp_path, cli):
    # A path that names no file is the user's to fix: exit 2 (a full disk is
    # exit 74: test_a_write_that_fails_leaves_the_old_file_as_it_was).
    missing = cli("plot", "x", "--at", "1", "--output", str(tmp_path / "no" / "a.svg"))
    assert missing.exit_code == 2
    long = cli("plot", "x", "--at", "1", "--output", str(tmp_path / ("a" * 300 + ".svg")))
    assert long.exit_code == 2 and "too long" in long.stderr


# --output writes one file, whole or not at all, and replaces only when asked.


def _plot_to(cli, path, *extra):
    return cli("plot", "sin(x)", "--at", "1", "--output", str(path), *extra)


def test_an_existing_file_is_replaced_only_with_force(cli, tmp_path):
    target = tmp_path / "f.svg"
    target.write_text("mine")
    run = _plot_to(cli, target)
    assert run.exit_code == 2 and "exists: add --force to replace it" in run.stderr
    assert target.read_text() == "mine"
    run = _plot_to(cli, target, "--force")
    assert run.exit_code == 0 and target.read_text().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.svg"]  # no temporary left


def test_a_symbolic_link_is_never_written_through(cli, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("secret")
    link = tmp_path / "link.svg"
    link.symlink_to(victim)
    run = _plot_to(cli, link)
    assert run.exit_code == 2 and "is a symbolic link" in run.stderr
    run = _plot_to(cli, link, "--force")  # the link itself is replaced
    assert run.exit_code == 0
    assert victim.read_text() == "secret" and not link.is_symlink()
    dangling = tmp_path / "dangling.svg"
    dangling.symlink_to(tmp_path / "nowhere.svg")
    run = _plot_to(cli, dangling)
    assert run.exit_code == 2 and not (tmp_path / "nowhere.svg").exists()


def test_a_write_that_fails_leaves_the_old_file_as_it_was(cli, tmp_path, monkeypatch):
    import errno

    from matplotlib.figure import Figure

    def full_disk(self, path, **options):
        Path(path).write_text("<svg partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    target = tmp_path / "f.svg"
    target.write_text("the old image")
    run = _plot_to(cli, target, "--force")
    assert run.exit_code == 74 and "No space left on device" in run.stderr
    assert target.read_text() == "the old image"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.svg"]


# Ordinary input near float64's ends: an answer or a clear one-line error,
# never exit 70 (each of these raised inside numpy, plotille or json).
NEAR_THE_ENDS = [
    (("plot", "exp(x)", "--at", "100", "--fd-error"), 3, "not finite in float32"),
    (("plot", "exp(x)", "--at", "100", "--fd-error", "--json"), 3, "not finite in float32"),
    (("plot", "x", "--at", "0", "--range", "-1e308:1e308"), 2, "wider than float64"),
    (("plot", "x", "--at", "0", "--range", "-1e308:1e308", "--json"), 2, "wider than float64"),
    (("plot", "x*y", "--at", "x=1,y=1e308", "--wrt", "x", "--json"), 2, "wider than float64"),
    (("plot", "x**2", "--at", "1e154"), 0, "undefined at"),
    (("diff", "x**2", "--at", "1e154", "--plot"), 0, "undefined at"),
]


@pytest.mark.parametrize(("args", "code", "words"), NEAR_THE_ENDS)
def test_near_float64s_ends_a_plot_answers_or_says_why(cli, args, code, words):
    run = cli(*args)
    assert run.exit_code == code, run.stderr
    assert words in run.stdout + run.stderr
    assert "internal error" not in run.stderr


def test_where_x_squared_leaves_float64_is_marked_undefined(cli):
    """The mark sits where x**2 passes float64's largest: x = sqrt(max)."""
    import math

    document = cli("plot", "x**2", "--at", "1e154", "--json").json
    (mark,) = [m for m in document["marks"] if m["kind"] == "undefined"]
    edge = math.sqrt(sys.float_info.max)
    spacing = (document["window"][1] - document["window"][0]) / 400
    assert abs(mark["x"] - edge) <= spacing


# --- field reports: kinks, the f′ panel, flat stretches, windows --------------


def _svg_elements(path):
    """Every element of an SVG with an id, in drawing order (later is on top)."""
    return [e for e in ET.parse(path).getroot().iter() if e.get("id")]


def _stroke(element) -> tuple:
    """(colour, dashes) of the first stroked path inside an element."""
    for path in element.iter("{http://www.w3.org/2000/svg}path"):
        pairs = [part.split(":", 1) for part in (path.get("style") or "").split(";")]
        style = {key.strip(): value.strip() for key, value in (p for p in pairs if len(p) == 2)}
        if "stroke" in style:
            return style["stroke"], style.get("stroke-dasharray", "")
    return None, None


def test_the_one_sided_tangents_read_apart_and_lie_above_f(cli, tmp_path):
    out = tmp_path / "abs.svg"
    run = cli("plot", "abs(x)", "--at", "0", "--range", "-1:1", "-o", str(out), env=NO_COLOR)
    assert run.exit_code == 1
    elements = _svg_elements(out)
    order = {e.get("id"): i for i, e in enumerate(elements)}
    by_id = {e.get("id"): e for e in elements}
    left, right, curve = (_stroke(by_id[n]) for n in ("tangent-left", "tangent-right", "curve-0"))
    assert left[0] != right[0] and left[1] != right[1]  # colour and dashes both differ
    assert curve[0] not in (left[0], right[0])
    # Drawn after (above) every piece of f, which they touch all along.
    assert min(order["tangent-left"], order["tangent-right"]) > max(
        order[n] for n in order if n.startswith("curve-")
    )
    assert "legend_1" in order  # the legend names them


def test_the_derivative_panel_has_a_zero_line_and_the_point(cli, tmp_path):
    out = tmp_path / "abs.svg"
    cli("plot", "abs(x)", "--at", "0", "-o", str(out), env=NO_COLOR)
    ids = {e.get("id") for e in _svg_elements(out)}
    assert {"derivative-zero", "derivative-point-left", "derivative-point-right"} <= ids
    out = tmp_path / "sin.svg"
    cli("plot", "sin(x**2)", "--at", "3", "-o", str(out), env=NO_COLOR)
    ids = {e.get("id") for e in _svg_elements(out)}
    assert {"derivative-zero", "derivative-point-both"} <= ids


def test_fd_error_explains_float32s_flat_stretch(cli, tmp_path):
    run = cli("plot", "sin(x)", "--at", "1", "--fd-error", "--json", env=NO_COLOR)
    validate(run.json, "fd_error.schema.json")
    steps = np.array(run.json["steps"])
    central = next(
        s for s in run.json["series"] if (s["dtype"], s["stencil"]) == ("float32", "central")
    )
    # By hand in float32: every difference is exactly 0 up to flat_below, not past it.
    x, h = np.float32(1), steps.astype(np.float32)
    differences = np.sin(x + h) - np.sin(x - h)
    last = int(np.flatnonzero(steps == central["flat_below"])[0])
    assert np.all(differences[: last + 1] == 0) and differences[last + 1] != 0
    np.testing.assert_array_equal(central["error"][: last + 1], math.cos(1))
    assert h[last] < np.spacing(np.float32(1))  # under float32's spacing at 1
    (note,) = [n for n in run.json["notes"] if n.startswith("float32")]
    forward = next(
        s for s in run.json["series"] if (s["dtype"], s["stencil"]) == ("float32", "forward")
    )
    assert note.startswith(
        f"float32: every difference is exactly 0 at h <= {central['flat_below']:.3g} (central), "
        f"{forward['flat_below']:.3g} (forward) "
    )
    assert "float32's spacing at 1, 1.19e-07" in note and "|f'| = 0.54" in note
    text = cli("plot", "sin(x)", "--at", "1", "--fd-error", env=NO_COLOR).stdout
    assert " ".join(f"note: {note}".split()) in " ".join(text.split())  # folded at 80
    out = tmp_path / "error.svg"
    cli("plot", "sin(x)", "--at", "1", "--fd-error", "-o", str(out), env=NO_COLOR)
    assert "flat-float32" in {e.get("id") for e in _svg_elements(out)}


def test_fd_error_without_a_flat_stretch_has_no_note(cli):
    run = cli("plot", "x**2", "--at", "0.001", "--fd-error", "--range", "1e-3:1", "--json")
    assert run.exit_code == 0 and run.json["notes"] == []
    assert all(s["flat_below"] is None for s in run.json["series"])


def test_fd_error_honours_range_as_the_steps(cli):
    run = cli("plot", "sin(x)", "--at", "1", "--fd-error", "--range", "1e-8:1e-2", "--json")
    assert run.exit_code == 0
    validate(run.json, "fd_error.schema.json")
    steps = np.array(run.json["steps"])
    assert steps.size == 61 and steps[0] == pytest.approx(1e-8, rel=1e-12)
    assert steps[-1] == pytest.approx(1e-2, rel=1e-12)
    central = next(
        s for s in run.json["series"] if (s["dtype"], s["stencil"]) == ("float64", "central")
    )
    by_hand = np.abs((np.sin(1 + steps) - np.sin(1 - steps)) / (2 * steps) - math.cos(1))
    np.testing.assert_allclose(central["error"], by_hand, rtol=1e-6, atol=1e-17)


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["plot", "x", "--at", "5", "--range", "-1:1"],
            "gradcalc: error: --range -1:1 leaves out the point x=5: a window must hold "
            "the point (widen it, or move --at)\n",
        ),
        (
            ["plot", "sin(x)", "--at", "1", "--fd-error", "--range", "-1:1"],
            "gradcalc: error: --range with --fd-error the range is the step h's: needs "
            "0 < a < b (e.g. 1e-12:1), not -1:1\n",
        ),
        (
            ["plot", "sin(x)", "--at", "1", "--fd-error", "--range", "1e-300:1e300"],
            "gradcalc: error: --range with --fd-error the range of h spans at most 64 decades "
            "(the default, 1e-16:1, spans 16), not 600\n",
        ),
    ],
)
def test_a_window_that_cannot_be_drawn_is_exit_2(cli, args, line):
    run = cli(*args, env=NO_COLOR)
    assert run.exit_code == 2 and run.stderr == line
    run = cli(*args, "--json", env=NO_COLOR)
    assert run.exit_code == 2 and run.json["error"]["kind"] == "usage"


# -- plot --taylor N and the tangent plane (issue 30) ---------------------------


def test_taylor_overlay_is_the_polynomial_over_the_window(cli):
    import math

    run = cli("plot", "exp(x)", "--at", "0", "--taylor", "3", "--range", "-2:2", "--json")
    assert run.exit_code == 0
    document = run.json
    validate(document, "plot.schema.json")
    overlay = document["taylor"]
    assert overlay["order"] == 3 and overlay["status"] == "agree"
    assert overlay["polynomial"] == "1 + x + 0.5*x**2 + 0.16666666666666666*x**3"
    (piece,) = overlay["pieces"]
    for x, y in zip(piece["x"][::50], piece["y"][::50]):
        assert abs(y - (1 + x + x**2 / 2 + x**3 / 6)) <= 1e-12 * max(1.0, abs(y))
    assert piece["x"][0] == -2.0 and piece["x"][-1] == 2.0
    assert not math.isclose(piece["y"][0], math.exp(-2.0))  # P, not f, far from 0


def test_taylor_overlay_text_names_the_polynomial(cli):
    run = cli("plot", "sin(x)", "--at", "0", "--taylor", "3")
    assert run.exit_code == 0
    assert "Taylor polynomial, degree 3: P(x) = x - 0.1666666667*x**3" in run.stdout


def test_taylor_overlay_is_drawn_in_the_image(cli, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "taylor.svg"
    run = cli("plot", "cos(x)", "--at", "0", "--taylor", "4", "--output", str(path))
    assert run.exit_code == 0
    assert 'id="taylor"' in path.read_text()


def test_taylor_not_with_fd_error(cli):
    assert cli("plot", "sin(x)", "--at", "0", "--taylor", "2", "--fd-error").exit_code == 2


def test_tangent_plane_of_two_variables(cli):
    import math

    run = cli("plot", "x**2*y + sin(y)", "--at", "x=1,y=2", "--wrt", "x", "--json")
    document = run.json
    validate(document, "plot.schema.json")
    plane = document["tangent_plane"]
    value = 2 + math.sin(2)
    assert plane["value"] == pytest.approx(value, rel=1e-15)
    assert plane["gradient"]["x"] == 4.0  # 2xy by hand
    assert plane["gradient"]["y"] == pytest.approx(1 + math.cos(2), rel=1e-15)  # x**2 + cos y
    assert plane["equation"] == (
        f"z = {plane['value']!r} + 4*(x - 1) + {plane['gradient']['y']!r}*(y - 2)"
    )
    text = cli("plot", "x**2*y + sin(y)", "--at", "x=1,y=2", "--wrt", "x").stdout
    assert "tangent plane at the point: z = 2.909297427 + 4*(x - 1) + 0.5838531635*(y - 2)" in text


def test_no_tangent_plane_for_one_variable_or_at_a_kink(cli):
    assert "tangent_plane" not in cli("plot", "sin(x)", "--at", "1", "--json").json
    kinked = cli("plot", "abs(x) + y", "--at", "x=0,y=1", "--wrt", "y", "--json").json
    assert "tangent_plane" not in kinked


def test_taylor_overlay_where_f_is_undefined_is_a_note(cli):
    run = cli("plot", "log(x)", "--at", "0", "--range", "-1:2", "--taylor", "2")
    assert run.exit_code == 3  # the plot's own verdict: f is undefined at the point
    assert "no Taylor polynomial: log(x) is infinite (the logarithm of 0) at x=0.0" in run.stdout


def test_plot_over_points_honours_range(cli, tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x\n-3\n-1\n0.5\n1\n4\n")
    drawn = plotting.over_points("x**2", pointsfile.read(points.read_text(), "p"), window=(-2, 2))
    assert drawn.window == (-2, 2) and drawn.outside == 2
    np.testing.assert_array_equal(drawn.x, [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(drawn.derivative, [-2.0, 1.0, 2.0])  # 2x, by hand
    run = cli("plot", "x**2", "--points", str(points), "--range", "-2:2", env=NO_COLOR)
    assert run.exit_code == 0
    assert "o  d/dx at 3 points" in run.stdout
    assert "2 more points outside --range, not drawn" in run.stdout
