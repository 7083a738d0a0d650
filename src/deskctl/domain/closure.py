"""The closure protocol (SPEC §6): which pre-closing steps fall due, and when.

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
from datetime import datetime, timedelta

from deskctl.domain.events import (
    CONFIRMED,
    CUSTOMER_REPLIED,
    PROTOCOL_STEP,
    SOLUTION_REJECTED,
    Event,
)
from deskctl.domain.policy import ClosureProtocol
from deskctl.domain.sla import CalendarLike
from deskctl.errors import BadInput

AWAITING_VERIFICATION = "awaiting_verification"
CLOSE = "close"
DEFAULT_CLOSE_OUTCOME = "accepted"


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
