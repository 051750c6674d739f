"""What a one-shot `diff` imports: SymPy only where SymEngine cannot do the
job (cas.choose), Rich only for a table, torch only with autograd."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("rich", "sympy", "torch")
# Imported only for a columnar file or a table (issue 28): never by a plain diff.
COLUMNAR = ("pyarrow", "polars", "pandas", "dask")
POINTS = Path(__file__).resolve().parent.parent / "examples" / "points.csv"
SUM24 = "+".join(f"sin({k}*x)" for k in range(1, 25))  # large: SymEngine takes it

# (arguments, modules imported of HEAVY, [(wrt, symbolic text, value)], f's value).
# The texts are today's output (captured before the work on issue 19); the
# values are the closed forms, computed here with math.
CASES = [
    (
        ["diff", "sin(x**2)", "--at", "3", "--no-autograd"],
        [],
        [(["x"], "2*x*cos(x**2)", 6 * math.cos(9))],
        math.sin(9),
    ),
    (
        ["diff", "exp(2x)*log(x)", "--at", "3", "--no-autograd"],
        [],
        [
            (
                ["x"],
                "exp(2*x)/x + 2*exp(2*x)*log(x)",
                math.exp(6) / 3 + 2 * math.exp(6) * math.log(3),
            )
        ],
        math.exp(6) * math.log(3),
    ),
    (
        ["diff", "tan(x)*y**2", "--at", "x=1,y=2", "--no-autograd", "--order", "2"],
        [],
        [
            (["x", "x"], "2*y**2*tan(x)*(1 + tan(x)**2)", 8 * math.tan(1) / math.cos(1) ** 2),
            (["x", "y"], "2*y*(1 + tan(x)**2)", 4 / math.cos(1) ** 2),
            (["y", "y"], "2*tan(x)", 2 * math.tan(1)),
        ],
        4 * math.tan(1),
    ),
    (
        ["diff", SUM24, "--at", "0.3"],
        ["torch"],
        [
            (
                ["x"],
                " + ".join(["cos(x)"] + [f"{k}*cos({k}*x)" for k in range(2, 25)]),
                sum(k * math.cos(0.3 * k) for k in range(1, 25)),
            )
        ],
        sum(math.sin(0.3 * k) for k in range(1, 25)),
    ),
]


def _run(args):
    code = (
        "import contextlib, io, sys\nfrom gradcalc.cli import app\nout = io.StringIO()\n"
        f"try:\n    with contextlib.redirect_stdout(out):\n        app({args!r})\n"
        "except SystemExit as e:\n    code = e.code\n"
        f"print(out.getvalue().strip())\n"
        f"print(code, [m for m in {HEAVY + COLUMNAR!r} if m in sys.modules])"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    *document, last = process.stdout.strip().splitlines()
    return "\n".join(document), last


@pytest.mark.parametrize(("args", "imported", "derivatives", "value"), CASES)
def test_symengine_paths_import_no_sympy_and_keep_their_output(args, imported, derivatives, value):
    document, last = _run([*args, "--json"])
    assert last == f"0 {imported!r}"
    answer = json.loads(document)
    assert answer["value"] == pytest.approx(value, rel=1e-14)
    assert [d["wrt"] for d in answer["derivatives"]] == [wrt for wrt, _, _ in derivatives]
    for got, (_, text, number) in zip(answer["derivatives"], derivatives):
        assert got["symbolic"] == text
        assert got["sympy"] == pytest.approx(number, rel=1e-13)


def test_a_table_imports_rich_and_json_does_not():
    _, last = _run(["diff", "x**3", "--at", "2", "--no-autograd"])
    assert last == "0 ['rich']"
    _, last = _run(["diff", "x**3", "--at", "2", "--no-autograd", "--json", "--digits", "5"])
    assert last == "0 ['rich']"  # --digits is checked against the views' limit
    _, last = _run(["diff", "x**3", "--at", "2", "--no-autograd", "--json"])
    assert last == "0 []"


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "sin(", "--at", "1"],  # the expression does not parse
        ["diff", "x", "--at", "1q"],  # a point that is not a number
        ["diff", "x*y", "--at", "x=1"],  # a variable with no value
        ["graph", "x", "--at", "z=1"],  # a name that is not a variable
    ],
)
def test_input_that_does_not_read_is_reported_before_torch_is_imported(args):
    """A typo costs no second of importing torch (cli.inputs.read_ahead)."""
    _, last = _run(args)
    assert last == "2 []"


def test_the_command_line_reads_no_expression_module_before_it_needs_one():
    """`--help`, `--version` and completion import the CLI and its errors, and
    nothing of the library that reads or computes (the parser comes with the
    first expression; the budget, with the run it holds or with the diff
    command's module, which brings its default)."""
    code = (
        "import sys\nimport gradcalc.cli\n"
        "print(sorted(m for m in sys.modules if m.startswith('gradcalc.')"
        " and not m.startswith('gradcalc.cli')))"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    expected = "['gradcalc.errors']"
    assert process.stdout.strip() == expected, process.stderr


def _library_modules(args):
    code = (
        "import contextlib, io, sys\nfrom gradcalc.cli import app\n"
        f"try:\n    with contextlib.redirect_stdout(io.StringIO()):\n        app({args!r})\n"
        "except SystemExit as e:\n    code = e.code\n"
        "print(code, sorted(m for m in ('gradcalc.latex', 'gradcalc.latex_reader', "
        "'gradcalc.implicit', 'mpmath.calculus') if m in sys.modules))"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return process.stdout.strip().splitlines()[-1]


def test_the_latex_reader_is_imported_only_for_latex():
    plain = ["diff", "sin(x**2)", "--at", "3", "--no-autograd", "--json"]
    assert _library_modules(plain) == "0 []"
    latex = ["diff", r"\sin(x^2)", "--at", "3", "--no-autograd", "--json"]
    assert _library_modules(latex) == "0 ['gradcalc.latex', 'gradcalc.latex_reader']"


@pytest.mark.parametrize(
    ("args", "imported"),
    [
        (["--help"], "0 ['rich']"),
        (["diff", "x**3", "--at", "2", "--no-autograd", "--json"], "0 []"),
        # torch: in the helper that answers autograd for many points (helper)
        (["diff", "x*y", "--points", str(POINTS), "--json"], "0 ['sympy']"),
    ],
)
def test_no_columnar_library_without_a_columnar_file(args, imported):
    """pyarrow (and the table libraries) come with a Parquet or Arrow file or
    --format parquet only."""
    _, last = _run(args)
    assert last == imported


# Imported lazily (issue 28: `diff --no-autograd --json` against its import
# floor): a scalar's run imports none of these. Each was imported before.
NOT_FOR_A_SCALAR = (
    # The other commands' modules: cli.app makes only the command it runs.
    *(f"gradcalc.cli.commands.{name}" for name in ("taylor", "plot", "graph", "emit")),
    *(f"gradcalc.cli.commands.{name}" for name in ("perceptron", "accumulate", "check")),
    *(f"gradcalc.cli.commands.{name}" for name in ("functions", "completion", "repl")),
    # The other documents' builders: jsonout imports a builder's module on first use.
    # (Not those named as their builder: see jsonout's docstring.)
    *(f"gradcalc.jsonout.{name}" for name in ("graphs", "manypoints", "plots")),
    *(f"gradcalc.jsonout.{name}" for name in ("session_lines", "table", "training")),
    # A vector-valued expression's Jacobian; long vectors' path and its stencil.
    "gradcalc.jacobian",
    "gradcalc.vectors",
    "gradcalc.stencil",
    # Only for the error message that uses them (a bad character, a command typo).
    "unicodedata",
    "shlex",
)


def _gradcalc_modules(args):
    code = (
        "import contextlib, io, sys\nfrom gradcalc.cli import app\n"
        f"try:\n    with contextlib.redirect_stdout(io.StringIO()):\n        app({args!r})\n"
        "except SystemExit as e:\n    code = e.code\n"
        "print(code, sorted(m for m in sys.modules if m.startswith('gradcalc.')"
        " or m in ('unicodedata', 'shlex')))"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    code, modules = process.stdout.strip().splitlines()[-1].split(" ", 1)
    return int(code), set(json.loads(modules.replace("'", '"')))


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "sin(x**2)", "--at", "3", "--no-autograd", "--json"],
        ["diff", "tan(x)*y**2", "--at", "x=1,y=2", "--no-autograd", "--order", "2", "--json"],
    ],
)
def test_a_scalar_diff_imports_only_what_it_uses(args):
    code, modules = _gradcalc_modules(args)
    assert code == 0
    assert "gradcalc.cli.commands.diff" in modules
    assert "gradcalc.jsonout.onepoint" in modules
    assert sorted(modules.intersection(NOT_FOR_A_SCALAR)) == []


def test_the_lazy_modules_still_come_where_they_are_used():
    """The paths that need them import them (the test above cannot pass by
    their being gone)."""
    _, modules = _gradcalc_modules(["diff", "[x*y, x+y]", "--at", "x=1,y=2", "--json"])
    assert "gradcalc.jacobian" in modules
    long = "x=[" + ",".join(str(k) for k in range(1, 66)) + "]"  # past vectors.SMALL
    _, modules = _gradcalc_modules(["diff", "sum(x**2)", "--at", long, "--json"])
    assert {"gradcalc.vectors", "gradcalc.stencil"} <= modules
    _, modules = _gradcalc_modules(["graph", "x*y", "--at", "x=1,y=2", "--json"])
    assert {"gradcalc.cli.commands.graph", "gradcalc.jsonout.graphs"} <= modules
    assert "gradcalc.cli.commands.diff" not in modules
    code, modules = _gradcalc_modules(["diff", "x\u00b2", "--at", "1", "--json"])
    assert (code, "unicodedata" in modules) == (2, True)  # it names U+00B2
    code, modules = _gradcalc_modules(["sin(x)", "--at", "1"])
    assert (code, "shlex" in modules) == (2, True)  # it quotes the expression


def test_a_builder_named_as_its_module_is_the_builder():
    """jsonout's builders come on first use, but where a module has its
    builder's name, the name is the builder even once the module itself was
    imported by name (a test or a tool walking the package does)."""
    code = (
        "import importlib, pkgutil\nfrom gradcalc import jsonout\n"
        "for m in pkgutil.iter_modules(jsonout.__path__):\n"
        "    importlib.import_module('gradcalc.jsonout.' + m.name)\n"
        "names = [n for n in jsonout.__all__ if n.isidentifier()]\n"
        "print(sorted(n for n in names if not callable(getattr(jsonout, n))))"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert process.stdout.strip() == "['NOT_CHECKED', 'SCHEMA_VERSION', 'SKIPPED']", process.stderr


def test_the_console_entry_imports_nothing_until_it_runs():
    """gradcalc.console turns the collector off before the CLI is imported:
    importing it must not import Typer (nor the CLI)."""
    code = (
        "import sys, gc\nimport gradcalc.console\n"
        "print('typer' in sys.modules, 'gradcalc.cli' in sys.modules, gc.isenabled())"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert process.stdout.strip() == "False False True", process.stderr
    run = [sys.executable, "-m", "gradcalc", "diff", "x**3", "--at", "2", "--no-autograd", "--json"]
    process = subprocess.run(run, capture_output=True, text=True)
    assert (process.returncode, json.loads(process.stdout)["derivatives"][0]["sympy"]) == (0, 12.0)
