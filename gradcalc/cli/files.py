"""A text file written whole or not at all (emit --output): to a temporary
file beside it, then renamed over it, as plot --output writes an image."""

from __future__ import annotations

import contextlib
import os
import tempfile

from ..errors import OutputError, UsageError
from ..render.image import refuse_to_replace

__all__ = ["refuse_to_replace", "write_text"]


def write_text(path: str, text: str, replace: bool) -> None:
    """`text` to `path` (an existing file or link only with `replace`)."""
    refuse_to_replace(path, replace)
    folder, name = os.path.split(path)
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{name}.", suffix=".part", dir=folder or "."
        )
    except OSError as error:
        raise _error(path, error) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # as a file opened for writing would be
        refuse_to_replace(path, replace)  # (it may have appeared meanwhile)
        os.replace(temporary, path)
    except OSError as error:
        raise _error(path, error) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _error(path: str, error: OSError) -> UsageError | OutputError:
    words = f"cannot write '{path}': {error.strerror or error}"
    if isinstance(
        error, (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)
    ):
        return UsageError(words, option="output")
    return OutputError(words)
