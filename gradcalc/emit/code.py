"""A `Program` as one self-contained function in the target's language:
NumPy, torch (a function, or with `autograd_function` a
torch.autograd.Function whose backward is the closed form), JAX, C99 with
math.h, or LaTeX. The header comment is added after the certificate
(`with_header`): the code that ran is the code that is printed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..errors import UsageError
from .printers import TARGETS, printer, vector_template
from .symbolic import Program
from .wrapping import wrap

INDENT = "    "
IMPORTS = {
    "numpy": ["import numpy as np"],
    "torch": ["import torch"],
    # The function is checked in float64; JAX computes in float32 unless told.
    "jax": [
        "import jax",
        "import jax.numpy as jnp",
        "",
        'jax.config.update("jax_enable_x64", True)',
    ],
}
MODULE_NAMES = {
    "numpy": {"np"},
    "torch": {"torch"},
    "jax": {"jax", "jnp"},
    "c": set(),
    "latex": set(),
}
C_HELPERS = {
    "gradcalc_logsumexp": (
        "static double gradcalc_logsumexp(int n, const double *v)\n{\n"
        "    double top = v[0], total = 0.0;\n"
        "    for (int i = 1; i < n; i++) top = fmax(top, v[i]);\n"
        "    if (!isfinite(top)) return top;\n"
        "    for (int i = 0; i < n; i++) total += exp(v[i] - top);\n"
        "    return top + log(total);\n}\n"
    ),
    "gradcalc_softplus": (
        "static double gradcalc_softplus(double a)\n{\n"
        "    return fmax(a, 0.0) + log1p(exp(-fabs(a)));\n}\n"
    ),
}


@dataclass(frozen=True)
class Code:
    text: str  # without the header comment
    function: str  # the name to call (a class for torch --function)
    comment: str  # how a comment line starts: "#", " *", "%"


def function_name(order: int, autograd_function: bool) -> str:
    if autograd_function:
        return "EmittedFunction"
    return "value_grad_and_hessian" if order == 2 else "value_and_grad"


def check_names(program: Program, target: str, function: str) -> None:
    """A variable may not take a name the code needs for itself."""
    if target == "latex":
        return
    taken = set(TARGETS[target].keywords) | MODULE_NAMES[target] | {function}
    if target == "c":
        taken |= set(C_HELPERS)
    for name in program.arguments:
        if name in taken:
            raise UsageError(
                f"the variable {name!r} cannot be a name in {target} code "
                "(a keyword or a name the code uses); rename it"
            )


def fresh(name: str, taken: Iterable[str]) -> str:
    """`name`, or name_, name__ ... when a variable already has it."""
    used = set(taken)
    while name in used:
        name += "_"
    return name


def write(program: Program, target: str, autograd_function: bool = False) -> Code:
    function = function_name(program.order, autograd_function)
    check_names(program, target, function)
    if target == "latex":
        from .latex import write as latex

        return Code(latex(program), function, "%")
    if target == "c":
        return Code(_c(program, function), function, " *")
    if target == "torch":
        program = _numbers_inline(program)
    if autograd_function:
        return Code(wrap(_torch_function(program, function)), function, "#")
    return Code(wrap(_python(program, target, function)), function, "#")


def _numbers_inline(program: Program) -> Program:
    """A shared step that is a number (t0 = sqrt(2), t0 = -pi) put back where
    it is used, for torch: torch.stack and torch.maximum take tensors, and a
    float held in a name is neither a tensor nor a number the printer sees
    (made one, f'(x) = sqrt(2) was `torch.stack([t0])`: exit 70)."""
    numbers: dict = {}
    steps = []
    for name, value in program.steps:
        value = value.xreplace(numbers)
        if value.is_number:
            numbers[name] = value
        else:
            steps.append((name, value))
    if not numbers:
        return program

    def put(entry: Any) -> Any:
        return entry.xreplace(numbers)

    return replace(
        program,
        steps=steps,
        value=put(program.value),
        gradient=[put(e) for e in program.gradient],
        hessian=[[put(e) for e in row] for row in program.hessian],
    )


def _needed(program: Program, outputs: list) -> list:
    """The steps the outputs need, in order."""
    wanted: set = set()
    for expr in outputs:
        wanted |= expr.free_symbols
    chosen = []
    for name, value in reversed(program.steps):
        if name in wanted:
            chosen.append((name, value))
            wanted |= value.free_symbols
    return chosen[::-1]


def _python(program: Program, target: str, function: str) -> str:
    p = printer(target)
    names = set(program.arguments) | {str(s) for s, _ in program.steps}
    value, grad, hessian = (fresh(n, names) for n in ("f", "grad", "hessian"))
    body = _conversions(program, target)
    entries = [*program.gradient, *(e for row in program.hessian for e in row)]
    if target == "torch" and any(e.is_number for e in entries):
        body.append(f"{INDENT}{_zero(program)} = torch.zeros_like({_first_scalar(program)})")
    body += [f"{INDENT}{s} = {p.text(v)}" for s, v in program.steps]
    body.append(f"{INDENT}{value} = {p.text(program.value)}")
    body.append(f"{INDENT}{grad} = {_gradient(program, target)}")
    results = [value, grad]
    if program.order == 2:
        rows = _square(program.hessian)
        if target == "torch":
            inner = ", ".join(_python_vector(program, target, row) for row in rows)
            matrix = f"torch.stack([{inner}])"
        else:
            inner = ", ".join("[" + ", ".join(map(printer(target).text, row)) + "]" for row in rows)
            matrix = f"{'np' if target == 'numpy' else 'jnp'}.array([{inner}])"
        body.append(f"{INDENT}{hessian} = {matrix}")
        results.append(hessian)
    order = "gradient and Hessian" if program.order == 2 else "gradient"
    doc = f'{INDENT}"""f and its {order} at one point (see the header for the order)."""'
    lines = [*IMPORTS[target], "", "", f"def {function}({', '.join(program.arguments)}):", doc]
    lines += body + [f"{INDENT}return {', '.join(results)}", ""]
    return "\n".join(lines)


def _conversions(program: Program, target: str) -> list[str]:
    """Arguments made arrays first: a list for a vector (numpy, JAX), and in
    torch a Python number (torch.sin takes tensors only) as a float64 tensor."""
    vectors = [name for name in program.arguments if program.shapes.get(name) is not None]
    if target == "torch":
        names = ", ".join(program.arguments)
        single = "," if len(program.arguments) == 1 else ""
        a = fresh("a", program.arguments)
        return [
            f"{INDENT}{names}{single} = ({a} if torch.is_tensor({a}) else "
            f"torch.tensor({a}, dtype=torch.float64) for {a} in ({names}{single}))"
        ]
    module = "np" if target == "numpy" else "jnp"
    return [f"{INDENT}{n} = {module}.asarray({n}, dtype={module}.float64)" for n in vectors]


def _square(upper: list[list]) -> list[list]:
    """The whole symmetric matrix from its upper triangle's rows."""
    size = len(upper)
    return [[upper[min(i, j)][abs(j - i)] for j in range(size)] for i in range(size)]


def _python_vector(program: Program, target: str, entries: list) -> str:
    p = printer(target)
    if target != "torch":
        module = "np" if target == "numpy" else "jnp"
        return f"{module}.array([{', '.join(p.text(e) for e in entries)}])"
    zero = _zero(program)
    texts = [_constant(zero, e, p) if e.is_number else p.text(e) for e in entries]
    return f"torch.stack([{', '.join(texts)}])"


def _zero(program: Program) -> str:
    """The name of a tensor 0 of the arguments' dtype and device (torch.stack
    takes tensors, not numbers)."""
    return fresh("zero", set(program.arguments) | {str(s) for s, _ in program.steps})


def _constant(zero: str, number: Any, p: Any) -> str:
    if number == 0:
        return zero
    return f"{zero} - {p.text(-number)}" if number < 0 else f"{zero} + {p.text(number)}"


def _gradient(program: Program, target: str) -> str:
    """The gradient: a vector variable's block as one array expression when
    its entries are one formula of the element (2*x/3 for 2*x[i]/3), the
    scalars between them as they are; one array of entries otherwise."""
    pieces: list[tuple[str, list]] = []  # ("block", [template]) or ("entries", [...])
    position = 0
    for name in program.arguments:
        length = program.shapes.get(name)
        if f"{name}[0]" not in program.components and name not in program.components:
            continue
        size = 1 if length is None else length
        entries = program.gradient[position : position + size]
        position += size
        template = None if length is None else vector_template(entries, length)
        if template is not None:
            pieces.append(("block", [template]))
        elif pieces and pieces[-1][0] == "entries":
            pieces[-1][1].extend(entries)
        else:
            pieces.append(("entries", list(entries)))
    if not any(kind == "block" for kind, _ in pieces):
        return _python_vector(program, target, program.gradient)
    p = printer(target)
    texts = [
        p.text(items[0]) if kind == "block" else _python_vector(program, target, items)
        for kind, items in pieces
    ]
    if len(texts) == 1:
        return texts[0]
    join = {"numpy": "np.concatenate", "jax": "jnp.concatenate", "torch": "torch.cat"}[target]
    return f"{join}([{', '.join(texts)}])"


def _first_scalar(program: Program) -> str:
    name = program.arguments[0]
    return name if program.shapes.get(name) is None else f"{name}[0]"


def _torch_function(program: Program, function: str) -> str:
    if program.order != 1:
        raise UsageError("emits a first-order backward: leave out {order} 2", option="function")
    p = printer("torch")
    arguments = ", ".join(program.arguments)
    taken = set(program.arguments) | {str(s) for s, _ in program.steps}
    ctx, upstream = fresh("ctx", taken), fresh("grad_output", taken)
    forward = [f"{INDENT * 2}{s} = {p.text(v)}" for s, v in _needed(program, [program.value])]
    backward = [f"{INDENT * 2}{s} = {p.text(v)}" for s, v in _needed(program, program.gradient)]
    unpack = f"({arguments},)" if len(program.arguments) == 1 else arguments
    lines = [
        "import torch",
        "",
        "",
        f"class {function}(torch.autograd.Function):",
        f'{INDENT}"""f({arguments}), its backward the closed-form gradient: '
        f'{function}.apply({arguments})."""',
        "",
        f"{INDENT}@staticmethod",
        f"{INDENT}def forward({ctx}, {arguments}):",
        f"{INDENT * 2}{ctx}.save_for_backward({arguments})",
        *forward,
        f"{INDENT * 2}return {p.text(program.value)}",
        "",
        f"{INDENT}@staticmethod",
        f"{INDENT}def backward({ctx}, {upstream}):",
        f"{INDENT * 2}{unpack} = {ctx}.saved_tensors",
        *backward,
        f"{INDENT * 2}return {', '.join(_torch_backward(program, upstream))}",
        "",
    ]
    return "\n".join(lines)


def _torch_backward(program: Program, upstream: str) -> list[str]:
    """One gradient a positional argument: None for one not differentiated."""
    p = printer("torch")
    entries = dict(zip(program.components, program.gradient))
    out = []
    for name in program.arguments:
        length = program.shapes.get(name)
        parts = [name] if length is None else [f"{name}[{i}]" for i in range(length)]
        if parts[0] not in entries:
            out.append("None")
        elif length is None:
            out.append(f"{upstream}*({p.text(entries[name])})")
        else:
            texts = [
                f"torch.full_like({name}[0], {p.text(entries[part])})"
                if entries[part].is_number
                else p.text(entries[part])
                for part in parts
            ]
            out.append(f"{upstream}*torch.stack([{', '.join(texts)}])")
    return out


def _c(program: Program, function: str) -> str:
    p = printer("c")
    names = set(program.arguments) | {str(s) for s, _ in program.steps}
    value, grad, hessian = (fresh(n, names) for n in ("f", "grad", "hessian"))
    parameters = [
        f"double {name}" if program.shapes.get(name) is None else f"const double *{name}"
        for name in program.arguments
    ]
    parameters += [f"double *{value}", f"double *{grad}"]
    if program.order == 2:
        parameters.append(f"double *{hessian}")
    body = [f"{INDENT}const double {s} = {p.text(v)};" for s, v in program.steps]
    body.append(f"{INDENT}*{value} = {p.text(program.value)};")
    body += [f"{INDENT}{grad}[{i}] = {p.text(g)};" for i, g in enumerate(program.gradient)]
    size = len(program.components)
    for i, row in enumerate(program.hessian):
        for k, entry in enumerate(row):
            j = i + k
            mirror = f" {hessian}[{j * size + i}] =" if j != i else ""
            body.append(f"{INDENT}{hessian}[{i * size + j}] ={mirror} {p.text(entry)};")
    text = "\n".join(body)
    helpers = [code for name, code in C_HELPERS.items() if name + "(" in text]
    head = f"void {function}({', '.join(parameters)})"
    return "\n".join(["#include <math.h>", "", *helpers, head, "{", text, "}", ""])


__all__ = ["Code", "function_name", "write"]
