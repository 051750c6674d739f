"""The point a user's function is checked at: `--at "x=[[1,2],[3,4]],w=0.5"`
(nested lists for tensors of any shape), matched to the function's
parameters by name; or random points of given shapes (`--shape x=3,4`)."""

from __future__ import annotations

import numpy as np

from ..atpoint import BLANK, MAX_VECTOR, _split_top_level, number, refuse_missing
from ..errors import PointError, UsageError

MAX_ELEMENTS = MAX_VECTOR  # elements of one input tensor


def read(specs: list[str], names: list[str], required: list[str]) -> dict[str, np.ndarray]:
    """--at specifications -> {parameter: float64 array}, every required
    parameter covered and no unknown name."""
    values: dict[str, np.ndarray] = {}
    for spec in specs:
        for item in _split_top_level(spec):
            name, sep, text = item.partition("=")
            name = name.strip(BLANK)
            if not sep or not name:
                if len(required) == 1 and len(specs) == 1 and "=" not in spec.split("[")[0]:
                    name, text = required[0], spec
                else:
                    raise PointError(
                        f"{{at}} {spec!r}: expected name=value, got {item.strip(BLANK)!r}",
                        option="at",
                    )
            _known(name, names)
            if name in values:
                raise PointError(f"{{at}}: {name} is given twice", option="at")
            values[name] = tensor_value(text, "{at} " + name)
    return covering(values, required)


def _known(name: str, names: list[str]) -> None:
    if name not in names:
        raise PointError(
            f"{{at}}: {name!r} is not a parameter of the function "
            f"(its parameters: {', '.join(names) or 'none'})",
            option="at",
        )


def covering(values: dict[str, np.ndarray], required: list[str]) -> dict[str, np.ndarray]:
    refuse_missing(values, required, "parameter ")
    return values


def tensor_value(text: str, where: str) -> np.ndarray:
    """A number, or nested lists of numbers of a regular shape."""
    source = text.strip(BLANK)
    if not source.startswith("["):
        return np.array(number(source, where))
    if not source.endswith("]"):
        raise PointError(f"{where}: unclosed '[' in {source!r}", option="at")
    items = _split_top_level(source[1:-1])
    if not source[1:-1].strip(BLANK):
        raise PointError(f"{where}: empty list", option="at")
    parts = [tensor_value(item, f"{where}[{i}]") for i, item in enumerate(items)]
    if len({p.shape for p in parts}) != 1:
        raise PointError(f"{where}: rows of different lengths", option="at")
    array = np.stack(parts)
    if array.size > MAX_ELEMENTS:
        raise PointError(
            f"{where}: {array.size} elements; the limit is {MAX_ELEMENTS}", option="at"
        )
    return array


def shapes(specs: list[str]) -> dict[str, tuple[int, ...]]:
    """--shape x=3,4 --shape w=4 -> {"x": (3, 4), "w": (4,)}; x= is a scalar."""
    found: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        name = name.strip(BLANK)
        try:
            shape = tuple(int(part) for part in text.split(",") if part.strip(BLANK))
        except ValueError:
            shape = (-1,)
        if not sep or not name or any(n < 1 for n in shape):
            raise UsageError(
                f"{spec!r}: expected name=n,m,... with positive sizes (name= for a scalar)",
                option="shape",
            )
        if name in found:  # as --at's: a second would silently replace the first
            raise UsageError(f"{{shape}}: {name} is given twice", option="shape")
        if int(np.prod(shape)) > MAX_ELEMENTS:
            raise UsageError(f"{name}: more than {MAX_ELEMENTS} elements", option="shape")
        found[name] = shape
    return found


def random_points(
    count: int,
    seed: int,
    given: dict[str, np.ndarray],
    shape: dict[str, tuple[int, ...]],
    required: list[str],
) -> list[dict[str, np.ndarray]]:
    """`count` points: a standard normal draw for each parameter of `shape`
    (or of the shape of its value in `given`, which then is the first point's
    centre: the draws are given + normal noise)."""
    rng = np.random.default_rng(seed)
    for name in set(given) & set(shape):
        if tuple(shape[name]) != given[name].shape:
            raise UsageError(
                f"gives {name} the shape {tuple(shape[name])}, but --at gives it "
                f"{given[name].shape}: the random points are drawn around --at's value",
                option="shape",
            )
    names = list(dict.fromkeys([*given, *shape]))
    covering(dict.fromkeys(names, np.zeros(())), required)
    points = []
    for _ in range(count):
        point = {}
        for name in names:
            size = shape.get(name, given[name].shape if name in given else ())
            base = given.get(name, np.zeros(size))
            point[name] = base + rng.standard_normal(size)
        points.append(point)
    return points
