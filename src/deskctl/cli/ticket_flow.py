"""`deskctl ticket triage | assign | respond | start | wait | ... | close | reopen`: the lifecycle.

Every command records events (``--at`` says when, ``--note`` adds a note to the
history), prints one line on stderr, or the changed ticket with ``--json``
(the ``ticket show --json`` document). ``--if-rev N`` refuses (exit 4) when the
ticket is no longer at rev N, for scripts that decided on what they last saw.
"""

from collections.abc import Callable
from typing import Annotated, Any

import typer

from deskctl.cli._base import AtOpt, JsonOpt, store_session
from deskctl.cli.ticket import ticket_app

NoteOpt = typer.Option(None, "--note", help="A note for the ticket's history.")
IfRevOpt = typer.Option(
    None, "--if-rev", min=0, help="Only if the ticket is still at this rev (exit 4 otherwise)."
)
IdArg = typer.Argument(help="Ticket id.")


def register(app: typer.Typer) -> None:
    """The commands attach to the ``ticket`` group when this module is imported."""


def describe(change: Any) -> str:
    """One line for the person: the move, or what was recorded."""
    state = change.state
    if change.before != state.status:
        what = f"{change.before} -> {state.status}"
    else:
        kinds = ", ".join(dict.fromkeys(e.kind for e in change.events))
        what = f"{kinds} ({state.status})"
    extras = []
    if state.outcome and state.status == "closed":
        extras.append(f"outcome {state.outcome}")
    if state.severity:
        extras.append(f"severity {state.severity}")
    if state.category:
        extras.append(state.category)
    if state.assignee:
        extras.append(f"assignee {state.assignee}")
    tail = f" [{', '.join(extras)}]" if extras else ""
    return f"ticket {change.ticket_id}: {what}{tail}"


def _run(
    action: Callable[[Any, Any], Any],
    *,
    at: str | None,
    note: str | None,
    if_rev: int | None,
    json_out: bool,
) -> Any:
    from deskctl.cli._base import when
    from deskctl.config import acting_user
    from deskctl.render.output import emit_json, say
    from deskctl.render.tickets import ticket_document
    from deskctl.services.flow import Ctx

    clean_note = note.strip() if note and note.strip() else None
    now = when(at)
    with store_session(write=True) as s:
        # inside the transaction: the acting agent is the one the store decided
        ctx = Ctx(now=now, actor=acting_user(), note=clean_note, if_rev=if_rev)
        change = action(s, ctx)
        doc = ticket_document(s, change.ticket_id) if json_out else None
    for hint in change.hints:
        say(f"deskctl: note: {hint}")
    if json_out:
        emit_json(doc)
    else:
        say(describe(change))
    return change


@ticket_app.command("triage")
def triage(
    ticket_id: Annotated[int, IdArg],
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
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
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
    _run(
        lambda s, ctx: flow.triage(s, ticket_id, ctx, req),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("approve")
def approve(
    ticket_id: Annotated[int, IdArg],
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """The customer approved the cost of a billable service: the ticket is queued."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.approve(s, ticket_id, ctx),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("decline")
def decline(
    ticket_id: Annotated[int, IdArg],
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """The customer declined the cost: closed as rejected."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.decline(s, ticket_id, ctx),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("assign")
def assign(
    ticket_id: Annotated[int, IdArg],
    to: Annotated[str, typer.Option("--to", help="Agent login.")],
    team: Annotated[
        str | None, typer.Option("--team", help="Team (default: the agent's team).")
    ] = None,
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Assign the ticket to an agent (and a team)."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.assign(s, ticket_id, ctx, to, team),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("respond")
def respond(
    ticket_id: Annotated[int, IdArg],
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="What was said to the customer.")
    ] = None,
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Record a response to the customer (the first stops the response clock; starts work)."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.respond(s, ticket_id, ctx, message),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("start")
def start(
    ticket_id: Annotated[int, IdArg],
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Start working on the ticket: in_progress."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.start(s, ticket_id, ctx),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("wait")
def wait(
    ticket_id: Annotated[int, IdArg],
    on: Annotated[str, typer.Option("--on", help="customer | third-party")],
    vendor: Annotated[
        str | None, typer.Option("--vendor", help="The third party waited on.")
    ] = None,
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Wait on the customer (awaiting_customer) or a third party (forwarded)."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.wait(s, ticket_id, ctx, on, vendor),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("resume")
def resume(
    ticket_id: Annotated[int, IdArg],
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """End a wait: back to where the ticket was (a forwarded ticket to in_progress)."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.resume(s, ticket_id, ctx),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("forward")
def forward(
    ticket_id: Annotated[int, IdArg],
    to: Annotated[str, typer.Option("--to", help="The third party (manufacturer, vendor).")],
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Forward to a third party: forwarded until `ticket resume`."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.forward(s, ticket_id, ctx, to),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("split")
def split(
    ticket_id: Annotated[int, IdArg],
    part: Annotated[list[str], typer.Option("--part", help="Title of a sub-ticket (repeat).")],
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Split into sub-tickets; prints their ids one per line (the parent with --json).

    Sub-tickets open queued with the parent's customer, contact, product,
    contract and severity; the parent waits in awaiting_subticket and resumes
    by itself when the last one closes.
    """
    from deskctl.services import flow

    change = _run(
        lambda s, ctx: flow.split(s, ticket_id, ctx, part),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )
    if not json_out:
        for child in change.children:
            typer.echo(child)


@ticket_app.command("resolve")
def resolve(
    ticket_id: Annotated[int, IdArg],
    solution: Annotated[str, typer.Option("--solution", help="The solution proposed.")],
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Propose a solution: awaiting_verification (the closure protocol starts)."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.resolve(s, ticket_id, ctx, solution),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("close")
def close(
    ticket_id: Annotated[int, IdArg],
    outcome: Annotated[
        str,
        typer.Option("--outcome", help="resolved | unresolved | rejected | redirected | cancelled"),
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (not reproducible, duplicate...).")
    ] = None,
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Close the ticket with an outcome (refused while sub-tickets are open)."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.close(s, ticket_id, ctx, outcome, reason),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("reopen")
def reopen(
    ticket_id: Annotated[int, IdArg],
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Reopen a closed ticket within the policy's window (never one closed as accepted)."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.reopen(s, ticket_id, ctx),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("redirect")
def redirect(
    ticket_id: Annotated[int, IdArg],
    kb: Annotated[str, typer.Option("--kb", help="The knowledge-base article that answers it.")],
    topic: Annotated[
        str | None, typer.Option("--topic", help="The case type (default: the ticket's).")
    ] = None,
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Misuse: redirect to a knowledge-base article and close as redirected."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.redirect(s, ticket_id, ctx, kb, topic),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("comment")
def comment(
    ticket_id: Annotated[int, IdArg],
    text: Annotated[str, typer.Argument(help="The comment.")],
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Add a comment to the ticket's history."""
    from deskctl.services import flow

    _run(
        lambda s, ctx: flow.comment(s, ticket_id, ctx, text),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )


@ticket_app.command("update")
def update(
    ticket_id: Annotated[int, IdArg],
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
    at: str | None = AtOpt,
    note: str | None = NoteOpt,
    if_rev: int | None = IfRevOpt,
    json_out: bool = JsonOpt,
) -> None:
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
    _run(
        lambda s, ctx: flow.update(s, ticket_id, ctx, fields),
        at=at,
        note=note,
        if_rev=if_rev,
        json_out=json_out,
    )
