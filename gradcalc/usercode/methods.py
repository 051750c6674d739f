"""The three numeric methods on a user's function, each its own way:
reverse mode (`torch.autograd.grad`, a backward pass a row of the Jacobian),
forward mode (`torch.func.jacfwd`, where the function supports it), and
finite differences of the function's values (never a derivative rule).

Every method answers the same array for each input: the Jacobian's rows
`rows @ J` (all of them for a small output, else random unit directions,
as gradcheck's fast mode), of shape (rows, elements of the input)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import UsageError
from .target import raising_from_user

MAX_ROWS = 64  # output elements checked row by row; past it, random directions
DIRECTIONS = 16  # random unit directions for a larger output
PROBE_FINE = 1e-3  # the kink probe's second step, as a share of the first


@dataclass(frozen=True)
class Setup:
    """What a run of the user's function needs: the function, the inputs
    by name (float64 values), the dtype it computes in, and the rows."""

    function: Callable[..., Any]
    user_file: str | None
    values: dict[str, np.ndarray]
    dtype: torch.dtype  # what the inputs are handed in
    rows: np.ndarray  # (rows, output elements)
    wide: bool = False  # run under recorder.Float64 (code written for float32, widened)
    vmaps: bool = True  # False once torch.func has failed on it: the loops, at once

    def tensors(
        self, grad: bool = False, dtype: torch.dtype | None = None
    ) -> dict[str, torch.Tensor]:
        kind = dtype or self.dtype
        return {
            name: torch.tensor(value, dtype=kind).requires_grad_(grad)
            for name, value in self.values.items()
        }

    @contextlib.contextmanager
    def mode(self) -> Iterator[None]:
        if not self.wide:
            yield
            return
        from .recorder import Float64

        with Float64():
            yield

    def call(self, tensors: dict[str, torch.Tensor], doing: str = "calling") -> torch.Tensor:
        with raising_from_user(self.user_file, f"{doing} the function"), self.mode():
            out = self.function(**tensors)
        return output_tensor(out)


def output_tensor(out: Any) -> torch.Tensor:
    if isinstance(out, tuple | list) and out and isinstance(out[0], torch.Tensor) and len(out) == 1:
        out = out[0]
    if not isinstance(out, torch.Tensor):
        raise UsageError(f"the function returned a {type(out).__name__}, not a tensor")
    if not out.is_floating_point():
        raise UsageError(f"the function returned a tensor of {out.dtype}, not of floating point")
    return out


def choose_rows(outputs: int, seed: int) -> np.ndarray:
    """The identity for a small output; else DIRECTIONS random unit vectors."""
    if outputs <= MAX_ROWS:
        return np.eye(outputs)
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((DIRECTIONS, outputs))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


Ran = tuple[dict[str, torch.Tensor], torch.Tensor]  # a forward pass: its inputs and output


def reverse(setup: Setup, ran: Ran | None = None) -> tuple[dict[str, np.ndarray], torch.Tensor]:
    """Reverse mode: one backward pass a row; an input the output does not
    use gets zeros (allow_unused). `ran`: a forward pass with inputs that
    require grad, already made (saves one)."""
    if ran is None:
        tensors = setup.tensors(grad=True)
        ran = tensors, setup.call(tensors)
    tensors, out = ran
    if not out.requires_grad:
        return {n: np.zeros((len(setup.rows), v.size)) for n, v in setup.values.items()}, out
    flat = out.reshape(-1)
    rows = torch.tensor(setup.rows, dtype=flat.dtype)
    found = {name: np.zeros((len(setup.rows), v.size)) for name, v in setup.values.items()}
    names = list(tensors)
    for k in range(len(setup.rows)):
        with raising_from_user(setup.user_file, "differentiating"), setup.mode():
            grads = torch.autograd.grad(
                flat, [tensors[n] for n in names], rows[k], retain_graph=True, allow_unused=True
            )
        for name, grad in zip(names, grads):
            if grad is not None:
                found[name][k] = grad.detach().double().reshape(-1).numpy()
    return found, out


def forward(setup: Setup) -> tuple[dict[str, np.ndarray] | None, str]:
    """Forward mode (torch.func.jacfwd over every input at once), or None
    and why not (a custom autograd.Function without jvp, data-dependent
    control flow that vmap cannot follow, ...)."""
    from torch.func import jacfwd

    names = list(setup.values)
    tensors = setup.tensors()

    def positional(*args: torch.Tensor) -> torch.Tensor:
        return output_tensor(setup.function(**dict(zip(names, args)))).reshape(-1)

    try:
        with setup.mode():
            jac = jacfwd(positional, argnums=tuple(range(len(names))))(*tensors.values())
    except Exception as error:  # the function's own limits: reported, not raised
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        first = first.split(" For more details")[0]  # torch's link, not the reason
        return None, f"{type(error).__name__}: {first}"[:200]
    rows = setup.rows
    return {
        name: rows @ j.detach().double().reshape(rows.shape[1], -1).numpy()
        for name, j in zip(names, jac)
    }, "torch.func.jacfwd"


@dataclass(frozen=True)
class Differences:
    """Finite differences of one input, arrays of (rows, elements)."""

    estimate: np.ndarray  # Richardson-extrapolated central differences
    error: np.ndarray  # their error estimate (truncation and rounding)
    left: np.ndarray  # one-sided derivatives (second order), for kinks
    right: np.ndarray
    kink: np.ndarray  # bool: one-sided slopes apart at two step sizes


def step(value: np.ndarray, dtype: torch.dtype) -> np.ndarray:
    """Central differences' step: eps^(1/3) balances their h^2 truncation
    against eps/h rounding, scaled by max(1, |x|) and made exact in float."""
    eps = torch.finfo(dtype).eps
    kind = np.float32 if dtype == torch.float32 else np.float64
    x = value.astype(kind)
    h = (eps ** (1 / 3) * np.maximum(1.0, np.abs(value))).astype(kind)
    return ((x + h) - x).astype(np.float64)


def finite_differences(setup: Setup, value: np.ndarray, name: str) -> Differences:
    """For each element of input `name`: g = rows @ f at x ± h, x ± h/2.
    The central differences D(h), D(h/2) give Richardson's (4 D(h/2) - D(h))/3
    and its error |D(h/2) - D(h)|/3 plus the rounding eps·max|g|·3/h; the
    one-sided second-order slopes (from the same points and g(x)) are compared
    for a kink, confirmed at a step PROBE_FINE times shorter."""
    dtype = torch.float64 if setup.wide else setup.dtype
    x = setup.values[name].reshape(-1)
    h = step(x, dtype)
    g = _values(setup, name, h, dtype)  # (4, rows, n)
    f0 = value[:, None]
    central, half = (g[0] - g[1]) / (2 * h), (g[2] - g[3]) / h
    estimate = (4 * half - central) / 3
    eps = torch.finfo(dtype).eps
    rounding = 3 * eps * np.maximum(np.abs(g).max(axis=0), np.abs(f0)) / h
    error = np.abs(half - central) / 3 + rounding
    right = (-3 * f0 + 4 * g[2] - g[0]) / h
    left = (3 * f0 - 4 * g[3] + g[1]) / h
    apart = _apart(left, right, 8 * rounding)
    kink = apart.copy()
    if apart.any():
        fine = h * PROBE_FINE
        gf = _values(setup, name, fine, dtype, only=np.any(apart, axis=0))
        right_f = (-3 * f0 + 4 * gf[2] - gf[0]) / fine
        left_f = (3 * f0 - 4 * gf[3] + gf[1]) / fine
        kink = apart & _apart(left_f, right_f, 8 * rounding / PROBE_FINE)
        # A kink within a step of the point, not at it: the finer differences speak.
        near = apart & ~kink
        estimate = np.where(near, (gf[0] - gf[1]) / (2 * fine), estimate)
        error = np.where(near, np.abs(right_f - left_f) + rounding / PROBE_FINE, error)
    return Differences(estimate, error, left, right, kink)


KINK_RTOL = 1e-4  # one-sided slopes further apart than this (relative) are two slopes


def _apart(left: np.ndarray, right: np.ndarray, noise: np.ndarray) -> np.ndarray:
    scale = np.maximum(np.abs(left), np.abs(right))
    with np.errstate(invalid="ignore"):
        return np.abs(left - right) > KINK_RTOL * scale + noise + 1e-10


OFFSETS = (1.0, -1.0, 0.5, -0.5)  # of the step: x ± h, x ± h/2


def _values(
    setup: Setup, name: str, h: np.ndarray, dtype: torch.dtype, only: np.ndarray | None = None
) -> np.ndarray:
    """rows @ f(x + offset·h e_j) for each offset and element j: (offsets, rows, n);
    NaN for elements not in `only`. In one call through torch.func.vmap where
    the function allows it (far fewer Python calls), else point by point."""
    base = setup.tensors(dtype=dtype)
    x = base[name].reshape(-1)
    n = x.numel()
    wanted = np.ones(n, dtype=bool) if only is None else only
    columns = np.flatnonzero(wanted)
    shifts = torch.tensor(np.outer(OFFSETS, h[columns]).reshape(-1), dtype=x.dtype)
    moved = x.repeat(len(OFFSETS) * len(columns), 1)
    which = torch.tensor(np.tile(columns, len(OFFSETS)))
    moved[torch.arange(len(moved)), which] += shifts
    # The step actually taken may differ from h by rounding in float32: the
    # estimates divide by h, so the perturbation is made exact above (step()).
    rows = torch.tensor(setup.rows, dtype=torch.float64)
    values = _batched(setup, name, base, moved, rows)
    if values is None:
        values = np.stack([_one(setup, name, base, point, rows) for point in moved])
    found = np.full((len(OFFSETS), len(setup.rows), n), np.nan)
    found[:, :, columns] = values.reshape(len(OFFSETS), len(columns), -1).transpose(0, 2, 1)
    return found


MAX_BATCH = 2_000_000  # elements of moved inputs handed to vmap in one call


def _batched(
    setup: Setup, name: str, base: dict, moved: torch.Tensor, rows: torch.Tensor
) -> np.ndarray | None:
    """Every moved point at once through torch.func.vmap, or None where the
    function does not vmap (data-dependent control flow, a custom Function
    without vmap support, randomness). In chunks of at most MAX_BATCH elements."""
    if not setup.vmaps:
        return None
    shape = base[name].shape
    per_call = max(1, MAX_BATCH // max(1, moved.shape[1]))

    def one(point: torch.Tensor) -> torch.Tensor:
        tensors = dict(base) | {name: point.reshape(shape)}
        return rows @ output_tensor(setup.function(**tensors)).reshape(-1).double()

    try:
        with torch.no_grad(), setup.mode():
            chunks = [torch.func.vmap(one)(part) for part in torch.split(moved, per_call)]
        return torch.cat(chunks).numpy()
    except Exception:  # the function's own limits; the loop reports a real error
        return None


def _one(
    setup: Setup, name: str, base: dict, point: torch.Tensor, rows: torch.Tensor
) -> np.ndarray:
    with torch.no_grad():
        tensors = dict(base) | {name: point.reshape(base[name].shape)}
        return (rows @ setup.call(tensors, "evaluating").reshape(-1).double()).numpy()
