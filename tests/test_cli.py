"""The real CLI: exit codes, exact JSON fields, schemas, subprocess runs."""

import json
import subprocess
import sys

import pytest
from conftest import run_subprocess, validate


def test_diff_json_has_the_spec_fields(cli):
    run = cli("diff", "sin(x**2)", "--at", "3", "--json")
    assert run.exit_code == 0
    document = run.json
    validate(document, "diff.schema.json")
    assert document["schema_version"] == 1
    assert document["expression"] == "sin(x**2)"
    assert document["variables"] == ["x"]
    assert document["point"] == {"x": 3.0}
    assert document["dtype"] == "float64"
    assert abs(document["value"] - 0.4121184852417566) < 1e-15
    gradient = document["gradient"]["x"]
    assert gradient["symbolic"] == "2*x*cos(x**2)"
    for key in ("sympy", "autograd", "finite_difference"):
        assert abs(gradient[key] - -5.466781571308061) < 1e-9
    assert gradient["agree"] is True
    assert document["agree"] is True and document["differentiable"] is True
    assert document["derivatives"][0]["wrt"] == ["x"]


def test_diff_table_output(cli):
    run = cli("diff", "sin(x**2)", "--at", "3")
    assert run.exit_code == 0
    assert "2*x*cos(x**2)" in run.stdout
    assert "-5.466781571 " in run.stdout  # 10 significant digits by default
    assert "agree" in run.stdout
    assert "\x1b[" not in run.stdout  # not a terminal: no escape codes


def test_kink_exits_1_and_says_why(cli):
    run = cli("diff", "abs(x)", "--at", "0", "--json")
    assert run.exit_code == 1
    document = run.json
    validate(document, "diff.schema.json")
    assert document["differentiable"] is False and document["agree"] is False
    assert document["status"] == "not_differentiable"
    (kink,) = document["kinks"]
    assert kink["at"] == "abs(x)"
    assert kink["left_derivative"] == pytest.approx(-1.0, abs=1e-6)
    assert kink["right_derivative"] == pytest.approx(1.0, abs=1e-6)
    assert document["gradient"]["x"]["autograd"] == 0.0


def test_relu_kink_in_human_output(cli):
    run = cli("diff", "relu(x)", "--at", "0")
    assert run.exit_code == 1
    words = " ".join(run.stdout.split())
    assert "not differentiable" in words and "left derivative is 0 and the right 1" in words


def test_undefined_exits_3_with_json_error(cli):
    run = cli("diff", "log(x)", "--at", "0", "--json")
    assert run.exit_code == 3
    document = run.json
    validate(document, "error.schema.json")
    assert document["error"]["kind"] == "domain"
    assert "log(x)" in document["error"]["message"]
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("gradcalc: error:")


def test_infinite_derivative_exits_3_with_strict_json(cli):
    run = cli("diff", "sqrt(x)", "--at", "0", "--json")
    assert run.exit_code == 3

    def refuse(constant):
        raise AssertionError(f"non-strict JSON constant {constant}")

    document = json.loads(run.stdout, parse_constant=refuse)  # json.loads alone accepts NaN
    validate(document, "diff.schema.json")
    assert document["gradient"]["x"]["sympy"] is None
    assert document["gradient"]["x"]["sympy_nonfinite"] == "undefined"
    assert document["status"] == "undefined"


@pytest.mark.parametrize(
    "args, kind",
    [
        (["diff", "sin(x", "--at", "1"], "parse"),
        (["diff", "foo(x)", "--at", "1"], "unknown_name"),
        (["diff", "x*y", "--at", "1"], "point"),
        (["diff", "x", "--at", "x=abc"], "point"),
        (["diff", "x", "--at", "1", "--wrt", "q"], "usage"),
        (["diff", "x", "--at", "1", "--dtype", "float16"], "usage"),
        (["diff", "x", "--at", "1", "--order", "9"], "usage"),
        (["diff", "x", "--nope"], "usage"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, args, kind):
    run = cli(*args, "--json")
    assert run.exit_code == 2
    validate(run.json, "error.schema.json")
    assert run.json["error"]["kind"] == kind
    assert run.stderr.count("\n") == 1
    assert "Traceback" not in run.stderr + run.stdout


def test_parse_error_json_names_the_column(cli):
    run = cli("diff", "x + 0x10", "--at", "1", "--json")
    assert run.json["error"]["column"] == 5


def test_hessian_json(cli):
    run = cli("diff", "x**2*y", "--at", "x=1,y=2", "--order", "2", "--json")
    assert run.exit_code == 0
    document = run.json
    validate(document, "diff.schema.json")
    assert "gradient" not in document
    entries = {tuple(d["wrt"]): d for d in document["derivatives"]}
    assert entries[("x", "x")]["sympy"] == 4.0
    assert entries[("x", "y")]["sympy"] == 2.0
    assert entries[("y", "y")]["sympy"] == 0.0


def test_vector_json_lists_have_the_shape_of_the_value(cli):
    run = cli("diff", "mean(x**2)", "--at", "x=[1,2,3]", "--json")
    gradient = run.json["gradient"]["x"]
    assert len(gradient["sympy"]) == len(gradient["autograd"]) == 3
    assert gradient["autograd"] == pytest.approx([2 / 3, 4 / 3, 2.0], rel=1e-15)
    validate(run.json, "diff.schema.json")


def test_repeated_at_and_wrt(cli):
    run = cli("diff", "x*y", "--at", "x=1", "--at", "y=2", "--wrt", "y", "--json")
    assert list(run.json["gradient"]) == ["y"]
    assert run.json["gradient"]["y"]["sympy"] == 1.0


def test_functions_lists_the_table(cli):
    from gradcalc.functions import FUNCTIONS

    run = cli("functions", "--json")
    validate(run.json, "functions.schema.json")
    assert [f["name"] for f in run.json["functions"]] == [f.name for f in FUNCTIONS]
    assert run.json["constants"]["pi"] == pytest.approx(3.141592653589793, rel=1e-16)


def test_every_schema_is_listed_in_the_readme():
    from conftest import ROOT, SCHEMAS

    readme = (ROOT / "README.md").read_text()
    for schema in sorted(SCHEMAS.glob("*.schema.json")):
        assert schema.name in readme, schema.name


@pytest.mark.parametrize("value", ["nan", "-1", "inf", "soon"])
def test_bad_timeout_exits_2(cli, value):
    run = cli("diff", "x", "--at", "1", "--timeout", value, "--json")
    assert run.exit_code == 2 and run.json["error"]["kind"] == "usage"


def test_no_color_means_no_markup_even_on_a_terminal():
    """Run under a pseudo-terminal: NO_COLOR must remove bold and dim too."""
    import os
    import pty

    command = [sys.executable, "-m", "gradcalc", "diff", "x**2", "--at", "3", "--no-autograd"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout is the terminal
        os.environ["NO_COLOR"] = "1"
        os.execv(sys.executable, command)
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
    assert b"agree" in output
    assert b"\x1b[" not in output


def test_version(cli):
    import gradcalc

    run = cli("--version")
    assert run.exit_code == 0 and run.stdout == f"gradcalc {gradcalc.__version__}\n"


# -- real processes -------------------------------------------------------


def test_subprocess_diff_json():
    process = run_subprocess("diff", "sin(x**2)", "--at", "2", "--json")
    assert process.returncode == 0
    document = json.loads(process.stdout)
    assert document["gradient"]["x"]["sympy"] == pytest.approx(-2.6145744834544478, rel=4e-15)


def test_subprocess_exit_codes():
    assert run_subprocess("diff", "abs(x)", "--at", "0").returncode == 1
    bad = run_subprocess("diff", "sin(", "--at", "0")
    assert bad.returncode == 2
    assert bad.stderr.startswith("gradcalc: error:") and "Traceback" not in bad.stderr
    assert run_subprocess("diff", "1/x", "--at", "0", "--no-autograd").returncode == 3


def test_subprocess_no_colour_when_piped():
    process = run_subprocess("diff", "x**2", "--at", "2", "--no-autograd", env={"FORCE_COLOR": ""})
    assert "\x1b[" not in process.stdout


@pytest.mark.parametrize(
    "args", [("diff", "sin(x**2)", "--at", "3"), ("perceptron", "--x", "6.7", "--y", "0")]
)
def test_piped_tables_have_no_trailing_spaces(cli, args):
    """Rich pads a table's own title to the table's width; titles are lines."""
    lines = cli(*args).stdout.splitlines()
    assert lines and [line for line in lines if line != line.rstrip()] == []


def test_a_table_title_wider_than_its_table_is_one_line(cli):
    lines = cli("accumulate", "x**2", "--at", "2", "--passes", "3").stdout.splitlines()
    assert lines[0] == "x**2: backward() 3 times, without zeroing .grad"


def test_help_imports_neither_torch_nor_sympy():
    code = (
        "import sys\nfrom gradcalc.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'sympy') if m in sys.modules))"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert process.stdout.strip().endswith("[]"), process.stdout[-200:]


def test_an_escaped_bug_is_one_line_and_exit_70(monkeypatch, cli):
    import gradcalc.pointcheck

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(gradcalc.pointcheck, "differentiate", broken)
    run = cli("diff", "x", "--at", "1")
    assert run.exit_code == 70
    assert run.stderr.startswith("gradcalc: error: internal error: ValueError: boom")
    assert run.stderr.count("\n") == 1


def test_the_expression_is_parsed_once_though_checked_before_torch(cli, monkeypatch):
    from gradcalc import parsing

    built = []
    parser = parsing._Parser
    monkeypatch.setattr(parsing, "_Parser", lambda text: built.append(text) or parser(text))
    text = "sin(x**2) + 0*" + "x*" * 50 + "x"  # not parsed by any earlier test
    assert cli("diff", text, "--at", "3", "--json").exit_code == 0
    assert built.count(text) == 1


def test_training_has_one_spelling(cli):
    """--train read as a flag that took a number (`--train --epochs 5` said
    "'--epochs' is not a whole number"): --epochs is the one spelling."""
    run = cli("perceptron", "--x", "6.7", "--y", "0", "--train", "--epochs", "5")
    assert run.exit_code == 2 and "No such option: --train" in run.stderr
    assert cli("perceptron", "--x", "6.7", "--y", "0", "--epochs", "5").exit_code == 0
