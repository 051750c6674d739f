"""How many threads torch's operations use: by the size of the work.

torch starts one intra-op thread per core and splits an operation over them
once its tensors pass a small grain. On gradcalc's work that seldom pays and
can cost a great deal: the threads wake, wait for a core (the machine is
shared) and meet again, per operation. Measured 2026-11-28 on the 2-core
machine with `python benchmarks/threads.py` (forward and backward of a 3-term
expression in two variables, median of alternated runs):

    points      load 2.5-3.4             load 0.9
                1 thread   2 threads     1 thread   2 threads
    1           0.26 ms    0.26 ms       0.26 ms    0.26 ms
    1,000       0.31 ms    0.36 ms       0.30 ms    0.30 ms
    10,000      0.56 ms    60 ms         0.55 ms    0.51 ms
    50,000      3.5-8 ms   10-520 ms     2.4 ms     1.6 ms
    1,000,000   75 ms      190 ms        58 ms      34 ms

A second thread saves at best 0.8 ms on a 50,000-point chunk (16 ms over a
million points) and loses up to half a second per chunk when the cores are
busy. So one thread below SERIAL_BELOW elements per operation, which is all
that gradcalc's CLI ever hands torch at once (one point, a vector of at most
points.MAX_VECTOR elements, a --points chunk of pointsfile.CHUNK). The
library leaves torch's setting to its caller, except while it answers many
points in the caller's process (`gradcalc.points`, `batch.differentiate_many`):
those calls set it for their chunks (`fitted`) and put the caller's back.
Measured 2026-12-07 at load 2.3, gradcalc.points on 10^6 rows took 1.55 s with
torch's 2 threads and 0.56 s with one.

numpy's OpenBLAS starts its own thread per core when numpy is imported. The
CLI's numpy linear algebra is tiny (a Hessian's eigenvalues, a stencil's
weights), so the CLI asks OpenBLAS for one thread (`serial_blas`), unless the
environment already says how many: measured with 25 alternated runs on the
2-core machine, `import numpy` took 96 ms against 109 ms, and `gradcalc diff
"sin(x**2)" --at 3 --no-autograd --json` 167 ms against 184 ms. torch's own
BLAS (MKL) does not read the variable.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, MutableMapping

SERIAL_BELOW = 2_000_000  # elements per operation below which torch gets one thread
BLAS_THREADS = "OPENBLAS_NUM_THREADS"  # read by numpy's OpenBLAS when numpy is imported


def serial_blas(environ: MutableMapping[str, str] = os.environ) -> None:
    """One OpenBLAS thread for numpy, unless `environ` already sets the count.
    Only takes effect before numpy's first import (the CLI calls it first)."""
    environ.setdefault(BLAS_THREADS, "1")


def fit(elements: int) -> int:
    """Set torch's intra-op threads for operations over `elements` values;
    returns the count set."""
    import torch

    wanted = 1 if elements < SERIAL_BELOW else max(1, os.cpu_count() or 1)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


@contextlib.contextmanager
def fitted(elements: int) -> Iterator[None]:
    """`fit(elements)` for the duration of the block, then the count it had."""
    import torch

    before = torch.get_num_threads()
    fit(elements)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
