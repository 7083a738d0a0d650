"""docs/commands.md: every command's --help, generated from the program (sqlite-utils' way).

tests/test_commands_doc.py fails when the file and the program disagree; regenerate with

    .venv/bin/python -m tests.commands_doc --update
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "commands.md"
WIDTH = 100

HEADER = """# Command reference

Every command's `--help`, generated from the program by `python -m tests.commands_doc
--update`; a test fails when this file and the program disagree. Start with the
[README's tour](../README.md#a-tour).
"""


def tree() -> Any:
    """The click command tree with deskctl's metavars, help formatted as plain text."""
    import typer.main

    from deskctl.cli import _help
    from deskctl.cli.app import app

    root = typer.main.get_command(app)
    _help.apply(root)
    return root


def commands(root: Any) -> Iterator[tuple[list[str], Any]]:
    """(path, command) for the root and every group and command under it, in help order."""
    from typer import _click as click

    def walk(command: Any, path: list[str], parent: Any) -> Iterator[tuple[list[str], Any]]:
        ctx = click.Context(command, info_name=path[-1], parent=parent,
                            help_option_names=["-h", "--help"])
        yield path, ctx
        for name in command.list_commands(ctx) if hasattr(command, "list_commands") else []:
            yield from walk(command.get_command(ctx, name), [*path, name], ctx)

    yield from walk(root, ["deskctl"], None)


def help_text(ctx: Any) -> str:
    from typer import _click as click

    command = ctx.command
    command.rich_markup_mode = None  # plain text: the reference is read in an editor too
    formatter = click.HelpFormatter(width=WIDTH, max_width=WIDTH)
    command.format_help(ctx, formatter)
    return formatter.getvalue().rstrip() + "\n"


def render() -> str:
    parts = [HEADER]
    for path, ctx in commands(tree()):
        parts.append(f"\n## {' '.join(path)}\n\n```\n{help_text(ctx)}```\n")
    return "".join(parts)


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.commands_doc --update")
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}", file=sys.stderr)
