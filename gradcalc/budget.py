"""A time and memory budget for one run: never a hang, never an orphan.

The command runs in a forked child; the parent, which holds no lock the
child could starve it of (SymEngine's C++ keeps the GIL), watches it and
ends it when it runs past its budget, answering with exit 3 and a message
that says which budget ran out.

What is counted (the child says through a pipe which phase it is in):

- computing (`computing()`): the child's own CPU time, so that a loaded
  machine, which stretches wall-clock time but not CPU time, does not make a
  run fail; `--timeout S` seconds (DEFAULT_SECONDS when not given; for
  `--points`, DEFAULT_SECONDS per chunk of points unless --timeout is given).
  A separate wall-clock ceiling, WALL_FACTOR times as long, catches a child
  that is blocked rather than computing: it counts only time spent neither
  on a CPU nor queued for one (procstat), so it scales with the load as the
  CPU budget does (else it is scaled by the load average per CPU).
- waiting for input (`waiting()`): not computing. Unbounded unless
  `--timeout` was given, and then at most that many seconds, wall-clock.
- writing the answer (`computed()`): the reader sets the pace; no clock.
- start-up (imports, before any of the above): generous CPU and wall-clock
  ceilings, for a child that never gets going.

The child dies with the parent, whatever ends the parent: the kernel sends it
SIGKILL when the parent dies (Linux's parent-death signal), and SIGTERM,
SIGHUP or Ctrl-C to the parent end the child at once.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, NoReturn, TextIO

# What /proc says of a process: called under these names here (tests replace them).
from .procstat import cpu_seconds, load_factor, queued, resident_bytes, runnable_seconds

DEFAULT_SECONDS = 5.0  # CPU seconds of computing: one point, or one chunk of --points
WALL_FACTOR = 10.0  # wall-clock ceiling of computing, in multiples of the CPU budget
WALL_MINIMUM = 60.0  # ... and never below this many seconds
STARTUP_CPU_SECONDS = 60.0  # importing torch and SymPy takes about 3 s of CPU
STARTUP_WALL_SECONDS = 600.0  # ... and longer on a crowded machine
MEMORY_BYTES = 4 * 1024**3  # resident memory of the computation
POLL_SECONDS = 0.02
RAISE_IT_CLI = "--timeout SECONDS, 0 for none"  # how a budget is raised, as messages say

# Exit statuses the parent gives for a child that did not exit by itself
# (the codes are errors.ExitCode's; budget.py stays free of the library).
_UNDEFINED, _INTERNAL, _INTERRUPTED = 3, 70, 130

# Reports the parent's side calls: an overrun (its message) and a child a
# signal ended (its message and exit code); each returns the exit code to give.
OnOverrun = Callable[[str], int]
OnSignal = Callable[[str, int], int]

# -- the child's side ------------------------------------------------------

_ready_fd = None  # in the child: where to say which phase it is in
_state = {"explicit": False}


def _say(word: str) -> None:
    if _ready_fd is not None:
        with contextlib.suppress(OSError):
            os.write(_ready_fd, word.encode() + b"\n")


def set_timeout(seconds: float, explicit: bool) -> None:
    """The budget the command line asked for: `seconds` of CPU time (0: none);
    `explicit` when the user gave --timeout (which then also bounds waiting
    for input). A no-op outside a budgeted child."""
    _state["explicit"] = explicit
    _say(f"budget {seconds!r} {'explicit' if explicit else 'default'} run")


def per_chunk(seconds: float = DEFAULT_SECONDS) -> None:
    """Many points: unless --timeout was given, each chunk of points gets the
    default budget anew, so nothing runs unbounded and nothing large fails."""
    if not _state["explicit"]:
        _say(f"budget {seconds!r} default chunk")


def computing() -> None:
    """Called by the command line once a command's heavy imports are done
    (cli.startup.start_computing), and for --points before each chunk: from here
    the CPU budget runs, and the garbage collector (see `run`). What was
    imported is frozen first: the collector never walks those objects again
    (its first pass over them cost 140-150 ms). Outside a budgeted child,
    nothing happens."""
    if _ready_fd is not None and not gc.isenabled():
        gc.freeze()
        gc.enable()
    _say("compute")


@contextlib.contextmanager
def waiting(phase: str = "wait") -> Iterator[None]:
    """Around a read of input: the clock is the wait's, bounded only by an
    explicit --timeout; afterwards the phase before it goes on. `phase`
    "start": torch's import (in helper.py's process, or late here), then computing."""
    _say(phase)
    try:
        yield
    finally:
        _say("resume" if phase == "wait" else "compute")


def computed() -> None:
    """Called when the computing is done and writing the answer is left: from
    here the parent waits, whatever the clocks say (so an answer being written
    to a slow reader is never cut short). Held output is released."""
    release()
    _say("write")


class _Held(io.StringIO):
    """stdout held back until the work is finished, so that a run ended for
    overrunning its budget has printed nothing but the error. It answers
    isatty() and encoding for the real stream, so colour, width and
    character set still follow it."""

    def __init__(self, real: TextIO) -> None:
        super().__init__()
        self.real = real

    def isatty(self) -> bool:
        return self.real.isatty()

    def fileno(self) -> int:
        return self.real.fileno()

    # typeshed declares these plain attributes of TextIOBase; at run time
    # they are read-only, and here they are the real stream's.
    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.real.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.real.errors


def hold() -> None:
    """Hold stdout back from here until `release`."""
    if not isinstance(sys.stdout, _Held):
        sys.stdout = _Held(sys.stdout)


def release() -> None:
    """Write out what stdout holds and stop holding (raises OSError when the
    write fails, for the caller to report). A no-op when nothing is held."""
    held = sys.stdout
    if isinstance(held, _Held):
        sys.stdout = held.real
        held.real.write(held.getvalue())
    if sys.stdout is not None:
        sys.stdout.flush()


def die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGKILL when the parent dies (Linux), then check
    that it has not died already, between fork() and the request."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(_INTERRUPTED)


def run(
    work: Callable[[], int],
    memory: int = MEMORY_BYTES,
    on_overrun: OnOverrun | None = None,
    on_signal: OnSignal | None = None,
) -> int:
    """Run `work()` (returns an exit code) in a child process within the
    budget (see the module's docstring); stdout is held back until the work
    releases it (`release`, `computed`). `on_overrun(message)` reports an
    overrun and returns the exit code; `on_signal(message, code)` a child
    that a signal ended."""
    global _ready_fd
    if not hasattr(os, "fork"):
        return work()
    sys.stdout.flush()
    sys.stderr.flush()
    ready_read, ready_write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child does the work
        code = _INTERNAL
        os.close(ready_read)
        die_with_parent(parent)
        # Ctrl-C reaches the whole process group: the parent answers it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Start-up only imports modules, which live as long as the process:
        # collecting garbage during it is wasted work (~20 ms of a 0.3 s run).
        gc.disable()
        _ready_fd = ready_write
        hold()
        try:
            code = work()
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            try:
                _say("write")  # from here the parent waits, whatever the clock says
                with contextlib.suppress(OSError, ValueError):
                    release()  # work() released and reported its output; a last resort
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.flush()
            finally:
                os._exit(code)
    os.close(ready_write)
    return _Watch(pid, memory, on_overrun, on_signal).run(ready_read)


class Worker:
    """A warm child that answers one request after another, each within the
    budget `run` gives a one-shot command (the same phases, clocks and
    messages), without a fork per request: a session's answers then cost
    milliseconds. A request that overruns its budget, or that Ctrl-C
    cancels, ends the child; the next request forks a fresh one from the
    warm parent. Its stdout and stderr go to two in-memory files, read back
    whole after each answer.

    `serve(request)` runs in the child and returns an exit code; `request`
    is anything picklable."""

    RETIRE_BYTES = 1024**3  # a child grown past this is replaced after its answer

    def __init__(self, serve: Callable[[Any], int], memory: int = MEMORY_BYTES) -> None:
        self.serve, self.memory = serve, memory
        self.pid: int | None = None

    def ready(self) -> None:
        """Fork the child now (while the user types), not at the first request."""
        if self.pid is None:
            self._start()

    def ask(
        self,
        request: Any,
        on_overrun: OnOverrun | None = None,
        on_signal: OnSignal | None = None,
    ) -> tuple[int, bytes, bytes]:
        """(exit code, stdout, stderr) of one request."""
        import pickle

        message = pickle.dumps(request)
        if not self._send(len(message).to_bytes(8, "little") + message):
            self._start()  # it died between requests (killed for memory, say): afresh
            if not self._send(len(message).to_bytes(8, "little") + message):
                raise OSError("the worker process cannot be started")
        assert self.pid is not None
        watch = None
        try:
            watch = _Watch(self.pid, self.memory, on_overrun, on_signal)
            code = watch.run(self._ready, keep_open=True)
        except KeyboardInterrupt:
            # Ctrl-C after the request went out but before the watch listened
            # (the answer may already have begun, its input open): the same cancel.
            _end(self.pid)
            code = (on_signal or (lambda message, code: code))("interrupted", _INTERRUPTED)
        stdout, stderr = (_read_all(fd) for fd in self._outputs)
        if watch is None or watch.answered is None:
            self._forget()  # it died, or was ended: the next request forks anew
        elif resident_bytes(self.pid) > self.RETIRE_BYTES:
            self.close()
        return code, stdout, stderr

    def _send(self, data: bytes) -> bool:
        """Hand the child a request; False when there is no live child (the
        write would meet a closed pipe: SIGPIPE is held off meanwhile, since
        a one-shot run's default action for it would end this process)."""
        if self.pid is None:
            self._start()
        assert self.pid is not None
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(self.pid, os.WNOHANG)[0] == self.pid:
                self._forget()  # it died since its last answer
                return False
        previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        try:
            os.write(self._requests, data)
            return True
        except OSError:
            self.close()
            return False
        finally:
            signal.signal(signal.SIGPIPE, previous)

    def _start(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        requests_read, self._requests = os.pipe()
        self._ready, ready_write = os.pipe()
        self._outputs = (os.memfd_create("stdout"), os.memfd_create("stderr"))
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(self._requests)
            os.close(self._ready)
            self._child(parent, requests_read, ready_write)
        os.close(requests_read)
        os.close(ready_write)
        self.pid = pid

    def _child(self, parent: int, requests: int, ready: int) -> NoReturn:
        global _ready_fd
        die_with_parent(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent answers Ctrl-C
        gc.disable()  # until computing() (see run)
        _ready_fd = ready
        os.dup2(self._outputs[0], 1)
        os.dup2(self._outputs[1], 2)
        # For the child's life, as a one-shot run's are for its own.
        sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), encoding="utf-8")  # noqa: SIM115
        sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), encoding="utf-8")  # noqa: SIM115
        import pickle

        while True:
            size = _read_exactly(requests, 8)
            if size is None:
                os._exit(0)  # the parent closed the session
            request = pickle.loads(_read_exactly(requests, int.from_bytes(size, "little")) or b"")
            for fd in (1, 2):
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
            _state["explicit"] = False
            hold()
            code = _INTERNAL
            try:
                code = self.serve(request)
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                with contextlib.suppress(OSError, ValueError):
                    release()
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.flush()
            _say(f"done {int(code)}")

    def _forget(self) -> None:
        """The child is gone (reaped by the watch, or killed): close our ends."""
        for fd in (self._requests, self._ready, *self._outputs):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.pid = None

    def close(self) -> None:
        """End the child (it exits when its requests pipe closes)."""
        if self.pid is None:
            return
        pid = self.pid
        self._forget()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _read_exactly(fd: int, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        chunk = os.read(fd, count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0) if size else b""


class _Watch:
    """The parent's side: follows the child's phases and ends it past its
    budget, or when the parent itself is told to stop."""

    def __init__(
        self, pid: int, memory: int, on_overrun: OnOverrun | None, on_signal: OnSignal | None
    ) -> None:
        self.pid, self.memory = pid, memory
        self.answered: int | None = None  # a Worker's "done CODE"
        self.on_overrun: OnOverrun = on_overrun or (lambda message: _UNDEFINED)
        self.on_signal: OnSignal = on_signal or (lambda message, code: code)
        self.seconds: float | None = DEFAULT_SECONDS  # None: no time budget
        self.advice = RAISE_IT_CLI  # how the caller raises the budget, in messages
        self.explicit, self.chunk = False, False
        self.phase = self.resume = "start"
        self.spent_cpu = self.spent_wall = self.spent_wait = 0.0
        self.mark_cpu, self.mark_wall = self._cpu(), time.monotonic()
        self.queued = queued  # is a thread of the child on a CPU or queued for one now?
        self.blocked, self.sampled = 0.0, (time.monotonic(), runnable_seconds(pid))
        self.schedstat = self.sampled[1] is not None  # else the load average scales

    def _sample(self) -> None:
        """Add to `blocked` the time since the last sample off a CPU and out of its
        queue (schedstat counts a queued wait once served: a thread in state R now is not)."""
        now, runnable = time.monotonic(), runnable_seconds(self.pid)
        (then, before), self.sampled = self.sampled, (now, runnable)
        if runnable is not None and before is not None and not self.queued(self.pid):
            self.blocked += max(0.0, now - then - max(0.0, runnable - before))

    def _cpu(self) -> float:
        cpu = cpu_seconds(self.pid)
        return time.monotonic() if cpu is None else cpu  # no /proc: wall-clock time

    def run(self, ready_read: int, keep_open: bool = False) -> int:
        """Watch until the child exits (or, for a Worker, says it is done);
        its exit code, or what on_overrun / on_signal make of its end."""
        stopping = {}

        def stop(number: int, frame: FrameType | None) -> None:
            """SIGTERM, SIGHUP: end the child first."""

            stopping["signal"] = number
            _end(self.pid)
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)

        previous = {}
        if threading.current_thread() is threading.main_thread():  # (only it may set them)
            previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
        pending = b""
        try:
            while True:
                heard, closed = _listen(ready_read, POLL_SECONDS)
                pending += heard
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._hear(line.decode("ascii", "replace").split())
                if self.answered is not None:
                    return self.answered
                if closed:
                    _, status = os.waitpid(self.pid, 0)
                    return self._exit_code(status)
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    return self._exit_code(status)
                message = self._overrun()
                if message is not None:
                    _end(self.pid)
                    return self.on_overrun(message)
        except KeyboardInterrupt:
            _end(self.pid)
            return self.on_signal("interrupted", _INTERRUPTED)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            if not keep_open:
                os.close(ready_read)

    def _hear(self, words: list) -> None:
        if not words:
            return
        cpu, now = self._cpu(), time.monotonic()
        # Close the current stretch ...
        if self.phase == "compute":
            self.spent_cpu += cpu - self.mark_cpu
            self._sample()
            self.spent_wall += self.blocked if self.schedstat else now - self.mark_wall
        elif self.phase == "wait":
            self.spent_wait += now - self.mark_wall
        self.mark_cpu, self.mark_wall = cpu, now
        self.blocked, self.sampled = 0.0, (now, runnable_seconds(self.pid))
        if words[0] == "done" and len(words) == 2:
            self.answered = int(words[1])
            return
        if words[0] == "budget" and len(words) == 4:
            self.seconds = float(words[1]) or None
            self.explicit, self.chunk = words[2] == "explicit", words[3] == "chunk"
            return  # the phase goes on
        # ... and open the next.
        if words[0] == "wait":
            self.resume = self.phase if self.phase != "wait" else self.resume
        phase = self.resume if words[0] == "resume" else words[0]
        self.phase = phase if phase in ("start", "compute", "wait", "write") else "write"
        if self.phase == "compute" and self.chunk:
            self.spent_cpu = self.spent_wall = 0.0  # each chunk its own budget

    def _overrun(self) -> str | None:
        """What ran out, if anything."""
        if self.phase == "write":
            return None
        if resident_bytes(self.pid) > self.memory:
            return f"needed more than {self.memory / 1024**3:g} GiB of memory (the memory budget)"
        cpu, wall = self._cpu() - self.mark_cpu, time.monotonic() - self.mark_wall
        if self.phase == "start":
            if cpu > STARTUP_CPU_SECONDS:
                return f"start-up used more than {STARTUP_CPU_SECONDS:g} s of CPU time"
            if wall > STARTUP_WALL_SECONDS:
                return f"start-up took longer than {STARTUP_WALL_SECONDS:g} s"
            return None
        if self.seconds is None:
            return None
        if self.phase == "wait":
            if self.explicit and self.spent_wait + wall > self.seconds:
                return f"waited longer than {self.seconds:g} s for input (--timeout)"
            return None
        what = "one chunk of points" if self.chunk else "computing"
        if self.spent_cpu + cpu > self.seconds:
            return (
                f"{what} used more than {self.seconds:g} s of CPU time (the time budget; "
                f"raise it with {self.advice})"
            )
        return self._wall_overrun(what, wall)

    def _wall_overrun(self, what: str, wall: float) -> str | None:
        """The wall-clock ceiling of computing, `wall` seconds into this stretch."""
        assert self.seconds is not None
        ceiling = max(WALL_MINIMUM, WALL_FACTOR * self.seconds)
        if self.schedstat:
            self._sample()  # at every poll: the queue's state now counts
        if self.spent_wall + wall <= ceiling:
            return None  # (blocked time is at most the wall-clock time)
        if not self.schedstat:
            scaled = ceiling * load_factor()
            if self.spent_wall + wall > scaled:
                return (
                    f"{what} took longer than {scaled:g} s of wall-clock time without using "
                    f"its {self.seconds:g} s of CPU time (the wall-clock ceiling, {ceiling:g} s "
                    "times the load per CPU: the machine is overloaded or the work is blocked)"
                )
            return None
        if self.spent_wall + self.blocked > ceiling:
            return (
                f"{what} was blocked for longer than {ceiling:g} s of wall-clock time, neither "
                f"computing nor waiting for a CPU, without using its {self.seconds:g} s of CPU "
                "time (the wall-clock ceiling: the work is stuck; time spent waiting for a busy "
                "machine's CPUs is not counted)"
            )
        return None

    def _exit_code(self, status: int) -> int:
        if not os.WIFSIGNALED(status):
            return os.waitstatus_to_exitcode(status)
        number = os.WTERMSIG(status)
        if number == signal.SIGPIPE:
            # The reader of its output went away: end as `yes | head -1` does.
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGPIPE)
            return 128 + number
        name = _signal_name(number)
        if number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            return self.on_signal(f"interrupted: the computation received {name}", _INTERRUPTED)
        if number == signal.SIGKILL:
            return self.on_signal(
                "the computation was killed (SIGKILL), most likely by the system for "
                "lack of memory",
                _UNDEFINED,
            )
        return self.on_signal(
            f"internal error: the computation crashed with {name} (a bug)", _INTERNAL
        )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _listen(ready_read: int, timeout: float) -> tuple[bytes, bool]:
    """What the child says within `timeout` seconds, waking as soon as it
    speaks: (words, closed). `closed` means its end of the pipe is shut, so
    the child has exited (or is exiting)."""
    import select

    readable, _, _ = select.select([ready_read], [], [], timeout)
    if not readable:
        return b"", False
    words = os.read(ready_read, 4096)
    return words, words == b""


def _end(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
