"""The user's function: found by `PATH.py:NAME` or `package.module:NAME`,
imported (which runs the file, as `python PATH.py` or pytest would), and
called. An exception inside it is reported with the user's own frames only.

This is the one place gradcalc runs code it did not write; `gradcalc check`
is the one command that reaches it (SECURITY.md)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import linecache
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ExitCode, GradcalcError, UsageError


class UserCodeError(GradcalcError):
    """The user's code raised while gradcalc imported or called it. The
    message is the exception's last line; `frames` the user's own frames
    (file, line, function, text), gradcalc's and torch's left out."""

    kind = "user_code"

    def __init__(self, message: str, frames: list[dict[str, Any]]):
        super().__init__(message)
        self.frames = frames

    def context(self) -> str:
        """The user's frames as a short traceback, for stderr: a frame repeated
        (a recursion) shown REPEATS times and then counted, as Python's own
        traceback does, and past SHOWN frames the first and the last few (a
        recursion through two functions is tens of thousands of frames)."""
        entries: list[tuple[str, int]] = []  # (text, how many frames it stands for)
        for frame, times in _runs(self.frames):
            where = f'    File "{frame["file"]}", line {frame["line"]}, in {frame["function"]}\n'
            text = where + (f"      {frame['text']}\n" if frame["text"] else "")
            entries += [(text, 1)] * min(times, REPEATS)
            if times > REPEATS:
                more = times - REPEATS
                entries.append((f"    [the frame above repeated {more} more times]\n", more))
        if len(entries) > SHOWN:
            left = sum(count for _, count in entries[SHOWN - TAIL : -TAIL])
            cut = (f"    [{left} more frames of your code left out]\n", left)
            entries = [*entries[: SHOWN - TAIL], cut, *entries[-TAIL:]]
        lines = ["  Traceback (your code only):\n", *(text for text, _ in entries)]
        return "".join(lines) if self.frames else ""


REPEATS = 3  # times a repeated frame is shown (Python's traceback shows 3)
SHOWN, TAIL = 20, 5  # past SHOWN entries, the first SHOWN - TAIL and the last TAIL
RECURSING = 20  # one line of the user's this many times in a stack: their recursion


def _runs(frames: list[dict[str, Any]]) -> list[tuple[dict[str, Any], int]]:
    """Consecutive equal frames as (frame, how many)."""
    runs: list[tuple[dict[str, Any], int]] = []
    for frame in frames:
        if runs and runs[-1][0] == frame:
            runs[-1] = (frame, runs[-1][1] + 1)
        else:
            runs.append((frame, 1))
    return runs


def _recursing(frames: list[dict[str, Any]]) -> bool:
    """Does one line of the user's code recur RECURSING times in the stack?"""
    from collections import Counter

    lines = Counter((frame["file"], frame["line"]) for frame in frames)
    return bool(lines) and max(lines.values()) >= RECURSING


@dataclass(frozen=True)
class Target:
    """The function to check, and how the user named it."""

    function: Callable[..., Any]
    spec: str  # what the user wrote: "losses.py:huber" (or the API's function's name)
    name: str
    source_file: str | None  # the file user frames are recognised by (its directory)

    @property
    def parameters(self) -> list[str]:
        return parameters(self.function)


def _signature(function: Callable[..., Any]) -> inspect.Signature:
    """A module (torch.nn.Module) is called through `__call__(*args)`: its
    parameters are its `forward`'s."""
    forward = getattr(function, "forward", None)
    if callable(forward) and not inspect.isfunction(function):
        return inspect.signature(forward)
    return inspect.signature(function)


def parameters(function: Callable[..., Any]) -> list[str]:
    """The names the point may give: the parameters that take one tensor
    (*args and **kwargs do not)."""
    try:
        signature = _signature(function)
    except (TypeError, ValueError):
        return []
    kinds = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )
    return [p.name for p in signature.parameters.values() if p.kind in kinds]


def required(function: Callable[..., Any]) -> list[str]:
    """The parameters the point must give: those without a default."""
    try:
        signature = _signature(function)
    except (TypeError, ValueError):
        return []
    return [
        name
        for name, p in signature.parameters.items()
        if name in parameters(function) and p.default is inspect.Parameter.empty
    ]


def load(spec: str) -> Target:
    """`PATH.py:NAME` or `package.module:NAME` -> the Target. Importing runs
    the module's top level; a NAME may be dotted (`Class.method`, `model.forward`)."""
    location, sep, name = spec.rpartition(":")
    if not sep or not location or not name:
        raise UsageError(f"{spec!r}: expected PATH.py:NAME or package.module:NAME")
    module = _import_file(location) if _is_path(location) else _import_module(location)
    found: Any = module
    for part in name.split("."):
        if not hasattr(found, part):
            raise UsageError(f"{location} has no {name!r} (the names it defines: {_names(module)})")
        found = getattr(found, part)
    if not callable(found):
        raise UsageError(f"{spec}: {name} is a {type(found).__name__}, not a function")
    source = getattr(module, "__file__", None)
    return Target(found, spec, name, os.path.abspath(source) if source else None)


def _is_path(location: str) -> bool:
    return location.endswith(".py") or os.sep in location or "/" in location


def _names(module: Any) -> str:
    names = [
        n
        for n, v in vars(module).items()
        if callable(v)
        and not n.startswith("_")
        and getattr(v, "__module__", None) == module.__name__
    ]
    return ", ".join(sorted(names)[:20]) or "none"


def _import_file(path: str) -> Any:
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    full = os.path.abspath(path)
    name = "gradcalc_user_" + os.path.splitext(os.path.basename(full))[0].replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise UsageError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    # As `python PATH.py` does: the file's directory is importable (its siblings).
    folder = os.path.dirname(full)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[name] = module
    with raising_from_user(full, f"importing {path}"):
        spec.loader.exec_module(module)
    return module


def _import_module(dotted: str) -> Any:
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found = importlib.util.find_spec(dotted)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise UsageError(f"no module named {dotted!r} (write PATH.py:NAME for a file)")
    with raising_from_user(found.origin or "", f"importing {dotted}"):
        return importlib.import_module(dotted)


class raising_from_user:
    """Turns an exception raised in the user's code into a UserCodeError
    that shows only the frames of the user's files (those outside gradcalc,
    torch and the standard library)."""

    def __init__(self, user_file: str | None, doing: str) -> None:
        self.user_file = user_file
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, tb: Any) -> Literal[False]:
        if error is None or isinstance(error, GradcalcError):
            return False
        frames = user_frames(tb)
        # Out of memory is the budget's to say; out of stack too, unless the
        # user's own code is what recursed (a line of theirs over and over).
        if isinstance(error, MemoryError) or (
            isinstance(error, RecursionError) and not _recursing(frames)
        ):
            return False
        last = f" ({frames[-1]['file']}:{frames[-1]['line']})" if frames else ""
        words = "".join(traceback.format_exception_only(kind, error)).strip().splitlines()
        message = f"{self.doing}: {words[-1] if words else kind.__name__}{last}"
        if isinstance(error, KeyboardInterrupt):
            # It goes on as itself (a Ctrl-C in the caller's own process
            # stays one), marked with where the user's code raised it: the
            # command line reports it (`interrupted_in`).
            if not hasattr(error, _RAISED_AT):
                setattr(error, _RAISED_AT, (message, frames))
            return False
        raise UserCodeError(message, frames) from None


_RAISED_AT = "gradcalc_user_code"  # on a KeyboardInterrupt: (message, the user's frames)


class UserInterrupt(UserCodeError):
    """The user's code raised KeyboardInterrupt itself (`gradcalc check` runs
    it where a real Ctrl-C never arrives as one: the budget's parent, or the
    main thread, answers that): reported as its other exceptions are, with
    the exit status of an interrupted run."""

    kind = "interrupted"
    exit_code = ExitCode.INTERRUPTED


def interrupted_in(error: KeyboardInterrupt) -> UserInterrupt | None:
    """The report of a KeyboardInterrupt raised in the user's code (None for
    one raised elsewhere)."""
    said = getattr(error, _RAISED_AT, None)
    return UserInterrupt(*said) if said else None


_NOT_USER = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))),)


def _library_roots() -> tuple[str, ...]:
    import sysconfig

    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")}
    return tuple(os.path.abspath(r) for r in roots) + _NOT_USER


def user_frames(tb: Any) -> list[dict[str, Any]]:
    """The frames of a traceback in the user's own files."""
    roots = _library_roots()
    frames = []
    for frame, line in traceback.walk_tb(tb):
        path = os.path.abspath(frame.f_code.co_filename)
        if path.startswith(roots) or frame.f_code.co_filename.startswith("<frozen"):
            continue
        frames.append(
            {
                "file": frame.f_code.co_filename,
                "line": line,
                "function": frame.f_code.co_name,
                "text": linecache.getline(frame.f_code.co_filename, line).strip(),
            }
        )
    return frames
