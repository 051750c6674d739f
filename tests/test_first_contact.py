"""A new user's first contact (issue 13): every flag in every spelling, help
screens, messages that say what and where, exit codes for limits, errors in
the format asked for, and tables that never split a number.

The option tests are generated from the Click command tree, so a new option
is covered (or the test says it has no sample value) without editing here.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import typer.main
from conftest import HANG_GUARD_SECONDS, run_subprocess, validate
from typer._click import Context

from gradcalc.cli import app
from gradcalc.cli.argv import protect_negative_expressions

GROUP = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)

# A value for each option that takes one, and what Click makes of it.
SAMPLES = {
    "at": ("3", ["3"]),
    "wrt": ("x", ["x"]),
    "order": ("2", 2),
    "dtype": ("float32", "float32"),
    "digits": ("4", 4),
    "timeout": ("7", 7.0),
    "points": ("pts.csv", "pts.csv"),
    "input_format": ("parquet", "parquet"),
    "format": ("dot", "dot"),  # graph's; diff's is in COMMAND_SAMPLES
    "x": ("1", "1"),
    "y": ("0", "0"),
    "w": ("2", "2"),
    "b": ("1", "1"),
    "loss": ("mse", "mse"),
    "epsilon": ("0.001", 0.001),
    "epochs": ("3", 3),
    "old_steps": ("3", 3),  # perceptron --steps, the deprecated spelling of --epochs
    "lr": ("0.5", 0.5),
    "passes": ("2", 2),
    "classes": ("3", 3),
    "range_": ("-1:1", "-1:1"),  # plot --range
    "output": ("p.svg", "p.svg"),
    "answer": ("2*x", "2*x"),  # diff --answer
    "implicit": ("y", "y"),  # diff --implicit
    "output_format": ("latex", "latex"),  # diff --format (graph's is `format`)
    "random": ("5", 5),  # check --random
    "seed": ("2", 2),
    "shape": ("x=3,4", ["x=3,4"]),
    "to": ("c", "c"),  # emit --to
    "direction": ("[1,1]", "[1,1]"),  # diff --direction
    "tolerance": ("0.001", 0.001),  # taylor --tolerance
    "taylor": ("3", 3),  # plot --taylor
}
# Where a command's option takes other values than SAMPLES gives.
COMMAND_SAMPLES = {("diff", "format"): ("csv", "csv")}


def _sample(name: str, param) -> tuple:
    return COMMAND_SAMPLES.get((name, param.name)) or SAMPLES.get(param.name, ("?", None))


# What each command needs besides the option under test.
REQUIRED = {
    "diff": ["-x^2"],  # a negative expression: must stay the expression
    "graph": ["-x^2"],
    "accumulate": ["-x^2"],
    "check": ["tests/data/user_functions.py:smooth"],
    "plot": ["-x^2"],
    "emit": ["-x^2", "--to", "c"],  # (the sample of --to too: the last one wins)
    "taylor": ["-x^2"],
    "perceptron": ["--x", "1", "--y", "0"],
    "completion": ["bash"],
    "functions": [],
    "repl": [],
}


def _options():
    for name in COMMANDS:
        command = GROUP.commands[name]
        for param in command.params:
            if param.param_type_name == "option":
                yield name, param


OPTIONS = list(_options())


def _spellings(param, value):
    """Every way to write the option: long and short, value apart, attached
    (short) or after '=' (long); a flag alone."""
    longs = [o for o in param.opts if o.startswith("--")]
    shorts = [o for o in param.opts if not o.startswith("--")]
    if param.is_flag:
        return [[o] for o in longs + shorts]
    forms = []
    for o in longs:
        forms += [[o, value], [f"{o}={value}"]]
    for o in shorts:
        forms += [[o, value], [f"{o}{value}"]]
    return forms


def _parse(name, words):
    """What Click parses from `gradcalc NAME WORDS...`, after gradcalc's own
    argv pre-processing (the real path, without running the command)."""
    args = protect_negative_expressions([name, *words], GROUP.commands, GROUP.help_names)
    root = Context(GROUP, info_name="gradcalc")
    command = GROUP.get_command(root, name)
    return command.make_context(name, args[1:], parent=root).params


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


CASES = [
    (name, param, form)
    for name, param in OPTIONS
    for form in _spellings(param, _sample(name, param)[0])
]


def test_every_option_has_a_sample_value():
    missing = [(name, p.name) for name, p in OPTIONS if not p.is_flag and p.name not in SAMPLES]
    assert missing == []


@pytest.mark.parametrize(
    "name, param, form", CASES, ids=[f"{n}:{' '.join(f)}" for n, _, f in CASES]
)
def test_every_option_parses_in_every_spelling(name, param, form):
    params = _parse(name, [*form, *REQUIRED[name]])
    expected = True if param.is_flag else _sample(name, param)[1]
    assert _plain(params[param.name]) == expected
    if "expression" in params:
        assert params["expression"].strip() == "-x^2"


def test_an_attached_option_beside_an_expression_is_the_option():
    params = _parse("diff", ["-wx", "x*y", "--at", "x=1,y=2"])
    assert params["wrt"] == ["x"] and params["expression"] == "x*y"


def _takes_dtype(name: str) -> bool:
    return any(p.name == "dtype" for p in GROUP.commands[name].params)


@pytest.mark.parametrize(
    "name", [n for n in COMMANDS if REQUIRED[n][:1] == ["-x^2"] and _takes_dtype(n)]
)
def test_an_option_after_a_negative_expression_still_parses(name):
    params = _parse(name, ["-x^2", "-a3", "--dtype=float32"])
    assert params["expression"].strip() == "-x^2"
    assert params["at"] == ["3"] and _plain(params["dtype"]) == "float32"


@pytest.mark.parametrize(
    "words, expression",
    [
        (["-a*b", "--at", "a=1,b=2"], "-a*b"),  # -a with '*b' is no point: the expression
        (["-w^2", "--at", "1"], "-w^2"),
        (["-n*x", "--at", "1"], "-n*x"),
        (["-f", "--at", "1"], "-f"),  # diff has no -f
        (["--", "-a", "--at", "1"], None),  # after --, everything is an argument
        (["-wx", "--at", "wx=1"], "-wx"),  # no other expression: -wx is it
        (["-a3"], "-a3"),
    ],
)
def test_a_word_that_only_looks_like_an_option_is_the_expression(words, expression):
    if expression is None:
        with pytest.raises(Exception, match="extra argument"):
            _parse("diff", words)
        return
    assert _parse("diff", words)["expression"].strip() == expression


def test_each_command_is_one_line_in_the_command_list(cli):
    """`gradcalc --help` lists each command on one line when the screen is
    wide enough (a docstring's line breaks once split the repl's over four)."""
    text = cli("--help", env={"NO_COLOR": "1", "COLUMNS": "200"}).stdout
    panel = text[text.index("Commands") :].split("╰")[0].splitlines()[1:]
    rows = [line.strip("│ ").split()[0] for line in panel]
    assert sorted(rows) == sorted(COMMANDS)


@pytest.mark.parametrize("name", [None, *COMMANDS])
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_help_screen(cli, name, flag):
    """-h and --help everywhere (before any required option), listing -h,
    without Typer's type labels, ending with real examples."""
    run = cli(*([name] if name else []), flag, env={"NO_COLOR": "1", "COLUMNS": "80"})
    assert run.exit_code == 0, run.stderr
    text = run.stdout
    assert "Usage: " in text and f" {name or ''}" in text
    assert "-h" in text and "--help" in text
    for label in ("<bool>", "<str>", "<list", "<int", "<float>", "<=x<=", "[1<="):
        assert label not in text, label
    tail = [line.strip() for line in text.splitlines() if line.strip()]
    examples = tail[tail.index("Examples:") + 1 :]
    assert 2 <= len(examples) <= 3
    assert all(re.match(r"(echo .* \| )?gradcalc ", line) for line in examples), examples
    assert max(len(line) for line in text.splitlines()) <= 80


def test_help_examples_run(cli, tmp_path, monkeypatch):
    """The examples on the help screens are real commands (those without a
    pipe or a redirection are run here, in a folder of their own: one writes
    an image)."""
    import shlex

    monkeypatch.chdir(tmp_path)
    for name in [None, *COMMANDS]:
        text = cli(*([name] if name else []), "--help").stdout
        tail = [line.strip() for line in text.splitlines() if line.strip()]
        for example in tail[tail.index("Examples:") + 1 :]:
            if any(c in example for c in "|>"):
                continue
            run = cli(*shlex.split(example)[1:])
            assert run.exit_code in (0, 1), (example, run.stderr)


def test_perceptron_dtype_help_is_about_the_perceptron(cli):
    text = " ".join(cli("perceptron", "--help").stdout.split())
    assert "Finite differences" not in text


def test_help_in_a_real_process_imports_nothing_heavy():
    process = run_subprocess("diff", "-h")
    assert process.returncode == 0 and "Usage:" in process.stdout and " diff " in process.stdout


def test_short_version(cli):
    import gradcalc

    run = cli("-V")
    assert run.exit_code == 0 and run.stdout == f"gradcalc {gradcalc.__version__}\n"


# -- exit codes and machine formats ------------------------------------------


@pytest.mark.parametrize(
    "expression, words",
    [
        ("1" * 5000 + "*x", "5000 digits"),
        ("x" + "+x" * 100_000, "200001 characters"),
        ("sin(" * 401 + "x" + ")" * 401, "nests 401 levels"),
    ],
)
def test_input_past_a_documented_limit_exits_2(cli, expression, words):
    run = cli("diff", expression, "--at", "1", "--json")
    assert run.exit_code == 2
    validate(run.json, "error.schema.json")
    assert run.json["error"]["kind"] == "too_large" and words in run.json["error"]["message"]


def test_a_budget_overrun_is_its_own_kind_and_exits_3():
    from gradcalc.errors import BudgetError, ExitCode, TooLargeError

    assert BudgetError.exit_code == ExitCode.UNDEFINED and BudgetError.kind == "budget"
    assert TooLargeError.exit_code == ExitCode.INPUT


@pytest.mark.parametrize(
    "format_words", [["--format", "json"], ["--format=json"], ["-f", "json"], ["-fjson"]]
)
@pytest.mark.parametrize(
    "args, code, kind",
    [
        (["graph", "sin(", "--at", "1"], 2, "parse"),  # raised by the library
        (["graph", "log(x)", "--at", "0"], 3, "domain"),
        (["graph", "x", "--at", "1", "--dtype", "float16"], 2, "usage"),  # while Click parses
        (["graph", "x", "--at", "1", "--bogus"], 2, "usage"),
    ],
)
def test_graph_json_format_reports_errors_in_json(cli, args, code, kind, format_words):
    run = cli(*args, *format_words)
    assert run.exit_code == code
    document = json.loads(run.stdout)
    validate(document, "error.schema.json")
    assert document["error"]["kind"] == kind


def test_other_graph_formats_do_not_print_json_errors(cli):
    run = cli("graph", "sin(", "--at", "1", "--format", "dot")
    assert run.exit_code == 2 and run.stdout == ""


def test_an_expression_that_says_json_is_not_a_format(cli):
    run = cli("diff", "sin(", "--at", "1", "--wrt", "--json")  # --json is --wrt's value
    assert run.exit_code == 2 and run.stdout == ""


# -- messages --------------------------------------------------------------


@pytest.mark.parametrize(
    "expression, message, column",
    [
        ("sin^2(x)", "write sin(x)^2 for the power of sin(x)", 4),
        ("x(x+1)", "to multiply, write x*(x+1)", 1),
        ("-x^2 +", "expression ends too early", 7),
    ],
)
def test_parse_errors_suggest_and_point_at_the_column(cli, expression, message, column):
    run = cli("diff", expression, "--at", "1")
    assert run.exit_code == 2
    first, shown, caret = run.stderr.splitlines()
    assert first.startswith("gradcalc: error: ") and message in first
    assert shown == f"  {expression}"
    assert caret == "  " + " " * (column - 1) + "^"


def test_a_bare_expression_suggests_diff(cli):
    run = cli("sin(x)")
    assert run.exit_code == 2
    assert "gradcalc diff 'sin(x)' --at" in run.stderr


def test_the_domain_names_the_argument_not_a_generic_x(cli):
    run = cli("diff", "asin(2*x)", "--at", "1")
    assert run.exit_code == 3
    assert "asin is defined for -1 <= 2*x <= 1" in run.stderr
    run = cli("diff", "x/y", "--at", "x=0,y=0")
    assert run.exit_code == 3
    assert "x/y is defined for y != 0" in run.stderr and "div" not in run.stderr


def test_a_word_for_a_number_is_not_a_number(cli):
    run = cli("diff", "x", "--at", "x=abc")
    assert run.stderr == "gradcalc: error: --at x: 'abc' is not a number\n"


@pytest.mark.parametrize(
    "args, pydantic",
    [
        (["diff", "x", "--at", "1", "--order", "9"], "Input should be"),
        (["diff", "x", "--at", "1", "--dtype", "f16"], "Value error"),
        (["accumulate", "x", "--at", "1", "--passes", "many"], "Input should be"),
    ],
)
def test_no_pydantic_words_in_messages(cli, args, pydantic):
    run = cli(*args)
    assert run.exit_code == 2 and pydantic not in run.stderr


def test_counts_in_plain_english(cli, tmp_path):
    points = tmp_path / "one.csv"
    points.write_text("x\n0\n")
    run = cli("diff", "1/x", "--points", str(points))
    assert run.exit_code == 3
    assert "1 point: 1 undefined" in run.stdout
    assert run.stderr == "gradcalc: 1 undefined of 1 point\n"
    run = cli("perceptron", "--x", "1,2", "--w", "1", "--y", "0")
    assert run.stderr == (
        "gradcalc: error: --w has 1 weight but --x has 2 features: give one weight per feature\n"
    )


def test_the_verdict_reads_as_a_sentence(cli):
    run = cli("diff", "x**2", "--at", "3")
    assert run.stdout.splitlines()[-1] == "✓ SymPy, autograd and finite differences agree"


def test_the_exact_derivative_is_shown_beside_the_float(cli):
    run = cli("diff", "sin(x**2)", "--at", "3")
    assert "∂f/∂x = 2*x*cos(x**2) = 6*cos(9) at the point" in run.stdout


def test_how_the_input_was_read_is_echoed(cli):
    run = cli("diff", "1/2x", "--at", "2")
    assert "note: 1/2x is read as (1/2)*x; for 1/(2*x), write that" in run.stdout
    assert "read as" not in cli("diff", "2x", "--at", "2").stdout


@pytest.mark.parametrize("name", ["alpha", "beta", "gamma", "lambda", "eta"])
def test_greek_names_are_variables(cli, name):
    run = cli("diff", f"{name}**2", "--at", f"{name}=3", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json["variables"] == [name]
    assert run.json["gradient"][name]["sympy"] == 6.0


# -- stdin, perceptron's epochs, completion ---------------------------------


def test_the_expression_from_stdin(cli):
    run = cli("diff", "-", "--at", "1", "--json", input="sin(x)\n")
    assert run.exit_code == 0 and run.json["expression"] == "sin(x)"


def test_stdin_in_a_real_process():
    process = run_subprocess("diff", "-", "--at", "1", "--json", "--no-autograd", input="sin(x)\n")
    assert process.returncode == 0 and json.loads(process.stdout)["expression"] == "sin(x)"


def test_perceptron_trains_with_epochs_and_the_old_spelling_still_works(cli):
    new = cli("perceptron", "--x", "1", "--y", "0", "--epochs", "3", "--json")
    old = cli("perceptron", "--x", "1", "--y", "0", "--steps", "3", "--json")
    assert new.exit_code == old.exit_code == 0
    assert len(new.json["history"]) == len(old.json["history"]) > 0
    assert new.json["history"] == old.json["history"]
    assert old.stderr.startswith("gradcalc: note: perceptron --steps is deprecated")
    assert new.stderr == ""


@pytest.mark.parametrize(
    "shell, file", [("bash", "gradcalc.bash"), ("zsh", "_gradcalc"), ("fish", "gradcalc.fish")]
)
def test_completion_prints_the_shipped_script(cli, shell, file):
    from importlib.resources import files

    run = cli("completion", shell)
    assert run.exit_code == 0
    assert run.stdout == (files("gradcalc") / "completions" / file).read_text()
    assert "gradcalc" in run.stdout


def test_completion_scripts_ship_in_the_package():
    import tomllib
    from conftest import ROOT

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "completions/*" in config["tool"]["setuptools"]["package-data"]["gradcalc"]


# -- tables never split a number ---------------------------------------------

NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?|-?inf|nan")


def _significant(text: str) -> int:
    mantissa = text.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return max(len(mantissa), 1)


def _matches(shown: str, values) -> bool:
    """`shown` is one of `values` at the digits it shows."""
    digits = _significant(shown)
    return any(v is not None and float(f"{float(v):.{digits}g}") == float(shown) for v in values)


def _json_numbers(document) -> list:
    if isinstance(document, dict):
        return [n for v in document.values() for n in _json_numbers(v)]
    if isinstance(document, list):
        return [n for v in document for n in _json_numbers(v)]
    if isinstance(document, (int, float)) and not isinstance(document, bool):
        return [document]
    return []


LABELS = ("method", "derivative", "symbolic", "verdict", "agree")


def _table_lines(output: str):
    """The header of each column, and each body line's cells."""
    headers, lines = {}, []
    for line in output.splitlines():
        if line.startswith("┃"):
            for k, part in enumerate(line.strip("┃").split("┃")):
                headers[k] = (headers.get(k, "") + " " + part.strip()).strip()
        elif line.startswith("│"):
            lines.append([part.strip() for part in line.strip("│").split("│")])
    return [headers.get(k, "") for k in range(len(headers))], lines


def _check_lines(output: str, values: list) -> int:
    """The narrow layout (one point a line, wrapping between values): every
    number shown is a JSON value at the digits shown."""
    checked, previous = 0, ""
    # A remark in parentheses (float64's reach, a rounding error's size) is
    # words about the values, not one of them.
    output = re.sub(r"\([^()]*\)", "", output)
    for word in re.split(r"[\s,;:\[\]]+", output):
        if NUMBER.fullmatch(word) and previous != "line":
            assert _matches(word, values), (word, output)
            checked += 1
        previous = word
    return checked


def _check_table(output: str, values: list, rows: int) -> int:
    """Each of the `rows` data rows has its numbers on one line (a line
    has all its numeric cells or none: a label may wrap, a number never),
    and every number is a JSON value at the digits shown; returns how many
    numbers were checked."""
    if "│" not in output:
        return _check_lines(output, values)
    headers, lines = _table_lines(output)
    numeric = [k for k, h in enumerate(headers) if not h.startswith(LABELS)]
    filled = [line for line in lines if line[0] != "…" and any(line[k] for k in numeric)]
    assert len(filled) == rows, output
    checked = 0
    for line in filled:
        assert all(line[k] for k in numeric), (line, output)
        for k in numeric:
            if "error" in headers[k] or headers[k] == "line" or line[k] in ("—", "skipped"):
                continue
            for word in [w for w in re.split(r"[\[\],\s]+", line[k]) if w]:
                assert NUMBER.fullmatch(word), (headers[k], line[k], output)
                assert _matches(word, values), (headers[k], word, output)
                checked += 1
    return checked


TABLES = [
    ["diff", "sin(x**2)", "--at", "3"],
    ["diff", "exp(x)*0.583853163535", "--at", "0.3"],
    ["diff", "mean(x**2)", "--at", "x=[1,2,3]"],
    ["diff", "x**2*y + sin(y)*x/7", "--at", "x=1.1,y=2.3"],
    ["diff", "x**2*y + sin(y)*x/7", "--at", "x=1.1,y=2.3", "--order", "2"],
    ["diff", "x**3*y*z/7 + sin(y*z)", "--at", "x=1.1,y=2.3,z=-0.7"],
]


@pytest.mark.parametrize("columns", ["80", "100", "200"])
@pytest.mark.parametrize("args", TABLES, ids=[" ".join(a[1:]) for a in TABLES])
def test_table_numbers_are_whole_and_read_back(cli, args, columns):
    env = {"NO_COLOR": "1", "COLUMNS": columns}
    document = cli(*args, "--json").json
    run = cli(*args, env=env)
    assert run.exit_code == 0, run.stderr
    assert max(len(line) for line in run.stdout.splitlines()) <= int(columns)
    rows = 3 if len(document["derivatives"]) == 1 else len(document["derivatives"])
    assert _check_table(run.stdout, _json_numbers(document), rows) >= 3


@pytest.mark.parametrize("columns", ["80", "100", "200"])
@pytest.mark.parametrize(
    "expression, order",
    [("sin(x)*y**2 + cos(x*y)", "1"), ("x*y**3", "2"), ("exp(x)/9297.4", "1")],
)
def test_points_table_numbers_are_whole_and_read_back(cli, tmp_path, columns, expression, order):
    points = tmp_path / "points.csv"
    if "y" in expression:
        points.write_text("x,y\n1,2\n3,4\n0.583853163512,9297.4\n-12345.678,0.000123\n")
    else:
        points.write_text("x\n" + "\n".join(str(k * 1.37 - 9) for k in range(40)) + "\n")
    args = ["diff", expression, "--points", str(points), "--order", order]
    lines = cli(*args, "--json").stdout.splitlines()
    values = [n for line in lines for n in _json_numbers(json.loads(line))]
    run = cli(*args, env={"NO_COLOR": "1", "COLUMNS": columns})
    assert max(len(line) for line in run.stdout.splitlines()) <= int(columns)
    assert [line for line in run.stdout.splitlines() if line != line.rstrip()] == []
    rows = min(len(lines), 20)  # 10 at each end of a long table
    assert _check_table(run.stdout, values, rows) >= 3


def test_digits_sets_the_precision_and_17_shows_every_digit(cli):
    run = cli("diff", "sin(x**2)", "--at", "3", "--digits", "17")
    assert "-5.466781571308062" in run.stdout
    run = cli("diff", "sin(x**2)", "--at", "3", "--digits", "3")
    assert "-5.47 " in run.stdout and "-5.467" not in run.stdout
    assert cli("diff", "x", "--at", "1", "--digits", "0").exit_code == 2


def test_a_narrow_terminal_gets_a_layout_without_cut_numbers(cli):
    run = cli("diff", "mean(x**2)", "--at", "x=[1,2,3]", env={"NO_COLOR": "1", "COLUMNS": "40"})
    assert max(len(line) for line in run.stdout.splitlines()) <= 40
    words = run.stdout.split()
    for number in ("0.6666666667", "1.333333333", "8.9e-13"):
        assert any(w.strip("[],()") == number for w in words), run.stdout


# -- progress ----------------------------------------------------------------


def test_ctrl_c_finishes_the_progress_line_before_the_message(tmp_path):
    """On a terminal, a long --points run shows a bar with a count as soon as
    the work starts; Ctrl-C erases it before "interrupted" is written. (The
    command runs in-process here: the budget's parent process is not part
    of this.)"""
    import os
    import pty
    import signal
    import sys
    import time

    points = tmp_path / "points.csv"
    points.write_text("x\n" + "\n".join(str(k / 1000) for k in range(120_000)) + "\n")
    code = "import sys; from gradcalc.cli import app; sys.argv[0] = 'gradcalc'; app()"
    command = [sys.executable, "-c", code, "diff", "sin(x)**2", "--points", str(points)]
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout and stderr are the terminal
        os.environ["COLUMNS"] = "80"
        os.execv(sys.executable, command)
    output, deadline, interrupted = b"", time.monotonic() + HANG_GUARD_SECONDS, False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not interrupted and b"/120000" in output:
            os.kill(pid, signal.SIGINT)
            interrupted = True
    _, status = os.waitpid(pid, 0)
    assert interrupted, output[-500:]
    assert os.waitstatus_to_exitcode(status) == 130
    before, message, after = output.rpartition(b"gradcalc: interrupted")
    assert message and after.strip() == b"", output[-500:]
    # the bar's line is erased (cursor up, clear line) right before the message
    assert before.endswith(b"\x1b[2K"), before[-200:]
    assert re.search(rb"0/120000", before)


@pytest.mark.parametrize("columns", ["30", "45", "60", "80", "100"])
@pytest.mark.parametrize(
    "args",
    [
        ["perceptron", "--x", "1,2,3", "--w", "0.1,0.2,0.3", "--y", "1", "--epochs", "3"],
        ["accumulate", "x*y", "--at", "x=1.234567891234,y=2"],
        ["diff", "x**2*y + sin(y)*x/7", "--at", "x=1.1,y=2.3", "--order", "2"],
        ["diff", "x**2*y*z + sin(y)*exp(z)", "--at", "x=1.1,y=2.3,z=0.7", "--order", "2"],
        ["diff", "softmax(x)", "--at", "x=[1.5,2.25,3.125]"],
    ],
    ids=["perceptron", "accumulate", "hessian", "hessian3", "jacobian"],
)
def test_no_view_cuts_a_number_to_fit(cli, args, columns):
    """Rich marks what it truncates with '…': no view may need it."""
    run = cli(*args, env={"NO_COLOR": "1", "COLUMNS": columns})
    assert run.exit_code == 0, run.stderr
    assert "…" not in run.stdout, run.stdout
    assert max(len(line) for line in run.stdout.splitlines()) <= int(columns)
    if "softmax(x)" in args:  # every entry whole, to its last digit, at every width
        x = np.array([1.5, 2.25, 3.125])
        s = np.exp(x) / np.exp(x).sum()
        by_hand = np.diag(s) - np.outer(s, s)  # softmax's Jacobian
        # A number folded onto two lines would be two words.
        words = {word.strip(",;[]") for word in run.stdout.split()}
        for entry in by_hand.ravel():
            assert f"{entry:.10g}" in words, (f"{entry:.10g}", run.stdout)
    assert "-0.1978161114" in run.stdout or "perceptron" not in args


@pytest.mark.parametrize("args", [["completion", "bash"], ["diff", "-h"], ["-V"]])
def test_completion_short_help_and_version_import_nothing_heavy(args):
    import subprocess
    import sys

    code = (
        "import sys\nfrom gradcalc.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'sympy', 'numpy') if m in sys.modules))"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert process.stdout.strip().endswith("[]"), process.stdout[-300:]


@pytest.mark.parametrize(
    "word, words",
    [
        ("dif", "no command 'dif'; did you mean 'diff'? (commands: "),
        ("grap", "no command 'grap'; did you mean 'graph'? (commands: "),
        ("sin(x)", "no command 'sin(x)'; to differentiate an expression, write: gradcalc diff "),
    ],
)
def test_an_unknown_command_gets_one_clean_line(word, words, cli):
    run = cli(word, "x", "--at", "1")
    assert run.exit_code == 2
    (line,) = run.stderr.splitlines()
    assert words in line and "Did you mean" not in line  # Click's words, read once


@pytest.mark.parametrize("expression", ["sqrt(x)", "x**0.5"])
def test_sympys_names_for_not_a_number_never_show(expression, cli):
    # 1/(2*sqrt(0)) is SymPy's zoo (complex infinity): the exact value beside
    # the formula is left out, and the table says what the value is.
    run = cli("diff", expression, "--at", "0", env={"NO_COLOR": "1"})
    assert run.exit_code == 3 and "∂f/∂x = " in run.stdout  # the table is shown
    for word in ("zoo", "= oo", "= -oo", "nan at the point"):
        assert word not in run.stdout, run.stdout


@pytest.mark.parametrize(
    "data, words",
    [
        (b"sin(x)\ncos(x)\n", "stdin holds 2 lines; EXPR '-' reads one expression"),
        (b"\xff\n", "the expression on stdin is not UTF-8 text (byte 1)"),
    ],
)
def test_an_expression_on_stdin_is_one_line_of_text(data, words, cli):
    # Two lines would read as the product sin(x)*cos(x); a stray byte as U+DCFF.
    run = cli("diff", "-", "--at", "1", input=data)
    assert run.exit_code == 2 and words in run.stderr, run.stderr
    assert cli("diff", "-", "--at", "3", "--json", input=b"  sin(x**2) \n\n").exit_code == 0


@pytest.mark.parametrize(
    "args, words",
    [
        (["nonexistent", "--json"], "no command 'nonexistent'"),
        (["dif", "x", "--json"], "did you mean 'diff'?"),
        (["completion", "bash", "--json"], "No such option: --json"),
    ],
)
def test_asked_for_json_an_error_comes_as_json_whatever_the_command(args, words, cli):
    run = cli(*args)
    assert run.exit_code == 2
    assert run.json["error"]["kind"] == "usage" and words in run.json["error"]["message"]


def test_plot_help_names_the_extra_to_install(cli):
    # Rich read "[plot]" as a style tag and printed 'gradcalc'.
    assert "pip install 'gradcalc[plot]'" in " ".join(cli("plot", "--help").stdout.split())


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "x", "--at", "1", "--steps", "--json"],
        ["diff", "x", "--at", "1", "--graph", "--json"],
        ["graph", "x", "--at", "1", "--format", "dot", "--json"],
        ["graph", "x", "--at", "1", "--format", "mermaid", "--json"],
    ],
)
def test_an_option_json_would_drop_is_refused_not_ignored(args, cli):
    # The JSON document has no chain-rule steps, and one run prints one form.
    run = cli(*args)
    assert run.exit_code == 2 and run.json["error"]["kind"] == "usage"


@pytest.mark.parametrize("value", ["1" * 61, "1e99999"])
def test_a_too_long_at_value_names_its_option(value, cli):
    run = cli("diff", "x", "--at", f"x={value}")
    assert run.exit_code == 2 and run.stderr.startswith("gradcalc: error: --at x: number at")


@pytest.mark.parametrize("name", ["diff", "graph", "plot", "accumulate", "completion"])
def test_the_usage_line_names_its_argument_plainly(cli, name):
    """EXPR, as Click writes it: Typer's {EXPR} reads as a set of choices."""
    usage = next(line for line in cli(name, "--help").stdout.splitlines() if "Usage:" in line)
    argument = "bash|zsh|fish" if name == "completion" else "EXPR"
    assert usage.split()[2:] == [
        name,
        "[OPTIONS]",
        argument,
    ]  # (CliRunner names the program "root")
