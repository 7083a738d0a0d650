"""The ticket lifecycle (docs/rules.md §3): allowed moves, the projection of a ticket's
events into its current state, and builders of the next event for each command.

The service layer loads a ticket's events, calls :func:`project`, asks a
``plan_*`` builder for the next event(s) — which validates the request and
raises ``Refused``/``BadInput`` before anything is written — and appends them
with compare-and-set on ``state.version`` (events are numbered 1..n per
ticket; a builder numbers its events ``state.version + 1``, ``+ 2``...).

Decisions on points the spec leaves open:

- ``accepted`` is the closure protocol's outcome only (``by_protocol=True``)
  and only for a ticket awaiting verification, the one state the protocol runs
  in. A customer who confirms closes ``resolved``; a customer who declines the
  cost of a billable service closes ``rejected``.
- Reopening is allowed up to and including the instant the window ends
  (``closed_at + window``); one second later it is refused. Reopening goes back
  to ``in_progress`` and clears outcome, closed_at and resolved_at.
- ``resolved_at`` is when the current solution was proposed (entering
  ``awaiting_verification``); it is cleared when the customer rejects the
  solution or the ticket is reopened.
- Moves are recorded in time order: a move dated before the ticket's previous
  move is refused (BadInput), since the SLA clock replays moves in order. Other
  events (comments, work logs) may be back-dated.
- A waiting ticket (``awaiting_customer``) resumes to the state it came from
  (draft, queued or in_progress); a forwarded one resumes to ``in_progress``.
- Split: one part or more (OpMon: a subordinate problem is a separate
  incident, so splitting off a single one is legitimate). A split needs a
  triaged ticket: from ``in_progress``, or from ``queued``, which is first
  started (a ``started`` event, then the ``split``), since
  ``awaiting_subticket`` is only reachable from ``in_progress``. A parent in
  ``awaiting_subticket`` is not resumed by hand while sub-tickets are open;
  it resumes by itself when the last one closes (:func:`on_child_closed`).
  Children open ``queued`` with the parent's triage, fields and contract.
- Closing a draft with missing required fields is allowed (see
  ``deskctl.domain.triage``): a duplicate or out-of-scope request is rejected
  without collecting data first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from deskctl.clock import iso_z
from deskctl.domain import events as ev
from deskctl.domain.durations import format_duration
from deskctl.domain.events import Event
from deskctl.domain.policy import INTAKE_FIELDS, OUTCOMES, STATES, SeverityScheme
from deskctl.domain.triage import (
    check_fields_complete,
    check_misuse_repeat,
    missing_fields,
    resolve_severity,
    triage_outcome,
)
from deskctl.errors import BadInput, Refused

# docs/rules.md §3, in the order the spec lists them (messages show this order).
_MOVES: dict[str, tuple[str, ...]] = {
    "draft": ("queued", "awaiting_approval", "awaiting_customer", "closed"),
    "awaiting_approval": ("queued", "closed"),
    "awaiting_customer": ("draft", "queued", "in_progress", "closed"),
    "queued": ("in_progress", "awaiting_customer", "closed"),
    "in_progress": (
        "awaiting_customer",
        "forwarded",
        "awaiting_subticket",
        "awaiting_verification",
        "closed",
    ),
    "forwarded": ("in_progress",),
    "awaiting_subticket": ("in_progress",),
    "awaiting_verification": ("closed", "in_progress"),
    "closed": ("in_progress",),
}

ALLOWED: dict[str, frozenset[str]] = {state: frozenset(moves) for state, moves in _MOVES.items()}

# Outcomes a person may choose; ``accepted`` belongs to the closure protocol.
USER_OUTCOMES = tuple(o for o in OUTCOMES if o != "accepted")

_TRIAGE_KEYS = ("severity", "category", "topic", "impact", "urgency")
_OPENED_KEYS = ("title", "customer", "contact", "parent_id", "plan", "calendar", "policy_version")


def _check_state(name: str, what: str = "state") -> None:
    if name not in STATES:
        raise BadInput(f"unknown {what} {name!r}; states: {', '.join(STATES)}")


def allowed_moves(status: str) -> tuple[str, ...]:
    _check_state(status)
    return _MOVES[status]


def check_move(
    current: str,
    target: str,
    *,
    outcome: str | None = None,
    reopen_ok: bool = True,
    by_protocol: bool = False,
) -> None:
    """Refuse a move docs/rules.md §3 does not list, or a close without a valid outcome.

    ``reopen_ok=False`` refuses closed -> in_progress (the caller has not checked
    the reopen rule; see :func:`check_reopen`).
    """
    _check_state(current)
    _check_state(target, "target state")
    if target not in ALLOWED[current]:
        raise Refused(
            f"cannot move to {target}: ticket is {current}; "
            f"it can move to: {', '.join(_MOVES[current])}"
        )
    if current == "closed" and not reopen_ok:
        raise Refused("ticket is closed; reopen it (within the policy's window) to work on it")
    if target != "closed":
        if outcome is not None:
            raise BadInput(f"an outcome is given only when closing, not when moving to {target}")
        return
    if outcome is None:
        raise BadInput(f"closing needs an outcome: {', '.join(USER_OUTCOMES)}")
    if outcome not in OUTCOMES:
        raise BadInput(f"unknown outcome {outcome!r}; use one of: {', '.join(USER_OUTCOMES)}")
    if outcome == "accepted":
        if not by_protocol:
            raise Refused(
                "outcome accepted is set only by the closure protocol; "
                "close as resolved when the customer confirms"
            )
        if current != "awaiting_verification":
            raise Refused(
                f"the closure protocol closes only a ticket awaiting verification; "
                f"ticket is {current}"
            )


@dataclass(frozen=True)
class TicketState:
    """A ticket as its events say it is now. ``version`` is the number of events."""

    status: str
    version: int
    opened_at: datetime
    last_event_at: datetime
    status_since: datetime  # when the ticket entered its current status
    outcome: str | None = None
    title: str | None = None
    customer: str | None = None
    contact: str | None = None
    parent_id: int | None = None
    plan: str | None = None
    calendar: str | None = None
    policy_version: Any = None
    severity: str | None = None
    category: str | None = None
    topic: str | None = None
    impact: str | None = None
    urgency: str | None = None
    assignee: str | None = None
    team: str | None = None
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    info_complete_at: datetime | None = None
    reopen_count: int = 0
    children: tuple[int, ...] = ()
    open_children: tuple[int, ...] = ()
    waiting_on: str | None = None  # "customer" | "third-party" while waiting
    resume_to: str | None = None  # where a waiting ticket goes back to
    vendor: str | None = None  # the last third party involved
    solution: str | None = None
    kb_article: str | None = None
    fields: Mapping[str, str | None] = field(default_factory=dict)
    minutes: int = 0  # logged work, corrections included


def project(events: Sequence[Event]) -> TicketState:
    """Replay a ticket's events (any order; sorted by ``seq``) into its state.

    The log is written only through the builders below, so it is always
    consistent; an inconsistent one (seq not 1..n, first event not an opening
    move, a move whose ``from_status`` is not the replayed status, an unknown
    state) means the store was corrupted or edited by hand: ValueError, never a
    user error.
    """
    if not events:
        raise ValueError("a ticket has at least its opened event")
    ordered = sorted(events, key=lambda e: e.seq)
    seqs = [e.seq for e in ordered]
    if seqs != list(range(1, len(ordered) + 1)):
        raise ValueError(f"corrupted ticket log: event numbers are {seqs}, expected 1..n")
    first = ordered[0]
    if first.kind != ev.OPENED or first.to_status is None:
        raise ValueError("corrupted ticket log: the first event does not open the ticket")

    s: dict[str, Any] = {
        "status": None,
        "opened_at": first.at,
        "status_since": first.at,
        "reopen_count": 0,
        "children": [],
        "open_children": [],
        "fields": {},
        "minutes": 0,
    }
    for event in ordered:
        if event.to_status is not None:
            _apply_move(s, event)
        _apply_kind(s, event)
    s["version"] = len(ordered)
    s["last_event_at"] = ordered[-1].at
    s["children"] = tuple(s["children"])
    s["open_children"] = tuple(s["open_children"])
    return TicketState(**s)


def _apply_move(s: dict[str, Any], event: Event) -> None:
    before, after = s["status"], event.to_status
    if event.from_status != before:
        raise ValueError(
            f"corrupted ticket log: event {event.seq} ({event.kind}) moves from "
            f"{event.from_status} but the ticket is {before}"
        )
    if after not in STATES:
        raise ValueError(f"corrupted ticket log: event {event.seq} moves to unknown {after!r}")
    s["status"] = after
    s["status_since"] = event.at
    if after == "awaiting_customer":
        s["waiting_on"], s["resume_to"] = "customer", before
    elif after == "forwarded":
        s["waiting_on"], s["resume_to"] = "third-party", "in_progress"
    else:
        s["waiting_on"] = s["resume_to"] = None
    if after == "closed":
        s["outcome"] = event.data.get("outcome")
        s["closed_at"] = event.at
    elif before == "closed":
        s["reopen_count"] += 1
        s["outcome"] = s["closed_at"] = s["resolved_at"] = None
    if after == "awaiting_verification":
        s["resolved_at"] = event.at
        if "solution" in event.data:
            s["solution"] = event.data["solution"]
    elif before == "awaiting_verification" and after == "in_progress":
        s["resolved_at"] = None


def _apply_kind(s: dict[str, Any], event: Event) -> None:
    data = event.data
    kind = event.kind
    if kind in (ev.OPENED, ev.UPDATED):
        s["fields"] = {**s["fields"], **data.get("fields", {})}
    if kind == ev.OPENED:
        for key in _OPENED_KEYS:
            if key in data:
                s[key] = data[key]
    if kind in (ev.OPENED, ev.TRIAGED):
        for key in _TRIAGE_KEYS:
            if key in data:
                s[key] = data[key]
    elif kind == ev.INFO_COMPLETE:
        s.setdefault("info_complete_at", event.at)
    elif kind == ev.ASSIGNED:
        for key in ("assignee", "team"):
            if key in data:
                s[key] = data[key]
    elif kind == ev.RESPONDED:
        s.setdefault("responded_at", event.at)
    elif kind == ev.SPLIT:
        s["children"].extend(data.get("children", ()))
        s["open_children"].extend(data.get("children", ()))
    elif kind == ev.CHILD_CLOSED:
        if data.get("child") in s["open_children"]:
            s["open_children"].remove(data["child"])
    elif kind == ev.WORKLOG:
        s["minutes"] += int(data.get("minutes", 0))
    elif kind == ev.PLAN_CHANGED:
        for key in ("plan", "calendar"):
            if key in data:
                s[key] = data[key]
    if data.get("vendor"):
        s["vendor"] = data["vendor"]
    if "kb_article" in data:
        s["kb_article"] = data["kb_article"]


# --- event builders -------------------------------------------------------------


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("instants must be timezone-aware (UTC)")
    return now.astimezone(UTC)


def _new_event(
    state: TicketState | None,
    kind: str,
    *,
    now: datetime,
    actor: str,
    target: str | None = None,
    data: Mapping[str, Any] | None = None,
    note: str | None = None,
    offset: int = 1,
) -> Event:
    payload = dict(data or {})
    if note:
        payload["note"] = note
    version = state.version if state else 0
    return Event(
        seq=version + offset,
        at=_utc(now),
        kind=kind,
        actor=actor,
        from_status=state.status if (state and target) else None,
        to_status=target,
        data=payload,
    )


def _check_in_order(state: TicketState, now: datetime) -> None:
    if _utc(now) < state.status_since:
        raise BadInput(
            f"{iso_z(_utc(now))} is before the ticket's last move at "
            f"{iso_z(state.status_since)}; moves are recorded in time order"
        )


def _check_not_closed(state: TicketState, doing: str) -> None:
    if state.status == "closed":
        raise Refused(f"ticket is closed; reopen it to {doing}")


def _check_move_for(
    state: TicketState,
    target: str,
    *,
    now: datetime,
    outcome: str | None = None,
    by_protocol: bool = False,
    required: Sequence[str] = (),
) -> None:
    check_move(state.status, target, outcome=outcome, reopen_ok=False, by_protocol=by_protocol)
    if state.status == "awaiting_subticket" and state.open_children:
        raise Refused(
            f"ticket waits for its sub-tickets {_ids(state.open_children)}; "
            "it resumes by itself when the last one closes"
        )
    if target == "closed":
        check_close_parent(state)
    check_fields_complete(state.status, target, missing_fields(state.fields, required))
    _check_in_order(state, now)


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


def plan_move(
    state: TicketState,
    kind: str,
    target: str,
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
    data: Mapping[str, Any] | None = None,
    by_protocol: bool = False,
    required: Sequence[str] = (),
) -> Event:
    """The event moving ``state`` to ``target``, after every lifecycle check.

    ``data["outcome"]`` is the outcome when closing; ``required`` the policy's
    required intake fields. Reopening goes through :func:`plan_reopen`.
    """
    payload = dict(data or {})
    _check_move_for(
        state,
        target,
        now=now,
        outcome=payload.get("outcome"),
        by_protocol=by_protocol,
        required=required,
    )
    return _new_event(state, kind, now=now, actor=actor, target=target, data=payload, note=note)


def check_close_parent(state: TicketState) -> None:
    if state.open_children:
        raise Refused(f"ticket has open sub-tickets {_ids(state.open_children)}; close them first")


def check_reopen(state: TicketState, now: datetime, window_seconds: int | None) -> None:
    """Only a closed ticket reopens: never after ``accepted``, else within the window."""
    if state.status != "closed":
        raise Refused(f"ticket is {state.status}; only a closed ticket can be reopened")
    if state.outcome == "accepted":
        raise Refused(
            "ticket was closed as accepted by the closure protocol and cannot be reopened; "
            "the customer must open a new ticket"
        )
    if window_seconds is None or state.closed_at is None:
        return
    window_end = state.closed_at + timedelta(seconds=window_seconds)
    if _utc(now) > window_end:
        raise Refused(
            f"ticket closed at {iso_z(state.closed_at)}; the reopen window of "
            f"{format_duration(window_seconds, days=True)} ended at {iso_z(window_end)}; "
            "the customer must open a new ticket"
        )


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
    opened = Event(seq=1, at=_utc(now), kind=ev.OPENED, actor=actor, to_status=status, data=payload)
    if missing:
        return [opened]
    return [opened, Event(seq=2, at=_utc(now), kind=ev.INFO_COMPLETE, actor=actor)]


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
    return Event(seq=state.version + 1, at=_utc(now), kind=ev.COMMENTED, actor=actor, data=data)


def plan_update(
    state: TicketState,
    fields: Mapping[str, str | None],
    *,
    now: datetime,
    actor: str,
    required: Sequence[str] = (),
) -> list[Event]:
    """UPDATED, plus INFO_COMPLETE when it supplies the last missing required field."""
    _check_not_closed(state, "change it")
    if not fields:
        raise BadInput("nothing to update: give at least one field")
    _check_intake_names(fields)
    events = [_new_event(state, ev.UPDATED, now=now, actor=actor, data={"fields": dict(fields)})]
    after = missing_fields({**state.fields, **fields}, required)
    if state.info_complete_at is None and not after:
        events.append(_new_event(state, ev.INFO_COMPLETE, now=now, actor=actor, offset=2))
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
    _check_not_closed(state, "triage it again")
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
        _check_move_for(state, target, now=now, required=required)
    data = {
        "severity": level,
        "category": category,
        "topic": clean_topic,
        "impact": impact.strip().lower() if impact else None,
        "urgency": urgency.strip().lower() if urgency else None,
        "billable": decision.billable,
        "needs_approval": decision.needs_approval,
    }
    triaged = _new_event(
        state, ev.TRIAGED, now=now, actor=actor, target=target, data=data, note=note
    )
    if decision.target != "closed":
        return [triaged]
    _check_move_for(state, "closed", now=now, outcome=decision.outcome)
    if category == "misuse":
        kind, extra = ev.REDIRECTED, {"kb_article": (kb_article or "").strip()}
    else:
        kind, extra = ev.CLOSED, {"reason": category}
    closing = _new_event(
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
    _check_not_closed(state, "assign it")
    if not assignee.strip():
        raise BadInput("assign needs an agent (--to)")
    data: dict[str, Any] = {"assignee": assignee.strip()}
    if team is not None:
        data["team"] = team
    return _new_event(state, ev.ASSIGNED, now=now, actor=actor, data=data, note=note)


def plan_respond(
    state: TicketState, *, now: datetime, actor: str, note: str | None = None
) -> Event:
    """A response to the customer; the first one stops the response metric."""
    _check_not_closed(state, "respond")
    return _new_event(state, ev.RESPONDED, now=now, actor=actor, note=note)


def plan_start(
    state: TicketState,
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
    required: Sequence[str] = (),
) -> Event:
    return plan_move(
        state, ev.STARTED, "in_progress", now=now, actor=actor, note=note, required=required
    )


def plan_wait(
    state: TicketState,
    on: str,
    *,
    now: datetime,
    actor: str,
    vendor: str | None = None,
    note: str | None = None,
) -> Event:
    """Wait on the customer (awaiting_customer) or a third party (forwarded)."""
    targets = {"customer": "awaiting_customer", "third-party": "forwarded"}
    if on not in targets:
        raise BadInput(f"wait on customer or third-party, not {on!r}")
    if vendor is not None and on != "third-party":
        raise BadInput("a vendor is named only when waiting on a third party")
    data: dict[str, Any] = {"on": on}
    if vendor:
        data["vendor"] = vendor
    return plan_move(state, ev.WAITING, targets[on], now=now, actor=actor, note=note, data=data)


def plan_resume(
    state: TicketState,
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
    required: Sequence[str] = (),
) -> Event:
    """End a wait: back to where the ticket was before waiting (forwarded -> in_progress)."""
    if state.status not in ("awaiting_customer", "forwarded", "awaiting_subticket"):
        raise Refused(f"ticket is {state.status}; only a waiting ticket resumes")
    target = state.resume_to or "in_progress"
    return plan_move(state, ev.RESUMED, target, now=now, actor=actor, note=note, required=required)


def check_split(
    state: TicketState,
    parts: Sequence[str],
    ancestors: set[int],
    *,
    adopt: Iterable[int] = (),
) -> None:
    """Validate a split before any child is created.

    ``parts`` are titles of new sub-tickets; ``adopt`` existing tickets to
    attach as sub-tickets; ``ancestors`` the ids of this ticket and all its
    ancestors, none of which may become its sub-ticket (a cycle).
    """
    adopted = list(adopt)
    if state.status not in ("queued", "in_progress"):
        raise Refused(
            f"cannot split: ticket is {state.status}; only a queued or in-progress ticket splits"
        )
    if not parts and not adopted:
        raise BadInput("a split needs at least one part (--part TITLE)")
    if any(not title.strip() for title in parts):
        raise BadInput("every part of a split needs a title")
    cycle = sorted(set(adopted) & ancestors)
    if cycle:
        raise Refused(f"cannot split into {_ids(cycle)}: it is this ticket or one of its ancestors")
    again = sorted(set(adopted) & set(state.children))
    if again:
        raise Refused(f"{_ids(again)} already sub-ticket(s) of this ticket")
    if len(set(adopted)) != len(adopted):
        raise BadInput("a ticket is adopted once per split")


def plan_split(
    state: TicketState,
    child_ids: Sequence[int],
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
) -> list[Event]:
    """SPLIT (in_progress -> awaiting_subticket), preceded by STARTED for a queued ticket."""
    if not child_ids:
        raise BadInput("a split needs at least one sub-ticket")
    if len(set(child_ids)) != len(child_ids) or set(child_ids) & set(state.children):
        raise BadInput(f"sub-ticket ids must be new and distinct: {_ids(child_ids)}")
    events: list[Event] = []
    current = state
    if state.status == "queued":
        started = plan_start(state, now=now, actor=actor, note="started to split")
        events.append(started)
        current = _after(state, started)
    split = plan_move(
        current,
        ev.SPLIT,
        "awaiting_subticket",
        now=now,
        actor=actor,
        note=note,
        data={"children": list(child_ids)},
    )
    return [*events, split]


def _after(state: TicketState, event: Event) -> TicketState:
    """The state after one more move event (enough for chaining builders)."""
    return replace(
        state,
        status=event.to_status or state.status,
        status_since=event.at if event.to_status else state.status_since,
        version=event.seq,
        last_event_at=event.at,
    )


def plan_child_open(
    parent: TicketState,
    *,
    parent_id: int,
    title: str,
    now: datetime,
    actor: str,
) -> list[Event]:
    """Open a sub-ticket: queued, with the parent's customer, contract, triage and fields."""
    data: dict[str, Any] = {"parent_id": parent_id}
    for key in ("plan", "calendar", "policy_version", *_TRIAGE_KEYS):
        value = getattr(parent, key)
        if value is not None:
            data[key] = value
    return plan_open(
        now=now,
        actor=actor,
        title=title,
        customer=parent.customer or "",
        contact=parent.contact or "",
        fields=parent.fields,
        status="queued",
        data=data,
    )


def on_child_closed(
    parent_state: TicketState, child_id: int, now: datetime, *, actor: str = "deskctl"
) -> list[Event]:
    """CHILD_CLOSED, plus awaiting_subticket -> in_progress when it was the last open child.

    Reporting the same child twice returns no events (safe to retry).
    """
    if child_id not in parent_state.children:
        raise BadInput(f"ticket #{child_id} is not a sub-ticket of this ticket")
    if child_id not in parent_state.open_children:
        return []
    closed = _new_event(
        parent_state, ev.CHILD_CLOSED, now=now, actor=actor, data={"child": child_id}
    )
    if parent_state.open_children != (child_id,) or parent_state.status != "awaiting_subticket":
        return [closed]
    _check_in_order(parent_state, now)
    resumed = Event(
        seq=closed.seq + 1,
        at=closed.at,
        kind=ev.RESUMED,
        actor=actor,
        from_status="awaiting_subticket",
        to_status="in_progress",
        data={"reason": "last sub-ticket closed"},
    )
    return [closed, resumed]


def plan_worklog(
    state: TicketState,
    minutes: int,
    *,
    now: datetime,
    actor: str,
    kind: str | None = None,
    note: str | None = None,
) -> Event:
    """Logged work; a negative entry corrects earlier ones, never below zero in total."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes == 0:
        raise BadInput(f"minutes must be a whole non-zero number, not {minutes!r}")
    if state.minutes + minutes < 0:
        raise BadInput(
            f"a correction of {minutes} min would take the logged time below zero "
            f"({state.minutes} min logged)"
        )
    data: dict[str, Any] = {"minutes": minutes}
    if kind:
        data["kind"] = kind
    return _new_event(state, ev.WORKLOG, now=now, actor=actor, data=data, note=note)


def plan_resolve(
    state: TicketState,
    *,
    now: datetime,
    actor: str,
    solution: str | None = None,
    note: str | None = None,
) -> Event:
    """Propose a solution: in_progress -> awaiting_verification (the closure protocol starts)."""
    data = {"solution": solution.strip()} if solution and solution.strip() else {}
    return plan_move(
        state, ev.RESOLVED, "awaiting_verification", now=now, actor=actor, note=note, data=data
    )


def _check_verifying(state: TicketState) -> None:
    if state.status != "awaiting_verification":
        raise Refused(
            f"ticket is {state.status}; only a ticket awaiting verification has a "
            "solution to confirm or reject"
        )


def plan_confirm(
    state: TicketState, *, now: datetime, actor: str, note: str | None = None
) -> Event:
    """The customer confirms the solution: closed ``resolved``."""
    _check_verifying(state)
    return plan_move(
        state,
        ev.CONFIRMED,
        "closed",
        now=now,
        actor=actor,
        note=note,
        data={"outcome": "resolved"},
    )


def plan_reject_solution(
    state: TicketState, *, now: datetime, actor: str, note: str | None = None
) -> Event:
    """The customer rejects the solution: back to in_progress."""
    _check_verifying(state)
    return plan_move(state, ev.SOLUTION_REJECTED, "in_progress", now=now, actor=actor, note=note)


def plan_close(
    state: TicketState,
    outcome: str,
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
    reason: str | None = None,
    by_protocol: bool = False,
) -> Event:
    data: dict[str, Any] = {"outcome": outcome}
    if reason:
        data["reason"] = reason
    return plan_move(
        state,
        ev.CLOSED,
        "closed",
        now=now,
        actor=actor,
        note=note,
        data=data,
        by_protocol=by_protocol,
    )


def plan_reopen(
    state: TicketState,
    *,
    now: datetime,
    actor: str,
    window_seconds: int | None,
    note: str | None = None,
) -> Event:
    check_reopen(state, now, window_seconds)
    check_move(state.status, "in_progress")
    _check_in_order(state, now)
    return _new_event(state, ev.REOPENED, now=now, actor=actor, target="in_progress", note=note)


def _check_awaiting_approval(state: TicketState) -> None:
    if state.status != "awaiting_approval":
        raise Refused(f"ticket is {state.status}; only a ticket awaiting approval is approved")


def plan_approve(
    state: TicketState,
    *,
    now: datetime,
    actor: str,
    note: str | None = None,
    required: Sequence[str] = (),
) -> Event:
    """The customer approves the cost: queued."""
    _check_awaiting_approval(state)
    return plan_move(
        state, ev.APPROVED, "queued", now=now, actor=actor, note=note, required=required
    )


def plan_decline(
    state: TicketState, *, now: datetime, actor: str, note: str | None = None
) -> Event:
    """The customer declines the cost: closed ``rejected``."""
    _check_awaiting_approval(state)
    return plan_move(
        state,
        ev.DECLINED,
        "closed",
        now=now,
        actor=actor,
        note=note,
        data={"outcome": "rejected", "reason": "cost declined"},
    )
