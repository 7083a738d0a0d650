"""Tickets in and out: open (from flags or an e-mail), list, show, and the event writer.

Every change to a ticket goes through :func:`record`, which appends events and
updates the projection row in one transaction, guarded by the row's ``rev``
(compare-and-set), so two agents can never both win a conflicting move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlmodel import Session, col

from deskctl.domain import lifecycle, sla_facts
from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import Policy
from deskctl.errors import BadInput, Conflict, NotFound
from deskctl.services import attachments, masterdata, notify, policies
from deskctl.services.attachments import AttachmentIn
from deskctl.store.models import (
    Attachment,
    Contact,
    Customer,
    Ticket,
    TicketEvent,
)

TICKET_FIELDS = ("product", "version", "os", "server", "hardware", "task", "error", "description")


@dataclass
class OpenRequest:
    customer: str | None
    contact: str
    title: str
    channel: str | None = None  # None: the policy's opening channel (e-mail for an .eml)
    fields: dict[str, str | None] = field(default_factory=dict)
    attachments: list[AttachmentIn] = field(default_factory=list)
    from_email: bool = False  # opened from an e-mail (--from-eml)
    parent_id: int | None = None
    topic: str | None = None  # case type; an always-supported one is accepted unentitled
    override: str | None = None  # a manager's reason to open an unentitled request


def read_attachment(path: str) -> AttachmentIn:
    p = Path(path)
    try:
        content = p.read_bytes()
    except OSError as exc:
        raise BadInput(f"--attach: cannot read {path}: {exc.strerror or exc}") from None
    return AttachmentIn(filename=p.name, content=content)


def parse_eml(path: str) -> tuple[str, str, str, list[AttachmentIn]]:
    """(sender address, subject, body text, attachments) of an RFC 822 message."""
    import email
    import email.policy
    from email.utils import parseaddr

    try:
        with open(path, "rb") as fh:
            msg = email.message_from_binary_file(fh, policy=email.policy.default)
    except OSError as exc:
        raise BadInput(f"--from-eml: cannot read {path}: {exc.strerror or exc}") from None
    sender = parseaddr(str(msg.get("From", "")))[1]
    if not sender:
        raise BadInput(f"--from-eml: {path} has no From address")
    subject = str(msg.get("Subject", "")).strip() or "(no subject)"
    body_part = msg.get_body(preferencelist=("plain", "html"))
    body = body_part.get_content().strip() if body_part is not None else ""
    files = [
        AttachmentIn(
            filename=part.get_filename() or "attachment",
            content=part.get_payload(decode=True) or b"",
            content_type=part.get_content_type(),
        )
        for part in msg.iter_attachments()
    ]
    return sender, subject, body, files


# -- reading ---------------------------------------------------------------------------


def get(session: Session, ticket_id: int, *, for_update: bool = False) -> Ticket:
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalars().first()
    if row is None:
        raise NotFound(f"no ticket {ticket_id}")
    return row


def load_events(session: Session, ticket_id: int) -> list[Event]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.seq)
    return [to_event(r) for r in session.execute(stmt).scalars()]


def to_event(row: TicketEvent) -> Event:
    data = dict(row.data or {})
    if row.note is not None:
        data.setdefault("note", row.note)
    return Event(
        seq=row.seq,
        at=row.at,
        kind=row.kind,
        actor=row.actor,
        from_status=row.from_status,
        to_status=row.to_status,
        data=data,
    )


def policy_of(session: Session, ticket: Ticket) -> Policy:
    if ticket.policy_version_id is None:
        raise NotFound(f"ticket {ticket.id} has no policy version")
    return policies.by_version_id(session, ticket.policy_version_id)[1]


def policy_or_none(session: Session, ticket: Ticket) -> Policy | None:
    """The policy a ticket is judged under; None for one stored without a version."""
    return None if ticket.policy_version_id is None else policy_of(session, ticket)


# -- writing ---------------------------------------------------------------------------


def _event_row(ticket_id: int, event: Event) -> dict[str, Any]:
    data = dict(event.data)
    note = data.pop("note", None)
    return {
        "ticket_id": ticket_id,
        "seq": event.seq,
        "at": event.at,
        "kind": event.kind,
        "actor": event.actor,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": note,
        "data": data or None,
    }


def record(
    session: Session,
    ticket: Ticket,
    new_events: Sequence[Event],
    updates: Mapping[str, Any] | None = None,
) -> Ticket:
    """Append events and update the projection, only if nobody moved the ticket meanwhile."""
    if not new_events:
        return ticket
    expected = ticket.rev
    values = dict(updates or {})
    values["rev"] = expected + len(new_events)
    values["updated_at"] = max(e.at for e in new_events)
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.rev == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"ticket {ticket.id} was changed by someone else meanwhile; try again")
    session.execute(insert(TicketEvent), [_event_row(ticket.id, e) for e in new_events])
    session.expire(ticket)
    return ticket


PROJECTED = (
    "status",
    "outcome",
    "severity",
    "category",
    "topic",
    "assignee",
    "team",
    "plan",
    "calendar",
    "parent_id",
    "responded_at",
    "resolved_at",
    "closed_at",
    "info_complete_at",
)


def projection(state: TicketState) -> dict[str, Any]:
    """The ticket row's columns as the event log says they are."""
    values = {name: getattr(state, name) for name in PROJECTED}
    for name in TICKET_FIELDS:
        values[name] = state.fields.get(name)
    return values


def current(
    session: Session, ticket_id: int, *, for_update: bool = True
) -> tuple[Ticket, list[Event], TicketState]:
    """A ticket, its history and its replayed state: the start of every change."""
    ticket = get(session, ticket_id, for_update=for_update)
    history = load_events(session, ticket_id)
    return ticket, history, lifecycle.project(history)


def apply(
    session: Session,
    ticket: Ticket,
    history: Sequence[Event],
    new_events: Sequence[Event],
    *,
    now: datetime,
    policy: Policy | None = None,
) -> TicketState:
    """Append ``new_events`` and refresh the projection (status, SLA columns) in one go."""
    everything = [*history, *new_events]
    state = lifecycle.project(everything)
    updates = projection(state)
    updates.update(sla_facts.columns(policy or policy_or_none(session, ticket), everything, now))
    record(session, ticket, new_events, updates)
    notify.after_events(session, ticket, state, new_events, policy, now)
    closing = next((e for e in new_events if e.to_status == "closed"), None)
    if closing is not None and state.parent_id is not None:
        _tell_parent(session, state.parent_id, ticket.id, closing, now)
    return state


def _tell_parent(
    session: Session, parent_id: int, child_id: int, closing: Event, now: datetime
) -> None:
    """A sub-ticket closed: the parent learns it in the same transaction, whoever closed it.

    The parent resumes (awaiting_subticket -> in_progress) when it was the last
    open one. A ticket merely opened with a parent_id, not by a split, is not
    one of the parent's sub-tickets and changes nothing.
    """
    parent, history, state = current(session, parent_id)
    if child_id not in state.children:
        return
    new = lifecycle.on_child_closed(state, child_id, closing.at, actor=closing.actor)
    if new:
        apply(session, parent, history, new, now=now, policy=policy_of(session, parent))


def opening_channel(policy: Policy, plan_channels: Sequence[str], *, from_email: bool) -> str:
    """The channel of a ticket opened without --channel.

    An e-mail opens on ``email`` when the plan (or, planless, the policy) takes it;
    anything else opens on the policy's ``default_channel`` (else its first channel).
    """
    if from_email and "email" in (plan_channels or policy.channels):
        return "email"
    return policy.opening_channel


def open_ticket(
    session: Session,
    req: OpenRequest,
    *,
    now: datetime,
    actor: str,
    in_reply_to: str | None = None,
) -> Ticket:
    """Open a ticket once the contract check (SPEC §8) lets it in; nothing is written otherwise.

    The decision is recorded on the ticket (``entitlement``, ``billing_mode``)
    and in the OPENED event; see services.entitlement for the ways in.
    """
    from deskctl.services import entitlement

    title = req.title.strip()
    if not title:
        raise BadInput("--title must not be empty")
    contact = masterdata.contact_by_email(session, req.contact, req.customer)
    customer = session.get(Customer, contact.customer_id)
    assert customer is not None
    product = req.fields.get("product")
    if product:
        masterdata.product_by_name(session, product)
    topic = req.topic.strip() if req.topic and req.topic.strip() else None
    override = entitlement.check_override(session, req.override, actor)
    asked = entitlement.Request(
        at=now,
        contact=contact.email,
        product=product or None,
        version=(req.fields.get("version") or None) if product else None,
        channel=req.channel,
    )
    chk = entitlement.check_customer(session, customer, asked)
    if req.channel is None:
        channel = opening_channel(chk.policy, chk.decision.channels, from_email=req.from_email)
        asked = replace(asked, channel=channel)
        chk = entitlement.check_customer(session, customer, asked)
    req = replace(req, channel=asked.channel)
    version_row, policy = chk.policy_row, chk.policy
    if req.channel not in policy.channels:
        raise BadInput(
            f"--channel: {req.channel!r} is not a channel of policy {policy.name} "
            f"({', '.join(policy.channels)})"
        )
    terms = entitlement.accept(chk, topic=topic, override=override, actor=actor)
    verdict = terms.to_json(chk)
    fields = {k: (v.strip() if isinstance(v, str) else v) for k, v in req.fields.items()}
    fields = {k: v for k, v in fields.items() if v}
    new = lifecycle.plan_open(
        now=now,
        actor=actor,
        title=title,
        customer=customer.key,
        contact=contact.email,
        fields=fields,
        required=[f for f in policy.required_fields if f != "channel"],
        data={
            "channel": req.channel,
            "policy": version_row.name,
            "policy_version": version_row.version,
            "plan": chk.decision.plan,
            "calendar": chk.decision.calendar,
            "parent_id": req.parent_id,
            "topic": topic,
            "billing_mode": terms.billing_mode,
            "override": terms.override,
            "entitlement": verdict,
        },
    )
    ticket = Ticket(
        customer_id=customer.id,
        contact_id=contact.id,
        contract_id=chk.decision.contract_id,
        policy_version_id=version_row.id,
        parent_id=req.parent_id,
        title=title[:300],
        channel=req.channel,
        billing_mode=terms.billing_mode,
        entitlement=verdict,
        opened_at=now,
        updated_at=now,
        rev=0,
    )
    session.add(ticket)
    session.flush()
    apply(session, ticket, [], new, now=now, policy=policy)
    attachments.store(session, ticket.id, req.attachments, now)
    # the customer hears of the new ticket (``in_reply_to``: the mail that opened it)
    notify.acknowledge(session, ticket, policy, now, in_reply_to)
    return ticket


# -- listing ---------------------------------------------------------------------------

LIST_COLUMNS = (
    Ticket.id,
    Ticket.status,
    Ticket.outcome,
    Ticket.severity,
    Ticket.category,
    Ticket.title,
    Ticket.assignee,
    Ticket.team,
    Ticket.parent_id,
    Ticket.opened_at,
    Ticket.updated_at,
    Ticket.sla_state,
    Ticket.sla_due_at,
)


@dataclass
class ListFilter:
    statuses: Sequence[str] = ()
    severities: Sequence[str] = ()
    customer: str | None = None
    assignee: str | None = None
    team: str | None = None
    open_only: bool = False
    limit: int = 100
    sort: str = "id"  # "id": newest first; "sla": SLA deadline first (see list_tickets)


SORTS = ("id", "sla")


def list_tickets(session: Session, flt: ListFilter) -> list[dict[str, Any]]:
    stmt = (
        select(
            *LIST_COLUMNS, col(Customer.key).label("customer"), col(Contact.email).label("contact")
        )
        .join(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(Contact, Contact.id == Ticket.contact_id)
    )
    if flt.statuses:
        stmt = stmt.where(col(Ticket.status).in_(flt.statuses))
    elif flt.open_only:
        stmt = stmt.where(Ticket.status != "closed")
    if flt.severities:
        stmt = stmt.where(col(Ticket.severity).in_(flt.severities))
    if flt.customer:
        customer = masterdata.customer_by_key(session, flt.customer)
        stmt = stmt.where(Ticket.customer_id == customer.id)
    if flt.assignee:
        stmt = stmt.where(Ticket.assignee == flt.assignee)
    if flt.team:
        stmt = stmt.where(Ticket.team == flt.team)
    stmt = stmt.order_by(*_ordering(flt.sort))
    if flt.limit > 0:
        stmt = stmt.limit(flt.limit)
    return [dict(r._mapping) for r in session.execute(stmt)]


def _ordering(sort: str) -> list[Any]:
    """``sla``: breached tickets first, then by the next SLA deadline (soonest first),
    tickets without a deadline last; ties oldest first."""
    if sort == "id":
        return [col(Ticket.id).desc()]
    if sort == "sla":
        rank = case(
            (Ticket.sla_state == "breached", 0),
            (col(Ticket.sla_due_at).is_(None), 2),
            else_=1,
        )
        return [rank, col(Ticket.sla_due_at), col(Ticket.id)]
    raise BadInput(f"--sort: {sort!r} is not one of {', '.join(SORTS)}")


def children_of(session: Session, ticket_id: int) -> list[int]:
    stmt = select(Ticket.id).where(Ticket.parent_id == ticket_id).order_by(Ticket.id)
    return [int(i) for i in session.execute(stmt).scalars()]


def attachments_of(session: Session, ticket_id: int) -> list[Attachment]:
    return attachments.list_for(session, ticket_id)


def count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Ticket)).scalar_one())


def ticket_json(session: Session, ticket: Ticket, *, sla: Mapping[str, Any] | None = None) -> dict:
    """The ticket document of SPEC §10."""
    customer = session.get(Customer, ticket.customer_id)
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    return {
        "id": ticket.id,
        "title": ticket.title,
        "status": ticket.status,
        "outcome": ticket.outcome,
        "severity": ticket.severity,
        "category": ticket.category,
        "topic": ticket.topic,
        "customer": customer.key if customer else None,
        "contact": contact.email if contact else None,
        "assignee": ticket.assignee,
        "team": ticket.team,
        "parent_id": ticket.parent_id,
        "children": children_of(session, ticket.id),
        "channel": ticket.channel,
        "plan": ticket.plan,
        "calendar": ticket.calendar,
        "contract_id": ticket.contract_id,
        "billing_mode": ticket.billing_mode,
        "entitlement": ticket.entitlement,
        "fields": {k: getattr(ticket, k) for k in TICKET_FIELDS if getattr(ticket, k)},
        "opened_at": ticket.opened_at,
        "info_complete_at": ticket.info_complete_at,
        "responded_at": ticket.responded_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "updated_at": ticket.updated_at,
        "rev": ticket.rev,
        "sla": dict(sla or {}),
    }


def event_json(event: Event) -> dict:
    return {
        "seq": event.seq,
        "at": event.at,
        "kind": event.kind,
        "actor": event.actor,
        "from": event.from_status,
        "to": event.to_status,
        "data": event.data,
    }
