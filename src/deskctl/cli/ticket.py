"""`deskctl ticket open | list | show`: tickets in and out."""

from __future__ import annotations

from typing import Annotated

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, read_store, store_session, sub_app

ticket_app = sub_app("Tickets: open, list, show, and move them through their lifecycle.")


def register(app: typer.Typer) -> None:
    app.add_typer(ticket_app, name="ticket")


@ticket_app.command("open")
def open_(
    title: Annotated[str | None, typer.Option("--title", help="Short summary.")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Customer key.")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="Contact e-mail.")] = None,
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel",
            help="portal, email, phone...; default the policy's default_channel (its first), "
            "email for --from-eml when the plan takes e-mail.",
        ),
    ] = None,
    product: Annotated[str | None, typer.Option("--product", help="Product name.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Software version.")] = None,
    os_: Annotated[str | None, typer.Option("--os", help="Operating system and version.")] = None,
    server: Annotated[str | None, typer.Option("--server", help="Server version.")] = None,
    hardware: Annotated[
        str | None, typer.Option("--hardware", help="Hardware type and model.")
    ] = None,
    task: Annotated[str | None, typer.Option("--task", help="The task being done.")] = None,
    error: Annotated[str | None, typer.Option("--error", help="Error numbers or messages.")] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="What happened.")
    ] = None,
    attach: Annotated[
        list[str] | None, typer.Option("--attach", help="A file to attach (repeat).")
    ] = None,
    from_eml: Annotated[
        str | None,
        typer.Option("--from-eml", help="Open from an e-mail: sender, subject, body, files."),
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option("--topic", help="Case type; an always-supported one needs no contract."),
    ] = None,
    override: Annotated[
        str | None,
        typer.Option("--override", help="Open it although not entitled (managers): the reason."),
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="When it was opened.")] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Open a ticket; prints the new id alone on stdout (the ticket with --json).

    The contract check (`deskctl contract check`) runs first: a request that is
    not entitled is refused (exit 1) unless its --topic is always supported or a
    manager gives --override REASON. Notes on the terms (billing) go to stderr.
    """
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.errors import BadInput
    from deskctl.render.output import emit_json, say
    from deskctl.services import entitlement
    from deskctl.services import tickets as svc

    files = [svc.read_attachment(p) for p in (attach or [])]
    if from_eml:
        sender, subject, body, eml_files = svc.parse_eml(from_eml)
        contact = contact or sender
        title = title or subject
        description = description or body
        files.extend(eml_files)
    if not contact:
        raise BadInput("--contact is required (or --from-eml)")
    if not title:
        raise BadInput("--title is required")
    req = svc.OpenRequest(
        customer=customer,
        contact=contact,
        title=title,
        channel=channel,
        from_email=bool(from_eml),
        fields={
            "product": product,
            "version": version,
            "os": os_,
            "server": server,
            "hardware": hardware,
            "task": task,
            "error": error,
            "description": description,
        },
        attachments=files,
        topic=topic,
        override=override,
    )
    with store_session(write=True) as s:
        ticket = svc.open_ticket(s, req, now=when(at), actor=acting_user())
        ticket_id = ticket.id
        doc = svc.ticket_json(s, ticket) if json_out else None
        notes = entitlement.open_notes(ticket.entitlement or {})
    for note in notes:
        say(f"deskctl: note: {note}")
    if json_out:
        emit_json(doc)
    else:
        from deskctl.render.output import emit_text

        emit_text(ticket_id)


LIST_HELP_STATUS = "Only this status (repeat)."


@ticket_app.command("list")
def list_(
    status: Annotated[list[str] | None, typer.Option("--status", help=LIST_HELP_STATUS)] = None,
    severity: Annotated[
        list[str] | None, typer.Option("--severity", help="Only this severity (repeat).")
    ] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Customer key.")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", help="Assigned agent.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only tickets not closed.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many; 0 for all.")] = 100,
    sort: Annotated[
        str, typer.Option("--sort", help="id (newest first) or sla (next deadline first).")
    ] = "id",
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print ids only.")] = False,
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """List tickets, newest first (tab-separated when piped)."""
    from deskctl import clock
    from deskctl.domain.vocabulary import STATES
    from deskctl.errors import BadInput
    from deskctl.render.output import choose_format, emit_rows
    from deskctl.render.tickets import LIST_COLUMNS, add_countdown, list_json
    from deskctl.services import views as svc

    fmt = choose_format(json_out=json_out, csv_out=csv_out, ids=quiet)
    for st in status or []:
        if st not in STATES:
            raise BadInput(f"--status: {st!r} is not one of {', '.join(STATES)}")
    if limit < 0:
        raise BadInput("--limit must be 0 or more")
    if sort not in svc.SORTS:
        raise BadInput(f"--sort: {sort!r} is not one of {', '.join(svc.SORTS)}")
    flt = svc.ListFilter(
        statuses=status or [],
        severities=severity or [],
        customer=customer,
        assignee=assignee,
        team=team,
        open_only=open_only,
        limit=limit,
        sort=sort,
    )
    with read_store() as r:
        rows = svc.list_tickets(r, flt)
    add_countdown(rows, clock.now(), markup=fmt == "table")
    emit_rows(rows, LIST_COLUMNS, fmt, json_doc=list_json(rows), empty="no tickets")


@ticket_app.command("show")
def show(
    ticket_id: Annotated[int, typer.Argument(help="Ticket id.")], json_out: bool = JsonOpt
) -> None:
    """Show a ticket with its history."""
    from deskctl import clock
    from deskctl.render.output import emit_json
    from deskctl.render.tickets import print_ticket
    from deskctl.services import views

    with read_store() as r:
        doc = views.ticket_document(r, ticket_id, clock.now())
    if json_out:
        emit_json(doc)
    else:
        print_ticket(doc)
