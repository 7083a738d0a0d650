"""`deskctl mail login | outbox`: the SMTP password and the outgoing messages."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, store_session, sub_app

mail_app = sub_app("Outgoing e-mail: SMTP password, the outbox.")


def register(app: typer.Typer) -> None:
    app.add_typer(mail_app, name="mail")


@mail_app.command("login")
def login(
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Store the SMTP password of config.toml's [smtp] username in the system keyring."""
    from deskctl.errors import BadInput
    from deskctl.render.output import say
    from deskctl.services import mail

    settings = mail.smtp_settings()
    if settings is None or not settings.username:
        raise BadInput("set [smtp] host and username in config.toml first")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True)
    else:
        raise BadInput("no terminal to ask for the password: use --password-stdin")
    if not password:
        raise BadInput("empty password: nothing stored")
    mail.store_password(settings, password)
    say(f"password for {settings.describe()} stored in the keyring")


OUTBOX_HELP = "Only messages not sent yet."


@mail_app.command("outbox")
def outbox(
    pending: Annotated[bool, typer.Option("--pending", help=OUTBOX_HELP)] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many; 0 for all.")] = 100,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """List outgoing messages, newest first: pending, sending or sent, with errors."""
    from deskctl.errors import BadInput
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import mail

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    if limit < 0:
        raise BadInput("--limit must be 0 or more")
    with store_session() as s:
        rows = mail.outbox_rows(s, pending_only=pending, limit=limit)
    columns = [
        Column("id", "ID", "right"),
        Column("status", "STATUS"),
        Column("ticket", "TICKET", "right"),
        Column("recipient", "TO"),
        Column("attempts", "TRIES", "right"),
        Column("subject", "SUBJECT"),
        Column("last_error", "LAST ERROR"),
    ]
    emit_rows(rows, columns, fmt, empty="the outbox is empty")
