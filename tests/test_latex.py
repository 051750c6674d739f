"""LaTeX input: textbook formulas read as the formula meant (compared with a
SymPy expression written here by hand, symbolically or at random points),
malformed LaTeX refused in one line with a caret at the right column, the
reading shown (text and JSON), and no code ever run."""

import builtins
import math
import random
import subprocess
import sys

import pytest
import sympy as sp
from conftest import run_subprocess, validate

from gradcalc.cas import sympy_engine
from gradcalc.errors import ParseError
from gradcalc.parsing import parse

AT_POINTS = 1e-12  # relative agreement at random points when SymPy cannot simplify
POINTS = 6  # random points tried per formula

x, y, t, theta, sigma, x1, x2 = sp.symbols("x y t theta sigma x_1 x_2", real=True)
E = sp.E

# (LaTeX as a textbook writes it, the formula meant, written with SymPy by hand).
TEXTBOOK = [
    (r"\frac{\sin(x^2)}{1+x}", sp.sin(x**2) / (1 + x)),
    (r"\cos^2 x", sp.cos(x) ** 2),
    (r"\sin^2 x + \cos^2 x", sp.sin(x) ** 2 + sp.cos(x) ** 2),
    (r"\sqrt{x^2+1}", sp.sqrt(x**2 + 1)),
    (r"\sqrt[3]{x}", sp.cbrt(x)),
    (r"\sqrt[4]{x^3}", (x**3) ** sp.Rational(1, 4)),
    (r"e^{x}", sp.exp(x)),
    (r"e^{-x^2/2}", sp.exp(-(x**2) / 2)),
    (r"\ln x", sp.log(x)),
    (r"\ln\left(1+e^{x}\right)", sp.log(1 + sp.exp(x))),
    (r"\log_2 x", sp.log(x, 2)),
    (r"\log_{10}(x+1)", sp.log(x + 1, 10)),
    (r"\left( x + \frac{1}{x} \right)^{3}", (x + 1 / x) ** 3),
    (r"3x^2 \cdot \sin x", 3 * x**2 * sp.sin(x)),
    (r"x \times e^{2x}", x * sp.exp(2 * x)),
    (r"2x^{2} + 3xy", 2 * x**2 + 3 * x * y),
    (r"x\sin x", x * sp.sin(x)),
    (r"\sin 2x \cos x", sp.sin(2 * x) * sp.cos(x)),
    (r"\exp(x^2 - 1)", sp.exp(x**2 - 1)),
    (r"\tan x \sec x", sp.tan(x) * sp.sec(x)),
    (r"\arcsin x + \arccos x", sp.asin(x) + sp.acos(x)),
    (r"\arctan\left(\frac{x}{2}\right)", sp.atan(x / 2)),
    (r"\sin^{-1} x", sp.asin(x)),
    (r"\pi x^{2}", sp.pi * x**2),
    (r"x^{2}y^{3}", x**2 * y**3),
    (r"x_1^2 + x_{2}^2", x1**2 + x2**2),
    (r"\frac{1}{\sqrt{1-x^2}}", 1 / sp.sqrt(1 - x**2)),
    (r"\frac{x^2 - 1}{x^2 + 1}", (x**2 - 1) / (x**2 + 1)),
    (r"\dfrac{e^x - e^{-x}}{2}", (sp.exp(x) - sp.exp(-x)) / 2),
    (r"\sinh x \cosh x", sp.sinh(x) * sp.cosh(x)),
    (r"\theta^2 \sin\theta", theta**2 * sp.sin(theta)),
    (r"|x - 1| + \left| y \right|", sp.Abs(x - 1) + sp.Abs(y)),
    (r"\frac{\ln x}{x}", sp.log(x) / x),
    (r"x^{-1/2}", x ** sp.Rational(-1, 2)),
    (r"(x^2+1)^{10}", (x**2 + 1) ** 10),
    (r"\frac{t}{\sqrt{t^2 + 4}}", t / sp.sqrt(t**2 + 4)),
    (r"2^{x} \ln 2", 2**x * sp.log(2)),
    (r"\cot x - \csc x", sp.cot(x) - sp.csc(x)),
    (r"\frac12 x^2", x**2 / 2),
    (r"$\sqrt{x} e^{\sqrt{x}}$", sp.sqrt(x) * sp.exp(sp.sqrt(x))),
    (r"x^{x}", x**x),
    (r"\mathrm{e}^{x} \, \sin x", sp.exp(x) * sp.sin(x)),
    (r"\operatorname{sech}^2 x", sp.sech(x) ** 2),
    (r"\ln|x|", sp.log(sp.Abs(x))),
    (r"\left(\frac{1}{2}\right)^x", sp.Rational(1, 2) ** x),
    (r"\exp\left(-\frac{x^2}{2\sigma^2}\right)", sp.exp(-(x**2) / (2 * sigma**2))),
    (r"\sin x^2", sp.sin(x**2)),
    (r"\tan^{-1}(x) + \coth x", sp.atan(x) + sp.coth(x)),
    (r"\mathrm{sigmoid}(x)", 1 / (1 + sp.exp(-x))),
    (r"f(x) = \frac{x}{1 + x^2}", x / (1 + x**2)),  # a definition: what f is
    (r"\cot^{-1} x + \arcsec(x + 1)", sp.acot(x) + sp.asec(x + 1)),
]


def _as_sympy(text):
    expr = parse(text)
    symbols = sympy_engine.symbols_for(expr.variables, {})
    return expr, sympy_engine.build(expr, symbols)


def _same(mine, meant):
    """Equal symbolically, else at POINTS random points in (0.1, 0.9)."""
    difference = sp.simplify(mine - meant)
    if difference == 0:
        return True
    rng = random.Random(0)
    free = sorted(mine.free_symbols | meant.free_symbols, key=lambda s: s.name)
    for _ in range(POINTS):
        values = {s: sp.Float(rng.uniform(0.1, 0.9), 30) for s in free}
        a, b = complex(mine.evalf(30, subs=values)), complex(meant.evalf(30, subs=values))
        if abs(a - b) > AT_POINTS * max(1.0, abs(b)):
            return False
    return True


@pytest.mark.parametrize(("latex", "meant"), TEXTBOOK, ids=[c[0] for c in TEXTBOOK])
def test_a_textbook_formula_reads_as_the_formula_meant(latex, meant):
    expr, mine = _as_sympy(latex)
    assert expr.latex == latex.strip()
    names = {s.name for s in meant.free_symbols}
    assert set(expr.variables) == names
    # The same names, then the same function of them.
    renamed = mine.xreplace({s: sp.Symbol(s.name, real=True) for s in mine.free_symbols})
    assert _same(renamed, meant), (latex, expr.source)


def test_the_translation_is_the_grammar_text_shown():
    cases = {
        r"\frac{\sin(x^2)}{1+x}": "sin(x**2)/(1 + x)",
        r"\cos^2 x": "cos(x)**2",
        r"e^{x}\ln x": "exp(x)*log(x)",
        r"\log_2 x": "log(x, 2)",
        r"\sqrt[3]{x}": "cbrt(x)",
        r"x^{y^{z}}": "x**(y**z)",
        r"a-(b-c)": "a - (b - c)",
        r"\frac{x}{y}/z": "x/y/z",
        r"x^{23}": "x**23",
        r"x^23": "x**2*3",  # a script without braces is one character, as in LaTeX
    }
    for latex, text in cases.items():
        assert parse(latex, latex=True).read_as == text, latex


def test_a_derivative_operator_asks_for_that_derivative(cli):
    run = cli("diff", r"\frac{d}{dx}\left(x^2 y\right)", "--at", "x=3,y=2", "--json")
    assert run.exit_code == 0, run.stdout + run.stderr
    document = run.json
    validate(document, "diff.schema.json")
    assert document["wrt"] == ["x"]
    assert document["read_as"] == {
        "latex": r"\frac{d}{dx}\left(x^2 y\right)",
        "text": "d/dx (x**2*y)",
    }
    assert abs(document["gradient"]["x"]["sympy"] - 2 * 3 * 2) < 1e-12
    partial = cli("diff", r"\frac{\partial}{\partial y}(x^2 y^3)", "--at", "x=2,y=1", "--json")
    assert partial.json["wrt"] == ["y"]
    assert abs(partial.json["gradient"]["y"]["sympy"] - 3 * 4) < 1e-12
    second = cli("diff", r"\frac{d^2}{dx^2} x^4", "--at", "2", "--json", "--no-autograd")
    assert second.json["order"] == 2
    assert abs(second.json["derivatives"][0]["sympy"] - 12 * 2**2) < 1e-12


# (malformed LaTeX, the 1-based column of the caret, words of the message).
MALFORMED = [
    (r"\frac{1}{x", 11, "is not closed"),
    (r"\frac{1}", 9, "expected {...}"),
    (r"\sqrt{}", 7, "empty braces"),
    (r"\sin", 5, "needs an argument"),
    (r"x + \foo y", 5, "unknown LaTeX command \\foo"),
    (r"\left( x + 1", 13, "not closed by \\right)"),
    (r"x + \left[ 1 \right)", 20, "is not closed"),
    (r"3! + \pi", 2, "factorial"),
    (r"\int x dx", 1, "integrals are not supported"),
    (r"x_{i+1} + \pi", 5, "a subscript is part of a name"),
    (r"\frac{d}{dx}x + 2\frac{d}{dx}x", 18, "applies to the whole expression"),
    (r"\infty", 1, "infinity"),
    (r"\operatorname{foo}(x)", 15, "unknown function 'foo'"),
    (r"\frac{N}{2}", 7, "'N' is reserved"),
    (r"x \cdot", 8, "ends too early"),
    (r"{x+1", 5, "is not closed"),
    (r"x^{2}^{3}", 6, "double superscript"),
    (r"\frac{dy}{dx}", 1, "a derivative is written \\frac{d}{dx}(...)"),
    (r"x + \partial x", 5, "partial derivatives are asked with --wrt"),
]


@pytest.mark.parametrize(("latex", "column", "words"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_latex_is_one_line_with_a_caret_at_the_column(cli, latex, column, words):
    run = cli("diff", latex, "--at", "1")
    assert run.exit_code == 2
    lines = run.stderr.splitlines()
    assert len(lines) == 3, run.stderr  # the message, the LaTeX, the caret
    assert lines[0].startswith("gradcalc: error: ") and words in lines[0], lines[0]
    assert lines[0].endswith(f"at column {column}")
    assert lines[1] == "  " + latex
    assert lines[2] == "  " + " " * (column - 1) + "^"
    document = cli("diff", latex, "--at", "1", "--json").json
    validate(document, "error.schema.json")
    assert document["error"]["column"] == column


def test_no_latex_runs_code(monkeypatch):
    """Every reading with eval, exec and compile broken: none is called."""

    def refuse(*args, **kwargs):
        raise AssertionError("code was run")

    hostile = [r"\frac{__import__('os').system('true')}{1}", r"\exec{x}", r"x.__class__"]
    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(builtins, "compile", refuse)
    for latex, _ in TEXTBOOK:
        parse(latex)
    for latex in hostile:
        with pytest.raises(ParseError):
            parse(latex, latex=True)


def test_the_reading_is_said_in_text_and_json_of_each_command(cli):
    latex = r"\frac{x^2}{2}"
    run = cli("diff", latex, "--at", "3", "--no-autograd")
    assert run.exit_code == 0
    assert run.stdout.splitlines()[0] == "read as: x**2/2"
    for args, schema in [
        (["graph", latex, "--at", "3", "--json"], "graph.schema.json"),
        (["plot", latex, "--at", "3", "--json"], "plot.schema.json"),
        (["accumulate", latex, "--at", "3", "--json"], "accumulate.schema.json"),
        (["diff", latex, "--explain", "--json"], "explain.schema.json"),
    ]:
        done = cli(*args)
        assert done.exit_code == 0, (args, done.stderr)
        validate(done.json, schema)
        assert done.json["read_as"] == {"latex": latex, "text": "x**2/2"}
    plain = cli("diff", "x**2/2", "--at", "3", "--json")
    assert "read_as" not in plain.json
    assert "read as" not in cli("diff", "x**2/2", "--at", "3", "--no-autograd").stdout


def test_plot_and_graph_say_it_in_text(cli):
    assert cli("plot", r"\sin x", "--at", "1").stdout.startswith("read as: sin(x)\n")
    assert cli("graph", r"\sin x", "--at", "1").stdout.startswith("read as: sin(x)\n")
    dot = cli("graph", r"\sin x", "--at", "1", "--format", "dot").stdout
    assert dot.startswith("digraph")  # DOT stays a DOT file


def test_latex_forces_the_reading_and_the_answer(cli):
    # Without --latex, xy is one variable; with it, x times y.
    assert cli("diff", "xy", "--at", "xy=2", "--json").json["variables"] == ["xy"]
    forced = cli("diff", "xy", "--latex", "--at", "x=2,y=3", "--json")
    assert forced.json["variables"] == ["x", "y"]
    assert abs(forced.json["gradient"]["x"]["sympy"] - 3.0) < 1e-12
    right = cli("diff", r"\sin(x^2)", "--answer", r"2x\cos(x^2)", "--json")
    assert right.exit_code == 0
    assert right.json["answer"]["read_as"] == "2*x*cos(x**2)"
    validate(right.json, "explain.schema.json")
    wrong = cli("diff", r"\sin(x^2)", "--answer", r"\cos(x^2)")
    assert wrong.exit_code == 1
    assert "read as: cos(x**2)" in wrong.stdout


def test_an_expression_from_stdin_reads_as_latex_too(cli):
    run = cli("diff", "-", "--at", "2", "--json", "--no-autograd", input=r"\sqrt{x}" + "\n")
    assert run.exit_code == 0
    assert run.json["read_as"]["text"] == "sqrt(x)"
    assert abs(run.json["gradient"]["x"]["sympy"] - 0.5 / math.sqrt(2)) < 1e-15


def test_an_equation_without_implicit_says_how(cli):
    run = cli("diff", "x^2 + y^2 = 25", "--at", "x=3,y=4")
    assert run.exit_code == 2
    assert "--implicit" in run.stderr.splitlines()[0]


def test_plain_expressions_do_not_import_the_latex_reader():
    code = (
        "import sys; from gradcalc.parsing import parse; parse('sin(x**2)/(1 + x)'); "
        "print('gradcalc.latex' in sys.modules, 'gradcalc.latex_reader' in sys.modules); "
        "parse(r'\\sin x'); print('gradcalc.latex' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]


@pytest.mark.slow
def test_a_real_process_reads_latex():
    run = run_subprocess("diff", r"\frac{\sin(x^2)}{1+x}", "--at", "3", "--json")
    assert run.returncode == 0, run.stderr
    import json

    document = json.loads(run.stdout)
    assert document["read_as"]["text"] == "sin(x**2)/(1 + x)"
    exact = 6 * math.cos(9) / 4 - math.sin(9) / 16
    assert abs(document["gradient"]["x"]["sympy"] - exact) < 1e-12


def test_a_long_chain_reads_and_deep_nesting_is_refused(cli):
    terms = 20_000
    long_sum = r"\sin x" + " + x" * terms
    run = cli("diff", long_sum, "--at", "1", "--no-autograd", "--json")
    assert run.exit_code == 0
    assert abs(run.json["gradient"]["x"]["sympy"] - (terms + math.cos(1))) < 1e-9
    deep = r"\sqrt{" * 500 + "x" + "}" * 500
    refused = cli("diff", deep, "--at", "1")
    assert refused.exit_code == 2
    assert "nests more than 400 levels deep" in refused.stderr
