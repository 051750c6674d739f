"""`gradcalc emit`: code for f and its gradient (or Hessian), checked before
it is printed.

    parsed expression -> symbolic.build (SymPy f, derivatives, sympy.cse)
                      -> code.write (one printer a target)
                      -> certificate.certify (the code run at points inside
                         the domain, compared with SymPy at 30 digits)
                      -> the header (points, largest error, operation counts)

`emit()` raises `CertificateError` (exit 1) when the code does not match:
then nothing is printed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ExitCode, GradcalcError, UsageError
from ..parsing import Expression, as_expression

if TYPE_CHECKING:
    from .certificate import Certificate
    from .code import Code
    from .symbolic import Program

TARGETS = ("numpy", "torch", "jax", "c", "latex")


class CertificateError(GradcalcError):
    """The emitted code did not match SymPy: a bug of the printer, never printed."""

    kind = "certificate"
    exit_code = ExitCode.DISAGREE


@dataclass(frozen=True)
class Emitted:
    code: str  # the header comment, then the code
    function: str  # the name to call (a class with `function`)
    arguments: list[str]  # its positional arguments, in order
    shapes: dict[str, int | None]  # an argument's vector length, None for a number
    gradient: list[str]  # what each gradient entry is the derivative by
    target: str
    order: int
    certificate: Certificate
    operations: dict[str, int]  # {"emitted": N, "naive": M}


def emit(
    expression: str | Expression,
    target: str,
    wrt: Iterable[str] | None = None,
    order: int = 1,
    at: Any = None,
    autograd_function: bool = False,
) -> Emitted:
    """Code in `target` for f and its gradient by `wrt` (all variables by
    default; order 2: and its Hessian), checked at random points in the
    domain and at `at` (which also gives vector variables their length)."""
    from .. import atpoint
    from . import certificate, code, runners, symbolic

    expr = as_expression(expression)
    _check_options(target, order, autograd_function)
    from ..pointcheck import variables_asked

    names = variables_asked(wrt, expr)
    if autograd_function and any(node.op == "detach" for node in expr.nodes):
        raise UsageError(
            "{function}: with detach(...) the gradient is not f's derivative, which "
            "torch.autograd.gradcheck refutes; emit it without {function}",
            option="function",
        )
    point = atpoint.point(at, expr.variables) if at is not None and at != [] else None
    shapes: dict[str, int | None] = {v: None for v in expr.variables}
    if point is not None:
        shapes = atpoint.shapes(point)
    runner = "torch_function" if autograd_function else target
    with runners.prepared(runner):
        program = symbolic.build(expr, shapes, names, order)
        written = code.write(program, target, autograd_function)
        checked = certificate.certify(program, written, runner, dict(point) if point else None)
    if not checked.passed:
        raise CertificateError(_failure(target, checked))
    operations = {"emitted": program.emitted_operations, "naive": program.naive_operations}
    header = _header(expr, program, written, target, checked)
    return Emitted(
        code=header + written.text,
        function=written.function,
        arguments=list(program.arguments),
        shapes=dict(program.shapes),
        gradient=list(program.components),
        target=target,
        order=order,
        certificate=checked,
        operations=operations,
    )


def _failure(target: str, checked: Certificate) -> str:
    """Why the code is not emitted: its largest error, or gradcheck."""
    reasons = []
    if not checked.largest_error <= checked.tolerance:
        reasons.append(
            f"largest relative error {checked.largest_error:.3g} > {checked.tolerance:g}"
        )
    if checked.gradcheck is False:
        reasons.append("torch.autograd.gradcheck failed")
    return (
        f"the emitted {target} code does not match SymPy ({'; '.join(reasons)}; "
        f"{checked.note}): nothing emitted"
    )


def _check_options(target: str, order: int, autograd_function: bool) -> None:
    if target not in TARGETS:
        raise UsageError(f"is one of {', '.join(TARGETS)}, not {target!r}", option="to")
    if order not in (1, 2):
        raise UsageError(f"is 1 (the gradient) or 2 (the Hessian), not {order}", option="order")
    if autograd_function and target != "torch":
        raise UsageError(
            "{function} writes a torch.autograd.Function: it goes with {to} torch",
            option=("function", "to"),
        )
    if autograd_function and order != 1:
        raise UsageError(
            "{function} writes a first-order backward: it does not go with {order} 2",
            option=("function", "order"),
        )


def _shown_source(expr: Expression) -> str:
    """The expression for a comment: as written when it is plain printable
    ASCII on one line that cannot end a C comment, else rebuilt from the tree."""
    from ..parsing import to_text

    text = " ".join(expr.source.split())
    if text.isascii() and text.isprintable() and "*/" not in text and "\\" not in text:
        return text
    return to_text(expr.root)


def _header(
    expr: Expression, program: Program, written: Code, target: str, checked: Certificate
) -> str:
    returns = "(f, grad, hessian)" if program.order == 2 else "(f, grad)"
    if target == "c":
        returns = (
            "f, grad"
            + (", hessian (row-major)" if program.order == 2 else "")
            + " through pointers"
        )
    call = f"{written.function}({', '.join(program.arguments)})"
    if written.function == "EmittedFunction":
        call, returns = (
            f"EmittedFunction.apply({', '.join(program.arguments)})",
            "f; backward: the closed-form gradient",
        )
    vectors = [f"{n} (length {k})" for n, k in program.shapes.items() if k is not None]
    lines = [
        f"gradcalc emit --to {target}: f = {_shown_source(expr)}",
        f"{call} returns {returns}; grad in the order {', '.join(program.components)}",
    ]
    if vectors:
        lines.append("vectors: " + ", ".join(vectors))
    if checked.ran:
        where = f"{checked.random_points} random in the domain" + (
            ", and --at" if checked.at_point else ""
        )
        lines.append(
            f"checked against SymPy at 30 digits at {checked.points} points ({where}): "
            f"largest relative error {checked.largest_error:.2g} ({checked.note})"
        )
    else:
        lines.append(f"not checked: {checked.note}")
    lines.append(
        f"operations: {program.emitted_operations} emitted, "
        f"{program.naive_operations} in the naive tree "
        "(sympy.count_ops)"
    )
    if written.comment == " *":
        return "/*\n" + "".join(f" * {line}\n" for line in lines) + " */\n"
    from .wrapping import wrap

    return "".join(wrap(f"{written.comment} {line}") + "\n" for line in lines)


__all__ = ["TARGETS", "CertificateError", "Emitted", "emit"]
