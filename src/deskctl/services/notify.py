"""E-mails to the customer, in their language, threaded, each sent once.

Which ones a policy sends is its ``[mail] notify`` list (see docs/policy-format.md):

- ``acknowledgement``: when a ticket opens, with its number and the SLA promise (the
  next deadline, in the calendar's local time with the zone named);
- ``response``: the engineer's ``ticket respond --message`` text;
- ``solution``: the proposed solution and how to confirm or reject it by replying;
- ``closure``: the ticket closed, with its outcome.

The closure protocol's agenda e-mails (services.sweep) are composed here too.

Each message is queued in the outbox in the transaction of the event that wants it,
keyed by the event (``notify:{ticket}:{kind}:{seq}``), so it exists once however
often a command is retried. Every message carries ``[#ID]`` in its subject, a
Message-ID stored with it, ``In-Reply-To``/``References`` of the ticket's thread
(the mail the customer sent and what deskctl sent since), ``Reply-To`` the support
address, and ``Auto-Submitted: auto-generated`` unless a person wrote it (the
response).

Templates are ``mail/<name>.<locale>.txt`` (first line ``Subject: ...``, then a blank
line, then the body) with the i18n fallback, rendered into ``mail/layout.html`` for
the HTML part (autoescaped). A policy's ``[mail] templates`` folder overrides any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from deskctl import i18n
from deskctl.domain import events as ev
from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.mail import CONFIRM_WORDS, REJECT_WORDS
from deskctl.domain.policy import Policy
from deskctl.services import mail, masterdata
from deskctl.store.models import (
    Agent,
    Contact,
    Customer,
    MailMessage,
    OutboxMessage,
    PolicyVersion,
    Ticket,
    pk,
)

REFERENCES_KEPT = 20


@dataclass(frozen=True)
class Reader:
    """Who reads a ticket's mail, and how values are written for them."""

    contact: Contact
    locale: str
    fmt: i18n.Formatter


def reader(session: Session, ticket: Ticket, policy: Policy) -> Reader | None:
    if ticket.contact_id is None:
        return None
    contact = session.get(Contact, ticket.contact_id)
    if contact is None:
        return None
    locale = masterdata.contact_locale(session, contact)
    spec = policy.calendars.get(ticket.calendar or "")
    return Reader(contact, locale, i18n.Formatter(locale, spec.timezone if spec else "UTC"))


def template_dir(session: Session, ticket: Ticket, policy: Policy) -> Path | None:
    """The policy's own template folder; a relative path is relative to the policy file."""
    if not policy.mail.templates:
        return None
    folder = Path(policy.mail.templates).expanduser()
    if not folder.is_absolute() and ticket.policy_version_id is not None:
        row = session.get(PolicyVersion, ticket.policy_version_id)
        if row is not None and row.source:
            folder = Path(row.source).expanduser().parent / folder
    return folder


def compose(
    name: str,
    rd: Reader,
    context: dict[str, Any],
    override: Path | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) of template ``name`` for this reader."""
    text = i18n.render(f"mail/{name}.txt", rd.locale, context, override=override, formatter=rd.fmt)
    first, _, body = text.partition("\n")
    if not first.lower().startswith("subject:"):
        raise ValueError(f"template mail/{name}: the first line must be 'Subject: ...'")
    subject = " ".join(first.partition(":")[2].split())
    body = body.lstrip("\n")
    html = i18n.render(
        "mail/layout.html",
        rd.locale,
        {"subject": subject, "paragraphs": _paragraphs(body)},
        override=override,
        formatter=rd.fmt,
    )
    return subject, body, html


def _paragraphs(text: str) -> list[list[str]]:
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    return [b.splitlines() for b in blocks]


# -- threading ------------------------------------------------------------------------


def thread(session: Session, ticket_id: int) -> tuple[str | None, str | None]:
    """(In-Reply-To, References) for the next message on the ticket: the latest message
    the customer sent (else the latest deskctl sent), and the thread so far."""
    received = session.execute(
        select(col(MailMessage.message_id), col(MailMessage.received_at))
        .where(col(MailMessage.ticket_id) == ticket_id, col(MailMessage.message_id).is_not(None))
        .order_by(col(MailMessage.id))
    ).all()
    sent = session.execute(
        select(col(OutboxMessage.message_id), col(OutboxMessage.created_at))
        .where(
            col(OutboxMessage.ticket_id) == ticket_id, col(OutboxMessage.message_id).is_not(None)
        )
        .order_by(col(OutboxMessage.id))
    ).all()
    ordered = [m for m, _ in sorted([*received, *sent], key=lambda r: r[1])]
    ids = list(dict.fromkeys(ordered))
    if not ids:
        return None, None
    parent = received[-1][0] if received else ids[-1]
    if len(ids) > REFERENCES_KEPT:
        ids = [ids[0], *ids[-(REFERENCES_KEPT - 1) :]]
    return parent, " ".join(ids)


def reply_address(policy: Policy) -> str:
    return policy.mail.address or mail.sender_address()


def send(
    session: Session,
    *,
    key: str,
    ticket: Ticket,
    policy: Policy,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    now: datetime,
    automatic: bool = True,
    in_reply_to: str | None = None,
) -> None:
    """Queue one message on the ticket's thread (outbox; delivered after the commit)."""
    parent, refs = thread(session, pk(ticket))
    parent = in_reply_to or parent
    if in_reply_to and in_reply_to not in (refs or ""):
        refs = f"{refs} {in_reply_to}" if refs else in_reply_to
    mail.enqueue(
        session,
        key=key,
        recipient=recipient,
        subject=subject,
        body=text,
        now=now,
        ticket_id=pk(ticket),
        html=html,
        in_reply_to=parent,
        thread_refs=refs,
        reply_to=reply_address(policy),
        automatic=automatic,
    )


# -- the notifications ------------------------------------------------------------------


def answer_words(locale: str) -> dict[str, str]:
    """The keywords a reply starts with to confirm or reject, as the mail tells them."""
    lang = locale.split("-")[0]
    return {
        "confirm_word": CONFIRM_WORDS.get(lang, CONFIRM_WORDS["en"])[0],
        "reject_word": REJECT_WORDS.get(lang, REJECT_WORDS["en"])[0],
    }


def _base_context(session: Session, ticket: Ticket, policy: Policy, rd: Reader) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "contact_name": rd.contact.name,
        "vendor": policy.vendor,
        "engineer": engineer_name(session, ticket.assignee),
        **answer_words(rd.locale),
    }


def engineer_name(session: Session, login: str | None) -> str | None:
    if not login:
        return None
    agent = session.get(Agent, login)
    return agent.name if agent is not None and agent.name else login


def _notify(
    session: Session,
    ticket: Ticket,
    policy: Policy,
    name: str,
    key: str,
    now: datetime,
    extra: dict[str, Any],
    *,
    automatic: bool = True,
    in_reply_to: str | None = None,
) -> None:
    rd = reader(session, ticket, policy)
    if rd is None:
        return
    context = {**_base_context(session, ticket, policy, rd), **extra}
    subject, text, html = compose(name, rd, context, template_dir(session, ticket, policy))
    send(
        session,
        key=key,
        ticket=ticket,
        policy=policy,
        recipient=rd.contact.email,
        subject=subject,
        text=text,
        html=html,
        now=now,
        automatic=automatic,
        in_reply_to=in_reply_to,
    )


def acknowledge(
    session: Session, ticket: Ticket, policy: Policy, now: datetime, in_reply_to: str | None
) -> None:
    """The acknowledgement of a new ticket (when the policy sends it)."""
    if "acknowledgement" not in policy.mail.notify:
        return
    session.refresh(ticket)
    _notify(
        session,
        ticket,
        policy,
        "acknowledgement",
        f"notify:{ticket.id}:acknowledgement",
        now,
        {"due_at": ticket.sla_due_at, "customer": _customer_name(session, ticket)},
        in_reply_to=in_reply_to,
    )


def _customer_name(session: Session, ticket: Ticket) -> str:
    customer = session.get(Customer, ticket.customer_id)
    return customer.name if customer else ""


def after_events(
    session: Session,
    ticket: Ticket,
    state: TicketState,
    new_events: Sequence[Event],
    policy: Policy | None,
    now: datetime,
) -> None:
    """Hook of ``tickets.apply``: the notifications the new events call for."""
    if policy is None or not policy.mail.notify:
        return
    wanted = policy.mail.notify
    for event in new_events:
        key = f"notify:{ticket.id}:{{}}:{event.seq}"
        message = event.data.get("message")
        if event.kind == ev.RESPONDED and message and "response" in wanted:
            _notify(
                session,
                ticket,
                policy,
                "response",
                key.format("response"),
                now,
                {"message": message, "author": engineer_name(session, event.actor)},
                automatic=False,
            )
        elif event.kind == ev.RESOLVED and "solution" in wanted:
            _notify(
                session,
                ticket,
                policy,
                "solution",
                key.format("solution"),
                now,
                {"solution": event.data.get("solution") or state.solution or ""},
            )
        elif event.to_status == "closed" and "closure" in wanted:
            _notify(
                session,
                ticket,
                policy,
                "closure",
                key.format("closure"),
                now,
                {"outcome": event.data.get("outcome") or state.outcome},
            )
