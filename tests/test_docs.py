"""Generated documentation must not drift from the code."""

import datetime
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from conftest import HANG_GUARD_SECONDS, ROOT

from gradcalc.cli import app

GENERATOR = ROOT / "scripts" / "gen_docs.py"


def load(name, path):
    """A script as a module (registered first: its dataclasses look it up)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gen_docs = load("gen_docs", GENERATOR)
benchmark = load("benchmark_run", ROOT / "benchmarks" / "run.py")


# --- the pages' generated sections and examples ------------------------------


@pytest.mark.parametrize("page", gen_docs.pages())
def test_page_is_fresh(page):
    """A page's generated sections (the function and exit-code tables, the
    examples' output) are what scripts/gen_docs.py makes of them now: run in
    this process, as the script runs its examples in its own."""
    current = (ROOT / page).read_text()
    assert gen_docs.render(current, page) == current, f"{page} is stale: run scripts/gen_docs.py"


def test_readme_quick_start_is_two_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- quick-start -->")[1].split("<!-- /quick-start -->")[0]
    commands = [line for line in block.splitlines() if line and not line.startswith("```")]
    assert len(commands) == 2
    assert 'gradcalc diff "sin(x**2)" --at 3' in commands[0]
    assert "pytest" in commands[1]


def shell_examples():
    """(page, command, shown output) of every hand-written console example
    (outside the generated ones) whose command is a pipeline."""
    found = []
    for page in gen_docs.pages():
        text = gen_docs.EXAMPLE.sub("", (ROOT / page).read_text())
        for block in re.findall(r"^```console\n(.*?)^```", text, re.M | re.S):
            first, *shown = block.splitlines()
            if first.startswith("$ ") and "|" in first:
                found.append((page, first[2:], shown))
    return found


SHELL_EXAMPLES = shell_examples()


def test_shell_examples_are_found():
    pages = {page for page, _, _ in SHELL_EXAMPLES}
    assert {"README.md", "docs/repl.md", "docs/plots.md", "docs/vectors.md"} <= pages


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize(
    ("page", "command", "shown"),
    SHELL_EXAMPLES,
    ids=[f"{p}:{c[:30]}" for p, c, _ in SHELL_EXAMPLES],
)
def test_shell_example_prints_what_the_page_shows(page, command, shown):
    """Run for real, gradcalc as this Python's `-m gradcalc`, from the top of
    the checkout: the output is what the page shows."""
    gradcalc = f"{shlex.quote(sys.executable)} -m gradcalc"
    runnable = re.sub(r"(^|\|\s*)gradcalc\b", lambda m: m.group(1) + gradcalc, command)
    assert runnable != command
    process = subprocess.run(
        ["bash", "-o", "pipefail", "-c", runnable],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=HANG_GUARD_SECONDS,
    )
    assert process.stdout.splitlines() == shown, process.stderr


# --- docs/cli.md, the --help of every command ---------------------------------


def live_commands():
    """{command: option spellings} straight from Click; the root is under ""."""
    group = typer.main.get_command(app)
    ctx = group.make_context("gradcalc", [], resilient_parsing=True)

    def spellings(command, context):
        return {
            name
            for p in command.get_params(context)
            if p.param_type_name == "option" and not p.hidden
            for name in p.opts + p.secondary_opts
        }

    tree = {"": spellings(group, ctx)}
    for name, sub in group.commands.items():
        if not sub.hidden:
            context = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
            tree[name] = spellings(sub, context)
    return tree


def cli_sections():
    """{command: its help text} as docs/cli.md shows them; the root under ""."""
    text = (ROOT / gen_docs.CLI_PAGE).read_text()
    found = re.findall(r"^## gradcalc ?(\S*)\n\n```text\n(.*?)^```", text, re.M | re.S)
    return dict(found)


def test_cli_reference_is_fresh():
    current = (ROOT / gen_docs.CLI_PAGE).read_text()
    assert gen_docs.cli_reference() == current, "docs/cli.md is stale: run scripts/gen_docs.py cli"


@pytest.mark.parametrize("seed", ["0", "1"])
def test_cli_reference_check_passes_as_a_script(seed):
    """As a script, in a fresh process, under two hash seeds: set ordering
    must not leak into the page."""
    env = {**os.environ, "PYTHONHASHSEED": seed}
    process = subprocess.run(
        [sys.executable, str(GENERATOR), "--check", "cli"], capture_output=True, text=True, env=env
    )
    assert process.returncode == 0, process.stderr


def test_cli_reference_has_every_command_and_option():
    """Read against Click's own tree, not the generator's list: a command
    missing from the page, or an option missing from its command's help."""
    sections = cli_sections()
    live = live_commands()
    assert sorted(sections) == sorted(live)
    for name, options in live.items():
        help_text = sections[name]
        assert f"Usage: gradcalc {name}".rstrip() in help_text, name
        for option in options:
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text), (name, option)
        assert "\x1b[" not in help_text
        assert max(len(line) for line in help_text.splitlines()) <= 100


def test_check_reports_a_stale_cli_reference(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    page = tmp_path / gen_docs.CLI_PAGE
    page.write_text((ROOT / gen_docs.CLI_PAGE).read_text())
    monkeypatch.setattr(gen_docs, "ROOT", tmp_path)
    assert gen_docs.stale(["cli"]) == []
    page.write_text(page.read_text().replace("--wrt", "--with-respect-to", 1))
    assert gen_docs.stale(["cli"]) == [gen_docs.CLI_PAGE]
    page.unlink()
    assert gen_docs.stale(["cli"]) == [gen_docs.CLI_PAGE]


# --- docs/benchmarks.md, from benchmarks/results.json --------------------------


def recorded():
    return json.loads(benchmark.RESULTS.read_text())


def test_benchmark_page_is_fresh():
    """The page is what benchmarks/run.py renders from the recorded results."""
    current = benchmark.PAGE.read_text()
    assert benchmark.render(recorded()) == current, (
        "docs/benchmarks.md is stale: run python benchmarks/run.py --render"
    )


def test_benchmark_check_flag_reports_freshness():
    process = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 0, process.stdout + process.stderr


def test_benchmark_results_have_a_row_for_every_benchmark():
    """One recorded row per row the benchmark defines (qalc's included), in its
    order, with the baseline and target the benchmark gives it now."""
    planned = benchmark.plan(Path("work"), qalc="qalc")
    rows = recorded()["rows"]
    assert [(r["case"], r["label"]) for r in rows] == [(b.case, b.label) for b in planned]
    for row, bench in zip(rows, planned):
        assert row["against"] == bench.against, row["label"]
        assert row["target"] == bench.target, row["label"]
        assert row["memory_target_mb"] == bench.memory, row["label"]


def test_benchmark_results_are_measurements():
    """Every row has a median (or ran past the limit), min ≤ median ≤ max where
    recorded, a peak, and a ratio only where it has a baseline; the run says
    when and where it was measured."""
    results = recorded()
    datetime.date.fromisoformat(results["measured"])
    assert results["command"].startswith("python benchmarks/run.py")
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["python"] and machine["torch"]
    for row in results["rows"]:
        seconds = row["seconds"]
        if row["timed_out"]:
            assert seconds["median"] is None, row["label"]
        else:
            assert seconds["median"] > 0, row["label"]
            known = [seconds[k] for k in ("min", "median", "max") if seconds[k] is not None]
            assert known == sorted(known), row["label"]
        assert row["peak_mb"] > 0, row["label"]
        if row["ratio"] is not None:
            assert row["against"] and row["ratio"] > 0, row["label"]
