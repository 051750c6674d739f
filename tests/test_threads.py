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


# In the process that computes, as it ends (main() ends every process with
# os._exit): whether numpy was imported, and how many threads its OpenBLAS
# itself says it runs (asked through the library numpy bundles).
_BLAS_PROBE = """
import ctypes, glob, os, sys
real_exit = os._exit
def reporting_exit(code):
    if "numpy" in sys.modules:
        import numpy
        folder = os.path.join(os.path.dirname(numpy.__file__), "..", "numpy.libs")
        (library,) = glob.glob(os.path.join(folder, "libscipy_openblas*"))
        count = ctypes.CDLL(library).scipy_openblas_get_num_threads64_()
        os.write(2, f"openblas threads {count}\\n".encode())
    real_exit(code)
os._exit = reporting_exit
sys.argv = ["gradcalc", "diff", "x**2", "--at", "3", "--no-autograd"]
from gradcalc import cli
assert "numpy" not in sys.modules
cli.main()
"""


@pytest.mark.parametrize("given", [None, "2"])
def test_the_cli_sets_blas_threads_before_numpy_is_imported(given):
    """OpenBLAS reads the variable once, when numpy is imported: main() must
    set it before anything imports numpy, and keep a value the user set. A
    command that computes with numpy is asked, not --version (which never
    imports numpy)."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    expected = 1 if given is None else min(int(given), os.cpu_count() or 1)
    process = subprocess.run(
        [sys.executable, "-c", _BLAS_PROBE], capture_output=True, text=True, env=env
    )
    assert process.returncode == 0, process.stderr[-500:]
    assert "✓ the symbolic derivative and finite differences agree" in process.stdout  # computed
    assert f"openblas threads {expected}\n" in process.stderr, process.stderr[-500:]


def test_many_points_in_the_callers_process_run_torch_on_one_thread_and_put_its_count_back(
    monkeypatch,
):
    """gradcalc.points fits torch's threads to a chunk while it answers
    (threads.fitted) and leaves the caller's own setting as it found it."""
    import numpy as np
    import torch

    import gradcalc
    from gradcalc import batch

    seen = []
    answer = batch._Chunk.finish

    def recording(self):
        seen.append(torch.get_num_threads())
        return answer(self)

    monkeypatch.setattr(batch._Chunk, "finish", recording)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        gradcalc.points("sin(x**2)", {"x": np.linspace(-1, 1, 20)})
        assert seen == [1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
