"""Generated documentation must not drift from the code."""

from conftest import ROOT


def test_readme_tables_are_fresh():
    """README's generated sections (the function and exit-code tables, the
    examples' output) are what scripts/gen_docs.py makes of them now: run in
    this process, as the script runs its examples in its own."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    gen_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_docs)
    current = (ROOT / "README.md").read_text()
    assert gen_docs.render(current) == current, "README.md is stale: run scripts/gen_docs.py"


def test_readme_quick_start_is_two_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- quick-start -->")[1].split("<!-- /quick-start -->")[0]
    commands = [line for line in block.splitlines() if line and not line.startswith("```")]
    assert len(commands) == 2
    assert 'gradcalc diff "sin(x**2)" --at 3' in commands[0]
    assert "pytest" in commands[1]
