"""The eval-free parser: grammar, precedence, errors with columns."""

import pytest

from gradcalc.errors import ParseError, TooLargeError, UnknownNameError
from gradcalc.parsing import MAX_DEPTH, parse, to_text


@pytest.mark.parametrize(
    "source, expected",
    [
        ("x**2", "(x ** 2)"),
        ("x^2*3", "((x ** 2) * 3)"),  # ^ is power, swapped on tokens
        ("-x**2", "(-(x ** 2))"),
        ("2**-x**2", "(2 ** (-(x ** 2)))"),
        ("2**3**x", "(2 ** (3 ** x))"),  # right-associative
        ("x-y-z", "((x - y) - z)"),  # left-associative
        ("x/y/z", "((x / y) / z)"),
        ("2x", "(2 * x)"),
        ("3(x+1)", "(3 * (x + 1))"),
        ("(x+1)(x-1)", "((x + 1) * (x - 1))"),
        ("(x+1)y", "((x + 1) * y)"),
        ("2x^2", "(2 * (x ** 2))"),
        ("1/2x", "((1 / 2) * x)"),  # implicit multiplication binds like *
        ("2e3x", "(2e3 * x)"),
        ("2e", "(2 * e)"),
        ("+x", "x"),
        ("sin(x)cos(x)", "(sin(x) * cos(x))"),
        ("log(x, 2)", "log(x, 2)"),
        ("max(x, y, z)", "max(x, y, z)"),
        ("ln(x)", "log(x)"),
        ("Abs(x)", "abs(x)"),
        ("mean(x**2)", "mean((x ** 2))"),
        ("detach(x)*x", "(detach(x) * x)"),
    ],
)
def test_grammar(source, expected):
    assert to_text(parse(source).root) == expected


def test_variables_are_discovered_and_sorted():
    assert parse("y*sin(x)+z0+pi+e").variables == ["x", "y", "z0"]


def test_a_variable_is_one_shared_node():
    expr = parse("x*x")
    left, right = expr.root.args
    assert left is right


def test_printing_then_parsing_gives_the_same_tree():
    for source in ["sin(x**2)", "-x**2+3(y-1)/2", "atan2(y, x)^2", "2**-x"]:
        once = to_text(parse(source).root)
        assert to_text(parse(once).root) == once


@pytest.mark.parametrize(
    "source, column, words",
    [
        ("0x1F", 1, "hexadecimal"),
        ("0b101", 1, "binary"),
        ("1j", 1, "complex"),
        ("x.real", 2, "attribute"),
        ("x[y]", 2, "an index is a whole number in brackets"),
        ("x[1.5]", 2, "an index is a whole number in brackets"),
        ("[x, y", 1, "unclosed '['"),
        ("(x]", 3, "'(' at column 1 is closed by ']'"),
        ("[]", 1, "an empty vector"),
        ("'a'", 1, "strings"),
        ("f(x=1)", 4, "'='"),
        ("sin", 1, "function"),
        ("x y", 3, "missing operator"),
        ("1 2", 3, "two numbers"),
        ("(x", 1, "unclosed"),
        ("x)", 2, "unmatched"),
        ("()", 1, "empty"),
        ("sin()", 4, "needs an argument"),
        ("__import__('os')", 1, "names start with a letter"),
        ("I*x", 1, "reserved"),
        ("oo", 1, "reserved"),
        ("True*x", 1, "reserved (a truth value, not a number; write 1)"),
        ("x,y", 2, "outside"),
        ("2//3", 2, "floor division"),
        ("x %2", 3, "modulo"),
        ("\u0445+1", 1, "U+0445"),  # Cyrillic look-alike of x
        ("log(x, 2, 3)", 1, "1 or 2 arguments"),
        ("atan2(x)", 1, "takes 2 arguments"),
        ("min(x)", 1, "at least 2"),
        ("x*", 3, "ends too early"),
        ("*x", 1, "expected a value"),
        ("", 1, "empty"),
    ],
)
def test_parse_errors_name_the_column(source, column, words):
    with pytest.raises(ParseError) as caught:
        parse(source)
    assert caught.value.column == column
    assert words in caught.value.message


def test_unknown_function_suggests_a_close_name():
    with pytest.raises(UnknownNameError) as caught:
        parse("sinn(x)")
    assert "did you mean sin?" in caught.value.message
    assert caught.value.column == 1


def test_no_code_is_executed(tmp_path):
    canary = tmp_path / "canary"
    payloads = [
        f"__import__('os').system('touch {canary}')",
        f"open('{canary}', 'w')",
        "().__class__.__bases__[0].__subclasses__()",
        f"Symbol('x').__class__.__init__.__globals__['os'].system('touch {canary}')",
        "lambda: 1",
        "[c for c in ()]",
    ]
    for payload in payloads:
        with pytest.raises(ParseError):
            parse(payload)
    assert not canary.exists()


def test_nesting_up_to_the_limit_parses_and_beyond_is_a_clear_error():
    depth = MAX_DEPTH - 1
    parse("sin(" * depth + "x" + ")" * depth)
    with pytest.raises(TooLargeError, match="nests"):
        parse("sin(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5))


def test_deep_parentheses_alone_do_not_recurse():
    parse("(" * 5000 + "x" + ")" * 5000)


@pytest.mark.parametrize(
    "text, char, column",
    [
        ("x*\u09ea", "\u09ea", 3),  # Bengali four, which looks like 8
        ("x*\U0001d7d7", "\U0001d7d7", 3),  # mathematical bold nine
        ("x*\uff11", "\uff11", 3),  # full-width one
        ("x*\u30002", "\u3000", 3),  # ideographic space
        ("x\xa0+1", "\xa0", 2),  # no-break space
    ],
)
def test_non_ascii_digits_and_spaces_are_parse_errors(text, char, column):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.column == column
    assert f"unexpected character {char!r}" in caught.value.message


@pytest.mark.parametrize(
    "text, shown",
    [
        ("1e-5000*x", "-5000"),
        ("1e-99999999999999999999*x", "-" + "9" * 19 + "…"),
        ("1e" + "9" * 30 + "*x", "9" * 20 + "…"),
        ("0.5e-999*x", None),  # 5e-1000: within, net of its decimal place
    ],
)
def test_a_literal_exponent_is_bounded_before_anything_is_built(text, shown):
    from gradcalc.parsing import MAX_EXPONENT

    if shown is None:
        parse(text)
        return
    with pytest.raises(TooLargeError) as caught:
        parse(text)
    assert caught.value.message == (
        f"number at column 1 has the exponent {shown}; the limit is ±{MAX_EXPONENT} "
        "(numbers are exact: 1e-5000 would be 1/10**5000)"
    )


@pytest.mark.parametrize(
    "text, base, exponent",
    [
        ("(1/9)**(9**9)*x", "1/9", "387420489"),
        ("0.1**5000*x", "1/10", "5000"),
        ("(2/3)**(-10**4)*x", "3/2", "10000"),
    ],
)
def test_exact_powers_of_fractions_are_refused_before_they_are_built(text, base, exponent):
    import symengine
    import sympy

    from gradcalc.cas import tree as cas

    for module in (sympy, symengine):
        expr = parse(text)
        symbols = {"x": module.Symbol("x")}
        with pytest.raises(TooLargeError, match=r"bits; numbers are limited to 4096 bits"):
            cas.build(expr, symbols, module)


def test_exact_power_bits_counts_numerator_and_denominator():
    import sympy

    from gradcalc.cas.tree import exact_power_bits

    assert exact_power_bits(sympy.Rational(1, 9), sympy.Integer(10)) == 30
    assert exact_power_bits(sympy.Rational(9, 1), sympy.Integer(10)) == 30
    assert exact_power_bits(sympy.Integer(-1), sympy.Integer(10**30)) == 0
    assert exact_power_bits(sympy.Integer(0), sympy.Integer(10**30)) == 0


def test_the_depth_rule_is_the_one_security_md_states():
    """SECURITY.md: the variable or number at the bottom is level 1, each call,
    operator or power above it adds one; parentheses alone build nothing and
    add nothing; a chain a+b+c is one level."""
    from conftest import ROOT

    text = (ROOT / "SECURITY.md").read_text()
    assert f"`sin(` nested {MAX_DEPTH - 1} times around `x` is the deepest" in text
    parse("sin(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1))
    with pytest.raises(TooLargeError, match=f"nests {MAX_DEPTH + 1} levels"):
        parse("sin(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH)
    parse("(" * 5000 + "x" + ")" * 5000)
    parse("+".join(["x"] * 5000))


@pytest.mark.parametrize(
    "literal",
    ["1e999", "2e308", "1.8e308", "179769313486231580793728971405303415079934867229867895250e253"],
)
def test_a_number_past_float64s_range_is_an_input_limit(cli, literal):
    """Exit 2, kind too_large, with its column: no method but SymPy could take it
    (float64's largest, 1.7976931348623157e308, is math's own constant)."""
    import sys

    assert float(literal) > sys.float_info.max or float(literal) == float("inf")
    run = cli("diff", f"{literal}*x", "--at", "1", "--json")
    assert run.exit_code == 2
    error = run.json["error"]
    assert error["kind"] == "too_large" and "column 1" in error["message"]


def test_float64s_largest_number_is_taken(cli):
    run = cli("diff", "1.7976931348623157e308*x", "--at", "1", "--json")
    assert run.exit_code == 0
    assert run.json["gradient"]["x"]["sympy"] == 1.7976931348623157e308
