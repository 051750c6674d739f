"""The LaTeX gradcalc reads, as tables (latex_reader.py reads by them):
the functions and what they are in gradcalc's grammar, Greek letters, the
commands that only space, and those refused with a reason."""

from __future__ import annotations

# Commands that only space or size what follows: read as nothing.
SILENT = {
    "\\,", "\\;", "\\:", "\\!", "\\ ", "\\quad", "\\qquad", "\\displaystyle", "\\textstyle",
    "\\big", "\\Big", "\\bigg", "\\Bigg", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr",
    "\\biggl", "\\biggr", "\\Biggl", "\\Biggr", "\\limits", "\\nolimits",
}  # fmt: skip

# \name -> gradcalc's function (one argument).
FUNCTIONS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "sec": "sec", "csc": "csc", "cot": "cot",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "arsinh": "asinh", "arcsinh": "asinh", "arcosh": "acosh", "arccosh": "acosh",
    "artanh": "atanh", "arctanh": "atanh",
    "exp": "exp", "ln": "log", "log": "log", "lg": "log10",
    "sgn": "sign", "erf": "erf", "max": "max", "min": "min",
    "sech": "sech", "csch": "csch", "coth": "coth",
    "arccot": "acot", "arcsec": "asec", "arccsc": "acsc",
}  # fmt: skip
# Functions gradcalc's table has not, read as the reciprocal of one it has.
RECIPROCALS = {"sech": "cosh", "csch": "sinh", "coth": "tanh"}
# ... or as one it has of the reciprocal, as SymPy defines them: acot(x) = atan(1/x).
OF_RECIPROCAL = {"acot": "atan", "asec": "acos", "acsc": "asin"}
# f^{-1} read as the inverse function, as textbooks write it.
INVERSES = {
    "sin": "asin", "cos": "acos", "tan": "atan",
    "sinh": "asinh", "cosh": "acosh", "tanh": "atanh",
    "cot": "acot", "sec": "asec", "csc": "acsc",
}  # fmt: skip
GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Upsilon", "Phi", "Psi",
    "Omega",
}  # fmt: skip
VARIANTS = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho"}
UNSUPPORTED = {
    "infty": "infinity is not a value gradcalc computes with",
    "sum": "sums (\\sum) are not supported",
    "prod": "products (\\prod) are not supported",
    "int": "integrals are not supported",
    "lim": "limits are not supported",
    "partial": "partial derivatives are asked with --wrt, not written",
    "pm": "'±' is two expressions; write one",
    "mp": "'∓' is two expressions; write one",
}
TEXT = ("\\mathrm", "\\text", "\\mathit", "\\operatorname", "\\textrm", "\\rm")
OPEN = {"(": ")", "[": "]", "\\{": "\\}", "\\lbrace": "\\rbrace", "\\langle": "\\rangle"}
MULTIPLY = ("\\cdot", "\\times", "*", "\\ast")
DIVIDE = ("/", "\\div")
