"""`check`: a user's function at one point, in three stages, each once:
measure (reverse mode, forward mode, finite differences), judge
(judge.py), and, where needed, explain (a NaN traced to its line, the
custom autograd.Functions on the path, the float32 precision)."""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from ..verdict import Status
from . import judge
from .judge import Findings, Mismatch
from .methods import (
    Differences,
    Ran,
    Setup,
    choose_rows,
    finite_differences,
    forward,
    reverse,
)
from .target import Target, UserCodeError


@dataclass(frozen=True)
class InputCheck:
    """One input's Jacobian rows, by each method: arrays of (rows, elements)."""

    name: str
    shape: tuple[int, ...]
    autograd: np.ndarray  # in the dtype the function computes in
    autograd_float64: np.ndarray | None  # float32 code run widened to float64
    forward: np.ndarray | None
    differences: Differences
    agree: bool
    differentiable: bool
    sympy: np.ndarray | None = None  # SymPy's derivative of the traced formula


@dataclass(frozen=True)
class Result:
    target: str
    function: str
    point: dict[str, np.ndarray]
    dtype: str  # what the function computes in
    judged_in: str  # the dtype whose tolerances judged it
    output_shape: tuple[int, ...]
    value: np.ndarray
    directions: int  # 0: the whole Jacobian, row by row; else random unit directions
    inputs: list[InputCheck]
    forward_method: str  # how forward mode ran, or why it did not
    status: str
    reason: str
    mismatches: list[Mismatch]
    kinks: list[dict[str, Any]]
    nan: dict[str, Any] | None
    custom_functions: list[dict[str, Any]]
    precision: dict[str, Any] | None
    symbolic: dict[str, Any] | None = None
    random: dict[str, Any] | None = field(default=None)

    @property
    def agree(self) -> bool:
        return self.status == Status.AGREE

    @property
    def differentiable(self) -> bool:
        return self.status not in (Status.KINK, Status.UNDEFINED)


@dataclass(frozen=True)
class Measured:
    """The methods' numbers, before any comparison."""

    setup: Setup  # the function as the user wrote it (its dtype)
    judged: Setup  # the run that is judged: the same, or float32 code widened to float64
    out: torch.Tensor
    autograd: dict[str, np.ndarray]  # in the function's dtype
    autograd64: dict[str, np.ndarray] | None  # the widened run's
    forward: dict[str, np.ndarray] | None
    forward_method: str
    differences: dict[str, Differences]
    judged_out: torch.Tensor  # the judged run's output (its graph names the custom Functions)
    symbolic: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None  # symbolic.derivatives

    @property
    def reference(self) -> dict[str, np.ndarray]:
        """The reverse mode that is judged."""
        return self.autograd64 if self.autograd64 is not None else self.autograd

    @property
    def per_row(self) -> bool:
        return len(self.setup.rows) == self.out.numel() and self.out.dim() > 0


def check_point(
    target: Target, values: dict[str, np.ndarray], seed: int = 0, symbolic: bool = False
) -> Result:
    """One point; with `symbolic`, SymPy's derivative too where the function
    traces into gradcalc's function table (a scalar output, float64 code)."""
    setup, ran = _setup(target, values, seed)
    autograd, out = reverse(setup, ran)
    value = out.detach().double().numpy()
    if not np.all(np.isfinite(value)):
        return _undefined(target, setup, out, "the function's value is not finite at the point")
    wide = _widened(setup) if setup.dtype != torch.float64 else None
    judged, judged_out = (wide[0], wide[2]) if wide else (setup, out)
    forward_values, forward_method = forward(judged)
    if forward_values is None:  # what jacfwd could not do, vmap will not either
        judged = replace(judged, vmaps=False)
    base = judged.rows @ judged_out.detach().double().numpy().reshape(-1)
    differences = {name: finite_differences(judged, base, name) for name in values}
    measured = Measured(
        setup,
        judged,
        out,
        autograd,
        wide[1] if wide else None,
        forward_values,
        forward_method,
        differences,
        judged_out,
    )
    if symbolic and out.numel() == 1 and not judged.wide:
        from .symbolic import derivatives

        measured = replace(measured, symbolic=derivatives(judged))
    return _judged(target, measured)


def _setup(target: Target, values: dict[str, np.ndarray], seed: int) -> tuple[Setup, Ran]:
    """The dtype the function takes: float64, or float32 when float64
    inputs fail where float32 ones work (a module's float32 weights), or when
    it casts its inputs down itself; and that first forward pass."""
    fn, where = target.function, target.source_file
    setup = Setup(fn, where, values, torch.float64, np.eye(1))
    try:
        tensors = setup.tensors(grad=True)
        out = setup.call(tensors)
    except UserCodeError as first:
        try:
            setup = Setup(fn, where, values, torch.float32, np.eye(1))
            tensors = setup.tensors(grad=True)
            out = setup.call(tensors)
        except UserCodeError:
            raise first from None
    if out.dtype != torch.float64 and setup.dtype == torch.float64:
        setup = Setup(fn, where, values, torch.float32, np.eye(1))
        tensors = setup.tensors(grad=True)
        out = setup.call(tensors)
    rows = choose_rows(out.numel(), seed)
    return Setup(fn, where, values, setup.dtype, rows), (tensors, out)


def _widened(setup: Setup) -> tuple[Setup, dict[str, np.ndarray], torch.Tensor] | None:
    """Code written for float32, run again in float64 (recorder.Float64):
    its reverse mode and output, or None where it cannot be run so."""
    wide = Setup(setup.function, setup.user_file, setup.values, torch.float64, setup.rows, True)
    try:
        autograd, out = reverse(wide)
    except Exception:  # the widening is an attempt; the float32 run stands alone
        return None
    if out.dtype != torch.float64 or not bool(torch.isfinite(out).all()):
        return None
    return wide, autograd, out


def _undefined(target: Target, setup: Setup, out: torch.Tensor, reason: str) -> Result:
    return Result(
        target.spec,
        target.name,
        setup.values,
        _dtype(setup.dtype),
        _dtype(setup.dtype),
        tuple(out.shape),
        out.detach().double().numpy(),
        0,
        [],
        "not run",
        Status.UNDEFINED,
        reason,
        [],
        [],
        None,
        [],
        None,
    )


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _judged(target: Target, m: Measured) -> Result:
    judged_in = _dtype(m.judged.dtype)
    scale = judge.scale_of([d.estimate for d in m.differences.values()])
    inputs, found, precision_off = [], [], []
    output = tuple(m.out.shape) if m.per_row else None
    for name, d in m.differences.items():
        place = judge.Place(name, m.setup.values[name].shape, output)
        unknown = ~np.isfinite(d.estimate)  # undefined, not a disagreement
        oks = []
        sympy = m.symbolic[1] if m.symbolic and m.symbolic[1] else None
        for method, values in (("autograd", m.reference), ("forward", m.forward), ("sympy", sympy)):
            if values is None:
                continue
            ok = judge.agrees(values[name], d.estimate, d.error, scale, judged_in) | d.kink
            found += judge.mismatches(place, method, values[name], d.estimate, ok | unknown)
            oks.append(ok)
        if m.autograd64 is not None:
            ok32 = judge.agrees(m.autograd[name], d.estimate, d.error, scale, "float32")
            precision_off.append(~(ok32 | d.kink))
        inputs.append(
            InputCheck(
                name,
                place.shape,
                m.autograd[name],
                None if m.autograd64 is None else m.autograd64[name],
                None if m.forward is None else m.forward[name],
                d,
                bool(np.all(np.logical_and.reduce(oks) & ~unknown)),
                not bool(d.kink.any()),
                None if sympy is None else sympy[name],
            )
        )
    found.sort(key=lambda x: -np.nan_to_num(x.relative_error, nan=np.inf))
    findings = Findings(
        inputs,
        found,
        _kinks(inputs, output),
        _nan_trace(m.judged, m.reference),
        custom_functions(m.judged_out),
    )
    status, reason = _verdict(findings)
    if status == Status.DISAGREE or findings.nan:
        from .custom import blamed, check_each

        check_each(m.judged, findings.customs, check_point)
        reason += blamed(findings.customs)
    precision = _precision(precision_off, m) if m.autograd64 is not None else None
    symbolic = None
    if m.symbolic is not None:
        symbolic = m.symbolic[0] | {
            "agree": None if not m.symbolic[1] else not any(f.method == "sympy" for f in found)
        }
    return Result(
        target.spec,
        target.name,
        m.setup.values,
        _dtype(m.setup.dtype),
        judged_in,
        tuple(m.out.shape),
        m.out.detach().double().numpy(),
        0 if m.per_row or m.out.numel() == 1 else len(m.setup.rows),
        inputs,
        m.forward_method,
        status,
        reason,
        found,
        findings.kinks,
        findings.nan,
        findings.customs,
        precision,
        symbolic=symbolic,
    )


def _kinks(inputs: list[InputCheck], output: tuple[int, ...] | None) -> list[dict[str, Any]]:
    found = []
    for item in inputs:
        d = item.differences
        for row, col in np.argwhere(d.kink):
            found.append(
                {
                    "input": item.name,
                    "element": [int(i) for i in np.unravel_index(col, item.shape)]
                    if item.shape
                    else [],
                    "output": [int(i) for i in np.unravel_index(row, output)] if output else None,
                    "left": float(d.left[row, col]),
                    "right": float(d.right[row, col]),
                }
            )
    return found


def _nan_trace(judged: Setup, reference: dict[str, np.ndarray]) -> dict[str, Any] | None:
    bad_rows = [
        k
        for k in range(len(judged.rows))
        if any(not np.all(np.isfinite(v[k])) for v in reference.values())
    ]
    if not bad_rows:
        return None
    from .nans import trace

    return trace(judged, bad_rows[0])


def custom_functions(out: torch.Tensor) -> list[dict[str, Any]]:
    """The custom torch.autograd.Function classes on the graph's path."""
    from .nans import _nodes

    found: dict[str, dict[str, Any]] = {}
    for node in _nodes(out.grad_fn) if out.grad_fn is not None else []:
        cls = getattr(node, "_forward_cls", None)
        if cls is not None and cls.__qualname__ not in found:
            found[cls.__qualname__] = {"name": cls.__qualname__, **dict(_defined(cls))}
    return list(found.values())


@functools.cache
def _defined(cls: type) -> dict[str, Any]:
    # (inspect parses the file to find a class: once a class, not once a check)
    try:
        file = inspect.getsourcefile(cls)
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return {"file": None, "line": None}
    return {"file": file, "line": line}


def _precision(off: list[np.ndarray], m: Measured) -> dict[str, Any]:
    worst = 0.0
    for name, d in m.differences.items():
        with np.errstate(all="ignore"):
            rel = np.abs(m.autograd[name] - d.estimate) / np.maximum(np.abs(d.estimate), 1e-300)
        finite = rel[np.isfinite(rel)]
        worst = max(worst, float(finite.max()) if finite.size else 0.0)
    return {
        "float32_within_tolerance": not any(o.any() for o in off),
        "float32_largest_relative_error": worst,
    }


def _verdict(findings: Findings) -> tuple[str, str]:
    from .words import reason

    if findings.kinks:
        status = Status.KINK
    elif findings.undefined:
        status = Status.UNDEFINED
    elif findings.mismatches:
        status = Status.DISAGREE
    else:
        status = Status.AGREE
    return status, reason(status, findings)
