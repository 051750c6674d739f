"""A time and memory budget for one run: never a hang.

The command runs in a forked child; the parent, which holds no lock the
child could starve it of (SymEngine's C++ keeps the GIL), polls it and ends
it when it runs past its time or memory budget, answering with exit 3 and a
"took too long" / "too large" message instead. The library says through a
pipe when its heavy imports are done (`computing()`): the clock counts
computing, not start-up, which varies with the machine's load and caches.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import signal
import sys
import time

DEFAULT_SECONDS = 5.0  # of computing, after start-up: well under 10 s in all
STARTUP_SECONDS = 120.0  # importing torch on a cold, busy machine can take long
MEMORY_BYTES = 4 * 1024**3  # resident memory of the computation
POLL_SECONDS = 0.02


def resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


_ready_fd = None  # in the child: where to say that start-up is over


_STARTED, _FINISHED = b"1", b"2"


def _say(word: bytes) -> None:
    if _ready_fd is not None:
        with contextlib.suppress(OSError):
            os.write(_ready_fd, word)


def computing() -> None:
    """Called by the library once its heavy imports are done: from here the
    time budget runs (and the garbage collector, see `run`). A no-op outside
    a budgeted child."""
    if _ready_fd is not None:
        gc.enable()
    _say(_STARTED)


class _Held(io.StringIO):
    """stdout held back until the work is finished, so that a run ended for
    overrunning its budget has printed nothing but the error. It answers
    isatty() for the real stream, so colour and width still follow it."""

    def __init__(self, real):
        super().__init__()
        self.real = real

    def isatty(self):
        return self.real.isatty()

    def fileno(self):
        return self.real.fileno()


def computed() -> None:
    """Called when the computing is done and only writing the answer is left:
    from here the parent waits, whatever the clock says (so an answer being
    streamed out is never cut short). A no-op outside a budgeted child."""
    _say(_FINISHED)


def run(
    work, seconds: float | None, memory: int = MEMORY_BYTES, on_overrun=None, hold: bool = True
) -> int:
    """Run `work()` (returns an exit code) in a child process within the
    budget. `on_overrun(message)` reports an overrun and returns the exit code.
    With `hold`, stdout is kept until the work is done (an overrun then prints
    the error alone); without, the work must call `computed()` before it
    writes, as a large streamed answer (diff --points) does."""
    global _ready_fd
    if not hasattr(os, "fork"):
        return work()
    sys.stdout.flush()
    sys.stderr.flush()
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child does the work
        code = 70
        # Start-up only imports modules, which live as long as the process:
        # collecting garbage during it is wasted work (~20 ms of a 0.3 s run).
        gc.disable()
        os.close(ready_read)
        _ready_fd = ready_write
        held = sys.stdout = _Held(sys.stdout) if seconds is not None and hold else sys.stdout
        try:
            code = work()
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            try:
                _say(_FINISHED)  # from here the parent waits, whatever the clock says
                if isinstance(held, _Held):
                    held.real.write(held.getvalue())
                    held.real.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    os.close(ready_write)
    return _watch(pid, seconds, memory, on_overrun, ready_read)


def _listen(ready_read, timeout: float):
    """What the child says within `timeout` seconds, waking as soon as it
    speaks: (words, closed). `closed` means its end of the pipe is shut, so
    the child has exited (or is exiting)."""
    import select

    readable, _, _ = select.select([ready_read], [], [], timeout)
    if not readable:
        return b"", False
    words = os.read(ready_read, 64)
    return words, words == b""


def _watch(pid, seconds, memory, on_overrun, ready_read) -> int:
    start, computing, finished = time.monotonic(), False, False
    try:
        while True:
            heard, closed = _listen(ready_read, POLL_SECONDS)
            if closed:
                _, status = os.waitpid(pid, 0)
                return _exit_code(status)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return _exit_code(status)
            finished = finished or _FINISHED in heard
            if not computing and _STARTED in heard:
                start, computing = time.monotonic(), True
            limit = None if finished else (seconds if computing else STARTUP_SECONDS)
            if limit is not None and time.monotonic() - start > limit:
                _end(pid)
                if not computing:
                    return on_overrun(f"start-up took longer than {STARTUP_SECONDS:g} s")
                return on_overrun(
                    f"took longer than {seconds:g} s (the time budget; "
                    "raise it with --timeout SECONDS)"
                )
            if not finished and resident_bytes(pid) > memory:
                _end(pid)
                return on_overrun(
                    f"needed more than {memory / 1024**3:g} GiB of memory (the memory budget)"
                )
    except KeyboardInterrupt:
        _end(pid)
        return 130
    finally:
        os.close(ready_read)


def _exit_code(status) -> int:
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 70  # killed by a signal: a bug


def _end(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def seconds_from(args: list) -> float | None:
    """The budget a command line asks for: --timeout S (0: none); none by
    default for --points (a large file is legitimate work), else the default."""
    for i, word in enumerate(args):
        value = None
        if word == "--timeout" and i + 1 < len(args):
            value = args[i + 1]
        elif word.startswith("--timeout="):
            value = word.split("=", 1)[1]
        if value is not None:
            try:
                number = float(value)
            except ValueError:
                return DEFAULT_SECONDS  # Click reports the bad value itself
            if number != number or number < 0 or number == float("inf"):
                return DEFAULT_SECONDS  # likewise: the child exits 2 with a message
            return None if number == 0 else number
    return None if streams(args) else DEFAULT_SECONDS


def streams(args: list) -> bool:
    """The command line asks for many points (diff --points FILE or
    --points=FILE), whose answer is streamed rather than held."""
    return any(word == "--points" or word.startswith("--points=") for word in args)
