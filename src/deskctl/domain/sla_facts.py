"""SLA facts of one ticket: its clocks replayed from its events, the row columns and the
rows of ``sla_fact`` (pure: no store, no clock).

The engine (``deskctl.domain.sla``) replays one ticket's events. This module picks
the plan the ticket was opened under and the current plan's calendar, and derives
what every change writes with the ticket (``services.tickets.apply``, ``sla refresh``,
``demo``):

- ``sla_state``: the worst state across metrics (None when no SLA applies);
- ``sla_due_at``: the earliest deadline still ahead of the ticket -- the ``due_at``
  of metrics that are running, at risk, paused or running late. A metric that has
  stopped (even one that stopped ``late``) owes nothing more, so it gives none;
- ``sla_computed_at`` / ``sla_stale_at``: the computing instant, and the first event
  dated after it (it will count later), if any;
- one ``Fact`` per owed metric: its state then, and for a running clock the fixed
  instants its state turns at.

Between two changes a clock moves only in ways the facts predict: a stopped or
pending metric keeps its state; a paused one stays paused (or late: nothing accrues,
and its limit is projected from the present, so it cannot pass); a running one has
fixed goal and limit instants and turns ``at_risk`` at the fixed instant ``risk_at``
when its remaining business time drops under the policy's share. So the state of
every metric at any instant in ``[computed_at, stale_at)`` is a comparison of
instants (``state_at``, and the same CASE in SQL), and agrees with a replay (tested).
Outside that window, or without facts (a store upgraded from 0009), the events are
replayed, in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deskctl.domain.events import OPENED, PLAN_CHANGED, Event
from deskctl.domain.policy import Plan, Policy
from deskctl.domain.sla import NOT_REQUESTED, WORST_FIRST, MetricClock, compute_sla

# States whose deadline is still ahead (``sla_due_at``).
_AHEAD = ("running", "at_risk", "paused", "late")


# -- stamps ------------------------------------------------------------------------------


def stamp(at: datetime) -> str:
    """A fixed-width UTC string: stamps compare as strings in time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def public(value: str | None) -> str | None:
    """A stamp as the JSON contract writes instants (``deskctl.clock.iso_z``)."""
    if value is None:
        return None
    return value[:19] + "Z" if value.endswith(".000000Z") else value[:26] + "Z"


# -- one ticket --------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketSla:
    """A ticket's clocks and what they were computed with."""

    clocks: dict[str, MetricClock]
    plan: Plan | None = None  # the plan in force now (None: no SLA applies)
    calendar: Any = None  # BusinessCalendar of that plan
    running: bool = False  # the ticket's status does not pause the clock
    stale: datetime | None = None  # first event dated after the computing instant


_CALENDARS: dict[tuple[int, str], tuple[Policy, Any]] = {}


def calendar_of(policy: Policy, name: str) -> Any:
    """The business calendar ``name`` of ``policy``, built once per policy version."""
    key = (id(policy), name)
    hit = _CALENDARS.get(key)
    if hit is not None and hit[0] is policy:
        return hit[1]
    from deskctl.domain.calendar import calendar_from_policy

    calendar = calendar_from_policy(policy, name)
    if len(_CALENDARS) > 256:
        _CALENDARS.clear()
    _CALENDARS[key] = (policy, calendar)
    return calendar


def _timeline_facts(
    events: Sequence[Event], now: datetime
) -> tuple[list[Event], str | None, datetime | None]:
    """Events counted at ``now`` (as the engine replays them), the status they leave,
    and the first event that will only count later."""
    counted: list[Event] = []
    status: str | None = None
    last: datetime | None = None
    for event in sorted(events, key=lambda e: e.seq):
        at = event.at if last is None or event.at >= last else last
        if at > now:
            return counted, status, at
        last = at
        if event.to_status is not None:
            status = event.to_status
        counted.append(event)
    return counted, status, None


def plans_of(policy: Policy, counted: Sequence[Event]) -> tuple[Plan, Plan, str] | None:
    """(plan opened under, plan in force, its calendar name); None when no plan applies."""
    opened = next((e for e in counted if e.kind == OPENED), None)
    name = opened.data.get("plan") if opened else None
    if opened is None or not name or name not in policy.plans:
        return None
    first = current = policy.plans[name]
    calendar = opened.data.get("calendar") or current.calendar
    for event in counted:
        if event.kind == PLAN_CHANGED and event.data.get("plan") in policy.plans:
            current = policy.plans[event.data["plan"]]
            calendar = event.data.get("calendar") or current.calendar
    return first, current, str(calendar)


def ticket_clocks(policy: Policy, events: Sequence[Event], now: datetime) -> TicketSla:
    """Every metric's clock of a ticket at ``now``; no clocks when it has no plan."""
    counted, status, stale = _timeline_facts(events, now)
    plans = plans_of(policy, counted)
    if plans is None:
        return TicketSla({}, stale=stale)
    first, current, calendar_name = plans
    calendar = calendar_of(policy, calendar_name)
    clocks = compute_sla(events, policy, first, calendar, now)
    running = status not in policy.clock.pause_states
    return TicketSla(clocks, current, calendar, running, stale)


def owed(clocks: Mapping[str, MetricClock], policy: Policy) -> dict[str, MetricClock]:
    """The metrics the ticket owes: all but optional ones never asked for (an on-site
    visit or a report nobody requested owes nothing, and is left out of the row
    columns and the reports; ``sla status`` and ``ticket show`` still list it)."""
    return {
        name: c
        for name, c in clocks.items()
        if c.started_at is not None
        or c.stopped_at is not None
        or policy.metrics[name].start == "clock"
    }


def worst_state(states: Iterable[str]) -> str | None:
    """The state a list shows for a ticket: the worst (``WORST_FIRST``) of its metrics,
    ``pending`` (no deadline yet) only when every metric is pending -- a met response
    stays met while, say, a requested visit has no target for the ticket's severity.
    A metric nobody requested (``not_requested``) never decides it either."""
    every = list(states)
    if not every:
        return None
    decided = [s for s in every if s not in ("pending", NOT_REQUESTED)] or every
    return min(decided, key=WORST_FIRST.index)


def summary_state(clocks: Mapping[str, MetricClock]) -> str | None:
    return worst_state(c.state for c in clocks.values())


def next_due(clocks: Mapping[str, MetricClock]) -> datetime | None:
    """The earliest deadline still ahead: metrics not stopped, running late or sooner."""
    dues = [
        c.due_at
        for c in clocks.values()
        if c.due_at is not None and c.stopped_at is None and c.state in _AHEAD
    ]
    return min(dues) if dues else None


def _risk_at(clock_: MetricClock, calendar: Any, share: float, now: datetime) -> datetime:
    """When a running clock turns at_risk: the first instant its remaining business
    time is under ``share`` of the limit (the engine's own comparison, unchanged)."""
    assert clock_.target is not None
    limit = clock_.target.limit
    # the least business time used that leaves less than the share (start below it:
    # float rounding must not skip the exact second)
    used = max(0, int(limit - share * limit) - 1)
    while not limit - used < share * limit:
        used += 1
    if used <= clock_.elapsed_seconds:
        return now
    return calendar.due(now, used - clock_.elapsed_seconds)


@dataclass(frozen=True)
class Fact:
    """One owed metric's clock at the computing instant: a row of ``sla_fact``."""

    metric: str
    state: str
    running: bool  # ticking: the state turns at risk_at, goal_at and due_at
    goal_at: datetime | None
    due_at: datetime | None
    risk_at: datetime | None
    stopped_at: datetime | None
    elapsed_seconds: int
    paused_seconds: int


@dataclass(frozen=True)
class Derived:
    """What a ticket's events say at ``computed_at``: the row columns and the facts."""

    columns: dict[str, Any]
    facts: list[Fact]


def facts_of(sla: TicketSla, policy: Policy, now: datetime, *, paused: bool = True) -> list[Fact]:
    """A row per owed metric. Goal and at-risk instants only for running clocks: a
    stopped or pending one keeps its state, a paused one stays paused (or late:
    nothing accrues, its limit is projected from the present, so it cannot pass).
    ``paused``: whether the ticket was ever in a pause state (else nothing paused)."""
    out = []
    for name, c in owed(sla.clocks, policy).items():
        ticking = c.stopped_at is None and c.started_at is not None and c.due_at is not None
        running = ticking and sla.running
        paused_seconds = 0
        if paused and c.started_at is not None and sla.calendar is not None:
            end = c.stopped_at or now
            paused_seconds = max(sla.calendar.elapsed(c.started_at, end) - c.elapsed_seconds, 0)
        out.append(
            Fact(
                metric=name,
                state=c.state,
                running=running,
                goal_at=c.goal_at if running else None,
                due_at=c.due_at,
                risk_at=(
                    _risk_at(c, sla.calendar, policy.clock.at_risk_share, now) if running else None
                ),
                stopped_at=c.stopped_at,
                elapsed_seconds=c.elapsed_seconds,
                paused_seconds=paused_seconds,
            )
        )
    return out


def derive(policy: Policy | None, events: Sequence[Event], now: datetime) -> Derived:
    """The SLA columns of a ticket row and its facts as its events say at ``now``."""
    if policy is None:
        return Derived(_columns(None, None, now, None, []), [])
    sla = ticket_clocks(policy, events, now)
    state = summary_state(owed(sla.clocks, policy))
    paused = any(e.to_status in policy.clock.pause_states for e in events)
    found = facts_of(sla, policy, now, paused=paused)
    return Derived(_columns(state, next_due(sla.clocks), now, sla.stale, found), found)


def columns(policy: Policy | None, events: Sequence[Event], now: datetime) -> dict[str, Any]:
    """The SLA columns of a ticket row as its events say at ``now`` (``derive``)."""
    return derive(policy, events, now).columns


def _columns(
    state: str | None,
    due: datetime | None,
    now: datetime,
    stale: datetime | None,
    found: Sequence[Fact],
) -> dict[str, Any]:
    running = [f for f in found if f.running]
    return {
        "sla_state": state,
        "sla_due_at": due,
        "sla_computed_at": now,
        "sla_stale_at": stale,
        "sla_settled": worst_state(f.state for f in found if not f.running),
        "sla_risk_at": min((f.risk_at for f in running if f.risk_at), default=None),
        "sla_goal_at": min((f.goal_at for f in running if f.goal_at), default=None),
        "sla_limit_at": min((f.due_at for f in running if f.due_at), default=None),
    }


def ticket_state_at(columns: Mapping[str, Any], at: datetime) -> str | None:
    """The ticket's worst state at ``at`` from its row (``can_tell`` must hold): the
    earliest limit, goal and at-risk instants of its running clocks decide their worst,
    the settled state the others'. The reports compute the same CASE in SQL."""
    states = [columns["sla_settled"]] if columns["sla_settled"] else []
    limit, goal, risk = columns["sla_limit_at"], columns["sla_goal_at"], columns["sla_risk_at"]
    if limit is not None:
        if at > limit:
            states.append("breached")
        elif at > goal:
            states.append("late")
        else:
            states.append("at_risk" if at >= risk else "running")
    return worst_state(states)


# -- reading facts -----------------------------------------------------------------------


def can_tell(computed_at: datetime | None, stale_at: datetime | None, at: datetime) -> bool:
    """Whether facts computed at ``computed_at`` give every state at ``at``: only inside
    ``[computed_at, stale_at)`` (an event dated after the computing instant counts later)."""
    if computed_at is None or at < computed_at:
        return False
    return stale_at is None or at < stale_at


def state_at(fact: Fact, at: datetime) -> str:
    """A metric's state at ``at`` from its fact (``can_tell`` must hold): a running clock
    is breached past its limit, late past its goal, at risk from ``risk_at``. The SQL
    reports compute the same CASE (``store.facts.state_now``)."""
    if not fact.running:
        return fact.state
    assert fact.due_at is not None and fact.goal_at is not None and fact.risk_at is not None
    if at > fact.due_at:
        return "breached"
    if at > fact.goal_at:
        return "late"
    return "at_risk" if at >= fact.risk_at else "running"
