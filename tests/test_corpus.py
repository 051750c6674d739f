"""The behaviour corpus: every command line of tests/corpus/commands.txt, with
its stdout, stderr and exit status pinned in tests/corpus/cases/. It is the
safety net of a restructuring: a change that moves code changes none of these
bytes. When a change of output is meant, regenerate with

    GRADCALC_UPDATE_CORPUS=1 python -m pytest tests/test_corpus.py -n 0

and commit the diff of tests/corpus/cases/ on its own, explained."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import HANG_GUARD_SECONDS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "corpus"
CASES = CORPUS / "cases"
UPDATE = bool(os.environ.get("GRADCALC_UPDATE_CORPUS"))
BASE_ENV = {"NO_COLOR": "1", "COLUMNS": "100"}
ASSIGNMENT = re.compile(r"^[A-Z_]+=")


@dataclass(frozen=True)
class Case:
    line: str
    process: bool = False
    env: dict = field(default_factory=dict)
    args: tuple = ()
    stdin: str | None = None
    api: str | None = None

    @property
    def name(self) -> str:
        digest = hashlib.sha1(self.line.encode()).hexdigest()[:10]
        kind = "api" if self.api else (self.args[0] if self.args else "root")
        kind = re.sub(r"[^a-z]", "", kind) or "root"
        return f"{kind}-{digest}"


def _case(line: str) -> Case:
    if line.startswith("api:"):
        return Case(line=line, api=line[4:].strip())
    command, _, stdin = line.partition(" <<< ")
    words = shlex.split(command)
    process = words[0] == "process"
    if process:
        words = words[1:]
    env = {}
    while ASSIGNMENT.match(words[0]):
        name, _, value = words[0].partition("=")
        env[name] = value
        words = words[1:]
    assert words[0] == "gradcalc", line
    text = None
    if stdin:
        (quoted,) = shlex.split(stdin)
        text = quoted.replace("\\n", "\n")
    return Case(line=line, process=process, env=env, args=tuple(words[1:]), stdin=text)


def _cases() -> list[Case]:
    lines = (CORPUS / "commands.txt").read_text().splitlines()
    return [_case(line.strip()) for line in lines if line.strip() and not line.startswith("#")]


ALL = _cases()


def _in_process(case: Case) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from gradcalc.cli import app

    result = CliRunner().invoke(app, list(case.args), input=case.stdin, env=BASE_ENV | case.env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _in_subprocess(case: Case) -> tuple[int, str, str]:
    environment = dict(os.environ) | BASE_ENV | case.env
    run = subprocess.run(
        [sys.executable, "-m", "gradcalc", *case.args],
        input=case.stdin or "",
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=HANG_GUARD_SECONDS,
    )
    return run.returncode, run.stdout, run.stderr


def _api(case: Case) -> tuple[int, str, str]:
    import gradcalc

    try:
        value = eval(case.api, {"gradcalc": gradcalc})  # the corpus's own lines only
    except Exception as error:  # pinned: which error, and what it says
        return 1, "", f"{type(error).__name__}: {error}\n"
    return 0, json.dumps(value, indent=1) + "\n", ""


def _observe(case: Case) -> str:
    if case.api:
        code, out, err = _api(case)
    elif case.process:
        code, out, err = _in_subprocess(case)
    else:
        code, out, err = _in_process(case)
    return f"$ {case.line}\n(exit {code})\n--- stdout\n{out}--- stderr\n{err}"


def test_names_are_unique():
    names = [case.name for case in ALL]
    assert len(names) == len(set(names))
    assert len(ALL) >= 200


@pytest.mark.parametrize("case", ALL, ids=[case.name for case in ALL])
def test_corpus(case, monkeypatch):
    monkeypatch.chdir(ROOT)
    seen = _observe(case)
    path = CASES / f"{case.name}.txt"
    if UPDATE:
        CASES.mkdir(exist_ok=True)
        path.write_text(seen)
    assert seen == path.read_text()


def test_no_stale_case_files():
    names = {f"{case.name}.txt" for case in ALL}
    stale = sorted(path.name for path in CASES.glob("*.txt") if path.name not in names)
    if UPDATE:
        for name in stale:
            (CASES / name).unlink()
        stale = []
    assert stale == []
