"""The deskctl command line: one app object, a sub-app per command group.

Heavy modules (sqlmodel, alembic, keyring, psycopg, holidays) are imported
inside commands, so ``deskctl --help`` and completion stay fast.
"""

from __future__ import annotations

import typer

from deskctl import __version__
from deskctl.cli import bill
from deskctl.cli import calendar
from deskctl.cli import completion as completion_cli
from deskctl.cli import contract
from deskctl.cli import customer
from deskctl.cli import db
from deskctl.cli import demo as demo_cli
from deskctl.cli import kb
from deskctl.cli import mail as mail_cmd
from deskctl.cli import masterdata
from deskctl.cli import policy
from deskctl.cli import queue
from deskctl.cli import report as report_cli
from deskctl.cli import sla
from deskctl.cli import sweep as sweep_cmd
from deskctl.cli import ticket
from deskctl.cli import ticket_attachment
from deskctl.cli import ticket_flow
from deskctl.cli import ticket_protocol
from deskctl.cli import ticket_visit
from deskctl.cli import ticket_work
from deskctl.cli._base import DeskGroup

app = typer.Typer(
    name="deskctl",
    cls=DeskGroup,
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


db.register(app)
policy.register(app)
customer.register(app)
masterdata.register(app)
contract.register(app)
ticket.register(app)
ticket_flow.register(app)
ticket_work.register(app)
ticket_attachment.register(app)
kb.register(app)
queue.register(app)
bill.register(app)
report_cli.register(app)
ticket_protocol.register(app)
sweep_cmd.register(app)
mail_cmd.register(app)
demo_cli.register(app)
completion_cli.register(app)
calendar.register(app)
sla.register(app)
ticket_visit.register(app)


def main() -> None:
    import sys

    from deskctl.cli._base import check_utf8

    check_utf8(sys.argv[1:])
    app(prog_name="deskctl")
