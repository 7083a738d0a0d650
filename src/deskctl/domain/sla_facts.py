"""SLA facts of one ticket: its clocks replayed from its events, the row columns and the
snapshot kept in ``ticket.sla_clocks`` (pure: no store, no clock).

The engine (``deskctl.domain.sla``) replays one ticket's events. This module picks
the plan the ticket was opened under and the current plan's calendar, and derives
three columns of the ticket row, rewritten on every change (``services.tickets.apply``):

- ``sla_state``: the worst state across metrics (None when no SLA applies);
- ``sla_due_at``: the earliest deadline still ahead of the ticket -- the ``due_at``
  of metrics that are running, at risk, paused or running late. A metric that has
  stopped (even one that stopped ``late``) owes nothing more, so it gives none;
- ``sla_clocks``: a snapshot of every metric's clock, so that reports and refreshes
  over a large store need no replay of histories.

Snapshot (``ticket.sla_clocks``)::

    {"at": STAMP,     # the instant the clocks were computed at
     "stale": STAMP,  # only when an event is dated after "at" (it will count later)
     "m": {metric: {"s": state, "due": STAMP|None,
                    "run": true, "goal": STAMP, "risk": STAMP}}}  # running clocks only

STAMPs are fixed-width UTC strings (``2026-03-06T19:30:00.000000Z``) so they compare
as strings. Between two changes a clock moves only in ways the snapshot predicts:
a stopped or pending metric keeps its state; a paused one stays paused (or late:
nothing accrues, and its limit is projected from the present, so it cannot pass);
a running one has fixed goal and limit instants and turns ``at_risk`` at the fixed
instant ``risk`` when its remaining business time drops under the policy's share.
So the state of every metric at any instant in ``[at, stale)`` is read off the
snapshot with string comparisons, and agrees with a replay (tested). Outside that
window, or without a snapshot (rows written by bulk imports), the events are
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


def _plans(policy: Policy, counted: Sequence[Event]) -> tuple[Plan, Plan, str] | None:
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
    plans = _plans(policy, counted)
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


def snapshot(sla: TicketSla, policy: Policy, now: datetime) -> dict[str, Any]:
    """The ``sla_clocks`` document (module doc). Kept small -- a report decodes one per
    ticket: goal and risk only for running clocks, ``stale`` only when some event is
    dated after ``now``."""
    metrics: dict[str, dict[str, Any]] = {}
    for name, c in owed(sla.clocks, policy).items():
        entry: dict[str, Any] = {"s": c.state, "due": stamp(c.due_at) if c.due_at else None}
        ticking = c.stopped_at is None and c.started_at is not None and c.due_at is not None
        if ticking and sla.running:
            assert c.goal_at is not None
            entry["run"] = True
            entry["goal"] = stamp(c.goal_at)
            entry["risk"] = stamp(_risk_at(c, sla.calendar, policy.clock.at_risk_share, now))
        metrics[name] = entry
    doc: dict[str, Any] = {"at": stamp(now), "m": metrics}
    if sla.stale is not None:
        doc["stale"] = stamp(sla.stale)
    return doc


def columns(policy: Policy | None, events: Sequence[Event], now: datetime) -> dict[str, Any]:
    """The SLA columns of a ticket row as its events say at ``now``."""
    if policy is None:
        return {"sla_state": None, "sla_due_at": None, "sla_clocks": _empty(now)}
    sla = ticket_clocks(policy, events, now)
    return {
        "sla_state": summary_state(owed(sla.clocks, policy)),
        "sla_due_at": next_due(sla.clocks),
        "sla_clocks": snapshot(sla, policy, now),
    }


def _empty(now: datetime) -> dict[str, Any]:
    return {"at": stamp(now), "m": {}}


# -- reading a snapshot ------------------------------------------------------------------


def states_from_snapshot(
    snap: Mapping[str, Any] | None, now_stamp: str
) -> dict[str, tuple[str, str | None]] | None:
    """metric -> (state, due stamp) at ``now_stamp``; None when the snapshot cannot tell."""
    if not snap or snap.get("at") is None or now_stamp < snap["at"]:
        return None
    stale = snap.get("stale")
    if stale is not None and now_stamp >= stale:
        return None
    out = {}
    for name, m in snap.get("m", {}).items():
        out[name] = (_state_now(m, now_stamp), m.get("due"))
    return out


def _state_now(m: Mapping[str, Any], now: str) -> str:
    state: str = m["s"]
    if not m.get("run"):
        return state
    if now > m["due"]:
        return "breached"
    if now > m["goal"]:
        return "late"
    return "at_risk" if now >= m["risk"] else "running"
