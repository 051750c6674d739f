"""gradcalc emit: the emitted code imports, runs and matches an independent
reference (mpmath at 40 digits: the hand-written f, and its derivatives by
mpmath's own numerical differentiation, never SymPy's); the torch Function
passes gradcheck; C compiles with cc -Wall -Werror; a wrong printer emits
nothing; the operation counts show the shared sub-expressions."""

import ctypes
import json
import os
import py_compile
import shutil
import subprocess
import sys

import mpmath as mp
import numpy as np
import pytest
from conftest import HANG_GUARD_SECONDS, run_subprocess, validate

from gradcalc.emit import emit, printers

RELATIVE = 1e-12  # float64 code against the 40-digit reference
FLOOR = 1e-9  # entries below this share of the point's largest count absolutely against it


# (expression, shapes, mpmath f of the flat components, order)
def _lse(*values):
    return mp.log(mp.fsum(mp.exp(v) for v in values))


CASES = [
    ("sin(x)*exp(y)", {}, lambda x, y: mp.sin(x) * mp.exp(y), 1),
    (
        "log(1 + x**2) + sqrt(y) - atan2(y, x)",
        {},
        lambda x, y: mp.log(1 + x**2) + mp.sqrt(y) - mp.atan2(y, x),
        1,
    ),
    (
        "softplus(x) * sigmoid(y) + tanh(x*y)",
        {},
        lambda x, y: mp.log(1 + mp.exp(x)) / (1 + mp.exp(-y)) + mp.tanh(x * y),
        1,
    ),
    (
        "logsumexp(x) + y*mean(x**2)",
        {"x": 3},
        lambda a, b, c, y: _lse(a, b, c) + y * (a * a + b * b + c * c) / 3,
        1,
    ),
    (
        "dot(w, x) + norm(x)",
        {"w": 2, "x": 2},
        lambda w0, w1, x0, x1: w0 * x0 + w1 * x1 + mp.sqrt(x0 * x0 + x1 * x1),
        1,
    ),
    # Functions of constants (log(2) in the derivative): numbers, not torch.log(2).
    ("2**x * log(y, 2)", {}, lambda x, y: mp.power(2, x) * mp.log(y, 2), 1),
    ("x**2*y + exp(x*y)", {}, lambda x, y: x**2 * y + mp.exp(x * y), 2),
    ("cross_entropy(z, 1) * s", {"z": 3}, lambda s, a, b, c: (_lse(a, b, c) - b) * s, 2),
    # Constants as whole derivatives, shared or not (torch once stacked floats: exit 70).
    ("pi*x + sqrt(2)*y", {}, lambda x, y: mp.pi * x + mp.sqrt(2) * y, 1),
    (
        "E*clamp(x, -pi, pi) + max(y, -pi)",
        {},
        lambda x, y: mp.e * min(max(x, -mp.pi), mp.pi) + max(y, -mp.pi),
        1,
    ),
    ("pi*x**2 + log(2)*x*y", {}, lambda x, y: mp.pi * x**2 + mp.log(2) * x * y, 2),
]
IDS = [case[0] for case in CASES]


def _at(expression_shapes, variables):
    """--at text giving each vector its length (values inside every domain)."""
    parts = []
    for name in variables:
        length = expression_shapes.get(name)
        parts.append(f"{name}=0.7" if length is None else f"{name}=[{','.join(['0.5'] * length)}]")
    return ",".join(parts)


def _variables(expression):
    from gradcalc.parsing import parse

    return parse(expression).variables


def _reference(f, flat, order):
    """f, its gradient and (order 2) its Hessian at `flat`, by mpmath at 40 digits."""
    with mp.workdps(40):
        point = [mp.mpf(v) for v in flat]
        n = len(point)
        value = f(*point)
        gradient = [mp.diff(f, point, tuple(int(i == k) for i in range(n))) for k in range(n)]
        hessian = None
        if order == 2:
            hessian = [
                [mp.diff(f, point, tuple((i == j) + (i == k) for i in range(n))) for k in range(n)]
                for j in range(n)
            ]
    return (
        float(value),
        [float(g) for g in gradient],
        hessian and [[float(h) for h in row] for row in hessian],
    )


def _close(got, want):
    got, want = np.asarray(got, dtype=float).ravel(), np.asarray(want, dtype=float).ravel()
    scale = max(1.0, float(np.max(np.abs(want))))
    bound = RELATIVE * np.maximum(np.abs(want), FLOOR * scale)
    assert np.all(np.abs(got - want) <= bound), (got, want)


def _points(shapes, variables, count=4, seed=7):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield {
            name: rng.uniform(0.2, 1.5)
            if shapes.get(name) is None
            else rng.uniform(0.2, 1.5, shapes[name])
            for name in variables
        }


def _flat(point, variables):
    return [float(v) for name in variables for v in np.atleast_1d(point[name])]


def _load(code, name):
    namespace = {}
    exec(compile(code, "<emitted>", "exec"), namespace)
    return namespace[name]


# The emitted JAX code called in a Python process of its own (`_run_apart`):
# JAX's first computation starts XLA's thread pools, which would stay in the
# test process, and the tests after this one fork it (the repl's worker, the
# API's budget). tests/conftest.py fails a test that imports JAX here.
APART = """
import json, sys
import numpy as np
request = json.load(sys.stdin)
namespace = {}
exec(compile(request["code"], "<emitted>", "exec"), namespace)
import jax.numpy as jnp
function = namespace[request["name"]]
def convert(value):
    return jnp.asarray(value, dtype=jnp.float64) if request["convert"] else value
answers = [function(*map(convert, arguments)) for arguments in request["calls"]]
print(json.dumps([[np.asarray(v, dtype=float).tolist() for v in a] for a in answers]))
"""


def _run_apart(code, name, calls, convert=True):
    """`name` of the JAX `code` called with each argument list of `calls`
    (as jnp float64 arrays with `convert`, else as given), in its own process."""
    request = {"code": code, "name": name, "calls": calls, "convert": convert}
    done = subprocess.run(
        [sys.executable, "-c", APART],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _check_python(case, target, convert=None):
    """The emitted code at a few points against mpmath: called here with
    `convert` making each argument, or with none given (JAX) in its own process."""
    expression, shapes, f, order = case
    variables = _variables(expression)
    result = emit(expression, target, order=order, at=_at(shapes, variables))
    assert result.arguments == variables
    points = list(_points(shapes, variables))
    if convert is None:
        calls = [[np.asarray(point[name]).tolist() for name in variables] for point in points]
        answers = _run_apart(result.code, result.function, calls)
    else:
        function = _load(result.code, result.function)
        answers = [function(*(convert(point[name]) for name in variables)) for point in points]
    for point, outputs in zip(points, answers):
        value, gradient, hessian = _reference(f, _flat(point, variables), order)
        _close(float(outputs[0]), value)
        _close(np.asarray(outputs[1]), gradient)
        if order == 2:
            _close(np.asarray(outputs[2]), hessian)
    return result


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_numpy_code_imports_runs_and_matches_mpmath(case, tmp_path):
    result = _check_python(case, "numpy", lambda v: np.asarray(v, dtype=float))
    # It is a module of its own: it compiles, and imports nothing but numpy.
    path = tmp_path / "emitted.py"
    path.write_text(result.code)
    py_compile.compile(str(path), doraise=True)
    imports = [line for line in result.code.splitlines() if line.startswith(("import", "from"))]
    assert imports == ["import numpy as np"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_code_matches_mpmath(case):
    import torch

    _check_python(case, "torch", lambda v: torch.tensor(v, dtype=torch.float64))


@pytest.mark.parametrize("case", [CASES[3], CASES[6]], ids=[IDS[3], IDS[6]])
def test_jax_code_matches_mpmath(case):
    result = _check_python(case, "jax")
    assert "jax_enable_x64" in result.code


@pytest.mark.parametrize(
    "case", [c for c in CASES if c[3] == 1], ids=[c[0] for c in CASES if c[3] == 1]
)
def test_torch_function_passes_gradcheck_and_matches(case):
    import torch

    expression, shapes, f, _ = case
    variables = _variables(expression)
    result = emit(expression, "torch", at=_at(shapes, variables), autograd_function=True)
    assert result.certificate.gradcheck is True
    function = _load(result.code, "EmittedFunction")
    assert issubclass(function, torch.autograd.Function)
    for point in _points(shapes, variables, count=2):
        inputs = [
            torch.tensor(point[n], dtype=torch.float64, requires_grad=True) for n in variables
        ]
        assert torch.autograd.gradcheck(function.apply, inputs)
        value = function.apply(*inputs)
        grads = torch.autograd.grad(value, inputs)
        want_value, want_gradient, _ = _reference(f, _flat(point, variables), 1)
        _close(float(value.detach()), want_value)
        _close(torch.cat([g.reshape(-1) for g in grads]).numpy(), want_gradient)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc)")
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_c_compiles_with_wall_werror_and_matches(case, tmp_path):
    expression, shapes, f, order = case
    variables = _variables(expression)
    result = emit(expression, "c", order=order, at=_at(shapes, variables))
    assert result.certificate.ran and "cc -std=c99 -Wall -Werror" in result.code
    source, library = tmp_path / "f.c", tmp_path / "f.so"
    source.write_text(result.code)
    subprocess.run(
        ["cc", "-std=c99", "-Wall", "-Werror", "-fPIC", "-shared", "-o", library, source, "-lm"],
        check=True,
    )
    function = getattr(ctypes.CDLL(str(library)), result.function)
    size = len(result.gradient)
    for point in _points(shapes, variables, count=3):
        args = [
            ctypes.c_double(point[n])
            if shapes.get(n) is None
            else (ctypes.c_double * shapes[n])(*point[n])
            for n in variables
        ]
        value, gradient, hessian = (
            ctypes.c_double(),
            (ctypes.c_double * size)(),
            (ctypes.c_double * size**2)(),
        )
        function(*args, ctypes.byref(value), gradient, *([hessian] if order == 2 else []))
        want_value, want_gradient, want_hessian = _reference(f, _flat(point, variables), order)
        _close(value.value, want_value)
        _close(list(gradient), want_gradient)
        if order == 2:
            _close(list(hessian), want_hessian)


def test_hessian_of_eight_sines_has_a_third_of_the_naive_operations(cli):
    names = ["a", "b", "c", "d", "g", "h", "p", "q"]
    expression = "*".join(f"sin({n})" for n in names)
    run = cli("emit", expression, "--to", "numpy", "--order", "2", "--json")
    assert run.exit_code == 0, run.stdout
    operations = run.json["operations"]
    assert 3 * operations["emitted"] <= operations["naive"]
    header = (
        f"# operations: {operations['emitted']} emitted, {operations['naive']} in the naive tree"
    )
    assert header in run.json["code"]


def test_json_document(cli):
    run = cli("emit", "logsumexp(x)*y", "--to", "numpy", "--at", "x=[1,2,3],y=0.5", "--json")
    assert run.exit_code == 0
    document = run.json
    validate(document, "emit.schema.json")
    assert document["function"] == "value_and_grad"
    assert document["arguments"] == ["x", "y"]
    assert document["shapes"] == {"x": 3, "y": None}
    assert document["gradient"] == ["x[0]", "x[1]", "x[2]", "y"]
    certificate = document["certificate"]
    assert certificate["passed"] and certificate["at_point"]
    assert certificate["points"] == certificate["random_points"] + 1 == 9
    assert certificate["largest_error"] <= certificate["tolerance"]
    assert "np.logaddexp.reduce(x)" in document["code"]  # the stable logsumexp, whole vector


def test_a_wrong_printer_emits_nothing_and_exits_1(cli, monkeypatch, tmp_path):
    spellings = dict(printers.TARGETS["numpy"].functions)
    spellings["sin"] = lambda args, node: f"-np.sin({args[0]})"  # a wrong sign
    monkeypatch.setattr(printers.TARGETS["numpy"], "functions", spellings)
    target = tmp_path / "f.py"
    run = cli("emit", "sin(x)*y", "--to", "numpy", "--output", str(target))
    assert run.exit_code == 1
    assert run.stdout == ""
    assert "does not match SymPy" in run.stderr and "nothing emitted" in run.stderr
    assert not target.exists()
    run = cli("emit", "sin(x)*y", "--to", "numpy", "--json")
    assert run.exit_code == 1
    assert run.json["error"]["kind"] == "certificate"
    validate(run.json, "error.schema.json")
    assert "code" not in run.json


def test_output_file_is_not_overwritten_without_force(cli, tmp_path):
    target = tmp_path / "f.py"
    target.write_text("mine\n")
    run = cli("emit", "x**2", "--to", "numpy", "--output", str(target))
    assert run.exit_code == 2 and "add --force" in run.stderr
    assert target.read_text() == "mine\n"
    run = cli("emit", "x**2", "--to", "numpy", "--output", str(target), "--force")
    assert run.exit_code == 0 and run.stdout == ""
    assert "def value_and_grad(x):" in target.read_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["x", "--to", "numpy", "--function"], "--function"),
        (["x", "--to", "torch", "--function", "--order", "2"], "--order 2"),
        (["x+np", "--to", "numpy"], "'np'"),
        (["x+lambda", "--to", "numpy"], "'lambda'"),
        (["x+int", "--to", "c"], "'int'"),
        (["erf(x)", "--to", "numpy"], "numpy has no erf"),
        (["softmax(x)", "--to", "numpy", "--at", "x=[1,2]"], "Jacobian"),
        (["x*y", "--to", "numpy", "--wrt", "z"], "'z' is not a variable"),
        (["x", "--to", "fortran"], "fortran"),
        (["detach(x)*y", "--to", "torch", "--function"], "gradcheck refutes"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, words):
    run = cli("emit", *args)
    assert run.exit_code == 2, run.stderr
    assert words in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_undefined_at_the_point_is_exit_3(cli):
    run = cli("emit", "log(x)", "--to", "numpy", "--at", "-1")
    assert run.exit_code == 3
    assert "not a finite real number at --at" in run.stderr


def test_emitted_python_is_ruff_clean(cli, tmp_path):
    ruff = shutil.which("ruff") or os.path.join(os.path.dirname(sys.executable), "ruff")
    if not os.path.exists(ruff):
        pytest.skip("no ruff")
    for i, args in enumerate(
        [
            ["--to", "numpy", "--order", "2"],
            ["--to", "torch", "--function"],
            ["--to", "jax"],
            ["--to", "torch", "--order", "2"],
        ]
    ):
        expression = "softplus(x)*y + logsumexp(z)*sin(x*y) + dot(z, z)"  # long lines
        run = cli("emit", expression, *args, "--at", "x=1,y=2,z=[1,2,3]", "--json")
        assert run.exit_code == 0, run.stdout
        path = tmp_path / f"emitted{i}.py"
        path.write_text(run.json["code"])
        done = subprocess.run(
            # pycodestyle and pyflakes whole, at a 100-column limit
            [ruff, "check", "--isolated", "--select", "E,F,W", "--line-length", "100", str(path)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout


def test_latex_is_an_align_environment(cli):
    run = cli("emit", "sin(x)*y", "--to", "latex", "--json")
    assert run.exit_code == 0
    code = run.json["code"]
    assert "\\begin{align*}" in code and "\\frac{\\partial f}{\\partial x}" in code
    assert run.json["certificate"]["method"] == "the printed formulas evaluated in float64"


def test_real_process_prints_the_code():

    done = run_subprocess("emit", "x**3", "--to", "numpy")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# gradcalc emit --to numpy: f = x**3\n")
    function = _load(done.stdout, "value_and_grad")
    value, gradient = function(np.float64(2.0))
    assert (float(value), gradient.tolist()) == (8.0, [12.0])
    assert json.loads(run_subprocess("emit", "x", "--to", "c", "--json").stdout)["function"]


@pytest.mark.parametrize("target", ["numpy", "torch", "jax"])
def test_plain_python_numbers_and_lists_are_accepted(target):
    """f(0.5, [1, 2]) as a reader would first try it: Python numbers and a list."""
    result = emit("logsumexp(x)*y", target, at="x=[1,2],y=0.5")
    if target == "jax":
        ((value, gradient),) = _run_apart(result.code, result.function, [[[1.0, 2.0], 0.5]], False)
    else:
        value, gradient = _load(result.code, result.function)([1.0, 2.0], 0.5)
    want_value, want_gradient, _ = _reference(lambda a, b, y: _lse(a, b) * y, [1.0, 2.0, 0.5], 1)
    _close(float(value), want_value)
    _close(np.asarray(gradient, dtype=float), want_gradient)


def _printable_rows():
    from gradcalc.functions import FUNCTIONS

    return [f for f in FUNCTIONS if not f.vector and not f.reduces]


@pytest.mark.parametrize("function", _printable_rows(), ids=lambda f: f.name)
def test_every_row_of_the_table_prints_in_every_target(function):
    """A row added to the function table prints in every target, or is
    refused by name (printers.WHY_NOT): never an unknown head."""
    from gradcalc.emit import code, symbolic
    from gradcalc.errors import UsageError
    from gradcalc.parsing import parse

    arguments = ["x", "y", "z"][: function.arity[0]]
    expression = parse(f"{function.name}({', '.join(arguments)})")
    program = symbolic.build(expression, {}, expression.variables, 2)
    for target in ("numpy", "torch", "jax", "c", "latex"):
        try:
            text = code.write(program, target).text
        except UsageError as error:
            assert any((target, head) in printers.WHY_NOT for head in ("erf", "erfc")), error
            continue
        if target != "latex":
            assert "Heaviside(" not in text and "LogSumExp(" not in text


def test_a_sum_over_a_whole_vector_is_the_targets_own_reduction():
    result = emit("mean(x**2)*y - dot(w, x)", "numpy", at="w=[1,2,3],x=[3,4,5],y=2")
    assert "np.sum(x**2)" in result.code and "np.sum(-w*x)" in result.code
    value, gradient = _load(result.code, result.function)([1, 2, 3], [3, 4, 5], 2)
    assert float(value) == pytest.approx(50 / 3 * 2 - 26, rel=RELATIVE)
    want = [-3, -4, -5, -1 + 4 * 3 / 3, -2 + 4 * 4 / 3, -3 + 4 * 5 / 3, 50 / 3]  # by hand
    assert gradient.tolist() == pytest.approx(want, rel=RELATIVE)


def test_names_the_code_needs_step_aside_for_the_variables():
    """Variables called f, grad, t0 keep their names; the code's own move."""
    result = emit("exp(t0*t1)*f*grad", "numpy")
    assert "def value_and_grad(f, grad, t0, t1):" in result.code
    assert "u0 = np.exp(t0*t1)" in result.code and "return f_, grad_" in result.code
    value, gradient = _load(result.code, result.function)(2.0, 3.0, 0.5, 0.25)
    product = np.exp(0.125)
    assert float(value) == pytest.approx(6 * product, rel=RELATIVE)
    want = [3 * product, 2 * product, 0.25 * 6 * product, 0.5 * 6 * product]
    assert gradient.tolist() == pytest.approx(want, rel=RELATIVE)


def test_without_a_compiler_c_is_printed_with_a_note(cli, monkeypatch):
    from gradcalc.emit import runners

    monkeypatch.setattr(runners.shutil, "which", lambda name: None)
    run = cli("emit", "sin(x)", "--to", "c", "--json")
    assert run.exit_code == 0
    certificate = run.json["certificate"]
    assert certificate["ran"] is False and certificate["largest_error"] is None
    assert certificate["method"] == "not run: no C compiler (cc) on this machine"
    assert " * not checked: not run: no C compiler (cc) on this machine\n" in run.json["code"]


@pytest.mark.parametrize("target", ["numpy", "torch"])
def test_a_vector_block_of_the_gradient_is_one_array_expression(target):
    result = emit("mean(x**2)*y - dot(w, x)", target, at="w=[1,2,3],x=[3,4,5],y=2")
    assert "-x, -w + 2*x*y/3" in result.code  # w's block, x's block
    _, gradient = _load(result.code, result.function)([1.0, 2.0, 3.0], [3.0, 4.0, 5.0], 2.0)
    want = [-3, -4, -5, -1 + 4 * 3 / 3, -2 + 4 * 4 / 3, -3 + 4 * 5 / 3, 50 / 3]  # by hand
    assert np.asarray(gradient).tolist() == pytest.approx(want, rel=RELATIVE)


def _square_function(factor: float):
    """x**2 as a torch.autograd.Function whose backward is `factor` * 2x."""
    import torch

    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x**2).sum()

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * factor * 2 * x

    return Square


@pytest.mark.parametrize(("factor", "passed"), [(1.0, True), (1.001, False), (-1.0, False)])
def test_the_certificate_runs_gradcalc_check_on_a_torch_function(factor, passed):
    import torch

    from gradcalc.emit import runners

    named = {"x": torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64)}
    assert runners._gradcalc_check(_square_function(factor), named, {"x"}) is passed
    # An argument the backward leaves out by design is not checked by it.
    assert runners._gradcalc_check(_square_function(-1.0), named, set()) is True
