"""Whole outputs, pinned: each view exactly as a person reads it (no colour,
100 columns). A change to a view shows here as a diff of the whole screen;
when the change is meant, regenerate with

    GRADCALC_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshots.py

and review the diff of tests/snapshots/ before committing it."""

import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"
CASES = {
    "diff-sin": ["diff", "sin(x**2)", "--at", "3"],
    "diff-kink": ["diff", "abs(x)", "--at", "0"],
    "diff-vector": ["diff", "mean(x**2)", "--at", "x=[1,2,3]"],
    "diff-hessian-saddle": ["diff", "x^2 - y^2 + x*y", "--at", "x=0,y=0", "--order", "2"],
    "diff-steps": ["diff", "sin(x**2)", "--at", "3", "--steps"],
    "diff-autograd-nan": ["diff", "sqrt(x^4)", "--at", "0"],
    "diff-near-kink": ["diff", "relu(x)", "--at", "-1e-12"],
    "graph-tree": ["graph", "x*x + sin(x)", "--at", "2"],
    "graph-dot": ["graph", "x*y", "--at", "x=2,y=3", "--format", "dot"],
    "perceptron": ["perceptron", "--x", "6.7", "--y", "0"],
    "diff-jacobian": ["diff", "softmax(x)", "--at", "x=[1,2,3]"],
    "diff-norm-nan": ["diff", "norm(x)", "--at", "x=[0,0]"],
    "graph-logsumexp": ["graph", "logsumexp(x) + x[0]", "--at", "x=[1,2]"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_whole_output(cli, name):
    run = cli(*CASES[name], env={"NO_COLOR": "1", "COLUMNS": "100"})
    assert run.exception is None or isinstance(run.exception, SystemExit)
    path = SNAPSHOTS / f"{name}.txt"
    text = f"$ gradcalc {' '.join(CASES[name])}\n(exit {run.exit_code})\n{run.stdout}"
    if os.environ.get("GRADCALC_UPDATE_SNAPSHOTS"):
        path.write_text(text)
    assert text == path.read_text()
