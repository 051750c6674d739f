"""Where the time of many points goes, piece by piece, against one `diff`.

    python benchmarks/pieces.py [POINTS]      # 1,000,000 by default

Each piece of `diff 'sin(x**2)' --points FILE` is timed in-process as CPU
seconds (median of three, after a warm-up): reading the CSV, answering the
points (the three methods and the verdict), writing them as CSV, as NDJSON
and as Parquet; beside them, what the fastest writers at hand take to format
the same table as CSV (Polars' and PyArrow's, both compiled), and the CPU
time of one whole `gradcalc diff 'sin(x**2)' --at 3 --json` process, whose
start-up (torch, SymPy) any run pays once. A target of R times one `diff`
leaves (R - 1) times that process for the pieces: the last lines say how
much that is and what the pieces add up to.
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RUNS = 3


def cpu(work, runs: int = RUNS) -> float:
    """Median CPU seconds of `work()` over `runs` runs, after one warm-up."""
    work()
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return statistics.median(times)


def one_diff_cpu(runs: int = RUNS) -> float:
    """Median CPU seconds (user + system) of one `diff` process."""
    script = Path(sys.executable).with_name("gradcalc")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "gradcalc"]
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [*command, "diff", "sin(x**2)", "--at", "3", "--json"],
            stdout=subprocess.DEVNULL,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def main() -> None:
    from gradcalc import batch, csvout, jsonout, pointsfile, tableout
    from gradcalc.cli.diff_points import WRITE_LINES  # the lines the CLI writes at a time
    from gradcalc.threads import fit

    fit(pointsfile.CHUNK)  # as the CLI sets it for --points
    import gc

    gc.freeze()  # as the CLI does after its imports: collections skip what they made
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    x = np.random.default_rng(0).uniform(-5, 5, count)
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "points.csv")
        Path(path).write_bytes(b"x\n" + csvout_lines(x))

        def read() -> list:
            with open(path, "rb") as stream:
                return list(pointsfile.read_chunks(stream, "points.csv"))

        chunks = read()
        answers: list = []

        def answer() -> None:
            answers[:] = list(batch.differentiate_stream("sin(x**2)", chunks))

        rows = {"read the CSV (gradcalc)": cpu(read), "answer the points": cpu(answer)}
        # Each chunk's bytes made and dropped, as a pipe's reader takes them: a
        # list of them all would time a gigabyte's page faults too.
        rows["write CSV (gradcalc)"] = cpu(
            lambda: _drop(b for m in answers for b in [csvout.header_line(m), *csvout.rows(m)])
        )
        rows["write NDJSON (gradcalc)"] = cpu(
            lambda: _drop(b for m in answers for b in jsonout.diff_lines(m, WRITE_LINES))
        )
        rows["write Parquet (gradcalc)"] = cpu(lambda: _parquet(answers, work, tableout))
        table = {
            name: np.concatenate([csvout.columns(m, codes=True)[name] for m in answers])
            for name in csvout.header(answers[0])
        }
        rows.update(_other_writers(table))
    whole = one_diff_cpu()
    print(f"{count:,} points of sin(x**2); CPU seconds, median of {RUNS}")
    for label, seconds in rows.items():
        print(f"  {label:<46} {seconds:7.3f} s  {seconds / whole:5.2f}x one diff")
    print(f"  {'one whole diff process (start-up included)':<46} {whole:7.3f} s")
    for target, output in ((1.2, "CSV"), (2.0, "NDJSON"), (1.15, "Parquet")):
        key = "read the CSV (gradcalc)" if output != "Parquet" else None
        spent = rows["answer the points"] + rows[f"write {output} (gradcalc)"]
        spent += rows[key] if key else 0.0
        print(
            f"  {target}x one diff leaves {(target - 1) * whole:.3f} s for {output}; "
            f"its pieces take {spent:.3f} s"
        )


def _drop(chunks) -> int:
    """Every chunk made, none kept: the bytes in all."""
    return sum(len(chunk) for chunk in chunks)


def csvout_lines(x: np.ndarray) -> bytes:
    import orjson

    return orjson.dumps(x, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].replace(b",", b"\n") + b"\n"


def _parquet(answers: list, work: str, tableout) -> None:
    sink = tableout.ParquetSink(os.path.join(work, "answers.parquet"))
    for many in answers:
        sink.write(many)
    sink.close()


def _other_writers(table: dict) -> dict:
    """The same table formatted as CSV by compiled writers, when installed."""
    found = {}
    try:
        import pyarrow.csv as pacsv

        from gradcalc.tableout import from_columns

        arrow = from_columns(table)
        found["write CSV (PyArrow's writer, for scale)"] = cpu(
            lambda: pacsv.write_csv(arrow, io.BytesIO())
        )
    except ImportError:
        pass
    try:
        import polars as pl

        frame = pl.from_arrow(from_columns(table))
        found["write CSV (Polars' writer, for scale)"] = cpu(lambda: frame.write_csv(io.BytesIO()))
    except ImportError:
        pass
    return found


if __name__ == "__main__":
    main()
