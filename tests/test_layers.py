"""The import graph: layered (import-linter's contract in pyproject.toml,
run by .ci/run as `lint-imports`) and without a cycle, here."""

import grimp
import pytest


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("gradcalc", cache_dir=None)


def test_no_module_imports_one_that_imports_it_back(graph):
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported.startswith(importer + ".") or importer.startswith(imported + "."):
                continue  # a package and its own modules (its __init__ re-exports them)
            if imported != importer and graph.chain_exists(imported, importer):
                chain = graph.find_shortest_chain(imported, importer)
                cycles.append(" -> ".join([importer, *chain]))
    assert cycles == []


def test_the_repl_is_handed_the_app(graph):
    assert not graph.chain_exists("gradcalc.repl", "gradcalc.cli")
    assert not graph.chain_exists("gradcalc.session", "gradcalc.cli")


def test_the_library_never_imports_its_views(graph):
    for view in ("gradcalc.render", "gradcalc.jsonout", "gradcalc.cli"):
        for library in ("gradcalc.pointcheck", "gradcalc.vectors", "gradcalc.plotting"):
            assert not graph.chain_exists(library, view, as_packages=True), (library, view)


def test_every_module_has_a_layer(graph):
    """A module left out of the contract would escape it: each top-level
    module and package of gradcalc is named in one layer."""
    from pathlib import Path

    import tomllib

    config = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    (contract,) = config["tool"]["importlinter"]["contracts"]
    placed = [name.strip() for layer in contract["layers"] for name in layer.split(":")]
    assert len(placed) == len(set(placed))
    top = {m for m in graph.modules if m.count(".") == 1 and not m.endswith("__main__")}
    assert sorted(top - set(placed)) == []
