"""Time gradcalc side by side with its anchors and print ratios.

    python benchmarks/run.py            # every case, 3 runs each (median)
    python benchmarks/run.py --runs 5 --only small,nest100

Each command runs as a fresh process (start-up included, as a user sees it);
peak memory is the process's maximum resident set. Ratios compare against the
baseline named in each row; a row with a target runs its baseline command in
alternation with it, so that a drifting machine moves both alike. The targets
are the issues' (see README).
Not part of the test suite: the machines are too noisy for timed asserts.

gradcalc runs as the `gradcalc` console script of this Python's environment
(`python -m gradcalc` when there is none). Its package is byte-compiled first,
as `pip install` does: an editable install under PYTHONDONTWRITEBYTECODE=1
would otherwise compile every module on every run.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def _once(command, stdin=None, stdout=subprocess.DEVNULL, keep=None):
    """(wall seconds, peak RSS in MB) of one run; seconds is inf past
    LIMIT_SECONDS. With `keep` (a list), the run's stdout is appended to it
    (written to a file, so reading it costs the timed process nothing)."""
    start = time.perf_counter()
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
        time.sleep(0.005)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"benchmark command failed: {' '.join(command)[:200]}")
    elapsed = time.perf_counter() - start
    if capture is not None:
        capture.seek(0)
        keep.append(capture.read().decode())
        capture.close()
    return elapsed, usage.ru_maxrss / 1024


def measure(command, runs, against=None, **kwargs):
    """Median wall time (s) and peak RSS (MB) of `command` over `runs` runs,
    and with `against` (a baseline command) the baseline's median measured
    in alternation with it, so that a drifting machine moves both alike."""
    times, peaks, baseline = [], [], []
    for run in range(runs):
        if against is not None:
            baseline.append(_once(against)[0])
        seconds, peak = _once(command, **(kwargs if run == 0 else {**kwargs, "keep": None}))
        times.append(seconds)
        peaks.append(peak)
        if seconds == float("inf"):
            break
    return (statistics.median(times), max(peaks), statistics.median(baseline) if baseline else None)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=10_000_000, help="rows of the memory case")
    options = parser.parse_args()
    only = set(filter(None, options.only.split(",")))
    import gradcalc

    compileall.compile_dir(Path(gradcalc.__file__).parent, quiet=1)
    work = Path(tempfile.mkdtemp(prefix="gradcalc-bench-"))
    files = {}
    for name, text in EXPRESSIONS.items():
        files[name] = work / f"{name}.txt"
        files[name].write_text(text)
    app = work / "minimal_app.py"
    app.write_text(MINIMAL_TYPER_APP)
    for name, text in (
        ("sympy", SYMPY_ANCHOR),
        ("symengine", SYMENGINE_ANCHOR),
        ("torch", TORCH_ANCHOR),
    ):
        (work / f"{name}_anchor.py").write_text(text)

    rows = []
    computed: dict = {n: [] for n in CHECKED}

    def case(name, label, command, baseline=None, target=None, memory=None, **kwargs):
        """Time `command`. `baseline` is a command (re-run in alternation with
        it for the ratio) or a number of seconds; `memory` a peak in MB not to
        pass. In a case that computes a derivative (CHECKED), the value each
        command printed is shown beside its label and must agree with every
        other command's of the case (else the benchmark stops there)."""
        if only and name not in only:
            return None
        against = baseline if isinstance(baseline, list) else None
        printed: list = []
        if "stdout" not in kwargs and name in computed:
            kwargs["keep"] = printed
        seconds, peak, alongside = measure(
            command, kwargs.pop("runs", options.runs), against, **kwargs
        )
        if printed:
            value = value_of(printed[0])
            if value is None and seconds != float("inf"):
                raise SystemExit(f"{name}: {label} printed no value: it failed")
            if value is not None:
                agree_with(name, label, value, computed[name])
                computed[name].append((label, value))
                label = f"{label} [{value:.12g}]"
        base = alongside if against else baseline
        ratio = seconds / base if base else None
        rows.append((name, label, seconds, peak, ratio, target, memory))
        print(
            f"  {name:12} {label:60} {seconds:7.3f} s {peak:7.0f} MB"
            + (f"  ratio {ratio:5.2f}" if ratio else "")
            + (f"  (target ≤ {target})" if target else "")
            + (f"  (target ≤ {memory} MB)" if memory else ""),
            flush=True,
        )
        return seconds

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {options.runs} runs each")
    # Rows with a target are timed in alternation with their baseline command.
    floor = case("floor", "import torch, sympy, typer, rich", FLOOR) or 1.0
    minimal = [PY, str(app), "--help"]
    case("help", "minimal two-command Typer app --help", minimal)
    case("help", "gradcalc --help", GRADCALC + ["--help"], minimal, 1.3)
    case("help", "gradcalc --version", GRADCALC + ["--version"], minimal)
    case("small", "import torch", TORCH, stdout=subprocess.DEVNULL)
    for label, extra, target in (("--json", ["--json"], 1.1), ("table", [], 1.1)):
        case(
            "small",
            f"gradcalc diff sin(x**2) --at 3 {label}",
            GRADCALC + ["diff", EXPRESSIONS["small"], "--at", "3", *extra],
            TORCH,
            target,
            **({"stdout": subprocess.DEVNULL} if not extra else {}),
        )
    qalc = shutil.which("qalc")
    if qalc:
        q = [qalc, "-t", "diff(sin(x^2), x, 1, 3)"]
        case("symbolic", "qalc -t diff(sin(x^2), x, 1, 3)", q)
        # What the symbolic-only mode cannot do without, against qalc: numpy
        # (the finite differences and the verdict), Typer and SymEngine, with
        # one OpenBLAS thread as the CLI asks (threads.serial_blas).
        blas = "import os; os.environ.setdefault('OPENBLAS_NUM_THREADS', '1'); "
        for modules in ("numpy", "typer, numpy, symengine"):
            case(
                "symbolic",
                f"floor: python -c 'import {modules}'",
                [PY, "-c", blas + f"import {modules}"],
                q,
                stdout=subprocess.DEVNULL,  # computes no value
            )
        case(
            "symbolic",
            "gradcalc diff --no-autograd --json",
            GRADCALC + ["diff", EXPRESSIONS["small"], "--at", "3", "--no-autograd", "--json"],
            q,
            1.5,
        )
        case(
            "symbolic",
            "gradcalc diff --no-autograd (table)",
            GRADCALC + ["diff", EXPRESSIONS["small"], "--at", "3", "--no-autograd"],
            q,
            stdout=subprocess.DEVNULL,
        )
    for name in ("nest100", "product200", "sum2000"):
        target = 1.5 if name != "sum2000" else None
        case(
            name,
            "gradcalc diff --at 0.5",
            GRADCALC + ["diff", EXPRESSIONS[name], "--at", "0.5", "--json"],
            FLOOR if target else floor,
            target,
        )
        case(
            name,
            "plain SymPy diff + evalf",
            [PY, str(work / "sympy_anchor.py"), str(files[name])],
            floor,
        )
        case(
            name,
            "SymEngine diff + subs",
            [PY, str(work / "symengine_anchor.py"), str(files[name])],
            floor,
        )
        case(
            name, "raw torch autograd", [PY, str(work / "torch_anchor.py"), str(files[name])], floor
        )
    if not only or "wide" in only:
        # A product of n factors: its derivative formula has n² factors; each
        # ratio is against the product of half as many (2.0 is linear).
        previous = None
        for n in (875, 1750, 3500, 7000):
            text = "*".join(f"(1+x/{k}**2)" for k in range(1, n + 1))
            seconds = case(
                "wide",
                f"{n}-factor product, --no-autograd",
                GRADCALC
                + ["diff", text, "--at", "0.5", "--no-autograd", "--json", "--timeout", "0"],
                previous,
            )
            previous = seconds
    if not only or "vectors" in only:
        # One vector variable of 10,000 elements (the documented limit) against
        # the same expression at 3 elements: the ratio is what length costs.
        def at(n):
            return "x=[" + ",".join(f"{1 + k / 7:.3f}" for k in range(n)) + "]"

        for text in VECTOR_EXPRESSIONS:
            scalar = ["--at", "a=0.5"] if "*a" in text or "a*" in text else []
            short = GRADCALC + ["diff", text, "--at", at(3), *scalar, "--json"]
            long = GRADCALC + [
                "diff",
                text,
                "--at",
                at(10_000),
                *scalar,
                "--json",
                "--timeout",
                "0",
            ]
            case("vectors", f"10,000 vs 3 elements: {text}", long, short, 1.5)
    if not only or "million" in only:
        csv = points_file(work, options.points)
        one_point = GRADCALC + ["diff", "sin(x**2)", "--at", "3", "--json"]
        for label, extra, target in (
            ("table", [], None),
            ("--json", ["--json"], 3),
            ("--format csv", ["--format", "csv"], 2),
        ):
            case(
                "million",
                f"--points ({options.points:,} rows), {label}",
                GRADCALC + ["diff", "sin(x**2)", "--points", str(csv), *extra],
                one_point,
                target,
            )
        csv.unlink()
    if not only or "tenmillion" in only:
        # Peak memory whatever the output; one run each (a minute or more).
        csv = points_file(work, options.big)
        for label, extra in (
            ("table", []),
            ("--json", ["--json"]),
            ("--format csv", ["--format", "csv"]),
        ):
            case(
                "tenmillion",
                f"--points ({options.big:,} rows), {label}",
                GRADCALC + ["diff", "sin(x**2)", "--points", str(csv), *extra],
                memory=1024,
                runs=1,
            )
    shutil.rmtree(work, ignore_errors=True)
    print("\n| case | command | seconds | peak MB | ratio | target |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for name, label, seconds, peak, ratio, target, memory in rows:
        shown = f"> {LIMIT_SECONDS:.0f}" if seconds == float("inf") else f"{seconds:.2f}"
        goal = f"≤ {target}" if target is not None else ""
        goal = f"≤ {memory} MB peak" if memory is not None else goal
        print(
            f"| {name} | {label} | {shown} | {peak:.0f} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} | {goal} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
