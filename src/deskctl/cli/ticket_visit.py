"""`deskctl ticket onsite | report`: on-site visits and requested reports.

They record the events that start and stop the ``onsite`` and ``report`` SLA
metrics (``deskctl.domain.visits`` has the rules). Ticket changes like the others
(``deskctl.cli.ticket_change``): ``--at``, ``--note``, ``--if-rev``, ``--json``, ids.
"""

from __future__ import annotations

from typing import Annotated

import typer

from deskctl.cli.ticket_change import Action, ticket_change

RequestOpt = typer.Option("--request", help="The customer asked for it (starts the clock).")


def _one_flag(request: bool, done: bool, done_flag: str) -> None:
    from deskctl.errors import BadInput

    if request == done:
        raise BadInput(f"give exactly one of --request or {done_flag}")


@ticket_change("onsite")
def onsite(
    request: Annotated[bool, RequestOpt] = False,
    arrived: Annotated[
        bool, typer.Option("--arrived", help="The engineer arrived on site (stops the clock).")
    ] = False,
) -> Action:
    """Record an on-site visit: requested (--request) or the engineer's arrival (--arrived)."""
    from deskctl.domain import visits
    from deskctl.services import flow

    _one_flag(request, arrived, "--arrived")
    plan = visits.plan_onsite_request if request else visits.plan_onsite_arrived
    return lambda s, ctx, ticket_id: flow.visit(s, ticket_id, ctx, plan)


@ticket_change("report")
def report(
    request: Annotated[bool, RequestOpt] = False,
    delivered: Annotated[
        bool, typer.Option("--delivered", help="The report was delivered (stops the clock).")
    ] = False,
    what: Annotated[
        str | None, typer.Option("--what", help="Which report was asked for (with --request).")
    ] = None,
) -> Action:
    """Record a requested report: the request (--request) or its delivery (--delivered)."""
    from deskctl.domain import visits
    from deskctl.errors import BadInput
    from deskctl.services import flow

    _one_flag(request, delivered, "--delivered")
    if request:
        return lambda s, ctx, ticket_id: flow.visit(
            s, ticket_id, ctx, visits.plan_report_request, what=what
        )
    if what is not None:
        raise BadInput("--what names the report when it is requested (with --request)")
    return lambda s, ctx, ticket_id: flow.visit(s, ticket_id, ctx, visits.plan_report_delivered)
