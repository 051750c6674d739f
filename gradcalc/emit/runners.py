"""The emitted code run at the certificate's points, one runner a target.

Python code is gradcalc's own output (built from parser identifiers and the
printers' spellings, never from user text) and is executed in a fresh
namespace (JAX's in a fresh Python process: fresh.py); C is compiled and
called through ctypes; LaTeX's formulas are evaluated as printed, in
float64 (mpmath at 53 bits)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .code import Code
from .reference import evaluate, upper
from .symbolic import Program

C_FLAGS = ["-std=c99", "-Wall", "-Werror", "-O2", "-fPIC", "-shared"]


@dataclass
class Results:
    outputs: list[list[float]]  # a point: f, the gradient, the Hessian's upper triangle
    ran: bool
    note: str
    gradcheck: bool | None = None


def _namespace(code: Code) -> Any:
    namespace: dict[str, Any] = {"__name__": "gradcalc_emitted"}
    exec(compile(code.text, "<gradcalc emit>", "exec"), namespace)  # our own output
    return namespace[code.function]


def _python(module: Callable[[np.ndarray], Any]) -> Callable[..., Results]:
    def run(program: Program, code: Code, points: list[dict]) -> Results:
        function = _namespace(code)
        outputs = []
        for point in points:
            values = function(*(module(point[name]) for name in program.arguments))
            f, gradient = float(np.asarray(values[0])), np.asarray(values[1])
            hessian = np.asarray(values[2]) if program.order == 2 else None
            outputs.append([f, *upper(program, gradient, hessian)])
        return Results(outputs, True, "run in a fresh namespace")

    return run


def _numpy_value(value: np.ndarray) -> Any:
    return np.float64(value) if value.ndim == 0 else np.array(value, dtype=np.float64)


def _torch_value(value: np.ndarray) -> Any:
    import torch

    return torch.tensor(value, dtype=torch.float64)


def _fresh_python(module: str) -> Callable[..., Results]:
    """The code run in a fresh Python process (fresh.py): `module` is never
    imported into this one."""

    def run(program: Program, code: Code, points: list[dict]) -> Results:
        from .fresh import run as run_fresh

        answers = run_fresh(code, program.arguments, points, program.order, module)
        if answers is None:
            return Results([], False, f"not run: {module} is not installed in this Python")
        outputs = [[f, *upper(program, gradient, hessian)] for f, gradient, hessian in answers]
        return Results(outputs, True, "run in a fresh Python process")

    return run


def _torch_function(program: Program, code: Code, points: list[dict]) -> Results:
    """forward's value and backward's gradient against SymPy's, and
    torch.autograd.gradcheck at every point."""
    import torch

    function = _namespace(code)
    wrt = {c.split("[")[0] for c in program.components}
    outputs, checked = [], True
    for point in points:
        inputs = [
            torch.tensor(point[name], dtype=torch.float64, requires_grad=name in wrt)
            for name in program.arguments
        ]
        value = function.apply(*inputs)
        chosen = [t for name, t in zip(program.arguments, inputs) if name in wrt]
        grads = torch.autograd.grad(value, chosen)
        flat = torch.cat([g.reshape(-1) for g in grads]).detach().numpy()
        outputs.append([float(value.detach()), *upper(program, flat, None)])
        named = dict(zip(program.arguments, inputs))
        checked = checked and all(check(function, named, wrt) for check in TORCH_FUNCTION_CHECKS)
    return Results(
        outputs,
        True,
        "forward, backward, torch.autograd.gradcheck and gradcalc check",
        checked,
    )


def _gradcheck(function: Any, named: dict[str, Any], wrt: set[str]) -> bool:
    import torch

    inputs = list(named.values())
    return bool(torch.autograd.gradcheck(function.apply, inputs, raise_exception=False))


def _gradcalc_check(function: Any, named: dict[str, Any], wrt: set[str]) -> bool:
    """`gradcalc check` of the Function at the point (reverse and forward
    mode against finite differences), when it differentiates every argument:
    a backward pass that leaves an argument out answers None for it by design."""
    import inspect

    from ..usercode.run import check

    names = list(named)
    if set(names) != wrt:
        return True

    def call(*args: Any, **given: Any) -> Any:
        return function.apply(*args, *(given[name] for name in names[len(args) :]))

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, kind) for name in names]
    )
    point = {name: value.detach().numpy() for name, value in named.items()}
    return check(call, point, symbolic=False).status == "agree"


# Checks of a torch.autograd.Function at one point, each (Function, the
# arguments by name, the names differentiated) -> passed.
TORCH_FUNCTION_CHECKS: tuple[Callable[[Any, dict[str, Any], set[str]], bool], ...] = (
    _gradcheck,
    _gradcalc_check,
)


def _c(program: Program, code: Code, points: list[dict]) -> Results:
    with tempfile.TemporaryDirectory(prefix="gradcalc-emit-") as folder:
        library, note = compile_c(code.text, folder)
        if library is None:  # no compiler (not run), or it refused the code (failed)
            return Results([], not note.startswith("not run"), note)
        function = getattr(ctypes.CDLL(library), code.function)
        outputs = [_call_c(program, function, point) for point in points]
    return Results(outputs, True, note)


def _call_c(program: Program, function: Any, point: dict) -> list[float]:
    size = len(program.components)
    f = ctypes.c_double()
    gradient = (ctypes.c_double * size)()
    hessian = (ctypes.c_double * (size * size))()
    arguments: list[Any] = []
    for name in program.arguments:
        value = np.asarray(point[name], dtype=float)
        if value.ndim == 0:
            arguments.append(ctypes.c_double(float(value)))
        else:
            arguments.append((ctypes.c_double * value.size)(*value.tolist()))
    arguments += [ctypes.byref(f), gradient]
    if program.order == 2:
        arguments.append(hessian)
    function.restype = None
    function(*arguments)
    matrix = np.array(list(hessian)).reshape(size, size) if program.order == 2 else None
    return [f.value, *upper(program, np.array(list(gradient)), matrix)]


def _latex(program: Program, code: Code, points: list[dict]) -> Results:
    """The printed formulas (steps, then outputs) evaluated at 53 bits."""
    import mpmath

    outputs = []
    with mpmath.workprec(53):
        for point in points:
            values: dict = {}
            for name in program.arguments:
                symbol = program.symbols[name]
                array = np.asarray(point[name], dtype=float)
                pairs = zip(symbol, array) if isinstance(symbol, list) else [(symbol, array)]
                values.update({s: mpmath.mpf(float(v)) for s, v in pairs})
            for name, step in program.steps:
                (values[name],) = evaluate([step], values) or [mpmath.nan]
            entries = [
                program.value,
                *program.gradient,
                *(e for row in program.hessian for e in row),
            ]
            got = evaluate(entries, values) or [mpmath.nan] * len(entries)
            outputs.append([float(v) for v in got])
    return Results(outputs, True, "the printed formulas evaluated in float64")


def compile_c(source: str, folder: str) -> tuple[str | None, str]:
    """(path of the shared library, the command) or (None, why not)."""
    compiler = shutil.which("cc")
    if compiler is None:
        return None, "not run: no C compiler (cc) on this machine"
    path = os.path.join(folder, "emitted.c")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(source)
    library = os.path.join(folder, "emitted.so")
    command = [compiler, *C_FLAGS, "-o", library, path, "-lm"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    shown = "cc " + " ".join(C_FLAGS[:3])
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        return None, f"{shown} failed: {first}"
    return library, f"compiled with {shown}"


# Runners whose code runs in a fresh Python process (fresh.py): the module it imports.
FRESH = {"jax": "jax"}


@contextlib.contextmanager
def prepared(runner: str) -> Iterator[None]:
    """For a runner of FRESH, its process begun at once (it imports the
    module while the code is built), and ended at the end if never used."""
    module = FRESH.get(runner)
    if module is None:
        yield
        return
    from . import fresh

    fresh.begin(module)
    try:
        yield
    finally:
        fresh.abandon()


RUNNERS: dict[str, Callable[[Program, Code, list[dict]], Results]] = {
    "numpy": _python(_numpy_value),
    "torch": _python(_torch_value),
    "jax": _fresh_python(FRESH["jax"]),
    "torch_function": _torch_function,
    "c": _c,
    "latex": _latex,
}
