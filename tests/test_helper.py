"""Autograd in a helper process for the CLI's many points (helper):
the helper, not the run's own process, imports torch; its answers are
in-process autograd's, bit for bit; a helper that dies or fails is replaced
by the in-process pass; and what the CLI writes with it is what it writes
without it."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import HANG_GUARD_SECONDS, ROOT, run_subprocess

from gradcalc.pointsfile import CHUNK

PROBE = """
import json, os, signal, sys
import numpy as np
import pytest
from gradcalc import helper
from gradcalc.parsing import parse

helper.start(1000)
expr = parse("sin(x**2) * exp(y)")
rng = np.random.default_rng(1)
points = {"x": rng.uniform(-3, 3, 1000), "y": rng.uniform(-1, 1, 1000)}
wanted = [("x",), ("y",), ("x", "y")]
first = helper.Later(helper.gradients, expr, points, wanted, "float64")
ahead = first.ready()  # torch is still being imported in the helper
answers = [a.tolist() for a in first.result()]
imported_here = "torch" in sys.modules
if sys.argv[1] == "kill":  # the helper dies: the next chunk is computed here
    import multiprocessing
    for child in multiprocessing.active_children():
        os.kill(child.pid, signal.SIGKILL)
    again = helper.Later(helper.gradients, expr, points, wanted, "float64")
    answers = [a.tolist() for a in again.result()]
helper.stop()
print(json.dumps({"ahead": ahead, "imported_here": imported_here, "answers": answers}))
"""


def _output(code: str, *args: str, timeout: float = HANG_GUARD_SECONDS) -> str:
    """What a fresh Python process running `code` printed (torch not
    imported there beforehand: the helper can start)."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _probe(mode: str) -> dict:
    import json

    return json.loads(_output(PROBE, mode))


def _in_process() -> list:
    from gradcalc import helper
    from gradcalc.parsing import parse

    rng = np.random.default_rng(1)
    points = {"x": rng.uniform(-3, 3, 1000), "y": rng.uniform(-1, 1, 1000)}
    found = helper.gradients(
        parse("sin(x**2) * exp(y)"), points, [("x",), ("y",), ("x", "y")], "float64"
    )
    return [a.tolist() for a in found]


def test_the_helper_imports_torch_and_answers_as_autograd_here_does():
    seen = _probe("keep")
    assert seen["imported_here"] is False  # torch was imported by the helper alone
    assert seen["ahead"] is False  # the chunk was asked for before torch was there
    assert seen["answers"] == _in_process()  # bit for bit


def test_a_helper_that_died_is_replaced_by_the_pass_in_process():
    seen = _probe("kill")
    assert seen["answers"] == _in_process()


def test_the_cli_writes_with_the_helper_what_it_writes_without(cli, tmp_path):
    """A real process (torch not imported: the helper runs) against the CLI
    in this process (torch imported already: no helper), byte for byte, over
    three chunks with their verdicts: agree, not differentiable at 0.5 (the
    kink of abs) and undefined at 1 (a pole)."""
    count = 2 * CHUNK + 123
    x = np.linspace(-2, 2, count)
    x[[5, CHUNK + 7, 2 * CHUNK + 3]] = [0.5, 1.0, 0.5]
    path = tmp_path / "points.csv"
    path.write_text("x\n" + "\n".join(repr(float(v)) for v in x) + "\n")
    expression = "abs(x - 0.5) + 1/(x - 1)"
    for form in (["--format", "csv"], ["--json"]):
        real = run_subprocess("diff", expression, "--points", str(path), *form)
        here = cli("diff", expression, "--points", str(path), *form)
        assert real.returncode == here.exit_code == 3
        assert real.stdout == here.stdout
        # To a file: the helper appends its chunks to it as this process does.
        written = tmp_path / f"answers{form[-1]}"
        again = run_subprocess("diff", expression, "--points", str(path), *form, "-o", str(written))
        assert again.returncode == 3
        assert written.read_text() == here.stdout
        for status, count in (("not_differentiable", 2), ("undefined", 1)):
            assert real.stdout.count(f'"{status}"' if form == ["--json"] else status) == count


def test_an_error_at_a_chunk_start_comes_after_every_chunk_prepared_ahead(tmp_path):
    """Chunks read while torch is imported are prepared, not answered; an
    error at the start of the next chunk (no good line before it in that
    chunk) still comes after all of their answers."""
    path = tmp_path / "points.csv"
    path.write_text("x\n" + "0.5\n" * (3 * CHUNK) + "oops\n")
    process = run_subprocess("diff", "x**2", "--points", str(path), "--format", "csv")
    assert process.returncode == 2
    rows = process.stdout.splitlines()
    assert len(rows) == 1 + 3 * CHUNK
    assert rows[-1] == f"{3 * CHUNK + 1},0.5,0.25,1.0,1.0,{rows[-1].split(',')[5]},agree"
    assert process.stderr == (
        f"gradcalc: error: {path} line {3 * CHUNK + 2}: x='oops' is not a number "
        "(plain ASCII decimals: 1000, -2.5, 1e-3)\n"
    )


def test_nothing_is_computed_while_a_chunk_handed_over_is_written(monkeypatch):
    """A chunk yielded with `followed` may be written by the helper while
    the writer goes on: the next chunk is yielded at once, with no chunk
    computed (`before()`, the budget's clock) in between. A run its budget
    ended in that computing killed the helper mid-line, and the NDJSON
    error document was glued to the half-written line."""
    import io
    import itertools

    from gradcalc import batch
    from gradcalc.pointsfile import read_chunks

    # Autograd's answers not there for the first chunks, as while the
    # helper imports torch: the chunks are prepared ahead, then answered.
    asked = []
    monkeypatch.setattr(batch._Chunk, "ready", lambda self: asked.append(1) or len(asked) > 3)
    count = 5 * CHUNK + 7
    text = "x\n" + "".join(f"{i / count!r}\n" for i in range(count))
    events: list = []
    chunks = read_chunks(io.BufferedReader(io.BytesIO(text.encode())), "points")
    for many in batch.differentiate_stream("x**2", chunks, before=lambda: events.append("before")):
        events.append(("yield", many.followed, float(many.points.columns["x"][0])))
    yields = [e for e in events if e != "before"]
    # Every chunk once, in order.
    assert [e[2] for e in yields] == [i * CHUNK / count for i in range(6)]
    assert any(e[1] for e in yields)  # some were handed over
    for event, after in itertools.pairwise(events):
        if event != "before" and event[1]:
            assert after != "before" and after[0] == "yield"
    assert events[-1][1] is False  # the last chunk is never held back


class _Pool:
    """Stands for the helper's pool: `submit` gives a future already settled."""

    def __init__(self, failure: Exception | None = None, value: object = None):
        self.failure, self.value, self.asked = failure, value, 0

    def submit(self, function, *args):
        from concurrent.futures import Future

        self.asked += 1
        future: Future = Future()
        if self.failure is not None:
            future.set_exception(self.failure)
        else:
            future.set_result(self.value)
        return future


def test_the_first_answer_is_waited_for_as_start_up_even_when_it_failed(monkeypatch):
    """torch's import in the helper is start-up ("start", then "compute"
    again) for the first answer only; a failed first answer is done again
    here and still ends start-up, so no later wait says "start"."""
    from gradcalc import budget, helper

    said: list = []
    monkeypatch.setattr(budget, "_say", said.append)
    monkeypatch.setattr(helper, "_helper", {"pool": _Pool(RuntimeError("helper died"))})
    first = helper.Later(divmod, 17, 5)
    assert first.ready()
    assert first.result() == (3, 2)  # computed here after the helper's failure
    assert said == ["start", "compute"]
    monkeypatch.setitem(helper._helper, "pool", _Pool(value=(0, 1)))
    assert helper.Later(divmod, 17, 5).result() == (0, 1)  # the helper's answer
    assert said == ["start", "compute"]  # no second start-up
    helper._helper.pop("pool")
    assert helper.Later(divmod, 17, 5).result() == (3, 2)  # no helper: at once


PROBE_LATE_TORCH = """
import io, sys
from gradcalc import batch, budget, helper
from gradcalc.pointsfile import read_chunks

said = []
budget._say = said.append
helper.start(1000)
chunks = read_chunks(io.BufferedReader(io.BytesIO(b"x\\n4\\n0\\n")), "points")
many = next(batch.differentiate_stream("sqrt(x)", chunks))
helper.stop()
print(many.status(0), many.status(1), said.count("start"), "torch" in sys.modules)
"""


def test_the_one_point_drivers_late_torch_import_is_start_up():
    """With torch in the helper, a point only the one-point driver settles
    (sqrt at 0) imports torch here: as start-up, as when torch was imported
    first, not out of the chunk's budget. Two start-ups: the helper's first
    answer, then that import."""
    assert _output(PROBE_LATE_TORCH).split() == ["agree", "undefined", "2", "True"]


QUICK_PROBE = """
import json, sys
import numpy as np
import pytest
from gradcalc import batch, helper
from gradcalc.parsing import parse
from gradcalc.pointsfile import Points

helper.start(1000)
# The helper answers once (torch imported there): it is asked the quick pass from now on.
helper.Later(helper.gradients, parse("x"), {"x": np.ones(3)}, [("x",)], "float64").result()
asked = []


class Counting(helper.Later):  # what is asked of the helper (Later.now is not)
    def __init__(self, function, *args):
        asked.append(function.__name__)
        super().__init__(function, *args)


batch.Later = Counting
EXPRESSION = "abs(x - 0.5)*y + 1/(x - 1) + x*detach(sin(x))"


def chunks():
    rng = np.random.default_rng(7)
    for start in (0, 1000, 2000):
        x, y = rng.uniform(-2, 2, 1000), rng.uniform(-1, 1, 1000)
        x[[3, 500]] = [0.5, 1.0]  # the kink of abs, the pole
        yield Points(["x", "y"], {"x": x, "y": y}, np.arange(start, start + 1000) + 2)


def answered():
    found = []
    for many in batch.differentiate_stream(EXPRESSION, chunks()):
        columns = [many.value, many.codes.astype(float)]
        for p in many.partials:
            columns += [p.sympy, p.autograd, p.finite_difference, p.finite_difference_error]
            columns += [p.agree.astype(float), p.finite_difference_checked.astype(float)]
        found.append([c.tolist() for c in columns] + [repr(sorted(many.reasons.items()))])
    return found


apart = answered()
asked_apart, asked[:] = list(asked), []
helper.stop()
here = answered()
same = json.dumps(apart) == json.dumps(here)  # (NaN where f is undefined: compared as text)
print(json.dumps({"same": same, "apart": asked_apart, "here": asked}))
"""


def test_the_quick_pass_asked_of_the_helper_gives_the_numbers_of_the_pass_here():
    """Once the helper answers, each chunk's quick pass of the finite
    differences (quickdiff) is asked of it, its detached and node values
    computed there: every column, verdict and reason is what the pass in
    this process gives, bit for bit (kink, pole and detach included)."""
    import json

    seen = json.loads(_output(QUICK_PROBE))
    assert seen["apart"] == ["gradients", "quick_differences"] * 3
    # No helper: Later computes at once, and the quick pass is done here.
    assert seen["here"] == ["gradients"] * 3
    assert seen["same"] is True


class _Pending(_Pool):
    """A helper's pool whose answers never come: whatever is asked stays pending."""

    def submit(self, function, *args):
        from concurrent.futures import Future

        self.asked += 1
        self.functions = [*getattr(self, "functions", []), function.__name__]
        return Future()


def test_a_chunk_is_handed_to_the_helper_only_when_nothing_is_pending_there(monkeypatch, tmp_path):
    """The helper writes a chunk followed by another only when it has at
    most one chunk's passes still to answer: behind more the chunk would
    wait, and this process with it; it is written here instead, at once."""
    import io

    from gradcalc import batch, helper
    from gradcalc.cli import diff_points
    from gradcalc.pointsfile import read_chunks

    (many,) = batch.differentiate_stream(
        "x**2", read_chunks(io.BufferedReader(io.BytesIO(b"x\n1\n2\n")), "points")
    )
    many.followed = True
    for pending in (True, False):
        pool = _Pending() if pending else _Pool()
        monkeypatch.setattr(helper, "_helper", {"pool": pool, "ready": True})
        if pending:  # more asked, not answered, than a chunk's two passes
            for _ in range(diff_points.HANDOVER_PENDING + 1):
                helper.Later(divmod, 17, 5)
        path = tmp_path / f"answers-{pending}.csv"
        with open(path, "ab") as file:
            write, _ = diff_points._text_writer("csv", file, str(path))
            write(many)
        rows = path.read_text().splitlines()
        if pending:  # written here: header and both rows
            assert pool.functions == ["divmod"] * (diff_points.HANDOVER_PENDING + 1)
            assert [row.split(",")[:3] for row in rows[1:]] == [
                ["2", "1.0", "1.0"],
                ["3", "2.0", "4.0"],
            ]
        else:  # handed over (this pool answers at once, writing nothing): the header alone
            assert pool.asked == 1 and len(rows) == 1


DEATH_PROBE = """
import os, signal, sys, time
import numpy as np
import pytest
from gradcalc import helper

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # as the console script sets it
helper.start(1000)
pool = helper._helper["pool"]
(pid,) = pool._processes
busy = helper.Later(time.sleep, 30)  # the helper busy: what is asked next waits in its pipe
big = helper.Later(np.sum, np.ones(1_000_000))  # 8 MB: the pool's feeder thread blocks writing it
time.sleep(1.0)
os.kill(pid, signal.SIGKILL)
print(big.result(), flush=True)  # done here again, the helper being dead
"""


def test_a_helper_that_dies_leaves_the_work_to_this_process():
    """A helper killed while a task is being written to its pipe: the write
    fails (no SIGPIPE ends this process, whose SIGPIPE is at its default
    action as the CLI sets it) and the task is done here; it fails (exit
    -13, nothing printed) with SIGPIPE left unblocked in the pool's threads."""
    assert _output(DEATH_PROBE) == "1000000.0\n"


SEND_DEATH_PROBE = """
import os, struct, sys
from gradcalc import helper

PARENT = os.getpid()


def dies_sending(x):
    # In the helper: the first 4 bytes of an answer of 1 MiB on the pool's
    # result pipe (the length, as Connection.send_bytes writes it), then death.
    if os.getpid() != PARENT:
        queue = sys._getframe(1).f_locals["result_queue"]  # the pool's worker loop
        os.write(queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"half")
        os._exit(1)
    return 2 * x


helper.start(1000)
helper.Later(int).result()  # the helper is up
print(helper.Later(dies_sending, 21).result(), flush=True)  # done here again
print(helper.Later(dies_sending, 50).result(), flush=True)  # the pool broken: here at once
helper.stop()
"""


def test_a_helper_that_dies_part_way_through_an_answer_leaves_the_work_to_this_process():
    """The pool's reader waited for the rest of a message the dead helper
    never sent (this process held the pipe's other end): the run hung until
    its wall-clock ceiling. Now the wait sees the helper dead, closes that
    end, and the work is done here; the process ends (its exit joins the
    pool's thread, which no longer waits)."""
    assert _output(SEND_DEATH_PROBE, timeout=120) == "42\n100\n"


class _DiesWriting(_Pool):
    """A helper that begins writing the chunk it is given (as write_apart
    does), stops half way through it and fails: dead, or its write failed."""

    def submit(self, function, *args):
        from concurrent.futures import Future

        from gradcalc import helper
        from gradcalc.cli import diff_points

        form, many, path = args
        text = b"".join(diff_points._pieces(form, many))
        helper.began_writing()
        with open(path, "ab") as out:
            out.write(text[: len(text) // 2])
        future: Future = Future()
        future.set_exception(self.failure)
        return future


def _two_chunks():
    import io

    from gradcalc import batch
    from gradcalc.pointsfile import read_chunks

    stream = io.BufferedReader(io.BytesIO(b"x\n" + b"".join(b"%d\n" % i for i in range(7))))
    first, second = batch.differentiate_stream("x**2", read_chunks(stream, "points", size=4))
    first.followed = True  # as differentiate_stream marks a chunk another follows at once
    return first, second


def _written(monkeypatch, tmp_path, pool, name):
    from multiprocessing import RawValue

    from gradcalc import helper
    from gradcalc.cli import diff_points

    state = {"began": RawValue("b", 0)} if pool is not None else {}
    if pool is not None:
        state.update(pool=pool, ready=True)
    monkeypatch.setattr(helper, "_helper", state)
    path = tmp_path / name
    with open(path, "ab") as file:
        write, end = diff_points._text_writer("csv", file, str(path))
        for many in _two_chunks():
            write(many)
        end()
    return path.read_bytes()


def test_a_chunk_the_helper_died_writing_is_written_again_from_where_it_began(
    monkeypatch, tmp_path
):
    """A helper that dies half way through the chunk it was given to write
    (killed, say): the output is cut back to where that chunk began and the
    chunk written here, once; not written again after the half line."""
    from concurrent.futures.process import BrokenProcessPool

    alone = _written(monkeypatch, tmp_path, None, "alone.csv")
    died = _written(monkeypatch, tmp_path, _DiesWriting(BrokenProcessPool("died")), "died.csv")
    assert died == alone
    assert alone.count(b"\n") == 8  # the header and the 7 points


def test_where_the_output_cannot_be_cut_back_a_helper_dead_part_way_is_an_output_error(
    monkeypatch, tmp_path
):
    """A pipe or a terminal cannot be cut back: the run ends with an output
    error (exit 74) naming the line the chunk began at. A write of the
    helper's own that failed (its reader gone) ends the run as the same
    write here would: quietly (ClosedPipe)."""
    from concurrent.futures.process import BrokenProcessPool

    from gradcalc.cli import diff_points
    from gradcalc.cli.output import ClosedPipe
    from gradcalc.errors import ExitCode, OutputError

    monkeypatch.setattr(diff_points, "_end_of", lambda file: None)
    with pytest.raises(OutputError) as raised:
        _written(monkeypatch, tmp_path, _DiesWriting(BrokenProcessPool("died")), "pipe.csv")
    assert str(raised.value) == (
        "cannot write the output: the helper process writing the answers from line 2 on "
        "died part way; the output ends there"
    )
    assert raised.value.exit_code == ExitCode.OUTPUT == 74
    with pytest.raises(ClosedPipe):
        _written(monkeypatch, tmp_path, _DiesWriting(BrokenPipeError(32, "gone")), "gone.csv")
