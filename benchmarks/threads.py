"""torch's intra-op threads against the size of the work (see gradcalc/threads.py).

    python benchmarks/threads.py [POINTS ...]

Forward and backward of a three-term expression in two variables over
POINTS points (gradcalc's batched torch pass, as `diff --points` runs it),
with 1 thread and with every core, alternated, median of three rounds.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np
import torch

from gradcalc import autograd
from gradcalc.parsing import parse

EXPRESSION = parse("sin(x**2)*exp(-y) + log(1+x**2*y**2) + tanh(x*y)")
SIZES = [1, 100, 1_000, 10_000, 50_000, 1_000_000]


def pass_ms(points: int, threads: int, repeats: int) -> float:
    torch.set_num_threads(threads)
    values = {"x": np.linspace(0.1, 2, points), "y": np.linspace(0.2, 3, points)}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        leaves = autograd.leaves_for(values, "float64")
        output = autograd.build(EXPRESSION, leaves, "float64", batched=True)
        autograd.derivatives(output, leaves, [("x",), ("y",)])
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    cores = os.cpu_count() or 1
    print(f"load average {os.getloadavg()[0]:.2f}; 1 thread against {cores}")
    for points in [int(a) for a in sys.argv[1:]] or SIZES:
        repeats = 30 if points < 100_000 else 5
        rounds = [(pass_ms(points, 1, repeats), pass_ms(points, cores, repeats)) for _ in range(3)]
        one = statistics.median(r[0] for r in rounds)
        every = statistics.median(r[1] for r in rounds)
        print(f"{points:>9,} points: 1 thread {one:9.3f} ms  {cores} threads {every:9.3f} ms")


if __name__ == "__main__":
    main()
