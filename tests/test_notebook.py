"""The example notebook runs top to bottom (nbclient, a real kernel) and its
outputs carry the seed notebook's numbers."""

import json
import sys
from pathlib import Path

import pytest
from conftest import HANG_GUARD_SECONDS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "notebook-lessons.ipynb"


@pytest.mark.slow
def test_example_notebook_runs_and_shows_the_notebooks_numbers(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # A kernel spec for this very interpreter (the default one runs whatever
    # "python" is first on PATH).
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=HANG_GUARD_SECONDS, kernel_name="python3").execute()
    # Each result displays once, as the cell's result: the Rich console that
    # records it must not display it by itself as well (it did, twice a cell).
    kinds = [[o["output_type"] for o in c.get("outputs", [])] for c in notebook.cells]
    assert all("display_data" not in cell for cell in kinds), kinds
    assert all(cell.count("execute_result") <= 1 for cell in kinds), kinds
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(str(v) for v in output.get("data", {}).values())
    shown = "\n".join(texts)
    assert "loss 6.7012  w.grad 6.6918  b.grad 0.9988" in shown
    assert "[0.6667, 1.3333, 2.0]" in shown
    assert "[4.0, 8.0]" in shown
    assert "SinBackward0" in shown
    assert "agree" in shown
    assert "[1.0, -2.0, 12.0] ['agree', 'agree', 'agree']" in shown  # gradcalc.points: 2xy
