"""`deskctl ticket triage | assign | respond | start | wait | ... | close | reopen`: the lifecycle.

Every command records events (``--at`` says when, ``--note`` adds a note to the
history), prints one line on stderr, or the changed ticket with ``--json``
(the ``ticket show --json`` document). ``--if-rev N`` refuses (exit 4) when the
ticket is no longer at rev N, for scripts that decided on what they last saw.
Each takes several ids, or ``-`` for ids on stdin (``deskctl.cli.ticket_change``).
"""

from typing import Annotated

import typer

from deskctl.cli.ticket_change import Action, ticket_change


@ticket_change("triage")
def triage(
    severity: Annotated[
        str | None, typer.Option("--severity", help="Severity, by name (see policy show).")
    ] = None,
    impact: Annotated[
        str | None, typer.Option("--impact", help="Impact level; with --urgency, via the matrix.")
    ] = None,
    urgency: Annotated[str | None, typer.Option("--urgency", help="Urgency level.")] = None,
    category: Annotated[
        str | None,
        typer.Option(
            "--category",
            help="defect | always_supported | misuse | out_of_scope | billable_service "
            "(default: the policy's category for --topic, else defect).",
        ),
    ] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="The case type.")] = None,
    kb: Annotated[
        str | None, typer.Option("--kb", help="Knowledge-base article (misuse redirect).")
    ] = None,
    billable: Annotated[
        bool, typer.Option("--billable", help="Convert out_of_scope into a billable service.")
    ] = False,
) -> Action:
    """Set severity and scope category: queue, await approval, or close (misuse, out of scope)."""
    from deskctl.services import flow

    req = flow.TriageRequest(
        category=category,
        severity=severity,
        impact=impact,
        urgency=urgency,
        topic=topic,
        kb_article=kb,
        billable=billable,
    )
    return lambda s, ctx, ticket_id: flow.triage(s, ticket_id, ctx, req)


@ticket_change("approve")
def approve() -> Action:
    """The customer approved the cost of a billable service: the ticket is queued."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.approve(s, ticket_id, ctx)


@ticket_change("decline")
def decline() -> Action:
    """The customer declined the cost: closed as rejected."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.decline(s, ticket_id, ctx)


@ticket_change("assign")
def assign(
    to: Annotated[str, typer.Option("--to", help="Agent login.")],
    team: Annotated[
        str | None, typer.Option("--team", help="Team (default: the agent's team).")
    ] = None,
) -> Action:
    """Assign the ticket to an agent (and a team)."""
    from deskctl.cli.ticket_change import through_dbapi
    from deskctl.services import moves

    # the move scripts run on many tickets: written through the DBAPI, no ORM to import
    return through_dbapi(lambda w, ctx, ticket_id: moves.light_assign(w, ticket_id, ctx, to, team))


@ticket_change("respond")
def respond(
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="What was said to the customer.")
    ] = None,
) -> Action:
    """Record a response to the customer (the first stops the response clock; starts work)."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.respond(s, ticket_id, ctx, message)


@ticket_change("start")
def start() -> Action:
    """Start working on the ticket: in_progress."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.start(s, ticket_id, ctx)


@ticket_change("wait")
def wait(
    on: Annotated[str, typer.Option("--on", help="customer | third-party")],
    vendor: Annotated[
        str | None, typer.Option("--vendor", help="The third party waited on.")
    ] = None,
) -> Action:
    """Wait on the customer (awaiting_customer) or a third party (forwarded)."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.wait(s, ticket_id, ctx, on, vendor)


@ticket_change("resume")
def resume() -> Action:
    """End a wait: back to where the ticket was (a forwarded ticket to in_progress)."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.resume(s, ticket_id, ctx)


@ticket_change("forward")
def forward(
    to: Annotated[str, typer.Option("--to", help="The third party (manufacturer, vendor).")],
) -> Action:
    """Forward to a third party: forwarded until `ticket resume`."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.forward(s, ticket_id, ctx, to)


@ticket_change("split")
def split(
    part: Annotated[list[str], typer.Option("--part", help="Title of a sub-ticket (repeat).")],
) -> Action:
    """Split into sub-tickets; prints their ids one per line (the parent with --json).

    Sub-tickets open queued with the parent's customer, contact, product,
    contract and severity; the parent waits in awaiting_subticket and resumes
    by itself when the last one closes.
    """
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.split(s, ticket_id, ctx, part)


@ticket_change("resolve")
def resolve(
    solution: Annotated[str, typer.Option("--solution", help="The solution proposed.")],
) -> Action:
    """Propose a solution: awaiting_verification (the closure protocol starts)."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.resolve(s, ticket_id, ctx, solution)


@ticket_change("close")
def close(
    outcome: Annotated[
        str,
        typer.Option("--outcome", help="resolved | unresolved | rejected | redirected | cancelled"),
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (not reproducible, duplicate...).")
    ] = None,
) -> Action:
    """Close the ticket with an outcome (refused while sub-tickets are open)."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.close(s, ticket_id, ctx, outcome, reason)


@ticket_change("reopen")
def reopen() -> Action:
    """Reopen a closed ticket within the policy's window (never one closed as accepted)."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.reopen(s, ticket_id, ctx)


@ticket_change("redirect")
def redirect(
    kb: Annotated[str, typer.Option("--kb", help="The knowledge-base article that answers it.")],
    topic: Annotated[
        str | None, typer.Option("--topic", help="The case type (default: the ticket's).")
    ] = None,
) -> Action:
    """Misuse: redirect to a knowledge-base article and close as redirected."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.redirect(s, ticket_id, ctx, kb, topic)


@ticket_change("comment")
def comment(
    text: Annotated[str, typer.Argument(help="The comment.")],
) -> Action:
    """Add a comment to the ticket's history."""
    from deskctl.services import flow

    return lambda s, ctx, ticket_id: flow.comment(s, ticket_id, ctx, text)


@ticket_change("update")
def update(
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
) -> Action:
    """Supply intake fields; the last missing required one makes the ticket info-complete."""
    from deskctl.services import flow

    fields = {
        "product": product,
        "version": version,
        "os": os_,
        "server": server,
        "hardware": hardware,
        "task": task,
        "error": error,
        "description": description,
    }
    return lambda s, ctx, ticket_id: flow.update(s, ticket_id, ctx, fields)
