"""gradcalc never forks a process that holds JAX's threads, and never loads
JAX into its own: `emit --to jax` checks its code in a process of its own;
the API's budget runs the work in a spawned interpreter when the caller has
imported JAX (the answer and the budget as with a fork); the console
command runs in-process and starts no helper there. Counted with
os.register_at_fork in real processes that import JAX and run a jitted
function (XLA's thread pools up); answers checked against hand derivatives."""

from __future__ import annotations

import functools
import json
import math
import operator
import subprocess
import sys
import types

import pytest
from conftest import HANG_GUARD_SECONDS, ROOT

from gradcalc import budgeted, forking

REL = 1e-14  # float64 derivatives of one-term formulas against the same formula by hand

# Run first in each process below: count forks, then start XLA's threads.
WITH_JAX = """
import json, os, sys
forks = []
os.register_at_fork(before=lambda: forks.append(1))
import jax, jax.numpy as jnp
jax.jit(lambda v: jnp.sum(jnp.sin(v) ** 2))(jnp.arange(1000.0)).block_until_ready()
"""


def _python(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITH_JAX + script, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=HANG_GUARD_SECONDS,
    )


def test_emit_to_jax_checks_its_code_elsewhere_and_leaves_no_jax_here(cli):
    run = cli("emit", "logsumexp(x)*y", "--to", "jax", "--at", "x=[1,2],y=0.5", "--json")
    assert run.exit_code == 0, run.stderr
    certificate = run.json["certificate"]
    assert (certificate["ran"], certificate["passed"]) == (True, True)
    assert certificate["method"] == "run in a fresh Python process"
    assert certificate["largest_error"] <= certificate["tolerance"]
    assert "jax" not in sys.modules and "jaxlib" not in sys.modules


def test_the_api_does_not_fork_a_process_that_holds_jax():
    done = _python(
        """
import gradcalc
result = gradcalc.diff("sin(x**2)", at={"x": 3})
graph = gradcalc.graph("x*x", at={"x": 3})
try:
    gradcalc.diff("x**2", at=3, timeout=1e-6)
    over = None
except gradcalc.BudgetError as error:
    over = str(error)
print(json.dumps({"diff": result.to_dict(), "grad_fn": graph.to_dict()["nodes"][0]["grad_fn"],
                  "over": over, "forks": len(forks)}))
"""
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    gradient = answer["diff"]["gradient"]["x"]
    want = 6 * math.cos(9)  # d/dx sin(x**2) = 2x cos(x**2) at 3
    assert gradient["sympy"] == pytest.approx(want, rel=REL)
    assert gradient["autograd"] == pytest.approx(want, rel=REL)
    assert answer["diff"]["status"] == "agree"
    assert answer["grad_fn"] == "MulBackward0"
    # The budget holds in the spawned child as in a forked one.
    assert answer["over"].startswith("computing used more than 1e-06 s of CPU time")
    assert answer["forks"] == 0
    assert "os.fork() was called" not in done.stderr  # JAX's own warning


def test_the_command_line_runs_in_process_without_a_helper_where_jax_is(tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x\n1\n2\n3\n")
    counted = tmp_path / "forks.txt"
    done = _python(
        """
sys.argv, counted = ["gradcalc", "diff", "x**3", "--points", sys.argv[1], "--json"], sys.argv[2]
open(counted, "w").close()
os.register_at_fork(before=lambda: print("fork", file=open(counted, "a")))
from gradcalc.cli.supervisor import main
main()  # (on its forking path main ends with os._exit: hence the file)
""",
        str(points),
        str(counted),
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    got = [row["gradient"]["x"]["autograd"] for row in rows]
    assert got == pytest.approx([3.0, 12.0, 27.0], rel=REL)  # 3x**2
    assert [row["status"] for row in rows] == ["agree"] * 3
    assert counted.read_text() == ""  # no fork


def test_a_budgeted_call_where_jax_is_runs_in_a_process_without_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", types.ModuleType("jax"))
    assert forking.hazard() == "jax"
    # The child answers what it sees: a forked child would see the module.
    assert budgeted.call(forking.hazard, 60.0, RuntimeError) is None
    with pytest.raises(ZeroDivisionError):  # an exception comes back as raised there
        budgeted.call(functools.partial(operator.truediv, 1, 0), 60.0, RuntimeError)


def test_without_jax_a_budgeted_call_forks_as_before(monkeypatch):
    assert forking.hazard() is None
    # A forked child is a copy of this process: it sees a module only this one has.
    monkeypatch.setitem(sys.modules, "gradcalc_marker", types.ModuleType("gradcalc_marker"))
    assert budgeted.call(lambda: "gradcalc_marker" in sys.modules, 60.0, RuntimeError) is True


def test_without_the_targets_library_the_code_is_not_run_and_said_so():
    from gradcalc.emit import code, runners, symbolic
    from gradcalc.parsing import parse

    expression = parse("sin(x)")
    program = symbolic.build(expression, {}, expression.variables, 1)
    written = code.write(program, "jax")
    run = runners._fresh_python("gradcalc_no_such_library")
    results = run(program, written, [{"x": 0.5}])
    assert (results.ran, results.outputs) == (False, [])
    assert results.note == "not run: gradcalc_no_such_library is not installed in this Python"


def test_the_repl_worker_is_spawned_not_forked_where_jax_is():
    """The crash's own requests, in a session of a process that holds JAX's threads."""
    done = _python(
        """
import typer
from gradcalc.cli import app
from gradcalc.session import Session
session = Session(command=typer.main.get_command(app), json=True)
answers = [session.handle(line) for line in
           ["diff 'softmax(x)' --at x=[1,2]", "ans + 1", "diff 'sin(x**2)' --at 3"]]
print(json.dumps({"answers": [json.loads(a.stdout) for a in answers], "forks": len(forks)}))
"""
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    jacobian, refused, derivative = got["answers"]
    assert jacobian["exit_code"] == 0
    assert refused["exit_code"] == 2
    assert refused["error"]["message"].startswith("ans: the last derivative is a 2×2 Jacobian")
    assert derivative["gradient"]["x"]["sympy"] == pytest.approx(6 * math.cos(9), rel=REL)
    assert got["forks"] == 0
