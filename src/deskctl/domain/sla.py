"""The SLA engine (docs/rules.md §5): replay a ticket's events into one clock per metric.

Rules, including the choices the spec leaves open:

- **Replay order.** Events are replayed in ``seq`` order (the ticket projection's
  order). An event back-dated before its predecessor is taken to happen at the
  predecessor's instant, so the timeline never runs backwards. Events after
  ``now`` are ignored: ``compute_sla`` at a past ``now`` is the SLA as it stood then.
- **Clock start.** ``policy.clock.start`` names the event kind that starts the
  policy clock: ``"opened"`` (the OPENED event) or ``"info_complete"`` (the first
  INFO_COMPLETE event). When a ticket is complete at opening the service layer
  records INFO_COMPLETE at the opening instant; this module never infers it. A
  metric whose ``start`` is ``"clock"`` starts there; any other ``start`` is an
  event kind and the metric starts at the first event of that kind.
- **Stop.** A metric stops at the first event after its start whose kind is in
  ``metric.stop``, or at the ticket's closing (an event moving it to ``closed``):
  a closed ticket owes nothing more, and an on-site visit cancelled by closing
  must not stay "running" for ever. A stopped metric keeps its final state even
  if the ticket is reopened or re-triaged later.
- **Answered before the clock started.** For a ``"clock"`` metric, a stop event
  recorded before the clock started (the engineer answered while the ticket was
  still incomplete) counts as met with no time used.
- **Pauses.** While the ticket status is in ``policy.clock.pause_states``
  business time does not accrue; resuming continues from what was used.
- **Targets.** The target is looked up in the plan in force for the severity in
  force at the metric's end (its stop, or ``now``): the latest TRIAGED event
  carrying ``data["severity"]`` (else ``policy.severities.default``), and the
  latest PLAN_CHANGED ``data["plan"]`` (else the ``plan`` the ticket was opened
  under). A severity or plan change therefore re-targets the metric while the
  time used keeps counting from its start. The business calendar is the one
  given (the caller passes the current plan's calendar).
- **Deadlines.** ``goal_at``/``limit_at`` are the instants at which business time
  used (pauses excluded) reaches the goal/limit. When the target was reached
  during the recorded running time, that instant. Otherwise it is projected: from
  the last resume point when the clock is running, and **from now (or from the
  stop) when paused**, i.e. "the deadline if the clock resumed now" -- it moves
  forward while the ticket waits on the customer. ``due_at`` = ``limit_at``.
- **States are judged by instants**, the deadline itself included: stopped at or
  before ``goal_at`` is met, at or before ``limit_at`` late, after it breached.
  A response at 17:30:01 to a deadline at the 17:30 closing is breached even
  though no business time passed in that second. Running metrics, in precedence
  order: ``breached`` (now after ``limit_at``) > ``late`` (now after ``goal_at``)
  > ``paused`` > ``at_risk`` (business seconds left before the limit <
  ``at_risk_share`` x limit) > ``running``.
- ``pending``: no deadline applies yet -- the clock has not started (info still
  incomplete) or no target is known (no severity yet and no default, or the plan
  sets none for this severity).
- ``not_requested``: an optional metric started by an event of its own (an on-site
  visit, a report) that was never asked for. It owes nothing and never will unless
  the request comes; it is not "pending" (nothing is waiting), and a list or a
  report does not count it.
- Metrics the current plan sets no target for at all are left out of the result.
- ``remaining_seconds`` counts business seconds until the limit (negative once
  past it); it stays 0 outside business hours after a deadline at closing time,
  which is why the state is judged on instants, not on this number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from deskctl.clock import iso_z
from deskctl.domain.events import CLOSED, PLAN_CHANGED, TRIAGED, Event
from deskctl.domain.policy import MetricSpec, Plan, Policy, Target
from deskctl.errors import BadInput

NOT_REQUESTED = "not_requested"
STATES = ("running", "paused", "met", "late", "breached", "at_risk", "pending", NOT_REQUESTED)
# Worst first: what a list view shows for a ticket.
WORST_FIRST = ("breached", "late", "at_risk", "running", "paused", "pending", "met", NOT_REQUESTED)


class CalendarLike(Protocol):
    def due(self, start: datetime, seconds: int) -> datetime: ...  # business-time deadline

    def elapsed(self, start: datetime, end: datetime) -> int: ...  # 0 when end <= start


@dataclass(frozen=True)
class MetricClock:
    metric: str
    state: str  # one of STATES
    target: Target | None
    severity: str | None
    started_at: datetime | None
    stopped_at: datetime | None
    goal_at: datetime | None
    limit_at: datetime | None
    due_at: datetime | None  # = limit_at, the contractual deadline
    elapsed_seconds: int  # business seconds used, pauses excluded
    remaining_seconds: int | None  # business seconds until the limit; None without target

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "due_at": iso_z(self.due_at),
            "goal_at": iso_z(self.goal_at),
            "limit_at": iso_z(self.limit_at),
            "elapsed_seconds": self.elapsed_seconds,
            "remaining_seconds": self.remaining_seconds,
            "severity": self.severity,
            "goal_seconds": self.target.goal if self.target else None,
            "limit_seconds": self.target.limit if self.target else None,
            "started_at": iso_z(self.started_at),
            "stopped_at": iso_z(self.stopped_at),
        }


class _Entry(NamedTuple):
    at: datetime  # never earlier than the previous entry's
    event: Event
    status: str | None  # ticket status after this event


class _Segment(NamedTuple):
    start: datetime
    end: datetime
    seconds: int  # business seconds inside


def compute_sla(
    events: Sequence[Event],
    policy: Policy,
    plan: Plan,
    calendar: CalendarLike,
    now: datetime,
    *,
    plans: Mapping[str, Plan] | None = None,
) -> dict[str, MetricClock]:
    """One clock per metric the ticket's current plan sets targets for (see module doc).

    ``plan`` is the plan the ticket was opened under; PLAN_CHANGED events switch
    to ``plans[name]`` (default: ``policy.plans``).
    """
    known_plans = policy.plans if plans is None else plans
    timeline = _timeline(events, now)
    current_plan, _ = _context(timeline, len(timeline), plan, known_plans, policy)
    clocks: dict[str, MetricClock] = {}
    for name, spec in policy.metrics.items():
        if name in current_plan.sla:
            clocks[name] = _metric_clock(spec, timeline, policy, plan, known_plans, calendar, now)
    return clocks


def sla_summary(clocks: Mapping[str, MetricClock]) -> str:
    """The worst state across metrics (``WORST_FIRST`` order); ``"none"`` when empty."""
    if not clocks:
        return "none"
    return min((c.state for c in clocks.values()), key=WORST_FIRST.index)


def _timeline(events: Sequence[Event], now: datetime) -> list[_Entry]:
    entries: list[_Entry] = []
    status: str | None = None
    for event in sorted(events, key=lambda e: e.seq):
        at = event.at if not entries or event.at >= entries[-1].at else entries[-1].at
        if at > now:
            break
        if event.to_status is not None:
            status = event.to_status
        entries.append(_Entry(at, event, status))
    return entries


def _context(
    timeline: list[_Entry],
    upto: int,
    plan: Plan,
    plans: Mapping[str, Plan],
    policy: Policy,
) -> tuple[Plan, str | None]:
    """Plan and severity in force after ``timeline[:upto]``."""
    severity = policy.severities.default
    for entry in timeline[:upto]:
        event = entry.event
        if event.kind == TRIAGED and event.data.get("severity") is not None:
            severity = str(event.data["severity"])
        elif event.kind == PLAN_CHANGED and event.data.get("plan") is not None:
            name = str(event.data["plan"])
            if name not in plans:
                raise BadInput(
                    f"event {event.seq}: plan {name!r} is not in policy {policy.name!r}; "
                    "load the policy version that defines it"
                )
            plan = plans[name]
    return plan, severity


def _metric_clock(
    spec: MetricSpec,
    timeline: list[_Entry],
    policy: Policy,
    plan: Plan,
    plans: Mapping[str, Plan],
    calendar: CalendarLike,
    now: datetime,
) -> MetricClock:
    start_kind = policy.clock.start if spec.start == "clock" else spec.start
    start = next((i for i, e in enumerate(timeline) if e.event.kind == start_kind), None)

    if spec.start == "clock":
        early = next(
            (i for i, e in enumerate(timeline[:start]) if e.event.kind in spec.stop),
            None,
        )
        if early is not None:
            return _met_before_start(spec, timeline, early, policy, plan, plans)

    if start is None:
        current_plan, severity = _context(timeline, len(timeline), plan, plans, policy)
        target = _target(current_plan, spec.name, severity)
        if spec.start != "clock":
            return _waiting(spec.name, NOT_REQUESTED, target, severity)
        return _waiting(spec.name, "pending", target, severity)

    stop = next(
        (
            i
            for i in range(start + 1, len(timeline))
            if timeline[i].event.kind in spec.stop or timeline[i].event.to_status == CLOSED
        ),
        None,
    )
    end_index = len(timeline) if stop is None else stop
    end_at = now if stop is None else timeline[stop].at
    segments, running = _segments(timeline, start, end_index, end_at, policy, calendar)
    elapsed = sum(s.seconds for s in segments)

    current_plan, severity = _context(
        timeline, len(timeline) if stop is None else stop + 1, plan, plans, policy
    )
    target = _target(current_plan, spec.name, severity)
    started_at = timeline[start].at
    stopped_at = None if stop is None else end_at
    if target is None:
        return MetricClock(
            spec.name, "pending", None, severity, started_at, stopped_at,
            None, None, None, elapsed, None,
        )  # fmt: skip

    goal_at = _deadline(segments, running, end_at, target.goal, calendar)
    limit_at = (
        goal_at
        if target.limit == target.goal
        else _deadline(segments, running, end_at, target.limit, calendar)
    )
    remaining = target.limit - elapsed
    if stopped_at is not None:
        state = _judge(stopped_at, goal_at, limit_at)
    elif now > limit_at:
        state = "breached"
    elif now > goal_at:
        state = "late"
    elif not running:
        state = "paused"
    elif remaining < policy.clock.at_risk_share * target.limit:
        state = "at_risk"
    else:
        state = "running"
    return MetricClock(
        spec.name, state, target, severity, started_at, stopped_at,
        goal_at, limit_at, limit_at, elapsed, remaining,
    )  # fmt: skip


def _judge(stopped_at: datetime, goal_at: datetime, limit_at: datetime) -> str:
    if stopped_at <= goal_at:
        return "met"
    if stopped_at <= limit_at:
        return "late"
    return "breached"


def _target(plan: Plan, metric: str, severity: str | None) -> Target | None:
    if severity is None:
        return None
    return plan.sla.get(metric, {}).get(severity)


def _waiting(
    metric: str, state: str, target: Target | None, severity: str | None
) -> MetricClock:
    """A clock that has not started: ``pending`` or ``not_requested``."""
    remaining = None if target is None else target.limit
    return MetricClock(metric, state, target, severity, None, None, None, None, None, 0, remaining)


def _met_before_start(
    spec: MetricSpec,
    timeline: list[_Entry],
    stop: int,
    policy: Policy,
    plan: Plan,
    plans: Mapping[str, Plan],
) -> MetricClock:
    current_plan, severity = _context(timeline, stop + 1, plan, plans, policy)
    target = _target(current_plan, spec.name, severity)
    remaining = None if target is None else target.limit
    return MetricClock(
        spec.name, "met", target, severity, None, timeline[stop].at,
        None, None, None, 0, remaining,
    )  # fmt: skip


def _segments(
    timeline: list[_Entry],
    start: int,
    end_index: int,
    end_at: datetime,
    policy: Policy,
    calendar: CalendarLike,
) -> tuple[list[_Segment], bool]:
    """Running stretches between the start and the end; True when running at the end."""
    pause_states = policy.clock.pause_states
    bounds: list[tuple[datetime, datetime]] = []
    open_at = None if timeline[start].status in pause_states else timeline[start].at
    for entry in timeline[start + 1 : end_index]:
        paused = entry.status in pause_states
        if paused and open_at is not None:
            bounds.append((open_at, entry.at))
            open_at = None
        elif not paused and open_at is None:
            open_at = entry.at
    running = open_at is not None
    if open_at is not None:
        bounds.append((open_at, end_at))
    return [_Segment(a, b, calendar.elapsed(a, b)) for a, b in bounds], running


def _deadline(
    segments: list[_Segment],
    running: bool,
    end_at: datetime,
    seconds: int,
    calendar: CalendarLike,
) -> datetime:
    """The instant business time used reaches ``seconds`` (see module doc for projections)."""
    used = 0
    for segment in segments:
        if used + segment.seconds >= seconds:
            return calendar.due(segment.start, seconds - used)
        used += segment.seconds
    if running:
        last = segments[-1]
        return calendar.due(last.start, seconds - (used - last.seconds))
    return calendar.due(end_at, seconds - used)
