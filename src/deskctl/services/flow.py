"""Moving tickets through their lifecycle (docs/rules.md §3, §4), and the engineer's queue.

Every command loads the ticket (locking its row on PostgreSQL; SQLite's write
transaction already holds the lock), asks a ``deskctl.domain.lifecycle``
builder for the next events — which refuses an illegal move before anything is
written — and appends them with :func:`deskctl.services.tickets.apply`, which
compare-and-sets the row's ``rev``. ``--if-rev N`` lets a script say "only if
nobody touched it since I looked" (exit 4 otherwise).

Decisions on points the spec leaves open:

- ``triage`` without ``--category`` takes the category the policy lists the
  topic under, else ``defect``. Without a severity source it keeps the
  ticket's severity, else the policy's default severity.
- ``misuse`` needs ``--kb`` (an existing article; exit 3 otherwise) and, when
  the policy refuses repeats, a ``--topic`` so the (contact, topic) pair can be
  remembered. The pair is remembered while a ticket of that contact and topic
  is categorised ``misuse``; re-triaging a reopened ticket to another category
  forgets it (the engineer decided it was not misuse after all).
- ``redirect`` is the misuse decision taken later: it records the triage as
  ``misuse`` (keeping severity, or the policy default, else the least severe)
  and closes ``redirected``; it never refuses a repeat.
- ``respond`` may be repeated (every answer to the customer is an event); only
  the first stops the response clock. On a queued ticket it also starts work.
- ``assign`` accepts any login while no agent is registered; once agents are
  registered (``deskctl agent add``) the assignee must be one of them, and the
  agent's team is taken when ``--team`` is not given.
- ``start`` moves to ``in_progress`` from any state the spec allows, except a
  closed ticket (that is ``reopen``).
- ``comment`` works on closed tickets too: notes never change the lifecycle.
- A sub-ticket that is reopened after its parent resumed does not suspend the
  parent again, but the parent cannot close while any sub-ticket is open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from deskctl.domain import closure, lifecycle, validate
from deskctl.domain import events as ev
from deskctl.domain.events import Event
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import Policy
from deskctl.domain.triage import check_misuse_repeat, classify_topic
from deskctl.errors import BadInput, Conflict, NotFound, Refused
from deskctl.services import kb, masterdata, tickets
from deskctl.services.moves import Change, Ctx
from deskctl.services.views import QueueFilter, QueueGroup
from deskctl.store.dbapi import Reader
from deskctl.store.models import Agent, Contact, Ticket, pk


@dataclass
class Current:
    ticket: Ticket
    history: list[Event]
    state: TicketState
    policy: Policy

    @property
    def required(self) -> list[str]:
        # The channel is on every ticket row; the intake fields are what can be missing.
        return [f for f in self.policy.required_fields if f != "channel"]


Builder = Callable[[Current], list[Event]]


def load(session: Session, ticket_id: int, ctx: Ctx) -> Current:
    ticket, history, state = tickets.current(session, ticket_id)
    if ctx.if_rev is not None and ticket.rev != ctx.if_rev:
        raise Conflict(
            f"ticket {ticket_id} is at rev {ticket.rev}, not {ctx.if_rev}: "
            "it changed meanwhile; look at it again"
        )
    return Current(ticket, history, state, tickets.policy_of(session, ticket))


def _change(session: Session, ticket_id: int, ctx: Ctx, build: Builder) -> Change:
    cur = load(session, ticket_id, ctx)
    new = build(cur)
    after = tickets.apply(session, cur.ticket, cur.history, new, now=ctx.now, policy=cur.policy)
    return Change(ticket_id, cur.state.status, after, new)


def _plain(
    session: Session,
    ticket_id: int,
    ctx: Ctx,
    plan: Callable[..., Event],
    *,
    required: bool = False,
) -> Change:
    """A change whose builder needs only the ticket's state and the command's context
    (``required``: and the policy's required intake fields)."""

    def build(cur: Current) -> list[Event]:
        more = {"required": cur.required} if required else {}
        return [plan(cur.state, now=ctx.now, actor=ctx.actor, note=ctx.note, **more)]

    return _change(session, ticket_id, ctx, build)


def _with_data(event: Event, **extra: Any) -> Event:
    values = {k: v for k, v in extra.items() if v is not None}
    return replace(event, data={**event.data, **values}) if values else event


# -- triage ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageRequest:
    category: str | None = None
    severity: str | None = None
    impact: str | None = None
    urgency: str | None = None
    topic: str | None = None
    kb_article: str | None = None
    billable: bool = False


def previous_redirects(
    session: Session, contact: str | None, *, exclude: int
) -> list[tuple[int, str, str]]:
    """(ticket id, contact, topic) of the contact's tickets redirected as misuse."""
    if not contact:
        return []
    stmt = (
        select(col(Ticket.id), col(Contact.email), col(Ticket.topic))
        .join(Contact, col(Contact.id) == col(Ticket.contact_id))
        .where(
            func.lower(Contact.email) == contact.strip().lower(),
            col(Ticket.category) == "misuse",
            col(Ticket.topic).is_not(None),
            col(Ticket.id) != exclude,
        )
    )
    return [(int(i), str(e), str(t)) for i, e, t in session.execute(stmt)]


def _triage_severity(req: TriageRequest, cur: Current) -> str | None:
    if req.severity or req.impact or req.urgency:
        return req.severity
    known = cur.state.severity or cur.policy.severities.default
    if known is None:
        order = ", ".join(cur.policy.severities.order)
        raise BadInput(f"give --severity ({order}) or --impact and --urgency")
    return known


def triage(session: Session, ticket_id: int, ctx: Ctx, req: TriageRequest) -> Change:
    hints: list[str] = []

    def build(cur: Current) -> list[Event]:
        scope = cur.policy.scope
        topic = (req.topic or "").strip() or cur.state.topic
        listed = classify_topic(scope, topic)
        category = req.category or listed or "defect"
        if req.category and listed and listed != req.category:
            hints.append(f"policy {cur.policy.name} lists topic {topic} as {listed}")
        severity = _triage_severity(req, cur)
        article = kb.get(session, req.kb_article).key if req.kb_article else None
        previous = previous_redirects(session, cur.state.contact, exclude=pk(cur.ticket))
        if category == "misuse":
            _check_misuse(session, cur, topic, article, previous)
        return lifecycle.plan_triage(
            cur.state,
            now=ctx.now,
            actor=ctx.actor,
            scheme=cur.policy.severities,
            category=category,
            severity=severity,
            impact=req.impact,
            urgency=req.urgency,
            topic=topic,
            convert_to_billable=req.billable,
            kb_article=article,
            note=ctx.note,
            previous_redirects=previous,
            refuse_repeat=scope.misuse_refuse_repeat,
            required=cur.required,
        )

    change = _change(session, ticket_id, ctx, build)
    change.hints = hints
    return change


def _check_misuse(
    session: Session,
    cur: Current,
    topic: str | None,
    article: str | None,
    previous: Sequence[tuple[int, str, str]],
) -> None:
    """A repeat is refused first; then the article and topic a redirect needs."""
    refuse = cur.policy.scope.misuse_refuse_repeat
    if refuse and topic and cur.state.contact:
        check_misuse_repeat(cur.state.contact, topic, previous)
    if refuse and not topic:
        raise BadInput("misuse needs --topic (the case type) so a repeat can be recognised")
    if article is None:
        found = kb.suggest(session, topic, cur.state.title)
        hint = f" (suggested: {', '.join(a['key'] for a in found)})" if found else ""
        raise BadInput(f"misuse redirects to the knowledge base: give --kb ARTICLE{hint}")


def redirect(
    session: Session, ticket_id: int, ctx: Ctx, article_key: str, topic: str | None = None
) -> Change:
    def build(cur: Current) -> list[Event]:
        article = kb.get(session, article_key)
        scheme = cur.policy.severities
        severity = cur.state.severity or scheme.default or scheme.order[-1]
        return lifecycle.plan_triage(
            cur.state,
            now=ctx.now,
            actor=ctx.actor,
            scheme=scheme,
            category="misuse",
            severity=severity,
            topic=(topic or "").strip() or cur.state.topic,
            kb_article=article.key,
            note=ctx.note,
            refuse_repeat=False,
            required=cur.required,
        )

    return _change(session, ticket_id, ctx, build)


# -- approval, assignment, work ---------------------------------------------------------


def approve(session: Session, ticket_id: int, ctx: Ctx) -> Change:
    return _plain(session, ticket_id, ctx, lifecycle.plan_approve, required=True)


def decline(session: Session, ticket_id: int, ctx: Ctx) -> Change:
    return _plain(session, ticket_id, ctx, lifecycle.plan_decline)


def assign(session: Session, ticket_id: int, ctx: Ctx, to: str, team: str | None = None) -> Change:
    login = validate.one_line(to, "--to", limit=80, required=False)
    agent = session.get(Agent, login) if login else None
    if agent is None and login:
        # a ticket assigned to nobody who exists drops out of every --mine queue
        known = ", ".join(a.login for a in masterdata.list_agents(session))
        hint = f"agents: {known}" if known else "add one with `deskctl agent add`"
        raise NotFound(f"no agent {login!r}; {hint}")
    if team is None and agent is not None:
        team = agent.team

    def build(cur: Current) -> list[Event]:
        return [
            lifecycle.plan_assign(
                cur.state, now=ctx.now, actor=ctx.actor, assignee=login, team=team, note=ctx.note
            )
        ]

    return _change(session, ticket_id, ctx, build)


def respond(session: Session, ticket_id: int, ctx: Ctx, message: str | None = None) -> Change:
    def build(cur: Current) -> list[Event]:
        text = message.strip() if message and message.strip() else None
        answer = lifecycle.plan_respond(cur.state, now=ctx.now, actor=ctx.actor, note=ctx.note)
        answer = _with_data(answer, message=text)
        if cur.state.status != "queued":
            return [answer]
        after = lifecycle.project([*cur.history, answer])
        started = lifecycle.plan_start(
            after, now=ctx.now, actor=ctx.actor, note="first response", required=cur.required
        )
        return [answer, started]

    return _change(session, ticket_id, ctx, build)


def start(session: Session, ticket_id: int, ctx: Ctx) -> Change:
    return _plain(session, ticket_id, ctx, lifecycle.plan_start, required=True)


def wait(session: Session, ticket_id: int, ctx: Ctx, on: str, vendor: str | None = None) -> Change:
    vendor = vendor.strip() if vendor and vendor.strip() else None
    return _change(
        session,
        ticket_id,
        ctx,
        lambda cur: [
            lifecycle.plan_wait(
                cur.state, on, now=ctx.now, actor=ctx.actor, vendor=vendor, note=ctx.note
            )
        ],
    )


def forward(session: Session, ticket_id: int, ctx: Ctx, vendor: str) -> Change:
    name = vendor.strip()
    if not name:
        raise BadInput("forward needs the third party (--to VENDOR)")
    return _change(
        session,
        ticket_id,
        ctx,
        lambda cur: [
            lifecycle.plan_move(
                cur.state,
                ev.FORWARDED,
                "forwarded",
                now=ctx.now,
                actor=ctx.actor,
                note=ctx.note,
                data={"on": "third-party", "vendor": name},
            )
        ],
    )


def resume(session: Session, ticket_id: int, ctx: Ctx) -> Change:
    return _plain(session, ticket_id, ctx, lifecycle.plan_resume, required=True)


# -- split ------------------------------------------------------------------------------


def ancestors(session: Session, ticket: Ticket) -> set[int]:
    """This ticket and every ticket above it."""
    seen: set[int] = set()
    current: int | None = ticket.id
    while current is not None and current not in seen:
        seen.add(current)
        current = session.execute(
            select(col(Ticket.parent_id)).where(col(Ticket.id) == current)
        ).scalar()
    return seen


def split(session: Session, ticket_id: int, ctx: Ctx, parts: Sequence[str]) -> Change:
    """Child tickets (queued, the parent's customer, contract, fields and triage), then SPLIT."""
    cur = load(session, ticket_id, ctx)
    lifecycle.check_split(cur.state, parts, ancestors(session, cur.ticket))
    titles = [validate.one_line(t, "--part", limit=tickets.TITLE_LIMIT) for t in parts]
    child_ids = [_open_child(session, cur, title, ctx) for title in titles]
    new = lifecycle.plan_split(cur.state, child_ids, now=ctx.now, actor=ctx.actor, note=ctx.note)
    after = tickets.apply(session, cur.ticket, cur.history, new, now=ctx.now, policy=cur.policy)
    return Change(ticket_id, cur.state.status, after, new, children=child_ids)


def _open_child(session: Session, cur: Current, title: str, ctx: Ctx) -> int:
    parent = cur.ticket
    new = lifecycle.plan_child_open(
        cur.state, parent_id=pk(parent), title=title, now=ctx.now, actor=ctx.actor
    )
    child = Ticket(
        customer_id=parent.customer_id,
        contact_id=parent.contact_id,
        contract_id=parent.contract_id,
        policy_version_id=parent.policy_version_id,
        parent_id=parent.id,
        title=title[:300],
        channel=parent.channel,
        billing_mode=parent.billing_mode,
        entitlement=parent.entitlement,
        opened_at=ctx.now,
        updated_at=ctx.now,
        rev=0,
    )
    session.add(child)
    session.flush()
    tickets.apply(session, child, [], new, now=ctx.now, policy=cur.policy)
    assert child.id is not None
    return child.id


# -- resolution and closure --------------------------------------------------------------


def resolve(session: Session, ticket_id: int, ctx: Ctx, solution: str) -> Change:
    text = solution.strip()
    if not text:
        raise BadInput("resolve needs the solution (--solution TEXT)")
    return _change(
        session,
        ticket_id,
        ctx,
        lambda cur: [
            lifecycle.plan_resolve(
                cur.state, now=ctx.now, actor=ctx.actor, solution=text, note=ctx.note
            )
        ],
    )


def open_children(session: Session, ticket_id: int) -> list[int]:
    stmt = (
        select(col(Ticket.id))
        .where(col(Ticket.parent_id) == ticket_id, col(Ticket.status) != "closed")
        .order_by(col(Ticket.id))
    )
    return [int(i) for i in session.execute(stmt).scalars()]


def close(
    session: Session, ticket_id: int, ctx: Ctx, outcome: str, reason: str | None = None
) -> Change:
    def build(cur: Current) -> list[Event]:
        event = lifecycle.plan_close(
            cur.state, outcome, now=ctx.now, actor=ctx.actor, note=ctx.note, reason=reason
        )
        still_open = open_children(session, ticket_id)
        if still_open:
            ids = ", ".join(f"#{i}" for i in still_open)
            raise Refused(f"ticket has open sub-tickets {ids}; close them first")
        return [event]

    return _change(session, ticket_id, ctx, build)


def reopen(session: Session, ticket_id: int, ctx: Ctx) -> Change:
    return _change(
        session,
        ticket_id,
        ctx,
        lambda cur: [
            lifecycle.plan_reopen(
                cur.state,
                now=ctx.now,
                actor=ctx.actor,
                window_seconds=cur.policy.reopen_window,
                note=ctx.note,
            )
        ],
    )


# -- the customer's answer and the protocol's contacts -----------------------------------


def confirm(session: Session, ticket_id: int, ctx: Ctx) -> Change:
    """The customer confirmed the solution: closed ``resolved`` (the protocol ends)."""
    return _plain(session, ticket_id, ctx, lifecycle.plan_confirm)


def reject_solution(session: Session, ticket_id: int, ctx: Ctx) -> Change:
    """The customer rejected the solution: back to ``in_progress`` (the protocol ends)."""
    return _plain(session, ticket_id, ctx, lifecycle.plan_reject_solution)


def contact(session: Session, ticket_id: int, ctx: Ctx, via: str, outcome: str) -> Change:
    """The engineer tried to reach the customer by ``via``; ``outcome`` says how it went."""
    closure.check_contact(via, outcome)
    return _change(
        session,
        ticket_id,
        ctx,
        lambda cur: [
            closure.plan_contact(
                cur.state, via=via, outcome=outcome, now=ctx.now, actor=ctx.actor, note=ctx.note
            )
        ],
    )


# -- on-site visits and requested reports ------------------------------------------------

VisitPlan = Callable[..., Event]  # deskctl.domain.visits.plan_*(state, events, now=, ...)


def visit(session: Session, ticket_id: int, ctx: Ctx, plan: VisitPlan, **extra: Any) -> Change:
    """A visit or report event, built by one of ``deskctl.domain.visits``' builders."""
    return _change(
        session,
        ticket_id,
        ctx,
        lambda cur: [
            plan(cur.state, cur.history, now=ctx.now, actor=ctx.actor, note=ctx.note, **extra)
        ],
    )


# -- notes and intake ---------------------------------------------------------------------


def comment(session: Session, ticket_id: int, ctx: Ctx, text: str) -> Change:
    if not validate.multi_line(text, "comment").strip():
        raise BadInput("a comment needs text")  # before the ticket is even looked up
    return _change(
        session,
        ticket_id,
        ctx,
        lambda cur: [
            lifecycle.plan_comment(cur.state, text, now=ctx.now, actor=ctx.actor, note=ctx.note)
        ],
    )


def update(session: Session, ticket_id: int, ctx: Ctx, fields: Mapping[str, str | None]) -> Change:
    """Supply intake fields; the last missing required one records INFO_COMPLETE."""
    given = tickets.clean_fields(fields)
    if not given:
        raise BadInput("nothing to update: give at least one field (--version, --os...)")
    if "product" in given:
        masterdata.product_by_name(session, given["product"])

    def build(cur: Current) -> list[Event]:
        new = lifecycle.plan_update(
            cur.state, given, now=ctx.now, actor=ctx.actor, required=cur.required
        )
        return [_with_data(new[0], note=ctx.note), *new[1:]]

    return _change(session, ticket_id, ctx, build)


# -- the queue -------------------------------------------------------------------------


def queue(session: Session, flt: QueueFilter) -> list[QueueGroup]:
    """Open tickets by status, most urgent first (``services.views.queue``)."""
    from deskctl.services import views

    return views.queue(Reader.over(session), flt)
