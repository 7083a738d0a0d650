"""`deskctl ticket onsite | report`: on-site visits and requested reports.

They record the events that start and stop the ``onsite`` and ``report`` SLA
metrics (``deskctl.domain.visits`` has the rules). Like the other ticket
commands: ``--at`` says when, ``--note`` adds to the history, one line on
stderr, or the ``ticket show --json`` document with ``--json``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskctl.cli._base import AtOpt, JsonOpt, store_session
from deskctl.cli.ticket import ticket_app

NoteOpt = typer.Option(None, "--note", help="A note for the ticket's history.")
IdArg = typer.Argument(help="Ticket id.")
RequestOpt = typer.Option(False, "--request", help="The customer asked for it (starts the clock).")


def register(app: typer.Typer) -> None:
    """The commands join the ``ticket`` group when this module is imported."""


def _one_flag(request: bool, done: bool, done_flag: str) -> None:
    from deskctl.errors import BadInput

    if request == done:
        raise BadInput(f"give exactly one of --request or {done_flag}")


def _record(ticket_id: int, plan: Any, *, at: str | None, json_out: bool, **extra: Any) -> None:
    """Build the event with ``plan(state, events, now=, actor=, ...)`` and append it."""
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.render.output import emit_json, say
    from deskctl.render.tickets import ticket_document
    from deskctl.services import tickets

    now = when(at)
    with store_session(write=True) as s:
        ticket, history, state = tickets.current(s, ticket_id)
        event = plan(state, history, now=now, actor=acting_user(), **extra)
        after = tickets.apply(
            s, ticket, history, [event], now=now, policy=tickets.policy_of(s, ticket)
        )
        doc = ticket_document(s, ticket_id) if json_out else None
    if json_out:
        emit_json(doc)
    else:
        say(f"ticket {ticket_id}: {event.kind.replace('_', ' ')} ({after.status})")


@ticket_app.command("onsite")
def onsite(
    ticket_id: Annotated[int, IdArg],
    request: bool = RequestOpt,
    arrived: bool = typer.Option(
        False, "--arrived", help="The engineer arrived on site (stops the clock)."
    ),
    note: str | None = NoteOpt,
    at: str | None = AtOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Record an on-site visit: requested (--request) or the engineer's arrival (--arrived)."""
    from deskctl.domain import visits

    _one_flag(request, arrived, "--arrived")
    plan = visits.plan_onsite_request if request else visits.plan_onsite_arrived
    _record(ticket_id, plan, at=at, json_out=json_out, note=note)


@ticket_app.command("report")
def report(
    ticket_id: Annotated[int, IdArg],
    request: bool = RequestOpt,
    delivered: bool = typer.Option(
        False, "--delivered", help="The report was delivered (stops the clock)."
    ),
    what: Annotated[
        str | None, typer.Option("--what", help="Which report was asked for (with --request).")
    ] = None,
    note: str | None = NoteOpt,
    at: str | None = AtOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Record a requested report: the request (--request) or its delivery (--delivered)."""
    from deskctl.domain import visits
    from deskctl.errors import BadInput

    _one_flag(request, delivered, "--delivered")
    if request:
        _record(
            ticket_id, visits.plan_report_request, at=at, json_out=json_out, note=note, what=what
        )
        return
    if what is not None:
        raise BadInput("--what names the report when it is requested (with --request)")
    _record(ticket_id, visits.plan_report_delivered, at=at, json_out=json_out, note=note)
