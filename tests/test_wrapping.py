"""Nothing is folded inside a word or a number: a vector stays on one line
where it fits; an explanation, an error and the REPL's help fold at spaces
(checked at 80 and 200 columns, and on tmux's screen for what gradcalc
writes to a terminal itself)."""

from __future__ import annotations

import os
import shutil
import sys
import time

import pytest
from conftest import Tmux

WIDE = 1000  # columns: every line whole, the words to compare against
SOFTMAX_GRADIENT = "[0.09003057317, 0.2447284711, 0.6652409558]"  # e^k / (e + e² + e³)


def _words(text: str) -> set[str]:
    """The words, without a table's rules (box drawing, as wide as the table)."""
    return {w for w in text.split() if not all("\u2500" <= c <= "\u257f" for c in w)}


def _numbers(text: str) -> set[str]:
    """The numbers as written (a piece of a cut number reads as a number too)."""
    out = set()
    for word in text.split():
        bare = word.strip("[](),:")
        try:
            float(bare)
        except ValueError:
            continue
        out.add(bare)
    return out


def _lines_at(cli, columns: int, *args: str) -> list[str]:
    return cli(*args, env={"NO_COLOR": "1", "COLUMNS": str(columns)}).stdout.split("\n")


def _assert_folded_only_between_words(narrow: list[str], wide: list[str], columns: int) -> None:
    assert max(len(line) for line in narrow) <= columns
    cut = _words("\n".join(narrow)) - _words("\n".join(wide))
    assert not cut, f"pieces of words at {columns} columns: {sorted(cut)}"


def test_the_softmax_gradient_value_is_what_mpmath_says():
    import mpmath

    mpmath.mp.dps = 30
    total = sum(mpmath.e**k for k in (1, 2, 3))
    shown = [mpmath.nstr(mpmath.e**k / total, 10) for k in (1, 2, 3)]
    assert "[" + ", ".join(shown) + "]" == SOFTMAX_GRADIENT


@pytest.mark.parametrize("columns", [120, 200])
def test_a_vector_that_fits_is_one_line_in_every_method_row(cli, columns):
    lines = _lines_at(cli, columns, "diff", "log(sum(exp(x)))", "--at", "x=[1,2,3]")
    assert sum(SOFTMAX_GRADIENT in line for line in lines) == 3  # SymPy, autograd, FD
    assert max(len(line) for line in lines) <= columns


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_vectors_and_gradients_fold_only_between_elements(cli, columns):
    """Every number on the screen is a whole number of the one-line view (a
    narrower layout may word its labels otherwise)."""
    for args in (
        ("diff", "log(sum(exp(x)))", "--at", "x=[1,2,3]"),
        ("diff", "x*sum(y**2)", "--at", "x=2,y=[1.5,2.25,3.125,4.0625]"),
        ("accumulate", "sum(x**2)", "--at", "x=[1.5,2.25,3.125,4.0625]"),
    ):
        narrow = "\n".join(_lines_at(cli, columns, *args))
        wide = "\n".join(_lines_at(cli, WIDE, *args))
        assert max(len(line) for line in narrow.split("\n")) <= columns
        known = _numbers(wide) | {"30"}  # "SymPy (symbolic, 30 digits)" in the lines layout
        assert _numbers(narrow) <= known, sorted(_numbers(narrow) - known)


@pytest.mark.parametrize("columns", [80, 200])
def test_an_explanation_folds_at_spaces_under_its_step(cli, columns):
    args = ("diff", "sin(cos(x**2))*exp(x)*log(1 + x**2)", "--at", "1", "--explain")
    narrow = _lines_at(cli, columns, *args)
    _assert_folded_only_between_words(narrow, _lines_at(cli, WIDE, *args), columns)
    steps = narrow[next(i for i, line in enumerate(narrow) if "step by step" in line) :]
    assert not [line for line in steps if line.rstrip().endswith("(step")]
    # A step's explanation goes on under it, not at the left edge.
    assert all(line.startswith("  ") for line in steps[1:] if line.strip() and "Every" not in line)


def test_fold_keeps_words_and_units_whole():
    from gradcalc.folding import fold, keep_together

    line = "  let u = x**2: d/dx F(u) = F'(u)·du/dx, F'(u) = cos(u) (step 2), du/dx = 2*x"
    for width in range(24, len(line) + 1):
        folded = fold(keep_together(line, r"\(step \d+\)"), width, 4).split("\n")
        assert _words("\n".join(folded)) == _words(line)
        assert "(step 2)," in "\n".join(folded)
        assert all(len(row) <= width for row in folded)
        assert all(row.startswith("      ") for row in folded[1:])
    assert fold(line, None) == line  # not a terminal: one line


def _tmux(columns: int, command: str, keys: list[str], until: str, count: int = 1) -> str:
    """The screen of `command` in a tmux window `columns` wide, after `keys`
    were typed and `until` shows `count` times after the last key's line."""
    env = "env -u COLUMNS NO_COLOR=1 XDG_DATA_HOME=" + os.environ.get("TMPDIR", "/tmp")
    with Tmux(f"{env} {command}; sleep 60", columns, 50) as tmux:
        for key in keys:
            deadline = time.time() + 60
            while "gradcalc>" not in tmux.screen() and time.time() < deadline:
                time.sleep(0.2)
            tmux.send(key, "Enter")
        deadline = time.time() + 90
        while _after_keys(tmux.screen(), keys).count(until) < count and time.time() < deadline:
            time.sleep(0.2)
        return tmux.screen()


def _after_keys(shown: str, keys: list[str]) -> str:
    """What the screen shows after the line where the last key was typed."""
    if not keys:
        return shown
    mark = f"gradcalc> {keys[-1]}"
    return shown[shown.rindex(mark) + len(mark) :] if mark in shown else ""


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.slow
@pytest.mark.parametrize("columns", [80, 200])
def test_errors_on_a_terminal_fold_at_spaces(columns):
    gradcalc = f"{sys.executable} -m gradcalc"
    messages = [
        "gradcalc: error: Invalid value for 'bash|zsh|fish': 'completion' is not one of "
        "bash, zsh, fish",
        "gradcalc: error: --json is the document itself: not with --format or --pretty",
    ]
    commands = (
        f"{gradcalc} completion completion; {gradcalc} diff x --at 1 --pretty --json >/dev/null"
    )
    shown = _tmux(columns, commands, [], "gradcalc: error", 2)
    lines = [line for line in shown.split("\n") if line.strip()]
    assert len(lines) == (2 if columns == 200 else 3)
    assert _words(shown) == _words("\n".join(messages))
    assert all(line.startswith("  ") for line in lines if "gradcalc:" not in line)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.slow
@pytest.mark.parametrize("columns", [60, 80])
def test_the_repl_help_and_its_errors_fold_at_spaces(columns):
    from gradcalc.session import HELP

    shown = _tmux(columns, f"{sys.executable} -m gradcalc repl", ["help", "ans"], "gradcalc>")
    help_lines = shown[shown.index("Lines are") : shown.index("gradcalc> ans")]
    assert _words(help_lines) == _words(HELP)
    error = "gradcalc: error: ans: no derivative yet (ans is the last diff's derivative)"
    said = shown[shown.index("gradcalc> ans") + len("gradcalc> ans") : shown.rindex("gradcalc>")]
    assert _words(said) == _words(error)
    if columns < len(error):
        assert said.strip().split("\n")[1].startswith("  ")  # folded, and indented
