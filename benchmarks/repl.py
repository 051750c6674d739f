"""The warm session against fresh processes (issue 15's targets).

    python benchmarks/repl.py            # 1,000 different small expressions

Prints: the median time of one small `diff` (with the torch check) answered
by a warm session (target ≤ 20 ms), and the time of 1,000 different small
expressions piped through `gradcalc repl --json` against one single
`gradcalc diff` run (target ≤ 10×). Not a test: the machines are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

PY = sys.executable
_SCRIPT = Path(PY).with_name("gradcalc")
GRADCALC = [str(_SCRIPT)] if _SCRIPT.exists() else [PY, "-m", "gradcalc"]
FUNCTIONS = ["sin", "cos", "exp", "tanh", "atan", "log1p_", "sqrt", "sigmoid"]


def expressions(count: int) -> list[str]:
    """`count` different small expressions: f(k·x) + x^j, k and j varying."""
    out = []
    names = [f for f in FUNCTIONS if not f.endswith("_")]
    for i in range(count):
        name = names[i % len(names)]
        out.append(f"{name}({i % 97 + 1}*x/7) + x^{i % 5 + 2}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    options = parser.parse_args()
    lines = [f'diff "{e}" --at 0.7 --json' for e in expressions(options.count)]

    import typer

    from gradcalc.cli import app
    from gradcalc.repl import warm_up
    from gradcalc.session import Session

    warm_up()
    session = Session(command=typer.main.get_command(app))
    session.handle(lines[0])  # the first answer of a session primes caches
    times = []
    for line in lines[1:101]:
        start = time.perf_counter()
        answer = session.handle(line)
        times.append(time.perf_counter() - start)
        assert answer is not None and answer.code == 0, (line, answer and answer.stderr)
    warm = statistics.median(times)
    print(f"warm session, one small diff --json: median {warm * 1000:.1f} ms (target ≤ 20 ms)")

    start = time.perf_counter()
    subprocess.run(
        GRADCALC + ["diff", "sin(x**2)", "--at", "3", "--json"], check=True, capture_output=True
    )
    single = time.perf_counter() - start
    start = time.perf_counter()
    run = subprocess.run(
        GRADCALC + ["repl"], input="\n".join(lines) + "\n", text=True, capture_output=True
    )
    piped = time.perf_counter() - start
    answered = len(run.stdout.splitlines())
    assert answered == len(lines), (answered, run.stderr[-500:])
    print(
        f"one gradcalc diff: {single:.2f} s; {len(lines)} lines through gradcalc repl: "
        f"{piped:.2f} s; ratio {piped / single:.1f} (target ≤ 10)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
