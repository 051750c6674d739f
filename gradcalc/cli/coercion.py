"""Command-line values to Python values, without importing pydantic.

Typer 0.29 coerces every parameter through a pydantic TypeAdapter: importing
pydantic and building the adapters costs about 0.1 s, a third of a
symbolic-only `gradcalc diff`. gradcalc's parameters are plain (str, int,
float, str enums and lists of them), so a well-formed value is converted here
directly; anything else (a bad number, an out-of-range order, an unknown
choice) is handed to Typer's own coercion, so accepted values stay exactly
Typer's; a value Typer refuses gets a message in the option's words
(`refusal`) instead of pydantic's. tests/test_coercion.py checks the two agree
on every parameter of every command.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin

if TYPE_CHECKING:
    from typer._click import Context
    from typer.models import ParameterInfo

try:  # Typer's coercion layer (private; pinned by pyproject's typer range)
    from typer._click.exceptions import BadParameter
    from typer._coercion import RuntimeParam, build_runtime_param
except ImportError:  # another Typer: keep its own coercion, only slower
    RuntimeParam = None  # type: ignore[misc,assignment]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
N = TypeVar("N", int, float)


class NotPlain(Exception):
    """The value needs Typer's full coercion (or its error message)."""


def _in_range(number: N, info: ParameterInfo) -> N:
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        raise NotPlain
    return number


def refusal(value: Any, annotation: Any, info: ParameterInfo) -> str | None:
    """Why `value` is refused, in words about the option (not pydantic's);
    None when there is nothing plainer to say."""
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    shown = repr(value) if isinstance(value, str) else str(value)
    if annotation in (int, float):
        kind = "a whole number" if annotation is int else "a finite number"
        pattern = _INTEGER if annotation is int else _DECIMAL
        text = str(value).strip()
        if not pattern.fullmatch(text) or not math.isfinite(float(text)):
            return f"{shown} is not {kind}"
        if info.min is not None and info.max is not None:
            return f"{text} is out of range: it must be from {info.min} to {info.max}"
        if info.min is not None:
            return f"{text} is too small: it must be {info.min} or more"
        if info.max is not None:
            return f"{text} is too large: it must be {info.max} or less"
        return f"{shown} is not {kind}"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = ", ".join(member.value for member in annotation)
        return f"{shown} is not one of {choices}"
    return None


def plain_value(value: Any, annotation: Any, info: ParameterInfo) -> Any:
    """`value` as `annotation`, for the forms whose conversion is unambiguous;
    raises NotPlain for everything else."""
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        if not isinstance(value, (list, tuple)):
            raise NotPlain
        return [plain_value(each, item, info) for each in value]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _plain_member(value, annotation, info)
    convert = _PLAIN.get(annotation)
    if convert is None:
        raise NotPlain
    return convert(value, info)


def _plain_str(value: Any, info: ParameterInfo) -> str:
    if isinstance(value, str):
        return value
    raise NotPlain


def _plain_bool(value: Any, info: ParameterInfo) -> bool:
    if type(value) is bool:
        return value
    raise NotPlain


def _plain_int(value: Any, info: ParameterInfo) -> int:
    if not info.clamp:
        if type(value) is int:
            return _in_range(value, info)
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            return _in_range(int(value), info)
    raise NotPlain


def _plain_float(value: Any, info: ParameterInfo) -> float:
    if not info.clamp:
        if type(value) is float and math.isfinite(value):
            return _in_range(value, info)
        if isinstance(value, str) and _DECIMAL.fullmatch(value):
            number = float(value)
            if math.isfinite(number):
                return _in_range(number, info)
    raise NotPlain


_PLAIN: dict[type, Callable[[Any, ParameterInfo], Any]] = {
    str: _plain_str,
    bool: _plain_bool,
    int: _plain_int,
    float: _plain_float,
}


def _plain_member(value: Any, annotation: type[Enum], info: ParameterInfo) -> Enum:
    if isinstance(value, annotation):
        return value
    if isinstance(value, str) and info.case_sensitive:
        member = annotation._value2member_map_.get(value)
        if member is not None:
            return member
    raise NotPlain


if RuntimeParam is not None:

    class PlainRuntimeParam(RuntimeParam):
        """Typer's runtime coercion contract, met without pydantic for plain values."""

        def _coerce_value(self, value: Any, param: Any, ctx: Context) -> Any:
            info = self.parameter_info
            if info.parser is None:
                try:
                    return plain_value(value, self.annotation, info)
                except NotPlain:
                    pass
            try:
                return build_runtime_param(param.type_descriptor)._coerce_value(
                    value, param=param, ctx=ctx
                )
            except BadParameter as error:
                # Typer's messages are pydantic's ("Value error, ...", "Input
                # should be ..."): say what the option wants instead.
                message = refusal(value, self.annotation, info)
                if message is None:
                    raise
                raise BadParameter(message, ctx=ctx, param=param) from error


def plain(params: list) -> list:
    """Give each Typer parameter in `params` the pydantic-free coercion
    (once); returns `params`."""
    if RuntimeParam is None:
        return params
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if (
            descriptor is not None
            and descriptor.file_annotation is None
            and hasattr(param, "_runtime_param")  # else Typer's own, only slower
            and not isinstance(param._runtime_param, PlainRuntimeParam)
        ):
            param._runtime_param = PlainRuntimeParam(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )
    return params
