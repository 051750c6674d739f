"""gradcalc repl on a real pipe: what the session answers by itself (`at`,
`ans` before any diff, a line it cannot split, `quit` with words after it, a
nested `repl`) is said as every command's error is (a JSON error line on
stdout under --json AND the one-line `gradcalc: error: ...` on stderr); `at`
refuses at once a value `--at` refuses; every --json line follows
repl.schema.json."""

import json
import os
import subprocess
import sys

import pytest
from conftest import HANG_GUARD_SECONDS, validate


def _session(lines, *args):
    """`gradcalc repl ARGS` with `lines` on its stdin, a real process."""
    return subprocess.run(
        [sys.executable, "-m", "gradcalc", "repl", *args],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        env=dict(os.environ, NO_COLOR="1"),
    )


# Lines the session refuses itself, and the one line each is refused with.
REFUSED = {
    "ans": "ans: no derivative yet (ans is the last diff's derivative)",
    'diff "x^2 --at 1': "cannot read the line: No closing quotation",
    "quit now": "quit takes nothing after it: quit alone leaves",
    "repl": "this is a session already: its lines are command lines",
    "at x=[1,2": "at x: unclosed '[' in '[1,2'",
}


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_the_sessions_own_errors_have_their_stderr_line_as_every_error_does(as_json):
    """Each refused line: exit status 2 counted, one stderr line; under --json
    also one error document (kind, message, exit_code 2). Before, under --json
    these printed no stderr line while the worker's errors (a parse error
    here) did."""
    lines = [*REFUSED, "diff 'sin(' --at 1"]
    run = _session(lines, *(["--json"] if as_json else []))
    messages = [*REFUSED.values(), "expression ends too early at column 5"]
    said = [line for line in run.stderr.splitlines() if line.startswith("gradcalc:")]
    assert said == [f"gradcalc: error: {m}" for m in messages], run.stderr
    assert run.returncode == 2
    if not as_json:
        assert run.stdout == ""
        return
    documents = [json.loads(line) for line in run.stdout.splitlines()]
    assert [d["error"]["message"] for d in documents] == messages
    assert [d["exit_code"] for d in documents] == [2] * len(lines)
    for document in documents:
        validate(document, "repl.schema.json")


# `at` values, each with the --at spec the one-shot diff refuses the same way.
BAD_VALUES = ["x=[1,2", "x=", "x=foo", "x=1e999", "x=[1,[2]]", "x=1,2", "=3", "x=[]"]


def test_at_refuses_at_once_what_at_refuses_and_keeps_the_point(cli):
    """`at x=[1,2` was accepted (exit 0) and broke every later bare
    expression. Now each bad value is refused on its own line, with the
    message `diff --at VALUE` gives (spelt `at`, the session's word), and the
    point stays x=1: x^3 there is 1, its derivative 3."""
    lines = ["at x=1", *(f"at {spec}" for spec in BAD_VALUES), "x^3"]
    run = _session(lines, "--json")
    documents = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(documents) == len(lines)
    assert documents[0]["message"] == "point: x=1"
    for spec, document in zip(BAD_VALUES, documents[1:-1], strict=True):
        once = cli("diff", "x^3", "--at", spec, "--json")
        assert once.exit_code == 2, spec
        expected = once.json["error"]["message"].replace("--at", "at", 1)
        assert document["error"] == {"kind": once.json["error"]["kind"], "message": expected}
        assert document["exit_code"] == 2
    last = documents[-1]
    assert last["point"] == {"x": 1.0} and last["exit_code"] == 0
    assert last["value"] == 1.0 and last["gradient"]["x"]["sympy"] == 3.0
    assert run.returncode == 2


def test_at_with_a_value_that_has_no_name_stands_alone():
    """`at 0.5` is a one-variable point; `at [1,2` is refused as --at refuses
    '[1,2' (unclosed), and a name that is no variable's name is refused."""
    run = _session(["at 0.5", "at [1,2", "at 1x=3", "sin(t)"], "--json")
    documents = [json.loads(line) for line in run.stdout.splitlines()]
    assert documents[0]["message"] == "point: 0.5"
    assert documents[1]["error"]["message"] == "at: unclosed '[' in '[1,2'"
    assert documents[2]["error"]["message"] == "at: '1x' is not a variable name"
    assert documents[3]["point"] == {"t": 0.5} and documents[3]["exit_code"] == 0


# A session that prints every kind of document: each line -> the one-shot
# schema of its document (None: one of the session's own).
SESSION = {
    'diff "x^2" --at 1': "diff.schema.json",
    'diff "log(x)" --at 0': "error.schema.json",
    'diff "x^2*y" --explain': "explain.schema.json",
    'diff "x^2+y^2=1" --implicit y --at x=0.6,y=0.8': "implicit.schema.json",
    "graph x*x --at 3": "graph.schema.json",
    "perceptron --x 6.7 --y 0": "perceptron.schema.json",
    "perceptron --x 1,2 --y 1 --loss ce --classes 3": "perceptron-ce.schema.json",
    "accumulate x**2 --at 2 --passes 2": "accumulate.schema.json",
    "functions": "functions.schema.json",
    'emit "x^2" --to numpy': "emit.schema.json",
    'taylor "exp(x)" --at 0 --order 3': "taylor.schema.json",
    'taylor "exp(x)" --at 0 --order 2 --explain': "taylor-explain.schema.json",
    'plot "x^2" --at 1': "plot.schema.json",
    'plot "sin(x)" --at 1 --fd-error': "fd_error.schema.json",
    "check gradcalc.usercode.examples:softplus --at x=[0.5,-2,3]": "check.schema.json",
    "completion bash": None,
    "help": None,
    "at x=2": None,
    "ans": "error.schema.json",
}


def test_every_json_line_of_a_session_follows_repl_schema():
    """Each line carries `exit_code`, which the one-shot schemas did not
    allow: repl.schema.json is the line's schema (a command's document is its
    one-shot schema's, which allows `exit_code`, plus `exit_code` required).
    Each line is valid against it, and without `exit_code` against its
    command's one-shot schema."""
    run = _session(list(SESSION), "--json")
    documents = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(documents) == len(SESSION), run.stderr
    for (line, schema), document in zip(SESSION.items(), documents, strict=True):
        validate(document, "repl.schema.json")
        assert isinstance(document["exit_code"], int), line
        if schema is not None:
            validate({k: v for k, v in document.items() if k != "exit_code"}, schema)
    assert documents[0]["exit_code"] == 0 and documents[1]["exit_code"] == 3
    assert run.returncode == 3


def test_a_document_without_exit_code_is_no_repl_line():
    """The schema decides: the one-shot document alone is not a session's
    line, and a field no schema names is refused."""
    import jsonschema

    error = {"schema_version": 1, "error": {"kind": "usage", "message": "m"}}
    validate({**error, "exit_code": 2}, "repl.schema.json")
    with pytest.raises(jsonschema.ValidationError):
        validate(error, "repl.schema.json")
    with pytest.raises(jsonschema.ValidationError):
        validate({**error, "exit_code": 2, "line": 1}, "repl.schema.json")


def test_at_reads_blanks_around_the_equals_sign():
    """`at x = 3` set the point to the value-without-a-name "3" (its three
    words were read as three specs, the last replacing the others)."""
    run = _session(["at x = 3", "at y= [1, 2]", "x*y"], "--json")
    documents = [json.loads(line) for line in run.stdout.splitlines()]
    assert [d["message"] for d in documents[:2]] == ["point: x=3", "point: x=3,y=[1, 2]"]
    assert documents[2]["point"] == {"x": 3.0, "y": [1.0, 2.0]}
    assert documents[2]["value"] == [3.0, 6.0] and run.returncode == 0
