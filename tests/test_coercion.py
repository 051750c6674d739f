"""gradcalc's pydantic-free coercion against Typer's own, parameter by parameter.

coercion.py converts well-formed command-line values itself and hands
everything else to Typer; here both are run on the same raw values for every
parameter of every command, and must give the same value (and type) or the
same error message.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from gradcalc.cli import app
from gradcalc.cli.coercion import NotPlain, PlainRuntimeParam, plain_value

# Raw values as Click hands them over: strings from the command line, and
# the declared defaults (ints, floats, enum members, None).
RAW = [
    "3",
    " 3",
    "03",
    "+3",
    "-1",
    "0",
    "4",
    "5",
    "3.0",
    "1e3",
    "1E-3",
    ".5",
    "5.",
    "1_0",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "abc",
    "",
    "٣",
    "0x10",
    "float32",
    "FLOAT32",
    "float64",
    "tree",
    "dot",
    "bce",
    "mse",
    "x=1",
    "sin(x**2)",
    None,
    3,
    0,
    5.0,
    1e-08,
    True,
    False,
]
LISTS = [("x=1", "y=2"), (), ("3",), None]


def _parameters():
    group = typer.main.get_command(app)
    context = Context(group)
    for param in group.get_params(context):
        yield "gradcalc", param, context
    for name, command in group.commands.items():
        for param in command.get_params(Context(command, parent=context)):
            yield name, param, Context(command, parent=context)


PARAMETERS = list(_parameters())


def _outcome(runtime, value, param, context):
    try:
        result = runtime.coerce(value, param=param, ctx=context)
    except BadParameter:
        return ("error",)  # the messages differ on purpose: see refusal()
    return ("value", type(result), result if result == result else "nan")


@pytest.mark.parametrize(
    "command,param,context", PARAMETERS, ids=[f"{c}-{p.name}" for c, p, _ in PARAMETERS]
)
def test_plain_coercion_matches_typer(command, param, context):
    descriptor = param.type_descriptor
    ours = PlainRuntimeParam(
        parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
    )
    typers = build_runtime_param(descriptor)
    values = LISTS if (param.multiple or param.nargs == -1) else RAW
    for value in values:
        assert _outcome(ours, value, param, context) == _outcome(typers, value, param, context), (
            command,
            param.name,
            value,
        )


def test_every_parameter_gets_the_plain_coercion():
    from gradcalc.cli.coercion import plain

    names = []
    for command, param, _ in PARAMETERS:
        plain([param])
        assert isinstance(param._runtime_param, PlainRuntimeParam), (command, param.name)
        names.append(param.name)
    assert {"expression", "at", "order", "dtype", "timeout", "help"} <= set(names)


def test_what_is_not_plain_goes_to_typer():
    command = typer.main.get_command(app).commands["accumulate"]
    (passes,) = [p for p in command.params if p.name == "passes"]
    info = passes.type_descriptor
    assert info.annotation is int  # --passes, 1 or more
    assert plain_value("2", int, info.parameter_info) == 2
    for raw in ("0", "-1", "3.0", " 3", "1_0", "x"):
        with pytest.raises(NotPlain):
            plain_value(raw, int, info.parameter_info)


def test_a_diff_does_not_import_pydantic():
    """Importing pydantic and building its adapters cost about 0.1 s a run."""
    code = (
        "import sys\nfrom gradcalc.cli import app\n"
        "try:\n    app(['diff', 'sin(x**2)', '--at', '3', '-n', '2', '--dtype', "
        "'float64', '--timeout', '9', '--no-autograd', '--json'])\n"
        "except SystemExit as e:\n    code = e.code\n"
        "print('pydantic' in sys.modules, code)"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert process.stdout.strip().splitlines()[-1] == "False 0", process.stderr[-500:]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--order", "5"],
            "Invalid value for '--order' / '-n': 5 is not an order gradcalc computes: 1, 2, 3 or 4",
        ),
        (["--order", "two"], "Invalid value for '--order' / '-n': 'two' is not a whole number"),
        (["--dtype", "f16"], "Invalid value for '--dtype': 'f16' is not one of float64, float32"),
        (["--timeout", "soon"], "Invalid value for '--timeout': 'soon' is not a finite number"),
    ],
)
def test_bad_values_are_refused_in_plain_words(cli, args, message):
    """Not pydantic's "Value error, ..." or "Input should be ..."."""
    run = cli("diff", "x", "--at", "1", *args)
    assert run.exit_code == 2
    assert run.stderr == f"gradcalc: error: {message}\n"
