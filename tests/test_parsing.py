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
        ("x[0]", 2, "brackets"),
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
