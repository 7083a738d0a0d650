"""Parameter coercion without pydantic, for the plain types deskctl's commands take.

typer 0.29 turns every command-line value into its Python type through a pydantic
``TypeAdapter``, built on first use: importing pydantic and building the adapters
costs a command more CPU than the rest of a read. deskctl's parameters are plain
(``str``, ``int`` with an optional bound, ``float``, ``bool``, ``list[str]``,
``list[int]``), so each gets one of typer's own ``RuntimeParam`` objects here, before
typer would build its adapter; anything else (an ``Enum``, a ``Path``, a parser)
keeps typer's. The values and error messages are pydantic's for what a user types
(``tests/cli/test_coerce.py`` checks them side by side), with one rule for an integer:
ASCII digits, an optional sign, ``_`` between digits and an optional ``.0`` fraction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from typer._click.exceptions import BadParameter
from typer._coercion import RuntimeParam

_INT = re.compile(r"[+-]?\d+(?:_\d+)*(?:\.0+)?", re.ASCII)
NOT_INT = "Input should be a valid integer, unable to parse string as an integer"
NOT_NUMBER = "Input should be a valid number, unable to parse string as a number"


def to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(NOT_INT)
    if isinstance(value, int):
        return value
    text = value.strip()
    if not _INT.fullmatch(text):
        raise ValueError(NOT_INT)
    return int(text.partition(".")[0])


def to_float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if not text.isascii():  # float() would take other scripts' digits; pydantic does not
        raise ValueError(NOT_NUMBER)
    try:
        return float(text)
    except ValueError:
        raise ValueError(NOT_NUMBER) from None


def to_str(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


@dataclass(frozen=True)
class PlainParam(RuntimeParam):
    """One value (or a list of them) of a plain type, with the bounds typer takes."""

    convert: Any = None
    many: bool = False

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            if self.many:
                items = value if isinstance(value, (list, tuple)) else [value]
                return [self._one(item) for item in items]
            return self._one(value)
        except ValueError as exc:
            raise BadParameter(str(exc), ctx=ctx, param=param) from None

    def _one(self, value: Any) -> Any:
        result = self.convert(value)
        low, high = self.parameter_info.min, self.parameter_info.max
        if low is not None and result < low:
            raise ValueError(f"Input should be greater than or equal to {low}")
        if high is not None and result > high:
            raise ValueError(f"Input should be less than or equal to {high}")
        return result


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("not a flag value")  # never reached: typer passes flags as bools


CONVERTERS: dict[Any, Any] = {str: to_str, int: to_int, float: to_float, bool: _bool}


def plain_param(param: Any) -> PlainParam | None:
    """The pydantic-free coercion for ``param``, or None where typer's own is needed."""
    desc = getattr(param, "type_descriptor", None)
    if desc is None or desc.is_choice or desc.is_path or desc.is_file or desc.is_datetime:
        return None
    info = desc.parameter_info
    if info.parser is not None or info.clamp:
        return None
    annotation, many = desc.annotation, False
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
        many = True
    convert = CONVERTERS.get(annotation)
    if convert is None or (annotation is bool and (many or not getattr(param, "is_flag", False))):
        return None
    return PlainParam(info, desc.annotation, convert=convert, many=many)


def install(param: Any) -> None:
    """Give ``param`` the plain coercion before typer would build a pydantic adapter."""
    if getattr(param, "_runtime_param", "absent") is not None:
        return  # already built (or not a typer parameter)
    plain = plain_param(param)
    if plain is not None:
        param._runtime_param = plain
