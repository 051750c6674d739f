"""The static completion scripts: fresh, loadable, and right in each shell."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer.main
from conftest import Tmux

from gradcalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "gradcalc" / "completions"
BASH = SCRIPTS / "gradcalc.bash"
ZSH = SCRIPTS / "_gradcalc"
FISH = SCRIPTS / "gradcalc.fish"
GENERATOR = ROOT / "scripts" / "gen_completions.py"

# Source bash-completion when installed (as users have it), then our script, then
# call whatever function `complete -p` registered, as bash does on Tab.
BASH_DRIVER = r"""
[ -f /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion
. "$2"
fn=$(complete -p gradcalc); fn=${fn#*-F }; fn=${fn%% *}
COMP_LINE=$1; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
"$fn" gradcalc "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"""


def live_tree():
    """{subcommand: option spellings} straight from Click, help option included;
    the root is under ""."""
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
            tree[name] = spellings(
                sub, sub.make_context(name, [], parent=ctx, resilient_parsing=True)
            )
    return tree


# --- freshness -------------------------------------------------------------


@pytest.mark.parametrize("seed", ["0", "1"])
def test_scripts_are_fresh_and_deterministic(seed):
    """Two hash seeds: set ordering must not leak into the output."""
    env = {**os.environ, "PYTHONHASHSEED": seed}
    process = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, env=env
    )
    assert process.returncode == 0, process.stderr


def test_generator_imports_neither_torch_nor_sympy():
    """Reading the tree imports the CLI, which must stay light."""
    code = (
        "import runpy, sys\n"
        "sys.argv = ['gen_completions.py', '--check']\n"
        f"try: runpy.run_path({str(GENERATOR)!r}, run_name='__main__')\n"
        "except SystemExit: pass\n"
        "print(sorted({'torch', 'sympy'} & set(sys.modules)))"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert process.stdout.strip() == "[]", process.stderr


# --- every subcommand and option is in every script ------------------------


def bash_mentions(text):
    """Root options, subcommand names, and each subcommand's -W option list."""
    root, names = re.search(
        r"then _gradcalc_reply -W '([^']*)'; else _gradcalc_reply -W "
        r"'([^']*)'",
        text,
    ).groups()
    found = {"": set(root.split())}
    for name in names.split():
        # (A positional's choices end in "; return ;;", the options in " ;;".)
        line = re.search(rf"^\s+{re.escape(name)}\) _gradcalc_reply -W '([^']*)' ;;$", text, re.M)
        found[name] = set(line.group(1).split()) if line else set()
    return found


def zsh_mentions(text):
    """Option specs inside _gradcalc (root) and each _gradcalc_<name> function."""
    names = re.findall(r"^    '([\w-]+):", text, re.M)
    found = {}
    for name, function in [("", "_gradcalc")] + [(n, f"_gradcalc_{n}") for n in names]:
        body = re.search(rf"^{function}\(\) {{\n(.*?)^}}", text, re.M | re.S)
        specs = (
            re.findall(r"^\s+'(?:\*|\([^)]*\))?(-[\w-]+)\[", body.group(1), re.M) if body else []
        )
        found[name] = set(specs)
    return found


def fish_mentions(text):
    """-l/-s/-o spellings on the root's lines and on each subcommand's lines."""
    found = {}
    for line in text.splitlines():
        condition = re.search(
            r"-n (?:__fish_use_subcommand|'__fish_seen_subcommand_from "
            r"([\w-]+)')",
            line,
        )
        if not condition:
            continue
        if re.search(r"__fish_use_subcommand -a ([\w-]+)", line):
            found.setdefault(line.split(" -a ")[1].split()[0], set())
            continue
        spelled = {
            ("--" if flag == "l" else "-") + name
            for flag, name in re.findall(r" -([lso]) ([\w-]+)", line)
        }
        found.setdefault(condition.group(1) or "", set()).update(spelled)
    return found


@pytest.mark.parametrize(
    "script, mentions",
    [(BASH, bash_mentions), (ZSH, zsh_mentions), (FISH, fish_mentions)],
    ids=["bash", "zsh", "fish"],
)
def test_scripts_mention_every_subcommand_and_option(script, mentions):
    found = mentions(script.read_text(encoding="utf-8"))
    for command, options in live_tree().items():
        assert command in found, f"{script.name}: no subcommand {command!r}"
        missing = options - found[command]
        assert not missing, f"{script.name}: {command or 'gradcalc'} lacks {sorted(missing)}"


# --- fish -----------------------------------------------------------------


def fish_complete(line):
    command = f"source {FISH}; complete -C {line!r}"
    process = subprocess.run(
        ["fish", "--no-config", "-c", command], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return [row.split("\t")[0] for row in process.stdout.splitlines()]


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
@pytest.mark.parametrize(
    "line, expected",
    [
        ("gradcalc di", {"diff"}),
        ("gradcalc per", {"perceptron"}),
        ("gradcalc diff x --d", {"--dtype"}),
        ("gradcalc diff x --dtype ", {"float64", "float32"}),
        ("gradcalc graph x -f ", {"tree", "dot", "mermaid", "json"}),
        ("gradcalc diff x --points comp", {"completions/"}),
    ],
)
def test_fish_completes(line, expected):
    assert expected <= set(fish_complete(line))


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_offers_no_files_for_an_expression():
    assert fish_complete("gradcalc diff comp") == []


# --- bash -----------------------------------------------------------------


def bash_complete(line, cwd=ROOT):
    process = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", BASH_DRIVER, "bash", line, str(BASH)],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    return [word for word in process.stdout.splitlines() if word]  # printf of () prints ""


@pytest.mark.parametrize(
    "line, expected",
    [
        ("gradcalc di", ["diff"]),
        ("gradcalc per", ["perceptron"]),
        ("gradcalc diff x --dt", ["--dtype"]),
        ("gradcalc diff x --di", ["--digits", "--direction"]),
        ("gradcalc graph x --format ", ["tree", "dot", "mermaid", "json"]),
        ("gradcalc perceptron --loss ", ["bce", "mse", "ce"]),
        ("gradcalc perceptron --epochs ", []),  # a number here, unlike diff's --steps flag
        ("gradcalc compl", ["completion"]),
    ],
)
def test_bash_completes(line, expected):
    assert bash_complete(line) == expected


def test_bash_completes_files_after_points(tmp_path):
    (tmp_path / "points.csv").write_text("x\n1\n")
    assert bash_complete("gradcalc diff x --points po", cwd=tmp_path) == ["points.csv"]


# --- zsh ------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
def test_zsh_script_parses():
    subprocess.run(["zsh", "-n", str(ZSH)], check=True)


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
def test_zsh_compinit_registers_gradcalc(tmp_path):
    script = (
        f"fpath=({SCRIPTS} $fpath); autoload -Uz compinit && compinit -u "
        "&& (( $+_comps[gradcalc] ))"
    )
    env = {**os.environ, "ZDOTDIR": str(tmp_path)}  # compinit's dump goes here, not $HOME
    subprocess.run(["zsh", "-f", "-c", script], check=True, env=env)


# --- values: each shell offers files, positional choices, a line per choice ---

LOSSES = {
    "bce": "binary cross-entropy with the notebook's clamp",
    "mse": "squared error",
    "ce": "softmax and cross-entropy over --classes K",
}


@pytest.mark.parametrize(
    "line, expected",
    [
        ("gradcalc completion ", ["bash", "zsh", "fish"]),
        ("gradcalc completion z", ["zsh"]),
        ("gradcalc completion bash ", []),  # one shell only
    ],
)
def test_bash_completes_the_shell_of_completion(line, expected):
    assert bash_complete(line) == expected


def test_bash_completes_files_after_plot_output(tmp_path):
    (tmp_path / "old-plot.svg").write_text("<svg/>")
    assert bash_complete("gradcalc plot 'sin(x)' --at 1 --output old", cwd=tmp_path) == [
        "old-plot.svg"
    ]
    assert bash_complete("gradcalc plot 'sin(x)' --at 1 -o old", cwd=tmp_path) == ["old-plot.svg"]


def fish_described(line, cwd=ROOT):
    command = f"source {FISH}; complete -C {line!r}"
    process = subprocess.run(
        ["fish", "--no-config", "-c", command], capture_output=True, text=True, check=True, cwd=cwd
    )
    return dict(
        row.split("\t", 1) if "\t" in row else (row, "") for row in process.stdout.splitlines()
    )


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_describes_each_value_on_its_own(tmp_path):
    assert fish_described("gradcalc perceptron --loss ") == LOSSES
    shells = fish_described("gradcalc completion ")
    assert shells == {s: f"the completion script for {s}" for s in ("bash", "zsh", "fish")}
    (tmp_path / "old-plot.svg").write_text("<svg/>")
    assert "old-plot.svg" in fish_described("gradcalc plot x --at 1 --output old", tmp_path)


def zsh_screen(tmp_path, line):
    """What zsh shows after `line` and Tab (compinit on our script, in tmux)."""
    setup = (
        f"fpath=({SCRIPTS} $fpath); autoload -Uz compinit && compinit -u; "
        "PS1='%% '; cd " + str(tmp_path) + "; clear"
    )
    with Tmux(f"env ZDOTDIR={tmp_path} zsh -f", 120, 20) as tmux:
        tmux.send(setup, "Enter")
        deadline = time.time() + 30
        while not tmux.screen().startswith("%") and time.time() < deadline:
            time.sleep(0.1)
        tmux.send(line, "Tab")
        previous, deadline = "", time.time() + 30
        while time.time() < deadline:  # until the menu has drawn and stays
            time.sleep(0.3)
            now = tmux.screen()
            if now == previous and now.count("\n") and len(now.strip().splitlines()) > 1:
                return now
            previous = now
        return tmux.screen()


@pytest.mark.skipif(not (shutil.which("zsh") and shutil.which("tmux")), reason="zsh, tmux")
@pytest.mark.slow
def test_zsh_menus_show_each_value_with_its_own_line(tmp_path):
    shown = zsh_screen(tmp_path, "gradcalc perceptron --loss ")
    for value, description in LOSSES.items():
        assert re.search(rf"^{value} +-- {re.escape(description)}$", shown, re.M), shown
    shown = zsh_screen(tmp_path, "gradcalc completion ")
    for shell in ("bash", "zsh", "fish"):
        assert re.search(rf"^{shell} +-- the completion script for {shell}$", shown, re.M), shown
    (tmp_path / "old-plot.svg").write_text("<svg/>")
    shown = zsh_screen(tmp_path, "gradcalc plot x --at 1 --output old")
    assert "% gradcalc plot x --at 1 --output old-plot.svg" in shown


def test_every_choice_has_its_own_line_of_help():
    """The one table the scripts read: a line for each value of each option."""
    from gradcalc.cli.choices import CHOICE_HELP, Shell
    from gradcalc.cli.options import DiffFormat, DType, GraphFormat, Loss

    for kind in (DType, Loss, DiffFormat, GraphFormat, Shell):
        helps = [CHOICE_HELP[member] for member in kind]
        assert len(set(helps)) == len(helps), kind
    assert {m.value: CHOICE_HELP[m] for m in Loss} == LOSSES
