"""Regenerate the generated parts of the documentation from the code itself.

    python scripts/gen_docs.py               # rewrite every generated part
    python scripts/gen_docs.py --check       # exit 1 if any is stale
    python scripts/gen_docs.py cli           # docs/cli.md only (fast: runs --help only)
    python scripts/gen_docs.py --check cli

Two parts:

- `pages`: README.md and the guide pages docs/*.md. Sections between
  `<!-- BEGIN name -->` and `<!-- END name -->` are rebuilt from the code (the
  function table in docs/expressions.md, the exit-code table in
  docs/exit-codes.md); examples between `<!-- BEGIN example: gradcalc ... -->`
  and `<!-- END example -->` are run and their real output pasted in.
- `cli`: docs/cli.md, the `--help` of the root and of every command, as plain
  text (NO_COLOR=1, COLUMNS=100), read from the CLI's own command tree.

docs/benchmarks.md is not made here: `python benchmarks/run.py --render` makes it
from benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcalc.errors import ExitCode  # noqa: E402
from gradcalc.functions import CONSTANTS, FUNCTIONS  # noqa: E402

CLI_PAGE = "docs/cli.md"
BENCHMARK_PAGE = "docs/benchmarks.md"  # benchmarks/run.py --render
HELP_ENV = {"NO_COLOR": "1", "COLUMNS": "100"}
EXAMPLE_ENV = {"NO_COLOR": "1", "COLUMNS": "80"}


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
        "(not differentiable); the result says which, by how much, why (`plot --fd-error` at "
        "a kink: one line, kind `not_differentiable`: there is no curve to draw)",
        ExitCode.INPUT: "the input is wrong: usage, parse error, unknown function or "
        "variable, malformed point, input past a documented limit (length, nesting depth, "
        "digits, exact power: kind `too_large`); for `gradcalc check`, also an exception "
        "raised by the user's own code (kind `user_code`, with the user's own frames on "
        "stderr)",
        ExitCode.UNDEFINED: "the math is undefined or not finite at the point (kind "
        "`domain`), or the work ran past its time or memory budget (kind `budget`; the "
        "message says which), or f is finite at the point but a part of it is past "
        "float64's range there, so no float64 method can evaluate it (kind `overflow`), "
        "or f is finite at the point but float64's rounding makes a part of it infinite "
        "there (kind `rounding`: `1/(x-pi)` at float64's pi) or puts a part onto its kink "
        "though the point is off it (`abs(x-pi)` there)",
        ExitCode.INTERNAL: "a bug escaped (one line on stderr; GRADCALC_DEBUG=1 shows the "
        "traceback)",
        ExitCode.OUTPUT: "the answer could not be written (full disk, closed stdout, an "
        "I/O error; `diff --points` to a pipe whose helper process died part way through a "
        "chunk), or the repl's input could not be read (an I/O error): one line on stderr",
        ExitCode.INTERRUPTED: "interrupted (Ctrl-C, or SIGTERM or SIGHUP to the computation); "
        "one line on stderr. SIGTERM or SIGHUP to gradcalc itself ends it, and its "
        "computation, by that signal. For `gradcalc check`, also a KeyboardInterrupt the "
        "user's own code raised (kind `interrupted`; the line names the user's file and "
        "line, the user's own frames follow on stderr)",
        ExitCode.CLOSED_PIPE: "the reader of stdout went away (gradcalc piped into `head -1`): "
        "gradcalc ends at once, quietly, killed by SIGPIPE as `yes` is (shells show 141)",
    }
    lines = ["| code | meaning |", "| --- | --- |"]
    lines += [f"| {int(code)} | {meaning[code]} |" for code in ExitCode]
    return "\n".join(lines)


# Each generated section, the one page it lives on, and what builds it.
SECTIONS: dict[str, tuple[str, Callable[[], str]]] = {
    "functions": ("docs/expressions.md", functions_table),
    "exit-codes": ("docs/exit-codes.md", exit_codes_table),
}

EXAMPLE = re.compile(r"(<!-- BEGIN example: (.+?) -->\n).*?(<!-- END example -->)", re.S)
MARKER = re.compile(r"<!-- BEGIN (?!example: )(\S+) -->")


def pages(root: Path | None = None) -> list[str]:
    """The pages whose sections and examples are generated: README.md and every
    docs page but the two generated whole (repository-relative paths)."""
    root = root or ROOT
    found = sorted(p.relative_to(root).as_posix() for p in (root / "docs").glob("*.md"))
    return ["README.md"] + [p for p in found if p not in (CLI_PAGE, BENCHMARK_PAGE)]


def run_example(command: str) -> str:
    """Run a documented example in-process, as a terminal 80 columns wide without colour."""
    import shlex

    from typer.testing import CliRunner

    from gradcalc.cli import app

    words = shlex.split(command)
    assert words[0] == "gradcalc", command
    with contextlib.chdir(ROOT):  # examples name files under examples/
        result = CliRunner().invoke(app, words[1:], env=EXAMPLE_ENV)
    output = "\n".join(line.rstrip() for line in (result.stdout + result.stderr).splitlines())
    return f"```console\n$ {command}\n{output}\n```\n"


def render(text: str, page: str = "README.md") -> str:
    """`text` (the page `page`) with its examples rerun and its sections rebuilt."""
    text = EXAMPLE.sub(lambda m: m.group(1) + run_example(m.group(2)) + m.group(3), text)
    for name in MARKER.findall(text):
        if name not in SECTIONS:
            raise SystemExit(f"{page}: unknown generated section {name!r}")
    for name, (home, build) in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            if page == home:
                raise SystemExit(f"{page} has no section {name}")
            continue
        body = build()
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


def help_text(args: list[str]) -> str:
    """`gradcalc ARGS --help` as plain text, 100 columns wide, no trailing blanks."""
    from typer.testing import CliRunner

    from gradcalc.cli import app

    result = CliRunner().invoke(app, [*args, "--help"], env=HELP_ENV, prog_name="gradcalc")
    if result.exit_code != 0:
        raise SystemExit(f"gradcalc {' '.join(args)} --help exited {result.exit_code}")
    return "\n".join(line.rstrip() for line in result.stdout.splitlines()).strip("\n")


def commands() -> list[str]:
    """The CLI's visible commands, in the order its help lists them."""
    import typer.main

    from gradcalc.cli import app

    group = typer.main.get_command(app)
    context = group.make_context("gradcalc", [], resilient_parsing=True)
    return [
        name for name in group.list_commands(context) if not group.get_command(context, name).hidden
    ]


def cli_reference() -> str:
    """docs/cli.md: the root's help, then each command's."""
    names = commands()
    index = " · ".join(f"[`{name}`](#gradcalc-{name})" for name in names)
    parts = [
        "# Command-line reference",
        "",
        "<!-- generated by scripts/gen_docs.py from the CLI's --help; do not edit -->",
        "",
        "Every command's `--help`, exactly as gradcalc prints it 100 columns wide without",
        "colour (`NO_COLOR=1 COLUMNS=100 gradcalc COMMAND --help`); `-h` is the same as",
        "`--help`. After changing a command or an option, regenerate this page with",
        "`python scripts/gen_docs.py cli`; a test fails while it is stale. What the options",
        "do, with examples and their real output: [the guide](README.md).",
        "",
        f"Commands: {index}.",
        "",
        "## gradcalc",
        "",
        "```text",
        help_text([]),
        "```",
    ]
    for name in names:
        parts += ["", f"## gradcalc {name}", "", "```text", help_text([name]), "```"]
    return "\n".join(parts) + "\n"


def wanted(parts: list[str]) -> dict[str, str]:
    """{repository-relative path: the text it should have} for the parts asked."""
    out = {}
    if "pages" in parts:
        for page in pages():
            out[page] = render((ROOT / page).read_text(), page)
        for name, (home, _) in SECTIONS.items():
            if home not in out:
                raise SystemExit(f"{home}, home of the section {name}, is missing")
    if "cli" in parts:
        out[CLI_PAGE] = cli_reference()
    return out


def stale(parts: list[str]) -> list[str]:
    """The files of `parts` whose text is not what the code makes of it now."""
    stale_paths = []
    for path, text in wanted(parts).items():
        file = ROOT / path
        if not file.exists() or file.read_text() != text:
            stale_paths.append(path)
    return stale_paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", metavar="pages|cli", help="default: both")
    parser.add_argument("--check", action="store_true", help="exit 1 if any part is stale")
    options = parser.parse_args(argv)
    parts = options.parts or ["pages", "cli"]
    for part in parts:
        if part not in ("pages", "cli"):
            parser.error(f"unknown part {part!r}: pages or cli")
    if options.check:
        paths = stale(parts)
        for path in paths:
            print(f"{path} is stale: run python scripts/gen_docs.py", file=sys.stderr)
        return 1 if paths else 0
    for path, text in wanted(parts).items():
        (ROOT / path).parent.mkdir(exist_ok=True)
        (ROOT / path).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
