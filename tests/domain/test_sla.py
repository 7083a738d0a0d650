from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskctl.domain import events as ev
from deskctl.domain.events import Event
from deskctl.domain.policy import (
    ClockRules,
    MetricSpec,
    Plan,
    Policy,
    SeverityScheme,
    Target,
)
from deskctl.domain.sla import MetricClock, compute_sla, sla_summary
from deskctl.errors import BadInput
from tests.domain.fakes import OFFICE, WALL

H = 3600
MON = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Instant on the week of MON: day 0 = Monday."""
    return MON + timedelta(days=day, hours=hour, minutes=minute, seconds=second)



STANDARD = Plan(
    "8x5",
    "office",
    sla={
        # IMEXHS ranges for response; a single target for resolution and on-site.
        "response": {
            "1": Target(5 * H, 9 * H),
            "2": Target(9 * H, 12 * H),
            "3": Target(12 * H, 18 * H),
        },
        "resolution": {"1": Target(16 * H, 16 * H), "3": Target(40 * H, 40 * H)},
        "onsite": {"1": Target(4 * H, 4 * H)},
    },
)
FLAT = Plan(
    "flat", "office", sla={"response": {"1": Target(8 * H, 8 * H), "3": Target(8 * H, 8 * H)}}
)
PREMIUM = Plan(
    "premium", "always", sla={"response": {"1": Target(2 * H, 2 * H), "3": Target(4 * H, 4 * H)}}
)

METRICS = {
    "response": MetricSpec("response"),
    "resolution": MetricSpec("resolution", stop=(ev.RESOLVED, ev.CLOSED)),
    "onsite": MetricSpec("onsite", start=ev.ONSITE_REQUESTED, stop=(ev.ONSITE_ARRIVED,)),
}


def policy(
    *,
    start: str = "opened",
    pause: tuple[str, ...] = ("awaiting_customer", "forwarded"),
    share: float = 0.25,
    default: str | None = None,
) -> Policy:
    return Policy(
        name="test",
        vendor="Test",
        calendars={},
        severities=SeverityScheme(order=("1", "2", "3"), default=default),
        plans={p.name: p for p in (STANDARD, FLAT, PREMIUM)},
        metrics=METRICS,
        clock=ClockRules(start=start, pause_states=pause, at_risk_share=share),
    )


class Log:
    """Builds an event log with increasing seq."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, when: datetime, kind: str, to: str | None = None, **data: Any) -> Log:
        self.events.append(Event(len(self.events) + 1, when, kind, to_status=to, data=data))
        return self


def opened(when: datetime, severity: str | None = "3") -> Log:
    log = Log().add(when, ev.OPENED, "queued")
    if severity is not None:
        log.add(when, ev.TRIAGED, severity=severity)
    return log


def clocks(
    log: Log,
    now: datetime,
    *,
    plan: Plan = STANDARD,
    cal: Any = WALL,
    pol: Policy | None = None,
) -> dict[str, MetricClock]:
    return compute_sla(log.events, pol or policy(), plan, cal, now)


def response(log: Log, now: datetime, **kw: Any) -> MetricClock:
    return clocks(log, now, **kw)["response"]


# -- single and range targets, judged to the second ------------------------------------


def test_single_target_has_one_deadline_for_goal_limit_and_due() -> None:
    c = response(opened(at(0, 10)), at(0, 11), plan=FLAT)
    assert c.goal_at == c.limit_at == c.due_at == at(0, 18)
    assert (c.elapsed_seconds, c.remaining_seconds) == (H, 7 * H)
    assert c.state == "running"


@pytest.mark.parametrize(
    ("answered", "state"),
    [
        (at(0, 18), "met"),
        (at(0, 18, 0, 1), "breached"),
    ],
)
def test_single_target_met_up_to_the_deadline_second(answered: datetime, state: str) -> None:
    log = opened(at(0, 10)).add(answered, ev.RESPONDED)
    c = response(log, at(3, 0), plan=FLAT)
    assert c.state == state
    assert c.stopped_at == answered


@pytest.mark.parametrize(
    ("answered", "state"),
    [
        (at(0, 15), "met"),  # Sev 1: goal 5 h
        (at(0, 15, 0, 1), "late"),
        (at(0, 19), "late"),  # limit 9 h
        (at(0, 19, 0, 1), "breached"),
    ],
)
def test_range_target_met_late_breached(answered: datetime, state: str) -> None:
    log = opened(at(0, 10), "1").add(answered, ev.RESPONDED)
    c = response(log, at(3, 0))
    assert (c.goal_at, c.limit_at, c.due_at) == (at(0, 15), at(0, 19), at(0, 19))
    assert c.state == state


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (at(0, 15), "running"),  # at the goal: 4 h left of 9, not yet at risk
        (at(0, 15, 0, 1), "late"),
        (at(0, 19), "late"),
        (at(0, 19, 0, 1), "breached"),
    ],
)
def test_unanswered_range_target_state_follows_now(now: datetime, state: str) -> None:
    c = response(opened(at(0, 10), "1"), now)
    assert c.state == state
    assert c.remaining_seconds == 9 * H - int((now - at(0, 10)).total_seconds())


def test_remaining_goes_negative_past_the_limit() -> None:
    c = response(opened(at(0, 10), "1"), at(0, 20))
    assert c.remaining_seconds == -H
    assert c.state == "breached"


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (at(0, 16), "running"),  # 2 h left of 8 h: exactly 25 %, not less
        (at(0, 16, 0, 1), "at_risk"),
        (at(0, 18), "at_risk"),  # at the deadline itself, not yet breached
    ],
)
def test_at_risk_when_less_than_the_share_is_left(now: datetime, state: str) -> None:
    assert response(opened(at(0, 10)), now, plan=FLAT).state == state


def test_at_risk_share_comes_from_the_policy() -> None:
    c = response(opened(at(0, 10)), at(0, 13), plan=FLAT, pol=policy(share=0.75))
    assert c.state == "at_risk"  # 5 h left of 8 h < 6 h


# -- business time ---------------------------------------------------------------------


def test_deadline_crosses_the_weekend_on_business_hours() -> None:
    friday = opened(at(4, 16))
    c = response(friday, at(4, 16, 30), plan=FLAT, cal=OFFICE)
    assert c.due_at == at(7, 16)  # 1 h on Friday, 7 h on Monday


def test_clock_started_on_saturday_counts_from_monday_opening() -> None:
    c = response(opened(at(5, 10)), at(7, 10), plan=FLAT, cal=OFFICE)
    assert c.elapsed_seconds == H
    assert c.due_at == at(7, 17)  # 8 h exactly at closing: that closing, not Tuesday 09:00


def test_answer_after_a_closing_time_deadline_is_breached() -> None:
    """The deadline is the 17:00 closing; answering at 17:00:01 is after it."""
    log = opened(at(0, 9))
    assert response(log, at(0, 12), plan=FLAT, cal=OFFICE).due_at == at(0, 17)
    log.add(at(0, 17, 0, 1), ev.RESPONDED)
    c = response(log, at(1, 12), plan=FLAT, cal=OFFICE)
    assert c.elapsed_seconds == 8 * H  # no business time passed in that second
    assert c.state == "breached"


def test_overnight_does_not_count_on_business_hours() -> None:
    c = response(opened(at(0, 16)), at(1, 10), plan=FLAT, cal=OFFICE)
    assert c.elapsed_seconds == 2 * H
    assert c.state == "running"


# -- pauses ----------------------------------------------------------------------------


def waiting_log() -> Log:
    """Opened Monday 09:00; waits on the customer 10-12 and on a third party 13-14."""
    return (
        opened(at(0, 9))
        .add(at(0, 10), ev.WAITING, "awaiting_customer", on="customer")
        .add(at(0, 12), ev.RESUMED, "in_progress")
        .add(at(0, 13), ev.FORWARDED, "forwarded", vendor="acme")
        .add(at(0, 14), ev.RESUMED, "in_progress")
    )


def test_paused_time_does_not_count() -> None:
    c = response(waiting_log(), at(0, 15), plan=FLAT, cal=OFFICE)
    assert c.elapsed_seconds == 3 * H
    assert c.remaining_seconds == 5 * H
    assert c.due_at == at(1, 12)  # 2 h more on Monday, 3 h on Tuesday


def test_deadline_while_paused_is_projected_from_now() -> None:
    log = opened(at(0, 9)).add(at(0, 10), ev.WAITING, "awaiting_customer")
    first = response(log, at(0, 11), plan=FLAT, cal=OFFICE)
    later = response(log, at(0, 11, 30), plan=FLAT, cal=OFFICE)
    assert first.state == later.state == "paused"
    assert first.elapsed_seconds == later.elapsed_seconds == H
    assert first.due_at == at(1, 10)  # 7 h left from 11:00: 6 today, 1 tomorrow
    assert later.due_at == at(1, 10, 30)


def test_paused_outranks_at_risk() -> None:
    log = opened(at(0, 9)).add(at(0, 15, 30), ev.WAITING, "awaiting_customer")
    c = response(log, at(0, 17), plan=FLAT)
    assert c.remaining_seconds == 90 * 60  # less than 2 h of 8 h: at risk if it were running
    assert c.state == "paused"


def test_late_outranks_paused() -> None:
    log = opened(at(0, 9), "1").add(at(0, 15), ev.WAITING, "awaiting_customer")
    c = response(log, at(0, 20))
    assert c.goal_at == at(0, 14)  # reached while running, before the pause
    assert c.limit_at == at(0, 23)  # 3 h left, projected from now
    assert c.state == "late"


def test_non_pausing_state_keeps_the_clock_running() -> None:
    log = opened(at(0, 9)).add(at(0, 10), ev.WAITING, "awaiting_customer")
    c = response(log, at(0, 12), plan=FLAT, pol=policy(pause=("forwarded",)))
    assert c.elapsed_seconds == 3 * H
    assert c.state == "running"


def test_answer_given_while_paused_is_judged_against_the_projected_deadline() -> None:
    log = (
        opened(at(0, 9))
        .add(at(0, 10), ev.WAITING, "awaiting_customer")
        .add(at(2, 10), ev.RESPONDED)
    )
    c = response(log, at(3, 0), plan=FLAT)
    assert c.elapsed_seconds == H
    assert c.state == "met"


# -- clock start -----------------------------------------------------------------------


def test_info_complete_starts_the_clock() -> None:
    log = Log().add(at(0, 9), ev.OPENED, "draft").add(at(0, 9), ev.TRIAGED, severity="3")
    before = response(log, at(0, 10), plan=FLAT, cal=OFFICE, pol=policy(start="info_complete"))
    assert before.state == "pending"
    assert before.due_at is None and before.started_at is None
    log.add(at(0, 11), ev.INFO_COMPLETE, "queued")
    c = response(log, at(0, 12), plan=FLAT, cal=OFFICE, pol=policy(start="info_complete"))
    assert c.started_at == at(0, 11)
    assert c.elapsed_seconds == H
    assert c.due_at == at(1, 11)


def test_answer_before_info_complete_counts_as_met() -> None:
    log = (
        Log()
        .add(at(0, 9), ev.OPENED, "draft")
        .add(at(0, 9), ev.TRIAGED, severity="3")
        .add(at(0, 10), ev.RESPONDED)
        .add(at(3, 10), ev.INFO_COMPLETE, "queued")
    )
    c = response(log, at(4, 10), plan=FLAT, pol=policy(start="info_complete"))
    assert c.state == "met"
    assert c.elapsed_seconds == 0
    assert c.stopped_at == at(0, 10)


def test_opened_policy_ignores_info_complete() -> None:
    log = opened(at(0, 9)).add(at(0, 11), ev.INFO_COMPLETE)
    assert response(log, at(0, 12), plan=FLAT).elapsed_seconds == 3 * H


# -- severity and plan -----------------------------------------------------------------


def test_severity_change_retargets_with_time_counted_from_the_start() -> None:
    log = opened(at(0, 10), "3")
    assert response(log, at(0, 16)).state == "running"  # Sev 3: 12-18 h
    log.add(at(0, 16), ev.TRIAGED, severity="1")
    c = response(log, at(0, 16, 30))
    assert c.severity == "1"
    assert (c.goal_at, c.limit_at) == (at(0, 15), at(0, 19))
    assert c.state == "late"


def test_stopped_metric_keeps_the_severity_of_its_time() -> None:
    log = (
        opened(at(0, 10), "3").add(at(0, 16), ev.RESPONDED).add(at(0, 17), ev.TRIAGED, severity="1")
    )
    c = response(log, at(1, 0))
    assert (c.severity, c.state) == ("3", "met")


def test_triage_without_severity_keeps_the_previous_one() -> None:
    log = opened(at(0, 10), "1").add(at(0, 11), ev.TRIAGED, category="defect")
    assert response(log, at(0, 12)).severity == "1"


def test_untriaged_ticket_is_pending_without_a_default() -> None:
    c = response(opened(at(0, 10), None), at(0, 12))
    assert (c.state, c.target, c.due_at, c.remaining_seconds) == ("pending", None, None, None)
    assert c.started_at == at(0, 10)
    assert c.elapsed_seconds == 2 * H


def test_untriaged_ticket_uses_the_default_severity() -> None:
    c = response(opened(at(0, 10), None), at(0, 12), pol=policy(default="2"))
    assert c.severity == "2"
    assert c.due_at == at(0, 22)


def test_plan_change_switches_targets() -> None:
    log = opened(at(0, 10), "3").add(at(0, 11), ev.PLAN_CHANGED, plan="premium")
    c = response(log, at(0, 13, 30), plan=FLAT)
    assert c.due_at == at(0, 14)  # premium Sev 3: 4 h from the start (FLAT would give 18:00)
    assert c.state == "at_risk"


def test_plan_change_to_an_unknown_plan_is_refused() -> None:
    log = opened(at(0, 10)).add(at(0, 11), ev.PLAN_CHANGED, plan="gold")
    with pytest.raises(BadInput, match="gold"):
        response(log, at(0, 12))


def test_metrics_the_plan_sets_no_target_for_are_left_out() -> None:
    assert set(clocks(opened(at(0, 10)), at(0, 11), plan=FLAT)) == {"response"}
    assert set(clocks(opened(at(0, 10)), at(0, 11))) == {"response", "resolution", "onsite"}


def test_severity_without_target_in_the_plan_is_pending() -> None:
    c = clocks(opened(at(0, 10), "2"), at(0, 11))["resolution"]  # STANDARD: Sev 1 and 3 only
    assert (c.state, c.target) == ("pending", None)


# -- event-started metrics, stopping, replay ------------------------------------------


def test_onsite_not_requested_until_requested_then_runs_and_stops_on_arrival() -> None:
    log = opened(at(0, 9), "1")
    # nobody asked for a visit: nothing is owed, nothing is waiting ("pending" would say so)
    c = clocks(log, at(0, 12))["onsite"]
    assert (c.state, c.due_at, c.started_at) == ("not_requested", None, None)
    log.add(at(0, 12), ev.ONSITE_REQUESTED)
    c = clocks(log, at(0, 13))["onsite"]
    assert (c.state, c.started_at, c.due_at, c.elapsed_seconds) == (
        "running",
        at(0, 12),
        at(0, 16),
        H,
    )
    log.add(at(0, 15, 59), ev.ONSITE_ARRIVED)
    c = clocks(log, at(2, 0))["onsite"]
    assert (c.state, c.stopped_at) == ("met", at(0, 15, 59))


def test_resolution_stops_at_resolved_and_keeps_its_state_after_reopening() -> None:
    log = (
        opened(at(0, 9), "1")
        .add(at(1, 2), ev.RESOLVED, "awaiting_verification")
        .add(at(1, 3), ev.SOLUTION_REJECTED, "in_progress")
    )
    c = clocks(log, at(3, 0))["resolution"]
    assert c.stopped_at == at(1, 2)
    assert c.state == "breached"  # 17 h against 16 h


def test_closing_the_ticket_stops_every_running_metric() -> None:
    log = (
        opened(at(0, 9), "1")
        .add(at(0, 10), ev.RESPONDED)
        .add(at(0, 11), ev.ONSITE_REQUESTED)
        .add(at(0, 12), ev.CLOSED, "closed", outcome="cancelled")
    )
    c = clocks(log, at(9, 0))["onsite"]
    assert (c.state, c.stopped_at, c.elapsed_seconds) == ("met", at(0, 12), H)


def test_events_after_now_are_ignored() -> None:
    log = opened(at(0, 10), "1").add(at(0, 12), ev.RESPONDED)
    c = response(log, at(0, 11))
    assert (c.state, c.stopped_at, c.elapsed_seconds) == ("running", None, H)


def test_backdated_event_does_not_run_the_clock_backwards() -> None:
    log = opened(at(0, 10), "1").add(at(0, 12), ev.WAITING, "awaiting_customer")
    log.add(at(0, 11), ev.RESUMED, "in_progress")  # recorded later with an earlier --at
    c = response(log, at(0, 13))
    assert c.elapsed_seconds == 3 * H  # resumed taken at 12:00, not 11:00


# -- output ----------------------------------------------------------------------------


def test_json_shape_with_z_instants() -> None:
    log = opened(at(0, 10), "1")
    doc = response(log, at(0, 11)).to_json()
    assert doc == {
        "state": "running",
        "due_at": "2026-03-02T19:00:00Z",
        "goal_at": "2026-03-02T15:00:00Z",
        "limit_at": "2026-03-02T19:00:00Z",
        "elapsed_seconds": 3600,
        "remaining_seconds": 8 * 3600,
        "severity": "1",
        "goal_seconds": 5 * 3600,
        "limit_seconds": 9 * 3600,
        "started_at": "2026-03-02T10:00:00Z",
        "stopped_at": None,
    }


def test_unstarted_json_has_nulls() -> None:
    doc = clocks(opened(at(0, 10)), at(0, 11))["onsite"].to_json()
    assert doc["state"] == "not_requested"
    assert doc["due_at"] is None and doc["started_at"] is None


def test_summary_is_the_worst_state() -> None:
    log = opened(at(0, 9), "1").add(at(0, 15), ev.RESPONDED)  # late response
    c = clocks(log, at(0, 16))
    assert {k: v.state for k, v in c.items()} == {
        "response": "late",
        "resolution": "running",
        "onsite": "not_requested",
    }
    assert sla_summary(c) == "late"
    assert sla_summary({"onsite": c["onsite"], "resolution": c["resolution"]}) == "running"
    assert sla_summary({}) == "none"


# -- properties ------------------------------------------------------------------------

gaps = st.lists(st.integers(min_value=0, max_value=3 * 86400), min_size=0, max_size=12)


@settings(max_examples=150, deadline=None)
@given(gaps=gaps, tail=st.integers(min_value=0, max_value=86400), first=st.booleans())
def test_elapsed_is_wall_time_minus_paused_time_on_24x7(
    gaps: list[int], tail: int, first: bool
) -> None:
    start = at(0, 9)
    log = opened(start, "3")
    moment, paused, paused_seconds = start, False, 0
    waiting = first
    for gap in gaps:
        moment += timedelta(seconds=gap)
        if paused:
            paused_seconds += gap
        status = "awaiting_customer" if waiting else "in_progress"
        log.add(moment, ev.WAITING if waiting else ev.RESUMED, status)
        paused, waiting = waiting, not waiting
    now = moment + timedelta(seconds=tail)
    if paused:
        paused_seconds += tail
    c = response(log, now, plan=FLAT)
    wall = int((now - start).total_seconds())
    assert c.elapsed_seconds == wall - paused_seconds
    assert c.remaining_seconds == 8 * H - c.elapsed_seconds
    if c.elapsed_seconds < 8 * H:
        # Not yet reached: the deadline lies as many seconds ahead as are left.
        assert c.due_at == now + timedelta(seconds=c.remaining_seconds)


@settings(max_examples=100, deadline=None)
@given(
    opened_after=st.integers(min_value=0, max_value=7 * 86400),
    target_hours=st.integers(min_value=1, max_value=30),
)
def test_answer_at_the_deadline_is_met_and_a_second_later_is_not(
    opened_after: int, target_hours: int
) -> None:
    start = MON + timedelta(seconds=opened_after)
    plan = Plan("p", "office", sla={"response": {"3": Target(target_hours * H, target_hours * H)}})
    pol = policy()
    due = response(opened(start), start, plan=plan, cal=OFFICE, pol=pol).due_at
    assert due is not None
    assert OFFICE.elapsed(start, due) == target_hours * H
    met = compute_sla(opened(start).add(due, ev.RESPONDED).events, pol, plan, OFFICE, due)
    assert met["response"].state == "met"
    later = due + timedelta(seconds=1)
    missed = compute_sla(opened(start).add(later, ev.RESPONDED).events, pol, plan, OFFICE, later)
    assert missed["response"].state == "breached"
