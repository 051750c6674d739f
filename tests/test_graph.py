"""The graph model against torch's own view, and its views."""

import math
import shutil
import subprocess

import pytest
from conftest import validate

from gradcalc.computation import build

RETAINED_GRAD_RTOL = 1e-12  # chain rule vs torch's retained .grad, float64

# Expressions whose every node is compared with torch's retained gradient.
TABLE = [
    ("sin(x**2)", ["3"]),
    ("x*x", ["3"]),
    ("exp(sin(x**2))", ["0.7"]),
    ("x*y + sin(y)", ["x=1,y=2"]),
    ("(x+1)*(x-2)/(x**2+1)", ["1.5"]),
    ("sigmoid(w*x + b)", ["w=0.5,x=2,b=-1"]),
    ("log(x, 2) + sqrt(x) - atan2(x, y)", ["x=3,y=0.5"]),
    ("mean(x**2)", ["x=[1,2,3]"]),
    ("sum(sin(x)*y)", ["x=[0.1,0.2],y=3"]),
    ("max(x, y, 1) + relu(x - y)", ["x=3,y=2"]),
    ("x**2*detach(x)", ["3"]),
    ("-x**3 + cbrt(x) + erf(x)", ["0.8"]),
]


@pytest.mark.parametrize("expression, at", TABLE)
def test_every_adjoint_matches_torchs_retained_grad(expression, at):
    graph = build(expression, at)
    assert graph.agree
    checked = 0
    for node in graph.nodes:
        if node.kind == "constant" or node.detached or node.torch_grad is None:
            continue
        mine = node.adjoint if isinstance(node.adjoint, list) else [node.adjoint]
        theirs = node.torch_grad if isinstance(node.torch_grad, list) else [node.torch_grad]
        for a, t in zip(mine, theirs):
            assert a == pytest.approx(t, rel=RETAINED_GRAD_RTOL, abs=1e-15)
        checked += 1
    assert checked >= 2


def test_sin_of_square_names_torchs_grad_fns():
    graph = build("sin(x**2)", ["3"])
    by_expression = {n.expression: n for n in graph.nodes}
    assert by_expression["sin(x**2)"].grad_fn == "SinBackward0"
    assert by_expression["x**2"].grad_fn == "PowBackward0"
    assert by_expression["x"].grad_fn == "AccumulateGrad"
    assert by_expression["x"].adjoint == pytest.approx(-5.466781571308061, rel=1e-15)
    assert by_expression["x**2"].adjoint == pytest.approx(math.cos(9), rel=1e-15)


def test_shared_leaf_sums_two_paths():
    graph = build("x*x", ["3"])
    leaf = next(n for n in graph.nodes if n.kind == "variable")
    contributions = [graph.edges[e].contribution for e in leaf.consumers]
    assert contributions == [3.0, 3.0]
    assert leaf.adjoint == 6.0 and leaf.torch_grad == 6.0


def test_detach_branch_is_marked_and_carries_nothing():
    graph = build("x**2*detach(x)", ["3"])
    detached = next(n for n in graph.nodes if n.op == "detach")
    assert detached.detached and detached.grad_fn is None
    assert next(n for n in graph.nodes if n.kind == "variable").adjoint == 18.0


def test_graph_json(cli):
    run = cli("graph", "sin(x**2)", "--at", "3", "--format", "json")
    assert run.exit_code == 0
    document = run.json
    validate(document, "graph.schema.json")
    grad_fns = {n["grad_fn"] for n in document["nodes"]}
    assert {"SinBackward0", "PowBackward0", "AccumulateGrad"} <= grad_fns
    leaf = next(n for n in document["nodes"] if n["kind"] == "variable")
    assert leaf["gradient"]["chain_rule"] == pytest.approx(-5.466781571308061, rel=1e-15)
    assert leaf["gradient"]["torch"] == pytest.approx(-5.466781571308061, rel=1e-15)
    assert len(document["edges"]) == 3


def test_graph_tree_snapshot(cli):
    run = cli("graph", "x*x", "--at", "3", env={"NO_COLOR": "1", "COLUMNS": "120"})
    assert run.exit_code == 0
    assert run.stdout == (
        "f = x*x = 9  MulBackward0  ∂f/∂· = 1  torch .grad 1 ✓\n"
        "├── [∂(a*b)/∂a = b = 3, passes 3] x = 3  AccumulateGrad  ∂f/∂· = 6  torch .grad 6 ✓\n"
        "└── [∂(a*b)/∂b = a = 3, passes 3] x = 3  AccumulateGrad  ∂f/∂· = 6  torch .grad 6 ✓\n"
        "x.grad = 3 + 3 = 6\n"
        "✓ every node's gradient matches torch's retained .grad\n"
    )


def test_graph_tree_snapshot_sin_square(cli):
    run = cli("graph", "sin(x**2)", "--at", "3", env={"NO_COLOR": "1", "COLUMNS": "160"})
    assert run.stdout.splitlines()[:4] == [
        "f = sin(x**2) = 0.4121184852  SinBackward0  ∂f/∂· = 1  torch .grad 1 ✓",
        "└── [∂sin(u)/∂u = cos(u) = -0.9111302619, passes -0.9111302619] x**2 = 9  "
        "PowBackward0  ∂f/∂· = -0.9111302619  torch .grad -0.9111302619 ✓",
        "    ├── [∂(u**2)/∂u = 2*u = 6, passes -5.466781571] x = 3  AccumulateGrad  "
        "∂f/∂· = -5.466781571  torch .grad -5.466781571 ✓",
        "    └── 2  constant",
    ]


def test_mermaid_starts_with_flowchart(cli):
    run = cli("graph", "sin(x**2)", "--at", "3", "--format", "mermaid")
    assert run.stdout.startswith("flowchart BT\n")
    assert '-->|"∂sin(u)/∂u = cos(u) = -0.9111302619"|' in run.stdout


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_dot_renders_with_graphviz(cli, tmp_path):
    run = cli("graph", "x*y + sin(y)", "--at", "x=1,y=2", "--format", "dot")
    assert run.stdout.startswith("digraph gradcalc {")
    rendered = subprocess.run(
        ["dot", "-Tsvg"], input=run.stdout, capture_output=True, text=True, check=True
    )
    assert "<svg" in rendered.stdout and "SinBackward0" in rendered.stdout


def test_steps_write_out_the_chain_rule(cli):
    run = cli("diff", "sin(x**2)", "--at", "3", "--steps")
    assert run.exit_code == 0
    text = run.stdout
    assert "u = x**2 = 9" in text
    assert "∂z/∂u = cos(u) = cos(9) = -0.9111302619" in text
    assert "∂u/∂x = 2*x = 6" in text
    assert "= (-0.9111302619) · 6" in text
    assert "= -5.466781571" in text


def test_steps_sum_two_paths(cli):
    run = cli("diff", "x*x", "--at", "3", "--steps")
    assert "= 3 + 3" in run.stdout and "= 6" in run.stdout


def test_diff_graph_option_shows_the_tree(cli):
    run = cli("diff", "sin(x**2)", "--at", "3", "--graph")
    assert "SinBackward0" in run.stdout and "AccumulateGrad" in run.stdout


def test_large_expression_tree_is_elided_and_full_shows_all(cli):
    deep = "sin(" * 30 + "x" + ")" * 30
    short = cli("graph", deep, "--at", "0.5")
    assert "more below (use --full)" in short.stdout
    full = cli("graph", deep, "--at", "0.5", "--full", env={"NO_COLOR": "1", "COLUMNS": "2000"})
    assert "more below" not in full.stdout
    assert full.stdout.count("SinBackward0") == 30


def test_graph_undefined_point_exits_3(cli):
    run = cli("graph", "log(x)", "--at", "0", "--json")
    assert run.exit_code == 3
    validate(run.json, "error.schema.json")


@pytest.mark.parametrize(
    "args, shown",
    [
        (["diff", "sin(x**2)", "--at", "3", "--steps", "--graph"], ["-0.9111", "-5.467", "0.4121"]),
        (["graph", "sin(x**2)", "--at", "3"], ["-0.9111", "-5.467", "0.4121"]),
        (["graph", "sin(x**2)", "--at", "3", "-f", "dot"], ["-0.9111", "-5.467", "0.4121"]),
        (["graph", "sin(x**2)", "--at", "3", "-f", "mermaid"], ["-0.9111", "-5.467", "0.4121"]),
    ],
)
def test_one_precision_rule_everywhere(cli, args, shown):
    """--digits N: N significant digits in the table, the steps, the tree,
    DOT and Mermaid alike; never a longer form of the same number."""
    run = cli(*args, "--digits", "4", env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert run.exit_code == 0, run.stderr
    for number in shown:
        assert number in run.stdout
    for longer in ("-0.91113", "-5.4668", "0.41212"):
        assert longer not in run.stdout


@pytest.mark.parametrize(
    "expression, by_torch, kind",
    [
        ("sqrt(x)", lambda t, x: t.sqrt(x), "infinite"),
        ("sqrt(x**4)", lambda t, x: t.sqrt(x**4), "NaN"),
        ("x*sqrt(x)", lambda t, x: x * t.sqrt(x), "NaN"),
    ],
)
def test_the_graph_says_whether_autograds_gradient_turns_nan_or_infinite(
    expression, by_torch, kind, cli
):
    # torch's own .grad at 0 decides: sqrt(x) gives inf (1·∞), sqrt(x**4) nan (0·∞).
    import math

    import torch

    x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    by_torch(torch, x).backward()
    assert {"NaN": math.isnan, "infinite": math.isinf}[kind](x.grad.item())
    run = cli("graph", expression, "--at", "0", env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert f"torch's gradient becomes {kind} at" in run.stdout
    assert ("(0·∞)" in run.stdout) == (kind == "NaN")


# detach(u) passes no gradient: the derivative through it is 0, by hand.
DETACHED = [
    ("x + detach(x)^2", {"x": 1.0}, {"x": 1.0}),
    ("sin(detach(x)^2) + x*detach(x)", {"x": 0.5}, {"x": 0.5}),
    ("x*y + detach(y)^3", {"x": 1.0, "y": 2.0}, {"x": 2.0, "y": 1.0}),
]


@pytest.mark.parametrize(("expression", "point", "by_hand"), DETACHED)
def test_a_node_torch_does_not_track_is_not_compared(cli, expression, point, by_hand):
    """A node computed from detached values only has no grad_fn and no .grad:
    the graph agrees, and its exit code says what its status says."""
    at = ",".join(f"{name}={value}" for name, value in point.items())
    run = cli("graph", expression, "--at", at, "--format", "json")
    document = run.json
    assert (document["status"], document["agree"], run.exit_code) == ("agree", True, 0)
    leaves = {n["label"]: n["gradient"] for n in document["nodes"] if n["kind"] == "variable"}
    for name, gradient in by_hand.items():
        assert leaves[name]["chain_rule"] == pytest.approx(gradient, rel=1e-12)
        assert leaves[name]["torch"] == pytest.approx(gradient, rel=1e-12)
