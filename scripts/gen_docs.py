"""Regenerate the generated parts of README.md from the code itself.

    python scripts/gen_docs.py          # rewrite README.md
    python scripts/gen_docs.py --check  # exit 1 if README.md is stale

Sections live between `<!-- BEGIN name -->` and `<!-- END name -->`; examples
between `<!-- BEGIN example: gradcalc ... -->` and `<!-- END example -->` are
run and their real output pasted in.
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcalc.errors import ExitCode  # noqa: E402
from gradcalc.functions import CONSTANTS, FUNCTIONS  # noqa: E402


def functions_table() -> str:
    lines = ["| function | arguments | defined for | what it is |", "| --- | --- | --- | --- |"]
    for f in FUNCTIONS:
        low, high = f.arity
        arity = str(low) if low == high else (f"{low} or more" if high is None else f"{low}–{high}")
        names = ", ".join(f"`{n}`" for n in (f.name,) + f.aliases)
        lines.append(f"| {names} | {arity} | {f.domain} | {f.doc} |")
    constants = ", ".join(f"`{k}`" for k in CONSTANTS)
    lines.append(f"| {constants} | constants | | π and Euler's number |")
    return "\n".join(lines)


def exit_codes_table() -> str:
    meaning = {
        ExitCode.OK: "computed, and every method agrees within tolerance",
        ExitCode.DISAGREE: "computed, but the methods disagree, or the point is a kink "
        "(not differentiable); the result says which, by how much, why",
        ExitCode.INPUT: "the input is wrong: usage, parse error, unknown function or "
        "variable, malformed point, input past a documented limit (length, nesting depth, "
        "digits, exact power: kind `too_large`)",
        ExitCode.UNDEFINED: "the math is undefined or not finite at the point (kind "
        "`domain`), or the work ran past its time or memory budget (kind `budget`; the "
        "message says which)",
        ExitCode.INTERNAL: "a bug escaped (one line on stderr; GRADCALC_DEBUG=1 shows the "
        "traceback)",
        ExitCode.OUTPUT: "the answer could not be written (full disk, closed stdout, an "
        "I/O error): one line on stderr",
        ExitCode.INTERRUPTED: "interrupted (Ctrl-C, or SIGTERM or SIGHUP to the computation); "
        "one line on stderr. SIGTERM or SIGHUP to gradcalc itself ends it, and its "
        "computation, by that signal",
        ExitCode.CLOSED_PIPE: "the reader of stdout went away (gradcalc piped into `head -1`): "
        "gradcalc ends at once, quietly, killed by SIGPIPE as `yes` is (shells show 141)",
    }
    lines = ["| code | meaning |", "| --- | --- |"]
    lines += [f"| {int(code)} | {meaning[code]} |" for code in ExitCode]
    return "\n".join(lines)


SECTIONS = {"functions": functions_table, "exit-codes": exit_codes_table}

EXAMPLE = re.compile(r"(<!-- BEGIN example: (.+?) -->\n).*?(<!-- END example -->)", re.S)


def run_example(command: str) -> str:
    """Run a README example in-process, as a terminal 80 columns wide without colour."""
    import shlex

    from typer.testing import CliRunner

    from gradcalc.cli import app

    words = shlex.split(command)
    assert words[0] == "gradcalc", command
    with contextlib.chdir(ROOT):  # examples name files under examples/
        result = CliRunner().invoke(app, words[1:], env={"NO_COLOR": "1", "COLUMNS": "80"})
    output = "\n".join(line.rstrip() for line in (result.stdout + result.stderr).splitlines())
    return f"```console\n$ {command}\n{output}\n```\n"


def render(text: str) -> str:
    text = EXAMPLE.sub(lambda m: m.group(1) + run_example(m.group(2)) + m.group(3), text)
    for name, build in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no section {name}")
        body = build()
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main() -> int:
    readme = ROOT / "README.md"
    current = readme.read_text()
    wanted = render(current)
    if "--check" in sys.argv:
        if wanted != current:
            print("README.md is stale: run python scripts/gen_docs.py", file=sys.stderr)
            return 1
        return 0
    readme.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
