"""`deskctl mail login | outbox`: the SMTP password and the outgoing messages."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, store_session, sub_app

mail_app = sub_app("E-mail: fetch incoming mail, the quarantine, the outbox, passwords.")


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


@mail_app.command("show")
def show(
    message: Annotated[int, typer.Argument(help="Outgoing message id (mail outbox).")],
    json_out: bool = JsonOpt,
) -> None:
    """One outgoing message as the customer gets it: its headers and its text."""
    from deskctl.render.mail import print_mail
    from deskctl.render.output import emit_json
    from deskctl.services import mail

    with store_session() as s:
        doc = mail.outbox_message(s, message)
    if json_out:
        emit_json(doc)
    else:
        print_mail(doc)


FETCH_HELP = "Only this mailbox of config.toml (repeat); default: all."


@mail_app.command("fetch")
def fetch(
    mailbox: Annotated[list[str] | None, typer.Option("--mailbox", help=FETCH_HELP)] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most this many messages per mailbox.")
    ] = None,
    deliver: Annotated[
        bool, typer.Option("--deliver/--no-deliver", help="Send the outbox afterwards.")
    ] = True,
    json_out: bool = JsonOpt,
) -> None:
    """Read new mail ([mailboxes.*] in config.toml) into tickets; for cron, before sweep.

    Each message is handled once however often or concurrently this runs: a reply
    threads onto its ticket, a known contact's new mail opens one, a stranger's is
    quarantined (`mail quarantine list`), auto-replies and bounces are only counted.
    """
    from deskctl import clock
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, say
    from deskctl.services import mail_sources
    from deskctl.store import db

    if limit is not None and limit < 1:
        raise BadInput("--limit must be 1 or more")
    boxes = mail_sources.mailboxes()
    names = list(mailbox or boxes)
    unknown = [n for n in names if n not in boxes]
    if unknown:
        known = ", ".join(boxes) or "none configured"
        raise BadInput(f"--mailbox: no mailbox {', '.join(unknown)} ({known})")
    if not names:
        raise BadInput("no [mailboxes.NAME] in config.toml: see docs/mail.md")
    engine = db.ready_engine()
    reports = []
    for name in names:
        box = boxes[name]
        report = mail_sources.fetch(
            engine,
            box,
            now=clock.now,
            own=mail_sources.own_addresses(box, boxes),
            limit=limit,
        )
        reports.append(report)
        if not json_out:
            counts = ", ".join(f"{n} {k}" for k, n in sorted(report.counts.items()))
            say(f"{name}: {report.total} message(s){': ' + counts if counts else ''}")
    sent = None
    if deliver:
        from deskctl.services import mail

        sent = mail.deliver_pending(engine, now=clock.now())
        if not json_out and sent.deliveries:
            say(f"outbox: {sent.sent} sent, {sent.failed} failed, {sent.pending} pending")
    if json_out:
        outbox = sent.to_json() if sent is not None else None
        emit_json({"mailboxes": [r.to_json() for r in reports], "outbox": outbox})


quarantine_app = sub_app("Mail from unknown senders, held until opened or discarded.")
mail_app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("list")
def quarantine_list(
    all_: Annotated[bool, typer.Option("--all", help="Also opened and discarded ones.")] = False,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """Held messages, oldest first."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import inbox

    fmt = choose_format(json_out=json_out, csv_out=csv_out)
    with store_session() as s:
        rows = inbox.quarantine_rows(s, all_=all_, limit=0)
    columns = [
        Column("id", "ID", "right"),
        Column("status", "STATUS"),
        Column("received_at", "RECEIVED"),
        Column("sender", "FROM"),
        Column("subject", "SUBJECT"),
        Column("reason", "WHY"),
    ]
    emit_rows(rows, columns, fmt, empty="the quarantine is empty")


@quarantine_app.command("open")
def quarantine_open(
    qid: Annotated[int, typer.Argument(help="Quarantine id (mail quarantine list).")],
    customer: Annotated[str, typer.Option("--customer", help="The customer it is for.")],
    contact: Annotated[
        str | None,
        typer.Option("--contact", help="Their contact (default: the sender, added if new)."),
    ] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Open a held message as a ticket for a customer; prints the new id."""
    from deskctl import clock
    from deskctl.config import acting_user
    from deskctl.render.output import emit_json, emit_text
    from deskctl.services import inbox
    from deskctl.services import tickets as svc

    with store_session(write=True) as s:
        ticket = inbox.open_quarantined(
            s,
            qid,
            customer=customer,
            contact=contact,
            now=clock.now(),
            actor=acting_user(),
        )
        doc = svc.ticket_json(s, ticket) if json_out else None
        ticket_id = ticket.id
    if json_out:
        emit_json(doc)
    else:
        emit_text(ticket_id)


@quarantine_app.command("discard")
def quarantine_discard(
    qid: Annotated[int, typer.Argument(help="Quarantine id (mail quarantine list).")],
) -> None:
    """Discard a held message (kept as discarded, never deleted)."""
    from deskctl import clock
    from deskctl.config import acting_user
    from deskctl.render.output import say
    from deskctl.services import inbox

    with store_session(write=True) as s:
        inbox.discard_quarantined(s, qid, now=clock.now(), actor=acting_user())
    say(f"quarantined message {qid} discarded")
