"""Incoming mail: what one message does, in one transaction with its ledger row.

:func:`handle` is called by ``mail fetch`` for every message a source yields (see
``services.mail_sources``). In one write transaction it

1. looks the message up in the ledger (``mail_message``, unique key = Message-ID or
   a digest of the message): a message already recorded does nothing again;
2. sets noise aside (``domain.mail.noise_reason``: auto-replies, bulk, bounces, our
   own mail): recorded ``ignored``, nothing else;
3. threads it, in this order: ``In-Reply-To``/``References`` naming a Message-ID
   deskctl sent (outbox) or received (ledger) for a ticket; then the subject token
   ``[#ID]`` when the sender is a contact of that ticket's customer; otherwise a new
   ticket from a known contact (``tickets.open_ticket``, as ``ticket open
   --from-eml``); otherwise the raw message goes to ``mail_quarantine``;
4. applies a reply (:func:`_reply`): a ``customer_replied`` event with the text
   (quoted history stripped) and the attachments; it resumes a ticket awaiting the
   customer; awaiting verification, a first-line yes/no keyword confirms or rejects
   at once, any other reply ends the closure protocol's round (no later step fires)
   and tells the engineer; a closed ticket reopens within the policy's window, else
   (and always after outcome ``accepted``) a new ticket linked to it is opened;
5. records the ledger row with the effect.

Only after the commit does the source mark the message (``\\Seen``/moved, or
``cur/``), so a run killed anywhere leaves either nothing done (the message is
fetched again) or everything done and recorded (the message is only marked).
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from deskctl.domain import events as ev
from deskctl.domain import lifecycle, validate
from deskctl.domain import mail as rules
from deskctl.domain.events import Event
from deskctl.errors import DeskctlError, NotFound
from deskctl.services import attachments, masterdata, tickets
from deskctl.store.models import (
    Contact,
    Customer,
    MailMessage,
    MailQuarantine,
    Notification,
    OutboxMessage,
    Ticket,
    pk,
    table_of,
)

TEXT_LIMIT = 20_000  # characters of a reply kept in its event
EFFECTS = (
    "opened",
    "replied",
    "resumed",
    "confirmed",
    "rejected",
    "reopened",
    "linked",
    "quarantined",
    "ignored",
)


@dataclass(frozen=True)
class Mailbox:
    """Where a message came from and the defaults that apply to it (config.toml)."""

    name: str
    customer: str | None = None  # the customer of a contact known to several
    policy: str | None = None  # only contacts of customers under this policy
    own: tuple[str, ...] = ()  # deskctl's own addresses: mail from them is a loop


@dataclass
class Parsed:
    msg: EmailMessage
    raw: bytes
    key: str
    message_id: str | None
    sender: str
    subject: str
    body: str
    attachments: list[tickets.AttachmentIn] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    effect: str  # one of EFFECTS, or "duplicate" (recorded before: nothing done)
    ticket: int | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"effect": self.effect, "ticket": self.ticket, "detail": self.detail}


# -- parsing ----------------------------------------------------------------------------


def header(msg: EmailMessage, name: str) -> str:
    """A header as text; a header the parser chokes on reads as empty, never raises."""
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not stop the mailbox
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def parse(raw: bytes) -> Parsed:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    message_id = rules.norm_msgid(header(msg, "Message-ID"))
    sender = parseaddr(header(msg, "From"))[1].strip().lower()
    # a hostile header or body is cleaned here, once, for every way a message is used
    subject = validate.scrub(header(msg, "Subject"), one_line=True)[:300]
    return Parsed(
        msg=msg,
        raw=raw,
        key=rules.message_key(message_id, raw),
        message_id=message_id,
        sender=sender,
        subject=subject,
        body=validate.scrub(_body(msg)),
        attachments=_attachments(msg),
    )


def _body(msg: EmailMessage) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        text = rules.part_text(part)
    except (KeyError, LookupError, ValueError):
        return ""
    if part.get_content_type() == "text/html":
        text = _html_text(text)
    return text.replace("\r\n", "\n").strip()


def _html_text(html: str) -> str:
    import html as html_lib
    import re

    html = re.sub(r"(?is)<(script|style|blockquote).*?</\1>", "", html)
    html = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", html)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


def _attachments(msg: EmailMessage) -> list[tickets.AttachmentIn]:
    files = []
    try:
        parts = list(msg.iter_attachments())
    except (KeyError, LookupError, ValueError):
        return []
    for part in parts:
        if not isinstance(part, EmailMessage):
            continue
        try:
            content = part.get_payload(decode=True)
            name = part.get_filename() or "attachment"
        except (KeyError, LookupError, ValueError):
            continue
        if isinstance(content, bytes):
            files.append(tickets.AttachmentIn(name, content, part.get_content_type()))
    return files


def reply_text(body: str) -> str:
    """The new text of a reply: mail-parser-reply (en/es/it), then the pt/quote rules."""
    try:
        from mailparser_reply import EmailReplyParser

        text = EmailReplyParser(languages=["en", "es", "it"]).parse_reply(text=body)
    except Exception:  # the library failing on odd input must not lose the reply
        text = body
    return rules.strip_quoted(text or body)[:TEXT_LIMIT]


def _title(subject: str) -> str:
    import re

    text = re.sub(r"^\s*((re|fw|fwd|enc|rv|r|i)\s*:\s*)+", "", subject, flags=re.IGNORECASE)
    return text.strip() or "(no subject)"


# -- one message ----------------------------------------------------------------------


def already(session: Session, key: str) -> bool:
    stmt = select(col(MailMessage.id)).where(col(MailMessage.key) == key)
    return session.execute(stmt).first() is not None


def handle(
    session: Session,
    raw: bytes,
    box: Mailbox,
    *,
    now: datetime,
) -> Result:
    """What the message does (module doc), recorded in the ledger; in the caller's
    transaction, which must be a write transaction."""
    p = parse(raw)
    if already(session, p.key):
        return Result("duplicate")
    noise = rules.noise_reason(
        {k: header(p.msg, k) for k in _NOISE_HEADERS if k in p.msg},
        p.msg.get_content_type(),
        p.sender,
        box.own,
    )
    result = Result("ignored", detail=noise) if noise is not None else _route(session, p, box, now)
    _record(session, p, box, result, now)
    return result


_NOISE_HEADERS = (
    "Auto-Submitted",
    "Precedence",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
)


def hold(session: Session, raw: bytes, box: Mailbox, *, now: datetime, reason: str) -> Result:
    """Quarantine a message that could not be handled (and record it, once)."""
    p = parse(raw)
    if already(session, p.key):
        return Result("duplicate")
    result = _quarantine(session, p, box, now, reason)
    _record(session, p, box, result, now)
    return result


def _record(session: Session, p: Parsed, box: Mailbox, result: Result, now: datetime) -> None:
    session.execute(
        insert(table_of(MailMessage)).values(
            key=p.key,
            message_id=p.message_id,
            mailbox=box.name[:80],
            ticket_id=result.ticket,
            effect=result.effect,
            detail=result.detail or None,
            sender=p.sender[:254],
            subject=p.subject[:300],
            received_at=now,
        )
    )


def _route(session: Session, p: Parsed, box: Mailbox, now: datetime) -> Result:
    threaded = thread_ticket(
        session, rules.thread_ids(header(p.msg, "In-Reply-To"), header(p.msg, "References"))
    )
    if threaded is not None:
        return _reply(session, threaded, p, box, now, via="thread")
    token = rules.subject_token(p.subject)
    if token is not None:
        ticket = session.get(Ticket, token)
        if ticket is not None and _is_contact_of(session, p.sender, ticket.customer_id):
            return _reply(session, token, p, box, now, via="subject token")
    contact = _known_contact(session, p.sender, box)
    if isinstance(contact, str):
        return _quarantine(session, p, box, now, contact)
    return _open(session, p, box, contact, now, parent=None)


def thread_ticket(session: Session, ids: list[str]) -> int | None:
    """The ticket of the first Message-ID (most recent first) deskctl sent or received."""
    if not ids:
        return None
    found: dict[str, int] = {}
    for model in (OutboxMessage, MailMessage):
        stmt = select(col(model.message_id), col(model.ticket_id)).where(
            col(model.message_id).in_(ids), col(model.ticket_id).is_not(None)
        )
        for mid, tid in session.execute(stmt):
            found.setdefault(mid, int(tid))
    return next((found[i] for i in ids if i in found), None)


def _is_contact_of(session: Session, sender: str, customer_id: int) -> bool:
    stmt = select(col(Contact.id)).where(
        col(Contact.customer_id) == customer_id, col(Contact.email) == sender
    )
    return session.execute(stmt).first() is not None


def _known_contact(session: Session, sender: str, box: Mailbox) -> Contact | str:
    """The sender's contact, or why there is none to open a ticket for."""
    stmt = (
        select(Contact, Customer)
        .join(Customer, col(Customer.id) == col(Contact.customer_id))
        .where(col(Contact.email) == sender)
    )
    rows = list(session.execute(stmt).all())
    if box.policy:
        rows = [r for r in rows if r[1].policy in (None, box.policy)]
    if box.customer and len(rows) > 1:
        rows = [r for r in rows if r[1].key == box.customer]
    if not rows:
        return f"unknown sender {sender or '(none)'}"
    if len(rows) > 1:
        keys = ", ".join(sorted(r[1].key for r in rows))
        return f"{sender} is a contact of several customers ({keys})"
    contact: Contact = rows[0][0]
    return contact


def _quarantine(session: Session, p: Parsed, box: Mailbox, now: datetime, reason: str) -> Result:
    session.execute(
        insert(table_of(MailQuarantine)).values(
            message_key=p.key,
            mailbox=box.name[:80],
            sender=p.sender[:254],
            subject=p.subject[:300],
            reason=reason[:300],
            raw=p.raw,
            received_at=now,
            status="held",
        )
    )
    return Result("quarantined", detail=reason)


def _open(
    session: Session,
    p: Parsed,
    box: Mailbox,
    contact: Contact,
    now: datetime,
    *,
    parent: int | None,
    channel: str = "email",
) -> Result:
    customer = session.get(Customer, contact.customer_id)
    assert customer is not None
    req = tickets.OpenRequest(
        customer=customer.key,
        contact=contact.email,
        title=_title(p.subject),
        channel=channel,
        fields={"description": reply_text(p.body) or None},
        attachments=p.attachments,
        parent_id=parent,
    )
    nested = session.begin_nested()  # a refused request is quarantined, not lost
    try:
        ticket = tickets.open_ticket(
            session, req, now=now, actor=_actor(p), in_reply_to=p.message_id
        )
    except DeskctlError as exc:
        nested.rollback()
        return _quarantine(session, p, box, now, f"not opened: {exc.message}")
    nested.commit()
    effect = "linked" if parent is not None else "opened"
    detail = f"new ticket, follows closed #{parent}" if parent is not None else "new ticket"
    return Result(effect, pk(ticket), detail)


def _actor(p: Parsed) -> str:
    return p.sender[:80] or "mail"


# -- replies --------------------------------------------------------------------------


def _reply(
    session: Session,
    ticket_id: int,
    p: Parsed,
    box: Mailbox,
    now: datetime,
    *,
    via: str,
) -> Result:
    ticket, history, state = tickets.current(session, ticket_id)
    policy = tickets.policy_of(session, ticket)
    final = state.outcome == "accepted" or not _within_window(state, now, policy.reopen_window)
    if state.status == "closed" and final:
        return _follow_up(session, ticket, p, box, now)
    text = reply_text(p.body)
    stored = attachments.store(session, ticket_id, p.attachments, now)
    actor = _actor(p)
    data: dict[str, Any] = {
        "text": text,
        "subject": p.subject,
        "message_id": p.message_id,
        "via": via,
    }
    if stored:
        data["attachments"] = [a.filename for a in stored]
    new: list[Event] = []
    current = state
    if state.status == "closed":
        new.append(
            lifecycle.plan_reopen(
                state,
                now=now,
                actor=actor,
                window_seconds=policy.reopen_window,
                note="the customer replied by e-mail",
            )
        )
        current = lifecycle.project([*history, *new])
    replied = Event(current.version + 1, now, ev.CUSTOMER_REPLIED, actor, data=data)
    new.append(replied)
    current = lifecycle.project([*history, *new])
    effect, detail = "replied", f"reply added ({via})"
    if state.status == "closed":
        effect, detail = "reopened", f"reopened by the customer's reply ({via})"
    elif current.status == "awaiting_customer":
        new.append(lifecycle.plan_resume(current, now=now, actor=actor, note="customer replied"))
        effect, detail = "resumed", f"resumed by the customer's reply ({via})"
    elif current.status == "awaiting_verification":
        keyword = rules.answer_keyword(text, masterdata_locale(session, ticket))
        if keyword == "confirm":
            new.append(lifecycle.plan_confirm(current, now=now, actor=actor, note="by e-mail"))
            effect, detail = "confirmed", "solution confirmed by e-mail"
        elif keyword == "reject":
            new.append(
                lifecycle.plan_reject_solution(current, now=now, actor=actor, note="by e-mail")
            )
            effect, detail = "rejected", "solution rejected by e-mail"
        else:
            detail = "reply during the closure protocol: the automatic close is stopped"
    tickets.apply(session, ticket, history, new, now=now, policy=policy)
    if effect != "confirmed":
        _tell_engineer(session, ticket_id, state.assignee, p, detail, now)
    return Result(effect, ticket_id, detail)


def masterdata_locale(session: Session, ticket: Ticket) -> str:
    if ticket.contact_id is None:
        return "en"
    contact = session.get(Contact, ticket.contact_id)
    return masterdata.contact_locale(session, contact) if contact is not None else "en"


def _within_window(state: lifecycle.TicketState, now: datetime, window: int | None) -> bool:
    if window is None or state.closed_at is None:
        return True
    return (now - state.closed_at).total_seconds() <= window


def _follow_up(session: Session, ticket: Ticket, p: Parsed, box: Mailbox, now: datetime) -> Result:
    """A reply on a ticket that cannot reopen: a new ticket that links the old one."""
    contact = (
        session.execute(
            select(Contact).where(
                col(Contact.customer_id) == ticket.customer_id, col(Contact.email) == p.sender
            )
        )
        .scalars()
        .first()
    )
    if contact is None and ticket.contact_id is not None:
        contact = session.get(Contact, ticket.contact_id)
    if contact is None:
        raise NotFound(f"ticket {ticket.id} has no contact to open a follow-up for")
    # a follow-up continues the old request: where the policy takes no requests by
    # e-mail (IMEXHS: the portal), it keeps the old ticket's channel
    policy = tickets.policy_of(session, ticket)
    channel = "email" if "email" in policy.channels else ticket.channel
    return _open(session, p, box, contact, now, parent=pk(ticket), channel=channel)


def _tell_engineer(
    session: Session,
    ticket_id: int,
    assignee: str | None,
    p: Parsed,
    detail: str,
    now: datetime,
) -> None:
    recipient = assignee or "support"
    session.execute(
        insert(table_of(Notification)).values(
            key=f"mail:{p.key}:{recipient}"[:200],
            ticket_id=ticket_id,
            recipient=recipient,
            kind="customer_replied",
            message=f"{p.sender} wrote on ticket #{ticket_id}: {detail}",
            due_at=now,
            created_at=now,
        )
    )


# -- quarantine -----------------------------------------------------------------------


def quarantine_rows(session: Session, *, all_: bool = False, limit: int = 100) -> list[dict]:
    stmt = select(MailQuarantine).order_by(col(MailQuarantine.id))
    if not all_:
        stmt = stmt.where(col(MailQuarantine.status) == "held")
    if limit > 0:
        stmt = stmt.limit(limit)
    return [
        {
            "id": q.id,
            "status": q.status,
            "mailbox": q.mailbox,
            "sender": q.sender,
            "subject": q.subject,
            "reason": q.reason,
            "received_at": q.received_at,
            "ticket": q.ticket_id,
        }
        for q in session.execute(stmt).scalars()
    ]


def _held(session: Session, qid: int) -> MailQuarantine:
    row = session.get(MailQuarantine, qid)
    if row is None:
        raise NotFound(f"no quarantined message {qid}")
    if row.status != "held":
        from deskctl.errors import Refused

        raise Refused(f"quarantined message {qid} was already {row.status}")
    return row


def open_quarantined(
    session: Session,
    qid: int,
    *,
    customer: str,
    contact: str | None,
    now: datetime,
    actor: str,
) -> Ticket:
    """Open a held message as a ticket for ``customer`` (the sender must be, or is added
    as, one of its contacts)."""
    row = _held(session, qid)
    p = parse(row.raw)
    email_ = (contact or p.sender).strip().lower()
    cust = masterdata.customer_by_key(session, customer)
    known = (
        session.execute(
            select(Contact).where(col(Contact.customer_id) == cust.id, col(Contact.email) == email_)
        )
        .scalars()
        .first()
    )
    if known is None:
        known = masterdata.add_contact(
            session, customer, email_, name="", named=False, now=now, actor=actor
        )
    req = tickets.OpenRequest(
        customer=customer,
        contact=known.email,
        title=_title(p.subject),
        channel="email",
        fields={"description": reply_text(p.body) or None},
        attachments=p.attachments,
    )
    ticket = tickets.open_ticket(
        session,
        req,
        now=now,
        actor=actor,
        in_reply_to=p.message_id,
    )
    row.status, row.ticket_id, row.settled_at, row.settled_by = "opened", ticket.id, now, actor
    session.execute(
        table_of(MailMessage).update()
        .where(table_of(MailMessage).c.key == row.message_key)
        .values(ticket_id=ticket.id)
    )
    session.add(row)
    return ticket


def discard_quarantined(session: Session, qid: int, *, now: datetime, actor: str) -> None:
    row = _held(session, qid)
    row.status, row.settled_at, row.settled_by = "discarded", now, actor
    session.add(row)
