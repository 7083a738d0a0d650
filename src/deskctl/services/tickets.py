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

from sqlalchemy import func, insert, select, update
from sqlmodel import Session, col

from deskctl import files
from deskctl.domain import lifecycle, sla_facts, tallies, validate, waits
from deskctl.domain import mail as mail_rules
from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import Policy
from deskctl.errors import BadInput, NotFound
from deskctl.services import attachments, masterdata, notify, policies
from deskctl.services.attachments import AttachmentIn
from deskctl.services.moves import PROJECTED, check_times, lost_race, projection  # noqa: F401 -- re-exported
from deskctl.services.moves import event_row as _event_row
from deskctl.services.views import SORTS, ListFilter, event_json  # noqa: F401 -- re-exported
from deskctl.store import facts
from deskctl.store.dbapi import Reader
from deskctl.store.models import Attachment, Contact, Customer, Ticket, TicketEvent, pk

DEFAULT_ATTACHMENT_MB = 25
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


def attachment_limit() -> int:
    """The largest attachment in bytes: ``[attachments] max_mb`` in config.toml, default 25."""
    from deskctl.config import config

    table = config().get("attachments") or {}
    mb = table.get("max_mb", DEFAULT_ATTACHMENT_MB) if isinstance(table, dict) else None
    if isinstance(mb, bool) or not isinstance(mb, int | float) or not 0 < mb <= 10_000:
        raise BadInput(f"config: attachments.max_mb must be a number of megabytes, not {mb!r}")
    return int(mb * 1_000_000)


def read_attachment(path: str, *, limit: int | None = None) -> AttachmentIn:
    """A regular file within the size limit, checked before a byte is read."""
    limit = attachment_limit() if limit is None else limit
    files.regular_file(path, what="--attach", limit=limit)
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            content = fh.read(limit + 1)
    except OSError as exc:
        raise BadInput(f"--attach: cannot read {path}: {exc.strerror or exc}") from None
    if len(content) > limit:  # it grew after the check
        raise BadInput(f"--attach: {path} is more than the limit of {limit} bytes")
    return AttachmentIn(filename=p.name, content=content)


def parse_eml(path: str) -> tuple[str, str, str, list[AttachmentIn]]:
    """(sender address, subject, body text, attachments) of an RFC 822 message."""
    import email
    import email.policy
    from email.utils import parseaddr

    limit = attachment_limit()
    # the message carries its attachments base64-encoded: a third larger than they are
    files.regular_file(path, what="--from-eml", limit=2 * limit)
    try:
        with open(path, "rb") as fh:
            msg = email.message_from_binary_file(fh, policy=email.policy.default)
        sender = parseaddr(str(msg.get("From", "")))[1]
        subject = " ".join(str(msg.get("Subject", "")).split()) or "(no subject)"
        body_part = msg.get_body(preferencelist=("plain", "html"))
        body = mail_rules.part_text(body_part).strip() if body_part is not None else ""
        found = [_eml_attachment(part) for part in msg.iter_attachments()]
    except OSError as exc:
        raise BadInput(f"--from-eml: cannot read {path}: {exc.strerror or exc}") from None
    except RecursionError:
        raise BadInput(f"--from-eml: {path} is nested too deeply to read") from None
    except (ValueError, TypeError, LookupError, AttributeError) as exc:
        raise BadInput(f"--from-eml: {path} is not a readable e-mail: {exc}") from None
    if not sender:
        raise BadInput(f"--from-eml: {path} has no From address")
    sender = validate.one_line(sender, "--from-eml: From", limit=254)
    for item in found:
        if len(item.content) > limit:
            raise BadInput(
                f"--from-eml: attachment {item.filename!r} is more than the limit of "
                f"{limit} bytes"
            )
    return sender, subject, body, found


def _eml_attachment(part: Any) -> AttachmentIn:
    """One attached part; a forwarded message (message/rfc822) is kept whole as a .eml."""
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        content = inner.as_bytes() if hasattr(inner, "as_bytes") else b""
        name = part.get_filename() or "message.eml"
        if not name.lower().endswith(".eml"):
            name += ".eml"
        return AttachmentIn(filename=name, content=content, content_type="message/rfc822")
    return AttachmentIn(
        filename=part.get_filename() or "attachment",
        content=part.get_payload(decode=True) or b"",
        content_type=part.get_content_type(),
    )


# -- reading ---------------------------------------------------------------------------


def get(session: Session, ticket_id: int, *, for_update: bool = False) -> Ticket:
    stmt = select(Ticket).where(col(Ticket.id) == ticket_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalars().first()
    if row is None:
        raise NotFound(f"no ticket {ticket_id}")
    return row


def load_events(session: Session, ticket_id: int) -> list[Event]:
    stmt = (
        select(TicketEvent)
        .where(col(TicketEvent.ticket_id) == ticket_id)
        .order_by(col(TicketEvent.seq))
    )
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
        .where(col(Ticket.id) == ticket.id, col(Ticket.rev) == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise lost_race(pk(ticket))
    session.execute(insert(TicketEvent), [_event_row(pk(ticket), e) for e in new_events])
    _relink(session, ticket, values)
    session.expire(ticket)
    return ticket


_LINKED_BY = ("topic", "outcome", "closed_at")  # what a comeback link depends on


def _relink(session: Session, ticket: Ticket, values: Mapping[str, Any]) -> None:
    """The comeback links of the groups the ticket left or joined, or whose solved
    closings it changed (``store.comebacks``); ``ticket`` still holds the old row."""
    if all(values.get(k, getattr(ticket, k)) == getattr(ticket, k) for k in _LINKED_BY):
        return
    from deskctl.store import comebacks

    topics = {ticket.topic, values.get("topic", ticket.topic)}
    comebacks.relink(session, [(ticket.customer_id, topic) for topic in topics])


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
    check_times(history, new_events)
    everything = [*history, *new_events]
    state = lifecycle.project(everything)
    updates = projection(state)
    judged_by = policy or policy_or_none(session, ticket)
    derived = sla_facts.derive(judged_by, everything, now)
    updates.update(derived.columns)
    updates.update(waits.waits(judged_by, {**updates, "opened_at": ticket.opened_at}))
    updates.update(tallies.of_events(everything))
    ticket_id = ticket.id
    keys = {
        "opened_at": ticket.opened_at,
        "customer_id": ticket.customer_id,
        "severity": updates["severity"],
        "policy_version_id": ticket.policy_version_id,
    }
    record(session, ticket, new_events, updates)
    if new_events:  # record wrote the row: its facts go with it
        assert ticket_id is not None
        rows = facts.fact_rows(ticket_id, keys, derived.facts, now, derived.columns["sla_stale_at"])
        facts.replace(session, [ticket_id], rows)
    notify.after_events(session, ticket, state, new_events, policy, now)
    closing = next((e for e in new_events if e.to_status == "closed"), None)
    if closing is not None and state.parent_id is not None:
        _tell_parent(session, state.parent_id, pk(ticket), closing, now)
    return state


TITLE_LIMIT = 300
# One-line intake fields and their column sizes; the others (task, error, description)
# are multi-line text columns.
FIELD_LIMITS = {"product": 120, "version": 40, "os": 120, "server": 120, "hardware": 120}


def clean_fields(fields: Mapping[str, str | None]) -> dict[str, str]:
    """The given intake fields, stripped and checked: SQLite and PostgreSQL take the same."""
    out = {}
    for name, value in fields.items():
        if value is None or not value.strip():
            continue
        what = f"--{name}"
        limit = FIELD_LIMITS.get(name)
        if limit is not None:
            out[name] = validate.one_line(value, what, limit=limit)
        else:
            out[name] = validate.multi_line(value.strip(), what)
    return out


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
    """Open a ticket once the contract check (rules §8) lets it in; nothing is written otherwise.

    The decision is recorded on the ticket (``entitlement``, ``billing_mode``)
    and in the OPENED event; see services.entitlement for the ways in.
    """
    from deskctl.services import entitlement

    title = validate.one_line(req.title, "--title", limit=TITLE_LIMIT)
    clean_fields(req.fields)
    contact = masterdata.contact_by_email(session, req.contact, req.customer)
    customer = session.get(Customer, contact.customer_id)
    assert customer is not None
    product = req.fields.get("product")
    if product:
        masterdata.product_by_name(session, product)
    topic = req.topic.strip() if req.topic and req.topic.strip() else None
    if topic:
        validate.one_line(topic, "--topic", limit=80)
    override = entitlement.check_override(session, req.override, actor)
    asked = entitlement.Request(
        at=now,
        contact=contact.email,
        product=product or None,
        version=(req.fields.get("version") or None) if product else None,
        channel=req.channel,
    )
    chk = entitlement.check_customer(Reader.over(session), customer, asked)
    if req.channel is None:
        channel = opening_channel(chk.policy, chk.decision.channels, from_email=req.from_email)
        asked = replace(asked, channel=channel)
        chk = entitlement.check_customer(Reader.over(session), customer, asked)
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
        customer_id=pk(customer),
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
    attachments.store(session, pk(ticket), req.attachments, now)
    # the customer hears of the new ticket (``in_reply_to``: the mail that opened it)
    notify.acknowledge(session, ticket, policy, now, in_reply_to)
    return ticket


# -- listing ---------------------------------------------------------------------------


def list_tickets(session: Session, flt: ListFilter) -> list[dict[str, Any]]:
    """``ticket list`` inside a transaction: the read query of ``services.views``."""
    from deskctl.services import views

    return views.list_tickets(Reader.over(session), flt)


def children_of(session: Session, ticket_id: int) -> list[int]:
    stmt = select(col(Ticket.id)).where(col(Ticket.parent_id) == ticket_id).order_by(col(Ticket.id))
    return [int(i) for i in session.execute(stmt).scalars()]


def attachments_of(session: Session, ticket_id: int) -> list[Attachment]:
    return attachments.list_for(session, ticket_id)


def count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Ticket)).scalar_one())


def ticket_json(session: Session, ticket: Ticket, *, sla: Mapping[str, Any] | None = None) -> dict:
    """The ticket document of docs/rules.md §10."""
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
        "children": children_of(session, pk(ticket)),
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
