"""Builders of a ticket in work: start, wait, resume, log work, resolve; the cost approval."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from deskctl.domain import events as ev
from deskctl.domain.events import Event
from deskctl.domain.lifecycle.builders import new_event, plan_move
from deskctl.domain.lifecycle.state import TicketState
from deskctl.errors import BadInput, Refused


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
    return new_event(state, ev.WORKLOG, now=now, actor=actor, data=data, note=note)


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
