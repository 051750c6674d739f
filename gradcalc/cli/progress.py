"""The progress bar of a long --points run, on stderr when it is a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any


def lines_in(stream: Any) -> int:
    """For the progress bar, shown on a terminal: the lines of a regular file,
    counted without moving its position (0 when unknown)."""
    import stat

    try:
        fd = stream.fileno()
        if not sys.stderr.isatty() or not stat.S_ISREG(os.fstat(fd).st_mode):
            return 0
    except (OSError, ValueError, AttributeError):
        return 0
    lines, offset = 0, 0
    while block := os.pread(fd, 1 << 20, offset):
        lines += block.count(b"\n")
        offset += len(block)
    return max(0, lines - 1)  # the header


_LIVE: list = []  # progress bars on screen, stopped before an interruption's message


def with_progress(work: Callable[[Any], Any], total: int) -> Any:
    """Run `work(progress)` with a progress bar on stderr when stderr is a
    terminal and the input is long: it shows the count of points done and
    is drawn at once (ten times a second after that)."""
    from ..pointsfile import CHUNK

    if total <= CHUNK or not sys.stderr.isatty():
        return work(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("points"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
        refresh_per_second=10,
    )
    task = progress.add_task("points", total=total)
    _LIVE.append(progress)  # before it draws: Ctrl-C may come at its first frame
    progress.start()
    if progress not in _LIVE:  # interrupted while it started: it stays stopped
        progress.stop()
    try:
        return work(lambda done: progress.advance(task, done))
    finally:
        stop_progress()


def stop_progress() -> None:
    """Erase any progress bar (transient), so the next line starts clean."""
    while _LIVE:
        _LIVE.pop().stop()
