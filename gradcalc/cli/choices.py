"""A line of help for each value of each option with a fixed set of them,
which completion menus show beside the value (fish, zsh; the REPL offers the
values). scripts/gen_completions.py refuses a choice without a line here."""

from __future__ import annotations

from enum import Enum

from .options import DiffFormat, DType, EmitTarget, GraphFormat, Loss, PointsFormat


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


CHOICE_HELP: dict[Enum, str] = {
    DType.float64: "double precision: a tight cross-check",
    DType.float32: "single precision, PyTorch's default",
    Loss.bce: "binary cross-entropy with the notebook's clamp",
    Loss.mse: "squared error",
    Loss.ce: "softmax and cross-entropy over --classes K",
    DiffFormat.text: "the table (default)",
    DiffFormat.markdown: "Markdown with $...$ math",
    DiffFormat.latex: "LaTeX: an align* environment",
    DiffFormat.csv: "with --points: a header, then a line a point",
    DiffFormat.parquet: "with --points and --output FILE: the CSV's columns as Parquet",
    PointsFormat.auto: "by the file's extension (default)",
    PointsFormat.csv: "CSV with a header of variable names",
    PointsFormat.jsonl: "JSON Lines: one object a point",
    PointsFormat.parquet: "a Parquet file",
    PointsFormat.arrow: "an Arrow IPC file or stream",
    GraphFormat.tree: "the tree in the terminal (default)",
    GraphFormat.dot: "Graphviz DOT",
    GraphFormat.mermaid: "Mermaid, for Markdown",
    GraphFormat.json: "the JSON document (as --json)",
    Shell.bash: "the completion script for bash",
    Shell.zsh: "the completion script for zsh",
    Shell.fish: "the completion script for fish",
    EmitTarget.numpy: "a NumPy function",
    EmitTarget.torch: "a torch function (--function: an autograd.Function)",
    EmitTarget.jax: "a JAX function",
    EmitTarget.c: "C99 with math.h",
    EmitTarget.latex: "LaTeX: an align* environment",
}
