"""Builders of a ticket's intake: open, comment, update, triage, assign, respond."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from deskctl.domain import events as ev
from deskctl.domain.events import Event
from deskctl.domain.lifecycle.builders import check_move_for, check_not_closed, new_event, utc
from deskctl.domain.lifecycle.state import TicketState
from deskctl.domain.policy import INTAKE_FIELDS, SeverityScheme
from deskctl.domain.triage import (
    check_fields_complete,
    check_misuse_repeat,
    missing_fields,
    resolve_severity,
    triage_outcome,
)
from deskctl.errors import BadInput


def _check_intake_names(fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(INTAKE_FIELDS))
    if unknown:
        raise BadInput(
            f"unknown intake field(s) {', '.join(unknown)}; fields: {', '.join(INTAKE_FIELDS)}"
        )


def plan_open(
    *,
    now: datetime,
    actor: str,
    title: str,
    customer: str,
    contact: str,
    fields: Mapping[str, str | None] | None = None,
    required: Sequence[str] = (),
    status: str = "draft",
    data: Mapping[str, Any] | None = None,
) -> list[Event]:
    """OPENED, plus INFO_COMPLETE at once when no required field is missing.

    ``data`` adds plan, calendar, policy_version, parent_id or triage keys.
    A ticket opens ``draft`` (awaiting qualification) or, for a sub-ticket,
    ``queued``.
    """
    if not title.strip():
        raise BadInput("a ticket needs a title")
    if status not in ("draft", "queued"):
        raise BadInput(f"a ticket opens as draft or queued, not {status}")
    intake = dict(fields or {})
    _check_intake_names(intake)
    missing = missing_fields(intake, required)
    check_fields_complete("draft", status, missing)
    payload = {
        **(data or {}),
        "title": title.strip(),
        "customer": customer,
        "contact": contact,
        "fields": intake,
    }
    opened = Event(seq=1, at=utc(now), kind=ev.OPENED, actor=actor, to_status=status, data=payload)
    if missing:
        return [opened]
    return [opened, Event(seq=2, at=utc(now), kind=ev.INFO_COMPLETE, actor=actor)]


def plan_comment(
    state: TicketState, text: str, *, now: datetime, actor: str, note: str | None = None
) -> Event:
    """A comment on the history; notes never change the lifecycle (closed tickets too)."""
    body = text.strip()
    if not body:
        raise BadInput("a comment needs text")
    data: dict[str, Any] = {"text": body}
    if note:
        data["note"] = note
    return Event(seq=state.version + 1, at=utc(now), kind=ev.COMMENTED, actor=actor, data=data)


def plan_update(
    state: TicketState,
    fields: Mapping[str, str | None],
    *,
    now: datetime,
    actor: str,
    required: Sequence[str] = (),
) -> list[Event]:
    """UPDATED, plus INFO_COMPLETE when it supplies the last missing required field."""
    check_not_closed(state, "change it")
    if not fields:
        raise BadInput("nothing to update: give at least one field")
    _check_intake_names(fields)
    events = [new_event(state, ev.UPDATED, now=now, actor=actor, data={"fields": dict(fields)})]
    after = missing_fields({**state.fields, **fields}, required)
    if state.info_complete_at is None and not after:
        events.append(new_event(state, ev.INFO_COMPLETE, now=now, actor=actor, offset=2))
    return events


def plan_triage(
    state: TicketState,
    *,
    now: datetime,
    actor: str,
    scheme: SeverityScheme,
    category: str,
    severity: str | None = None,
    impact: str | None = None,
    urgency: str | None = None,
    topic: str | None = None,
    convert_to_billable: bool = False,
    kb_article: str | None = None,
    note: str | None = None,
    previous_redirects: Iterable[tuple[int, str, str]] = (),
    refuse_repeat: bool = True,
    required: Sequence[str] = (),
) -> list[Event]:
    """TRIAGED (severity, category, topic) and the move the category calls for.

    defect/always_supported: a ticket not yet queued (draft, a draft waiting
    for the customer, or awaiting approval) is queued; one already queued or
    in work keeps its status. billable_service or
    a converted out_of_scope case: awaiting_approval. misuse and out_of_scope
    close in a second event (REDIRECTED / CLOSED) so the history says why.
    ``previous_redirects`` are (ticket_id, contact, topic) of earlier misuse
    redirects; with ``refuse_repeat`` a ticket of the same contact and topic is
    refused whatever the category (the seed refuses the case type).
    """
    check_not_closed(state, "triage it again")
    level = resolve_severity(scheme, severity=severity, impact=impact, urgency=urgency)
    decision = triage_outcome(category, convert_to_billable=convert_to_billable)
    if decision.needs_kb_article and not (kb_article and kb_article.strip()):
        raise BadInput("misuse redirects to the knowledge base: give the article to send")
    if kb_article and not decision.needs_kb_article:
        raise BadInput(f"a knowledge-base article is given only for misuse, not {category}")
    clean_topic = topic.strip() if topic and topic.strip() else None
    if refuse_repeat and clean_topic and state.contact:
        check_misuse_repeat(state.contact, clean_topic, previous_redirects)

    target: str | None = decision.target
    if target == "queued" and not _before_queue(state):
        target = None  # already past the queue: only severity and category change
    elif target in ("closed", state.status):
        target = None
    if target is not None:
        check_move_for(state, target, now=now, required=required)
    data = {
        "severity": level,
        "category": category,
        "topic": clean_topic,
        "impact": impact.strip().lower() if impact else None,
        "urgency": urgency.strip().lower() if urgency else None,
        "billable": decision.billable,
        "needs_approval": decision.needs_approval,
    }
    triaged = new_event(
        state, ev.TRIAGED, now=now, actor=actor, target=target, data=data, note=note
    )
    if decision.target != "closed":
        return [triaged]
    check_move_for(state, "closed", now=now, outcome=decision.outcome)
    if category == "misuse":
        kind, extra = ev.REDIRECTED, {"kb_article": (kb_article or "").strip()}
    else:
        kind, extra = ev.CLOSED, {"reason": category}
    closing = new_event(
        state,
        kind,
        now=now,
        actor=actor,
        target="closed",
        data={"outcome": decision.outcome, **extra},
        offset=2,
    )
    return [triaged, closing]


def _before_queue(state: TicketState) -> bool:
    """Not yet queued: a draft, one awaiting approval, or a draft waiting for the customer."""
    if state.status == "awaiting_customer":
        return state.resume_to == "draft"
    return state.status in ("draft", "awaiting_approval")


def plan_assign(
    state: TicketState,
    *,
    now: datetime,
    actor: str,
    assignee: str,
    team: str | None = None,
    note: str | None = None,
) -> Event:
    check_not_closed(state, "assign it")
    if not assignee.strip():
        raise BadInput("assign needs an agent (--to)")
    data: dict[str, Any] = {"assignee": assignee.strip()}
    if team is not None:
        data["team"] = team
    return new_event(state, ev.ASSIGNED, now=now, actor=actor, data=data, note=note)


def plan_respond(
    state: TicketState, *, now: datetime, actor: str, note: str | None = None
) -> Event:
    """A response to the customer; the first one stops the response metric."""
    check_not_closed(state, "respond")
    return new_event(state, ev.RESPONDED, now=now, actor=actor, note=note)
