"""`deskctl ticket confirm | reject-solution | contact`: the customer's answer to a
proposed solution, and the engineer's attempts to reach the customer (docs/rules.md,
closure protocol). Ticket changes like the others (``deskctl.cli.ticket_change``)."""

from __future__ import annotations

from typing import Annotated

import typer

from deskctl.cli.ticket_change import Action, ticket_change


@ticket_change("confirm", note_help="What the customer said.")
def confirm() -> Action:
    """The customer confirmed the solution: close the ticket as resolved."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.confirm(s, ticket_id, ctx)


@ticket_change("reject-solution", note_help="What the customer said.")
def reject_solution() -> Action:
    """The customer rejected the solution: back to in_progress; the protocol stops."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.reject_solution(s, ticket_id, ctx)


@ticket_change("contact", note_help="What was said.")
def contact(
    via: Annotated[str, typer.Option("--via", help="phone or email.")],
    outcome: Annotated[str, typer.Option("--outcome", help="no-answer or reached.")],
) -> Action:
    """Record an attempt to reach the customer (a call or an e-mail) and its outcome."""
    from deskctl.domain.closure import check_contact
    from deskctl.services import flow

    check_contact(via, outcome)
    return lambda s, ctx, ticket_id: flow.contact(s, ticket_id, ctx, via, outcome)
