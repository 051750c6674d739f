"""Property-based fuzzing of the parser and the CLI (hypothesis).

A short, derandomized run in CI; the long run:

    GRADCALC_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py -p no:randomly -q

Properties: no input executes code (a canary file), the parser raises only its
own errors, printing and re-parsing gives the same tree, the CLI exits only
with 0-3 and one line on stderr (never a traceback), its JSON is strict, and
valid expressions give agreeing methods or a diagnosed kink or domain error.
"""

import contextlib
import json
import os
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcalc.errors import GradcalcError
from gradcalc.functions import FUNCTIONS
from gradcalc.parsing import parse, to_text

EXAMPLES = int(os.environ.get("GRADCALC_FUZZ_EXAMPLES", "60"))
LONG = "GRADCALC_FUZZ_EXAMPLES" in os.environ
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

CANARY = Path(tempfile.gettempdir()) / "gradcalc-fuzz-canary"
PAYLOADS = [
    f"__import__('os').system('touch {CANARY}')",
    f"open('{CANARY}', 'w')",
    f"exec(\"open('{CANARY}','w')\")",
    "().__class__.__bases__[0].__subclasses__()",
    f"Symbol('x').__class__.__init__.__globals__['os'].system('touch {CANARY}')",
]
NAMES = [f.name for f in FUNCTIONS] + [
    "x",
    "y",
    "pi",
    "e",
    "I",
    "lambda",
    "__import__",
    "os",
    "eval",
    "gamma",
    "S",
    "N",
]
PIECES = (
    NAMES
    + PAYLOADS
    + list("+-*/^(),.[]{}'\"=:;!%@&|~\\#$`_ ")
    + ["**", "//", "0x1F", "1j", "1e999", "9**9**9", "\u0445", "\uff58", "\u2212", "\t", "\n"]
)

soups = st.lists(st.sampled_from(PIECES) | st.text(string.printable, max_size=3), max_size=25).map(
    "".join
)


def _leaf():
    return st.sampled_from(["x", "y", "2", "0.5", "3", "pi", "e"])


SMOOTH = [
    f.name
    for f in FUNCTIONS
    if f.arity == (1, 1) and f.kink is None and not f.reduces and f.name != "detach"
]


def _extend(children):
    unary = st.tuples(st.sampled_from(SMOOTH + ["abs", "relu", "sign", "detach"]), children).map(
        lambda t: f"{t[0]}({t[1]})"
    )
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^", "**"]), children).map(
        lambda t: f"({t[0]}){t[1]}({t[2]})"
    )
    implicit = st.tuples(st.sampled_from(["2", "3"]), children).map(lambda t: f"{t[0]}({t[1]})")
    return unary | binary | implicit


valid = st.recursive(_leaf(), _extend, max_leaves=6)


@FUZZ
@given(soups)
def test_parser_raises_only_its_own_errors(text):
    with contextlib.suppress(GradcalcError):
        parse(text)


@FUZZ
@given(valid)
def test_printing_then_parsing_gives_the_same_tree(text):
    once = to_text(parse(text).root)
    assert to_text(parse(once).root) == once


def _check_against_mpmath(text, document):
    import reference

    if "detach" in text:
        return  # mpmath has no notion of a value without a gradient
    point = {k: float(v) for k, v in document["point"].items()}
    for entry in document["derivatives"]:
        expected = reference.derivative(text, point, tuple(entry["wrt"]))
        if expected is None or abs(expected) > 1e12:
            continue  # mpmath cannot step around the point: nothing to compare
        assert entry["sympy"] == pytest.approx(expected, rel=1e-7, abs=1e-9), (text, entry)


def _strict_json(text):
    def refuse(constant):
        raise AssertionError(f"non-strict JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def _check_run(run):
    assert run.exit_code in (0, 1, 2, 3), (run.exit_code, run.stderr)
    assert "Traceback" not in run.stdout + run.stderr
    assert run.stderr.count("\n") <= 1, run.stderr
    return _strict_json(run.stdout)


@FUZZ
@given(text=soups, point=st.sampled_from(["1", "x=1,y=2", "0", "-1.5", "x=[1,2]"]))
def test_cli_on_token_soup(cli, text, point):
    run = cli("diff", text, "--at", point, "--json")
    _check_run(run)
    assert not CANARY.exists()


@FUZZ
@given(
    text=valid, x=st.sampled_from(["0.3", "1.7", "-0.6", "2"]), y=st.sampled_from(["0.9", "-1.2"])
)
def test_cli_on_valid_expressions(cli, text, x, y):
    variables = parse(text).variables
    point = ",".join(f"{v}={ {'x': x, 'y': y}[v] }" for v in variables) or "x=1"
    run = cli("diff", text, "--at", point, "--json")
    document = _check_run(run)
    if not variables:
        assert run.exit_code == 2
        return
    if run.exit_code in (0, 1) and document["status"] in ("agree", "disagree"):
        # Smooth here: the symbolic reference must match an independent one
        # (mpmath at 50 digits), whatever the other methods said; a
        # disagreement is then autograd's or finite differences' float64.
        _check_against_mpmath(text, document)
    if run.exit_code == 0:
        assert document["agree"] is True
    elif run.exit_code == 1:
        assert document["status"] in ("not_differentiable", "disagree")
    elif run.exit_code == 3:
        assert document.get("status") == "undefined" or document["error"]["kind"] in (
            "domain",
            "overflow",  # f finite, a part past float64's range (overflow.py)
            "rounding",  # f finite, a part float64's rounding makes infinite (overflow.py)
            "too_large",
        )
    else:
        pytest.fail(f"exit 2 for a valid expression: {run.stderr}")
