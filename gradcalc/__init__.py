"""gradcalc: a derivative you can trust, computed three ways.

The library is usable without the CLI; results print through Rich and show
as tables in Jupyter::

    import gradcalc
    result = gradcalc.diff("sin(x**2)", at={"x": 3})
    result.status                          # 'agree'
    result.to_dict()["gradient"]["x"]["sympy"]   # -5.466781571308062
    gradcalc.graph("x*x", at={"x": 3}).to_dict()["nodes"][0]["grad_fn"]   # 'MulBackward0'
    gradcalc.perceptron(x=6.7, y=0).first.manual_w    # [6.691763029237442]
    gradcalc.check(my_loss, x=torch.tensor([1.0, 2.0])).status   # your own code's gradients
    gradcalc.points("x**2*y", df)   # a DataFrame in, a DataFrame of the answers out

`to_dict()` is exactly the CLI's `--json` document. Heavy modules (SymPy,
torch) are imported lazily, so importing this package stays cheap.
"""

from typing import Any

__version__ = "0.6.4"

__all__ = [
    "BudgetError",
    "GradcalcError",
    "__version__",
    "accumulate",
    "check",
    "diff",
    "differentiate",
    "graph",
    "parse",
    "perceptron",
    "points",
]


def __getattr__(name: str) -> Any:
    # Lazy public API: `import gradcalc` must not pull in SymPy or torch.
    if name in ("diff", "graph", "perceptron", "accumulate", "check"):
        from . import api

        return getattr(api, name)
    if name == "points":  # the DataFrame API
        from .frames import points

        return points
    if name == "differentiate":
        from .pointcheck import differentiate

        return differentiate
    if name == "parse":
        from .parsing import parse

        return parse
    if name in ("GradcalcError", "BudgetError"):
        from . import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'gradcalc' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API, for `dir(gradcalc)` and IPython's Tab (its names load lazily)."""
    return sorted({name for name in globals() if name.startswith("__")} | set(__all__))
