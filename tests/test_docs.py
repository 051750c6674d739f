"""Generated documentation must not drift from the code."""

import subprocess
import sys

from conftest import ROOT


def test_readme_tables_are_fresh():
    process = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 0, process.stderr


def test_readme_quick_start_is_two_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- quick-start -->")[1].split("<!-- /quick-start -->")[0]
    commands = [line for line in block.splitlines() if line and not line.startswith("```")]
    assert len(commands) == 2
    assert 'gradcalc diff "sin(x**2)" --at 3' in commands[0]
    assert "pytest" in commands[1]
