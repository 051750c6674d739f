"""Time gradcalc side by side with its anchors and print ratios.

    python benchmarks/run.py            # every case, 3 runs each (median)
    python benchmarks/run.py --runs 5 --only small,nest100
    python benchmarks/run.py --save     # every case; record them (results.json, the page)
    python benchmarks/run.py --render   # docs/benchmarks.md from results.json, measuring nothing
    python benchmarks/run.py --check    # exit 1 if docs/benchmarks.md is stale
    python benchmarks/run.py --usercheck  # gradcalc.check beside torch.autograd.gradcheck

Each command runs as a fresh process (start-up included, as a user sees it);
peak memory is the larger of the process's maximum resident set and the
summed proportional set size of its process tree, sampled every
TREE_SECONDS (`diff --points` runs a helper process that nothing waits
for, so the first alone would leave it out). Ratios compare against the
baseline named in each row; a row with a target runs its baseline command in
alternation with it, so that a drifting machine moves both alike. The targets
are the ones docs/speed.md discusses.
Not part of the test suite: the machines are too noisy for timed asserts.

gradcalc runs as the `gradcalc` console script of this Python's environment
(`python -m gradcalc` when there is none). Its package is byte-compiled first,
as `pip install` does: an editable install under PYTHONDONTWRITEBYTECODE=1
would otherwise compile every module on every run.

`--save` records each row's minimum, median and maximum time, its peak
memory, ratio and target, with the date and the machine's facts, in
benchmarks/results.json, and renders docs/benchmarks.md from it (`render`);
a test holds the page to the file and the file to the rows `plan` defines.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
PAGE = HERE.parent / "docs" / "benchmarks.md"
POINTS = 1_000_000  # rows of the million case
BIG = 10_000_000  # rows of the memory case

PY = sys.executable
_SCRIPT = Path(PY).with_name("gradcalc")
GRADCALC = [str(_SCRIPT)] if _SCRIPT.exists() else [PY, "-m", "gradcalc"]
FLOOR = [PY, "-c", "import torch, sympy, typer, rich"]
TORCH = [PY, "-c", "import torch"]  # the baseline for one diff

EXPRESSIONS = {
    "small": "sin(x**2)",
    "nest100": "x",
    "product200": "*".join(f"sin({k}*x + x**({k + 1}))" for k in range(1, 201)),
    "sum2000": " + ".join(f"{k}*sin({k}*x)" for k in range(1, 2001)),
}
VECTOR_EXPRESSIONS = (
    "mean(x**2)",
    "sum((x - mean(x))**2)",
    "mean(sin(a*x)*exp(-x/10)) + log(sum(x**2))",
    "sum(relu(x - 2)*a) + x*mean(x)",
)
# depth-100 nesting of sin and square: sin((sin((...)**2 + 1))**2 + 1). The
# "+ 1" keeps every level away from 0, so the derivative that the anchors and
# gradcalc must agree on is not 0 (sin(u**2) alone sinks to 0 within a few levels).
_nest = "x"
for _ in range(50):
    _nest = f"sin(({_nest})**2 + 1)"
EXPRESSIONS["nest100"] = _nest

MINIMAL_TYPER_APP = '''
import typer
app = typer.Typer()
@app.command()
def one(x: int = 1):
    """One."""
@app.command()
def two(y: int = 1):
    """Two."""
app()
'''

# Each anchor prints the derivative it computed at x = 0.5 as its last word;
# the benchmark compares it with gradcalc's (VALUES_AGREE) and stops if they
# differ: an anchor that computes something else times nothing.
SYMPY_ANCHOR = """
import sys, threading, sympy
# SymPy recurses: deep nesting needs the stack gradcalc gives it too.
sys.setrecursionlimit(60_000)
threading.stack_size(512 * 1024 * 1024)
x = sympy.Symbol("x", real=True)

def run():
    # The text's x must be this x: sympify would make its own Symbol('x'), and
    # the derivative with respect to the real one would be 0.
    f = sympy.sympify(open(sys.argv[1]).read(), locals={"x": x})  # trusted benchmark input
    d = sympy.diff(f, x)
    print(str(d)[:80], float(d.evalf(30, subs={x: sympy.Float(0.5, 30)})))

worker = threading.Thread(target=run)
worker.start()
worker.join()
"""

SYMENGINE_ANCHOR = """
import sys, symengine
x = symengine.Symbol("x")
f = symengine.sympify(open(sys.argv[1]).read())  # trusted benchmark input
d = symengine.diff(f, x)
print(str(d)[:80], float(d.subs({x: symengine.RealDouble(0.5)})))
"""

TORCH_ANCHOR = """
import sys, torch
from torch import sin
x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
y = eval(open(sys.argv[1]).read())  # trusted benchmark input
y.backward()
print(x.grad.item())
"""


# gradcalc.points on a DataFrame of argv[1] rows, and its floor: numpy alone
# evaluating f and its derivative on the same array. Each prints the CPU
# seconds of its timed part (after the imports and a warm-up) as its last
# word: both run on one thread (numpy's elementwise operations; torch's
# threads fitted to a chunk), and CPU time does not stretch with the load of
# a shared machine as the wall clock does.
FRAME_SETUP = """
import sys, time
import numpy as np, pandas as pd
frame = pd.DataFrame({"x": np.random.default_rng(1).uniform(-3, 3, int(sys.argv[1]))})
"""
FRAME_FLOOR = (
    FRAME_SETUP
    + """
x = frame["x"].to_numpy()
np.sin(x[:10] ** 2)
start = time.process_time()
f = np.sin(x**2)
d = 2 * x * np.cos(x**2)
print("seconds", time.process_time() - start)
"""
)
FRAME = (
    FRAME_SETUP
    + """
import gradcalc
gradcalc.points("sin(x**2)", frame.iloc[:10])
start = time.process_time()
answers = gradcalc.points("sin(x**2)", frame)
print("seconds", time.process_time() - start)
"""
)

FRAME_RUNS = 7  # runs of each DataFrame row (see plan)
LIMIT_SECONDS = 120.0  # an anchor slower than this is reported as "> 120 s", once
VALUES_AGREE = 1e-6  # relative: float64 anchors through deep nesting round differently
CHECKED = ("small", "symbolic", "nest100", "product200", "sum2000")  # cases with a value


def agree_with(name: str, label: str, value: float, earlier: list) -> None:
    """Stop the benchmark when `value` differs from a value printed earlier
    in the same case: an anchor that computes something else times nothing."""
    for other, seen in earlier:
        if abs(value - seen) > VALUES_AGREE * max(1.0, abs(seen)):
            raise SystemExit(
                f"{name}: {label} computed {value!r}, {other} {seen!r}: "
                "they do not compute the same derivative"
            )


def value_of(output: str) -> float | None:
    """The derivative a run printed: gradcalc's JSON (d/dx's reference), or an
    anchor's last word."""
    import json

    text = output.strip()
    if not text:
        return None
    if text.startswith("{"):
        document = json.loads(text.splitlines()[0])
        return document["derivatives"][0]["sympy"]
    return float(text.split()[-1].replace("\u2212", "-"))  # qalc writes U+2212


def _first_line(command):
    """(seconds until the first line of stdout arrives, peak RSS in MB): the
    process is ended once that line is read."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.kill()
    process.stdout.close()
    _, _, usage = os.wait4(process.pid, 0)
    if not line:
        raise SystemExit(f"benchmark command printed nothing: {' '.join(command)[:200]}")
    return elapsed, usage.ru_maxrss / 1024


def _once(command, stdin=None, stdout=subprocess.DEVNULL, keep=None, mode=""):
    """(wall seconds, peak RSS in MB) of one run; seconds is inf past
    LIMIT_SECONDS. With `keep` (a list), the run's stdout is appended to it
    (written to a file, so reading it costs the timed process nothing).
    `mode` "first_line": the time to the first line of stdout; "inner": the
    seconds the command prints as its last word (timed in-process)."""
    if mode == "first_line":
        return _first_line(command)
    if mode == "inner":
        keep = []
    start = sampled = time.perf_counter()
    tree = 0.0
    capture = tempfile.TemporaryFile() if keep is not None else None  # noqa: SIM115
    process = subprocess.Popen(
        command,
        stdin=stdin and open(stdin),  # noqa: SIM115 - closed with the process
        stdout=capture if capture is not None else stdout,
        stderr=subprocess.DEVNULL,
    )
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > LIMIT_SECONDS:
            process.kill()
            _, status, usage = os.wait4(process.pid, 0)
            return float("inf"), usage.ru_maxrss / 1024
        if time.perf_counter() - sampled > TREE_SECONDS:
            tree, sampled = max(tree, tree_megabytes(process.pid)), time.perf_counter()
        time.sleep(0.005)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"benchmark command failed: {' '.join(command)[:200]}")
    elapsed = time.perf_counter() - start
    if capture is not None:
        capture.seek(0)
        keep.append(capture.read().decode())
        capture.close()
    if mode == "inner":
        elapsed = float(keep[-1].split()[-1])
    return elapsed, max(usage.ru_maxrss / 1024, tree)


TREE_SECONDS = 0.1  # between samples of a run's process tree's memory


def tree_megabytes(root: int) -> float:
    """The proportional set size (MB) of `root` and its descendants, summed:
    a page two of them share counts half to each (/proc/PID/smaps_rollup)."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        except (OSError, ValueError, StopIteration):
            continue
    return total / 1024


def measure(command, runs, against=None, **kwargs):
    """Wall times (s, one per run) and peak RSS (MB) of `command` over `runs`
    runs, and with `against` (a baseline command) the baseline's median
    measured in alternation with it, so that a drifting machine moves both
    alike. A run past LIMIT_SECONDS (inf) ends the series."""
    times, peaks, baseline = [], [], []
    for run in range(runs):
        if against is not None:
            baseline.append(_once(against)[0])
        if kwargs.get("mode"):
            seconds, peak = _once(command, mode=kwargs["mode"])
            times.append(seconds)
            peaks.append(peak)
            continue
        seconds, peak = _once(command, **(kwargs if run == 0 else {**kwargs, "keep": None}))
        times.append(seconds)
        peaks.append(peak)
        if seconds == float("inf"):
            break
    return times, max(peaks), statistics.median(baseline) if baseline else None


def points_file(work: Path, count: int) -> Path:
    """A CSV of `count` seeded random points in [-3, 3]."""
    import random

    path = work / f"points{count}.csv"
    generator = random.Random(1)
    with path.open("w") as out:
        out.write("x\n")
        for start in range(0, count, 100_000):
            size = min(100_000, count - start)
            out.write("".join(f"{generator.uniform(-3, 3)!r}\n" for _ in range(size)))
    return path


PARQUET_WRITER = """
import sys
import pyarrow.csv, pyarrow.parquet
pyarrow.parquet.write_table(pyarrow.csv.read_csv(sys.argv[1]), sys.argv[2])
"""


def parquet_file(work: Path, count: int) -> Path | None:
    """The CSV of `points_file` as Parquet (with pyarrow; None without it),
    written by another process: a large table read here would raise this
    process's resident size, which the processes it starts inherit as their
    peak (ru_maxrss survives fork and exec)."""
    path = work / f"points{count}.parquet"
    process = subprocess.run(
        [PY, "-c", PARQUET_WRITER, str(work / f"points{count}.csv"), str(path)],
        capture_output=True,
    )
    return path if process.returncode == 0 else None


@dataclass(frozen=True)
class Bench:
    """One row of the benchmark as planned: what runs, and against what.

    The ratio's baseline is either `alternate`, a command run in alternation
    with this one, or `after`, the (case, label) of an earlier row whose
    median is the baseline; `against` says which in words."""

    case: str
    label: str
    command: tuple[str, ...]
    against: str = ""
    alternate: tuple[str, ...] | None = None
    after: tuple[str, str] | None = None
    target: float | None = None  # ratio not to pass
    memory: int | None = None  # peak MB not to pass
    runs: int | None = None  # overrides --runs
    quiet: bool = False  # stdout to /dev/null even in a case that checks values
    points: int | None = None  # needs points_file(work, points)
    mode: str = ""  # "first_line" or "inner" (see _once)


FLOOR_ROW = ("floor", "import torch, sympy, typer, rich")


def vector_point(n: int) -> str:
    return "x=[" + ",".join(f"{1 + k / 7:.3f}" for k in range(n)) + "]"


def near_one_point(n: int) -> str:
    """Values within 0.5% of 1, so that a product of 10,000 stays in range."""
    return "x=[" + ",".join(f"{1 + (k % 11 - 5) / 1000:.3f}" for k in range(n)) + "]"


def plan(work: Path, qalc: str | None, points: int = POINTS, big: int = BIG) -> list[Bench]:
    """Every row the benchmark runs, in order (the qalc rows only with qalc).
    Files under `work` are named here and written by `main`."""
    rows = [Bench(*FLOOR_ROW, tuple(FLOOR))]
    minimal = (PY, str(work / "minimal_app.py"), "--help")
    typer_app = "minimal two-command Typer app --help"
    rows.append(Bench("help", typer_app, minimal))
    for label, extra, target in (("--help", "--help", 1.3), ("--version", "--version", None)):
        rows.append(
            Bench(
                "help",
                f"gradcalc {label}",
                (*GRADCALC, extra),
                typer_app,
                alternate=minimal,
                target=target,
            )
        )
    rows.append(Bench("small", "import torch", tuple(TORCH), quiet=True))
    for label, extra, target in (("--json", ["--json"], 1.1), ("table", [], 1.1)):
        rows.append(
            Bench(
                "small",
                f"gradcalc diff sin(x**2) --at 3 {label}",
                (*GRADCALC, "diff", EXPRESSIONS["small"], "--at", "3", *extra),
                "import torch",
                alternate=tuple(TORCH),
                target=target,
                quiet=not extra,
            )
        )
    if qalc:
        q = (qalc, "-t", "diff(sin(x^2), x, 1, 3)")
        rows.append(Bench("symbolic", "qalc -t diff(sin(x^2), x, 1, 3)", q))
        # What the symbolic-only mode cannot do without, against qalc: numpy
        # (the finite differences and the verdict), Typer and SymEngine, with
        # one OpenBLAS thread as the CLI asks (threads.serial_blas).
        blas = "import os; os.environ.setdefault('OPENBLAS_NUM_THREADS', '1'); "
        for modules in ("numpy", "typer, numpy, symengine"):
            rows.append(
                Bench(
                    "symbolic",
                    f"floor: python -c 'import {modules}'",
                    (PY, "-c", blas + f"import {modules}"),
                    "qalc",
                    alternate=q,
                    quiet=True,  # computes no value
                )
            )
        no_autograd = (*GRADCALC, "diff", EXPRESSIONS["small"], "--at", "3", "--no-autograd")
        rows.append(
            Bench(
                "symbolic",
                "gradcalc diff --no-autograd --json",
                (*no_autograd, "--json"),
                "qalc",
                alternate=q,
                target=1.5,
            )
        )
        symengine_floor = (PY, "-c", blas + "import typer, numpy, symengine")
        rows.append(
            Bench(
                "symbolic",
                "gradcalc diff --no-autograd --json, against its floor",
                (*no_autograd, "--json"),
                "floor: python -c 'import typer, numpy, symengine'",
                alternate=symengine_floor,
                target=1.15,
            )
        )
        rows.append(
            Bench(
                "symbolic",
                "gradcalc diff --no-autograd (table)",
                no_autograd,
                "qalc",
                alternate=q,
                quiet=True,
            )
        )
    for name in ("nest100", "product200", "sum2000"):
        command = (*GRADCALC, "diff", EXPRESSIONS[name], "--at", "0.5", "--json")
        if name != "sum2000":
            gradcalc_row = Bench(
                name,
                "gradcalc diff --at 0.5",
                command,
                FLOOR_ROW[1],
                alternate=tuple(FLOOR),
                target=1.5,
            )
        else:
            gradcalc_row = Bench(
                name, "gradcalc diff --at 0.5", command, "the floor row", after=FLOOR_ROW
            )
        rows.append(gradcalc_row)
        text = str(work / f"{name}.txt")
        for label, anchor in (
            ("plain SymPy diff + evalf", "sympy"),
            ("SymEngine diff + subs", "symengine"),
            ("raw torch autograd", "torch"),
        ):
            script = str(work / f"{anchor}_anchor.py")
            rows.append(Bench(name, label, (PY, script, text), "the floor row", after=FLOOR_ROW))
    # A product of n factors: its derivative formula has n² factors; each
    # ratio is against the product of half as many (2.0 is linear).
    previous: tuple[str, str] | None = None
    for n in (875, 1750, 3500, 7000):
        text = "*".join(f"(1+x/{k}**2)" for k in range(1, n + 1))
        label = f"{n}-factor product, --no-autograd"
        rows.append(
            Bench(
                "wide",
                label,
                (
                    *GRADCALC,
                    "diff",
                    text,
                    "--at",
                    "0.5",
                    "--no-autograd",
                    "--json",
                    "--timeout",
                    "0",
                ),
                f"the {n // 2}-factor row" if previous else "",
                after=previous,
            )
        )
        previous = ("wide", label)
    # One vector variable of 10,000 elements (the documented limit) against
    # the same expression at 3 elements: the ratio is what length costs. Then
    # functions of whole vectors (issue 28): in vector form past 64 elements.
    for text in VECTOR_EXPRESSIONS:
        scalar = ("--at", "a=0.5") if "*a" in text or "a*" in text else ()
        rows.append(_length_row(text, scalar, scalar))
    for text in ("dot(w, x)", "logsumexp(x)", "norm(x)", "cross_entropy(x, 1)"):
        weights = ("--at", "w=" + vector_point(3)[2:]) if "w" in text else ()
        long_weights = ("--at", "w=" + vector_point(10_000)[2:]) if "w" in text else ()
        rows.append(_length_row(text, weights, long_weights))
    # prod(x) near 1 (10,000 values of 1 + k/7 would overflow), and softmax's
    # Jacobian at 256 elements: in vector form, within the default budget (no
    # --timeout 0: a run out of budget exits 3 and fails the benchmark).
    rows.append(_length_row("prod(x)", (), (), point=near_one_point))
    rows.append(
        Bench(
            "vectors",
            "softmax Jacobian at 256 elements (default budget)",
            (*GRADCALC, "diff", "softmax(x)", "--at", vector_point(256), "--json"),
            "the same at 3 elements",
            alternate=(*GRADCALC, "diff", "softmax(x)", "--at", vector_point(3), "--json"),
        )
    )
    one_point = (*GRADCALC, "diff", "sin(x**2)", "--at", "3", "--json")
    csv = str(work / f"points{points}.csv")
    for label, extra, target in (
        ("table", (), None),
        ("--json", ("--json",), 2.0),
        ("--format csv", ("--format", "csv"), 1.2),
    ):
        rows.append(
            Bench(
                "million",
                f"--points ({points:,} rows), {label}",
                (*GRADCALC, "diff", "sin(x**2)", "--points", csv, *extra),
                "gradcalc diff sin(x**2) --at 3 --json",
                alternate=one_point,
                target=target,
                points=points,
            )
        )
    parquet = str(work / f"points{points}.parquet")
    rows.append(
        Bench(
            "million",
            f"--points ({points:,} rows).parquet, --format parquet --output",
            (
                *GRADCALC, "diff", "sin(x**2)", "--points", parquet, "--format", "parquet",
                "--output", str(work / "answers.parquet"), "--force",
            ),
            "gradcalc diff sin(x**2) --at 3 --json",
            alternate=one_point,
            target=1.15,
            points=points,
        )
    )  # fmt: skip
    rows.append(
        Bench(
            "million",
            f"--points ({points:,} rows) --json: its first line",
            (*GRADCALC, "diff", "sin(x**2)", "--points", csv, "--json"),
            "gradcalc diff sin(x**2) --at 3 --json",
            alternate=one_point,
            target=1.2,
            points=points,
            mode="first_line",
        )
    )
    # In-process: gradcalc.points on a DataFrame against numpy alone on the
    # same arrays (f and its derivative's formula), each timed inside its
    # process after the imports and a warm-up.
    for label, script in (("numpy alone: f and f'", FRAME_FLOOR), ("gradcalc.points", FRAME)):
        rows.append(
            Bench(
                "frames",
                f"{label}, {points:,} DataFrame rows, in-process",
                (PY, "-c", script, str(points)),
                "numpy alone" if label == "gradcalc.points" else "",
                after=("frames", f"numpy alone: f and f', {points:,} DataFrame rows, in-process")
                if label == "gradcalc.points"
                else None,
                target=10.0 if label == "gradcalc.points" else None,
                mode="inner",
                # Seven runs: a run now and then takes half as long again (0.31 to
                # 0.50 s over seven), and three leave the median to chance.
                runs=FRAME_RUNS,
            )
        )
    # Peak memory whatever the output; one run each (a minute or more).
    csv = str(work / f"points{big}.csv")
    for label, extra in (
        ("table", ()),
        ("--json", ("--json",)),
        ("--format csv", ("--format", "csv")),
    ):
        csv_row = label == "--format csv"
        rows.append(
            Bench(
                "tenmillion",
                f"--points ({big:,} rows), {label}",
                (*GRADCALC, "diff", "sin(x**2)", "--points", csv, *extra),
                "gradcalc diff sin(x**2) --at 3 --json" if csv_row else "",
                alternate=one_point if csv_row else None,
                target=3.0 if csv_row else None,
                memory=500 if csv_row else 1024,
                runs=1,
                points=big,
            )
        )
    return rows


# --- the recorded results and their page --------------------------------------


def row_key(row: dict) -> tuple[str, str]:
    return row["case"], row["label"]


def seconds_text(value: float | None, timed_out: bool) -> str:
    if timed_out:
        return f"> {LIMIT_SECONDS:.0f}"
    return "—" if value is None else f"{value:.2f}"


HOW = (
    "`python benchmarks/run.py` times gradcalc side by side with its anchors in one run — "
    'the import floors (`python -c "import torch"`, `python -c "import torch, sympy, typer, '
    'rich"`), a minimal two-command Typer app, qalc (when installed), plain SymPy diff + '
    "evalf, SymEngine and raw torch autograd — each a fresh process (start-up included), "
    "median of `--runs N` (3 by default; the ten-million rows run once, the DataFrame "
    "rows seven times), with each "
    "run's peak memory (the larger of its process's peak resident set and the summed "
    "proportional set size of its processes, sampled every 0.1 s). A row with a ratio "
    "target runs its baseline command in "
    "alternation with it, so a drifting machine moves both alike (its ratio is against that "
    "alternated baseline). The *against* column names each ratio's baseline: a command run "
    "in alternation with the row, or an earlier row (its median). Every command of a case "
    "that computes a derivative prints its value, shown in brackets beside it; the benchmark "
    "stops at the first value that differs from another of its case (the SymPy anchor once "
    "differentiated with respect to another `x` than the text's, and timed only the "
    "parsing). gradcalc runs as the installed `gradcalc` script, byte-compiled first as "
    "`pip install` does. `--only small,million` picks cases; it is not part of the test "
    "suite (timings on shared machines are noisy: ±20% between runs here).",
    "`python benchmarks/run.py --save` measures every case (it refuses `--only`, and needs "
    "qalc) and records the results in `benchmarks/results.json`, then renders this page from "
    "them; `--render` renders it again without measuring.",
)


def wrap(text: str) -> str:
    """A paragraph of the page, wrapped as the hand-written pages are; code
    spans are not broken."""
    import textwrap

    return textwrap.fill(text, 88, break_long_words=False, break_on_hyphens=False)


def render(results: dict) -> str:
    """docs/benchmarks.md from the recorded results (benchmarks/results.json)."""
    machine = results["machine"]
    where = machine.get("description") or "a machine"
    load = machine.get("load_average")
    if load:
        where += f" (load average {load['start']:g} at the start, {load['end']:g} at the end)"
    facts = [
        f"{machine['cores']} cores",
        f"Python {machine['python']}",
        f"torch {machine['torch']}",
    ]
    if machine.get("platform"):
        facts.append(machine["platform"])
    when = results["measured"] + (f" ({results['session']})" if results.get("session") else "")
    lines = [
        "# Benchmark results",
        "",
        "<!-- generated by benchmarks/run.py --render from benchmarks/results.json;",
        "     do not edit -->",
        "",
        wrap(f"Measured on {when} with `{results['command']}` on {where}: {', '.join(facts)}."),
    ]
    if machine.get("uptime_at_end"):
        lines += ["", f"`uptime` at the end: `{machine['uptime_at_end']}`."]
    for note in results.get("notes", []):
        lines += ["", wrap(note)]
    lines += [
        "",
        "What these figures say about gradcalc, and why it is as fast as it is:",
        "[speed](speed.md).",
        "",
        "## How they are measured",
        "",
        *(line for paragraph in HOW for line in (wrap(paragraph), "")),
        "## Results",
        "",
        "| case | command | min s | median s | max s | peak MB | ratio | against | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for row in results["rows"]:
        label = row["label"]
        if row.get("value") is not None:
            label += f" [{row['value']:.12g}]"
        timed_out = bool(row.get("timed_out"))
        seconds = row["seconds"]
        if row.get("ratio") is not None:
            ratio = f"{row['ratio']:.2f}"
        else:
            ratio = "inf" if timed_out and row.get("against") else ""
        if row.get("memory_target_mb") is not None:
            goal = f"≤ {row['memory_target_mb']} MB peak"
        elif row.get("target") is not None:
            goal = f"≤ {row['target']:g}"
        else:
            goal = ""
        cells = [
            row["case"],
            label,
            seconds_text(seconds.get("min"), timed_out and seconds.get("min") is None),
            seconds_text(seconds.get("median"), timed_out),
            seconds_text(seconds.get("max"), timed_out),
            f"{row['peak_mb']:.0f}",
            ratio,
            row.get("against") or "",
            goal,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def machine_facts(description: str, load_start: float) -> dict:
    torch_version = subprocess.run(
        [PY, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    uptime = shutil.which("uptime")
    return {
        "description": description,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch_version,
        "platform": platform.platform(),
        "load_average": {"start": round(load_start, 2), "end": round(os.getloadavg()[0], 2)},
        "uptime_at_end": (
            subprocess.run([uptime], capture_output=True, text=True).stdout.strip()
            if uptime
            else None
        ),
    }


def write_page(results: dict) -> None:
    PAGE.write_text(render(results))


def _length_row(text: str, short_extra: tuple, long_extra: tuple, point=None) -> Bench:
    """`text` at 10,000 elements against the same at 3 (target 1.5), at
    `point(n)` (vector_point unless given)."""
    point = point or vector_point
    short = (*GRADCALC, "diff", text, "--at", point(3), *short_extra, "--json")
    long = (*GRADCALC, "diff", text, "--at", point(10_000), *long_extra, "--json")
    long = (*long, "--timeout", "0")
    return Bench(
        "vectors",
        f"10,000 vs 3 elements: {text}",
        long,
        "the same at 3 elements",
        alternate=short,
        target=1.5,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--points", type=int, default=POINTS)
    parser.add_argument("--big", type=int, default=BIG, help="rows of the memory case")
    parser.add_argument(
        "--save", action="store_true", help="record the results and render docs/benchmarks.md"
    )
    parser.add_argument("--machine", default="", help="with --save: the machine, in words")
    parser.add_argument("--note", default="", help="with --save: when, in words (a session)")
    parser.add_argument(
        "--render", action="store_true", help="render docs/benchmarks.md from results.json"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    parser.add_argument(
        "--usercheck",
        action="store_true",
        help="gradcalc.check in-process beside torch.autograd.gradcheck (usercheck.py): "
        "time, and the wrong backward passes each catches",
    )
    parser.add_argument(
        "--merge",
        default="",
        help="with --only: replace those cases' recorded rows with this run's, the reason "
        "given here recorded as a note",
    )
    options = parser.parse_args()
    if options.usercheck:
        sys.path.insert(0, str(HERE))
        import usercheck

        return usercheck.main(["--runs", str(max(options.runs, 10))])
    if options.render or options.check:
        wanted = render(json.loads(RESULTS.read_text()))
        if options.check:
            if not PAGE.exists() or PAGE.read_text() != wanted:
                print("docs/benchmarks.md is stale: run python benchmarks/run.py --render")
                return 1
            return 0
        PAGE.write_text(wanted)
        return 0
    only = set(filter(None, options.only.split(",")))
    qalc = shutil.which("qalc")
    if options.save and (only or not qalc):
        parser.error("--save records every case (qalc's too): drop --only, install qalc")
    if options.merge and not only:
        parser.error("--merge replaces the rows of the cases given with --only")
    import gradcalc

    compileall.compile_dir(Path(gradcalc.__file__).parent, quiet=1)
    work = Path(tempfile.mkdtemp(prefix="gradcalc-bench-"))
    for name, text in EXPRESSIONS.items():
        (work / f"{name}.txt").write_text(text)
    (work / "minimal_app.py").write_text(MINIMAL_TYPER_APP)
    for name, text in (
        ("sympy", SYMPY_ANCHOR),
        ("symengine", SYMENGINE_ANCHOR),
        ("torch", TORCH_ANCHOR),
    ):
        (work / f"{name}_anchor.py").write_text(text)

    load_start = os.getloadavg()[0]
    benches = [
        b for b in plan(work, qalc, options.points, options.big) if not only or b.case in only
    ]
    files_left = {b.points: sum(c.points == b.points for c in benches) for b in benches if b.points}
    medians: dict[tuple[str, str], float] = {}
    computed: dict = {n: [] for n in CHECKED}
    rows = []
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {options.runs} runs each")
    for bench in benches:
        name, label = bench.case, bench.label
        if bench.points and not (work / f"points{bench.points}.csv").exists():
            points_file(work, bench.points)
            parquet_file(work, bench.points)
        printed: list = []
        kwargs: dict = {}
        if bench.mode:
            kwargs["mode"] = bench.mode
        elif bench.quiet:
            kwargs["stdout"] = subprocess.DEVNULL
        elif name in computed:
            kwargs["keep"] = printed
        times, peak, alongside = measure(
            list(bench.command), bench.runs or options.runs, bench.alternate, **kwargs
        )
        seconds = statistics.median(times)
        timed_out = seconds == float("inf")
        value = None
        if printed:
            value = value_of(printed[0])
            if value is None and not timed_out:
                raise SystemExit(f"{name}: {label} printed no value: it failed")
            if value is not None:
                agree_with(name, label, value, computed[name])
                computed[name].append((label, value))
        base = alongside if bench.alternate else medians.get(bench.after) if bench.after else None
        ratio = seconds / base if base else None
        medians[(name, label)] = seconds
        if bench.points:
            files_left[bench.points] -= 1
            if not files_left[bench.points]:
                (work / f"points{bench.points}.csv").unlink()
                (work / f"points{bench.points}.parquet").unlink(missing_ok=True)
        finite = [t for t in times if t != float("inf")]
        rows.append(
            {
                "case": name,
                "label": label,
                "value": value,
                "seconds": {
                    "min": min(finite) if finite else None,
                    "median": None if timed_out else seconds,
                    "max": None if timed_out else max(times),
                },
                "timed_out": timed_out,
                "runs": len(times),
                "peak_mb": round(peak, 1),
                "ratio": None if ratio is None or timed_out else ratio,
                "against": bench.against,
                "target": bench.target,
                "memory_target_mb": bench.memory,
            }
        )
        shown = label + (f" [{value:.12g}]" if value is not None else "")
        print(
            f"  {name:12} {shown:60} {seconds:7.3f} s {peak:7.0f} MB"
            + (f"  ratio {ratio:5.2f}" if ratio else "")
            + (f"  (target ≤ {bench.target:g})" if bench.target else "")
            + (f"  (target ≤ {bench.memory} MB)" if bench.memory else ""),
            flush=True,
        )
    shutil.rmtree(work, ignore_errors=True)
    results = {
        "schema": 1,
        "measured": datetime.date.today().isoformat(),
        "session": options.note,
        "command": shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "machine": machine_facts(options.machine, load_start),
        "notes": [],
        "rows": rows,
    }
    print()
    print(render(results).split("## Results\n\n", 1)[1])
    if options.merge:
        recorded = json.loads(RESULTS.read_text())
        fresh = {row_key(row): row for row in rows}
        recorded["rows"] = [fresh.get(row_key(row), row) for row in recorded["rows"]]
        when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        cases = ", ".join(sorted(only))
        recorded["notes"].append(f"Cases {cases} measured again ({when}): {options.merge}")
        results = recorded
    if options.save or options.merge:
        RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        write_page(results)
        print(f"recorded in {RESULTS.relative_to(HERE.parent)}, {PAGE.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
