"""Splitting a ticket into sub-tickets, and the parent hearing that one closed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from deskctl.domain import events as ev
from deskctl.domain.events import Event
from deskctl.domain.lifecycle.builders import check_in_order, new_event, plan_move, ticket_list
from deskctl.domain.lifecycle.intake import plan_open
from deskctl.domain.lifecycle.progress import plan_start
from deskctl.domain.lifecycle.state import TRIAGE_KEYS, TicketState
from deskctl.errors import BadInput, Refused


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
        raise Refused(
            f"cannot split into {ticket_list(cycle)}: it is this ticket or one of its ancestors"
        )
    again = sorted(set(adopted) & set(state.children))
    if again:
        raise Refused(f"{ticket_list(again)} already sub-ticket(s) of this ticket")
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
        raise BadInput(f"sub-ticket ids must be new and distinct: {ticket_list(child_ids)}")
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
    for key in ("plan", "calendar", "policy_version", *TRIAGE_KEYS):
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
    closed = new_event(
        parent_state, ev.CHILD_CLOSED, now=now, actor=actor, data={"child": child_id}
    )
    if parent_state.open_children != (child_id,) or parent_state.status != "awaiting_subticket":
        return [closed]
    check_in_order(parent_state, now)
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
