"""torch's intra-op threads follow the size of the work (gradcalc/threads.py)."""

import os
import subprocess
import sys

import pytest

from gradcalc import threads


def test_small_work_runs_on_one_thread_and_large_on_every_core():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        assert threads.fit(50_000) == 1
        assert torch.get_num_threads() == 1
        cores = max(1, os.cpu_count() or 1)
        assert threads.fit(threads.SERIAL_BELOW) == cores
        assert torch.get_num_threads() == cores
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "sin(x**2)", "--at", "3", "--json"],
        ["diff", "x*y", "--points", "-", "--json"],
        ["graph", "x*x", "--at", "3", "--format", "json"],
    ],
)
def test_the_cli_hands_torch_one_thread(args):
    # Three threads before the command: it must bring them down to one.
    code = (
        "import sys, torch\ntorch.set_num_threads(3)\nfrom gradcalc.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit as e:\n    code = e.code\n"
        "print(torch.get_num_threads(), code)"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], input="x,y\n1,2\n", capture_output=True, text=True
    )
    assert process.stdout.strip().splitlines()[-1] == "1 0", process.stderr[-500:]


def test_blas_gets_one_thread_unless_the_environment_says_otherwise():
    environ: dict = {}
    threads.serial_blas(environ)
    assert environ == {"OPENBLAS_NUM_THREADS": "1"}
    environ = {"OPENBLAS_NUM_THREADS": "4"}
    threads.serial_blas(environ)
    assert environ == {"OPENBLAS_NUM_THREADS": "4"}


@pytest.mark.parametrize("given, expected", [(None, "1"), ("3", "3")])
def test_the_cli_sets_blas_threads_before_numpy_is_imported(given, expected):
    # OpenBLAS reads the variable once, when numpy is imported: main() must
    # set it before anything imports numpy, and keep a value the user set.
    code = (
        "import os, sys\nsys.argv = ['gradcalc', '--version']\nfrom gradcalc import cli\n"
        "before = 'numpy' in sys.modules\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'), before)"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert process.stdout.strip().splitlines()[-1] == f"{expected} False", process.stderr[-500:]
