"""A file written whole or not at all (`--output FILE`): to a temporary file
beside it, then renamed over it. A rename replaces a symbolic link itself,
never its target; a failed write leaves what was there as it was; an
existing file is replaced only when asked (--force).

`--output -` is standard output, as for any Unix tool (never a file named
`-`; --force does not matter): a text form is written there as it would be
without --output, a binary one (Parquet, PNG, PDF) only when standard output
is not a terminal (`binary_stdout`)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from .errors import GradcalcError, OutputError, UsageError

# A path that names no writable file is the user's to fix (exit 2); a
# write that fails on the way (a full disk) is an output error (exit 74).
_PATH_ERRORS = {
    errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM, errno.EROFS,
    errno.ENAMETOOLONG, errno.ELOOP,
}  # fmt: skip


STDOUT = "-"  # --output -: standard output


def is_stdout(path: str | None) -> bool:
    return path == STDOUT


def refuse_terminal(what: str, stdout: str = STDOUT) -> None:
    """A binary form (`what`: "--format parquet", "a PNG image") is never
    written to a terminal; `stdout` is how --output names standard output
    for it."""
    if sys.stdout.isatty():
        raise UsageError(
            f"{what} is a binary file, never written to a terminal: give {{output}} FILE, "
            f"or {{output}} {stdout} with stdout redirected",
            option="output",
        )


def binary_stdout(what: str, stdout: str = STDOUT) -> BinaryIO:
    """Standard output's byte stream for a binary form, text written to it
    so far flushed first; refused on a terminal (`refuse_terminal`)."""
    refuse_terminal(what, stdout)
    sys.stdout.flush()
    return sys.stdout.buffer


def write_stdout(data: bytes) -> None:
    """A whole binary or text file's bytes to standard output, what it holds
    back released first (budget.hold); a write that fails is an OutputError,
    a closed pipe a BrokenPipeError (a quiet end, for the CLI)."""
    from . import budget

    try:
        budget.computed()  # what is left is writing (what stdout held is written)
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"cannot write the output: {error.strerror or error}") from None


def is_special(path: str) -> bool:
    """A device, FIFO or socket (`/dev/null`, a named pipe): written into as
    a shell's `>` would, never replaced by a file."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISLNK(mode) or stat.S_ISDIR(mode))


def refuse_to_replace(path: str, replace: bool) -> None:
    """An existing file, or a symbolic link (dangling or not), is replaced
    only when asked (--force); a device or FIFO is written into, not replaced."""
    if replace or is_stdout(path) or not os.path.lexists(path) or is_special(path):
        return
    what = "is a symbolic link" if os.path.islink(path) else "exists"
    raise UsageError(f"'{path}' {what}: add --force to replace it", option="output")


@contextlib.contextmanager
def replacing(path: str, replace: bool) -> Iterator[str]:
    """The name of a temporary file to write, renamed to `path` when the
    block ends without an error (and removed when it does not). A device or
    FIFO is its own name: written into, never replaced by a file."""
    if is_special(path):
        try:
            yield path
        except OSError as error:
            raise write_error(path, error) from None
        return
    folder, name = os.path.split(path)
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{name}.", suffix=".part", dir=folder or "."
        )
    except OSError as error:
        raise write_error(path, error) from None
    try:
        os.close(descriptor)
        os.chmod(temporary, 0o666 & ~_umask())  # as a file opened for writing would be
        yield temporary
        refuse_to_replace(path, replace)  # (it may have appeared meanwhile)
        os.replace(temporary, path)
    except OSError as error:
        raise write_error(path, error) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def write_text(path: str, text: str, replace: bool) -> None:
    """`text` to `path` in UTF-8, whole or not at all (emit --output)."""
    refuse_to_replace(path, replace)
    with replacing(path, replace) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_error(path: str, error: OSError) -> GradcalcError:
    words = f"cannot write '{path}': {error.strerror or error}"
    if error.errno in _PATH_ERRORS:
        return UsageError(words, option="output")
    return OutputError(words)


__all__ = [
    "STDOUT",
    "binary_stdout",
    "is_special",
    "is_stdout",
    "refuse_terminal",
    "refuse_to_replace",
    "replacing",
    "write_error",
    "write_stdout",
    "write_text",
]
