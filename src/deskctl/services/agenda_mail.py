"""The closure protocol's e-mail: the question and the engineer's free slots, in the
contact's language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from deskctl.domain import closure
from deskctl.domain.closure import SLOT, agenda_slots, hhmm
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import Policy
from deskctl.services.sweep_core import AV, Context, protocol_of
from deskctl.store.models import Contact, Ticket, pk


def agenda_mail(
    ctx: Context,
    session: Session,
    ticket: Ticket,
    state: TicketState,
    policy: Policy,
    schedule: Sequence[closure.ScheduledStep],
    contact: Contact,
) -> tuple[str, str, str] | None:
    """Subject, text and HTML of a protocol e-mail in the contact's language: the
    question, the engineer's agenda, the deadline (None: the ticket has no reader).

    The agenda shows free slots only (no other customer's ticket is named): the
    calendar's open hours of the next business days from now and before the automatic
    close, less the slots of the engineer's own protocol calls on other tickets.
    """
    from deskctl.services import notify

    reader = notify.reader(session, ticket, policy)
    if reader is None:
        return None
    zone = ctx.zone(policy, ticket.calendar)
    calendar = ctx.calendar(policy, ticket.calendar)
    busy = _engineer_busy(ctx, session, state.assignee, pk(ticket)) if state.assignee else []
    close = next((st for st in schedule if st.action == closure.CLOSE), None)
    until = close.due_at if close is not None else None
    slots = [
        {
            "label": reader.fmt.day(day),
            "spans": [f"{hhmm(lo, zone)}-{hhmm(hi, zone, end=True)}" for lo, hi in spans],
        }
        for day, spans in agenda_slots(calendar, zone, ctx.now, busy, until=until)
    ]
    context = {
        "ticket": ticket,
        "contact_name": contact.name,
        "vendor": policy.vendor,
        "engineer": notify.engineer_name(session, state.assignee),
        "solution": state.solution,
        "resolved_at": state.resolved_at or ctx.now,
        "slots": slots,
        "close_at": until,
        **notify.answer_words(reader.locale),
    }
    return notify.compose("agenda", reader, context, notify.template_dir(session, ticket, policy))


def _engineer_busy(
    ctx: Context, session: Session, login: str, this_ticket: int
) -> list[tuple[datetime, datetime]]:
    """Slots of the engineer's calls and contacts due on other tickets from now on."""
    rows = session.execute(
        select(
            col(Ticket.id),
            col(Ticket.policy_version_id),
            col(Ticket.calendar),
            col(Ticket.resolved_at),
        )
        .where(
            col(Ticket.assignee) == login, col(Ticket.status) == AV, col(Ticket.id) != this_ticket
        )
        .order_by(col(Ticket.id))
        .limit(200)
    ).all()
    busy = []
    for row in rows:
        policy = ctx.policy(session, row.policy_version_id)
        protocol = protocol_of(policy)
        if protocol is None or policy is None or row.resolved_at is None:
            continue
        clock = ctx.protocol_clock(policy, row.calendar)
        for step in closure.protocol_schedule(
            row.resolved_at, protocol, clock, ticket_id=row.id, round=1
        ):
            if step.action in ("call", "contact") and step.due_at >= ctx.now:
                busy.append((step.due_at, step.due_at + SLOT))
    return busy
