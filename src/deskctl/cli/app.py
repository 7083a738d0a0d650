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


def load(name: str) -> Any:
    """The click command or group ``name``, built from its module alone."""
    import typer.main

    part = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    module_of(name).register(part)
    return typer.main.get_group(part).commands[name]


class Root(DeskGroup):
    """The ``deskctl`` group: its commands and groups are loaded when asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            from deskctl.cli import _help

            command = load(cmd_name)
            _help.apply_loaded(command, cmd_name, _help.help_names(self))
            self.commands[cmd_name] = command
        return self.commands.get(cmd_name)


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
