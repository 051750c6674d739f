"""gradcalc: a derivative you can trust, computed three ways.

The library is usable without the CLI::

    from gradcalc import differentiate
    result = differentiate("sin(x**2)", {"x": 3.0})
    result.derivatives[0].sympy        # -5.466781571308061

Heavy modules (SymPy, torch) are imported lazily, so importing this package
stays cheap.
"""

__version__ = "0.2.0"

__all__ = ["GradcalcError", "__version__", "differentiate", "parse"]


def __getattr__(name):
    # Lazy public API: `import gradcalc` must not pull in SymPy or torch.
    if name == "differentiate":
        from .check import differentiate

        return differentiate
    if name == "parse":
        from .parsing import parse

        return parse
    if name == "GradcalcError":
        from .errors import GradcalcError

        return GradcalcError
    raise AttributeError(f"module 'gradcalc' has no attribute {name!r}")
