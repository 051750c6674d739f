"""Which of diff's flags go together, in one place: the rules that refuse a
combination, and what a combination computes with (its engines)."""

from __future__ import annotations

from typing import NamedTuple

from ..errors import UsageError
from .argv import choice_value

ONE_POINT_FORMATS = ("markdown", "latex")  # --format values that write one point


class DiffFlags(NamedTuple):
    """diff's options as the rules read them: what was asked, not the values.
    (A named tuple: immutable, and defined in a quarter of a frozen
    dataclass's time at every start-up.)"""

    expression_from_stdin: bool
    points: str | None  # --points FILE ('-': stdin)
    at: bool
    order: int
    form: str  # --format
    json: bool
    steps: bool
    graph: bool
    plot: bool
    no_autograd: bool
    explain: bool
    answer: bool
    pretty: bool
    implicit: bool = False  # --implicit NAME: EXPR is an equation
    certify: bool = False
    direction: bool = False  # --direction VECTOR given
    unnormalized: bool = False
    output: str | None = None  # --output FILE ("-": stdout)
    input_format: str = "auto"

    @classmethod
    def read(cls, params: dict) -> DiffFlags:
        """From Click's parsed options (the command's and the start-up's)."""
        return cls(
            expression_from_stdin=params.get("expression") == "-",
            points=params.get("points"),
            at=bool(params.get("at")),
            order=params.get("order") or 1,
            form=choice_value(params.get("output_format")) or "text",
            json=bool(params.get("json")),
            steps=bool(params.get("steps")),
            graph=bool(params.get("graph")),
            plot=bool(params.get("plot")),
            no_autograd=bool(params.get("no_autograd")),
            explain=bool(params.get("explain")),
            answer=params.get("answer") is not None,
            pretty=bool(params.get("pretty")),
            implicit=params.get("implicit") is not None,
            certify=bool(params.get("certify")),
            direction=params.get("direction") is not None,
            unnormalized=bool(params.get("unnormalized")),
            output=params.get("output"),
            input_format=choice_value(params.get("input_format")) or "auto",
        )

    @property
    def explaining(self) -> bool:
        """--explain, --answer, --pretty or --format markdown|latex: the
        explained path (symbolic; with --at, the table above it)."""
        return self.explain or self.answer or self.pretty or self.form in ONE_POINT_FORMATS

    @property
    def drawn_under_table(self) -> bool:
        return self.steps or self.graph or self.plot

    def check(self) -> None:
        """Refuse a combination that cannot be answered, naming the flags."""
        if self.expression_from_stdin and self.points == "-":
            raise UsageError("stdin can hold the expression or the points, not both")
        if self.implicit:
            self._check_implicit()
            return
        if self.form in ("csv", "parquet"):
            if self.points is None:
                raise UsageError(
                    f"--format {self.form} writes one row per point: give --points FILE"
                )
            if self.json:
                raise UsageError(f"--format {self.form} and --json are two forms: choose one")
        if self.points is None and (self.output is not None or self.input_format != "auto"):
            raise UsageError("--output and --input-format go with --points FILE")
        if self.plot and self.order != 1:
            raise UsageError("--plot draws the first derivative: not with --order above 1")
        if self.json and self.drawn_under_table:
            raise UsageError(
                "--steps, --graph and --plot are text under the table: not with --json "
                "(graph --format json has the graph, plot --json the curves)"
            )
        self._check_extras()
        if self.points is not None:
            self._check_points()
        elif self.explaining:
            self._check_explaining()
        elif (self.steps or self.graph) and self.no_autograd:
            raise UsageError("--steps and --graph show torch's graph: drop --no-autograd")

    def _check_extras(self) -> None:
        """--certify and --direction: one point, the table, nothing drawn under it."""
        if self.unnormalized and not self.direction:
            raise UsageError("--unnormalized qualifies --direction: give --direction VECTOR")
        if not (self.certify or self.direction):
            return
        if self.points is not None or self.explaining or self.drawn_under_table:
            raise UsageError(
                "--certify and --direction take one point and the table: not with --points, "
                "--explain, --answer, --format, --pretty, --steps, --graph or --plot"
            )
        if self.direction and self.order != 1:
            raise UsageError("--direction takes the gradient: --order 1")
        if self.certify:
            from ..certify import flint

            flint()  # the missing extra is said before any import or work

    def check_answer(self, vector_valued: bool) -> None:
        """The rule that depends on the answer: --steps and --graph follow one output."""
        if vector_valued and (self.steps or self.graph):
            raise UsageError(
                "--steps and --graph follow one output; this expression is vector-valued "
                "(its Jacobian is the answer): wrap it in sum(...) for the graph of the sum"
            )

    def _check_implicit(self) -> None:
        others = self.points is not None or self.drawn_under_table or self.answer or self.pretty
        extras = self.certify or self.direction or self.unnormalized
        if others or extras or self.form != "text":
            raise UsageError(
                "--implicit answers at one point (--at), with --explain and --json: not with "
                "--points, --steps, --graph, --plot, --answer, --pretty, --format, --certify, "
                "--direction or --unnormalized"
            )
        if not self.at and not self.explain:
            raise UsageError("--implicit needs the point on the curve: --at x=3,y=4")
        if self.explain and self.order > 2:
            raise UsageError(
                f"with --implicit --explain must be 1 or 2, not {self.order}", option="order"
            )

    def _check_points(self) -> None:
        if self.form == "parquet" and self.output in (None, "-"):
            from ..outfile import refuse_terminal

            refuse_terminal("--format parquet")  # on stdout only with --output -
            if self.output is None:
                raise UsageError(
                    "--format parquet is a binary file: give --output FILE, or --output - "
                    "for stdout"
                )
        if self.output is not None and not (self.json or self.form in ("csv", "parquet")):
            raise UsageError("--output writes --format csv, --format parquet or --json")
        if self.at:
            raise UsageError("give either --at or --points, not both")
        if self.steps or self.graph or self.no_autograd or self.plot:
            raise UsageError(
                "--steps, --graph, --plot and --no-autograd take one point (--at), not --points"
            )
        if self.explaining:
            raise UsageError(
                "--explain, --answer, --format markdown|latex and --pretty take one point "
                "(--at) or none, not --points"
            )

    def _check_explaining(self) -> None:
        if self.drawn_under_table:
            raise UsageError(
                "--steps, --graph and --plot are not shown with --explain, --answer, --format "
                "or --pretty: run them apart"
            )
        if self.pretty and self.form != "text":
            raise UsageError(
                "draws in the terminal: not with --format markdown or latex", option="pretty"
            )
        if self.json and (self.form != "text" or self.pretty):
            raise UsageError("--json is the document itself: not with --format or --pretty")
        if self.order > 2:
            raise UsageError(
                f"with --explain, --answer, --format or --pretty must be 1 or 2, not {self.order}",
                option="order",
            )

    def engines(self) -> tuple:
        """The modules this run computes with, imported before its budget starts."""
        if self.implicit:
            return ("sympy", "mpmath")
        symbolic = ("sympy",) if self.explaining else ()  # explanations work in SymPy
        if self.no_autograd or (symbolic and not self.at):
            return symbolic  # a symbolic explanation needs no torch
        if self.points is not None:
            from .startup import APART  # torch, in a helper meanwhile

            return ("sympy", APART)
        return (*symbolic, "torch")
