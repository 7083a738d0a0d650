from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskctl.domain import events as ev
from deskctl.domain.closure import (
    ScheduledStep,
    current_round,
    done_keys,
    due_steps,
    protocol_due,
    protocol_schedule,
)
from deskctl.domain.events import Event
from deskctl.domain.policy import ClosureProtocol, ProtocolStep
from deskctl.errors import BadInput
from tests.domain.fakes import OFFICE, WALL

H = 3600
MON = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute)



IMEXHS_STEPS = (
    ProtocolStep(0, "contact"),
    ProtocolStep(3 * H, "call"),
    ProtocolStep(6 * H, "call"),
    ProtocolStep(9 * H, "call"),
    ProtocolStep(9 * H, "email", note="engineer's agenda"),
    ProtocolStep(21 * H, "email", note="engineer's agenda"),
    ProtocolStep(33 * H, "close", outcome="accepted"),
)
IMEXHS = ClosureProtocol(clock="calendar", steps=IMEXHS_STEPS)
IMEXHS_WALL = ClosureProtocol(clock="wall", steps=IMEXHS_STEPS)
ACTIONS = ["contact", "call", "call", "call", "email", "email", "close"]


def schedule(
    entered: datetime, protocol: ClosureProtocol = IMEXHS, cal: Any = WALL, round: int = 1
) -> list[ScheduledStep]:
    return protocol_schedule(entered, protocol, cal, ticket_id=42, round=round)


class Log:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, when: datetime, kind: str, to: str | None = None, **data: Any) -> Log:
        self.events.append(Event(len(self.events) + 1, when, kind, to_status=to, data=data))
        return self


def resolved_log(when: datetime) -> Log:
    return (
        Log()
        .add(at(0, 8), ev.OPENED, "queued")
        .add(at(0, 8), ev.STARTED, "in_progress")
        .add(when, ev.RESOLVED, "awaiting_verification")
    )


# -- schedule --------------------------------------------------------------------------


def test_imexhs_schedule_on_24x7() -> None:
    steps = schedule(at(0, 10))
    assert [s.action for s in steps] == ACTIONS
    assert [s.due_at for s in steps] == [
        at(0, 10),
        at(0, 13),
        at(0, 16),
        at(0, 19),
        at(0, 19),
        at(1, 7),
        at(1, 19),
    ]
    assert steps[-1].outcome == "accepted"
    assert steps[4].note == "engineer's agenda"


def test_imexhs_schedule_on_business_hours() -> None:
    steps = schedule(at(0, 10), cal=OFFICE)
    assert [s.due_at for s in steps] == [
        at(0, 10),
        at(0, 13),
        at(0, 16),
        at(1, 11),  # 7 h on Monday, 2 h on Tuesday
        at(1, 11),
        at(2, 15),  # 7 + 8 + 6
        at(4, 11),  # 7 + 8 + 8 + 8 + 2
    ]


def test_wall_protocol_ignores_business_hours() -> None:
    wall_steps = schedule(at(0, 10), IMEXHS_WALL, cal=OFFICE)
    assert [s.due_at for s in wall_steps] == [s.due_at for s in schedule(at(0, 10))]


def test_first_contact_is_at_once_even_after_hours() -> None:
    steps = schedule(at(5, 20), cal=OFFICE)  # resolved on Saturday evening
    assert steps[0].due_at == at(5, 20)
    assert steps[1].due_at == at(7, 12)  # first call 3 business hours after Monday's opening


def test_keys_are_stable_and_unique_per_ticket_round_and_step() -> None:
    steps = schedule(at(0, 10), round=2)
    assert [s.key for s in steps] == [f"protocol:42:2:{i}" for i in range(7)]
    assert schedule(at(0, 10), round=2) == steps


def test_close_without_outcome_closes_accepted() -> None:
    protocol = ClosureProtocol(steps=(ProtocolStep(H, "close"),))
    assert schedule(at(0, 10), protocol)[0].outcome == "accepted"


def test_schedule_is_in_due_order_whatever_the_policy_order() -> None:
    protocol = ClosureProtocol(steps=(ProtocolStep(6 * H, "close"), ProtocolStep(0, "contact")))
    steps = schedule(at(0, 10), protocol)
    assert [(s.index, s.action) for s in steps] == [(1, "contact"), (0, "close")]


@pytest.mark.parametrize(
    ("protocol", "message"),
    [
        (ClosureProtocol(clock="lunar", steps=IMEXHS_STEPS), "lunar"),
        (ClosureProtocol(steps=(ProtocolStep(-1, "call"),)), "negative"),
    ],
)
def test_bad_protocol_is_refused(protocol: ClosureProtocol, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        schedule(at(0, 10), protocol)


# -- rounds ----------------------------------------------------------------------------


def test_no_round_before_resolution() -> None:
    log = Log().add(at(0, 8), ev.OPENED, "queued").add(at(0, 9), ev.STARTED, "in_progress")
    assert current_round(log.events) is None


def test_resolution_starts_round_one() -> None:
    assert current_round(resolved_log(at(0, 10)).events) == (1, at(0, 10))


def test_confirmation_ends_the_protocol() -> None:
    log = resolved_log(at(0, 10)).add(at(0, 12), ev.CONFIRMED, "closed", outcome="resolved")
    assert current_round(log.events) is None
    assert protocol_due(log.events, IMEXHS, WALL, ticket_id=42, now=at(9, 0)) == []


def test_rejection_ends_the_protocol_and_a_new_resolution_is_round_two() -> None:
    log = resolved_log(at(0, 10)).add(at(0, 12), ev.SOLUTION_REJECTED, "in_progress")
    assert current_round(log.events) is None
    log.add(at(1, 9), ev.RESOLVED, "awaiting_verification")
    assert current_round(log.events) == (2, at(1, 9))
    first = {s.key for s in schedule(at(0, 10), round=1)}
    second = {s.key for s in schedule(at(1, 9), round=2)}
    assert not first & second


def test_second_round_ignores_steps_done_in_the_first() -> None:
    log = resolved_log(at(0, 10))
    for step in protocol_due(log.events, IMEXHS, WALL, ticket_id=42, now=at(0, 13)):
        log.add(step.due_at, ev.PROTOCOL_STEP, index=step.index, key=step.key)
    log.add(at(0, 14), ev.SOLUTION_REJECTED, "in_progress")
    log.add(at(1, 9), ev.RESOLVED, "awaiting_verification")
    due = protocol_due(log.events, IMEXHS, WALL, ticket_id=42, now=at(1, 12))
    assert [(s.action, s.due_at) for s in due] == [("contact", at(1, 9)), ("call", at(1, 12))]


def test_answer_without_status_move_still_ends_the_round() -> None:
    log = resolved_log(at(0, 10)).add(at(0, 12), ev.CONFIRMED)
    assert current_round(log.events) is None


# -- due steps -------------------------------------------------------------------------


def test_only_steps_due_by_now_come_out() -> None:
    steps = schedule(at(0, 10))
    assert [s.action for s in due_steps(steps, set(), at(0, 12, 59))] == ["contact"]
    assert [s.action for s in due_steps(steps, set(), at(0, 13))] == ["contact", "call"]


def test_catch_up_after_a_week_returns_every_step_once_in_order() -> None:
    steps = schedule(at(0, 10))
    due = due_steps(steps, set(), at(7, 10))
    assert due == steps
    assert [s.due_at for s in due] == sorted(s.due_at for s in due)


def test_nothing_after_a_due_close_step() -> None:
    protocol = ClosureProtocol(
        clock="wall",
        steps=(*IMEXHS_STEPS, ProtocolStep(40 * H, "email", note="after the close")),
    )
    steps = schedule(at(0, 10), protocol)
    assert len(steps) == 8
    assert due_steps(steps, set(), at(9, 0))[-1].action == "close"
    assert len(due_steps(steps, set(), at(9, 0))) == 7


def test_done_steps_are_never_returned_again() -> None:
    log = resolved_log(at(0, 10))
    first = protocol_due(log.events, IMEXHS, WALL, ticket_id=42, now=at(0, 16))
    assert [s.action for s in first] == ["contact", "call", "call"]
    for step in first:
        log.add(at(0, 16), ev.PROTOCOL_STEP, index=step.index, key=step.key)
    assert done_keys(log.events) == {s.key for s in first}
    assert protocol_due(log.events, IMEXHS, WALL, ticket_id=42, now=at(0, 16)) == []
    later = protocol_due(log.events, IMEXHS, WALL, ticket_id=42, now=at(0, 19))
    assert [s.action for s in later] == ["call", "email"]


@settings(max_examples=150, deadline=None)
@given(
    sweeps=st.lists(st.integers(min_value=0, max_value=50 * H), min_size=1, max_size=15),
    business=st.booleans(),
)
def test_repeated_sweeps_do_each_step_exactly_once(sweeps: list[int], business: bool) -> None:
    entered = at(0, 10)
    steps = schedule(entered, cal=OFFICE if business else WALL)
    done: set[str] = set()
    performed: list[ScheduledStep] = []
    for offset in sorted(sweeps):
        now = entered + timedelta(seconds=offset)
        for step in due_steps(steps, done, now):
            assert step.due_at <= now
            performed.append(step)
            done.add(step.key)
    keys = [s.key for s in performed]
    assert len(keys) == len(set(keys))
    last = entered + timedelta(seconds=max(sweeps))
    assert performed == [s for s in steps if s.due_at <= last]
