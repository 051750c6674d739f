import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcalc.cli import RECURSION_LIMIT, app

# The CLI raises the recursion limit on its first run (for SymPy); raised here
# once, so that no test sees it change under it (Hypothesis warns when it does).
sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "gradcalc" / "schemas"

# How long a test waits for a real process before calling it a hang. A test
# bounds time only by a budget gradcalc itself enforces: its CPU time (see
# children_cpu_seconds), never the wall clock, which a loaded machine
# stretches without limit (a run waiting for the CPUs is not ended, budget.py).
# This guard is only there so that a hang fails instead of stalling the
# suite: gradcalc's longest wall-clock ceiling, start-up's, and as much again.
HANG_GUARD_SECONDS = 1200.0


def children_cpu_seconds() -> float:
    """CPU seconds used so far by this process's waited-for children and
    their descendants (gradcalc's budgeted worker included)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pytest_sessionstart(session):
    """Byte-compile gradcalc once, as `pip install` does for a regular install:
    with PYTHONDONTWRITEBYTECODE set (as on the CI machines) an editable
    install has no .pyc files, and each of the suite's real processes would
    compile every module it imports again (about 0.1 s of CPU each; 5 s of
    the suite's time). Once, in the controller, not in each xdist worker."""
    if not hasattr(session.config, "workerinput"):
        import compileall

        compileall.compile_dir(ROOT / "gradcalc", quiet=1)


@pytest.fixture(autouse=True)
def no_fork_unsafe_library():
    """A test that leaves JAX (forking.THREADED) imported in this process
    fails: each xdist worker runs many test modules in a row and forks for
    them (the repl's worker, the API's budget), and a fork after JAX's
    thread pools started crashed a later, unrelated test. Run such code in a
    process of its own (as test_emit's _run_apart does)."""
    from gradcalc.forking import THREADED

    before = {name for name in THREADED if name in sys.modules}
    yield
    loaded = sorted(name for name in THREADED if name in sys.modules and name not in before)
    assert not loaded, f"this test imported {', '.join(loaded)} into the test process"


@pytest.fixture(autouse=True, scope="session")
def spawned_repl_workers():
    """The repl's worker (session.py) starts as a fresh interpreter in the
    test processes, not forked from them: a long-lived xdist worker has run
    hundreds of tests (torch autograd in Dask's threads, Jupyter's ZeroMQ,
    Arrow's pools) by then, and a worker forked from such a process crashed
    in torch's backward (SIGSEGV under jacrev), with and without JAX loaded.
    The repl itself forks its worker from a fresh process, as the tmux and
    pexpect tests run it."""
    from gradcalc import budgeted

    budgeted.Worker.spawn = True
    yield
    budgeted.Worker.spawn = False


class Run:
    def __init__(self, result):
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.exception = result.exception

    @property
    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def cli():
    """Invoke the real Typer app in-process: cli("diff", "x**2", "--at", "2")."""
    runner = CliRunner()

    def invoke(*args, input=None, env=None):
        result = runner.invoke(app, list(args), input=input, env=env or {"NO_COLOR": "1"})
        return Run(result)

    return invoke


def run_subprocess(*args, input=None, env=None):
    """Run `python -m gradcalc` as a real process."""
    environment = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "gradcalc", *args],
        input=input,
        capture_output=True,
        text=True,
        env=environment,
        timeout=HANG_GUARD_SECONDS,
    )


def load_schema(name):
    return json.loads((SCHEMAS / name).read_text())


def validate(document, schema_name):
    """Validate against gradcalc/schemas/NAME, its $refs (repl.schema.json's
    to the one-shot schemas) resolved among the files beside it by $id."""
    import jsonschema
    from referencing import Registry, Resource

    schemas = [load_schema(path.name) for path in SCHEMAS.glob("*.schema.json")]
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas
    )
    schema = load_schema(schema_name)
    jsonschema.validators.validator_for(schema)(schema, registry=registry).validate(document)


def pytest_collection_modifyitems(config, items):
    """Every test that starts a real process is `slow` (so is any test marked
    so by hand): `pytest -m "not slow"` is the fast loop."""
    slow = pytest.mark.slow
    for item in items:
        function = getattr(item, "function", None)
        names = set(getattr(getattr(function, "__code__", None), "co_names", ()))
        if names & {"run_subprocess", "subprocess", "Popen"}:
            item.add_marker(slow)


class Tmux:
    """One tmux window on a server of its own, its socket in a temporary
    directory: with the default server shared, one test's last kill-session
    ends the server while another test's (or the same test's next)
    new-session is connecting to it ("server exited unexpectedly")."""

    def __init__(self, command: str, columns: int, rows: int):
        import tempfile

        self._directory = tempfile.TemporaryDirectory(prefix="gradcalc-tmux-")
        self._base = ["tmux", "-S", os.path.join(self._directory.name, "socket")]
        subprocess.run(
            [*self._base, "new-session", "-d", "-s", "gradcalc"]
            + ["-x", str(columns), "-y", str(rows), command],
            check=True,
            timeout=HANG_GUARD_SECONDS,
        )

    def screen(self) -> str:
        return subprocess.run(
            [*self._base, "capture-pane", "-p", "-t", "gradcalc"],
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
        ).stdout

    def send(self, *keys: str) -> None:
        subprocess.run(
            [*self._base, "send-keys", "-t", "gradcalc", *keys],
            check=True,
            timeout=HANG_GUARD_SECONDS,
        )

    def __enter__(self) -> "Tmux":
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run([*self._base, "kill-server"], check=False, capture_output=True)
        self._directory.cleanup()
