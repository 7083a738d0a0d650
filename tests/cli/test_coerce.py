"""deskctl's pydantic-free parameter coercion gives what typer's pydantic one gives.

typer 0.29 would coerce each value through a pydantic TypeAdapter; ``cli._coerce``
does it for the plain types without importing pydantic. Every parameter of every
command is compared with typer's own adapter on what a user might type.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from typer import _adapters
from typer._click.exceptions import BadParameter

from deskctl.cli import _coerce, _help
from deskctl.cli import app as app_module

TYPED = ["0", "7", "12", " 12 ", "12\n", "+3", "-4", "-0", "1_000", "007", "1.0", "2.00",
         "1.5", "1.", ".5", "1e3", "0x10", "", " ", "abc", "12abc", "１２", "٣", "9" * 25,
         "inf", "nan", "-inf", "ticket", "maria", "São Paulo", "a\tb", "--x"]


def _params() -> list[Any]:
    found = []

    def walk(command: Any) -> None:
        found.extend(command.params)
        for sub in (getattr(command, "commands", None) or {}).values():
            walk(sub)

    for name in app_module.COMMANDS:
        walk(app_module.load(name))
    return found


def _pydantic(param: Any, value: Any) -> tuple[str, Any]:
    desc = param.type_descriptor
    adapter = _adapters.try_build_adapter(desc.annotation, desc.parameter_info)
    try:
        return "ok", adapter.validate_python(value)
    except ValidationError as exc:
        return "error", exc.errors()[0]["msg"]


def _ours(plain: Any, param: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", plain.coerce(value, param=param, ctx=None)
    except BadParameter as exc:
        return "error", exc.message


PARAMS = _params()


def test_most_parameters_skip_pydantic() -> None:
    plain = [p for p in PARAMS if _coerce.plain_param(p) is not None]
    assert len(plain) >= 0.95 * len(PARAMS)


@pytest.mark.parametrize("kind", sorted({repr(p.type_descriptor.annotation) for p in PARAMS}))
def test_values_and_messages_match_typers_pydantic_coercion(kind: str) -> None:
    params = [p for p in PARAMS if repr(p.type_descriptor.annotation) == kind]
    compared = 0
    for param in params:
        plain = _coerce.plain_param(param)
        if plain is None or param.type_descriptor.annotation is bool:
            continue  # typer's own coercion (an Enum, a Path), or a flag typer never coerces
        many = param.nargs == -1 or param.multiple
        for text in TYPED:
            value = (text, "5") if many else text
            # repr: nan is not equal to itself
            assert repr(_ours(plain, param, value)) == repr(_pydantic(param, value)), (
                param.name, value)
            compared += 1
    assert compared or all(_coerce.plain_param(p) is None or p.type_descriptor.annotation is bool
                           for p in params)


def test_a_bad_integer_is_the_same_usage_error(cli) -> None:
    result = cli("ticket", "list", "--limit", "ten", code=2)
    assert "Invalid value for '--limit'" in result.stderr
    assert "unable to parse string as an integer" in result.stderr


def test_a_bound_is_kept(cli) -> None:
    result = cli("ticket", "assign", "1", "--to", "x", "--if-rev", "-1", code=2)
    assert "greater than or equal to 0" in result.stderr


def test_every_loaded_parameter_gets_the_plain_coercion() -> None:
    command = app_module.load("ticket")
    _help.apply_loaded(command, "ticket", ["-h", "--help"])
    listing = command.commands["list"]
    limit = next(p for p in listing.params if p.name == "limit")
    assert isinstance(limit._runtime_param, _coerce.PlainParam)
