"""Dask's cost per partition when gradcalc.points runs under map_partitions
(docs/dataframes.md): 4,000 points in 40 partitions on a LocalCluster of two
workers, against the same 40 calls in this process, best of 3.

    python benchmarks/dask_overhead.py            # worker threads
    python benchmarks/dask_overhead.py processes  # worker processes
"""

import sys
import time

import numpy as np
import pandas as pd

import gradcalc

EXPRESSION = "x**2*y"
ROWS, PARTS, REPEAT = 4000, 40, 3


def answer(partition: pd.DataFrame, run: int) -> pd.DataFrame:
    """`run` makes each run's tasks new ones: Dask would hand back the
    results of identical tasks still held from a run before."""
    return gradcalc.points(EXPRESSION, partition)


def best(work) -> float:
    times = []
    for run in range(REPEAT):
        start = time.perf_counter()
        work(run)
        times.append(time.perf_counter() - start)
    return min(times)


def main(processes: bool) -> None:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.standard_normal(ROWS), "y": rng.standard_normal(ROWS)})
    gradcalc.points(EXPRESSION, frame)  # torch and SymPy imported, not timed
    pieces = np.array_split(np.arange(ROWS), PARTS)
    alone = best(lambda _: [gradcalc.points(EXPRESSION, frame.iloc[p]) for p in pieces])
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        data = dd.from_pandas(frame, npartitions=PARTS).persist()
        meta = gradcalc.points(EXPRESSION, data._meta)

        def run(index: int) -> None:
            data.map_partitions(answer, index, meta=meta).compute()

        run(-1)  # the workers import gradcalc's engines
        spread = best(run)
    # Two workers share the 40 calls' work: between alone/2 (both busy all
    # the time) and alone (one at a time, as threads holding the GIL are).
    high = (spread - alone / 2) / PARTS * 1000
    low = (spread - alone) / PARTS * 1000
    print(
        f"processes={processes}: {PARTS} partitions {spread * 1000:.0f} ms, "
        f"{PARTS} calls in-process {alone * 1000:.0f} ms, "
        f"overhead per partition {max(low, 0):.1f} to {high:.1f} ms"
    )


if __name__ == "__main__":
    main(sys.argv[1:] == ["processes"])
