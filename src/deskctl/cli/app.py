"""The deskctl command line: one app object, a sub-app per command group.

Only the command group invoked is imported and built (``Root``); heavy modules
(sqlmodel, alembic, keyring, psycopg, holidays) are imported inside commands, so
``deskctl --help`` and completion stay fast.
"""

from __future__ import annotations

from typing import Any

import typer

from deskctl import __version__
from deskctl.cli._base import DeskGroup

# Every top-level command and group, in help order. Only the one invoked is imported
# and built, as pypa/hatch's lazy groups do: building the whole tree costs a command
# more than its query. tests/cli/test_lazy_commands.py checks this list against what
# the modules register.
COMMANDS = (
    "init", "queue", "sweep", "demo", "completion", "db", "policy", "customer", "contact",
    "product", "agent", "contract", "ticket", "kb", "bill", "invoice", "report", "mail",
    "calendar", "sla",
)  # fmt: skip


def module_of(name: str) -> Any:
    """The module whose ``register`` adds ``name``, imported with what it needs (the
    ticket commands live in several modules that add to one group when imported)."""
    if name in ("init", "db"):
        from deskctl.cli import db
        return db
    if name == "queue":
        from deskctl.cli import queue
        return queue
    if name == "sweep":
        from deskctl.cli import sweep
        return sweep
    if name == "demo":
        from deskctl.cli import demo
        return demo
    if name == "completion":
        from deskctl.cli import completion
        return completion
    if name == "policy":
        from deskctl.cli import policy
        return policy
    if name in ("customer", "contact"):
        from deskctl.cli import customer
        return customer
    if name in ("product", "agent"):
        from deskctl.cli import masterdata
        return masterdata
    if name == "contract":
        from deskctl.cli import contract
        return contract
    if name == "ticket":
        from deskctl.cli import ticket
        from deskctl.cli import ticket_attachment, ticket_flow, ticket_protocol  # noqa: F401
        from deskctl.cli import ticket_visit, ticket_work  # noqa: F401
        return ticket
    if name == "kb":
        from deskctl.cli import kb
        return kb
    if name in ("bill", "invoice"):
        from deskctl.cli import bill
        return bill
    if name == "report":
        from deskctl.cli import report
        return report
    if name == "mail":
        from deskctl.cli import mail
        return mail
    if name == "calendar":
        from deskctl.cli import calendar
        return calendar
    if name == "sla":
        from deskctl.cli import sla
        return sla
    raise KeyError(name)


def load(name: str, only: str | None = None) -> Any:
    """The click command or group ``name``, built from its module alone; with ``only``,
    the group holding just its command ``only`` (None when it has no such command)."""
    import typer.main

    part = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    module_of(name).register(part)
    if only is not None and not _narrow(part, name, only):
        return None
    return typer.main.get_group(part).commands[name]


def _narrow(part: typer.Typer, name: str, only: str) -> bool:
    """Keep only the command ``only`` in ``part``'s group ``name`` (a copy: the module's
    own sub-app keeps every command for the next full build)."""
    import copy

    from typer.main import get_command_name

    for info in part.registered_groups:
        group = info.typer_instance
        if info.name != name or group is None:
            continue
        commands = [
            c
            for c in group.registered_commands
            if (c.name or get_command_name(getattr(c.callback, "__name__", ""))) == only
        ]
        groups = [g for g in group.registered_groups if g.name == only]
        if not commands and not groups:
            return False
        narrowed = copy.copy(group)
        narrowed.registered_commands, narrowed.registered_groups = commands, groups
        info.typer_instance = narrowed
        return True
    return False


class Root(DeskGroup):
    """The ``deskctl`` group: its commands and groups are loaded when asked for, and
    ``deskctl GROUP COMMAND ...`` builds only that command of the group."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = self._ready(load(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name in COMMANDS and name not in self.commands and len(args) > 1:
            narrowed = load(name, only=args[1])
            if narrowed is not None:  # else (an option, a typo, --help): the whole group
                return name, self._ready(narrowed, name), args[1:]
        return super().resolve_command(ctx, args)

    def _ready(self, command: Any, name: str) -> Any:
        from deskctl.cli import _help

        _help.apply_loaded(command, name, _help.help_names(self))
        return command


app = typer.Typer(
    name="deskctl",
    cls=Root,
    help="A terminal-first helpdesk for software vendors that sell support contracts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from deskctl.render.output import emit_text

        emit_text(f"deskctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    csv_raw: bool = typer.Option(
        False,
        "--csv-raw",
        help="--csv cells exactly as stored: no leading ' before = + - @ (for programs, "
        "not spreadsheets; also DESKCTL_CSV_RAW=1).",
    ),
) -> None:
    """deskctl: policies in, SLAs, closure protocol and bills out.

    Environment: DESKCTL_DB (store URL or SQLite path), DESKCTL_USER (acting agent),
    DESKCTL_NOW (replaces the clock), NO_COLOR.
    """
    if csv_raw:
        import os

        os.environ["DESKCTL_CSV_RAW"] = "1"


def main() -> None:
    import os
    import sys

    from deskctl.cli._base import check_utf8

    check_utf8(sys.argv[1:])
    if os.environ.get("_DESKCTL_COMPLETE"):
        # built with add_completion=False, which leaves typer's shell classes unregistered
        from typer._completion_classes import completion_init

        completion_init()
    app(prog_name="deskctl")
