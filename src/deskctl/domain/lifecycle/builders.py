"""What every event builder shares: the next event's number, and the checks of a move."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from deskctl.clock import iso_z
from deskctl.domain.durations import format_duration
from deskctl.domain.events import Event
from deskctl.domain.lifecycle.moves import check_move
from deskctl.domain.lifecycle.state import TicketState
from deskctl.domain.triage import (
    check_fields_complete,
    missing_fields,
)
from deskctl.errors import BadInput, Refused


def utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("instants must be timezone-aware (UTC)")
    return now.astimezone(UTC)


def new_event(
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
        at=utc(now),
        kind=kind,
        actor=actor,
        from_status=state.status if (state and target) else None,
        to_status=target,
        data=payload,
    )


def check_in_order(state: TicketState, now: datetime) -> None:
    if utc(now) < state.status_since:
        raise BadInput(
            f"{iso_z(utc(now))} is before the ticket's last move at "
            f"{iso_z(state.status_since)}; moves are recorded in time order"
        )


def check_not_closed(state: TicketState, doing: str) -> None:
    if state.status == "closed":
        raise Refused(f"ticket is closed; reopen it to {doing}")


def check_move_for(
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
            f"ticket waits for its sub-tickets {ticket_list(state.open_children)}; "
            "it resumes by itself when the last one closes"
        )
    if target == "closed":
        check_close_parent(state)
    check_fields_complete(state.status, target, missing_fields(state.fields, required))
    check_in_order(state, now)


def ticket_list(ids: Iterable[int]) -> str:
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
    check_move_for(
        state,
        target,
        now=now,
        outcome=payload.get("outcome"),
        by_protocol=by_protocol,
        required=required,
    )
    return new_event(state, kind, now=now, actor=actor, target=target, data=payload, note=note)


def check_close_parent(state: TicketState) -> None:
    if state.open_children:
        raise Refused(
            f"ticket has open sub-tickets {ticket_list(state.open_children)}; close them first"
        )


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
    if utc(now) > window_end:
        raise Refused(
            f"ticket closed at {iso_z(state.closed_at)}; the reopen window of "
            f"{format_duration(window_seconds, days=True)} ended at {iso_z(window_end)}; "
            "the customer must open a new ticket"
        )
