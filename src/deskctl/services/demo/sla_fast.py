"""The demo's SLA facts without replaying every ticket through the generic engine.

``domain.sla_facts.derive`` replays a ticket's events: it sorts them, builds the
timeline, finds each metric's start and stop, its running stretches and the
severity and plan in force, then asks the calendar for business times. For a demo
ticket everything but the business times follows from its story alone: the events,
their order and statuses are the story's, and only the instants move (shifted and
stretched, in the same order). So the structure is worked out once per story
member, plan, calendar and severity (a ``Shape``), and each ticket only asks the
calendar about its own instants, in whole epoch seconds, with the engine's own
comparisons (``domain.sla``'s module doc).

A ticket whose last event is after the demo's now (a story squeezed into the last
minute) is left to ``derive``: its facts would need the timeline cut at now.
``tests/cli/test_demo_sla_fast.py`` compares this with ``derive`` on thousands of
tickets of every policy and story; ``tests/cli/test_demo.py`` replays every ticket
of a demo store with the real engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deskctl.domain.events import CLOSED, PLAN_CHANGED, TRIAGED, Event
from deskctl.domain.policy import Plan, Policy
from deskctl.domain.sla import NOT_REQUESTED, WORST_FIRST
from deskctl.domain.sla_facts import calendar_of, plans_of

_AHEAD = ("running", "at_risk", "paused", "late")  # as sla_facts.next_due
END = -1  # a running stretch that lasts until the metric's end
_RANK = {state: i for i, state in enumerate(WORST_FIRST)}
_UNDECIDED = ("pending", NOT_REQUESTED)


def worst_state(states: Sequence[str]) -> str | None:
    """``sla_facts.worst_state`` (the same choice, with the ranks looked up once)."""
    if not states:
        return None
    decided = [s for s in states if s not in _UNDECIDED] or states
    return min(decided, key=_RANK.__getitem__)


@dataclass(frozen=True)
class MetricShape:
    """One metric of a ticket shape: what does not depend on the ticket's instants."""

    name: str
    kind: str  # "early" (answered before the clock started), "waiting", "started"
    owed: bool
    state: str  # the state of a waiting metric
    at: int  # the early stop's or the start's index in the timeline
    stop: int | None  # the stop's index, None while it runs
    bounds: tuple[tuple[int, int], ...]  # running stretches: timeline indices (END)
    running: bool  # running at its end
    goal: int | None  # the target, None when no target is known
    limit: int | None
    risk_used: int  # business time used from which it is at risk


@dataclass(frozen=True)
class Shape:
    """The SLA structure of one story member under one plan, calendar and severity."""

    steps: tuple[int, ...]  # the member's step indices, in timeline (seq) order
    metrics: tuple[MetricShape, ...]  # no metrics: no SLA applies
    calendar: Any  # BusinessCalendar
    running: bool  # the final status does not pause the clock
    paused: bool  # the ticket was ever in a pause state
    share: float  # the policy's at-risk share
    in_order: bool  # step order is seq order, so instants never run backwards


def shape_of(
    policy: Policy, events: Sequence[Event], order: Sequence[int], calendar_name: str | None
) -> Shape:
    """The shape of ``events`` (the member's template events, in ``order``'s step
    order), as ``derive`` would replay them: ``calendar_name`` from the opening."""
    indexed = sorted(zip(order, events, strict=True), key=lambda p: p[1].seq)
    steps = tuple(i for i, _ in indexed)
    timeline = [e for _, e in indexed]
    statuses: list[str | None] = []
    status: str | None = None
    for e in timeline:
        if e.to_status is not None:
            status = e.to_status
        statuses.append(status)
    pauses = policy.clock.pause_states
    paused = any(e.to_status in pauses for e in events)
    share = policy.clock.at_risk_share
    in_order = list(steps) == sorted(steps)
    plans = plans_of(policy, timeline)
    if plans is None:
        return Shape(steps, (), None, False, paused, share, in_order)
    first, current, calendar = plans
    metrics = tuple(
        _metric(policy, name, timeline, statuses, first)
        for name in policy.metrics
        if name in current.sla
    )
    return Shape(
        steps,
        metrics,
        calendar_of(policy, calendar),
        status not in pauses,
        paused,
        share,
        in_order,
    )


def _context(policy: Policy, timeline: Sequence[Event], upto: int, plan: Plan) -> Any:
    """The target table and severity in force after ``timeline[:upto]`` (``sla._context``)."""
    severity = policy.severities.default
    for e in timeline[:upto]:
        if e.kind == TRIAGED and e.data.get("severity") is not None:
            severity = str(e.data["severity"])
        elif e.kind == PLAN_CHANGED and e.data.get("plan") is not None:
            plan = policy.plans[str(e.data["plan"])]
    return plan, severity


def _target(policy: Policy, name: str, timeline: Sequence[Event], upto: int, plan: Plan) -> Any:
    plan, severity = _context(policy, timeline, upto, plan)
    return None if severity is None else plan.sla.get(name, {}).get(severity)


def _metric(
    policy: Policy,
    name: str,
    timeline: Sequence[Event],
    statuses: Sequence[str | None],
    plan: Plan,
) -> MetricShape:
    """``sla._metric_clock`` with the instants left out."""
    spec = policy.metrics[name]
    start_kind = policy.clock.start if spec.start == "clock" else spec.start
    start = next((i for i, e in enumerate(timeline) if e.kind == start_kind), None)
    n = len(timeline)
    if spec.start == "clock":
        early = next((i for i, e in enumerate(timeline[:start]) if e.kind in spec.stop), None)
        if early is not None:
            return MetricShape(name, "early", True, "met", early, None, (), False, None, None, 0)
    if start is None:
        state = "pending" if spec.start == "clock" else NOT_REQUESTED
        return MetricShape(
            name, "waiting", spec.start == "clock", state, 0, None, (), False, None, None, 0
        )
    stop = next(
        (
            i
            for i in range(start + 1, n)
            if timeline[i].kind in spec.stop or timeline[i].to_status == CLOSED
        ),
        None,
    )
    bounds, running = _bounds(policy, statuses, start, n if stop is None else stop)
    target = _target(policy, name, timeline, n if stop is None else stop + 1, plan)
    goal = limit = None
    risk_used = 0
    if target is not None:
        goal, limit = target.goal, target.limit
        risk_used = _risk_used(limit, policy.clock.at_risk_share)
    return MetricShape(
        name, "started", True, "", start, stop, bounds, running, goal, limit, risk_used
    )


def _bounds(
    policy: Policy, statuses: Sequence[str | None], start: int, end_index: int
) -> tuple[tuple[tuple[int, int], ...], bool]:
    """``sla._segments`` on indices: the running stretches, and whether it runs at the end."""
    pauses = policy.clock.pause_states
    bounds: list[tuple[int, int]] = []
    open_at = None if statuses[start] in pauses else start
    for i in range(start + 1, end_index):
        paused = statuses[i] in pauses
        if paused and open_at is not None:
            bounds.append((open_at, i))
            open_at = None
        elif not paused and open_at is None:
            open_at = i
    if open_at is not None:
        bounds.append((open_at, END))
    return tuple(bounds), open_at is not None


def _risk_used(limit: int, share: float) -> int:
    """``sla_facts._risk_at``'s least business time used that leaves less than the share."""
    used = max(0, int(limit - share * limit) - 1)
    while not limit - used < share * limit:
        used += 1
    return used


# -- per ticket --------------------------------------------------------------------------

Instant = int | None
# (metric, state, running, goal_at, due_at, risk_at, stopped_at, elapsed, paused)
FactRow = tuple[str, str, bool, Instant, Instant, Instant, Instant, int, int]
# sla_state, sla_due_at, sla_settled, sla_risk_at, sla_goal_at, sla_limit_at
Columns = tuple[str | None, Instant, str | None, Instant, Instant, Instant]


def facts(shape: Shape, times: Sequence[int], now: int) -> tuple[Columns, list[FactRow]]:
    """The ticket's SLA columns and fact rows at ``now`` from its story's ``times``
    (epoch seconds per story step, in order, none after ``now``)."""
    if not shape.metrics:
        return (None, None, None, None, None, None), []
    t = [times[i] for i in shape.steps]
    rows: list[FactRow] = []
    owed_states: list[str] = []
    dues: list[int] = []
    for m in shape.metrics:
        if m.kind == "early":
            row: FactRow = (m.name, "met", False, None, None, None, t[m.at], 0, 0)
        elif m.kind == "waiting":
            if not m.owed:
                continue
            row = (m.name, m.state, False, None, None, None, None, 0, 0)
        else:
            row, due = _started(shape, m, t, now)
            if due is not None:
                dues.append(due)
        rows.append(row)
        owed_states.append(row[1])
    running = [r for r in rows if r[2]]
    return (
        worst_state(owed_states),
        min(dues) if dues else None,
        worst_state([r[1] for r in rows if not r[2]]),
        min((r[5] for r in running if r[5] is not None), default=None),
        min((r[3] for r in running if r[3] is not None), default=None),
        min((r[4] for r in running if r[4] is not None), default=None),
    ), rows


def _started(shape: Shape, m: MetricShape, t: list[int], now: int) -> tuple[FactRow, int | None]:
    """A started metric's fact row, and its deadline when still ahead (``sla_due_at``)."""
    cal = shape.calendar
    end_at = now if m.stop is None else t[m.stop]
    segments = [(t[a], cal.elapsed_epoch(t[a], end_at if b == END else t[b])) for a, b in m.bounds]
    elapsed = sum(s for _, s in segments)
    started = t[m.at]
    stopped = None if m.stop is None else end_at
    paused = 0
    if shape.paused:
        paused = max(cal.elapsed_epoch(started, stopped or now) - elapsed, 0)
    if m.goal is None or m.limit is None:
        return (m.name, "pending", False, None, None, None, stopped, elapsed, paused), None
    goal = _deadline(cal, segments, m.running, end_at, m.goal)
    limit = goal if m.limit == m.goal else _deadline(cal, segments, m.running, end_at, m.limit)
    if stopped is not None:
        state = "met" if stopped <= goal else "late" if stopped <= limit else "breached"
    elif now > limit:
        state = "breached"
    elif now > goal:
        state = "late"
    elif not m.running:
        state = "paused"
    elif m.limit - elapsed < shape.share * m.limit:
        state = "at_risk"
    else:
        state = "running"
    ticking = stopped is None and shape.running  # the fact's ``running``
    risk = None
    if ticking:
        risk = now if m.risk_used <= elapsed else cal.due_epoch(now, m.risk_used - elapsed)
    ahead = limit if stopped is None and state in _AHEAD else None
    goal_at = goal if ticking else None
    return (m.name, state, ticking, goal_at, limit, risk, stopped, elapsed, paused), ahead


def _deadline(
    cal: Any, segments: list[tuple[int, int]], running: bool, end_at: int, seconds: int
) -> int:
    """``sla._deadline`` in epoch seconds."""
    used = 0
    for start, secs in segments:
        if used + secs >= seconds:
            return int(cal.due_epoch(start, seconds - used))
        used += secs
    if running:
        start, secs = segments[-1]
        return int(cal.due_epoch(start, seconds - (used - secs)))
    return int(cal.due_epoch(end_at, seconds - used))
