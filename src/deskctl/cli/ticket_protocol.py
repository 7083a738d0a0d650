"""`deskctl ticket confirm | reject-solution | contact`: the customer's answer to a
proposed solution, and the engineer's attempts to reach the customer (SPEC §6)."""

from __future__ import annotations

from typing import Annotated

import typer

from deskctl.cli._base import AtOpt, JsonOpt, store_session
from deskctl.cli.ticket import ticket_app

IdArg = typer.Argument(help="Ticket id.")


def register(app: typer.Typer) -> None:
    """The commands attach to the ``ticket`` group when this module is imported."""


NoteOpt = typer.Option("--note", help="What the customer said.")


def _done(ticket_id: int, json_out: bool, message: str) -> None:
    from deskctl.render.output import emit_json, say
    from deskctl.services import tickets

    if json_out:
        with store_session() as s:
            emit_json(tickets.ticket_json(s, tickets.get(s, ticket_id)))
    else:
        say(message)


@ticket_app.command("confirm")
def confirm(
    ticket_id: Annotated[int, IdArg],
    note: Annotated[str | None, NoteOpt] = None,
    at: str | None = AtOpt,
    json_out: bool = JsonOpt,
) -> None:
    """The customer confirmed the solution: close the ticket as resolved."""
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.services import sweep

    now = when(at)
    with store_session(write=True) as s:
        sweep.confirm(s, ticket_id, now=now, actor=acting_user(), note=note)
    _done(ticket_id, json_out, f"ticket {ticket_id} closed resolved: the customer confirmed")


@ticket_app.command("reject-solution")
def reject_solution(
    ticket_id: Annotated[int, IdArg],
    note: Annotated[str | None, NoteOpt] = None,
    at: str | None = AtOpt,
    json_out: bool = JsonOpt,
) -> None:
    """The customer rejected the solution: back to in_progress; the protocol stops."""
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.services import sweep

    now = when(at)
    with store_session(write=True) as s:
        sweep.reject_solution(s, ticket_id, now=now, actor=acting_user(), note=note)
    _done(ticket_id, json_out, f"ticket {ticket_id} back in progress: solution rejected")


@ticket_app.command("contact")
def contact(
    ticket_id: Annotated[int, IdArg],
    via: Annotated[str, typer.Option("--via", help="phone or email.")],
    outcome: Annotated[str, typer.Option("--outcome", help="no-answer or reached.")],
    note: Annotated[str | None, typer.Option("--note", help="What was said.")] = None,
    at: str | None = AtOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Record an attempt to reach the customer (a call or an e-mail) and its outcome."""
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.services import sweep

    sweep.check_contact(via, outcome)
    now = when(at)
    with store_session(write=True) as s:
        sweep.record_contact(
            s, ticket_id, via=via, outcome=outcome, now=now, actor=acting_user(), note=note
        )
    _done(ticket_id, json_out, f"ticket {ticket_id}: contact by {via} recorded ({outcome})")
