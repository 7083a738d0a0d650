"""A ticket's current state, projected from its events (docs/rules.md §3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deskctl.domain import events as ev
from deskctl.domain.events import Event
from deskctl.domain.policy import STATES

TRIAGE_KEYS = ("severity", "category", "topic", "impact", "urgency")


_OPENED_KEYS = ("title", "customer", "contact", "parent_id", "plan", "calendar", "policy_version")


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
        for key in TRIAGE_KEYS:
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
