"""Builders that end a ticket or undo its end: confirm, reject the solution, close, reopen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deskctl.domain import events as ev
from deskctl.domain.events import Event
from deskctl.domain.lifecycle.builders import check_in_order, check_reopen, new_event, plan_move
from deskctl.domain.lifecycle.moves import check_move
from deskctl.domain.lifecycle.state import TicketState
from deskctl.errors import Refused


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
    check_in_order(state, now)
    return new_event(state, ev.REOPENED, now=now, actor=actor, target="in_progress", note=note)
