"""A time and memory budget for one run: never a hang.

The command runs in a forked child; the parent, which holds no lock the
child could starve it of (SymEngine's C++ keeps the GIL), polls it and ends
it when it runs past its time or memory budget, answering with exit 3 and a
"took too long" / "too large" message instead. The library says through a
pipe when its heavy imports are done (`computing()`): the clock counts
computing, not start-up, which varies with the machine's load and caches.
"""

from __future__ import annotations

import os
import signal
import sys
import time

DEFAULT_SECONDS = 6.0  # of computing, after start-up: well under 10 s in all
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


def computing() -> None:
    """Called by the library once its heavy imports are done: from here the
    time budget runs. A no-op outside a budgeted child, and after the first call."""
    global _ready_fd
    if _ready_fd is not None:
        try:
            os.write(_ready_fd, b"1")
            os.close(_ready_fd)
        except OSError:
            pass
        _ready_fd = None


def run(work, seconds: float | None, memory: int = MEMORY_BYTES, on_overrun=None) -> int:
    """Run `work()` (returns an exit code) in a child process within the
    budget. `on_overrun(message)` reports an overrun and returns the exit code."""
    global _ready_fd
    if not hasattr(os, "fork"):
        return work()
    sys.stdout.flush()
    sys.stderr.flush()
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child does the work
        code = 70
        os.close(ready_read)
        _ready_fd = ready_write
        try:
            code = work()
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    os.close(ready_write)
    return _watch(pid, seconds, memory, on_overrun, ready_read)


def _started(ready_read) -> bool:
    """Whether the child has finished its start-up imports (non-blocking)."""
    import select

    readable, _, _ = select.select([ready_read], [], [], 0)
    return bool(readable)


def _watch(pid, seconds, memory, on_overrun, ready_read) -> int:
    start, computing = time.monotonic(), False
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                return code if code >= 0 else 70  # killed by a signal: a bug
            if not computing and _started(ready_read):
                start, computing = time.monotonic(), True
            limit = seconds if computing else STARTUP_SECONDS
            if limit is not None and time.monotonic() - start > limit:
                _end(pid)
                if not computing:
                    return on_overrun(f"start-up took longer than {STARTUP_SECONDS:g} s")
                return on_overrun(f"took longer than {seconds:g} s (the time budget; "
                                  "raise it with --timeout SECONDS)")
            if resident_bytes(pid) > memory:
                _end(pid)
                return on_overrun(f"needed more than {memory / 1024**3:g} GiB of memory "
                                  "(the memory budget)")
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        _end(pid)
        return 130
    finally:
        os.close(ready_read)


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
            return None if number <= 0 else number
    return None if "--points" in args else DEFAULT_SECONDS
