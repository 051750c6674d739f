"""What Linux's /proc says of a process: its resident memory, its CPU time,
and the time it was runnable (on a CPU or queued for one); and the machine's
load. Each reader answers None (or 0) where /proc cannot tell."""

from __future__ import annotations

import contextlib
import os


def resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def runnable_seconds(pid: int) -> float | None:
    """Seconds process `pid`'s threads have spent on a CPU or waiting in the
    run queue for one (Linux's schedstat, summed over its threads): the time
    it was not blocked. None where /proc cannot tell."""
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread ended
                with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as stream:
                    running, waiting = stream.read().split()[:2]
                total += int(running) + int(waiting)
        return total / 1e9
    except (OSError, ValueError):
        return None


def queued(pid: int) -> bool:
    """Is a thread of process `pid` on a CPU or waiting in the run queue for
    one (state R) now? False where /proc cannot tell."""
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            path = f"/proc/{pid}/task/{task}/stat"
            with contextlib.suppress(FileNotFoundError), open(path, "rb") as stream:
                if stream.read().rsplit(b")", 1)[1].split()[0] == b"R":
                    return True
    except (OSError, IndexError):
        return False
    return False


def load_factor() -> float:
    """The 1-minute load average per CPU, at least 1: how much longer than
    alone a run takes on this machine now."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except OSError:
        return 1.0


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` (all its threads), or None
    where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            fields = stream.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


__all__ = ["cpu_seconds", "load_factor", "queued", "resident_bytes", "runnable_seconds"]
