"""The Python API: `gradcalc.diff`, `gradcalc.graph`, `gradcalc.perceptron`.

Each returns a result object whose `.to_dict()` is exactly the CLI's `--json`
document, which prints through Rich in a terminal (`rich.print(result)`), and
which displays as a table in Jupyter (`_repr_html_`, with the derivative in
LaTeX in `_repr_mimebundle_`). The library's own results stay reachable:
attributes not defined here are read from them (`result.status`,
`result.partials`, ...)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


class Answer:
    """A library result with its JSON document and its Rich view."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - each kind defines it
        raise NotImplementedError

    def __rich__(self) -> RenderableType:  # pragma: no cover - each kind defines it
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.result, name)

    def _repr_html_(self) -> str:
        return self._recorded().export_html(inline_styles=True, code_format="<pre>{code}</pre>")

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, str]:
        bundle = {"text/plain": self._plain(), "text/html": self._repr_html_()}
        latex = self._latex()
        if latex:
            bundle["text/latex"] = latex
        return bundle

    def _plain(self) -> str:
        return self._recorded().export_text()

    def _recorded(self) -> Console:
        """The Rich view printed to a console that records it (and writes
        nowhere that is seen)."""
        from rich.console import Console

        console = Console(
            record=True, width=100, file=io.StringIO(), force_terminal=False, force_jupyter=False
        )
        console.print(self.__rich__())
        return console

    def _latex(self) -> str | None:
        return None

    def __str__(self) -> str:
        """The table a terminal shows (`print(result)`), without colour."""
        return self._plain()

    def __repr__(self) -> str:
        return f"<gradcalc {type(self).__name__} {self.to_dict().get('status', '')}>"


class Diff(Answer):
    def to_dict(self) -> dict[str, Any]:
        from .jsonout import diff

        return diff(self.result)

    def __rich__(self) -> RenderableType:
        from .render.diff import view

        return view(self.result)

    def _latex(self) -> str | None:
        """The derivatives as LaTeX: \\frac{\\partial f}{\\partial x} = ... (scalars)."""
        from .cas import sympy_engine
        from .errors import GradcalcError
        from .parsing import parse

        lines = []
        for partial in getattr(self.result, "partials", None) or [None]:
            if partial is None:  # a Jacobian: its table says it
                return None
            if not isinstance(partial.symbolic, str) or partial.truncated:
                return None
            try:
                expr = parse(partial.symbolic)
            except GradcalcError:
                return None
            import sympy

            built = sympy_engine.build(expr, sympy_engine.symbols_for(expr.variables, {}))
            below = " ".join(rf"\partial {name}" for name in partial.wrt)
            power = "" if len(partial.wrt) == 1 else f"^{{{len(partial.wrt)}}}"
            lines.append(rf"\frac{{\partial{power} f}}{{{below}}} = {sympy.latex(built)}")
        return "$" + r" \quad ".join(lines) + "$"


class Graph(Answer):
    def to_dict(self) -> dict[str, Any]:
        from .jsonout import graph

        return graph(self.result)

    def __rich__(self) -> RenderableType:
        from .render.graph import tree

        return tree(self.result, False)


class Perceptron(Answer):
    def to_dict(self) -> dict[str, Any]:
        from .jsonout import perceptron

        return perceptron(self.result)

    def __rich__(self) -> RenderableType:
        from .neuron import shaped
        from .render.perceptron import view

        return view(self.result, shaped)


def diff(
    expression: str,
    at: Any = None,
    wrt: Any = None,
    order: int = 1,
    dtype: str = "float64",
    autograd: bool = True,
    full: bool = False,
) -> Diff:
    """The derivative of `expression` at `at`, three ways, and the verdict:
    `gradcalc diff`. `at` is a number (one variable), a dict of numbers,
    lists or numpy arrays by name ({"x": 3}, {"x": [1, 2, 3]}), a string as
    `--at` takes it ("x=3,y=2"), or a list of such strings."""
    from .pointcheck import differentiate

    result = differentiate(
        expression, at, wrt=wrt, order=order, dtype=dtype, full=full, autograd=autograd
    )
    return Diff(result)


def graph(expression: str, at: Any = None, dtype: str = "float64") -> Graph:
    """The computation graph at `at`: `gradcalc graph`."""
    from .computation import build

    return Graph(build(expression, at, dtype))


def perceptron(
    x: Any,
    y: float,
    w: Any = None,
    b: float = 0.0,
    loss: str = "bce",
    epsilon: float = 1e-8,
    dtype: str = "float64",
    epochs: int = 0,
    lr: float = 0.1,
) -> Perceptron:
    """One neuron, by hand and by autograd: `gradcalc perceptron`."""
    from .neuron import train

    return Perceptron(train(x, y, w, b, loss, epsilon, dtype, epochs, lr))


class Accumulate(Answer):
    def to_dict(self) -> dict[str, Any]:
        from .jsonout import accumulate

        return accumulate(self.result)

    def __rich__(self) -> RenderableType:
        from .render.accumulate import view

        return view(self.result)


def accumulate(
    expression: str,
    at: Any = None,
    passes: int = 3,
    zero_grad: bool = False,
    dtype: str = "float64",
) -> Accumulate:
    """What repeated backward() does to .grad: `gradcalc accumulate`."""
    from .accumulation import accumulate as run

    return Accumulate(run(expression, at, passes, zero_grad, dtype))


class Check(Answer):
    """`gradcalc check`'s result: `to_dict()` is `gradcalc check --json`."""

    def to_dict(self) -> dict[str, Any]:
        from .jsonout.usercheck import check

        return check(self.result)

    def __rich__(self) -> RenderableType:
        from .render.usercheck import view

        return view(self.result)


def check(
    function: Any,
    *,
    at: Any = None,
    random: int | None = None,
    seed: int = 0,
    shape: Any = None,
    symbolic: bool = True,
    **point: Any,
) -> Check:
    """The gradients of your own PyTorch `function`, checked: `gradcalc check`.
    The point by parameter name, as keywords (`check(f, x=tensor, w=[1, 2])`)
    or as `at` (a dict, or `--at` text); `random` points (around it, or of
    `shape`: {"x": (3, 4)}) report the worst."""
    from .usercode.run import check as run

    if point and at is not None:
        raise TypeError("give the point as keywords or as at=, not both")
    given = at if at is not None else (point or None)
    result = run(function, given, random, seed, shape, symbolic)
    return Check(result)
