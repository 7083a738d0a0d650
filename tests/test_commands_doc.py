"""docs/commands.md is the program's --help, and that help reads like a Unix tool's."""

from __future__ import annotations

import re

from tests import commands_doc


def test_command_reference_matches_the_program() -> None:
    assert commands_doc.DOC.read_text(encoding="utf-8") == commands_doc.render(), (
        "docs/commands.md is out of date: run `python -m tests.commands_doc --update`"
    )


def test_help_shows_conventional_metavars_not_python_types() -> None:
    text = commands_doc.render()
    assert not re.findall(r"<(?:str|int|bool|float|path|list\[[a-z]+\])[^>]*>", text)
    assert "--at INSTANT" in text and "--to AGENT" in text and "ID" in text


def test_every_date_and_instant_option_says_its_format() -> None:
    for path, ctx in commands_doc.commands(commands_doc.tree()):
        for param in ctx.command.params:
            if param.metavar == "INSTANT":
                assert "ISO-8601" in (param.help or ""), (path, param.name)
            if param.metavar == "DATE":
                assert "YYYY-MM-DD" in (param.help or ""), (path, param.name)


def test_every_command_group_has_an_example() -> None:
    groups = [
        (path, ctx) for path, ctx in commands_doc.commands(commands_doc.tree())
        if len(path) == 2 and hasattr(ctx.command, "list_commands")
    ]
    assert len(groups) >= 15
    missing = [" ".join(p) for p, ctx in groups if "Example" not in (ctx.command.help or "")]
    assert not missing
