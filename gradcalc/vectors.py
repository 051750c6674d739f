"""Long vector variables: one symbol per vector, evaluated over arrays.

Expanding `x=[...]` into one SymPy symbol per component makes every
derivative an Add of n terms, taken n times: quadratic (300 elements took
5 s). Here a vector variable is ONE element symbol (`x` stands for x_i) and
each reduction (`mean`, `sum`, and the implicit sum of a vector-valued
output) becomes a scalar symbol R_k whose element expression h_k is kept:

    R_k = c_k · Σ_i h_k(x_i)        c_k = 1/n for mean, 1 for sum

evaluated over numpy arrays, inner reductions first. The gradient is reverse
mode over the reductions (exact, cross terms included):

    A_k = ∂F/∂R_k + Σ_m A_m · c_m · Σ_i ∂h_m/∂R_k (x_i)     outer reductions first
    ∂f/∂x_i = Σ_k A_k · c_k · ∂h_k/∂x (x_i)

so the work is linear in n. Vectors up to SMALL elements keep the
per-component path (30-digit values, one formula per component); longer
ones are evaluated in float64, and their finite differences are checked on a
seeded sample of components plus one random direction (as JAX's
check_grads does): one partial per component would be quadratic again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import numeric, stencil, verdict
from .errors import DomainError, PointError
from .functions import TABLE, class_index, norm_order, position
from .partials import MAX_SHOWN, Measured, Partial, shaped

if TYPE_CHECKING:
    from .parsing import Expression

SMALL = 64  # vectors up to this length take the per-component path
SAMPLED = 32  # components whose finite differences are checked past SMALL (each costs O(n))
SEED = 0  # the sample and the direction are reproducible
WEIGHTED = ("prod", "norm")  # reductions whose weight on element i is not a constant


# Functions of whole vectors this path writes in vector form, as reductions
# (see Vectorized._whole): logsumexp(x) = M + log Σ exp(x_i − M) with M = max x
# held constant, softmax(x)_i = exp(x_i − M) / Σ exp(x_j − M), x[k] = Σ x_i·e_k,
# prod(x) = Π x_i (a reduction of its own kind: its weights are the products
# of the other elements, `exclusive_products`).
WHOLE = (
    "dot", "norm", "logsumexp", "softmax", "log_softmax", "index", "cross_entropy", "prod",
)  # fmt: skip


def applies(expr: Expression, shapes: dict[str, int | None], order: int) -> bool:
    """Whether `differentiate` takes this module's path: first derivatives
    with vector variables longer than SMALL, all of one length, in an
    expression of elementwise functions, means, sums and the functions of
    WHOLE applied to vectors (vector(...) takes the per-component path; a
    vector-valued expression with a function of WHOLE in it is a Jacobian,
    `jacobian_applies`)."""
    return _vector_form(expr, shapes, order) and not _whole_jacobian(expr, shapes)


def jacobian_applies(expr: Expression, shapes: dict[str, int | None], order: int) -> bool:
    """Whether a vector-valued expression's Jacobian is built in vector form
    (vecjacobian): what `applies` takes but for a value that is a vector
    built by a function of WHOLE (softmax(x), log_softmax(x) - x, ...)."""
    return _vector_form(expr, shapes, order) and _whole_jacobian(expr, shapes)


def _whole_jacobian(expr: Expression, shapes: dict[str, int | None]) -> bool:
    whole = any(node.op in WHOLE for node in expr.nodes)
    return whole and _vector_nodes(expr, shapes)[id(expr.root)]


def _vector_form(expr: Expression, shapes: dict[str, int | None], order: int) -> bool:
    lengths = {s for s in shapes.values() if s is not None}
    if order != 1 or len(lengths) != 1 or lengths.pop() <= SMALL:
        return False
    vector = _vector_nodes(expr, shapes)
    for node in expr.nodes:
        spec = TABLE.get(node.op)
        if spec is None or not spec.vector:
            continue
        if node.op not in WHOLE or not vector.get(id(node.args[0]), False):
            return False
        if node.op == "dot" and not vector.get(id(node.args[1]), False):
            return False
        constant = node.args[1:] and node.op in ("index", "cross_entropy", "norm")
        if constant and node.args[1].op != "num":
            return False  # the index, class or p: a number written out
    return True


def _vector_nodes(expr: Expression, shapes: dict[str, int | None]) -> dict[int, bool]:
    """Whether each node's value is a vector (children come before parents)."""
    vector: dict[int, bool] = {}
    for node in expr.nodes:
        if node.op == "var":
            vector[id(node)] = shapes.get(node.value) is not None
        elif node.op in TABLE and (TABLE[node.op].reduces or TABLE[node.op].vector == "reduce"):
            vector[id(node)] = False
        else:
            vector[id(node)] = any(vector.get(id(a), False) for a in node.args)
    return vector


def sample(n: int) -> list[int]:
    """The components checked by finite differences: the first ones (those a
    table shows) and a seeded random choice of the rest, SAMPLED in all."""
    if n <= SAMPLED:
        return list(range(n))
    first = list(range(MAX_SHOWN))
    rest = np.random.default_rng(SEED).choice(np.arange(MAX_SHOWN, n), SAMPLED - MAX_SHOWN, False)
    return first + sorted(int(i) for i in rest)


@dataclass(frozen=True)
class Reduction:
    """R = scale · Σ_i element(x_i); or (kind "max") R = max_i element(x_i),
    a shift held constant: scale 0 gives it no part in any derivative (it
    only keeps exp from overflowing, and cancels where it appears); or (kind
    "prod") R = Π_i element(x_i), whose weight on element i is the product
    of the others; or (kind "norm") R = √(Σ_i element(x_i)²), computed
    scaled by the largest |element| (its squares would overflow past about
    1e154 and underflow below 1e-154, where the norm itself does not), whose
    weight on element i is element(x_i)/R."""

    symbol: Any  # a SymPy Dummy standing for the reduction's value
    element: Any  # h: the SymPy element expression
    kind: str  # "mean", "sum", "max", "prod" or "norm"
    scale: Any  # SymPy Rational: 1/n, 1 or 0


class Vectorized:
    """An expression over long vector variables, built once and evaluated
    over arrays: its value and the gradient along each variable."""

    def __init__(self, expr: Expression, point: dict[str, np.ndarray]) -> None:
        import sympy as sp

        self.expr = expr
        self.point = point
        self.length = next(v.size for v in point.values() if v.ndim == 1)
        self.vectors = {name for name, v in point.items() if v.ndim == 1}
        self.symbols = {name: sp.Symbol(name, real=True) for name in expr.variables}
        self.reductions: list[Reduction] = []
        self.constants: dict = {}  # Dummy -> array: the unit vectors e_k of x[k]
        root, vector = self._build()
        self.vector_valued = vector
        notes = []
        if vector:  # the implicit sum of a vector-valued output, as backward(ones)
            notes.append(
                "the expression is vector-valued; derivatives are of the sum of its "
                "elements, as torch's y.backward(torch.ones_like(y))"
            )
            self.element_root = root
            root = self._reduce(root, "sum")
        self.root = root
        self.arrays: dict = {
            self.symbols[name]: (
                point[name].reshape(-1) if name in self.vectors else float(point[name])
            )
            for name in expr.variables
        }
        self.arrays.update(self.constants)
        for reduction in self.reductions:  # inner ones first: each needs those inside it
            if reduction.kind == "max":
                top = float(np.max(self._over(reduction.element)))
                self.arrays[reduction.symbol] = top if math.isfinite(top) else 0.0
                continue
            if reduction.kind in WEIGHTED:  # functions' prod and norm: never overflowing partway
                values = self._over(reduction.element)[None, :]
                table = TABLE[reduction.kind].numpy
                self.arrays[reduction.symbol] = float(table(np, values)[0, 0])
                continue
            total = math.fsum(self._over(reduction.element))
            self.arrays[reduction.symbol] = float(reduction.scale) * total
        notes.append(
            f"vectors of {self.length:,} elements: the derivative is one elementwise formula "
            "(each mean or sum a number), evaluated over the elements in float64"
        )
        self.notes = tuple(notes)  # for the result's notes, in this order

    # -- building ---------------------------------------------------------

    def _reduce(self, element: Any, kind: str) -> Any:
        import sympy as sp

        scale = {"mean": sp.Rational(1, self.length), "max": sp.S.Zero}.get(kind, sp.S.One)
        symbol = sp.Dummy(f"R{len(self.reductions)}", real=True)
        self.reductions.append(Reduction(symbol=symbol, element=element, kind=kind, scale=scale))
        return symbol

    def _build(self) -> tuple[Any, bool]:
        """The root's element expression, and whether it is a vector."""
        import sympy as sp

        from .cas import sympy_engine, tree

        inside = tree.chain_links(self.expr)
        built: dict = {}
        vector: dict = {}
        for node in self.expr.nodes:
            if id(node) in inside:
                continue  # built with the whole chain, at its top
            key = id(node)
            if node.op == "var":
                built[key], vector[key] = self.symbols[node.value], node.value in self.vectors
            elif node.is_leaf:
                built[key], vector[key] = tree.build_leaf(node, sp), False
            elif node.op in tree.CHAINS:
                chain = tree.CHAINS[node.op]
                operands = tree.chain_operands(node)
                args = [
                    (-built[id(a)] if chain == "Add" else 1 / built[id(a)])
                    if inverted
                    else built[id(a)]
                    for a, inverted in operands
                ]
                built[key] = getattr(sp, chain)(*args)
                vector[key] = any(vector[id(a)] for a, _ in operands)
            elif node.op in WHOLE:
                built[key], vector[key] = self._whole(node, [built[id(a)] for a in node.args])
            elif TABLE[node.op].reduces:
                arg = node.args[0]
                if vector[id(arg)]:
                    built[key] = self._reduce(built[id(arg)], node.op)
                else:  # mean or sum of a scalar is the scalar
                    built[key] = built[id(arg)]
                vector[key] = False
            else:
                args = [built[id(a)] for a in node.args]
                built[key] = tree.build_operation(node.op, args, sp, sympy_engine.SPECIAL)
                vector[key] = any(vector[id(a)] for a in node.args)
        return built[id(self.expr.root)], vector[id(self.expr.root)]

    def _whole(self, node: Any, args: list) -> tuple[Any, bool]:
        """A function of WHOLE in vector form: (its element expression or
        reduction symbol, whether it is a vector). `applies` saw that its
        vector arguments are vectors and its constants numbers."""
        import sympy as sp

        op, x = node.op, args[0]
        if op == "dot":
            return self._reduce(x * args[1], "sum"), False
        if op == "norm":
            try:
                order = norm_order(args[1] if len(args) > 1 else None)
            except ValueError as error:  # as the per-component path says it (cas.tree)
                raise PointError(f"{node.text}: {error}") from None
            if order == 1:
                return self._reduce(sp.Abs(x), "sum"), False
            return self._reduce(x, "norm"), False
        if op == "index":
            return self._pick(x, position(args[1], self.length)), False
        if op == "prod":
            return self._reduce(x, "prod"), False
        top = self._reduce(x, "max")
        total = self._reduce(sp.exp(x - top), "sum")
        if op == "logsumexp":
            return top + sp.log(total), False
        if op == "softmax":
            return sp.exp(x - top) / total, True
        if op == "log_softmax":
            return x - top - sp.log(total), True
        # cross_entropy(x, k) = logsumexp(x) - x[k]
        k = class_index(args[1], self.length)
        return top + sp.log(total) - self._pick(x, k), False

    def _pick(self, element: Any, k: int) -> Any:
        """element[k] as Σ_i element_i · e_k,i (e_k the k-th unit vector)."""
        import sympy as sp

        unit = sp.Dummy(f"e{k}", real=True)
        array = np.zeros(self.length)
        array[k] = 1.0
        self.constants[unit] = array
        return self._reduce(element * unit, "sum")

    # -- evaluating -------------------------------------------------------

    def _over(self, element: Any) -> np.ndarray:
        """An element expression at every element: shape (n,)."""
        import sympy as sp

        from .cas.sympy_engine import evaluate_numpy

        # d/du sign(g(u)) stays unevaluated in SymPy; away from g = 0 it is 0.
        element = element.replace(
            lambda e: isinstance(e, sp.Derivative) and e.expr.func in (sp.sign, sp.Heaviside),
            lambda e: sp.S.Zero,
        )
        try:
            values = evaluate_numpy(element, self.arrays)
        except (ValueError, TypeError, KeyError, ZeroDivisionError):
            values = np.array(np.nan)
        return np.broadcast_to(np.asarray(values, dtype=np.float64), (self.length,))

    def _scalar(self, expression: Any) -> float:
        return float(self._over(expression)[0])

    def value(self) -> float | list[float]:
        """f at the point (a list for a vector-valued expression)."""
        if self.vector_valued:
            values = self._over(self.element_root)
            out: float | list[float] = [float(v) for v in values]
        else:
            out = self._scalar(self.root)
            values = np.array([out])
        if not np.all(np.isfinite(values)):
            raise DomainError(f"{self.expr.source} is not finite at the point")
        return out

    def _spread(self, reduction: Reduction, d: Any) -> float:
        """c·Σ_i d(x_i) (Σ_i w_i·d(x_i) for a product or a norm): how far the
        reduction moves with whatever d is the derivative of its element by."""
        if reduction.kind in WEIGHTED:
            return math.fsum(self._weights(reduction) * self._over(d))
        return float(reduction.scale) * math.fsum(self._over(d))

    def _weights(self, reduction: Reduction) -> np.ndarray | float:
        """∂R/∂h_i: c for a mean or sum (0 for the max), for a product the
        product of the other elements, for a norm h_i/R (0/0, NaN, where R
        is 0: norm's kink, which the kink probes name)."""
        if reduction.kind == "norm":
            with np.errstate(invalid="ignore", divide="ignore"):
                return self._over(reduction.element) / self.arrays[reduction.symbol]
        if reduction.kind != "prod":
            return float(reduction.scale)
        return exclusive_products(self._over(reduction.element))

    def _adjoints(self, root: Any) -> list[float]:
        """A_k = ∂F/∂R_k + Σ_{m>k} A_m·c_m·Σ_i ∂h_m/∂R_k, outer reductions first."""
        import sympy as sp

        count = len(self.reductions)
        adjoints = [0.0] * count
        for k in reversed(range(count)):
            inner = self.reductions[k].symbol
            total = self._scalar(sp.diff(root, inner)) if root.has(inner) else 0.0
            for m in range(k + 1, count):
                outer = self.reductions[m]
                if adjoints[m] == 0 or not outer.element.has(inner):
                    continue
                total += adjoints[m] * self._spread(outer, sp.diff(outer.element, inner))
            adjoints[k] = total
        return adjoints

    def gradient(self, name: str, root: Any = None) -> np.ndarray | float:
        """∂f/∂name at the point: an array (n,) for a vector, else a float.
        `root`: the gradient of that expression of the elements and the
        reductions instead of f's (a reduction's own, for vecjacobian)."""
        import sympy as sp

        root = self.root if root is None else root
        symbol = self.symbols[name]
        adjoints = self._adjoints(root)
        if name in self.vectors:
            total = np.zeros(self.length)
            for reduction, adjoint in zip(self.reductions, adjoints):
                if adjoint != 0 and reduction.element.has(symbol):
                    d = sp.diff(reduction.element, symbol)
                    with np.errstate(invalid="ignore"):  # ∞·0 at a kink: NaN, said later
                        total = total + adjoint * self._weights(reduction) * self._over(d)
            return total
        out = self._scalar(sp.diff(root, symbol)) if root.has(symbol) else 0.0
        for reduction, adjoint in zip(self.reductions, adjoints):
            if adjoint != 0 and reduction.element.has(symbol):
                out += adjoint * self._spread(reduction, sp.diff(reduction.element, symbol))
        return out

    def formula(self, name: str, root: Any = None) -> str:
        """The derivative as one formula: elementwise for a vector variable,
        with each reduction written as mean(...) or sum(...)."""
        return self.spell(self.derivative(name, root))

    def derivative(self, name: str, root: Any = None) -> Any:
        """∂f/∂name (of `root` if given) as a SymPy expression of the element
        symbols and the reductions' symbols (`spell` writes them out)."""
        import sympy as sp

        root = self.root if root is None else root
        symbol = self.symbols[name]

        def weight(r: Reduction) -> Any:  # ∂R/∂h_i as a formula
            if r.kind == "prod":
                return r.symbol / r.element  # Π_j h_j / h_i
            return r.element / r.symbol if r.kind == "norm" else r.scale  # h_i / norm(h)

        def reduced(r: Reduction, d: Any) -> Any:  # c·Σ_i d(x_i), spelled as the reduction
            if r.kind in WEIGHTED:  # Σ_i w_i·d(x_i)
                return sp.Function("sum")(weight(r) * d)
            return sp.Function(r.kind)(d)

        def element(r: Reduction, d: Any) -> Any:  # its weight on element i, times d(x_i)
            return weight(r) * d

        adjoints: list = [sp.S.Zero] * len(self.reductions)
        for k in reversed(range(len(self.reductions))):
            inner = self.reductions[k].symbol
            adjoint = sp.diff(root, inner)
            for m in range(k + 1, len(self.reductions)):
                if self.reductions[m].kind == "max":
                    continue  # held constant: no part in any derivative
                d = sp.diff(self.reductions[m].element, inner)
                if d != 0 and adjoints[m] != 0:
                    adjoint += adjoints[m] * reduced(self.reductions[m], d)
            adjoints[k] = adjoint
        terms = [sp.diff(root, symbol)]
        for adjoint, r in zip(adjoints, self.reductions):
            d = sp.diff(r.element, symbol)
            if d == 0 or adjoint == 0 or r.kind == "max":
                continue
            terms.append(adjoint * (element(r, d) if name in self.vectors else reduced(r, d)))
        return sp.Add(*terms)

    def spell(self, expression: Any) -> str:
        """A SymPy expression with each reduction spelled out, inner ones first."""
        import sympy as sp

        spelled: dict = {}
        for r in self.reductions:
            spelled[r.symbol] = sp.Function(r.kind)(r.element.xreplace(spelled))
        return sp.sstr(expression.xreplace(spelled))

    # -- the three methods, for check ---------------------------------------

    def partial(
        self, wrt: tuple[str, ...], grad: np.ndarray | None, batch: dict, frozen: dict
    ) -> Measured:
        """One first derivative by the three methods, as check measures one
        on the per-component path."""
        name = wrt[0]
        vector = name in self.vectors
        reference = np.atleast_1d(np.asarray(self.gradient(name), dtype=np.float64))
        autograd = None if grad is None else np.ravel(np.asarray(grad, dtype=np.float64))
        count = reference.size
        chosen = sample(count) if vector else [0]
        fd, fd_error, checked = self._differences(name, chosen, count, batch, frozen)
        partial = Partial(
            wrt=tuple(wrt),
            symbolic=self.formula(name),
            sympy=shaped([float(v) if np.isfinite(v) else None for v in reference], vector),
            autograd=shaped(
                [None] * count if autograd is None else [float(v) for v in autograd], vector
            ),
            finite_difference=shaped(
                [float(v) if c or np.isfinite(v) else None for v, c in zip(fd, checked)], vector
            ),
            finite_difference_error=shaped(
                [float(v) if np.isfinite(v) else None for v in fd_error], vector
            ),
            finite_difference_checked=bool(checked.all()),
            agree=True,
        )
        label = (lambda i: f"d/d{name}[{i}]") if vector else (lambda i: f"d/d{name}")
        labels = [label(i) for i in range(count)]
        whys = {
            (0, int(i)): "infinite or undefined" for i in np.flatnonzero(~np.isfinite(reference))
        }
        notes = []
        unsampled = count - len(chosen)
        if unsampled:
            exact, torch, estimate, error, clean = self._directional(
                name, reference, autograd, batch, frozen
            )
            labels.append(f"d/d{name}·v")
            reference = np.append(reference, exact)
            autograd = None if autograd is None else np.append(autograd, torch)
            fd, fd_error = np.append(fd, estimate), np.append(fd_error, error)
            checked = np.append(checked, clean)
            notes.append(
                f"finite differences: {len(chosen)} of the {count:,} components of {name} "
                f"(the first {min(len(chosen), MAX_SHOWN)} and a seeded random sample), and the "
                f"derivative along one seeded random direction v (d/d{name}·v: the gradient "
                f"dotted with v against a finite difference of f along v); the other "
                f"{unsampled:,} components are not checked one by one"
            )
        methods = verdict.Methods(
            labels=labels,
            sympy=reference[None, :],
            autograd=None if autograd is None else autograd[None, :],
            finite_difference=fd[None, :],
            finite_difference_error=fd_error[None, :],
            sympy_why=whys,
            fd_checked=checked[None, :],
            fd_unchecked_why=(
                "finite differences were taken on a sample of components (see the note)"
                if unsampled
                else None
            ),
        )
        if vector:
            notes.append(
                f"∂f/∂{name} is one formula for every element ({name} in it stands for each "
                f"{name}[i]; mean(...) and sum(...) are numbers at the point)"
            )
        return Measured(partial=partial, methods=methods, notes=tuple(notes))

    def _differences(
        self, name: str, chosen: list[int], count: int, batch: dict, frozen: dict
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(estimate, error, clean) over all `count` components, NaN (and not
        clean) outside those `chosen`."""
        fd = np.full(count, np.nan)
        fd_error = np.full(count, np.nan)
        checked = np.zeros(count, dtype=bool)
        components = [((name, i),) for i in chosen]
        # Past SMALL elements each sampled component's differences evaluate f
        # over the whole vector: two step sizes, as --points takes (the one
        # direction keeps all nine).
        vector = name in self.vectors
        steps = numeric.FEW_STEP_FACTORS if vector and count > SMALL else numeric.STEP_FACTORS
        found = numeric.finite_difference(self.expr, batch, components, frozen, steps)
        for i, (estimate, error, clean) in zip(chosen, found):
            fd[i], fd_error[i], checked[i] = estimate[0], error[0], clean[0]
        return fd, fd_error, checked

    def _directional(
        self,
        name: str,
        reference: np.ndarray,
        autograd: np.ndarray | None,
        batch: dict,
        frozen: dict,
    ) -> tuple[float, float, float, float, bool]:
        """(∇f·v, autograd·v, finite difference along v, its error, clean)
        for a seeded random direction v over `name`'s components."""
        v = np.random.default_rng(SEED).standard_normal(self.length)
        v /= np.linalg.norm(v)
        exact = float(np.dot(reference, v))
        torch = float(np.dot(autograd, v)) if autograd is not None else math.nan
        estimate, error, clean = stencil.directional(self.expr, batch, frozen, name, v)
        return exact, torch, estimate, error, clean


def exclusive_products(h: np.ndarray) -> np.ndarray:
    """Π_{j≠i} h_j for each i, without dividing by zero (one zero: only its
    own entry is not 0; two or more: all are 0) and never overflowing
    partway: each h_i = m_i·2^e_i, the product P = M·2^E in that form, and
    P/h_i = (M/m_i)·2^(E − e_i), out of float64's range only where the
    answer itself is."""
    zero = h == 0
    out = np.zeros(h.size)
    if zero.sum() > 1:
        return out
    if zero.any():
        k = int(np.flatnonzero(zero)[0])
        mantissa, exponent = _split_product(np.delete(h, k))
        with np.errstate(over="ignore", under="ignore"):
            out[k] = float(np.ldexp(mantissa, exponent))
        return out
    mantissas, exponents = np.frexp(h)
    mantissa, exponent = _split_product(h)
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(mantissa / mantissas, (exponent - exponents).astype(np.int64))


def _split_product(h: np.ndarray) -> tuple[float, int]:
    """Π h as (m, e) with h's product = m·2^e, 0.5 <= |m| < 1: mantissas in
    chunks of 1,000 (0.5^1000 is still a normal float64), renormalized."""
    mantissas, exponents = np.frexp(np.asarray(h, dtype=np.float64))
    exponent = int(exponents.sum())
    while mantissas.size > 1:
        chunks = [np.prod(mantissas[i : i + 1000]) for i in range(0, mantissas.size, 1000)]
        mantissas, exponents = np.frexp(np.array(chunks))
        exponent += int(exponents.sum())
    if mantissas.size == 0:
        return 0.5, 1
    return float(mantissas[0]), exponent


__all__ = [
    "SMALL",
    "WHOLE",
    "Vectorized",
    "applies",
    "exclusive_products",
    "jacobian_applies",
    "sample",
]
