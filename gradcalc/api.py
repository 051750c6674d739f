"""The Python API: `gradcalc.diff`, `gradcalc.graph`, `gradcalc.perceptron`.

Each returns a result object whose `.to_dict()` is exactly the CLI's `--json`
document, which prints through Rich in a terminal (`rich.print(result)`), and
which displays in Jupyter as HTML tables with the derivative typeset
(`_repr_html_`, render/html.py; the LaTeX alone is `text/latex`). The
library's own results stay reachable: attributes not defined here are read
from them (`result.status`, `result.partials`, ...).

Each function runs within the CLI's budget, on by default: `timeout=` CPU
seconds (DEFAULT_TIMEOUT, the CLI's `--timeout` default), with its wall-clock
ceiling and its memory budget, in a forked child process (a spawned one
where this process has imported JAX: forking.py) whose result is
handed back; past it, `gradcalc.BudgetError`. `timeout=None` computes here,
without a budget."""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .budget import DEFAULT_SECONDS

DEFAULT_TIMEOUT = DEFAULT_SECONDS  # CPU seconds, as the CLI's --timeout
# What the parent imports before the child starts (start-up is not computing,
# as for a command): every function needs these; torch only when it is used.
_ENGINES = ("numpy", "sympy", "gradcalc.pointcheck", "gradcalc.computation", "gradcalc.jsonout")
T = TypeVar("T")

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
        """The view as HTML elements: tables as `<table>`, a derivative
        typeset as `$...$` LaTeX (MathJax renders it in Jupyter)."""
        from .render.html import to_html

        return to_html(self.__rich__())

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


def _budgeted(work: Callable[[], T], timeout: float | None, torch: bool = True) -> T:
    """`work()` within the budget `timeout` sets (see the module's docstring).
    `work` is a partial of a module-level function, not a closure: where the
    process may not fork (forking.hazard), it is pickled to a fresh one."""
    import importlib

    from . import budgeted
    from .errors import BudgetError

    if timeout is None:
        return work()
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout takes seconds (a number) or None, not {timeout!r}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, or None, not {timeout!r}")
    modules = (*_ENGINES, "torch") if torch else _ENGINES
    for module in modules:
        importlib.import_module(module)
    advice = "timeout=SECONDS, None for none"
    return budgeted.call(work, float(timeout), BudgetError, advice=advice, modules=modules)


class Diff(Answer):
    def to_dict(self) -> dict[str, Any]:
        from .jsonout import diff

        return diff(self.result)

    def __rich__(self) -> RenderableType:
        from .render.diff import view

        return view(self.result)

    def _latex(self) -> str | None:
        """The derivatives as LaTeX: \\frac{\\partial f}{\\partial x} = ... (the
        same formulas the HTML typesets); None for a Jacobian or a formula
        cut short."""
        from .render.html import derivative_latex, formula_latex

        partials = getattr(self.result, "partials", None)
        if not partials:  # a Jacobian: its table says it
            return None
        shapes = {name: v.size for name, v in self.result.point.items() if v.ndim}
        lines = []
        for partial in partials:
            body = None if partial.truncated else formula_latex(partial.symbolic, shapes)
            if body is None:
                return None
            lines.append(f"{derivative_latex(partial.wrt)} = {body}")
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
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Diff:
    """The derivative of `expression` at `at`, three ways, and the verdict:
    `gradcalc diff`. `at` is a number (one variable), a dict of numbers,
    lists or numpy arrays by name ({"x": 3}, {"x": [1, 2, 3]}), a string as
    `--at` takes it ("x=3,y=2"), or a list of such strings. `timeout`: CPU
    seconds (None: no budget); past it, `gradcalc.BudgetError`."""
    from .pointcheck import differentiate

    options = {"wrt": wrt, "order": order, "dtype": dtype, "full": full, "autograd": autograd}
    work = functools.partial(differentiate, expression, at, **options)
    return Diff(_budgeted(work, timeout, torch=autograd))


def graph(
    expression: str,
    at: Any = None,
    dtype: str = "float64",
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Graph:
    """The computation graph at `at`: `gradcalc graph`. `timeout` as for `diff`."""
    from .computation import build

    return Graph(_budgeted(functools.partial(build, expression, at, dtype), timeout))


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
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Perceptron:
    """One neuron, by hand and by autograd: `gradcalc perceptron`. `timeout`
    as for `diff`."""
    from .neuron import train

    return Perceptron(
        _budgeted(functools.partial(train, x, y, w, b, loss, epsilon, dtype, epochs, lr), timeout)
    )


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
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Accumulate:
    """What repeated backward() does to .grad: `gradcalc accumulate`.
    `timeout` as for `diff`."""
    from .accumulation import accumulate as run

    work = functools.partial(run, expression, at, passes, zero_grad, dtype)
    return Accumulate(_budgeted(work, timeout))


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
    `shape`: {"x": (3, 4)}) report the worst. It runs your function in this
    process, without the other calls' budget (`timeout=`): the code is yours."""
    from .usercode.run import check as run

    if point and at is not None:
        raise TypeError("give the point as keywords or as at=, not both")
    given = at if at is not None else (point or None)
    result = run(function, given, random, seed, shape, symbolic)
    return Check(result)
