"""The library's shape: no function longer than MAX_FUNCTION lines, no module
longer than MAX_MODULE lines, read from the source with `ast`.

The function table (gradcalc/functions.py) is module-level data, one row per
function, not a function: it is the one module allowed past MAX_MODULE, and
no function of it is long.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gradcalc"
MAX_FUNCTION = 80  # lines of one function or method, decorators aside
MAX_MODULE = 600  # lines of one module
DATA = {"gradcalc/functions.py"}  # the function table: data, past MAX_MODULE


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, lines) of every function and method, nested ones too."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = prefix + node.name
            yield name, node.end_lineno - node.lineno + 1
            yield from _functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")
        else:
            yield from _functions(node, prefix)


def _too_long(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = []
    lines = len(text.splitlines())
    if lines > MAX_MODULE and _name(path) not in DATA:
        found.append(f"{_name(path)}: {lines} lines (at most {MAX_MODULE})")
    for name, length in _functions(ast.parse(text, filename=str(path))):
        if length > MAX_FUNCTION:
            found.append(f"{_name(path)}: {name} is {length} lines (at most {MAX_FUNCTION})")
    return found


def test_no_function_or_module_is_too_long():
    found = [problem for path in _modules() for problem in _too_long(path)]
    assert not found, "\n".join(found)


def test_the_walk_sees_methods_and_nested_functions():
    source = "class A:\n    def f(self):\n        def g():\n            pass\n"
    assert list(_functions(ast.parse(source))) == [("A.f", 3), ("A.f.g", 2)]


MAX_COMMAND = 150  # lines of one command's module: options, one library call, one view


def test_every_command_module_is_short():
    commands = sorted((PACKAGE / "cli" / "commands").glob("*.py"))
    assert len(commands) >= 8  # every command has its module
    long = [
        f"{_name(path)}: {length} lines"
        for path in commands
        if (length := len(path.read_text(encoding="utf-8").splitlines())) > MAX_COMMAND
    ]
    assert long == []
