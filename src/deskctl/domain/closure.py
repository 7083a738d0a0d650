"""The closure protocol (docs/rules.md §6): which pre-closing steps fall due, and when.

Entering ``awaiting_verification`` starts a protocol *round*; round N is the
N-th entry into that state (a rejected solution followed by a new resolution is
round 2). Every step of a round has a stable key
``protocol:{ticket_id}:{round}:{index}`` (index = position of the step in the
policy); the sweep records the key in the PROTOCOL_STEP event's ``data["key"]``
and never performs a recorded key again, which makes it idempotent.

Choices the spec leaves open:

- A step at offset 0 (the first contact) is due at the entry instant itself,
  even outside business hours: the engineer who marks the ticket resolved is
  working at that moment and the contact goes with the resolution. Later steps
  are ``calendar.due(entered_at, offset)`` (business time, so they count from
  the next opening when entered after hours), or ``entered_at + offset`` when
  ``protocol.clock == "wall"``.
- A close step without an outcome closes ``accepted`` (the protocol's meaning).
- Steps missed while the sweep was not running all come out at the next run, in
  order, each with its scheduled ``due_at``; nothing after a due close step is
  returned, as the ticket is closed by then.
- The customer's answer ends the round: CONFIRMED (closed ``resolved``) or
  SOLUTION_REJECTED (back to ``in_progress``), as does any move out of
  ``awaiting_verification``. A CUSTOMER_REPLIED (an e-mail that says neither yes
  nor no) ends it too: no later step fires, and the engineer, who has read the
  reply, confirms or rejects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from deskctl.domain.events import (
    CONFIRMED,
    CONTACT_ATTEMPT,
    CUSTOMER_REPLIED,
    PROTOCOL_STEP,
    SOLUTION_REJECTED,
    Event,
)
from deskctl.domain.lifecycle import TicketState
from deskctl.domain.policy import ClosureProtocol
from deskctl.domain.sla import CalendarLike
from deskctl.errors import BadInput, Refused

AWAITING_VERIFICATION = "awaiting_verification"
CLOSE = "close"
DEFAULT_CLOSE_OUTCOME = "accepted"
AGENDA_DAYS = 3
SLOT = timedelta(minutes=15)  # agenda granularity; a protocol call blocks one slot
CONTACT_VIA = ("phone", "email")
CONTACT_OUTCOMES = ("no-answer", "reached")


@dataclass(frozen=True)
class ScheduledStep:
    index: int  # position of the step in the policy's protocol
    action: str  # "contact" | "call" | "email" | "close"
    due_at: datetime
    outcome: str | None  # for "close": the outcome to close with
    key: str  # idempotency key: protocol:{ticket_id}:{round}:{index}
    note: str = ""


def step_key(ticket_id: int, round: int, index: int) -> str:
    return f"protocol:{ticket_id}:{round}:{index}"


def protocol_schedule(
    entered_at: datetime,
    protocol: ClosureProtocol,
    calendar: CalendarLike,
    *,
    ticket_id: int,
    round: int,
) -> list[ScheduledStep]:
    """Every step of one round, in due order (policy order for equal instants)."""
    if protocol.clock not in ("calendar", "wall"):
        raise BadInput(
            f"closure protocol clock must be 'calendar' or 'wall', not {protocol.clock!r}"
        )
    if round < 1:
        raise BadInput(f"protocol round must be 1 or more, not {round}")
    schedule = []
    for index, step in enumerate(protocol.steps):
        if step.offset < 0:
            raise BadInput(f"closure protocol step {index + 1}: offset must not be negative")
        if step.offset == 0:
            due_at = entered_at
        elif protocol.clock == "wall":
            due_at = entered_at + timedelta(seconds=step.offset)
        else:
            due_at = calendar.due(entered_at, step.offset)
        outcome = step.outcome
        if step.action == CLOSE and outcome is None:
            outcome = DEFAULT_CLOSE_OUTCOME
        schedule.append(
            ScheduledStep(
                index, step.action, due_at, outcome, step_key(ticket_id, round, index), step.note
            )
        )
    schedule.sort(key=lambda s: (s.due_at, s.index))
    return schedule


def current_round(events: Sequence[Event]) -> tuple[int, datetime] | None:
    """``(round, entered_at)`` while the ticket awaits verification, else None."""
    round_no = 0
    entered_at: datetime | None = None
    status: str | None = None
    answered = False
    for event in sorted(events, key=lambda e: e.seq):
        if event.to_status is not None:
            if event.to_status == AWAITING_VERIFICATION and status != AWAITING_VERIFICATION:
                round_no += 1
                entered_at = event.at
                answered = False
            status = event.to_status
        # a reply while awaiting verification is an answer: the engineer reads it
        replied = event.kind == CUSTOMER_REPLIED and status == AWAITING_VERIFICATION
        if event.kind in (CONFIRMED, SOLUTION_REJECTED) or replied:
            answered = True
    if status != AWAITING_VERIFICATION or answered or entered_at is None:
        return None
    return round_no, entered_at


def due_steps(
    schedule: Sequence[ScheduledStep], done_keys: set[str], now: datetime
) -> list[ScheduledStep]:
    """Steps due at or before ``now`` and not done, in order, up to a due close step."""
    due = []
    for step in sorted(schedule, key=lambda s: (s.due_at, s.index)):
        if step.due_at > now:
            break
        if step.key not in done_keys:
            due.append(step)
        if step.action == CLOSE:
            break
    return due


def done_keys(events: Sequence[Event]) -> set[str]:
    """Keys of the protocol steps already recorded (PROTOCOL_STEP ``data["key"]``)."""
    return {str(e.data["key"]) for e in events if e.kind == PROTOCOL_STEP and e.data.get("key")}


def protocol_due(
    events: Sequence[Event],
    protocol: ClosureProtocol,
    calendar: CalendarLike,
    *,
    ticket_id: int,
    now: datetime,
) -> list[ScheduledStep]:
    """What the sweep must do now for one ticket: the due, undone steps of its active round."""
    active = current_round(events)
    if active is None:
        return []
    round_no, entered_at = active
    schedule = protocol_schedule(
        entered_at, protocol, calendar, ticket_id=ticket_id, round=round_no
    )
    return due_steps(schedule, done_keys(events), now)


# -- the engineer's attempts to reach the customer -------------------------------------


def check_contact(via: str, outcome: str) -> None:
    if via not in CONTACT_VIA:
        raise BadInput(f"--via: {via!r} is not one of {', '.join(CONTACT_VIA)}")
    if outcome not in CONTACT_OUTCOMES:
        raise BadInput(f"--outcome: {outcome!r} is not one of {', '.join(CONTACT_OUTCOMES)}")


def plan_contact(
    state: TicketState,
    *,
    via: str,
    outcome: str,
    now: datetime,
    actor: str,
    note: str | None = None,
) -> Event:
    """A CONTACT_ATTEMPT event: the engineer tried to reach the customer (any open state).
    It is not the customer's answer: the protocol keeps running."""
    check_contact(via, outcome)
    if state.status == "closed":
        raise Refused("the ticket is closed; a contact attempt is recorded on open tickets")
    data: dict[str, Any] = {"via": via, "outcome": outcome}
    if note and note.strip():
        data["note"] = note.strip()
    return Event(state.version + 1, now.astimezone(UTC), CONTACT_ATTEMPT, actor, data=data)


# -- the engineer's agenda in protocol e-mails -------------------------------------------


def agenda_slots(
    calendar: Any,
    zone: ZoneInfo,
    start: datetime,
    busy: Sequence[tuple[datetime, datetime]] = (),
    days: int = AGENDA_DAYS,
    until: datetime | None = None,
) -> list[tuple[Any, list[tuple[datetime, datetime]]]]:
    """Free slots of the next ``days`` open days (local date, spans), before ``until``.

    Slots start and end on quarter hours; a busy stretch removes the slots it
    touches; a free stretch shorter than a slot is not offered; nothing at or after
    ``until`` (the automatic close: a slot after it could never be used).
    """
    first = _ceil_slot(start)
    stretches = calendar.open_intervals(first, first + timedelta(days=14))
    by_day: dict[Any, list[tuple[datetime, datetime]]] = {}
    for lo, hi in _free(_split_days(stretches, zone), busy):
        lo, hi = _ceil_slot(lo), _floor_slot(hi)
        if until is not None:
            hi = min(hi, _floor_slot(until))
        if hi - lo >= SLOT:
            by_day.setdefault(lo.astimezone(zone).date(), []).append((lo, hi))
    return [(day, by_day[day]) for day in sorted(by_day)[:days]]


def _split_days(
    stretches: Sequence[tuple[datetime, datetime]], zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    out = []
    for lo, hi in stretches:
        while lo < hi:
            local = lo.astimezone(zone)
            midnight = datetime.combine(
                local.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone
            ).astimezone(UTC)
            out.append((lo, min(hi, midnight)))
            lo = min(hi, midnight)
    return out


def _free(
    stretches: Sequence[tuple[datetime, datetime]], busy: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    free = list(stretches)
    for b_lo, b_hi in sorted(busy):
        b_lo, b_hi = _floor_slot(b_lo), _ceil_slot(b_hi)
        nxt = []
        for lo, hi in free:
            if b_hi <= lo or b_lo >= hi:
                nxt.append((lo, hi))
                continue
            if lo < b_lo:
                nxt.append((lo, b_lo))
            if b_hi < hi:
                nxt.append((b_hi, hi))
        free = nxt
    return free


def _floor_slot(at: datetime) -> datetime:
    at = at.astimezone(UTC).replace(second=0, microsecond=0)
    return at - timedelta(minutes=at.minute % 15)


def _ceil_slot(at: datetime) -> datetime:
    floor = _floor_slot(at)
    return floor if floor == at else floor + SLOT


def hhmm(at: datetime, zone: ZoneInfo, *, end: bool = False) -> str:
    local = at.astimezone(zone)
    if end and local.hour == 0 and local.minute == 0:
        return "24:00"
    return f"{local:%H:%M}"
